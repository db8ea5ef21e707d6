//! The recommender as it ships in `models/recommender/`: item factors, the item table and the
//! settings in one checked model file ([`crate::model_file`]), the same format as the tagger.
//!
//! The file keeps no training user: every shopper, in the browser or at the edge, is folded in
//! from their own events ([`Factorization::recommend_for_history`]). It holds
//!
//! - `item_factors` (`items × factors`, float16 or int8 with row scales), `item_bias` and
//!   `item_users` (training users per item, for the popularity fallback), float32;
//! - metadata `items`, the item table as JSON in index order ([`CatalogueItem`]: id, title,
//!   price, tags), `currency`, `factors`, `name`, `fold_in` (JSON of [`FoldInConfig`]), and
//!   whatever the exporter adds (training settings, scores, version).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::baselines::Reason;
use super::mf::{Factorization, FoldInConfig, once_each};
use super::rerank::{mmr, unit_scale};
use crate::error::{Error, Result};
use crate::model_file::{Storage, StoredTensor, open, seal};

/// The `kind` of a recommender model file.
pub const KIND: &str = "recommender";

/// A tag the tagger found in an item's title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemTag {
    /// The entity type, e.g. `color`.
    pub kind: String,
    /// The tagged text, e.g. `red`.
    pub text: String,
}

/// Items a new item is placed by ([`ShippedRecommender::add_item`]).
pub const COLD_START_NEIGHBOURS: usize = 10;

/// How much two items' tags say they are alike (see [`ShippedRecommender::add_item`]).
pub fn tag_overlap(a: &[ItemTag], b: &[ItemTag]) -> f32 {
    let head = |tags: &[ItemTag]| -> Option<String> {
        tags.iter()
            .rev()
            .find(|t| t.kind == "core_product_type")
            .and_then(|t| t.text.split_whitespace().last())
            .map(str::to_lowercase)
    };
    let mut weight = match (head(a), head(b)) {
        (Some(x), Some(y)) if x == y => 3.0,
        _ => 0.0,
    };
    for tag in a.iter().filter(|t| t.kind != "core_product_type") {
        if b.iter()
            .any(|o| o.kind == tag.kind && o.text.eq_ignore_ascii_case(&tag.text))
        {
            weight += 1.0;
        }
    }
    weight
}

/// A vector and bias for an item from its tags ([`ShippedRecommender::place`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The item's vector.
    pub vector: Vec<f32>,
    /// Its bias.
    pub bias: f32,
    /// The items it was placed by, heaviest first; empty when no item shares a tag.
    pub neighbours: Vec<String>,
}

/// One row of the item table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueItem {
    /// The item id the events use.
    pub id: String,
    /// The name shown to shoppers.
    pub title: String,
    /// The usual unit price in major units of the model's currency, when known.
    pub price: Option<f64>,
    /// Tags of the title.
    pub tags: Vec<ItemTag>,
}

/// Candidates drawn from the model per product shown, before diversity re-ranking.
pub const CANDIDATES_PER_SLOT: usize = 5;

/// One recommended product as a shopper sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The item id.
    pub item: String,
    /// Its title.
    pub title: String,
    /// The model's score (higher is better; popular items carry their number of buyers).
    pub score: f64,
    /// Why it is there, naming the shopper's product by id and title.
    pub explanation: String,
    /// The shopper's product the explanation names, so a caller that knows what the shopper
    /// did with it (looked, bought, shared) can word the reason to match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
}

/// A list for one history ([`ShippedRecommender::suggest`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestions {
    /// The history asked about, each id once.
    pub history: Vec<String>,
    /// The length asked for.
    pub k: usize,
    /// The diversity asked for.
    pub diversity: f64,
    /// Whether the list comes from the history (false: popular products, as no product of
    /// the history is known).
    pub personalised: bool,
    /// Ids of the history that the model does not know, left out.
    pub unknown: Vec<String>,
    /// The shopper's segment, from 0, when the model has segments and the history a known
    /// product.
    pub segment: Option<usize>,
    /// The products, in the order to show them.
    pub items: Vec<Suggestion>,
}

