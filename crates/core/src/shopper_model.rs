//! The shopper model as it ships in `models/profile/`: what places one shopper, from their own
//! events and on their own device, among the segments and on the map of the shoppers it was
//! fitted on, with a forecast of their next month.
//!
//! [`ShopperModel::fit`] runs the batch pipeline of `vitrine profile` and `vitrine forecast`
//! ([`shopper_features`](crate::events::shopper_features), [`Standardizer`], a 2-D [`Pca`],
//! [`KMeans`], [`describe_segments`], [`BgNbd::fit`] and a [`PopulationPrior`]) and keeps what
//! one shopper needs: the feature columns (the category list included), the standardiser, the
//! map's components, the centroids with a summary and size per segment, a sample of map points
//! to draw, the BG/NBD parameters and spend prior, the currency and the reference time. It
//! keeps no shopper id. [`ShopperModel::place`] puts one shopper's events through the same
//! steps, so that a shopper the model was fitted on lands on the same segment and map point.
//!
//! The file is a checked model file ([`crate::model_file`]) of kind [`PROFILE_KIND`]:
//!
//! - float64 tensors, so that a placement read back from the file is the same to the last bit:
//!   `feature_means`, `feature_stds` (`features`), `pca_mean` (`features`), `pca_components`
//!   (`2 × features`), `pca_explained_variance` and `pca_explained_variance_ratio` (`2`),
//!   `segment_centroids` (`segments × features`);
//! - the map sample: `map_points` (`points × 2`, float32) and `map_segments` (`points`, u8);
//! - metadata: `features` and `segments` (JSON), `time_zone`, `currency`, `reference_time`
//!   (RFC 3339), `horizon_days`, `shoppers`, the BG/NBD parameters `bgnbd_r`, `bgnbd_alpha`,
//!   `bgnbd_a`, `bgnbd_b` and the prior `prior_rate_per_day`, `prior_mean_spend`,
//!   `prior_days`, `prior_purchases` (each written so that it reads back exactly), and
//!   whatever the exporter adds.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::events::{
    CategoryColumns, Currency, Event, EventKind, OTHER_CATEGORY, feature_label, feature_names,
    shopper_features_with, time_zone,
};
use crate::forecast::{
    BgNbd, PopulationPrior, RepeatSummary, UserHistory, Window, expect_user_bgnbd,
};
use crate::model_file::{Storage, StoredTensor, open, seal};
use crate::profile::{KMeans, KMeansConfig, Matrix, Pca, Standardizer, describe_segments};
use crate::recommend::ItemTag;

/// The `kind` of a shopper model file.
pub const PROFILE_KIND: &str = "profile";

/// The number of map axes: the first two principal components.
const MAP_AXES: usize = 2;

/// Features named in each segment's summary.
const SUMMARY_FEATURES: usize = 3;

/// The settings of [`ShopperModel::fit`]; the defaults are those of `vitrine profile` and
/// `vitrine forecast`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopperModelConfig {
    /// The number of k-means segments (at most 255).
    pub segments: usize,
    /// The most bought categories that get a feature column each.
    pub categories: usize,
    /// The seed of k-means.
    pub seed: u64,
    /// The IANA time zone that hours and weekdays are read in.
    pub time_zone: String,
    /// The most training shoppers kept as map points to draw.
    pub map_points: usize,
    /// The days ahead that placements forecast.
    pub horizon_days: f64,
    /// The weight of the population's purchase rate, in days (see [`PopulationPrior`]).
    pub prior_days: f64,
    /// The weight of the population's mean order value, in purchases.
    pub prior_purchases: f64,
}

impl Default for ShopperModelConfig {
    fn default() -> Self {
        Self {
            segments: 5,
            categories: 8,
            seed: 42,
            time_zone: "Europe/London".to_owned(),
            map_points: 1_500,
            horizon_days: 30.0,
            prior_days: 30.0,
            prior_purchases: 2.0,
        }
    }
}

/// One segment of the training shoppers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentSummary {
    /// Its training shoppers and most distinctive features, e.g. "212 shoppers: very high
    /// orders, high spend, low days since last order" (see [`describe_segments`]).
    pub summary: String,
    /// How many training shoppers it holds.
    pub shoppers: usize,
}

/// A training shopper on the map, to draw the crowd a placed shopper stands in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MapPoint {
    /// The first map axis.
    pub x: f32,
    /// The second map axis.
    pub y: f32,
    /// The shopper's segment, from 0.
    pub segment: usize,
}

/// One feature of a placed shopper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedFeature {
    /// The column name, such as `log_spend` or `cat:mug`.
    pub name: String,
    /// The name in words, such as "spend" (see [`feature_label`]).
    pub label: String,
    /// The raw value.
    pub value: f64,
    /// The value in standard deviations from the training shoppers' mean (0 for a feature on
    /// which they did not vary).
    pub z: f64,
}

/// Where a shopper lands on the map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MapPosition {
    /// The first map axis.
    pub x: f64,
    /// The second map axis.
    pub y: f64,
}

/// The segment a shopper falls in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedSegment {
    /// The segment, from 0: the nearest centroid to the shopper's standardised features.
    pub id: usize,
    /// Its summary, as in [`SegmentSummary::summary`].
    pub summary: String,
}

/// What a forecast rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForecastBasis {
    /// The shopper's own orders, through BG/NBD.
    History,
    /// The population's average shopper: the shopper has no order yet.
    Population,
}

