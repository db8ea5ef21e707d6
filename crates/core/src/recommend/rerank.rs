//! Diversity re-ranking and popularity-bias measures.
//!
//! # MMR ([`mmr`])
//!
//! Maximal Marginal Relevance (Carbonell & Goldstein, 1998) picks `k` of the candidates one by
//! one; at each step it takes the candidate `c` not yet picked that maximises
//!
//! ```text
//! λ · rel(c) − (1 − λ) · max_{p picked} sim(c, p)
//! ```
//!
//! where the max over no pick is 0. Ties go to the earlier candidate. With `λ = 1` the result
//! is the candidates sorted by relevance (stable); with `λ = 0` only dissimilarity counts after
//! the first pick. Relevances and similarities are used as given: put them on comparable scales,
//! e.g. relevance through [`unit_scale`] and a cosine similarity.
//!
//! # Popularity bias ([`popularity_bias`])
//!
//! With `φ(i)` the number of training interactions of item `i` and `L_u` a non-empty list:
//!
//! - ARP, the average recommendation popularity: `(1/|U|) Σ_u Σ_{i ∈ L_u} φ(i) / |L_u|`;
//! - the short head is the `ceil(head_fraction · n)` most popular of the `n` catalogue items
//!   (ties by id), 20% being the usual fraction; every other item is long tail;
//! - APLT, the average share of long-tail items per list: `(1/|U|) Σ_u |L_u ∩ tail| / |L_u|`;
//! - the long-tail share of all recommended slots: `Σ_u |L_u ∩ tail| / Σ_u |L_u|`.
//!
//! Empty lists are left out of the averages (Abdollahpouri et al., 2019).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::{Error, Result};

/// Re-ranks `relevance` (one score per candidate) by MMR and returns the indices of the `k`
/// picks (fewer when there are fewer candidates), in pick order.
///
/// `similarity(a, b)` gives the similarity of candidates `a` and `b` (indices into
/// `relevance`).
///
/// # Errors
///
/// [`Error::Config`] when `lambda` is not in [0, 1]; [`Error::Input`] when a relevance or a
/// similarity is not finite.
pub fn mmr<F>(relevance: &[f64], k: usize, lambda: f64, similarity: F) -> Result<Vec<usize>>
where
    F: Fn(usize, usize) -> f64,
{
    if !(0.0..=1.0).contains(&lambda) {
        return Err(Error::Config(format!(
            "MMR lambda {lambda} is not in [0, 1]; 1 keeps the relevance order, 0 only \
             diversifies"
        )));
    }
    if let Some((i, r)) = relevance.iter().enumerate().find(|(_, r)| !r.is_finite()) {
        return Err(Error::Input(format!(
            "relevance of candidate {i} is {r}; give every candidate a finite score"
        )));
    }
    let n = relevance.len();
    let mut picked: Vec<usize> = Vec::with_capacity(k.min(n));
    // max similarity of each candidate to the picks so far
    let mut max_sim = vec![0.0f64; n];
    let mut taken = vec![false; n];
    while picked.len() < k.min(n) {
        let mut best: Option<(usize, f64)> = None;
        for (c, &rel) in relevance.iter().enumerate() {
            if taken.get(c).copied().unwrap_or(true) {
                continue;
            }
            let penalty = if picked.is_empty() {
                0.0
            } else {
                max_sim.get(c).copied().unwrap_or(0.0)
            };
            let value = lambda * rel - (1.0 - lambda) * penalty;
            if best.is_none_or(|(_, v)| value > v) {
                best = Some((c, value));
            }
        }
        let Some((choice, _)) = best else {
            break;
        };
        picked.push(choice);
        if let Some(t) = taken.get_mut(choice) {
            *t = true;
        }
        for c in 0..n {
            if taken.get(c).copied().unwrap_or(true) {
                continue;
            }
            let s = similarity(c, choice);
            if !s.is_finite() {
                return Err(Error::Input(format!(
                    "similarity of candidates {c} and {choice} is {s}; the similarity must be \
                     a finite number"
                )));
            }
            if let Some(m) = max_sim.get_mut(c)
                && (picked.len() == 1 || s > *m)
            {
                *m = s;
            }
        }
    }
    Ok(picked)
}

/// Min-max scaling to [0, 1]: the best score becomes 1 and the worst 0, so that a model's
/// scores, whatever their range, weigh against a similarity in [`mmr`]. All-equal scores all
/// become 1; non-finite scores are left for [`mmr`] to refuse.
pub fn unit_scale(scores: &[f64]) -> Vec<f64> {
    let finite = scores.iter().copied().filter(|s| s.is_finite());
    let low = finite.clone().fold(f64::INFINITY, f64::min);
    let high = finite.fold(f64::NEG_INFINITY, f64::max);
    let span = high - low;
    scores
        .iter()
        .map(|&s| {
            if !s.is_finite() {
                s
            } else if span > 0.0 {
                (s - low) / span
            } else {
                1.0
            }
        })
        .collect()
}

