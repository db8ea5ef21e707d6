//! The non-neural recommender: interaction data, train/test splits, baselines, re-ranking and
//! an evaluation harness.
//!
//! - [`dataset`]: [`Interactions`], users and items interned from string ids to dense indices,
//!   one aggregated cell per (user, item).
//! - [`split`]: a temporal split by cut-off time and the per-user stratified split of the
//!   Microsoft Recommenders benchmark.
//! - [`movielens`]: a reader of RecBole's atomic `.inter` files (MovieLens 100K).
//! - [`baselines`]: the [`Recommender`] trait, [`Popularity`] and [`ItemKnn`].
//! - [`ease`]: EASE, item-to-item weights learned in closed form; a history is scored by
//!   adding up rows, with no fitting.
//! - [`mf`]: matrix factorisation scoring, fold-in of a new history and explanations, in plain
//!   Rust; `bpr` (with the `train` feature) learns the factors in burn.
//! - [`sasrec`]: a self-attention sequence model of the next item, in burn.
//! - [`shipped`]: the recommender model file: item factors and the item table, no user.
//! - [`rerank`]: MMR diversity re-ranking and popularity-bias measures.
//! - [`mod@evaluate`]: runs a [`Recommender`] over a test split and reports ranking metrics.
//!
//! Everything is deterministic on every platform: shuffles draw from the seeded [`SplitMix64`]
//! generator below, and ties are broken by string id.

pub mod baselines;
#[cfg(feature = "train")]
pub mod bpr;
pub mod dataset;
pub mod ease;
pub mod evaluate;
pub mod mf;
pub mod movielens;
pub mod rerank;
pub mod sasrec;
pub mod shipped;
pub mod split;

pub use baselines::{
    ItemKnn, ItemKnnConfig, Popularity, Reason, Recommendations, Recommended, Recommender, Source,
};
#[cfg(feature = "train")]
pub use bpr::{BprConfig, EpochReport, train_bpr};
pub use dataset::{Cell, Interactions};
pub use ease::{Ease, EaseConfig};
pub use evaluate::{EvalConfig, EvalReport, MetricsAtK, evaluate};
pub use mf::{
    Factorization, FoldIn, FoldInConfig, FoldedIn, MAX_ITEM_WEIGHT, PURCHASE_WEIGHT, SOCIAL_WEIGHT,
    signal_weight, weighted_history,
};
pub use sasrec::{SasRec, SasRecConfig};
#[cfg(feature = "train")]
pub use sasrec::{SasRecEpoch, train_sasrec};
pub use shipped::{
    CANDIDATES_PER_SLOT, COLD_START_NEIGHBOURS, CatalogueItem, ItemTag, Placement,
    SEGMENT_EXPLANATION_BELOW, SEGMENT_POPULAR, Segments, ShippedRecommender, Suggestion,
    Suggestions, tag_overlap,
};
pub use split::{Split, SplitReport, stratified_split, temporal_split};

pub use crate::random::SplitMix64;

/// A 64-bit FNV-1a hash of a string: a stable, platform-independent seed per id.
pub(crate) fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values() {
        assert_eq!(fnv1a(""), 0xCBF2_9CE4_8422_2325);
        assert_eq!(fnv1a("a"), 0xAF63_DC4C_8601_EC8C);
    }
}
