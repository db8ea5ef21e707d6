//! Non-neural recommenders behind one [`Recommender`] trait.
//!
//! - [`Popularity`]: items ranked by the number of distinct training users who interacted
//!   with them, ties broken by item id in string order (so `"i10"` comes before `"i2"`). Items
//!   with no training interaction are never recommended: there is nothing to say for them. Its
//!   lists are never personalised ([`Source::Popularity`]).
//! - [`ItemKnn`]: item-to-item "bought together". Each item is a binary vector over users; the
//!   similarity of items `a` and `b` is the cosine `|U_a ∩ U_b| / sqrt(|U_a| · |U_b|)`, where
//!   `U_x` is the set of training users of `x`. Each item keeps its top `M` neighbours
//!   (similarity above 0, ties by item id). A user's score for item `j` is the sum, over the
//!   user's training items `i` that have `j` among their neighbours, of `sim(i, j)`. Users
//!   with no training interaction get the popularity list, flagged [`Source::Popularity`].
//!
//! Every list names why each item is there ([`Reason`]): "bought together with X", X being the
//! user's item with the strongest similarity to it, or "popular overall".

use std::cmp::Ordering;

use serde::Serialize;

use super::dataset::Interactions;
use crate::error::{Error, Result};

/// Where a list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Source {
    /// Computed from the user's own history.
    Personalised,
    /// The non-personalised popularity list (a popularity model, or the fallback of a
    /// personalised model for a user without history).
    Popularity,
}

/// Why an item is recommended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Reason {
    /// Similar to an item the user had: the one with the strongest similarity.
    BoughtTogetherWith {
        /// The user's item.
        item: String,
        /// Its cosine similarity to the recommended item.
        similarity: f64,
    },
    /// Close, in a learned model's item space, to an item the user had: the closest one.
    BecauseYouHad {
        /// The user's item.
        item: String,
        /// The cosine of the two items' vectors.
        similarity: f64,
    },
    /// Among the items with the most training users.
    PopularOverall {
        /// The number of distinct training users of the item.
        users: u64,
    },
    /// Ranked by a model that gives no reason of its own, such as a list made by another
    /// library and scored here.
    RankedByModel,
}

impl Reason {
    /// The explanation shown to the shopper, e.g. `bought together with X` or `popular overall`.
    pub fn explanation(&self) -> String {
        match self {
            Self::BoughtTogetherWith { item, .. } => format!("bought together with {item}"),
            Self::BecauseYouHad { item, .. } => format!("because you bought {item}"),
            Self::PopularOverall { .. } => "popular overall".to_owned(),
            Self::RankedByModel => "recommended for you".to_owned(),
        }
    }
}

/// One recommended item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommended {
    /// The item id, always one of the training catalogue.
    pub item: String,
    /// The model's score, higher is better: the number of training users for popularity, the
    /// summed similarity for item-kNN, and 0 for popularity items that fill up a personalised
    /// list.
    pub score: f64,
    /// Why it is there.
    pub reason: Reason,
}

impl Recommended {
    /// The explanation shown to the shopper ([`Reason::explanation`]).
    pub fn explanation(&self) -> String {
        self.reason.explanation()
    }
}

/// A top-K list for one user, best first, without repeats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendations {
    /// The user asked for.
    pub user: String,
    /// Personalised, or the non-personalised popularity list.
    pub source: Source,
    /// The items, best first; fewer than K when the catalogue runs out.
    pub items: Vec<Recommended>,
}

impl Recommendations {
    /// Whether the list is computed from the user's history.
    pub fn personalised(&self) -> bool {
        self.source == Source::Personalised
    }

    /// The recommended item ids, best first.
    pub fn item_ids(&self) -> Vec<&str> {
        self.items.iter().map(|r| r.item.as_str()).collect()
    }
}

/// A top-K recommender.
pub trait Recommender {
    /// A short name for reports, e.g. `popularity`.
    fn name(&self) -> String;

    /// The top `k` items for `user` (any id: unknown users get a fallback), leaving out the
    /// user's training items when `exclude_seen` is set.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `k` is 0.
    fn recommend(&self, user: &str, k: usize, exclude_seen: bool) -> Result<Recommendations>;
}

pub(crate) fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        return Err(Error::Config(
            "k must be at least 1 to recommend anything".into(),
        ));
    }
    Ok(())
}

/// The popularity baseline (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Popularity {
    data: Interactions,
    /// Items with at least one training user: (item index, users), best first.
    ranked: Vec<(u32, u64)>,
}

