//! Ranking metrics for top-K recommendation: accuracy per user and averaged, and
//! beyond-accuracy measures of the whole set of recommendation lists.
//!
//! # Relevance
//!
//! A user's judged items carry a graded relevance, taken from the strongest event the user had
//! with the item in the test period ([`Event::relevance`]):
//!
//! | event | relevance |
//! | --- | --- |
//! | purchase | 3 |
//! | add to cart | 2 |
//! | click | 1 |
//!
//! An item with no event is not relevant (relevance 0). Binary metrics count every item with
//! relevance above 0 as relevant.
//!
//! # Metrics at K
//!
//! With `rel_i` the relevance of the item at rank `i` (1-based) of the returned list, and `R` the
//! set of the user's items with relevance above 0:
//!
//! - Recall@K = |R ∩ top K| / |R|.
//! - HR@K (hit rate) = 1 if any of the top K is in R, else 0.
//! - MRR: the reciprocal rank 1 / (rank of the first relevant item within the top K), 0 when
//!   none is there, averaged over users.
//! - DCG@K = Σ_{i ≤ K} gain_i / log2(i + 1), with the *linear* gain `gain_i = rel_i` for graded
//!   NDCG ([`Gain::Graded`]) and `gain_i = 1 if rel_i > 0 else 0` for binary NDCG
//!   ([`Gain::Binary`]). NDCG@K = DCG@K / IDCG@K, where IDCG@K is the DCG of the user's judged
//!   relevances sorted best first, taken over **all** judged items, including those the model
//!   never returned ([`IdealFrom::AllJudged`], the default). Building the ideal list from the
//!   returned items alone ([`IdealFrom::ReturnedOnly`]) overstates NDCG and exists only to show
//!   the difference.
//!
//! Users with no relevant item say nothing about ranking quality: [`evaluate_ranking`] skips
//! them and reports how many it skipped.
//!
//! # Ties
//!
//! When scores tie, the order among the tied items is broken **against** the model: relevant
//! items are ranked after irrelevant ones of equal score ([`rank_with_ties_against`]). A model
//! that gives every item the same score therefore earns nothing.
//!
//! # Beyond accuracy
//!
//! - [`catalogue_coverage`]: the share of the catalogue that appears in at least one top-K list.
//! - [`novelty`]: the mean self-information `-log2 p(i)` of recommended items, where `p(i)` is
//!   the item's share of all training interactions.
//! - [`exposure_gini`]: the Gini index of how often each catalogue item is recommended (0: every
//!   item equally often; near 1: all exposure on one item).
//!
//! # Leakage
//!
//! [`check_no_overlap`] refuses train and test interaction sets that share a (user, item) pair.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::{Error, Result};

/// A user's interaction with an item, strongest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Event {
    /// The user opened the item.
    Click,
    /// The user put the item in the cart.
    AddToCart,
    /// The user bought the item.
    Purchase,
}

impl Event {
    /// The graded relevance of the event: purchase 3, add to cart 2, click 1.
    pub fn relevance(self) -> f64 {
        match self {
            Self::Click => 1.0,
            Self::AddToCart => 2.0,
            Self::Purchase => 3.0,
        }
    }
}

/// The graded relevance of each item from a user's test events: the strongest event per item.
pub fn relevance_from_events(events: &[(u64, Event)]) -> BTreeMap<u64, f64> {
    let mut out: BTreeMap<u64, f64> = BTreeMap::new();
    for &(item, event) in events {
        let rel = event.relevance();
        let entry = out.entry(item).or_insert(rel);
        if rel > *entry {
            *entry = rel;
        }
    }
    out
}

/// How a gain is computed from a relevance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Gain {
    /// The linear gain: the relevance itself.
    #[default]
    Graded,
    /// 1 for any relevance above 0, else 0.
    Binary,
}

