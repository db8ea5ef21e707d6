//! Matrix factorisation: a vector per user and per item, scored by their dot product plus an
//! item bias.
//!
//! [`Factorization`] holds trained factors and recommends in plain Rust, so it runs the same
//! natively and in wasm32 without a tensor backend. `super::bpr` (behind the `train` feature)
//! learns the factors; [`Factorization::from_parts`] takes them from anywhere else, such as a
//! model file.
//!
//! **Fold-in.** A shopper the model was not trained on, or one whose history grew since, gets a
//! vector from their items alone: the item factors stay fixed and the user vector is fitted to
//! the same pairwise (BPR) objective by a few passes of stochastic gradient descent over their
//! items against sampled other items ([`FoldInConfig`]). It costs about `10 × passes × items
//! × negatives × factors` floating-point operations, some 6 million for a history of 20 items
//! and 128 factors (milliseconds), and is deterministic: the same history always gives the
//! same vector.
//!
//! **Explanations.** Each recommended item names the shopper's item whose factor vector has the
//! largest cosine with it: "because you bought X". A shopper without any known item gets the
//! popularity list, flagged [`Source::Popularity`] (case REC-02).

use serde::{Deserialize, Serialize};

use super::baselines::{
    Popularity, Reason, Recommendations, Recommended, Recommender, Source, check_k,
};
use super::dataset::Interactions;
use crate::error::{Error, Result};
use crate::events::{Event, EventKind};
use crate::random::SplitMix64;

/// How a vector is fitted to a shopper's items ([`Factorization::fold_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FoldInConfig {
    /// Passes over the shopper's items.
    pub passes: usize,
    /// Sampled other items per item and pass.
    pub negatives: usize,
    /// Step size of the gradient descent.
    pub learning_rate: f32,
    /// L2 penalty on the user vector.
    pub l2: f32,
    /// Seed of the negative sampling.
    pub seed: u64,
}

impl FoldInConfig {
    /// Checks that the settings can run in a browser tab: 1 to 1,000 passes, 1 to 64
    /// negatives, a finite positive step and a finite L2 penalty of at least 0.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the setting.
    pub fn check(&self) -> Result<()> {
        if !(1..=1000).contains(&self.passes) || !(1..=64).contains(&self.negatives) {
            return Err(Error::Config(format!(
                "fold-in with {} passes and {} negatives: use 1 to 1,000 passes and 1 to 64 \
                 negatives",
                self.passes, self.negatives
            )));
        }
        let rate = self.learning_rate;
        if !(rate.is_finite() && rate > 0.0 && self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(Error::Config(format!(
                "fold-in step {rate} and L2 {}: the step must be positive and the L2 at least \
                 0, both finite",
                self.l2
            )));
        }
        Ok(())
    }
}

impl Default for FoldInConfig {
    /// 60 passes, 4 negatives, step 0.05, L2 0.01, seed 7.
    fn default() -> Self {
        Self {
            passes: 60,
            negatives: 4,
            learning_rate: 0.05,
            l2: 0.01,
            seed: 7,
        }
    }
}

/// The result of [`Factorization::fold_in`].
#[derive(Debug, Clone, PartialEq)]
pub struct FoldIn {
    /// The fitted user vector; all zeros when no item was known.
    pub vector: Vec<f32>,
    /// The known items of the history, as item indices, each once.
    pub items: Vec<u32>,
    /// Ids in the history that the model does not know; they are left out.
    pub unknown: Vec<String>,
}

/// Trained user and item factors with the training data they came from.
#[derive(Debug, Clone)]
pub struct Factorization {
    name: String,
    factors: usize,
    /// `n_users × factors`, row-major.
    users: Vec<f32>,
    /// `n_items × factors`, row-major.
    items: Vec<f32>,
    /// One per item.
    bias: Vec<f32>,
    popularity: Popularity,
    fold_in: FoldInConfig,
}