/// A recommender read from, or about to be written to, a model file.
#[derive(Debug, Clone)]
pub struct ShippedRecommender {
    /// The factors; it knows no user.
    pub model: Factorization,
    /// The item table, in the model's item order.
    pub catalogue: Vec<CatalogueItem>,
    /// ISO 4217 code of the prices.
    pub currency: String,
    /// Segments of the training shoppers, when the file has them.
    pub segments: Option<Segments>,
    /// Every metadata entry of the file.
    pub metadata: BTreeMap<String, String>,
}

/// Segments of the training shoppers in the space of shopper vectors, and what each bought.
///
/// k-means (seeded, k-means++) over the trained user vectors scaled to unit length, so that
/// segments follow taste (direction) rather than activity (length), and a folded-in vector,
/// fitted by another optimiser, lands by direction too; each segment keeps its
/// [`SEGMENT_POPULAR`] most bought items. A folded-in shopper belongs to the segment of the
/// nearest centroid to their unit vector. An item that is among their segment's most bought
/// and is not close to anything they had (cosine below [`SEGMENT_EXPLANATION_BELOW`]) is
/// explained as "popular in your segment" rather than by a weak "because you bought".
#[derive(Debug, Clone, PartialEq)]
pub struct Segments {
    /// `k × factors`, row-major.
    pub centroids: Vec<f32>,
    /// Per segment: (item index, buyers in the segment), most bought first.
    pub popular: Vec<Vec<(u32, u32)>>,
}

/// A vector scaled to unit length; zero stays zero.
fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter().map(|x| x / norm).collect()
    } else {
        v.to_vec()
    }
}

/// Most bought items kept per segment.
pub const SEGMENT_POPULAR: usize = 20;

/// Below this cosine with the closest item of the history, an item of the shopper's segment's
/// most bought is explained by the segment.
pub const SEGMENT_EXPLANATION_BELOW: f64 = 0.3;

impl Segments {
    /// Clusters the training users of `model` into `k` segments.
    ///
    /// # Errors
    ///
    /// As [`crate::profile::KMeans::fit`]: e.g. `k` larger than the number of users.
    pub fn fit(model: &Factorization, k: usize, seed: u64) -> Result<Self> {
        use crate::profile::{KMeans, KMeansConfig, Matrix};

        let data = model.data();
        let d = model.factors();
        let mut rows = Vec::with_capacity(data.n_users() * d);
        for user in data.user_ids() {
            let v = model.user_vector(user).unwrap_or(&[]);
            rows.extend(unit(v).into_iter().map(f64::from));
        }
        let x = Matrix::new(data.n_users(), d, rows)?;
        let kmeans = KMeans::fit(
            &x,
            &KMeansConfig {
                seed,
                ..KMeansConfig::new(k)
            },
        )?;
        let mut counts = vec![BTreeMap::<u32, u32>::new(); k];
        for (u, &segment) in kmeans.labels.iter().enumerate() {
            for (i, _) in data.items_of(u as u32) {
                if let Some(c) = counts.get_mut(segment) {
                    *c.entry(i).or_default() += 1;
                }
            }
        }
        let popular = counts
            .into_iter()
            .map(|c| {
                let mut list: Vec<(u32, u32)> = c.into_iter().collect();
                list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                list.truncate(SEGMENT_POPULAR);
                list
            })
            .collect();
        let centroids = kmeans.centroids.data().iter().map(|&c| c as f32).collect();
        Ok(Self { centroids, popular })
    }

    /// The number of segments.
    pub fn len(&self) -> usize {
        self.popular.len()
    }

    /// Whether there is no segment.
    pub fn is_empty(&self) -> bool {
        self.popular.is_empty()
    }

    /// The segment of the centroid nearest to a vector scaled to unit length.
    pub fn assign(&self, vector: &[f32]) -> Option<usize> {
        let d = vector.len();
        if d == 0 {
            return None;
        }
        let vector = unit(vector);
        self.centroids
            .chunks_exact(d)
            .map(|c| {
                c.iter()
                    .zip(&vector)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
            })
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(s, _)| s)
    }
}