impl Popularity {
    /// Counts the training users of every item.
    pub fn fit(train: &Interactions) -> Self {
        Self::from_counts(train, &train.item_user_counts())
    }

    /// Ranks the items of `train` by given user counts, one per item in index order (a
    /// missing count is 0): how a shipped model, which keeps no users, rebuilds its list.
    pub fn from_counts(train: &Interactions, counts: &[u64]) -> Self {
        let mut ranked: Vec<(u32, u64)> = counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(i, &c)| (i as u32, c))
            .collect();
        ranked.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| train.item_id(a.0).cmp(&train.item_id(b.0)))
        });
        Self {
            data: train.clone(),
            ranked,
        }
    }

    /// The training data the model was fitted on.
    pub fn data(&self) -> &Interactions {
        &self.data
    }

    /// The number of distinct training users of each item with at least one, best first.
    pub fn ranking(&self) -> Vec<(&str, u64)> {
        self.ranked
            .iter()
            .filter_map(|&(i, c)| self.data.item_id(i).map(|id| (id, c)))
            .collect()
    }

    /// Popular items not in `skip` (item indices), at most `k`, with the given score.
    pub(crate) fn top(
        &self,
        k: usize,
        skip: &dyn Fn(u32) -> bool,
        score: Option<f64>,
    ) -> Vec<Recommended> {
        self.ranked
            .iter()
            .filter(|&&(i, _)| !skip(i))
            .filter_map(|&(i, users)| {
                self.data.item_id(i).map(|id| Recommended {
                    item: id.to_owned(),
                    score: score.unwrap_or(users as f64),
                    reason: Reason::PopularOverall { users },
                })
            })
            .take(k)
            .collect()
    }

    /// The item indices of a user's training history (empty for an unknown user).
    fn seen(&self, user: &str) -> Vec<bool> {
        let mut seen = vec![false; self.data.n_items()];
        if let Some(u) = self.data.user_index(user) {
            for (i, _) in self.data.items_of(u) {
                if let Some(s) = seen.get_mut(i as usize) {
                    *s = true;
                }
            }
        }
        seen
    }
}

impl Recommender for Popularity {
    fn name(&self) -> String {
        "popularity".to_owned()
    }

    fn recommend(&self, user: &str, k: usize, exclude_seen: bool) -> Result<Recommendations> {
        check_k(k)?;
        let seen = if exclude_seen {
            self.seen(user)
        } else {
            Vec::new()
        };
        let skip = |i: u32| seen.get(i as usize).copied().unwrap_or(false);
        Ok(Recommendations {
            user: user.to_owned(),
            source: Source::Popularity,
            items: self.top(k, &skip, None),
        })
    }
}

/// The settings of [`ItemKnn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ItemKnnConfig {
    /// `M`: the neighbours kept per item (at least 1).
    pub neighbours: usize,
    /// Fill a personalised list that has fewer than K items with popular items (reason
    /// "popular overall", score 0).
    pub fill_with_popular: bool,
}

impl Default for ItemKnnConfig {
    /// 50 neighbours, filling short lists with popular items.
    fn default() -> Self {
        Self {
            neighbours: 50,
            fill_with_popular: true,
        }
    }
}

/// The item-kNN co-purchase recommender (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct ItemKnn {
    config: ItemKnnConfig,
    popularity: Popularity,
    /// Training users of each item, sorted.
    item_users: Vec<Vec<u32>>,
    /// Top-M neighbours of each item: (item index, cosine), best first.
    neighbours: Vec<Vec<(u32, f64)>>,
}

