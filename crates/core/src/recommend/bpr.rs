//! Training matrix factorisation with Bayesian Personalised Ranking, in burn.
//!
//! BPR (Rendle et al., 2009) learns that a user prefers each of their items `i` to an item `j`
//! they have not had: it maximises `ln σ(x_ui − x_uj)` over sampled triples `(u, i, j)`, where
//! `x_ui = p_u · q_i + b_i`, with an L2 penalty on the vectors of each triple. Here the triples
//! come in mini-batches: each epoch visits every training pair once in a seeded order and
//! draws one negative per pair uniformly among the items the user has not had; Adam updates
//! the factors. Weights start from a seeded normal draw with standard deviation 0.1 and the
//! biases at 0, so a run repeats exactly with the same seed.
//!
//! More factors than users or items cannot be told apart by the data and are refused before
//! training (case REC-01); so is a loss that stops being finite, and the trained factors are
//! checked again by [`Factorization::from_parts`].

use burn::module::Param;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_sigmoid;
use serde::Serialize;

use super::dataset::Interactions;
use super::mf::Factorization;
use crate::error::{Error, Result};
use crate::random::SplitMix64;

/// The settings of a BPR run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BprConfig {
    /// Factors per vector.
    pub factors: usize,
    /// Passes over the training pairs.
    pub epochs: usize,
    /// Triples per optimisation step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// L2 penalty on the user and item vectors of each triple, averaged over the batch.
    pub l2: f64,
    /// Seed of the initial weights, the order of pairs and the negative sampling.
    pub seed: u64,
}

impl Default for BprConfig {
    /// 128 factors, 200 epochs of batches of 1,024, rate 0.001, L2 0.01, seed 42: the best of
    /// a small grid on MovieLens 100K and Online Retail (see the README).
    fn default() -> Self {
        Self {
            factors: 128,
            epochs: 200,
            batch_size: 1024,
            learning_rate: 1e-3,
            l2: 1e-2,
            seed: 42,
        }
    }
}

/// What one epoch did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochReport {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The mean BPR loss (without the penalty) over the epoch's triples.
    pub loss: f64,
    /// The share of triples already ranked right (`x_ui > x_uj`) when they were drawn.
    pub ordered: f64,
}

#[derive(Module, Debug)]
struct Factors {
    users: Param<Tensor<2>>,
    items: Param<Tensor<2>>,
    bias: Param<Tensor<1>>,
}