impl Factorization {
    /// Wraps trained factors: `users` is `n_users × factors` and `items` `n_items × factors`,
    /// row-major, in the index order of `train`; `bias` has one value per item.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when a shape does not match `train`, and [`Error::Input`] when any
    /// value is NaN or infinite: such factors would rank garbage (case REC-01).
    pub fn from_parts(
        name: &str,
        train: &Interactions,
        factors: usize,
        users: Vec<f32>,
        items: Vec<f32>,
        bias: Vec<f32>,
    ) -> Result<Self> {
        let shapes = [
            ("user factors", users.len(), train.n_users() * factors),
            ("item factors", items.len(), train.n_items() * factors),
            ("item biases", bias.len(), train.n_items()),
        ];
        if factors == 0 {
            return Err(Error::Config(
                "a factorisation needs at least 1 factor".into(),
            ));
        }
        for (what, found, expected) in shapes {
            if found != expected {
                return Err(Error::Config(format!(
                    "{what}: {found} values, expected {expected} for {} users, {} items and \
                     {factors} factors",
                    train.n_users(),
                    train.n_items()
                )));
            }
        }
        for (what, values) in [("user", &users), ("item", &items), ("bias", &bias)] {
            if let Some(at) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::Input(format!(
                    "the {what} values hold {} at position {at}; a model with non-finite \
                     values cannot rank: train it again or re-export it",
                    values[at]
                )));
            }
        }
        Ok(Self {
            name: name.to_owned(),
            factors,
            users,
            items,
            bias,
            popularity: Popularity::fit(train),
            fold_in: FoldInConfig::default(),
        })
    }

    /// A model that knows items and no user: what ships to the browser, where every shopper
    /// is folded in. `items` are the ids in index order, `users_per_item` the number of
    /// training users of each, which ranks the popularity fallback.
    ///
    /// # Errors
    ///
    /// As [`Factorization::from_parts`], and [`Error::Input`] for an empty or repeated id.
    pub fn items_only<S: AsRef<str>>(
        name: &str,
        items: &[S],
        factors: usize,
        item_factors: Vec<f32>,
        bias: Vec<f32>,
        users_per_item: &[u64],
    ) -> Result<Self> {
        let mut catalogue = Interactions::new();
        for (n, id) in items.iter().enumerate() {
            if catalogue.add_item(id.as_ref())? != n as u32 {
                return Err(Error::Input(format!(
                    "item `{}` is listed twice; give every item one row",
                    id.as_ref()
                )));
            }
        }
        if users_per_item.len() != items.len() {
            return Err(Error::Config(format!(
                "{} popularity counts for {} items; give one count per item",
                users_per_item.len(),
                items.len()
            )));
        }
        let mut model =
            Self::from_parts(name, &catalogue, factors, Vec::new(), item_factors, bias)?;
        model.popularity = Popularity::from_counts(&catalogue, users_per_item);
        Ok(model)
    }

    /// The same model without its training users: item factors, biases and popularity only.
    pub fn without_users(&self) -> Result<Self> {
        let data = self.data();
        Self::items_only(
            &self.name,
            data.item_ids(),
            self.factors,
            self.items.clone(),
            self.bias.clone(),
            &self.users_per_item(),
        )
        .map(|m| m.with_fold_in(self.fold_in))
    }

    /// The number of training users of each item, in index order.
    pub fn users_per_item(&self) -> Vec<u64> {
        let ranking: std::collections::HashMap<&str, u64> =
            self.popularity.ranking().into_iter().collect();
        self.data()
            .item_ids()
            .iter()
            .map(|id| ranking.get(id.as_str()).copied().unwrap_or(0))
            .collect()
    }

    /// Adds an item the training never saw, with a vector and bias chosen elsewhere (such as
    /// [`super::ShippedRecommender::add_item`] does from tags); it has no training user.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when the id is empty or known already, or a value is not finite;
    /// [`Error::Config`] when the vector has the wrong length.
    pub fn add_item(&mut self, id: &str, vector: &[f32], bias: f32) -> Result<u32> {
        if vector.len() != self.factors {
            return Err(Error::Config(format!(
                "a vector of {} values for a model of {} factors",
                vector.len(),
                self.factors
            )));
        }
        if !(bias.is_finite() && vector.iter().all(|v| v.is_finite())) {
            return Err(Error::Input(format!(
                "the vector of item `{id}` is not finite; place it again or check its tags"
            )));
        }
        if self.data().item_index(id).is_some() {
            return Err(Error::Input(format!(
                "item `{id}` is known already; give a new item a new id"
            )));
        }
        let counts = self.users_per_item();
        let mut data = self.data().clone();
        let index = data.add_item(id)?;
        self.items.extend_from_slice(vector);
        self.bias.push(bias);
        self.popularity = Popularity::from_counts(&data, &counts);
        Ok(index)
    }

    /// The factor vector of an item.
    pub fn item_vector(&self, id: &str) -> Option<&[f32]> {
        self.data().item_index(id).map(|i| self.item(i))
    }

    /// The fold-in settings.
    pub fn fold_in_config(&self) -> FoldInConfig {
        self.fold_in
    }

    /// The model's name.
    pub fn model_name(&self) -> &str {
        &self.name
    }

    /// The same model with other fold-in settings.
    pub fn with_fold_in(mut self, config: FoldInConfig) -> Self {
        self.fold_in = config;
        self
    }

    /// The training data.
    pub fn data(&self) -> &Interactions {
        self.popularity.data()
    }

    /// The number of factors per vector.
    pub fn factors(&self) -> usize {
        self.factors
    }

    /// The item factors, `n_items × factors`, row-major in the training data's index order.
    pub fn item_factors(&self) -> &[f32] {
        &self.items
    }

    /// The item biases in the training data's index order.
    pub fn item_biases(&self) -> &[f32] {
        &self.bias
    }

    /// The trained vector of a training user.
    pub fn user_vector(&self, user: &str) -> Option<&[f32]> {
        let u = self.data().user_index(user)? as usize;
        self.users.get(u * self.factors..(u + 1) * self.factors)
    }

    fn item(&self, i: u32) -> &[f32] {
        let start = i as usize * self.factors;
        self.items.get(start..start + self.factors).unwrap_or(&[])
    }

    /// The score of every item for a user vector: dot product plus bias.
    pub fn scores(&self, vector: &[f32]) -> Vec<f32> {
        self.items
            .chunks_exact(self.factors)
            .zip(&self.bias)
            .map(|(v, b)| dot(vector, v) + b)
            .collect()
    }

    /// The cosine of two items' factor vectors; 0 when either is unknown or zero.
    pub fn similarity(&self, a: &str, b: &str) -> f64 {
        let data = self.data();
        match (data.item_index(a), data.item_index(b)) {
            (Some(a), Some(b)) => f64::from(cosine(self.item(a), self.item(b))),
            _ => 0.0,
        }
    }

    /// Fits a user vector to a history of item ids without retraining (see the
    /// [module docs](self)). Unknown ids are reported and left out; repeats count once.
    pub fn fold_in<S: AsRef<str>>(&self, history: &[S]) -> FoldIn {
        self.fold_in_weighted(&once_each(history))
    }

    /// [`Factorization::fold_in`] with a weight per entry: an item's weights add up, capped
    /// at [`MAX_ITEM_WEIGHT`], and its gradient steps are scaled by the sum, so an item with
    /// weight 2 pulls the vector as hard as two. [`signal_weight`] gives the weights of shopper
    /// events. Entries with a weight that is not positive and finite are left out.
    pub fn fold_in_weighted<S: AsRef<str>>(&self, history: &[(S, f32)]) -> FoldIn {
        let data = self.data();
        let mut items: Vec<u32> = Vec::new();
        let mut weights: Vec<f32> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for (id, weight) in history {
            if !(weight.is_finite() && *weight > 0.0) {
                continue;
            }
            match data.item_index(id.as_ref()) {
                Some(i) => match items.iter().position(|&x| x == i) {
                    Some(at) => weights[at] += weight,
                    None => {
                        items.push(i);
                        weights.push(*weight);
                    }
                },
                None => unknown.push(id.as_ref().to_owned()),
            }
        }
        for w in &mut weights {
            *w = w.min(MAX_ITEM_WEIGHT);
        }
        let mut vector = self.fit_vector(&items, &weights);
        if vector.iter().any(|v| !v.is_finite()) {
            // Cannot happen with checked settings; never rank from it if it does.
            log::warn!("fold-in gave a non-finite vector; falling back to popular items");
            items.clear();
            vector.iter_mut().for_each(|v| *v = 0.0);
        }
        FoldIn {
            vector,
            items,
            unknown,
        }
    }

    fn fit_vector(&self, items: &[u32], weights: &[f32]) -> Vec<f32> {
        let config = self.fold_in;
        let mut u = vec![0.0f32; self.factors];
        let n_items = self.data().n_items();
        if items.is_empty() || items.len() >= n_items {
            return u;
        }
        let mut owned = vec![false; n_items];
        for &i in items {
            owned[i as usize] = true;
        }
        let mut rng = SplitMix64::new(config.seed);
        let mut order: Vec<(u32, f32)> = items
            .iter()
            .zip(weights.iter().chain(std::iter::repeat(&1.0)))
            .map(|(&i, &w)| (i, w))
            .collect();
        let mut step = vec![0.0f32; self.factors];
        for _ in 0..config.passes {
            rng.shuffle(&mut order);
            for &(i, weight) in &order {
                for _ in 0..config.negatives {
                    let j = loop {
                        let j = rng.below(n_items);
                        if !owned[j] {
                            break j as u32;
                        }
                    };
                    let (vi, vj) = (self.item(i), self.item(j));
                    let bi = self.bias.get(i as usize).copied().unwrap_or(0.0);
                    let bj = self.bias.get(j as usize).copied().unwrap_or(0.0);
                    let x = dot(&u, vi) - dot(&u, vj) + bi - bj;
                    // d/du of ln σ(x) is σ(-x) · (vi - vj).
                    let g = weight * sigmoid(-x);
                    for (s, (a, b)) in step.iter_mut().zip(vi.iter().zip(vj)) {
                        *s = g * (a - b);
                    }
                    for (w, s) in u.iter_mut().zip(&step) {
                        *w += config.learning_rate * (s - config.l2 * *w);
                    }
                }
            }
        }
        u
    }

    /// The top `k` items for a history of item ids, folded in: what the app calls after each
    /// new event. A history without any known item gets the popularity list, flagged
    /// [`Source::Popularity`]. With `exclude_seen`, the history's items are left out.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `k` is 0.
    pub fn recommend_for_history<S: AsRef<str>>(
        &self,
        user: &str,
        history: &[S],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Recommendations> {
        self.recommend_for_weighted_history(user, &once_each(history), k, exclude_seen)
    }

    /// [`Factorization::recommend_for_history`] with a weight per entry, as
    /// [`Factorization::fold_in_weighted`] takes them.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `k` is 0.
    pub fn recommend_for_weighted_history<S: AsRef<str>>(
        &self,
        user: &str,
        history: &[(S, f32)],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Recommendations> {
        self.recommend_for_folded(user, &self.fold_in_weighted(history), k, exclude_seen)
    }

    /// [`Factorization::recommend_for_history`] for a history folded in already, so that a
    /// caller who needs the vector too fits it once.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `k` is 0.
    pub fn recommend_for_folded(
        &self,
        user: &str,
        folded: &FoldIn,
        k: usize,
        exclude_seen: bool,
    ) -> Result<Recommendations> {
        if folded.items.is_empty() {
            return self.popular(user, &[], k, exclude_seen);
        }
        self.rank(user, &folded.vector, &folded.items, k, exclude_seen)
    }

    fn popular(
        &self,
        user: &str,
        seen: &[u32],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Recommendations> {
        check_k(k)?;
        let skip = |i: u32| exclude_seen && seen.contains(&i);
        Ok(Recommendations {
            user: user.to_owned(),
            source: Source::Popularity,
            items: self.popularity.top(k, &skip, None),
        })
    }

    fn rank(
        &self,
        user: &str,
        vector: &[f32],
        history: &[u32],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Recommendations> {
        check_k(k)?;
        let scores = self.scores(vector);
        Ok(Recommendations {
            user: user.to_owned(),
            source: Source::Personalised,
            items: explained_top_k(
                self.data(),
                &scores,
                history,
                |i| self.item(i),
                k,
                exclude_seen,
            ),
        })
    }

    /// A view of this model that folds in every user's training history instead of using
    /// the trained user vectors: what the browser does, measurable on a test split.
    pub fn folded_in(&self) -> FoldedIn<'_> {
        FoldedIn(self)
    }

    fn training_items(&self, user: &str) -> Vec<u32> {
        let data = self.data();
        data.user_index(user)
            .map(|u| data.items_of(u).map(|(i, _)| i).collect())
            .unwrap_or_default()
    }
}

impl Recommender for Factorization {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn recommend(&self, user: &str, k: usize, exclude_seen: bool) -> Result<Recommendations> {
        let history = self.training_items(user);
        match self.user_vector(user) {
            Some(vector) if !history.is_empty() => {
                self.rank(user, vector, &history, k, exclude_seen)
            }
            _ => self.popular(user, &history, k, exclude_seen),
        }
    }
}

/// [`Factorization`] recommending from folded-in vectors ([`Factorization::folded_in`]).
#[derive(Debug, Clone, Copy)]
pub struct FoldedIn<'a>(&'a Factorization);

impl Recommender for FoldedIn<'_> {
    fn name(&self) -> String {
        format!("{} (fold-in)", self.0.name)
    }

    fn recommend(&self, user: &str, k: usize, exclude_seen: bool) -> Result<Recommendations> {
        let history = self.0.training_items(user);
        if history.is_empty() {
            return self.0.popular(user, &history, k, exclude_seen);
        }
        let vector = self.0.fit_vector(&history, &[]);
        self.0.rank(user, &vector, &history, k, exclude_seen)
    }
}