impl ShippedRecommender {
    /// Pairs a model with its item table, dropping the training users.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when the table does not list exactly the model's items: each once,
    /// every item of the model.
    pub fn new(
        model: &Factorization,
        catalogue: Vec<CatalogueItem>,
        currency: &str,
    ) -> Result<Self> {
        let model = model.without_users()?;
        let mut by_id: BTreeMap<&str, &CatalogueItem> = BTreeMap::new();
        for item in &catalogue {
            if by_id.insert(item.id.as_str(), item).is_some() {
                return Err(Error::Input(format!(
                    "item `{}` is in the item table twice",
                    item.id
                )));
            }
        }
        let ordered = model
            .data()
            .item_ids()
            .iter()
            .map(|id| {
                by_id.get(id.as_str()).map(|&i| i.clone()).ok_or_else(|| {
                    Error::Input(format!(
                        "the item table lacks `{id}`, which the model knows; add a row for it"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if ordered.len() != catalogue.len() {
            return Err(Error::Input(format!(
                "the item table has {} rows for {} items of the model; leave out items the \
                 model does not know",
                catalogue.len(),
                ordered.len()
            )));
        }
        Ok(Self {
            model,
            catalogue: ordered,
            currency: currency.to_owned(),
            segments: None,
            metadata: BTreeMap::new(),
        })
    }

    /// The row of an item.
    pub fn item(&self, id: &str) -> Option<&CatalogueItem> {
        let i = self.model.data().item_index(id)?;
        self.catalogue.get(i as usize)
    }

    /// The `k` products to show a shopper with this history, folded in, leaving out what they
    /// had. `diversity` from 0 (the model's order) to 1 (as unlike each other as possible) is
    /// the weight of MMR re-ranking over [`CANDIDATES_PER_SLOT`] candidates per slot, with the
    /// scores scaled to [0, 1] and the cosine of item factors as similarity.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `k` is 0 or `diversity` is not in [0, 1].
    pub fn suggest<S: AsRef<str>>(
        &self,
        history: &[S],
        k: usize,
        diversity: f64,
    ) -> Result<Suggestions> {
        self.suggest_weighted(&once_each(history), k, diversity)
    }

    /// [`ShippedRecommender::suggest`] for a weighted history, such as
    /// [`super::weighted_history`] makes from a shopper's events: shares and gifts weigh
    /// more than purchases, views less.
    ///
    /// # Errors
    ///
    /// As [`ShippedRecommender::suggest`].
    pub fn suggest_weighted<S: AsRef<str>>(
        &self,
        history: &[(S, f32)],
        k: usize,
        diversity: f64,
    ) -> Result<Suggestions> {
        if !(0.0..=1.0).contains(&diversity) {
            return Err(Error::Config(format!(
                "diversity {diversity} must lie between 0 and 1"
            )));
        }
        let model = &self.model;
        let folded = model.fold_in_weighted(history);
        let segment = match &self.segments {
            Some(segments) if !folded.items.is_empty() => segments.assign(&folded.vector),
            _ => None,
        };
        let segment_popular: Vec<(u32, u32)> = segment
            .and_then(|s| self.segments.as_ref()?.popular.get(s).cloned())
            .unwrap_or_default();
        let candidates = model.recommend_for_folded(
            "shopper",
            &folded,
            k.saturating_mul(CANDIDATES_PER_SLOT),
            true,
        )?;
        let unknown = folded.unknown;
        let scores: Vec<f64> = candidates.items.iter().map(|r| r.score).collect();
        let picks = mmr(&unit_scale(&scores), k, 1.0 - diversity, |a, b| {
            match (candidates.items.get(a), candidates.items.get(b)) {
                (Some(a), Some(b)) => model.similarity(&a.item, &b.item),
                _ => 0.0,
            }
        })?;
        let title = |id: &str| self.item(id).map(|i| i.title.clone()).unwrap_or_default();
        let items = picks
            .iter()
            .filter_map(|&i| candidates.items.get(i))
            .map(|r| {
                let segment_pick = matches!(&r.reason, Reason::BecauseYouHad { similarity, .. }
                    if *similarity < SEGMENT_EXPLANATION_BELOW
                        && model
                            .data()
                            .item_index(&r.item)
                            .is_some_and(|i| segment_popular.iter().any(|&(j, _)| j == i)));
                let because = match &r.reason {
                    Reason::BecauseYouHad { item, .. } if !segment_pick => Some(item.clone()),
                    _ => None,
                };
                Suggestion {
                    item: r.item.clone(),
                    title: title(&r.item),
                    score: r.score,
                    because,
                    explanation: match &r.reason {
                        _ if segment_pick => "popular in your segment".to_owned(),
                        Reason::BecauseYouHad { item, .. } => {
                            format!("{} ({})", r.explanation(), title(item))
                        }
                        _ => r.explanation(),
                    },
                }
            })
            .collect();
        Ok(Suggestions {
            history: history.iter().map(|(h, _)| h.as_ref().to_owned()).collect(),
            k,
            diversity,
            personalised: candidates.personalised(),
            unknown,
            segment,
            items,
        })
    }

    /// Places a new item among the others through the tags of its title (cold start) and adds
    /// it to the item table.
    ///
    /// Each known item gets a weight: 3 when its product type names the same thing (the same
    /// last word of the `core_product_type` tag, "holder" for "t-light holder"), plus 1 per
    /// other tag of the same kind and text (colour, material, theme and the rest). The new
    /// item's vector and bias are the weighted mean of those of the [`COLD_START_NEIGHBOURS`]
    /// heaviest items. An item that shares no tag gets the mean vector of the catalogue and
    /// the lower of its lowest bias and 0: usually low in a list, not necessarily last.
    /// Returns the ids of the items it was placed by, heaviest first.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when the id is empty or known already.
    pub fn add_item(&mut self, item: CatalogueItem) -> Result<Vec<String>> {
        let placement = self.place(&item.tags, None);
        self.model
            .add_item(&item.id, &placement.vector, placement.bias)?;
        self.catalogue.push(item);
        Ok(placement.neighbours)
    }

    /// Where [`ShippedRecommender::add_item`] would put an item with these tags, leaving out
    /// the catalogue row `skip` (to check the placement of a known item against its trained
    /// vector).
    pub fn place(&self, tags: &[ItemTag], skip: Option<usize>) -> Placement {
        let model = &self.model;
        let d = model.factors();
        let mut weighted: Vec<(f32, usize)> = self
            .catalogue
            .iter()
            .enumerate()
            .filter(|(n, _)| Some(*n) != skip)
            .map(|(n, other)| (tag_overlap(tags, &other.tags), n))
            .filter(|(w, _)| *w > 0.0)
            .collect();
        weighted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        weighted.truncate(COLD_START_NEIGHBOURS);

        let factors = model.item_factors();
        let biases = model.item_biases();
        let row = |n: usize| factors.get(n * d..(n + 1) * d).unwrap_or(&[]);
        let mut vector = vec![0.0f32; d];
        let bias = if weighted.is_empty() {
            let n = biases.len().max(1) as f32;
            for r in 0..biases.len() {
                for (v, x) in vector.iter_mut().zip(row(r)) {
                    *v += x / n;
                }
            }
            biases
                .iter()
                .copied()
                .fold(f32::INFINITY, f32::min)
                .min(0.0)
        } else {
            let total: f32 = weighted.iter().map(|(w, _)| w).sum();
            let mut b = 0.0;
            for &(w, n) in &weighted {
                for (v, x) in vector.iter_mut().zip(row(n)) {
                    *v += w * x / total;
                }
                b += w * biases.get(n).copied().unwrap_or(0.0) / total;
            }
            b
        };
        let neighbours = weighted
            .iter()
            .filter_map(|&(_, n)| self.catalogue.get(n).map(|c| c.id.clone()))
            .collect();
        Placement {
            vector,
            bias,
            neighbours,
        }
    }

    /// The model file, with the item factors stored as `storage` says and `extra` metadata.
    pub fn to_bytes(&self, storage: Storage, extra: BTreeMap<String, String>) -> Result<Vec<u8>> {
        let model = &self.model;
        let n = model.data().n_items();
        let users: Vec<f32> = model.users_per_item().iter().map(|&c| c as f32).collect();
        let mut tensors = StoredTensor::encode(
            "item_factors",
            &[n, model.factors()],
            model.item_factors(),
            storage,
        )?;
        tensors.extend(StoredTensor::encode(
            "item_bias",
            &[n],
            model.item_biases(),
            Storage::F32,
        )?);
        tensors.extend(StoredTensor::encode(
            "item_users",
            &[n],
            &users,
            Storage::F32,
        )?);

        if let Some(segments) = &self.segments {
            tensors.extend(StoredTensor::encode(
                "segment_centroids",
                &[segments.len(), model.factors()],
                &segments.centroids,
                Storage::F32,
            )?);
        }
        let json = |e: serde_json::Error| Error::Input(format!("cannot write metadata: {e}"));
        let mut metadata = extra;
        metadata.insert(
            "items".into(),
            serde_json::to_string(&self.catalogue).map_err(json)?,
        );
        metadata.insert("currency".into(), self.currency.clone());
        metadata.insert("factors".into(), model.factors().to_string());
        metadata.insert("name".into(), model.model_name().to_owned());
        metadata.insert(
            "fold_in".into(),
            serde_json::to_string(&model.fold_in_config()).map_err(json)?,
        );
        if let Some(segments) = &self.segments {
            metadata.insert(
                "segment_popular".into(),
                serde_json::to_string(&segments.popular).map_err(json)?,
            );
        }
        seal(KIND, &tensors, metadata)
    }

    /// Reads a recommender model file, refusing a wrong, corrupt or inconsistent one with the
    /// reason.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut file = open(bytes, KIND)?;
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            Error::ModelFile(format!("its `{what}` metadata is unreadable: {e}"))
        };
        let catalogue: Vec<CatalogueItem> =
            serde_json::from_str(file.entry("items")?).map_err(|e| bad("items", &e))?;
        let factors: usize = file
            .entry("factors")?
            .parse()
            .map_err(|e| bad("factors", &e))?;
        let fold_in: FoldInConfig =
            serde_json::from_str(file.entry("fold_in")?).map_err(|e| bad("fold_in", &e))?;
        fold_in.check().map_err(|e| bad("fold_in", &e))?;
        let name = file.entry("name")?.to_owned();
        let currency = file.entry("currency")?.to_owned();

        let n = catalogue.len();
        let item_factors = file.weights.take_f32("item_factors", &[n, factors])?;
        let bias = file.weights.take_f32("item_bias", &[n])?;
        let users: Vec<u64> = file
            .weights
            .take_f32("item_users", &[n])?
            .iter()
            .map(|&c| c.max(0.0) as u64)
            .collect();
        let segments = match file.metadata.get("segment_popular") {
            None => None,
            Some(text) => {
                let popular: Vec<Vec<(u32, u32)>> =
                    serde_json::from_str(text).map_err(|e| bad("segment_popular", &e))?;
                if popular.iter().flatten().any(|&(i, _)| i as usize >= n) {
                    return Err(Error::ModelFile(
                        "its segments name items beyond its item table; re-export it with \
                         `vitrine train recommender`"
                            .into(),
                    ));
                }
                let centroids = file
                    .weights
                    .take_f32("segment_centroids", &[popular.len(), factors])?;
                Some(Segments { centroids, popular })
            }
        };
        let ids: Vec<&str> = catalogue.iter().map(|i| i.id.as_str()).collect();
        let model = Factorization::items_only(&name, &ids, factors, item_factors, bias, &users)
            .map_err(|e| Error::ModelFile(format!("its tensors do not fit its item table: {e}")))?
            .with_fold_in(fold_in);
        Ok(Self {
            model,
            catalogue,
            currency,
            segments,
            metadata: file.metadata,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::{Interactions, Recommender, Source};

    fn model() -> Result<Factorization> {
        let train = Interactions::from_records(&[
            ("a", "x1", 1.0, 0),
            ("a", "x2", 1.0, 0),
            ("b", "y1", 1.0, 0),
            ("c", "y1", 1.0, 0),
        ])?;
        let items = vec![1.0, 0.0, 0.9, 0.2, 0.0, 1.0];
        let users = vec![1.0, 0.0, 0.0, 1.0, 0.1, 0.9];
        Factorization::from_parts("mf", &train, 2, users, items, vec![0.0, 0.1, 0.2])
    }

    fn table() -> Vec<CatalogueItem> {
        ["y1", "x2", "x1"]
            .iter()
            .map(|id| CatalogueItem {
                id: (*id).to_owned(),
                title: format!("Item {id} ✨"),
                price: Some(1.25),
                tags: vec![ItemTag {
                    kind: "color".into(),
                    text: "red".into(),
                }],
            })
            .collect()
    }

    #[test]
    fn round_trips_through_a_model_file() -> Result<()> {
        let shipped = ShippedRecommender::new(&model()?, table(), "GBP")?;
        // The table follows the model's item order, not the order given.
        assert_eq!(shipped.catalogue[0].id, "x1");
        let bytes = shipped.to_bytes(Storage::F32, BTreeMap::new())?;
        let read = ShippedRecommender::from_bytes(&bytes)?;
        assert_eq!(read.catalogue, shipped.catalogue);
        assert_eq!(read.currency, "GBP");
        assert_eq!(read.model.item_factors(), shipped.model.item_factors());
        assert_eq!(read.model.users_per_item(), [1, 1, 2]);
        assert_eq!(
            read.item("x2").map(|i| i.title.as_str()),
            Some("Item x2 ✨")
        );

        // It knows no user: every shopper is folded in, and a stranger gets popular items.
        let list = read.model.recommend("a", 2, true)?;
        assert_eq!(list.source, Source::Popularity);
        assert_eq!(list.item_ids(), ["y1", "x1"]);
        let list = read.model.recommend_for_history("a", &["x1"], 1, true)?;
        assert_eq!(list.source, Source::Personalised);
        assert_eq!(list.item_ids(), ["x2"]);

        let shown = read.suggest(&["x1", "gone"], 2, 0.0)?;
        assert!(shown.personalised);
        assert_eq!(shown.unknown, ["gone"]);
        let ids: Vec<&str> = shown.items.iter().map(|s| s.item.as_str()).collect();
        assert_eq!(ids, ["x2", "y1"]);
        assert_eq!(
            shown.items[0].explanation,
            "because you bought x1 (Item x1 ✨)"
        );
        assert!(read.suggest(&["x1"], 2, 1.5).is_err());
        assert!(read.suggest(&["x1"], 0, 0.0).is_err());

        assert_eq!(shown.segment, None);

        // Segments of the training users: a (x1, x2) alone, b and c (y1) together.
        let mut with_segments = shipped.clone();
        let segments = Segments::fit(&model()?, 2, 1)?;
        let y_side = segments.assign(&[0.0, 1.0]).unwrap_or(9);
        assert_eq!(segments.popular[y_side], [(2, 2)]);
        assert_eq!(segments.popular[1 - y_side], [(0, 1), (1, 1)]);
        with_segments.segments = Some(segments);
        let bytes = with_segments.to_bytes(Storage::F32, BTreeMap::new())?;
        let read = ShippedRecommender::from_bytes(&bytes)?;
        assert_eq!(read.segments, with_segments.segments);
        let shown = read.suggest(&["y1"], 2, 0.0)?;
        assert_eq!(shown.segment, Some(y_side));

        // float16 keeps the ranking and halves the factors.
        let small = shipped.to_bytes(Storage::F16, BTreeMap::new())?;
        assert!(small.len() < bytes.len());
        let read = ShippedRecommender::from_bytes(&small)?;
        let list = read.model.recommend_for_history("a", &["x1"], 1, true)?;
        assert_eq!(list.item_ids(), ["x2"]);
        Ok(())
    }

    fn tagged(id: &str, tags: &[(&str, &str)]) -> CatalogueItem {
        CatalogueItem {
            id: id.to_owned(),
            title: id.to_owned(),
            price: None,
            tags: tags
                .iter()
                .map(|(kind, text)| ItemTag {
                    kind: (*kind).to_owned(),
                    text: (*text).to_owned(),
                })
                .collect(),
        }
    }

    #[test]
    fn new_items_are_placed_by_their_tags() -> Result<()> {
        let mut shipped = ShippedRecommender::new(&model()?, table(), "GBP")?;
        // Give the catalogue tags: x1 a red lantern, x2 a red t-light holder, y1 a blue holder.
        shipped.catalogue[0].tags =
            tagged("", &[("core_product_type", "lantern"), ("color", "red")]).tags;
        shipped.catalogue[1].tags = tagged(
            "",
            &[("core_product_type", "t-light holder"), ("color", "red")],
        )
        .tags;
        shipped.catalogue[2].tags =
            tagged("", &[("core_product_type", "holder"), ("color", "blue")]).tags;

        // A blue candle holder: y1 weighs 3 + 1 = 4 and x2 3.
        let by = shipped.add_item(tagged(
            "new",
            &[("core_product_type", "candle holder"), ("color", "Blue")],
        ))?;
        assert_eq!(by, ["y1", "x2"]);
        let v = shipped
            .model
            .item_vector("new")
            .ok_or_else(|| Error::Input("not placed".into()))?;
        // (4 · (0, 1) + 3 · (0.9, 0.2)) / 7
        assert!(
            (v[0] - 2.7 / 7.0).abs() < 1e-6 && (v[1] - 4.6 / 7.0).abs() < 1e-6,
            "{v:?}"
        );
        assert!((shipped.model.item_biases()[3] - (4.0 * 0.2 + 3.0 * 0.1) / 7.0).abs() < 1e-6);
        assert_eq!(shipped.item("new").map(|i| i.id.as_str()), Some("new"));
        // A shopper of y1 now meets it first.
        let list = shipped.suggest(&["y1"], 1, 0.0)?;
        assert_eq!(list.items[0].item, "new");

        // Nothing in common: the catalogue's mean vector and its lowest bias.
        assert!(
            shipped
                .add_item(tagged("odd", &[("color", "green")]))?
                .is_empty()
        );
        assert_eq!(shipped.model.item_biases()[4], 0.0);
        assert!(shipped.add_item(tagged("new", &[])).is_err());
        Ok(())
    }

    #[test]
    fn tables_that_do_not_match_the_model_are_refused() -> Result<()> {
        let model = model()?;
        let mut missing = table();
        missing.pop();
        let err = ShippedRecommender::new(&model, missing, "GBP")
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("lacks `x1`"));
        let mut extra = table();
        extra.push(CatalogueItem {
            id: "z".into(),
            title: String::new(),
            price: None,
            tags: Vec::new(),
        });
        assert!(ShippedRecommender::new(&model, extra, "GBP").is_err());
        let mut twice = table();
        twice.push(twice[0].clone());
        assert!(ShippedRecommender::new(&model, twice, "GBP").is_err());
        Ok(())
    }

    #[test]
    fn corrupt_or_foreign_files_are_refused() -> Result<()> {
        let bytes = ShippedRecommender::new(&model()?, table(), "GBP")?
            .to_bytes(Storage::F16, BTreeMap::new())?;
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            ShippedRecommender::from_bytes(&flipped),
            Err(Error::Checksum { .. })
        ));
        assert!(ShippedRecommender::from_bytes(&bytes[..bytes.len() / 2]).is_err());
        let tagger = seal("tagger", &[], BTreeMap::new())?;
        let err = ShippedRecommender::from_bytes(&tagger)
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("not a recommender"));
        Ok(())
    }
}