impl Gain {
    fn of(self, rel: f64) -> f64 {
        match self {
            Self::Graded => rel,
            Self::Binary => {
                if rel > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

/// Which items the ideal ranking of NDCG is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum IdealFrom {
    /// All the user's judged items, returned or not: the correct NDCG.
    #[default]
    AllJudged,
    /// Only the returned items: overstates NDCG; kept to show the difference.
    ReturnedOnly,
}

/// The options of [`ndcg_at_k`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct NdcgOptions {
    /// Graded (linear) or binary gain.
    pub gain: Gain,
    /// Where the ideal ranking comes from.
    pub ideal: IdealFrom,
}

fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        return Err(Error::Config(
            "k must be at least 1 for a top-K metric".into(),
        ));
    }
    Ok(())
}

fn check_relevances(what: &str, rels: &[f64]) -> Result<()> {
    if let Some((i, r)) = rels
        .iter()
        .enumerate()
        .find(|(_, r)| !r.is_finite() || **r < 0.0)
    {
        return Err(Error::Input(format!(
            "{what}[{i}] = {r} is not a relevance; relevances are finite and at least 0"
        )));
    }
    Ok(())
}

/// Ranks items by score, best first, breaking ties against the model.
///
/// Returns item indices. Items of equal score are ordered irrelevant first, then relevant, then
/// by index, so a relevant item tied with irrelevant ones ranks after them.
///
/// # Errors
///
/// [`Error::Input`] when the slices differ in length or a score is NaN.
pub fn rank_with_ties_against(scores: &[f64], relevant: &[bool]) -> Result<Vec<usize>> {
    if scores.len() != relevant.len() {
        return Err(Error::Input(format!(
            "{} scores but {} relevance flags; give one flag per scored item",
            scores.len(),
            relevant.len()
        )));
    }
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(Error::Input(format!(
            "score of item {i} is NaN; the model must score every item with a number"
        )));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(Ordering::Equal)
            .then(relevant[a].cmp(&relevant[b]))
            .then(a.cmp(&b))
    });
    Ok(order)
}

/// DCG of relevances in rank order, over the first `k`: Σ gain(rel_i) / log2(i + 1).
///
/// # Errors
///
/// [`Error::Config`] when `k` is 0; [`Error::Input`] for a negative or non-finite relevance.
pub fn dcg_at_k(ranked_relevance: &[f64], k: usize, gain: Gain) -> Result<f64> {
    check_k(k)?;
    check_relevances("relevance", ranked_relevance)?;
    Ok(dcg(ranked_relevance, k, gain))
}

fn dcg(rels: &[f64], k: usize, gain: Gain) -> f64 {
    rels.iter()
        .take(k)
        .enumerate()
        .map(|(i, &r)| gain.of(r) / ((i + 2) as f64).log2())
        .sum()
}

fn ideal_dcg(rels: &[f64], k: usize, gain: Gain) -> f64 {
    let mut sorted: Vec<f64> = rels.iter().map(|&r| gain.of(r)).collect();
    sorted.sort_by(|a, b| b.partial_cmp(a).unwrap_or(Ordering::Equal));
    dcg(&sorted, k, Gain::Graded)
}

/// NDCG@K of one user.
///
/// `returned` holds the relevance of each returned item in rank order; `judged` holds the
/// relevance of every item judged for the user (returned or not), in any order. With
/// [`IdealFrom::ReturnedOnly`], `judged` is ignored. A user whose ideal DCG is 0 (nothing
/// relevant) gets NDCG 0.
///
/// # Errors
///
/// [`Error::Config`] when `k` is 0; [`Error::Input`] for a negative or non-finite relevance.
pub fn ndcg_at_k(returned: &[f64], judged: &[f64], k: usize, options: NdcgOptions) -> Result<f64> {
    check_k(k)?;
    check_relevances("returned", returned)?;
    check_relevances("judged", judged)?;
    let actual = dcg(returned, k, options.gain);
    let ideal = match options.ideal {
        IdealFrom::AllJudged => ideal_dcg(judged, k, options.gain),
        IdealFrom::ReturnedOnly => ideal_dcg(returned, k, options.gain),
    };
    Ok(if ideal > 0.0 { actual / ideal } else { 0.0 })
}