/// The `k` best items by `scores` (one per item index), ties by item id, leaving out the
/// history when `exclude_seen`; each explained by the history item whose vector (from
/// `vector`) has the largest cosine with it, ties again by id.
pub(crate) fn explained_top_k<'v>(
    data: &Interactions,
    scores: &[f32],
    history: &[u32],
    vector: impl Fn(u32) -> &'v [f32],
    k: usize,
    exclude_seen: bool,
) -> Vec<Recommended> {
    let mut seen = vec![false; data.n_items()];
    for &i in history {
        if let Some(s) = seen.get_mut(i as usize) {
            *s = true;
        }
    }
    let id = |i: usize| data.item_id(i as u32).unwrap_or("");
    let score = |i: usize| {
        scores
            .get(i)
            .copied()
            .filter(|s| !s.is_nan())
            .unwrap_or(f32::NEG_INFINITY)
    };
    let mut candidates: Vec<usize> = (0..data.n_items())
        .filter(|&i| !(exclude_seen && seen[i]))
        .collect();
    let by_score = |a: &usize, b: &usize| {
        score(*b)
            .total_cmp(&score(*a))
            .then_with(|| id(*a).cmp(id(*b)))
    };
    if candidates.len() > k && k > 0 {
        candidates.select_nth_unstable_by(k - 1, by_score);
        candidates.truncate(k);
    }
    candidates.sort_by(by_score);
    candidates
        .into_iter()
        .map(|j| {
            let (similarity, from) = history
                .iter()
                .map(|&i| (cosine(vector(i), vector(j as u32)), i))
                .fold((f32::NEG_INFINITY, u32::MAX), |best, (s, i)| {
                    if s > best.0 || (s == best.0 && id(i as usize) < id(best.1 as usize)) {
                        (s, i)
                    } else {
                        best
                    }
                });
            Recommended {
                item: id(j).to_owned(),
                score: f64::from(score(j)),
                reason: Reason::BecauseYouHad {
                    item: id(from as usize).to_owned(),
                    similarity: f64::from(similarity),
                },
            }
        })
        .collect()
}