/// Learns factors for `train` with BPR on `device`, which must be an autodiff device
/// (`device.autodiff()`); `on_epoch` hears about each epoch as it ends.
///
/// # Errors
///
/// [`Error::Config`] for settings that cannot train: no pairs, 0 factors or more factors than
/// users or items, a user who has had every item, a zero batch or a rate that is not positive.
/// [`Error::Input`] when the loss or the factors stop being finite.
pub fn train_bpr(
    name: &str,
    train: &Interactions,
    config: &BprConfig,
    device: &Device,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<Factorization> {
    check(train, config)?;
    let (n_users, n_items, d) = (train.n_users(), train.n_items(), config.factors);
    let mut rng = SplitMix64::new(config.seed);
    let mut model = Factors {
        users: Param::from_tensor(normal([n_users, d], 0.1, &mut rng, device)),
        items: Param::from_tensor(normal([n_items, d], 0.1, &mut rng, device)),
        bias: Param::from_tensor(Tensor::zeros([n_items], device)),
    };
    let mut optimizer = AdamConfig::new().init();

    let mut pairs: Vec<(u32, u32)> = train.pairs().map(|(u, i, _)| (u, i)).collect();
    let owned: Vec<Vec<u32>> = (0..n_users as u32)
        .map(|u| train.items_of(u).map(|(i, _)| i).collect())
        .collect();
    for epoch in 1..=config.epochs {
        rng.shuffle(&mut pairs);
        let (mut loss_sum, mut ordered_sum) = (0.0f64, 0.0f64);
        for batch in pairs.chunks(config.batch_size) {
            let mut users = Vec::with_capacity(batch.len());
            let mut positives = Vec::with_capacity(batch.len());
            let mut negatives = Vec::with_capacity(batch.len());
            for &(u, i) in batch {
                let own = owned.get(u as usize).map_or(&[][..], Vec::as_slice);
                let j = loop {
                    let j = rng.below(n_items) as u32;
                    if own.binary_search(&j).is_err() {
                        break j;
                    }
                };
                users.push(i64::from(u));
                positives.push(i64::from(i));
                negatives.push(i64::from(j));
            }
            let b = batch.len();
            let index = |v: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(v, [b]), device);
            let (u, i, j) = (index(users), index(positives), index(negatives));

            let pu = model.users.val().select(0, u);
            let qi = model.items.val().select(0, i.clone());
            let qj = model.items.val().select(0, j.clone());
            let bias = model.bias.val();
            let x = (pu.clone() * (qi.clone() - qj.clone()))
                .sum_dim(1)
                .reshape([b])
                + bias.clone().select(0, i)
                - bias.select(0, j);
            let ranking = -log_sigmoid(x.clone()).mean();
            let penalty = (pu.powi_scalar(2) + qi.powi_scalar(2) + qj.powi_scalar(2))
                .sum()
                .div_scalar(b as f64)
                .mul_scalar(config.l2);
            let loss = ranking.clone() + penalty;

            let value = f64::from(ranking.into_scalar::<f32>());
            if !value.is_finite() {
                return Err(Error::Input(format!(
                    "the BPR loss became {value} in epoch {epoch}; lower the learning rate \
                     (now {}) or raise the L2 penalty",
                    config.learning_rate
                )));
            }
            let ordered = x.greater_elem(0.0).int().sum().into_scalar::<i64>();
            loss_sum += value * b as f64;
            ordered_sum += ordered as f64;

            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(config.learning_rate, model, grads);
        }
        let report = EpochReport {
            epoch,
            loss: loss_sum / pairs.len() as f64,
            ordered: ordered_sum / pairs.len() as f64,
        };
        log::debug!("BPR epoch {epoch}: loss {:.4}", report.loss);
        on_epoch(&report);
    }

    let values = |t: Tensor<2>| -> Result<Vec<f32>> { to_vec(t.into_data()) };
    let model = model.valid();
    let hint = |e: Error| match e {
        Error::Input(m) => Error::Input(format!(
            "{m}; training diverged: lower the learning rate or raise the L2 penalty"
        )),
        other => other,
    };
    Factorization::from_parts(
        name,
        train,
        d,
        values(model.users.val())?,
        values(model.items.val())?,
        to_vec(model.bias.val().into_data())?,
    )
    .map_err(hint)
}

fn check(train: &Interactions, config: &BprConfig) -> Result<()> {
    if train.n_pairs() == 0 {
        return Err(Error::Config(
            "there is no training interaction to learn from".into(),
        ));
    }
    let smallest = train.n_users().min(train.n_items());
    if config.factors == 0 || config.factors > smallest {
        return Err(Error::Config(format!(
            "{} factors for {} users and {} items: use between 1 and {smallest} factors, no \
             more than the smaller of the two, or the extra factors are noise",
            config.factors,
            train.n_users(),
            train.n_items()
        )));
    }
    if !(config.l2.is_finite() && config.l2 >= 0.0) {
        return Err(Error::Config(format!(
            "the L2 penalty {} must be finite and at least 0; e.g. 0.01",
            config.l2
        )));
    }
    if config.batch_size == 0 || !(config.learning_rate.is_finite() && config.learning_rate > 0.0) {
        return Err(Error::Config(format!(
            "BPR needs a positive batch size and learning rate (got {} and {})",
            config.batch_size, config.learning_rate
        )));
    }
    if let Some(u) = (0..train.n_users() as u32).find(|&u| train.n_items_of(u) >= train.n_items()) {
        return Err(Error::Config(format!(
            "user `{}` has had every item, so there is no negative to sample; add items or \
             leave the user out",
            train.user_id(u).unwrap_or("?")
        )));
    }
    Ok(())
}

