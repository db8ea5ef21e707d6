//! Train/test splits of interactions.
//!
//! Both splits return a [`Split`] whose `test` shares the id tables of `train`
//! ([`Interactions::with_tables_of`]): an index means the same user or item on both sides, and
//! ids seen only in test get indices after the training ones. Both splits prove with
//! [`check_no_overlap`] that no (user, item) pair lies on both sides.
//!
//! # Temporal split ([`temporal_split`])
//!
//! Events strictly before the cut-off time go to train, events at or after it to test. Test is
//! then restricted to what a model trained on train can be judged on:
//!
//! 1. events of users absent from train are dropped (counted in
//!    [`SplitReport::test_dropped_unknown_user`]);
//! 2. then events of items absent from train (counted in
//!    [`SplitReport::test_dropped_unknown_item`]);
//! 3. then events of pairs already in train (counted in
//!    [`SplitReport::test_dropped_seen_pair`]): the test judges the discovery of new items.
//!
//! Each side aggregates its own events (weights summed, latest time kept).
//!
//! # Stratified split ([`stratified_split`])
//!
//! The `python_stratified_split` protocol of Microsoft Recommenders (`filter_by="user"`), used
//! by its MovieLens 100K benchmark with `ratio = 0.75` and `seed = 42`. It splits the
//! **deduplicated** pairs of an [`Interactions`] (one cell per pair; a cell goes whole to one
//! side). For each user with `n` pairs:
//!
//! 1. the pairs are sorted by item id and shuffled by a [`SplitMix64`] seeded with
//!    `seed XOR fnv1a(user id)`, so a user's split does not depend on the other users nor on the
//!    input order;
//! 2. the first `round(ratio · n)` go to train and the rest to test, where `round` rounds half
//!    to even as Python's `round` does (`n = 2`: 1.5 → 2; `n = 6`: 4.5 → 4; `n = 10`: 7.5 → 8),
//!    and at least one pair stays in train, so a user with 1 interaction goes to train.
//!
//! The per-user counts are exactly those of Microsoft Recommenders for any `ratio ≥ 0.5`; which
//! pairs land in test differs, since numpy's generator is not reproduced.

use serde::Serialize;

use super::SplitMix64;
use super::dataset::{Cell, Interactions};
use super::fnv1a;
use crate::error::{Error, Result};
use crate::rec_metrics::check_no_overlap;

/// A train/test split; `test` shares the id tables of `train`.
#[derive(Debug, Clone)]
pub struct Split {
    /// The training interactions.
    pub train: Interactions,
    /// The test interactions, indexed with the tables of `train`.
    pub test: Interactions,
    /// What went where.
    pub report: SplitReport,
}

/// Counts of a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SplitReport {
    /// (user, item) pairs in train.
    pub train_pairs: usize,
    /// (user, item) pairs in test.
    pub test_pairs: usize,
    /// Test events dropped because their user has no training event (temporal split only).
    pub test_dropped_unknown_user: usize,
    /// Test events dropped because their item has no training event (temporal split only).
    pub test_dropped_unknown_item: usize,
    /// Test events dropped because their pair is already in train (temporal split only).
    pub test_dropped_seen_pair: usize,
}

fn prove_no_overlap(train: &Interactions, test: &Interactions) -> Result<()> {
    check_no_overlap(&train.index_pairs(), &test.index_pairs())
}

/// Splits events by time: before `cutoff` to train, at or after it to test, with test
/// restricted to users, items and new pairs of train (see the [module docs](self)).
///
/// # Errors
///
/// [`Error::Input`] for a bad event (empty id, negative or non-finite weight) or when no event
/// lies before the cut-off.
pub fn temporal_split<U: AsRef<str>, I: AsRef<str>>(
    events: &[(U, I, f64, i64)],
    cutoff: i64,
) -> Result<Split> {
    let mut train = Interactions::new();
    for (n, (user, item, weight, ts)) in events.iter().enumerate() {
        if *ts < cutoff {
            train
                .record(user.as_ref(), item.as_ref(), *weight, *ts)
                .map_err(|e| Error::Input(format!("event {n}: {e}")))?;
        }
    }
    if train.n_pairs() == 0 {
        return Err(Error::Input(format!(
            "no event lies before the cut-off {cutoff}, so train would be empty; choose a later \
             cut-off"
        )));
    }
    let mut test = Interactions::with_tables_of(&train);
    let mut report = SplitReport::default();
    for (n, (user, item, weight, ts)) in events.iter().enumerate() {
        if *ts < cutoff {
            continue;
        }
        let (user, item) = (user.as_ref(), item.as_ref());
        let Some(u) = train.user_index(user).filter(|&u| train.n_items_of(u) > 0) else {
            report.test_dropped_unknown_user += 1;
            continue;
        };
        let Some(i) = train.item_index(item) else {
            report.test_dropped_unknown_item += 1;
            continue;
        };
        if train.get(u, i).is_some() {
            report.test_dropped_seen_pair += 1;
            continue;
        }
        test.record(user, item, *weight, *ts)
            .map_err(|e| Error::Input(format!("event {n}: {e}")))?;
    }
    prove_no_overlap(&train, &test)?;
    report.train_pairs = train.n_pairs();
    report.test_pairs = test.n_pairs();
    Ok(Split {
        train,
        test,
        report,
    })
}

