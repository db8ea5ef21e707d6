//! Runs a [`Recommender`] over a test split and reports ranking metrics at several cut-offs.
//!
//! For every user with at least one test pair, the model is asked once for the top
//! `max(ks)` items (leaving out the user's training items when
//! [`EvalConfig::exclude_seen`] is set, as the Microsoft Recommenders benchmark does), and each
//! cut-off K reads the first K of that list.
//!
//! - **Relevance.** A test pair is relevant; its graded relevance is the test cell's summed
//!   weight ([`Relevance::Weight`], e.g. the MovieLens rating) or 1 ([`Relevance::Binary`]).
//!   Under [`Relevance::Weight`] a pair of weight 0 is judged not relevant.
//! - **Accuracy** ([`crate::rec_metrics::evaluate_ranking`]): Recall@K = hits / relevant items
//!   (not / min(K, relevant)), graded and binary NDCG@K with the ideal list built from all the
//!   user's test items, HR@K and MRR@K, averaged over users with a relevant item. Test items
//!   the training data never saw stay in the ideal list: no model can recommend them, as in
//!   the benchmark.
//! - **Precision@K** = hits in the top K / K, K being the cut-off even when the list is shorter
//!   (as Microsoft Recommenders' `precision_at_k`), averaged over the same users.
//! - **Beyond accuracy**, over all evaluated lists, with the catalogue being the training items:
//!   [`crate::rec_metrics::catalogue_coverage`], [`crate::rec_metrics::novelty`] (popularity =
//!   distinct training users per item), [`crate::rec_metrics::exposure_gini`], and
//!   [`super::rerank::popularity_bias`] (ARP, APLT with a 20% short head).

use std::collections::BTreeMap;

use serde::Serialize;

use super::baselines::Recommender;
use super::dataset::Interactions;
use super::rerank::popularity_bias;
use crate::error::{Error, Result};
use crate::rec_metrics::{UserCase, catalogue_coverage, evaluate_ranking, exposure_gini, novelty};

/// What the graded relevance of a test pair is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Relevance {
    /// The summed weight of the test cell (the rating for MovieLens).
    #[default]
    Weight,
    /// 1 for every test pair.
    Binary,
}

/// The settings of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvalConfig {
    /// The cut-offs, each at least 1.
    pub ks: Vec<usize>,
    /// Leave the user's training items out of the lists.
    pub exclude_seen: bool,
    /// How test pairs are graded.
    pub relevance: Relevance,
}

impl Default for EvalConfig {
    /// K = 10 and 20, training items left out, graded by weight.
    fn default() -> Self {
        Self {
            ks: vec![10, 20],
            exclude_seen: true,
            relevance: Relevance::Weight,
        }
    }
}

/// The metrics at one cut-off, averaged over users with a relevant test item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsAtK {
    /// The cut-off.
    pub k: usize,
    /// Users averaged over.
    pub users: usize,
    /// Users left out for lack of a relevant test item.
    pub skipped_users: usize,
    /// Precision@K.
    pub precision: f64,
    /// Recall@K.
    pub recall: f64,
    /// Graded NDCG@K (linear gain).
    pub ndcg: f64,
    /// Binary NDCG@K.
    pub ndcg_binary: f64,
    /// HR@K.
    pub hit_rate: f64,
    /// MRR@K.
    pub mrr: f64,
    /// Share of the training catalogue recommended at least once.
    pub coverage: f64,
    /// Mean self-information of the recommended items, in bits.
    pub novelty: f64,
    /// Gini index of the exposure of catalogue items.
    pub gini: f64,
    /// Average recommendation popularity (distinct training users).
    pub arp: f64,
    /// Average per-list share of long-tail items (outside the top 20%).
    pub aplt: f64,
}

/// The report of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// The model's name.
    pub model: String,
    /// Users with at least one test pair, each asked once.
    pub test_users: usize,
    /// Of them, those whose list was not personalised (popularity or fallback).
    pub non_personalised_users: usize,
    /// Of them, those whose list held fewer than `max(ks)` items.
    pub short_lists: usize,
    /// One entry per cut-off, in the order of [`EvalConfig::ks`].
    pub at: Vec<MetricsAtK>,
}