/// The most one item weighs in fold-in however many events name it: a purchase and a share.
/// Without a cap, forty views of one item would pull a step far past the optimum.
pub const MAX_ITEM_WEIGHT: f32 = PURCHASE_WEIGHT + SOCIAL_WEIGHT;

/// What a purchase weighs in fold-in; the other signals are relative to it.
pub const PURCHASE_WEIGHT: f32 = 1.0;

/// The social boost: sharing an item or giving it as a gift weighs twice a purchase. A shopper
/// who passes an item on to someone vouches for it more than one who only bought it, and a
/// gift is bought with someone's taste in mind, which the shopper often shares.
pub const SOCIAL_WEIGHT: f32 = 2.0;

/// How much an event says about a shopper's taste, for [`Factorization::fold_in_weighted`]:
/// the item ids it names and their weight. Views weigh 0.25, selecting an item from a list
/// 0.25, adding to the cart 0.5, checkout 0.5, a purchase [`PURCHASE_WEIGHT`], a review
/// `stars / 5` of a purchase, a share or a gift [`SOCIAL_WEIGHT`]. Removing from the cart,
/// refunds, searches and payments say nothing of an item's appeal here and give `None`:
/// refunds are netted out of purchases by cleaning.
pub fn signal_weight(kind: &EventKind) -> Option<(Vec<&str>, f32)> {
    fn items(lines: &[crate::events::Item]) -> Vec<&str> {
        lines.iter().map(|i| i.item_id.as_str()).collect()
    }
    match kind {
        EventKind::ViewItem(p) | EventKind::SelectItem(p) => Some((items(&p.items), 0.25)),
        EventKind::AddToCart(p) | EventKind::BeginCheckout(p) => Some((items(&p.items), 0.5)),
        EventKind::Purchase(p) => Some((items(&p.items), PURCHASE_WEIGHT)),
        EventKind::Share(p) => Some((vec![p.item_id.as_str()], SOCIAL_WEIGHT)),
        EventKind::Gift(p) => Some((vec![p.item_id.as_str()], SOCIAL_WEIGHT)),
        EventKind::Review(p) => Some((
            vec![p.item_id.as_str()],
            PURCHASE_WEIGHT * f32::from(p.rating.stars()) / 5.0,
        )),
        _ => None,
    }
}