/// The number of a user's `n` pairs that go to train: `round(ratio · n)` rounding half to
/// even, at least 1 when `n ≥ 1`, at most `n`.
pub fn stratified_train_count(n: usize, ratio: f64) -> usize {
    if n == 0 {
        return 0;
    }
    let rounded = (ratio * n as f64).round_ties_even();
    (rounded as usize).clamp(1, n)
}

/// The per-user stratified split of Microsoft Recommenders (see the [module docs](self)).
///
/// # Errors
///
/// [`Error::Config`] when `ratio` is not strictly between 0 and 1; [`Error::Input`] when `data`
/// holds no interaction.
pub fn stratified_split(data: &Interactions, ratio: f64, seed: u64) -> Result<Split> {
    if !(ratio > 0.0 && ratio < 1.0) {
        return Err(Error::Config(format!(
            "train ratio {ratio} is not strictly between 0 and 1; use e.g. 0.75"
        )));
    }
    if data.n_pairs() == 0 {
        return Err(Error::Input(
            "there are no interactions to split; load the data first".into(),
        ));
    }
    // (user id, item id, cell, goes to train)
    let mut assigned: Vec<(&str, &str, Cell, bool)> = Vec::with_capacity(data.n_pairs());
    for (u, user) in data.user_ids().iter().enumerate() {
        let mut pairs: Vec<(&str, Cell)> = data
            .items_of(u as u32)
            .filter_map(|(i, c)| data.item_id(i).map(|id| (id, *c)))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        SplitMix64::new(seed ^ fnv1a(user)).shuffle(&mut pairs);
        let n_train = stratified_train_count(pairs.len(), ratio);
        for (k, (item, cell)) in pairs.into_iter().enumerate() {
            assigned.push((user, item, cell, k < n_train));
        }
    }
    let mut train = Interactions::new();
    for &(user, item, cell, _) in assigned.iter().filter(|a| a.3) {
        let u = train.add_user(user)?;
        let i = train.add_item(item)?;
        train.merge_cell(u, i, cell);
    }
    let mut test = Interactions::with_tables_of(&train);
    for &(user, item, cell, _) in assigned.iter().filter(|a| !a.3) {
        let u = test.add_user(user)?;
        let i = test.add_item(item)?;
        test.merge_cell(u, i, cell);
    }
    prove_no_overlap(&train, &test)?;
    let report = SplitReport {
        train_pairs: train.n_pairs(),
        test_pairs: test.n_pairs(),
        ..SplitReport::default()
    };
    Ok(Split {
        train,
        test,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporal_split_by_hand() {
        let events = [
            ("u1", "a", 1.0, 10),
            ("u1", "b", 1.0, 20),
            ("u2", "a", 1.0, 30),
            // cut-off 100: the rest is test-side
            ("u1", "c", 1.0, 100), // u1 known, c unknown → dropped item
            ("u1", "a", 1.0, 110), // (u1, a) already in train → dropped pair
            ("u2", "b", 1.0, 120), // kept
            ("u2", "b", 2.0, 130), // kept, aggregated with the previous: weight 3
            ("u3", "a", 1.0, 140), // u3 unknown → dropped user
        ];
        let s = temporal_split(&events, 100).unwrap();
        assert_eq!(
            s.report,
            SplitReport {
                train_pairs: 3,
                test_pairs: 1,
                test_dropped_unknown_user: 1,
                test_dropped_unknown_item: 1,
                test_dropped_seen_pair: 1,
            }
        );
        let (u2, b) = (
            s.train.user_index("u2").unwrap(),
            s.train.item_index("b").unwrap(),
        );
        assert_eq!(s.test.user_index("u2"), Some(u2));
        let cell = s.test.get(u2, b).unwrap();
        assert_eq!(
            (cell.weight, cell.count, cell.last_timestamp),
            (3.0, 2, 130)
        );
        assert!(check_no_overlap(&s.train.index_pairs(), &s.test.index_pairs()).is_ok());
        assert!(temporal_split(&events, 0).is_err());
    }

    #[test]
    fn python_rounding_of_the_train_count() {
        // round(0.75 n), half to even: 1 → 0.75 → 1; 2 → 1.5 → 2; 3 → 2.25 → 2; 4 → 3;
        // 6 → 4.5 → 4; 10 → 7.5 → 8; 14 → 10.5 → 10; 20 → 15.
        let got: Vec<usize> = [0, 1, 2, 3, 4, 6, 10, 14, 20]
            .iter()
            .map(|&n| stratified_train_count(n, 0.75))
            .collect();
        assert_eq!(got, vec![0, 1, 2, 2, 3, 4, 8, 10, 15]);
        // A single interaction stays in train even where Python would round 0.3 to 0.
        assert_eq!(stratified_train_count(1, 0.3), 1);
    }

    #[test]
    fn stratified_split_counts_dedup_and_no_overlap() {
        let mut events: Vec<(String, String, f64, i64)> = Vec::new();
        // u1: 10 distinct items, one of them viewed twice (dedup first: 10 pairs → 8 / 2).
        for i in 0..10 {
            events.push(("u1".into(), format!("i{i}"), 1.0, i));
        }
        events.push(("u1".into(), "i3".into(), 1.0, 99));
        // u2: 6 items → 4 / 2; u3: 1 item → 1 / 0.
        for i in 0..6 {
            events.push(("u2".into(), format!("i{i}"), 1.0, i));
        }
        events.push(("u3".into(), "i7".into(), 1.0, 0));
        let data = Interactions::from_records(&events).unwrap();
        let s = stratified_split(&data, 0.75, 42).unwrap();
        let count =
            |d: &Interactions, user: &str| d.user_index(user).map_or(0, |u| d.n_items_of(u));
        assert_eq!((count(&s.train, "u1"), count(&s.test, "u1")), (8, 2));
        assert_eq!((count(&s.train, "u2"), count(&s.test, "u2")), (4, 2));
        assert_eq!((count(&s.train, "u3"), count(&s.test, "u3")), (1, 0));
        assert_eq!(s.report.train_pairs + s.report.test_pairs, data.n_pairs());
        assert_eq!(data.n_pairs(), 17);
        assert!(check_no_overlap(&s.train.index_pairs(), &s.test.index_pairs()).is_ok());
        // The aggregated cell of (u1, i3) moved whole: weight 2 on whichever side.
        let side = if s.train.item_index("i3").is_some_and(|i| {
            s.train
                .get(s.train.user_index("u1").unwrap_or(0), i)
                .is_some()
        }) {
            &s.train
        } else {
            &s.test
        };
        let (u1, i3) = (
            side.user_index("u1").unwrap(),
            side.item_index("i3").unwrap(),
        );
        assert_eq!(side.get(u1, i3).unwrap().weight, 2.0);
        // Same seed, same split; the input order does not matter.
        let mut reversed = events.clone();
        reversed.reverse();
        let again =
            stratified_split(&Interactions::from_records(&reversed).unwrap(), 0.75, 42).unwrap();
        let ids = |d: &Interactions| {
            let mut v: Vec<(String, String)> = d
                .pairs()
                .map(|(u, i, _)| {
                    (
                        d.user_id(u).unwrap().to_owned(),
                        d.item_id(i).unwrap().to_owned(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(ids(&s.test), ids(&again.test));
        let other = stratified_split(&data, 0.75, 7).unwrap();
        assert_eq!(other.report, s.report);
    }

    #[test]
    fn stratified_split_refuses_bad_settings() {
        let data = Interactions::from_records(&[("u", "i", 1.0, 0)]).unwrap();
        assert!(matches!(
            stratified_split(&data, 1.0, 0),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            stratified_split(&data, f64::NAN, 0),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            stratified_split(&Interactions::new(), 0.75, 0),
            Err(Error::Input(_))
        ));
    }
}