/// A shopper's expected orders and spend over the model's horizon; never negative or NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopperForecast {
    /// The days ahead.
    pub horizon_days: f64,
    /// Expected orders in those days.
    pub orders: f64,
    /// Expected spend in those days, in major units of `currency`.
    pub spend: f64,
    /// The probability that the shopper still buys at all (BG/NBD); `None` without an order.
    pub probability_active: Option<f64>,
    /// ISO 4217 code of `spend`.
    pub currency: String,
    /// What the forecast rests on.
    pub basis: ForecastBasis,
}

/// One shopper placed by a [`ShopperModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopperPlacement {
    /// Whether the shopper had an order to place them by. Without one, `features`, `map` and
    /// `segment` are empty and the forecast is the population's.
    pub enough_data: bool,
    /// Why there is not enough data, in words; `None` when there is.
    pub note: Option<String>,
    /// The orders counted.
    pub orders: usize,
    /// The features in the model's column order.
    pub features: Vec<PlacedFeature>,
    /// Where the shopper lands on the map.
    pub map: Option<MapPosition>,
    /// The shopper's segment.
    pub segment: Option<PlacedSegment>,
    /// The forecast of the next `horizon_days`.
    pub forecast: ShopperForecast,
}

/// A fitted shopper model, read from or about to be written to a model file.
#[derive(Debug, Clone)]
pub struct ShopperModel {
    features: Vec<String>,
    categories: Vec<String>,
    time_zone: String,
    zone: Tz,
    standardizer: Standardizer,
    pca: Pca,
    centroids: Matrix,
    segments: Vec<SegmentSummary>,
    map_points: Vec<MapPoint>,
    bgnbd: BgNbd,
    prior: PopulationPrior,
    horizon_days: f64,
    currency: Currency,
    reference: DateTime<FixedOffset>,
    shoppers: usize,
    metadata: BTreeMap<String, String>,
}

/// A model and what the batch pipeline computed for every shopper it was fitted on.
#[derive(Debug, Clone)]
pub struct FittedShopperModel {
    /// The model.
    pub model: ShopperModel,
    /// The training shoppers, in row order (sorted by id).
    pub users: Vec<String>,
    /// Their raw features (`shoppers × features`).
    pub features: Matrix,
    /// Their coordinates on the map (`shoppers × 2`).
    pub map: Matrix,
    /// Their segments.
    pub labels: Vec<usize>,
    /// k-means' sum of squared distances to the centroids.
    pub inertia: f64,
}