/// Popularity-bias measures of a set of recommendation lists (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopularityBias {
    /// Lists that held at least one item.
    pub lists: usize,
    /// Average recommendation popularity.
    pub arp: f64,
    /// Average per-list share of long-tail items.
    pub aplt: f64,
    /// Share of long-tail items over all recommended slots.
    pub long_tail_slots: f64,
    /// The number of short-head items.
    pub head_items: usize,
}

/// Measures the popularity bias of `lists` over `catalogue`, `popularity` giving each item's
/// training interactions (items absent count 0) and `head_fraction` the share of the
/// catalogue that is the short head (0.2 usually).
///
/// # Errors
///
/// [`Error::Config`] when the catalogue is empty or `head_fraction` is not in [0, 1];
/// [`Error::Input`] when a list holds an item outside the catalogue or every list is empty.
pub fn popularity_bias(
    lists: &[Vec<u64>],
    popularity: &BTreeMap<u64, u64>,
    catalogue: &[u64],
    head_fraction: f64,
) -> Result<PopularityBias> {
    if catalogue.is_empty() {
        return Err(Error::Config(
            "the catalogue must hold at least one item".into(),
        ));
    }
    if !(0.0..=1.0).contains(&head_fraction) {
        return Err(Error::Config(format!(
            "head fraction {head_fraction} is not in [0, 1]; use e.g. 0.2"
        )));
    }
    let pop = |i: &u64| popularity.get(i).copied().unwrap_or(0);
    let mut ranked: Vec<u64> = catalogue.to_vec();
    ranked.sort_unstable();
    ranked.dedup();
    ranked.sort_by(|a, b| pop(b).cmp(&pop(a)).then(a.cmp(b)));
    let head_items = ((head_fraction * ranked.len() as f64).ceil() as usize).min(ranked.len());
    let head: BTreeSet<u64> = ranked.iter().take(head_items).copied().collect();
    let known: BTreeSet<u64> = ranked.iter().copied().collect();
    let (mut arp, mut aplt, mut n_lists, mut tail_slots, mut slots) = (0.0, 0.0, 0usize, 0, 0);
    for list in lists.iter().filter(|l| !l.is_empty()) {
        if let Some(bad) = list.iter().find(|i| !known.contains(i)) {
            return Err(Error::Input(format!(
                "item {bad} is recommended but is not in the catalogue; pass the full catalogue"
            )));
        }
        let total: u64 = list.iter().map(pop).sum();
        let tail = list.iter().filter(|i| !head.contains(i)).count();
        arp += total as f64 / list.len() as f64;
        aplt += tail as f64 / list.len() as f64;
        tail_slots += tail;
        slots += list.len();
        n_lists += 1;
    }
    if n_lists == 0 {
        return Err(Error::Input(
            "every list is empty; popularity bias needs at least one recommended item".into(),
        ));
    }
    Ok(PopularityBias {
        lists: n_lists,
        arp: arp / n_lists as f64,
        aplt: aplt / n_lists as f64,
        long_tail_slots: tail_slots as f64 / slots as f64,
        head_items,
    })
}