impl ItemKnn {
    /// Computes the item–item cosine similarities and keeps the top `M` per item.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `config.neighbours` is 0.
    pub fn fit(train: &Interactions, config: ItemKnnConfig) -> Result<Self> {
        if config.neighbours == 0 {
            return Err(Error::Config(
                "item-kNN needs at least 1 neighbour per item; use e.g. 50".into(),
            ));
        }
        let n_items = train.n_items();
        let mut item_users: Vec<Vec<u32>> = vec![Vec::new(); n_items];
        let mut user_items: Vec<Vec<u32>> = vec![Vec::new(); train.n_users()];
        for (u, i, _) in train.pairs() {
            if let Some(v) = item_users.get_mut(i as usize) {
                v.push(u);
            }
            if let Some(v) = user_items.get_mut(u as usize) {
                v.push(i);
            }
        }
        let degree = |i: u32| item_users.get(i as usize).map_or(0, Vec::len) as f64;
        let id = |i: u32| train.item_id(i).unwrap_or("");
        let mut co = vec![0u32; n_items];
        let mut touched: Vec<u32> = Vec::new();
        let mut neighbours = Vec::with_capacity(n_items);
        for (a, users) in item_users.iter().enumerate() {
            let a = a as u32;
            for &u in users {
                for &b in user_items.get(u as usize).map_or(&[][..], Vec::as_slice) {
                    if b == a {
                        continue;
                    }
                    if let Some(c) = co.get_mut(b as usize) {
                        if *c == 0 {
                            touched.push(b);
                        }
                        *c += 1;
                    }
                }
            }
            let mut row: Vec<(u32, f64)> = touched
                .iter()
                .map(|&b| {
                    let shared = f64::from(co.get(b as usize).copied().unwrap_or(0));
                    (b, shared / (degree(a) * degree(b)).sqrt())
                })
                .collect();
            for &b in &touched {
                if let Some(c) = co.get_mut(b as usize) {
                    *c = 0;
                }
            }
            touched.clear();
            row.sort_by(|x, y| {
                y.1.partial_cmp(&x.1)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| id(x.0).cmp(id(y.0)))
            });
            row.truncate(config.neighbours);
            neighbours.push(row);
        }
        Ok(Self {
            config,
            popularity: Popularity::fit(train),
            item_users,
            neighbours,
        })
    }

    /// The kept neighbours of an item with their cosine, best first; empty for an unknown item.
    pub fn neighbours(&self, item: &str) -> Vec<(&str, f64)> {
        let data = self.popularity.data();
        data.item_index(item)
            .and_then(|i| self.neighbours.get(i as usize))
            .map(|row| {
                row.iter()
                    .filter_map(|&(j, s)| data.item_id(j).map(|id| (id, s)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The cosine similarity of two items over their training users, whether or not they are
    /// kept neighbours; 0 when either is unknown or has no user. Usable by
    /// [`super::rerank::mmr`].
    pub fn similarity(&self, a: &str, b: &str) -> f64 {
        let data = self.popularity.data();
        let users = |x: &str| {
            data.item_index(x)
                .and_then(|i| self.item_users.get(i as usize))
                .map_or(&[][..], Vec::as_slice)
        };
        let (ua, ub) = (users(a), users(b));
        if ua.is_empty() || ub.is_empty() {
            return 0.0;
        }
        let (mut x, mut y, mut shared) = (0, 0, 0usize);
        while let (Some(p), Some(q)) = (ua.get(x), ub.get(y)) {
            match p.cmp(q) {
                Ordering::Less => x += 1,
                Ordering::Greater => y += 1,
                Ordering::Equal => {
                    shared += 1;
                    x += 1;
                    y += 1;
                }
            }
        }
        shared as f64 / ((ua.len() * ub.len()) as f64).sqrt()
    }
}

impl Recommender for ItemKnn {
    fn name(&self) -> String {
        format!("item-kNN (M = {})", self.config.neighbours)
    }

    fn recommend(&self, user: &str, k: usize, exclude_seen: bool) -> Result<Recommendations> {
        check_k(k)?;
        let data = self.popularity.data();
        let history: Vec<u32> = data
            .user_index(user)
            .map(|u| data.items_of(u).map(|(i, _)| i).collect())
            .unwrap_or_default();
        if history.is_empty() {
            return self.popularity.recommend(user, k, exclude_seen);
        }
        let id = |i: u32| data.item_id(i).unwrap_or("");
        let mut seen = vec![false; data.n_items()];
        for &i in &history {
            if let Some(s) = seen.get_mut(i as usize) {
                *s = true;
            }
        }
        let is_seen = |i: u32| seen.get(i as usize).copied().unwrap_or(false);
        // score and strongest (similarity, user's item) per candidate
        let mut score = vec![0.0f64; data.n_items()];
        let mut best: Vec<Option<(f64, u32)>> = vec![None; data.n_items()];
        let mut candidates: Vec<u32> = Vec::new();
        for &i in &history {
            for &(j, s) in self
                .neighbours
                .get(i as usize)
                .map_or(&[][..], Vec::as_slice)
            {
                if exclude_seen && is_seen(j) {
                    continue;
                }
                let (Some(total), Some(strongest)) =
                    (score.get_mut(j as usize), best.get_mut(j as usize))
                else {
                    continue;
                };
                match strongest {
                    None => {
                        candidates.push(j);
                        *strongest = Some((s, i));
                    }
                    Some((bs, bi)) => {
                        if s > *bs || (s == *bs && id(i) < id(*bi)) {
                            *strongest = Some((s, i));
                        }
                    }
                }
                *total += s;
            }
        }
        let at = |v: &Vec<f64>, j: u32| v.get(j as usize).copied().unwrap_or(0.0);
        candidates.sort_by(|&a, &b| {
            at(&score, b)
                .partial_cmp(&at(&score, a))
                .unwrap_or(Ordering::Equal)
                .then_with(|| id(a).cmp(id(b)))
        });
        let mut items: Vec<Recommended> = candidates
            .iter()
            .take(k)
            .filter_map(|&j| {
                let (similarity, from) = best.get(j as usize).copied().flatten()?;
                Some(Recommended {
                    item: id(j).to_owned(),
                    score: at(&score, j),
                    reason: Reason::BoughtTogetherWith {
                        item: id(from).to_owned(),
                        similarity,
                    },
                })
            })
            .collect();
        if self.config.fill_with_popular && items.len() < k {
            let chosen: Vec<u32> = candidates.iter().take(k).copied().collect();
            let skip = |i: u32| (exclude_seen && is_seen(i)) || chosen.contains(&i);
            let fill = self.popularity.top(k - items.len(), &skip, Some(0.0));
            items.extend(fill);
        }
        Ok(Recommendations {
            user: user.to_owned(),
            source: Source::Personalised,
            items,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Purchase counts i1: 5, i2: 3, i3: 3, i4: 1, i5: 0, i6: 0, with a known user without
    /// events.
    fn rec_02_data() -> Interactions {
        let baskets: [(&str, &[&str]); 5] = [
            ("b1", &["i1", "i2", "i3", "i4"]),
            ("b2", &["i1", "i2", "i3"]),
            ("b3", &["i1", "i2"]),
            ("b4", &["i1", "i3"]),
            ("b5", &["i1"]),
        ];
        let mut data = Interactions::new();
        for (user, items) in baskets {
            for item in items {
                data.record(user, item, 1.0, 0).unwrap();
            }
        }
        data.add_item("i5").unwrap();
        data.add_item("i6").unwrap();
        data.add_user("u_known_no_events").unwrap();
        data
    }

    #[test]
    fn rec_02_cold_users_get_the_popularity_list() {
        let data = rec_02_data();
        assert_eq!(data.item_user_counts(), vec![5, 3, 3, 1, 0, 0]);
        let pop = Popularity::fit(&data);
        let knn = ItemKnn::fit(&data, ItemKnnConfig::default()).unwrap();
        let models: [&dyn Recommender; 2] = [&pop, &knn];
        for model in models {
            for user in ["u_known_no_events", "u_never_seen"] {
                for exclude_seen in [true, false] {
                    let r = model.recommend(user, 4, exclude_seen).unwrap();
                    // i2 and i3 tie at 3 and go by id; i5, i6 have no purchase.
                    assert_eq!(r.item_ids(), ["i1", "i2", "i3", "i4"], "{}", model.name());
                    assert!(!r.personalised());
                    assert_eq!(r.source, Source::Popularity);
                    let scores: Vec<f64> = r.items.iter().map(|x| x.score).collect();
                    assert_eq!(scores, vec![5.0, 3.0, 3.0, 1.0]);
                    assert!(r.items.iter().all(|x| x.explanation() == "popular overall"));
                }
            }
        }
        // Items without a purchase are never recommended, however large N.
        assert_eq!(
            pop.recommend("u_never_seen", 10, true).unwrap().items.len(),
            4
        );
    }

    #[test]
    fn rec_02_user_with_history_is_personalised_within_the_catalogue() {
        let data = rec_02_data();
        let knn = ItemKnn::fit(&data, ItemKnnConfig::default()).unwrap();
        for user in ["b3", "b4", "b5"] {
            let r = knn.recommend(user, 4, true).unwrap();
            assert!(r.personalised(), "{user}");
            assert!(!r.items.is_empty());
            let u = data.user_index(user).unwrap();
            for item in r.item_ids() {
                let i = data.item_index(item).unwrap();
                assert!(data.get(u, i).is_none(), "{user} already has {item}");
            }
        }
        // Popularity with history: the seen items are left out, still not personalised.
        let pop = Popularity::fit(&data);
        let r = pop.recommend("b3", 4, true).unwrap();
        assert_eq!(r.item_ids(), ["i3", "i4"]);
        assert!(!r.personalised());
        assert_eq!(
            pop.recommend("b3", 2, false).unwrap().item_ids(),
            ["i1", "i2"]
        );
        assert!(matches!(
            pop.recommend("b3", 0, true),
            Err(Error::Config(_))
        ));
    }

    /// u1 {A, B}, u2 {A, B, C}, u3 {B, D}.
    pub(crate) fn three_users() -> Interactions {
        let events = [
            ("u1", "A"),
            ("u1", "B"),
            ("u2", "A"),
            ("u2", "B"),
            ("u2", "C"),
            ("u3", "B"),
            ("u3", "D"),
        ];
        let events: Vec<(&str, &str, f64, i64)> =
            events.iter().map(|&(u, i)| (u, i, 1.0, 0)).collect();
        Interactions::from_records(&events).unwrap()
    }

    #[test]
    fn item_knn_by_hand() {
        // Users per item: A {u1,u2} (2), B {u1,u2,u3} (3), C {u2} (1), D {u3} (1).
        // cos(A,B) = 2/√6 = 0.8165, cos(A,C) = 1/√2 = 0.7071, cos(B,C) = cos(B,D) = 1/√3
        // = 0.5774, cos(A,D) = cos(C,D) = 0.
        let data = three_users();
        let config = ItemKnnConfig {
            neighbours: 2,
            fill_with_popular: false,
        };
        let knn = ItemKnn::fit(&data, config).unwrap();
        let (ab, ac, b3) = (2.0 / 6f64.sqrt(), 1.0 / 2f64.sqrt(), 1.0 / 3f64.sqrt());
        assert_eq!(knn.neighbours("A"), vec![("B", ab), ("C", ac)]);
        // B: C and D tie at 1/√3; M = 2 keeps A and C (C before D by id).
        assert_eq!(knn.neighbours("B"), vec![("A", ab), ("C", b3)]);
        assert_eq!(knn.neighbours("C"), vec![("A", ac), ("B", b3)]);
        assert_eq!(knn.neighbours("D"), vec![("B", b3)]);
        assert!(close(knn.similarity("B", "D"), b3));
        assert_eq!(knn.similarity("A", "D"), 0.0);
        assert_eq!(knn.similarity("A", "nope"), 0.0);

        // u1 {A, B}: C = sim(A,C) + sim(B,C) = 0.7071 + 0.5774 = 1.2845, strongest via A.
        // D is not among B's 2 kept neighbours, so it scores nothing.
        let r = knn.recommend("u1", 3, true).unwrap();
        assert!(r.personalised());
        assert_eq!(r.item_ids(), ["C"]);
        assert!(close(r.items[0].score, ac + b3));
        assert!((r.items[0].score - 1.2845).abs() < 1e-4);
        assert_eq!(r.items[0].explanation(), "bought together with A");

        // u3 {B, D}: A = sim(B,A) = 0.8165, C = sim(B,C) = 0.5774; B (via D) is seen.
        let r = knn.recommend("u3", 3, true).unwrap();
        assert_eq!(r.item_ids(), ["A", "C"]);
        assert!(close(r.items[0].score, ab) && close(r.items[1].score, b3));
        assert!(
            r.items
                .iter()
                .all(|x| x.explanation() == "bought together with B")
        );
        // Without excluding seen items, B comes back through D: sim(D,B) = 0.5774, tied with
        // C and placed before it by id.
        let r = knn.recommend("u3", 3, false).unwrap();
        assert_eq!(r.item_ids(), ["A", "B", "C"]);
        assert_eq!(r.items[1].explanation(), "bought together with D");

        // With M = 3, D is a neighbour of B: u1 gets C (1.2845) then D (0.5774).
        let knn3 = ItemKnn::fit(
            &data,
            ItemKnnConfig {
                neighbours: 3,
                ..config
            },
        )
        .unwrap();
        let r = knn3.recommend("u1", 3, true).unwrap();
        assert_eq!(r.item_ids(), ["C", "D"]);
        assert!(close(r.items[1].score, b3));

        // Filling with popular items: u1 gets C, then D (1 user, the only unseen one left).
        let filled = ItemKnn::fit(
            &data,
            ItemKnnConfig {
                neighbours: 2,
                fill_with_popular: true,
            },
        )
        .unwrap();
        let r = filled.recommend("u1", 3, true).unwrap();
        assert_eq!(r.item_ids(), ["C", "D"]);
        assert_eq!(r.items[1].score, 0.0);
        assert_eq!(r.items[1].reason, Reason::PopularOverall { users: 1 });

        // An unknown user: popularity B (3), A (2), then C and D (1 each, by id).
        let r = knn.recommend("zz", 3, true).unwrap();
        assert_eq!(r.item_ids(), ["B", "A", "C"]);
        assert_eq!(r.source, Source::Popularity);
        assert!(
            ItemKnn::fit(
                &data,
                ItemKnnConfig {
                    neighbours: 0,
                    ..config
                }
            )
            .is_err()
        );
    }
}