/// The category of an item from the tags of its title: the last word of the last product type,
/// lower-cased and trimmed of punctuation ("white hanging heart t-light holder" is "holder").
/// The shipped data's categories were read this way by the shipped tagger.
pub fn category_from_tags(tags: &[ItemTag]) -> Option<String> {
    tags.iter()
        .rev()
        .find(|t| t.kind == "core_product_type")
        .and_then(|t| t.text.split_whitespace().last())
        .map(|word| {
            word.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|word| !word.is_empty())
}

/// The value of one purchase in major units, never below 0.
fn order_value(event: &Event, currency: Currency) -> f64 {
    let minor: i64 = event
        .kind
        .items()
        .iter()
        .map(|i| i.price.unwrap_or(0).saturating_mul(i64::from(i.quantity)))
        .fold(0i64, i64::saturating_add);
    let scale = 10f64.powi(currency.minor_digits() as i32);
    (minor as f64 / scale).max(0.0)
}

/// Days from `origin` to `t`.
fn days(origin: DateTime<FixedOffset>, t: DateTime<FixedOffset>) -> f64 {
    (t - origin).num_milliseconds() as f64 / 86_400_000.0
}

/// The index of the nearest row of `centroids` to `z`, the first on ties, exactly as k-means
/// assigns its training rows.
fn nearest(centroids: &Matrix, z: &[f64]) -> usize {
    let mut best = 0;
    let mut best_d = f64::INFINITY;
    for c in 0..centroids.rows() {
        let d: f64 = z
            .iter()
            .zip(centroids.row(c))
            .map(|(x, y)| (x - y) * (x - y))
            .sum();
        if d < best_d {
            best = c;
            best_d = d;
        }
    }
    best
}

fn purchase_currency(event: &Event) -> Option<Currency> {
    match &event.kind {
        EventKind::Purchase(order) => Some(order.currency),
        _ => None,
    }
}

impl ShopperModel {
    /// Fits the model on the signed-in shoppers with an order before `reference`.
    ///
    /// Purchases must share one currency. Categories come from each item's `item_category`.
    /// Order values for the forecast are the purchases' item prices times quantities, in major
    /// units; refunds count in the features only, as in `vitrine forecast`.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when no shopper has an order before `reference`, purchases mix
    /// currencies, or there are fewer shoppers than segments; [`Error::Config`] for a bad
    /// setting.
    pub fn fit(
        events: &[Event],
        reference: DateTime<FixedOffset>,
        config: &ShopperModelConfig,
    ) -> Result<FittedShopperModel> {
        if config.segments == 0 || config.segments > usize::from(u8::MAX) {
            return Err(Error::Config(format!(
                "segments={} must be between 1 and 255",
                config.segments
            )));
        }
        if !(config.horizon_days.is_finite() && config.horizon_days > 0.0) {
            return Err(Error::Config(format!(
                "horizon_days={} must be finite and above 0, e.g. 30",
                config.horizon_days
            )));
        }
        let zone = time_zone(&config.time_zone)?;
        let features = shopper_features_with(
            events,
            reference,
            zone,
            CategoryColumns::MostBought(config.categories),
        )?;
        let orders: Vec<&Event> = events
            .iter()
            .filter(|e| e.timestamp < reference && e.user_id.is_some())
            .filter(|e| matches!(e.kind, EventKind::Purchase(_)))
            .collect();
        let currency = single_currency(&orders)?;

        let (standardizer, z) = Standardizer::fit_transform(&features.values)?;
        let pca = Pca::fit(&z, MAP_AXES)?;
        let map = pca.transform(&z)?;
        let kmeans = KMeans::fit(
            &z,
            &KMeansConfig {
                seed: config.seed,
                ..KMeansConfig::new(config.segments)
            },
        )?;
        let labels: Vec<String> = features.names.iter().map(|n| feature_label(n)).collect();
        let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let summaries = describe_segments(
            &label_refs,
            &kmeans.centroids,
            &kmeans.counts,
            SUMMARY_FEATURES,
        )?;
        let segments = summaries
            .into_iter()
            .zip(&kmeans.counts)
            .map(|(summary, &shoppers)| SegmentSummary { summary, shoppers })
            .collect();

        let n = features.users.len();
        let points = config.map_points.min(n);
        let map_points = (0..points)
            .map(|i| {
                // Evenly spaced rows of the id-sorted shoppers: a sample that is the same on
                // every run and every platform.
                let r = i * n / points;
                MapPoint {
                    x: map.get(r, 0).unwrap_or(0.0) as f32,
                    y: map.get(r, 1).unwrap_or(0.0) as f32,
                    segment: kmeans.labels.get(r).copied().unwrap_or(0),
                }
            })
            .collect();

        let (bgnbd, prior) = fit_forecast(&orders, &features.users, reference, currency, config)?;
        let categories = features
            .names
            .iter()
            .filter_map(|n| n.strip_prefix("cat:"))
            .filter(|c| *c != OTHER_CATEGORY)
            .map(str::to_owned)
            .collect();
        let model = Self {
            features: features.names.clone(),
            categories,
            time_zone: config.time_zone.clone(),
            zone,
            standardizer,
            pca,
            centroids: kmeans.centroids.clone(),
            segments,
            map_points,
            bgnbd,
            prior,
            horizon_days: config.horizon_days,
            currency,
            reference,
            shoppers: n,
            metadata: BTreeMap::new(),
        };
        Ok(FittedShopperModel {
            model,
            users: features.users,
            features: features.values,
            map,
            labels: kmeans.labels,
            inertia: kmeans.inertia,
        })
    }

    /// Places one shopper from their events at time `now`.
    ///
    /// Every event counts as the shopper's, whatever its `user_id`, so an anonymous visitor is
    /// placed too; events at or after `now` are left out. The category of an item is
    /// `category_of(item_id)`, or the item's own `item_category` when that gives `None`. A
    /// shopper without an order is not an error: they get a placement with `enough_data`
    /// false, no segment, and the population's forecast.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when a purchase is in another currency than the model's.
    pub fn place(
        &self,
        events: &[Event],
        category_of: impl Fn(&str) -> Option<String>,
        now: DateTime<FixedOffset>,
    ) -> Result<ShopperPlacement> {
        const SHOPPER: &str = "shopper";
        let mut own: Vec<Event> = Vec::new();
        for event in events.iter().filter(|e| e.timestamp < now) {
            if !matches!(event.kind, EventKind::Purchase(_) | EventKind::Refund(_)) {
                continue;
            }
            if let Some(currency) = purchase_currency(event).filter(|c| *c != self.currency) {
                return Err(Error::Input(format!(
                    "a purchase is in {currency} but the model forecasts {}; convert the \
                     shopper's amounts to {} first",
                    self.currency, self.currency
                )));
            }
            let mut event = event.clone();
            event.user_id = Some(SHOPPER.to_owned());
            if let Some(items) = event.kind.items_mut() {
                for item in items {
                    if let Some(category) = category_of(&item.item_id) {
                        item.item_category = Some(category);
                    }
                }
            }
            own.push(event);
        }
        let mut orders: Vec<&Event> = own
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Purchase(_)))
            .collect();
        orders.sort_by_key(|e| e.timestamp);
        let (Some(first), Some(last)) = (orders.first(), orders.last()) else {
            return Ok(self.not_enough_data(now));
        };

        let features = shopper_features_with(
            &own,
            now,
            self.zone,
            CategoryColumns::Given(&self.categories),
        )?;
        if features.names != self.features {
            return Err(Error::ModelFile(format!(
                "its feature columns {:?} are not those this build computes, {:?}; export it \
                 again with this version of `vitrine`",
                self.features, features.names
            )));
        }
        let z = self.standardizer.transform(&features.values)?;
        let map = self.pca.transform(&z)?;
        let segment = nearest(&self.centroids, z.row(0));
        let placed = features
            .names
            .iter()
            .zip(features.values.row(0).iter().zip(z.row(0)))
            .map(|(name, (&value, &score))| PlacedFeature {
                name: name.clone(),
                label: feature_label(name),
                value,
                z: score,
            })
            .collect();

        // Days from the shopper's first order; the window ends just after the last one even
        // when `now` falls within the same millisecond.
        let origin = first.timestamp;
        let history = UserHistory {
            purchase_days: orders.iter().map(|e| days(origin, e.timestamp)).collect(),
            amounts: orders
                .iter()
                .map(|e| order_value(e, self.currency))
                .collect(),
        };
        let last_day = days(origin, last.timestamp);
        let window = Window {
            start: 0.0,
            end: days(origin, now).max(last_day + 1e-6),
        };
        let expected = expect_user_bgnbd(
            &history,
            window,
            self.horizon_days,
            &self.bgnbd,
            &self.prior,
        )?;
        let summary = RepeatSummary::from_history(&history, window)?;
        let alive = self.bgnbd.probability_alive(&summary)?;
        let clean = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
        Ok(ShopperPlacement {
            enough_data: true,
            note: None,
            orders: orders.len(),
            features: placed,
            map: Some(MapPosition {
                x: map.get(0, 0).unwrap_or(0.0),
                y: map.get(0, 1).unwrap_or(0.0),
            }),
            segment: Some(PlacedSegment {
                id: segment,
                summary: self
                    .segments
                    .get(segment)
                    .map(|s| s.summary.clone())
                    .unwrap_or_default(),
            }),
            forecast: ShopperForecast {
                horizon_days: self.horizon_days,
                orders: clean(expected.purchases),
                spend: clean(expected.spend),
                probability_active: Some(clean(alive).min(1.0)),
                currency: self.currency.to_string(),
                basis: ForecastBasis::History,
            },
        })
    }

    /// The placement of a shopper without an order: the population's forecast alone.
    fn not_enough_data(&self, now: DateTime<FixedOffset>) -> ShopperPlacement {
        let orders = self.prior.rate_per_day * self.horizon_days;
        ShopperPlacement {
            enough_data: false,
            note: Some(format!(
                "not enough data: no order before {now}, so there is no profile yet; the \
                 forecast is the average shopper's"
            )),
            orders: 0,
            features: Vec::new(),
            map: None,
            segment: None,
            forecast: ShopperForecast {
                horizon_days: self.horizon_days,
                orders,
                spend: orders * self.prior.mean_spend,
                probability_active: None,
                currency: self.currency.to_string(),
                basis: ForecastBasis::Population,
            },
        }
    }

    /// The feature names, in column order.
    pub fn feature_names(&self) -> &[String] {
        &self.features
    }

    /// The categories with a feature column each, as chosen when the model was fitted.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// The segments of the training shoppers, by id.
    pub fn segments(&self) -> &[SegmentSummary] {
        &self.segments
    }

    /// The sample of training shoppers on the map.
    pub fn map_points(&self) -> &[MapPoint] {
        &self.map_points
    }

    /// The share of the training shoppers' variance along each map axis.
    pub fn explained_variance_ratio(&self) -> &[f64] {
        &self.pca.explained_variance_ratio
    }

    /// The standardiser of the features.
    pub fn standardizer(&self) -> &Standardizer {
        &self.standardizer
    }

    /// The map's projection.
    pub fn pca(&self) -> &Pca {
        &self.pca
    }

    /// The segments' centroids in standardised features (`segments × features`).
    pub fn centroids(&self) -> &Matrix {
        &self.centroids
    }

    /// The BG/NBD parameters, times in days.
    pub fn bgnbd(&self) -> &BgNbd {
        &self.bgnbd
    }

    /// The population's purchase rate and order value, and their weights.
    pub fn prior(&self) -> &PopulationPrior {
        &self.prior
    }

    /// The days ahead that placements forecast.
    pub fn horizon_days(&self) -> f64 {
        self.horizon_days
    }

    /// The currency of the forecast spend.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The time the training shoppers' features were computed at.
    pub fn reference_time(&self) -> DateTime<FixedOffset> {
        self.reference
    }

    /// The IANA time zone that hours and weekdays are read in.
    pub fn time_zone(&self) -> &str {
        &self.time_zone
    }

    /// How many shoppers the model was fitted on.
    pub fn shoppers(&self) -> usize {
        self.shoppers
    }

    /// Every metadata entry of the file it was read from (empty for a freshly fitted model).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The model file, with `extra` metadata (data, version, settings) beside the model's own.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when a value is not finite; it cannot be stored.
    pub fn to_bytes(&self, extra: BTreeMap<String, String>) -> Result<Vec<u8>> {
        let d = self.features.len();
        let k = self.segments.len();
        let m = self.map_points.len();
        let xy: Vec<f32> = self.map_points.iter().flat_map(|p| [p.x, p.y]).collect();
        let segment_of: Vec<u8> = self
            .map_points
            .iter()
            .map(|p| u8::try_from(p.segment).unwrap_or(u8::MAX))
            .collect();
        let mut tensors = vec![
            StoredTensor::exact_f64("feature_means", &[d], &self.standardizer.means)?,
            StoredTensor::exact_f64("feature_stds", &[d], &self.standardizer.stds)?,
            StoredTensor::exact_f64("pca_mean", &[d], &self.pca.mean)?,
            StoredTensor::exact_f64("pca_components", &[MAP_AXES, d], self.pca.components.data())?,
            StoredTensor::exact_f64(
                "pca_explained_variance",
                &[MAP_AXES],
                &self.pca.explained_variance,
            )?,
            StoredTensor::exact_f64(
                "pca_explained_variance_ratio",
                &[MAP_AXES],
                &self.pca.explained_variance_ratio,
            )?,
            StoredTensor::exact_f64("segment_centroids", &[k, d], self.centroids.data())?,
            StoredTensor::bytes_u8("map_segments", &[m], &segment_of)?,
        ];
        tensors.extend(StoredTensor::encode(
            "map_points",
            &[m, MAP_AXES],
            &xy,
            Storage::F32,
        )?);

        let json = |e: serde_json::Error| Error::Input(format!("cannot write metadata: {e}"));
        let mut metadata = extra;
        let mut put = |key: &str, value: String| {
            metadata.insert(key.to_owned(), value);
        };
        put(
            "features",
            serde_json::to_string(&self.features).map_err(json)?,
        );
        put(
            "segments",
            serde_json::to_string(&self.segments).map_err(json)?,
        );
        put("time_zone", self.time_zone.clone());
        put("currency", self.currency.to_string());
        put("reference_time", self.reference.to_rfc3339());
        put("shoppers", self.shoppers.to_string());
        // `{}` writes the shortest decimal that parses back to the same f64.
        for (key, value) in self.numbers() {
            put(key, format!("{value}"));
        }
        seal(PROFILE_KIND, &tensors, metadata)
    }

    /// The scalar settings stored in the metadata, by key.
    fn numbers(&self) -> [(&'static str, f64); 9] {
        [
            ("horizon_days", self.horizon_days),
            ("bgnbd_r", self.bgnbd.r),
            ("bgnbd_alpha", self.bgnbd.alpha),
            ("bgnbd_a", self.bgnbd.a),
            ("bgnbd_b", self.bgnbd.b),
            ("prior_rate_per_day", self.prior.rate_per_day),
            ("prior_mean_spend", self.prior.mean_spend),
            ("prior_days", self.prior.prior_days),
            ("prior_purchases", self.prior.prior_purchases),
        ]
    }

    /// Reads a shopper model file, refusing a wrong, corrupt or inconsistent one with the
    /// reason.
    ///
    /// # Errors
    ///
    /// [`Error::ModelFile`], [`Error::Checksum`] or a tensor error naming what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut file = open(bytes, PROFILE_KIND)?;
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            Error::ModelFile(format!(
                "its `{what}` metadata is unreadable ({e}); export it again with `vitrine \
                 export profile`"
            ))
        };
        let number = |key: &str| -> Result<f64> {
            let value: f64 = file.entry(key)?.parse().map_err(|e| bad(key, &e))?;
            if value.is_finite() && value >= 0.0 {
                Ok(value)
            } else {
                Err(bad(key, &"not a finite number of at least 0"))
            }
        };
        let horizon_days = number("horizon_days")?;
        let bgnbd = BgNbd {
            r: number("bgnbd_r")?,
            alpha: number("bgnbd_alpha")?,
            a: number("bgnbd_a")?,
            b: number("bgnbd_b")?,
        };
        let prior = PopulationPrior {
            rate_per_day: number("prior_rate_per_day")?,
            mean_spend: number("prior_mean_spend")?,
            prior_days: number("prior_days")?,
            prior_purchases: number("prior_purchases")?,
        };
        if [bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b, horizon_days].contains(&0.0) {
            return Err(bad("bgnbd", &"a BG/NBD parameter or the horizon is 0"));
        }

        let features: Vec<String> =
            serde_json::from_str(file.entry("features")?).map_err(|e| bad("features", &e))?;
        let categories: Vec<String> = features
            .iter()
            .filter_map(|n| n.strip_prefix("cat:"))
            .filter(|c| *c != OTHER_CATEGORY)
            .map(str::to_owned)
            .collect();
        if feature_names(&categories) != features {
            return Err(bad(
                "features",
                &"its columns are not those this build computes",
            ));
        }
        let segments: Vec<SegmentSummary> =
            serde_json::from_str(file.entry("segments")?).map_err(|e| bad("segments", &e))?;
        let time_zone_name = file.entry("time_zone")?.to_owned();
        let zone = time_zone(&time_zone_name).map_err(|e| bad("time_zone", &e))?;
        let currency = Currency::new(file.entry("currency")?).map_err(|e| bad("currency", &e))?;
        let reference = DateTime::parse_from_rfc3339(file.entry("reference_time")?)
            .map_err(|e| bad("reference_time", &e))?;
        let shoppers: usize = file
            .entry("shoppers")?
            .parse()
            .map_err(|e| bad("shoppers", &e))?;

        let (d, k) = (features.len(), segments.len());
        if k == 0 {
            return Err(bad("segments", &"it lists no segment"));
        }
        let w = &mut file.weights;
        let means = w.take_f64("feature_means", &[d])?;
        let stds = w.take_f64("feature_stds", &[d])?;
        let pca = Pca {
            mean: w.take_f64("pca_mean", &[d])?,
            components: Matrix::new(MAP_AXES, d, w.take_f64("pca_components", &[MAP_AXES, d])?)?,
            explained_variance: w.take_f64("pca_explained_variance", &[MAP_AXES])?,
            explained_variance_ratio: w.take_f64("pca_explained_variance_ratio", &[MAP_AXES])?,
        };
        let centroids = Matrix::new(k, d, w.take_f64("segment_centroids", &[k, d])?)?;
        let m = segments_len(w)?;
        let segment_of = w.take_u8("map_segments", &[m])?;
        let xy = w.take_f32("map_points", &[m, MAP_AXES])?;
        let finite = means
            .iter()
            .chain(&stds)
            .chain(&pca.mean)
            .chain(pca.components.data())
            .chain(centroids.data())
            .all(|v| v.is_finite())
            && xy.iter().all(|v| v.is_finite());
        if !finite || stds.iter().any(|&s| s < 0.0) {
            return Err(Error::ModelFile(
                "its standardiser, map or centroids hold a value that is not finite, or a \
                 negative deviation; export it again with `vitrine export profile`"
                    .into(),
            ));
        }
        if segment_of.iter().any(|&s| usize::from(s) >= k) {
            return Err(Error::ModelFile(format!(
                "its map points name segments beyond its {k}; export it again with `vitrine \
                 export profile`"
            )));
        }
        let map_points = xy
            .chunks_exact(MAP_AXES)
            .zip(&segment_of)
            .map(|(p, &s)| MapPoint {
                x: p[0],
                y: p[1],
                segment: usize::from(s),
            })
            .collect();
        file.weights.finish()?;
        Ok(Self {
            features,
            categories,
            time_zone: time_zone_name,
            zone,
            standardizer: Standardizer { means, stds },
            pca,
            centroids,
            segments,
            map_points,
            bgnbd,
            prior,
            horizon_days,
            currency,
            reference,
            shoppers,
            metadata: file.metadata,
        })
    }
}