/// One user's recommendation list and judged items.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct UserCase {
    /// The user.
    pub user: u64,
    /// The recommended items, best first, without repeats.
    pub recommended: Vec<u64>,
    /// The graded relevance of the user's judged items; items absent have relevance 0.
    pub relevance: BTreeMap<u64, f64>,
}

/// The metrics of one user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserMetrics {
    /// The user.
    pub user: u64,
    /// Recall@K.
    pub recall: f64,
    /// Graded NDCG@K (linear gain, ideal from all judged items).
    pub ndcg: f64,
    /// Binary NDCG@K (ideal from all judged items).
    pub ndcg_binary: f64,
    /// 1 if a relevant item is in the top K, else 0.
    pub hit: f64,
    /// 1 / rank of the first relevant item in the top K, 0 when none is there.
    pub reciprocal_rank: f64,
}

/// Metrics per user and their means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankingReport {
    /// The cut-off.
    pub k: usize,
    /// One entry per evaluated user, in input order.
    pub users: Vec<UserMetrics>,
    /// Users skipped because they had no relevant item.
    pub skipped_users: usize,
    /// Mean Recall@K.
    pub recall: f64,
    /// Mean graded NDCG@K.
    pub ndcg: f64,
    /// Mean binary NDCG@K.
    pub ndcg_binary: f64,
    /// HR@K: the share of users with a hit.
    pub hit_rate: f64,
    /// MRR@K.
    pub mrr: f64,
}

/// The metrics of one user at cut-off `k`, or `None` when the user has no relevant item.
///
/// # Errors
///
/// [`Error::Config`] when `k` is 0; [`Error::Input`] for a repeated recommended item or a bad
/// relevance.
pub fn user_metrics(case: &UserCase, k: usize) -> Result<Option<UserMetrics>> {
    check_k(k)?;
    let mut seen = BTreeSet::new();
    for item in &case.recommended {
        if !seen.insert(*item) {
            return Err(Error::Input(format!(
                "user {} is recommended item {item} twice; a top-K list holds each item once",
                case.user
            )));
        }
    }
    let judged: Vec<f64> = case.relevance.values().copied().collect();
    check_relevances("relevance", &judged)?;
    let n_relevant = judged.iter().filter(|&&r| r > 0.0).count();
    if n_relevant == 0 {
        return Ok(None);
    }
    let returned: Vec<f64> = case
        .recommended
        .iter()
        .take(k)
        .map(|item| case.relevance.get(item).copied().unwrap_or(0.0))
        .collect();
    let hits = returned.iter().filter(|&&r| r > 0.0).count();
    let first = returned.iter().position(|&r| r > 0.0);
    let graded = NdcgOptions::default();
    let binary = NdcgOptions {
        gain: Gain::Binary,
        ideal: IdealFrom::AllJudged,
    };
    Ok(Some(UserMetrics {
        user: case.user,
        recall: hits as f64 / n_relevant as f64,
        ndcg: ndcg_at_k(&returned, &judged, k, graded)?,
        ndcg_binary: ndcg_at_k(&returned, &judged, k, binary)?,
        hit: if hits > 0 { 1.0 } else { 0.0 },
        reciprocal_rank: first.map_or(0.0, |i| 1.0 / (i + 1) as f64),
    }))
}

/// Evaluates every user at cut-off `k` and averages over the users with a relevant item.
///
/// # Errors
///
/// As [`user_metrics`], and [`Error::Input`] when no user has a relevant item.
pub fn evaluate_ranking(cases: &[UserCase], k: usize) -> Result<RankingReport> {
    check_k(k)?;
    let mut users = Vec::with_capacity(cases.len());
    let mut skipped_users = 0;
    for case in cases {
        match user_metrics(case, k)? {
            Some(m) => users.push(m),
            None => skipped_users += 1,
        }
    }
    if users.is_empty() {
        return Err(Error::Input(format!(
            "none of the {} users has a relevant item; evaluate on users with test interactions",
            cases.len()
        )));
    }
    let n = users.len() as f64;
    let mean = |f: fn(&UserMetrics) -> f64| users.iter().map(f).sum::<f64>() / n;
    Ok(RankingReport {
        k,
        recall: mean(|m| m.recall),
        ndcg: mean(|m| m.ndcg),
        ndcg_binary: mean(|m| m.ndcg_binary),
        hit_rate: mean(|m| m.hit),
        mrr: mean(|m| m.reciprocal_rank),
        skipped_users,
        users,
    })
}