/// Evaluates `model` (fitted on `train`) on the pairs of `test`.
///
/// `test` may have its own id tables: users and items are matched to `train` by id.
///
/// # Errors
///
/// [`Error::Config`] when `ks` is empty or holds 0; [`Error::Input`] when `test` has no pair,
/// no test user has a relevant item, the model recommends an item outside the training
/// catalogue or one without training interaction, or a list repeats an item; and any error of
/// the model.
pub fn evaluate(
    model: &dyn Recommender,
    train: &Interactions,
    test: &Interactions,
    config: &EvalConfig,
) -> Result<EvalReport> {
    let Some(&k_max) = config.ks.iter().max() else {
        return Err(Error::Config(
            "give at least one cut-off K, e.g. [10, 20]".into(),
        ));
    };
    if config.ks.contains(&0) {
        return Err(Error::Config("every cut-off K must be at least 1".into()));
    }
    if test.n_pairs() == 0 {
        return Err(Error::Input(
            "the test split has no interaction; nothing to evaluate".into(),
        ));
    }
    let n_train_items = train.n_items() as u64;
    // Item ids as u64: the training index, or a number after them for test-only items.
    let mut extra: BTreeMap<&str, u64> = BTreeMap::new();
    let mut cases: Vec<UserCase> = Vec::new();
    let (mut non_personalised, mut short) = (0, 0);
    for u in 0..test.n_users() as u32 {
        if test.n_items_of(u) == 0 {
            continue;
        }
        let Some(user) = test.user_id(u) else {
            continue;
        };
        let mut relevance = BTreeMap::new();
        for (i, cell) in test.items_of(u) {
            let Some(item) = test.item_id(i) else {
                continue;
            };
            let id = match train.item_index(item) {
                Some(t) => u64::from(t),
                None => {
                    let next = n_train_items + extra.len() as u64;
                    *extra.entry(item).or_insert(next)
                }
            };
            let rel = match config.relevance {
                Relevance::Weight => cell.weight,
                Relevance::Binary => 1.0,
            };
            relevance.insert(id, rel);
        }
        let recs = model.recommend(user, k_max, config.exclude_seen)?;
        if !recs.personalised() {
            non_personalised += 1;
        }
        if recs.items.len() < k_max {
            short += 1;
        }
        let mut recommended = Vec::with_capacity(recs.items.len());
        for r in recs.items.iter().take(k_max) {
            let Some(t) = train.item_index(&r.item) else {
                return Err(Error::Input(format!(
                    "{} recommends item {:?} to user {user:?}, which is not in the training \
                     catalogue; a model may only recommend items it was trained on",
                    model.name(),
                    r.item
                )));
            };
            recommended.push(u64::from(t));
        }
        cases.push(UserCase {
            user: u64::from(u),
            recommended,
            relevance,
        });
    }
    let popularity: BTreeMap<u64, u64> = train
        .item_user_counts()
        .into_iter()
        .enumerate()
        .filter(|&(_, c)| c > 0)
        .map(|(i, c)| (i as u64, c))
        .collect();
    let catalogue: Vec<u64> = (0..n_train_items).collect();
    let mut at = Vec::with_capacity(config.ks.len());
    for &k in &config.ks {
        let ranking = evaluate_ranking(&cases, k)?;
        let judged: Vec<&UserCase> = cases
            .iter()
            .filter(|c| c.relevance.values().any(|&r| r > 0.0))
            .collect();
        let precision = judged
            .iter()
            .map(|c| {
                let hits = c
                    .recommended
                    .iter()
                    .take(k)
                    .filter(|i| c.relevance.get(i).is_some_and(|&r| r > 0.0))
                    .count();
                hits as f64 / k as f64
            })
            .sum::<f64>()
            / judged.len().max(1) as f64;
        let lists: Vec<Vec<u64>> = cases
            .iter()
            .map(|c| c.recommended.iter().take(k).copied().collect())
            .collect();
        let bias = popularity_bias(&lists, &popularity, &catalogue, 0.2)?;
        at.push(MetricsAtK {
            k,
            users: ranking.users.len(),
            skipped_users: ranking.skipped_users,
            precision,
            recall: ranking.recall,
            ndcg: ranking.ndcg,
            ndcg_binary: ranking.ndcg_binary,
            hit_rate: ranking.hit_rate,
            mrr: ranking.mrr,
            coverage: catalogue_coverage(&lists, k, catalogue.len())?,
            novelty: novelty(&lists, k, &popularity)?,
            gini: exposure_gini(&lists, k, &catalogue)?,
            arp: bias.arp,
            aplt: bias.aplt,
        });
    }
    Ok(EvalReport {
        model: model.name(),
        test_users: cases.len(),
        non_personalised_users: non_personalised,
        short_lists: short,
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::baselines::Popularity;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn evaluation_by_hand() {
        // Train u1 {A, B}, u2 {A, B, C}, u3 {B, D}: popularity B 3, A 2, C 1, D 1 (7 pairs).
        let train = crate::recommend::baselines::tests::three_users();
        // Test u1 {D: 1}, u2 {E: 1} (E never trained), u3 {A: 3}.
        let mut test = Interactions::with_tables_of(&train);
        test.record("u1", "D", 1.0, 0).unwrap();
        test.record("u2", "E", 1.0, 0).unwrap();
        test.record("u3", "A", 3.0, 0).unwrap();
        let model = Popularity::fit(&train);
        let config = EvalConfig {
            ks: vec![1, 2],
            ..EvalConfig::default()
        };
        let r = evaluate(&model, &train, &test, &config).unwrap();
        // Lists without seen items: u1 [C, D], u2 [D] (short), u3 [A, C].
        assert_eq!(
            (r.test_users, r.non_personalised_users, r.short_lists),
            (3, 3, 1)
        );
        assert_eq!(r.model, "popularity");
        let (k1, k2) = (&r.at[0], &r.at[1]);
        // K = 1: only u3 hits (A at rank 1; graded 3/3 = 1).
        assert_eq!((k1.users, k1.skipped_users), (3, 0));
        for m in [
            k1.precision,
            k1.recall,
            k1.ndcg,
            k1.ndcg_binary,
            k1.hit_rate,
            k1.mrr,
        ] {
            assert!(close(m, 1.0 / 3.0), "{k1:?}");
        }
        // K = 2: u1 hits D at rank 2 (NDCG 1/log2 3 = 0.6309), u2 misses, u3 hits at 1.
        assert!(close(k2.recall, 2.0 / 3.0));
        assert!(close(k2.precision, (0.5 + 0.0 + 0.5) / 3.0));
        assert!(close(k2.ndcg, (1.0 / 3f64.log2() + 1.0) / 3.0));
        assert!(close(k2.ndcg_binary, k2.ndcg));
        assert!(close(k2.hit_rate, 2.0 / 3.0));
        assert!(close(k2.mrr, (0.5 + 0.0 + 1.0) / 3.0));
        // Coverage: {A, C, D} of 4. Exposure A 1, B 0, C 2, D 2 → sorted 0, 1, 2, 2:
        // Σ (2i − 5) x_i = −1 + 2 + 6 = 7; Gini = 7 / (4 · 5) = 0.35.
        assert!(close(k2.coverage, 0.75));
        assert!(close(k2.gini, 0.35));
        // Novelty: slots C, D, D, A, C; 4 × log2 7 + (log2 7 − 1), over 5 = log2 7 − 0.2.
        assert!(close(k2.novelty, 7f64.log2() - 0.2));
        // ARP: (1 + 1)/2, 1, (2 + 1)/2 → 3.5 / 3; the head is ceil(0.2 · 4) = 1 item (B), so
        // every recommended item is long tail.
        assert!(close(k2.arp, 3.5 / 3.0));
        assert!(close(k2.aplt, 1.0));
    }

    #[test]
    fn bad_settings_are_refused() {
        let train = Interactions::from_records(&[("u", "a", 1.0, 0), ("v", "b", 1.0, 0)]).unwrap();
        let mut test = Interactions::with_tables_of(&train);
        let model = Popularity::fit(&train);
        let mut config = EvalConfig::default();
        assert!(matches!(
            evaluate(&model, &train, &test, &config),
            Err(Error::Input(_))
        ));
        test.record("u", "b", 1.0, 0).unwrap();
        assert!(evaluate(&model, &train, &test, &config).is_ok());
        config.ks = vec![];
        assert!(matches!(
            evaluate(&model, &train, &test, &config),
            Err(Error::Config(_))
        ));
        config.ks = vec![0, 5];
        assert!(matches!(
            evaluate(&model, &train, &test, &config),
            Err(Error::Config(_))
        ));
    }
}