/// The number of map points, read from the shape of `map_segments`.
fn segments_len(weights: &crate::WeightSource<'_>) -> Result<usize> {
    match weights.shape("map_segments").as_deref() {
        Some(&[m]) => Ok(m),
        Some(shape) => Err(Error::Shape {
            key: "map_segments".to_owned(),
            expected: vec![0],
            actual: shape.to_vec(),
        }),
        None => Err(Error::MissingKey {
            key: "map_segments".to_owned(),
        }),
    }
}

/// The one currency of `orders`.
fn single_currency(orders: &[&Event]) -> Result<Currency> {
    let mut found: Option<Currency> = None;
    for currency in orders.iter().filter_map(|e| purchase_currency(e)) {
        match found {
            None => found = Some(currency),
            Some(c) if c == currency => {}
            Some(c) => {
                return Err(Error::Input(format!(
                    "purchases are in {c} and in {currency}; fit a shopper model on one \
                     currency"
                )));
            }
        }
    }
    found.ok_or_else(|| Error::Input("no purchase to fit a shopper model on".into()))
}

/// BG/NBD and the spend prior on every shopper's orders before `reference`, days counted from
/// the first order in the data, as `vitrine forecast` does.
fn fit_forecast(
    orders: &[&Event],
    users: &[String],
    reference: DateTime<FixedOffset>,
    currency: Currency,
    config: &ShopperModelConfig,
) -> Result<(BgNbd, PopulationPrior)> {
    let first = orders
        .iter()
        .map(|e| e.timestamp)
        .min()
        .ok_or_else(|| Error::Input("no purchase to fit a forecast on".into()))?;
    let mut by_user: BTreeMap<&str, UserHistory> = BTreeMap::new();
    for event in orders {
        let Some(user) = event.user_id.as_deref() else {
            continue;
        };
        let history = by_user.entry(user).or_default();
        history.purchase_days.push(days(first, event.timestamp));
        history.amounts.push(order_value(event, currency));
    }
    let histories: Vec<UserHistory> = users
        .iter()
        .map(|u| by_user.remove(u.as_str()).unwrap_or_default())
        .collect();
    let window = Window {
        start: 0.0,
        end: days(first, reference),
    };
    let prior = PopulationPrior::from_users(
        &histories,
        window,
        config.prior_days,
        config.prior_purchases,
    )?;
    let summaries = histories
        .iter()
        .map(|h| RepeatSummary::from_history(h, window))
        .collect::<Result<Vec<_>>>()?;
    Ok((BgNbd::fit(&summaries)?.model, prior))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SplitMix64;
    use crate::recommend::ItemTag;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    const CATEGORIES: [&str; 4] = ["mug", "lamp", "bowl", "vase"];

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).expect("test timestamp")
    }

    fn event(json: &str) -> Event {
        Event::from_json(json).expect("test event")
    }

    /// A purchase of `(item, category, price in pence, quantity)` lines.
    fn purchase(id: &str, user: &str, when: &str, lines: &[(&str, &str, i64, u32)]) -> Event {
        let items: Vec<String> = lines
            .iter()
            .map(|(item, category, price, quantity)| {
                format!(
                    r#"{{"item_id":"{item}","item_category":"{category}","price":{price},
                    "quantity":{quantity}}}"#
                )
            })
            .collect();
        event(&format!(
            r#"{{"id":"{id}","event":"purchase","timestamp":"{when}","user_id":"{user}",
            "session_id":"s{id}","params":{{"transaction_id":"T{id}","currency":"GBP",
            "items":[{}]}}}}"#,
            items.join(",")
        ))
    }

    /// Forty shoppers with one to seven orders each over 2024, and a few refunds.
    fn shop() -> Vec<Event> {
        let mut rng = SplitMix64::new(7);
        let mut events = Vec::new();
        for u in 0..40 {
            let user = format!("u{u:02}");
            for o in 0..1 + rng.below(7) {
                let day = 1 + rng.below(360);
                let hour = 7 + rng.below(14);
                let when = (at("2024-01-01T00:00:00Z")
                    + chrono::Duration::days(day as i64)
                    + chrono::Duration::hours(hour as i64))
                .to_rfc3339();
                let lines: Vec<(String, &str, i64, u32)> = (0..1 + rng.below(3))
                    .map(|_| {
                        let c = rng.below(CATEGORIES.len());
                        let item = format!("{}{}", CATEGORIES[c], rng.below(3));
                        let price = 100 + 50 * rng.below(20) as i64;
                        (item, CATEGORIES[c], price, 1 + rng.below(6) as u32)
                    })
                    .collect();
                let lines: Vec<(&str, &str, i64, u32)> = lines
                    .iter()
                    .map(|(i, c, p, q)| (i.as_str(), *c, *p, *q))
                    .collect();
                let id = format!("{u}-{o}");
                events.push(purchase(&id, &user, &when, &lines));
                if rng.below(8) == 0 {
                    events.push(event(&format!(
                        r#"{{"id":"r{id}","event":"refund","timestamp":"{when}",
                        "user_id":"{user}","session_id":"s","params":{{"transaction_id":"T{id}",
                        "currency":"GBP","items":[{{"item_id":"{}","price":{},
                        "quantity":1}}]}}}}"#,
                        lines[0].0, lines[0].2
                    )));
                }
            }
        }
        events
    }

    fn reference() -> DateTime<FixedOffset> {
        at("2025-01-01T00:00:00Z")
    }

    fn config() -> ShopperModelConfig {
        ShopperModelConfig {
            segments: 3,
            categories: 3,
            map_points: 25,
            ..ShopperModelConfig::default()
        }
    }

    fn fitted() -> Result<(Vec<Event>, FittedShopperModel)> {
        let events = shop();
        let fitted = ShopperModel::fit(&events, reference(), &config())?;
        Ok((events, fitted))
    }

    fn events_of<'a>(events: &'a [Event], user: &str) -> Vec<&'a Event> {
        events
            .iter()
            .filter(|e| e.user_id.as_deref() == Some(user))
            .collect()
    }

    fn owned(events: Vec<&Event>) -> Vec<Event> {
        events.into_iter().cloned().collect()
    }

    #[test]
    fn training_shoppers_land_where_the_batch_put_them() -> TestResult {
        let (events, fitted) = fitted()?;
        let model = &fitted.model;
        assert_eq!(fitted.users.len(), 40);
        assert_eq!(model.categories().len(), 3);
        assert_eq!(model.map_points().len(), 25);
        for (r, user) in fitted.users.iter().enumerate() {
            let own = owned(events_of(&events, user));
            let placed = model.place(&own, |_| None, reference())?;
            assert!(placed.enough_data, "{user}");
            let raw: Vec<f64> = placed.features.iter().map(|f| f.value).collect();
            assert_eq!(raw, fitted.features.row(r), "{user}");
            let map = placed.map.ok_or("no map position")?;
            assert!((map.x - fitted.map.row(r)[0]).abs() < 1e-12, "{user}");
            assert!((map.y - fitted.map.row(r)[1]).abs() < 1e-12, "{user}");
            let segment = placed.segment.ok_or("no segment")?;
            assert_eq!(segment.id, fitted.labels[r], "{user}");
            assert_eq!(segment.summary, model.segments()[segment.id].summary);
        }
        let sizes: usize = model.segments().iter().map(|s| s.shoppers).sum();
        assert_eq!(sizes, 40);
        Ok(())
    }

    #[test]
    fn round_trip_gives_identical_placements() -> TestResult {
        let (events, fitted) = fitted()?;
        let model = &fitted.model;
        let extra = BTreeMap::from([("data".to_owned(), "forty made-up shoppers".to_owned())]);
        let bytes = model.to_bytes(extra)?;
        let back = ShopperModel::from_bytes(&bytes)?;
        assert_eq!(
            back.metadata().get("data").map(String::as_str),
            Some("forty made-up shoppers")
        );
        assert_eq!(back.feature_names(), model.feature_names());
        assert_eq!(back.segments(), model.segments());
        assert_eq!(back.map_points(), model.map_points());
        assert_eq!(back.standardizer(), model.standardizer());
        assert_eq!(back.pca(), model.pca());
        assert_eq!(back.centroids(), model.centroids());
        assert_eq!(back.bgnbd(), model.bgnbd());
        assert_eq!(back.prior(), model.prior());
        assert_eq!(back.reference_time(), reference());
        assert_eq!(back.currency(), Currency::GBP);
        for user in &fitted.users {
            let own = owned(events_of(&events, user));
            for now in [reference(), at("2025-03-01T09:30:00+01:00")] {
                assert_eq!(
                    model.place(&own, |_| None, now)?,
                    back.place(&own, |_| None, now)?,
                    "{user} at {now}"
                );
            }
        }
        assert_eq!(
            model.place(&[], |_| None, reference())?,
            back.place(&[], |_| None, reference())?
        );
        Ok(())
    }

    #[test]
    fn a_flipped_byte_or_another_kind_is_refused() -> TestResult {
        let (_, fitted) = fitted()?;
        let bytes = fitted.model.to_bytes(BTreeMap::new())?;
        let header = 8 + u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        for at in [header, (header + bytes.len()) / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            let err = ShopperModel::from_bytes(&bad).unwrap_err();
            assert!(matches!(err, Error::Checksum { .. }), "byte {at}: {err}");
        }
        let other = seal("recommender", &[], BTreeMap::new())?;
        let err = ShopperModel::from_bytes(&other).unwrap_err().to_string();
        assert!(
            err.contains("holds a recommender model, not a profile"),
            "{err}"
        );
        assert!(ShopperModel::from_bytes(b"not a model").is_err());
        Ok(())
    }

    #[test]
    fn a_visitor_without_orders_gets_the_population_forecast() -> TestResult {
        let (events, fitted) = fitted()?;
        let model = &fitted.model;
        // Views and a refund say nothing about an order; a purchase after `now` is not yet.
        let visitor = [
            event(
                r#"{"id":"v1","event":"view_item","timestamp":"2025-01-02T10:00:00Z",
                "session_id":"s","params":{"items":[{"item_id":"mug1"}]}}"#,
            ),
            event(
                r#"{"id":"v2","event":"refund","timestamp":"2025-01-02T11:00:00Z",
                "session_id":"s","params":{"transaction_id":"T","currency":"GBP",
                "items":[{"item_id":"mug1","price":250,"quantity":1}]}}"#,
            ),
            purchase(
                "v3",
                "x",
                "2025-02-01T10:00:00Z",
                &[("mug1", "mug", 250, 1)],
            ),
        ];
        let now = at("2025-01-03T00:00:00Z");
        for events in [&visitor[..], &[]] {
            let placed = model.place(events, |_| None, now)?;
            assert!(!placed.enough_data);
            assert!(
                placed
                    .note
                    .as_deref()
                    .is_some_and(|n| n.starts_with("not enough data")),
                "{:?}",
                placed.note
            );
            assert_eq!((placed.orders, placed.features.len()), (0, 0));
            assert_eq!((placed.map, placed.segment), (None, None));
            let f = &placed.forecast;
            assert_eq!(f.basis, ForecastBasis::Population);
            assert_eq!(f.probability_active, None);
            assert!((f.orders - model.prior().rate_per_day * 30.0).abs() < 1e-12);
            assert!((f.spend - f.orders * model.prior().mean_spend).abs() < 1e-9);
            assert!(f.orders > 0.0 && f.spend > 0.0);
            assert_eq!(f.currency, "GBP");
        }
        // The population rate: every order over 40 shoppers times the days from the first
        // order to the reference time.
        let total = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Purchase(_)))
            .count() as f64;
        let first = events
            .iter()
            .map(|e| e.timestamp)
            .min()
            .ok_or("no events")?;
        let span = days(first, reference());
        assert!((model.prior().rate_per_day - total / (40.0 * span)).abs() < 1e-12);
        Ok(())
    }

    #[test]
    fn the_forecast_is_bgnbd_for_the_shoppers_summary() -> TestResult {
        let (_, fitted) = fitted()?;
        let model = &fitted.model;
        // Orders on 1 and 11 March and 31 March; placed on 30 April: x = 2, t_x = 30, T = 60.
        let events = vec![
            purchase(
                "a",
                "me",
                "2025-03-01T10:00:00Z",
                &[("mug1", "mug", 250, 2)],
            ),
            purchase(
                "b",
                "me",
                "2025-03-11T10:00:00Z",
                &[("lamp1", "lamp", 1000, 1)],
            ),
            purchase(
                "c",
                "me",
                "2025-03-31T10:00:00Z",
                &[("vase2", "vase", 700, 3)],
            ),
        ];
        let placed = model.place(&events, |_| None, at("2025-04-30T10:00:00Z"))?;
        let summary = RepeatSummary {
            frequency: 2.0,
            recency: 30.0,
            age: 60.0,
        };
        let expected = model.bgnbd().expected_purchases(&summary, 30.0)?;
        let f = &placed.forecast;
        assert_eq!(f.basis, ForecastBasis::History);
        assert!(
            (f.orders - expected).abs() <= 1e-12 * expected,
            "{} vs {expected}",
            f.orders
        );
        let alive = model.bgnbd().probability_alive(&summary)?;
        assert_eq!(f.probability_active, Some(alive));
        // Orders of 5.00, 10.00 and 21.00, shrunk toward the population's by 2 orders.
        let p = model.prior();
        let mean = (36.0 + p.prior_purchases * p.mean_spend) / (3.0 + p.prior_purchases);
        assert!((f.spend - expected * mean).abs() <= 1e-9 * f.spend.max(1.0));
        assert!(expected > 0.0 && alive > 0.0 && alive <= 1.0);
        Ok(())
    }

    #[test]
    fn categories_come_from_the_lookup_first() -> TestResult {
        let (_, fitted) = fitted()?;
        let model = &fitted.model;
        let category = model.categories()[0].clone();
        // An anonymous shopper whose items carry no category of their own.
        let anonymous = event(
            r#"{"id":"a","event":"purchase","timestamp":"2025-03-01T10:00:00Z",
            "session_id":"s","params":{"transaction_id":"T","currency":"GBP",
            "items":[{"item_id":"x1","price":100,"quantity":2}]}}"#,
        );
        let now = at("2025-03-02T10:00:00Z");
        let share = |placed: &ShopperPlacement, name: &str| {
            placed
                .features
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.value)
        };
        let column = format!("cat:{category}");
        let plain = model.place(std::slice::from_ref(&anonymous), |_| None, now)?;
        assert_eq!(share(&plain, &column), Some(0.0));
        assert_eq!(share(&plain, "cat:other"), Some(1.0));
        let looked_up = model.place(
            std::slice::from_ref(&anonymous),
            |_| Some(category.clone()),
            now,
        )?;
        assert_eq!(share(&looked_up, &column), Some(1.0));
        assert_eq!(share(&looked_up, "cat:other"), Some(0.0));
        Ok(())
    }

    #[test]
    fn a_purchase_in_another_currency_is_refused() -> TestResult {
        let (_, fitted) = fitted()?;
        let dollars = event(
            r#"{"id":"a","event":"purchase","timestamp":"2025-03-01T10:00:00Z",
            "session_id":"s","params":{"transaction_id":"T","currency":"USD",
            "items":[{"item_id":"x1","price":100,"quantity":2}]}}"#,
        );
        let err = fitted
            .model
            .place(&[dollars], |_| None, at("2025-03-02T10:00:00Z"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is in USD but the model forecasts GBP"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn the_category_is_the_head_word_of_the_product_type() {
        let tag = |kind: &str, text: &str| ItemTag {
            kind: kind.to_owned(),
            text: text.to_owned(),
        };
        let tags = [
            tag("color", "white"),
            tag("core_product_type", "hanging heart t-light Holder,"),
        ];
        assert_eq!(category_from_tags(&tags), Some("holder".to_owned()));
        assert_eq!(category_from_tags(&tags[..1]), None);
        assert_eq!(category_from_tags(&[tag("core_product_type", "--")]), None);
    }
}