/// The share of a catalogue of `catalogue_size` items that appears in at least one top-K list.
///
/// # Errors
///
/// [`Error::Config`] when `k` or `catalogue_size` is 0; [`Error::Input`] when the lists hold
/// more distinct items than the catalogue.
pub fn catalogue_coverage(lists: &[Vec<u64>], k: usize, catalogue_size: usize) -> Result<f64> {
    check_k(k)?;
    if catalogue_size == 0 {
        return Err(Error::Config("catalogue_size must be at least 1".into()));
    }
    let distinct: BTreeSet<u64> = lists
        .iter()
        .flat_map(|l| l.iter().take(k).copied())
        .collect();
    if distinct.len() > catalogue_size {
        return Err(Error::Input(format!(
            "the lists recommend {} distinct items but the catalogue has {catalogue_size}; \
             pass the real catalogue size",
            distinct.len()
        )));
    }
    Ok(distinct.len() as f64 / catalogue_size as f64)
}

/// Counts interactions per item, for [`novelty`].
pub fn popularity_counts(interactions: &[(u64, u64)]) -> BTreeMap<u64, u64> {
    let mut out = BTreeMap::new();
    for &(_, item) in interactions {
        *out.entry(item).or_insert(0) += 1;
    }
    out
}

/// Mean self-information of the top-K recommendations, in bits.
///
/// `popularity` maps each item to its number of training interactions; an item's share is
/// `p(i) = count(i) / Σ counts`, and the novelty is the mean of `-log2 p(i)` over every
/// recommended slot of every list. Higher means less popular recommendations.
///
/// # Errors
///
/// [`Error::Config`] when `k` is 0; [`Error::Input`] when there are no recommendations, or a
/// recommended item has no training interaction (its self-information would be infinite).
pub fn novelty(lists: &[Vec<u64>], k: usize, popularity: &BTreeMap<u64, u64>) -> Result<f64> {
    check_k(k)?;
    let total: u64 = popularity.values().sum();
    let mut sum = 0.0;
    let mut slots = 0usize;
    for item in lists.iter().flat_map(|l| l.iter().take(k)) {
        let count = popularity.get(item).copied().unwrap_or(0);
        if count == 0 {
            return Err(Error::Input(format!(
                "item {item} is recommended but has no training interaction, so its \
                 self-information is infinite; leave cold items out of the novelty lists"
            )));
        }
        sum += -(count as f64 / total as f64).log2();
        slots += 1;
    }
    if slots == 0 {
        return Err(Error::Input(
            "novelty needs at least one recommended item".into(),
        ));
    }
    Ok(sum / slots as f64)
}

