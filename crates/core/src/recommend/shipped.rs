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
use super::mf::{Factorization, FoldInConfig};
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
}

/// A list for one history ([`ShippedRecommender::suggest`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestions {
    /// The history asked about.
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
    /// Every metadata entry of the file.
    pub metadata: BTreeMap<String, String>,
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
        let mut seen = std::collections::HashSet::new();
        let weighted: Vec<(&str, f32)> = history
            .iter()
            .map(AsRef::as_ref)
            .filter(|id| seen.insert(*id))
            .map(|id| (id, 1.0))
            .collect();
        self.suggest_weighted(&weighted, k, diversity)
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
        let unknown = model.fold_in_weighted(history).unknown;
        let candidates = model.recommend_for_weighted_history(
            "shopper",
            history,
            k.saturating_mul(CANDIDATES_PER_SLOT),
            true,
        )?;
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
            .map(|r| Suggestion {
                item: r.item.clone(),
                title: title(&r.item),
                score: r.score,
                explanation: match &r.reason {
                    Reason::BecauseYouHad { item, .. } => {
                        format!("{} ({})", r.explanation(), title(item))
                    }
                    _ => r.explanation(),
                },
            })
            .collect();
        Ok(Suggestions {
            history: history.iter().map(|(h, _)| h.as_ref().to_owned()).collect(),
            k,
            diversity,
            personalised: candidates.personalised(),
            unknown,
            items,
        })
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
        let ids: Vec<&str> = catalogue.iter().map(|i| i.id.as_str()).collect();
        let model = Factorization::items_only(&name, &ids, factors, item_factors, bias, &users)
            .map_err(|e| Error::ModelFile(format!("its tensors do not fit its item table: {e}")))?
            .with_fold_in(fold_in);
        Ok(Self {
            model,
            catalogue,
            currency,
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
        Factorization::from_parts("mf", &train, 2, vec![0.5; 6], items, vec![0.0, 0.1, 0.2])
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

        // float16 keeps the ranking and halves the factors.
        let small = shipped.to_bytes(Storage::F16, BTreeMap::new())?;
        assert!(small.len() < bytes.len());
        let read = ShippedRecommender::from_bytes(&small)?;
        let list = read.model.recommend_for_history("a", &["x1"], 1, true)?;
        assert_eq!(list.item_ids(), ["x2"]);
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