/// A weighted history from a shopper's events, in order ([`signal_weight`]).
pub fn weighted_history(events: &[Event]) -> Vec<(&str, f32)> {
    events
        .iter()
        .filter_map(|e| signal_weight(&e.kind))
        .flat_map(|(ids, w)| ids.into_iter().map(move |id| (id, w)))
        .collect()
}

/// Each id with weight 1, repeats left out.
pub(crate) fn once_each<S: AsRef<str>>(history: &[S]) -> Vec<(&str, f32)> {
    let mut seen = std::collections::HashSet::new();
    history
        .iter()
        .map(AsRef::as_ref)
        .filter(|id| seen.insert(*id))
        .map(|id| (id, 1.0))
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let norm = (dot(a, a) * dot(b, b)).sqrt();
    if norm > 0.0 { dot(a, b) / norm } else { 0.0 }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tastes: users a* like items x1..x3, users b* like y1..y3, with factors that say so.
    fn two_tastes() -> Result<Factorization> {
        let mut train = Interactions::new();
        for (u, items) in [
            ("a1", ["x1", "x2"]),
            ("a2", ["x2", "x3"]),
            ("b1", ["y1", "y2"]),
            ("b2", ["y2", "y3"]),
        ] {
            for i in items {
                train.record(u, i, 1.0, 0)?;
            }
        }
        // item order of first appearance: x1 x2 x3 y1 y2 y3
        let items = vec![
            1.0, 0.0, 0.9, 0.1, 0.8, 0.0, //
            0.0, 1.0, 0.1, 0.9, 0.0, 0.8,
        ];
        let users = vec![1.0, 0.0, 1.0, 0.1, 0.0, 1.0, 0.1, 1.0];
        Factorization::from_parts("mf", &train, 2, users, items, vec![0.0; 6])
    }

    #[test]
    fn ranks_by_dot_product_and_explains_by_the_closest_own_item() -> Result<()> {
        let model = two_tastes()?;
        let list = model.recommend("a1", 2, true)?;
        assert_eq!(list.source, Source::Personalised);
        assert_eq!(list.item_ids(), ["x3", "y2"]);
        // x3 = (0.8, 0): cosine 1 with x1 = (1, 0), 0.994 with x2 = (0.9, 0.1).
        match &list.items[0].reason {
            Reason::BecauseYouHad { item, similarity } => {
                assert_eq!(item, "x1");
                assert!((similarity - 1.0).abs() < 1e-6, "{similarity}");
            }
            other => panic!("unexpected reason {other:?}"),
        }
        assert_eq!(list.items[0].explanation(), "because you bought x1");
        assert!((list.items[0].score - 0.8).abs() < 1e-6);
        // Without excluding, the user's own items come first.
        assert_eq!(model.recommend("a1", 2, false)?.item_ids(), ["x1", "x2"]);
        Ok(())
    }

    #[test]
    fn unknown_users_and_histories_get_flagged_popular_items() -> Result<()> {
        // REC-02: an unseen user gets k distinct popular items, marked non-personalised.
        let model = two_tastes()?;
        let list = model.recommend("nobody", 4, true)?;
        assert_eq!(list.source, Source::Popularity);
        assert_eq!(list.item_ids(), ["x2", "y2", "x1", "x3"]);
        let list = model.recommend_for_history("new", &["not-an-item"], 2, true)?;
        assert_eq!(list.source, Source::Popularity);
        assert_eq!(list.item_ids(), ["x2", "y2"]);
        assert!(model.recommend("a1", 0, true).is_err());
        Ok(())
    }

    #[test]
    fn fold_in_finds_the_taste_of_a_history() -> Result<()> {
        let model = two_tastes()?;
        let folded = model.fold_in(&["y1", "nope", "y1"]);
        assert_eq!(folded.items, [3]);
        assert_eq!(folded.unknown, ["nope"]);
        assert!(
            folded.vector[1] > folded.vector[0] + 0.5,
            "{:?}",
            folded.vector
        );
        // Deterministic: the same history gives the same vector.
        assert_eq!(model.fold_in(&["y1"]).vector, folded.vector);

        let list = model.recommend_for_history("new", &["y1"], 2, true)?;
        assert_eq!(list.source, Source::Personalised);
        assert_eq!(list.item_ids(), ["y2", "y3"]);
        assert_eq!(list.items[0].explanation(), "because you bought y1");

        // Folding in a training user's history ranks like the trained vector.
        let folded = model.folded_in();
        assert_eq!(folded.recommend("b1", 1, true)?.item_ids(), ["y3"]);
        assert_eq!(folded.name(), "mf (fold-in)");
        Ok(())
    }

    #[test]
    fn shares_and_gifts_weigh_more_than_a_purchase() -> Result<()> {
        let model = two_tastes()?;
        // One purchase on each side: the x side wins on its bias-free tie-break of ids...
        let even = model.fold_in(&["x1", "y1"]);
        // ...while a share of y1 tilts the vector toward the y side.
        let shared = model.fold_in_weighted(&[("x1", PURCHASE_WEIGHT), ("y1", SOCIAL_WEIGHT)]);
        let lean = |v: &[f32]| v[1] - v[0];
        assert!(
            lean(&shared.vector) > lean(&even.vector) + 0.1,
            "{even:?} {shared:?}"
        );
        let list = model.recommend_for_weighted_history(
            "s",
            &[("x1", PURCHASE_WEIGHT), ("y1", SOCIAL_WEIGHT)],
            1,
            true,
        )?;
        assert_eq!(list.item_ids(), ["y2"]);
        // Weights add up over repeats; non-positive weights are left out.
        let twice = model.fold_in_weighted(&[("y1", 1.0), ("y1", 1.0), ("x1", 0.0)]);
        assert_eq!(twice.items, [3]);
        assert_eq!(twice.vector, model.fold_in_weighted(&[("y1", 2.0)]).vector);
        Ok(())
    }

    #[test]
    fn events_map_to_weighted_histories() -> Result<()> {
        let text = include_str!("../events/testdata/events_sample.jsonl");
        let events = crate::events::read_json_lines_strict("events_sample.jsonl", text)?;
        assert_eq!(
            weighted_history(&events),
            [
                ("sku1", 0.25),          // view_item
                ("sku2", 0.25),          // select_item
                ("sku1", 0.5),           // add_to_cart; the search says nothing
                ("sku1", 0.5),           // begin_checkout; remove_from_cart says nothing
                ("sku1", 1.0),           // purchase; payment and refund say nothing
                ("sku2", SOCIAL_WEIGHT), // share
                ("sku3", SOCIAL_WEIGHT), // gift
                ("sku1", 0.8),           // review, 4 stars
            ]
        );
        Ok(())
    }

    #[test]
    fn non_finite_or_misshapen_factors_are_refused() -> Result<()> {
        let good = two_tastes()?;
        let train = good.data().clone();
        let mut items = good.item_factors().to_vec();
        items[3] = f32::NAN;
        let users = vec![0.0; 8];
        let err = Factorization::from_parts("mf", &train, 2, users.clone(), items, vec![0.0; 6])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("NaN at position 3"), "{err}");
        let short = Factorization::from_parts("mf", &train, 2, users, vec![0.0; 11], vec![0.0; 6]);
        assert!(matches!(short, Err(Error::Config(_))));
        Ok(())
    }
}