/// The Gini index of recommendation exposure over a catalogue.
///
/// `catalogue` lists every item that could be recommended; each one's exposure is the number of
/// top-K lists it appears in (items never recommended count with 0). With exposures sorted
/// ascending `x_1 ≤ … ≤ x_n`, `G = Σ_i (2i − n − 1) x_i / (n Σ x_i)`.
///
/// # Errors
///
/// [`Error::Config`] when `k` is 0 or the catalogue is empty; [`Error::Input`] when a list holds
/// an item outside the catalogue or no item is recommended at all.
pub fn exposure_gini(lists: &[Vec<u64>], k: usize, catalogue: &[u64]) -> Result<f64> {
    check_k(k)?;
    if catalogue.is_empty() {
        return Err(Error::Config(
            "the catalogue must hold at least one item".into(),
        ));
    }
    let mut exposure: BTreeMap<u64, u64> = catalogue.iter().map(|&i| (i, 0)).collect();
    for item in lists.iter().flat_map(|l| l.iter().take(k)) {
        match exposure.get_mut(item) {
            Some(c) => *c += 1,
            None => {
                return Err(Error::Input(format!(
                    "item {item} is recommended but is not in the catalogue; pass the full \
                     catalogue"
                )));
            }
        }
    }
    let mut x: Vec<f64> = exposure.values().map(|&c| c as f64).collect();
    x.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let total: f64 = x.iter().sum();
    if total == 0.0 {
        return Err(Error::Input(
            "no item is recommended; the Gini index is undefined".into(),
        ));
    }
    let n = x.len() as f64;
    let weighted: f64 = x
        .iter()
        .enumerate()
        .map(|(i, &v)| (2.0 * (i + 1) as f64 - n - 1.0) * v)
        .sum();
    Ok(weighted / (n * total))
}