/// Sorts candidate indices by relevance, best first, ties by index: what [`mmr`] gives at
/// `λ = 1`.
pub fn relevance_order(relevance: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..relevance.len()).collect();
    order.sort_by(|&a, &b| {
        relevance
            .get(b)
            .partial_cmp(&relevance.get(a))
            .unwrap_or(Ordering::Equal)
            .then(a.cmp(&b))
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    // Candidates A, B, C, D with relevance 1.0, 0.9, 0.5, 0.4 and similarities
    // AB 0.9, AC 0.1, AD 0.2, BC 0.2, BD 0.1, CD 0.8.
    const REL: [f64; 4] = [1.0, 0.9, 0.5, 0.4];
    const SIM: [[f64; 4]; 4] = [
        [1.0, 0.9, 0.1, 0.2],
        [0.9, 1.0, 0.2, 0.1],
        [0.1, 0.2, 1.0, 0.8],
        [0.2, 0.1, 0.8, 1.0],
    ];

    fn sim(a: usize, b: usize) -> f64 {
        SIM[a][b]
    }

    #[test]
    fn mmr_by_hand_at_half() {
        // λ = 0.5. Step 1 (no pick, no penalty): 0.5·rel = A 0.50, B 0.45, C 0.25, D 0.20 → A.
        // Step 2: B 0.45 − 0.5·0.9 = 0.00, C 0.25 − 0.5·0.1 = 0.20, D 0.20 − 0.5·0.2 = 0.10
        //   → C.
        // Step 3: B 0.45 − 0.5·max(0.9, 0.2) = 0.00, D 0.20 − 0.5·max(0.2, 0.8) = −0.20 → B.
        // Step 4: D.
        assert_eq!(mmr(&REL, 4, 0.5, sim).unwrap(), vec![0, 2, 1, 3]);
        assert_eq!(mmr(&REL, 2, 0.5, sim).unwrap(), vec![0, 2]);
    }

    #[test]
    fn mmr_at_one_is_the_relevance_order() {
        assert_eq!(mmr(&REL, 4, 1.0, sim).unwrap(), vec![0, 1, 2, 3]);
        let rel = [0.2, 0.9, 0.2, 0.5];
        assert_eq!(mmr(&rel, 9, 1.0, sim).unwrap(), relevance_order(&rel));
        assert_eq!(relevance_order(&rel), vec![1, 3, 0, 2]);
        // λ = 0: after A, the least similar to the picks: C (0.1), then D (max 0.8 vs B 0.9)
        // → B vs D: D max(0.2, 0.8) = 0.8 < B max(0.9, 0.2) = 0.9 → D, then B.
        assert_eq!(mmr(&REL, 4, 0.0, sim).unwrap(), vec![0, 2, 3, 1]);
    }

    #[test]
    fn unit_scale_by_hand() {
        assert_eq!(unit_scale(&[3.0, -1.0, 1.0]), [1.0, 0.0, 0.5]);
        assert_eq!(unit_scale(&[2.0, 2.0]), [1.0, 1.0]);
        assert!(unit_scale(&[]).is_empty());
        let with_nan = unit_scale(&[f64::NAN, 4.0, 0.0]);
        assert!(with_nan[0].is_nan());
        assert_eq!(&with_nan[1..], [1.0, 0.0]);
    }

    #[test]
    fn mmr_refuses_bad_values() {
        assert!(matches!(mmr(&REL, 2, 1.5, sim), Err(Error::Config(_))));
        assert!(matches!(mmr(&REL, 2, -0.1, sim), Err(Error::Config(_))));
        assert!(matches!(mmr(&REL, 2, f64::NAN, sim), Err(Error::Config(_))));
        assert!(matches!(
            mmr(&[1.0, f64::NAN], 2, 0.5, sim),
            Err(Error::Input(_))
        ));
        assert!(matches!(
            mmr(&REL, 2, 0.5, |_, _| f64::NAN),
            Err(Error::Input(_))
        ));
        assert!(mmr(&[], 3, 0.5, sim).unwrap().is_empty());
    }

    #[test]
    fn popularity_bias_by_hand() {
        // Items 1..=10 with 10, 9, …, 1 interactions; head = ceil(0.2 · 10) = 2 items: {1, 2}.
        let popularity: BTreeMap<u64, u64> = (1..=10).map(|i| (i, 11 - i)).collect();
        let catalogue: Vec<u64> = (1..=10).collect();
        let lists = vec![vec![1, 3], vec![2, 4, 5], vec![]];
        let b = popularity_bias(&lists, &popularity, &catalogue, 0.2).unwrap();
        // ARP: list 1 (10 + 8)/2 = 9, list 2 (9 + 7 + 6)/3 = 22/3; mean (9 + 22/3)/2 = 49/6.
        assert!((b.arp - 49.0 / 6.0).abs() < 1e-12, "{}", b.arp);
        // APLT: list 1 has 1 tail item of 2, list 2 has 2 of 3: (1/2 + 2/3)/2 = 7/12.
        assert!((b.aplt - 7.0 / 12.0).abs() < 1e-12);
        // Slots: 3 tail of 5 = 0.6.
        assert!((b.long_tail_slots - 0.6).abs() < 1e-12);
        assert_eq!((b.lists, b.head_items), (2, 2));
    }

    #[test]
    fn popularity_bias_refuses_bad_values() {
        let popularity: BTreeMap<u64, u64> = [(1, 3), (2, 1)].into_iter().collect();
        let err = popularity_bias(&[vec![7]], &popularity, &[1, 2], 0.2).unwrap_err();
        assert!(err.to_string().contains("item 7"));
        assert!(popularity_bias(&[vec![]], &popularity, &[1, 2], 0.2).is_err());
        assert!(popularity_bias(&[vec![1]], &popularity, &[], 0.2).is_err());
        assert!(popularity_bias(&[vec![1]], &popularity, &[1, 2], 2.0).is_err());
    }
}