/// A tensor of normal draws (Box–Muller over the seeded generator).
fn normal(shape: [usize; 2], std: f64, rng: &mut SplitMix64, device: &Device) -> Tensor<2> {
    let values: Vec<f32> = (0..shape[0] * shape[1])
        .map(|_| {
            let u1 = 1.0 - rng.next_f64();
            let u2 = rng.next_f64();
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            (z * std) as f32
        })
        .collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn to_vec(data: TensorData) -> Result<Vec<f32>> {
    data.try_to_vec_as::<f32>()
        .map_err(|e| Error::Readback(format!("trained factors: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::{Recommender, Source};

    fn device() -> Result<Device> {
        Ok(crate::open_device(crate::DeviceKind::Cpu)?.autodiff())
    }

    #[test]
    fn more_factors_than_users_or_items_is_refused_before_training() -> Result<()> {
        // REC-01: 3 users, 4 items, 8 factors.
        let mut train = Interactions::from_records(&[
            ("u1", "i1", 1.0, 0),
            ("u2", "i2", 1.0, 0),
            ("u3", "i3", 1.0, 0),
        ])?;
        train.add_item("i4")?;
        let config = BprConfig {
            factors: 8,
            ..BprConfig::default()
        };
        let err = train_bpr("bpr", &train, &config, &device()?, |_| {})
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("use between 1 and 3 factors"), "{err}");
        Ok(())
    }

    #[test]
    fn settings_that_cannot_train_are_refused() -> Result<()> {
        let train = Interactions::from_records(&[
            ("u1", "i1", 1.0, 0),
            ("u2", "i2", 1.0, 0),
            ("u3", "i3", 1.0, 0),
        ])?;
        let config = BprConfig {
            factors: 2,
            learning_rate: f64::INFINITY,
            ..BprConfig::default()
        };
        assert!(matches!(
            train_bpr("bpr", &train, &config, &device()?, |_| {}),
            Err(Error::Config(_))
        ));
        let negative = BprConfig {
            factors: 2,
            l2: -1.0,
            ..BprConfig::default()
        };
        assert!(matches!(
            train_bpr("bpr", &train, &negative, &device()?, |_| {}),
            Err(Error::Config(_))
        ));
        Ok(())
    }

    #[test]
    fn learns_two_tastes_and_repeats_with_the_seed() -> Result<()> {
        // Users 0..8 buy from x0..x5, users 8..16 from y0..y5; each misses one item of their
        // side, which the model should rank above every item of the other side.
        let mut records = Vec::new();
        for u in 0..16 {
            let side = if u < 8 { "x" } else { "y" };
            for i in 0..6 {
                if i != u % 6 {
                    records.push((format!("u{u}"), format!("{side}{i}"), 1.0, 0));
                }
            }
        }
        let train = Interactions::from_records(&records)?;
        let config = BprConfig {
            factors: 4,
            epochs: 60,
            batch_size: 16,
            learning_rate: 0.05,
            l2: 1e-4,
            seed: 3,
        };
        let mut losses = Vec::new();
        let model = train_bpr("bpr", &train, &config, &device()?, |r| losses.push(r.loss))?;
        assert_eq!(losses.len(), 60);
        assert!(losses[59] < 0.5 * losses[0], "{losses:?}");
        for u in [0, 5, 9, 14] {
            let list = model.recommend(&format!("u{u}"), 1, true)?;
            assert_eq!(list.source, Source::Personalised);
            let side = if u < 8 { "x" } else { "y" };
            assert_eq!(list.item_ids(), [format!("{side}{}", u % 6)], "user u{u}");
        }
        let again = train_bpr("bpr", &train, &config, &device()?, |_| {})?;
        assert_eq!(again.item_factors(), model.item_factors());
        Ok(())
    }
}