/// Refuses train and test interactions that share a (user, item) pair.
///
/// An evaluator that tests on pairs it trained on measures memory, not recommendation.
///
/// # Errors
///
/// [`Error::Input`] naming how many distinct pairs are shared and the first few of them.
pub fn check_no_overlap<'a, U, I>(train: &'a [(U, I)], test: &'a [(U, I)]) -> Result<()>
where
    U: Ord + std::fmt::Display + 'a,
    I: Ord + std::fmt::Display + 'a,
{
    let train: BTreeSet<(&U, &I)> = train.iter().map(|(u, i)| (u, i)).collect();
    let shared: BTreeSet<(&U, &I)> = test
        .iter()
        .map(|(u, i)| (u, i))
        .filter(|p| train.contains(p))
        .collect();
    if shared.is_empty() {
        return Ok(());
    }
    let examples: Vec<String> = shared
        .iter()
        .take(3)
        .map(|(u, i)| format!("(user {u}, item {i})"))
        .collect();
    Err(Error::Input(format!(
        "train and test share {} (user, item) pairs, e.g. {}; split the interactions so that \
         each pair lies on one side only",
        shared.len(),
        examples.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn met_03_graded_ndcg_uses_all_judged_items() {
        let returned = [3.0, 2.0, 3.0, 0.0, 1.0, 2.0];
        let judged = [3.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 2.0];
        // DCG = 3/1 + 2/log2 3 + 3/2 + 0 + 1/log2 6 + 2/log2 7 = 6.861
        let dcg6 = dcg_at_k(&returned, 6, Gain::Graded).unwrap();
        assert!(close(dcg6, 6.861, 1e-3), "{dcg6}");
        // Ideal: [3,3,3,2,2,2] = 3 + 3/log2 3 + 3/2 + 2/log2 5 + 2/log2 6 + 2/log2 7 = 8.740
        let idcg = dcg_at_k(&[3.0, 3.0, 3.0, 2.0, 2.0, 2.0, 1.0, 0.0], 6, Gain::Graded).unwrap();
        assert!(close(idcg, 8.740, 1e-3), "{idcg}");
        let ndcg = ndcg_at_k(&returned, &judged, 6, NdcgOptions::default()).unwrap();
        assert!(close(ndcg, 0.785, 1e-3), "{ndcg}");

        // The wrong variants give other numbers.
        let binary = NdcgOptions {
            gain: Gain::Binary,
            ideal: IdealFrom::AllJudged,
        };
        let b = ndcg_at_k(&returned, &judged, 6, binary).unwrap();
        assert!(close(b, 0.870, 1e-3), "{b}");
        let from_returned = NdcgOptions {
            gain: Gain::Graded,
            ideal: IdealFrom::ReturnedOnly,
        };
        let r = ndcg_at_k(&returned, &judged, 6, from_returned).unwrap();
        assert!(close(r, 0.961, 1e-3), "{r}");
        assert!(!close(ndcg, b, 1e-2) && !close(ndcg, r, 1e-2));
    }

    #[test]
    fn met_03_through_the_user_api() {
        // Items 1..=8 judged with the MET-03 relevances; the model returns items 1..=6.
        let rels = [3.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 2.0];
        let case = UserCase {
            user: 7,
            recommended: (1..=6).collect(),
            relevance: rels
                .iter()
                .enumerate()
                .map(|(i, &r)| (i as u64 + 1, r))
                .collect(),
        };
        let m = user_metrics(&case, 6).unwrap().unwrap();
        assert!(close(m.ndcg, 0.785, 1e-3), "{}", m.ndcg);
        assert!(close(m.ndcg_binary, 0.870, 1e-3), "{}", m.ndcg_binary);
        // 5 of the 7 relevant items are returned.
        assert!(close(m.recall, 5.0 / 7.0, 1e-12));
        assert_eq!(m.hit, 1.0);
        assert_eq!(m.reciprocal_rank, 1.0);
    }

    #[test]
    fn event_relevance_and_strongest_event_wins() {
        assert_eq!(Event::Purchase.relevance(), 3.0);
        assert_eq!(Event::AddToCart.relevance(), 2.0);
        assert_eq!(Event::Click.relevance(), 1.0);
        let rel = relevance_from_events(&[
            (5, Event::Click),
            (5, Event::Purchase),
            (5, Event::AddToCart),
            (9, Event::Click),
        ]);
        assert_eq!(rel.get(&5), Some(&3.0));
        assert_eq!(rel.get(&9), Some(&1.0));
    }

    #[test]
    fn ties_are_broken_against_the_model() {
        // Items 0 and 2 tie at 0.5; item 2 is relevant, so it goes after item 0.
        let order =
            rank_with_ties_against(&[0.5, 0.9, 0.5, 0.1], &[false, false, true, false]).unwrap();
        assert_eq!(order, vec![1, 0, 2, 3]);
        // All scores equal: every relevant item last.
        let order = rank_with_ties_against(&[1.0; 4], &[true, false, true, false]).unwrap();
        assert_eq!(order, vec![1, 3, 0, 2]);
        // A constant model's top 2 then holds no relevant item: HR@2 = 0.
        let case = UserCase {
            user: 1,
            recommended: order.iter().map(|&i| i as u64).collect(),
            relevance: [(0, 1.0), (2, 1.0)].into_iter().collect(),
        };
        assert_eq!(user_metrics(&case, 2).unwrap().unwrap().hit, 0.0);
        assert!(rank_with_ties_against(&[f64::NAN], &[true]).is_err());
        assert!(rank_with_ties_against(&[1.0], &[]).is_err());
    }

    #[test]
    fn averaged_metrics_by_hand() {
        // k = 3.
        // User 1: recommended [10, 11, 12], relevant {11: 1, 13: 1}.
        //   recall = 1/2, hit = 1, RR = 1/2,
        //   DCG = 1/log2 3 = 0.63093, IDCG = 1 + 1/log2 3 = 1.63093, NDCG = 0.38685.
        // User 2: recommended [20, 21, 22], relevant {20: 3}.
        //   recall = 1, hit = 1, RR = 1, NDCG = 1 (graded and binary).
        // User 3: recommended [30, 31, 32], relevant {99: 2}: recall 0, hit 0, RR 0, NDCG 0.
        // User 4: nothing relevant: skipped.
        // Means over 3 users: recall 0.5, HR 2/3, MRR 0.5, NDCG (0.38685 + 1) / 3 = 0.46228.
        let cases = vec![
            UserCase {
                user: 1,
                recommended: vec![10, 11, 12],
                relevance: [(11, 1.0), (13, 1.0)].into_iter().collect(),
            },
            UserCase {
                user: 2,
                recommended: vec![20, 21, 22],
                relevance: [(20, 3.0)].into_iter().collect(),
            },
            UserCase {
                user: 3,
                recommended: vec![30, 31, 32],
                relevance: [(99, 2.0)].into_iter().collect(),
            },
            UserCase {
                user: 4,
                recommended: vec![1, 2, 3],
                relevance: BTreeMap::new(),
            },
        ];
        let r = evaluate_ranking(&cases, 3).unwrap();
        assert_eq!(r.skipped_users, 1);
        assert_eq!(r.users.len(), 3);
        assert!(close(r.recall, 0.5, 1e-12));
        assert!(close(r.hit_rate, 2.0 / 3.0, 1e-12));
        assert!(close(r.mrr, 0.5, 1e-12));
        let u1 = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!(close(r.users[0].ndcg, u1, 1e-12));
        assert!(close(r.ndcg, (u1 + 1.0) / 3.0, 1e-12));
        assert!(close(r.ndcg, 0.46228, 1e-5));
        assert!(close(r.ndcg_binary, r.ndcg, 1e-12));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let dup = UserCase {
            user: 1,
            recommended: vec![1, 1],
            relevance: [(1, 1.0)].into_iter().collect(),
        };
        assert!(user_metrics(&dup, 2).is_err());
        assert!(evaluate_ranking(&[], 0).is_err());
        let none = UserCase {
            user: 1,
            recommended: vec![1],
            relevance: BTreeMap::new(),
        };
        assert!(evaluate_ranking(&[none], 1).is_err());
        assert!(ndcg_at_k(&[f64::NAN], &[1.0], 1, NdcgOptions::default()).is_err());
        assert!(ndcg_at_k(&[-1.0], &[1.0], 1, NdcgOptions::default()).is_err());
    }

    #[test]
    fn coverage_novelty_and_gini_by_hand() {
        // Catalogue of 4 items; k = 2.
        let lists = vec![vec![1, 2, 3], vec![1, 2], vec![1, 4]];
        // Top-2 items: {1, 2} ∪ {1, 2} ∪ {1, 4} = {1, 2, 4}: coverage 3/4.
        assert!(close(
            catalogue_coverage(&lists, 2, 4).unwrap(),
            0.75,
            1e-12
        ));
        assert!(catalogue_coverage(&lists, 2, 2).is_err());

        // Training popularity: item 1 ×4, 2 ×2, 3 ×1, 4 ×1 (total 8):
        //   -log2(4/8) = 1, -log2(2/8) = 2, -log2(1/8) = 3.
        // Slots: 1,2, 1,2, 1,4 → (1+2+1+2+1+3)/6 = 10/6.
        let train = [
            (0, 1),
            (1, 1),
            (2, 1),
            (3, 1),
            (0, 2),
            (1, 2),
            (0, 3),
            (0, 4),
        ];
        let pop = popularity_counts(&train);
        assert!(close(novelty(&lists, 2, &pop).unwrap(), 10.0 / 6.0, 1e-12));
        assert!(novelty(&[vec![77]], 1, &pop).is_err());

        // Exposure at k = 2: item 1 ×3, 2 ×2, 3 ×0, 4 ×1 → sorted [0, 1, 2, 3], n = 4, Σ = 6.
        // Σ (2i − 5) x_i = (−3)(0) + (−1)(1) + (1)(2) + (3)(3) = 10 → G = 10 / 24.
        let g = exposure_gini(&lists, 2, &[1, 2, 3, 4]).unwrap();
        assert!(close(g, 10.0 / 24.0, 1e-12), "{g}");
        // Equal exposure → 0.
        assert!(close(
            exposure_gini(&[vec![1], vec![2]], 1, &[1, 2]).unwrap(),
            0.0,
            1e-12
        ));
        assert!(exposure_gini(&[vec![5]], 1, &[1, 2]).is_err());
    }

    #[test]
    fn rec_03_overlapping_train_and_test_are_refused() {
        let train = [(1, 10), (1, 11), (2, 20)];
        let test = [(1, 11), (2, 20), (2, 20), (3, 30)];
        let err = check_no_overlap(&train, &test).unwrap_err().to_string();
        assert!(err.contains("share 2 (user, item) pairs"), "{err}");
        assert!(err.contains("(user 1, item 11)"), "{err}");
        assert!(check_no_overlap(&train, &[(3, 30)]).is_ok());
    }
}
