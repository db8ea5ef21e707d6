//! A sequence recommender after SASRec (Kang and McAuley, 2018): self-attention over a
//! shopper's recent items predicts the next one.
//!
//! Each item is an embedding, to which a learned position embedding is added; a causal
//! Transformer encoder (pre-norm) reads the last `max_len` items, oldest first, left-padded
//! with item 0, which no real item uses. The state at the last position, dotted with every
//! item's embedding (the same table as the input), scores the next item.
//!
//! A shopper's sequence is their training items ordered by last interaction time (ties by
//! item index): each item once, as the interaction data aggregates repeats.
//!
//! Training (`train` feature) uses every prefix of every sequence at once: the state at
//! position `t` is trained to give the item at `t + 1` with a full softmax cross-entropy over
//! the catalogue, which works better than the original paper's one sampled negative and is
//! affordable for catalogues of a few thousand items. Adam, dropout, a seeded order of
//! shoppers and a seeded initialisation make a run repeat exactly.

use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::transformer::{TransformerEncoder, TransformerEncoderInput};
use burn::nn::{Dropout, Embedding, LayerNorm};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::baselines::{Popularity, Recommendations, Recommender, Source, check_k};
use super::dataset::Interactions;
use super::mf::explained_top_k;
use crate::error::{Error, Result};

/// The shape of the network and the settings of its training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SasRecConfig {
    /// Items read per shopper, the most recent.
    pub max_len: usize,
    /// Width of the embeddings and the encoder.
    pub d_model: usize,
    /// Attention heads; must divide `d_model`.
    pub n_heads: usize,
    /// Encoder layers.
    pub n_layers: usize,
    /// Dropout on the embeddings and inside the encoder while training.
    pub dropout: f64,
    /// Passes over the shoppers.
    pub epochs: usize,
    /// Shoppers per optimisation step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Seed of the initial weights, the order of shoppers and dropout.
    pub seed: u64,
}

impl Default for SasRecConfig {
    /// 50 items, width 64, 2 heads, 2 layers, dropout 0.2; 30 epochs of 128 shoppers at rate
    /// 0.001, seed 42.
    fn default() -> Self {
        Self {
            max_len: 50,
            d_model: 64,
            n_heads: 2,
            n_layers: 2,
            dropout: 0.2,
            epochs: 30,
            batch_size: 128,
            learning_rate: 1e-3,
            seed: 42,
        }
    }
}

#[cfg(feature = "train")]
impl SasRecConfig {
    fn check(&self, n_items: usize) -> Result<()> {
        if self.max_len < 2 || self.d_model == 0 || self.n_heads == 0 || self.n_layers == 0 {
            return Err(Error::Config(
                "SASRec needs at least 2 positions, 1 head, 1 layer and a positive width".into(),
            ));
        }
        if !self.d_model.is_multiple_of(self.n_heads) {
            return Err(Error::Config(format!(
                "{} heads do not divide the width {}; pick a width that is a multiple",
                self.n_heads, self.d_model
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Config(format!(
                "dropout {} must lie in [0, 1)",
                self.dropout
            )));
        }
        if n_items == 0 {
            return Err(Error::Config("there is no item to recommend".into()));
        }
        Ok(())
    }

    fn init(&self, n_items: usize, device: &Device) -> SasRecNet {
        use burn::nn::transformer::TransformerEncoderConfig;
        use burn::nn::{DropoutConfig, EmbeddingConfig, LayerNormConfig};

        SasRecNet {
            items: EmbeddingConfig::new(n_items + 1, self.d_model)
                .with_initializer(burn::nn::Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device),
            positions: EmbeddingConfig::new(self.max_len, self.d_model)
                .with_initializer(burn::nn::Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            encoder: TransformerEncoderConfig::new(
                self.d_model,
                self.d_model * 4,
                self.n_heads,
                self.n_layers,
            )
            .with_dropout(self.dropout)
            .with_norm_first(true)
            .init(device),
            norm: LayerNormConfig::new(self.d_model).init(device),
        }
    }
}

/// The network: item and position embeddings, a causal encoder and a final norm.
#[derive(Module, Debug)]
pub struct SasRecNet {
    items: Embedding,
    positions: Embedding,
    dropout: Dropout,
    encoder: TransformerEncoder,
    norm: LayerNorm,
}

impl SasRecNet {
    /// The encoder's states `[batch, len, d_model]` for left-padded sequences of item
    /// numbers (item index + 1; 0 pads).
    fn states(&self, sequences: Tensor<2, Int>) -> Tensor<3> {
        let [batch, len] = sequences.dims();
        let device = sequences.device();
        let pad = sequences.clone().equal_elem(0);
        let [_, d_model] = self.items.weight.dims();
        let positions = Tensor::<1, Int>::arange(0..len as i64, &device)
            .reshape([1, len])
            .expand([batch, len]);
        let x = self
            .items
            .forward(sequences)
            .mul_scalar((d_model as f64).sqrt())
            + self.positions.forward(positions);
        let x = self.dropout.forward(x);
        let mask = generate_autoregressive_mask(batch, len, &device);
        let input = TransformerEncoderInput::new(x)
            .mask_pad(pad)
            .mask_attn(mask);
        self.norm.forward(self.encoder.forward(input))
    }

    /// Scores of every item number (0 included) at every position: `[batch, len, n + 1]`.
    #[cfg(feature = "train")]
    fn logits(&self, sequences: Tensor<2, Int>) -> Tensor<3> {
        let states = self.states(sequences);
        let [batch, len, d] = states.dims();
        let table = self.items.weight.val();
        let [n, _] = table.dims();
        states
            .reshape([batch * len, d])
            .matmul(table.transpose())
            .reshape([batch, len, n])
    }
}

/// A trained SASRec with the data it was trained on.
#[derive(Debug)]
pub struct SasRec {
    config: SasRecConfig,
    net: SasRecNet,
    popularity: Popularity,
    device: Device,
}

impl SasRec {
    /// The item indices of a training user, oldest first.
    pub fn sequence(data: &Interactions, user: &str) -> Vec<u32> {
        let Some(u) = data.user_index(user) else {
            return Vec::new();
        };
        let mut items: Vec<(i64, u32)> = data
            .items_of(u)
            .map(|(i, cell)| (cell.last_timestamp, i))
            .collect();
        items.sort_unstable();
        items.into_iter().map(|(_, i)| i).collect()
    }

    /// The top `k` items after a sequence of item indices, oldest first.
    fn rank(
        &self,
        user: &str,
        history: &[u32],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Recommendations> {
        check_k(k)?;
        let data = self.popularity.data();
        let recent = &history[history.len().saturating_sub(self.config.max_len)..];
        let mut row = vec![0i64; self.config.max_len - recent.len()];
        row.extend(recent.iter().map(|&i| i64::from(i) + 1));
        let input = Tensor::<2, Int>::from_data(
            TensorData::new(row, [1, self.config.max_len]),
            &self.device,
        );
        let states = self.net.states(input);
        let d = self.config.d_model;
        let last = states
            .slice([0..1, self.config.max_len - 1..self.config.max_len, 0..d])
            .reshape([1, d]);
        let table = self.net.items.weight.val();
        let scores = last
            .matmul(table.clone().transpose())
            .into_data()
            .try_to_vec_as::<f32>()
            .map_err(|e| Error::Readback(format!("SASRec scores: {e:?}")))?;
        let table = table
            .into_data()
            .try_to_vec_as::<f32>()
            .map_err(|e| Error::Readback(format!("SASRec items: {e:?}")))?;
        let vector = |i: u32| {
            table
                .get((i as usize + 1) * d..(i as usize + 2) * d)
                .unwrap_or(&[])
        };
        // Item numbers are indices + 1: number 0 pads.
        let scores = scores.get(1..).unwrap_or(&[]);
        let items = explained_top_k(data, scores, history, vector, k, exclude_seen);
        Ok(Recommendations {
            user: user.to_owned(),
            source: Source::Personalised,
            items,
        })
    }

    /// The top `k` items after a history of item ids, oldest first; unknown ids are left
    /// out, and a history without a known item gets the popularity list.
    pub fn recommend_after<S: AsRef<str>>(
        &self,
        user: &str,
        history: &[S],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Recommendations> {
        let data = self.popularity.data();
        let known: Vec<u32> = history
            .iter()
            .filter_map(|h| data.item_index(h.as_ref()))
            .collect();
        if known.is_empty() {
            return self.popularity.recommend(user, k, exclude_seen);
        }
        self.rank(user, &known, k, exclude_seen)
    }
}

impl Recommender for SasRec {
    fn name(&self) -> String {
        format!(
            "SASRec (d = {}, {} layers)",
            self.config.d_model, self.config.n_layers
        )
    }

    fn recommend(&self, user: &str, k: usize, exclude_seen: bool) -> Result<Recommendations> {
        let history = Self::sequence(self.popularity.data(), user);
        if history.is_empty() {
            return self.popularity.recommend(user, k, exclude_seen);
        }
        self.rank(user, &history, k, exclude_seen)
    }
}

/// What one SASRec epoch did.
#[cfg(feature = "train")]
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SasRecEpoch {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The mean cross-entropy per predicted position.
    pub loss: f64,
}

/// Trains SASRec on the sequences of `train` on `device`, an autodiff device; `on_epoch`
/// hears about each epoch.
///
/// # Errors
///
/// [`Error::Config`] for settings that cannot train or data without any sequence of two
/// items; [`Error::Input`] when the loss stops being finite.
#[cfg(feature = "train")]
pub fn train_sasrec(
    train: &Interactions,
    config: &SasRecConfig,
    device: &Device,
    mut on_epoch: impl FnMut(&SasRecEpoch),
) -> Result<SasRec> {
    use burn::optim::{AdamConfig, GradientsParams};

    use crate::random::SplitMix64;
    use crate::tagger::masked_cross_entropy;
    use crate::token_labels::IGNORE;

    config.check(train.n_items())?;
    if config.batch_size == 0 || !(config.learning_rate.is_finite() && config.learning_rate > 0.0) {
        return Err(Error::Config(format!(
            "SASRec needs a positive batch size and learning rate (got {} and {})",
            config.batch_size, config.learning_rate
        )));
    }
    let sequences: Vec<Vec<u32>> = train
        .user_ids()
        .iter()
        .map(|u| SasRec::sequence(train, u))
        .filter(|s| s.len() >= 2)
        .collect();
    if sequences.is_empty() {
        return Err(Error::Config(
            "no shopper has two items in sequence; SASRec has nothing to learn".into(),
        ));
    }

    device.seed(config.seed);
    let mut net = config.init(train.n_items(), device);
    let mut optimizer = AdamConfig::new().init();
    let mut rng = SplitMix64::new(config.seed);
    let mut order: Vec<usize> = (0..sequences.len()).collect();
    let len = config.max_len;
    for epoch in 1..=config.epochs {
        rng.shuffle(&mut order);
        let (mut loss_sum, mut positions) = (0.0f64, 0usize);
        for batch in order.chunks(config.batch_size) {
            let mut inputs = Vec::with_capacity(batch.len() * len);
            let mut targets = Vec::with_capacity(batch.len() * len);
            for &s in batch {
                let seq = &sequences[s];
                let recent = &seq[seq.len().saturating_sub(len + 1)..];
                let (input, target) = (&recent[..recent.len() - 1], &recent[1..]);
                let pad = len - input.len();
                inputs.extend(std::iter::repeat_n(0i64, pad));
                inputs.extend(input.iter().map(|&i| i64::from(i) + 1));
                targets.extend(std::iter::repeat_n(IGNORE, pad));
                targets.extend(target.iter().map(|&i| i64::from(i) + 1));
                positions += input.len();
            }
            let b = batch.len();
            let inputs = Tensor::<2, Int>::from_data(TensorData::new(inputs, [b, len]), device);
            let targets = Tensor::<2, Int>::from_data(TensorData::new(targets, [b, len]), device);
            let loss = masked_cross_entropy(net.logits(inputs), targets.clone());
            let value = f64::from(loss.clone().into_scalar::<f32>());
            if !value.is_finite() {
                return Err(Error::Input(format!(
                    "the SASRec loss became {value} in epoch {epoch}; lower the learning rate"
                )));
            }
            let predicted = targets
                .not_equal_elem(IGNORE)
                .int()
                .sum()
                .into_scalar::<i64>();
            loss_sum += value * predicted as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optimizer.step(config.learning_rate, net, grads);
        }
        let report = SasRecEpoch {
            epoch,
            loss: loss_sum / positions.max(1) as f64,
        };
        log::debug!("SASRec epoch {epoch}: loss {:.4}", report.loss);
        on_epoch(&report);
    }
    let net = net.valid();
    let device = net.items.weight.val().device();
    Ok(SasRec {
        config: *config,
        net,
        popularity: Popularity::fit(train),
        device,
    })
}

#[cfg(all(test, feature = "train"))]
mod tests {
    use super::*;

    #[test]
    fn learns_what_comes_next_in_a_fixed_order() -> Result<()> {
        // Every shopper walks the same cycle a → b → c → d → e from a different start; after
        // "c, d" comes "e", after "e, a" comes "b".
        let cycle = ["a", "b", "c", "d", "e"];
        let mut records = Vec::new();
        for u in 0..20 {
            for t in 0..3 {
                let item = cycle[(u + t) % 5];
                records.push((format!("u{u}"), item.to_owned(), 1.0, t as i64));
            }
        }
        let train = Interactions::from_records(&records)?;
        let config = SasRecConfig {
            max_len: 4,
            d_model: 16,
            n_heads: 2,
            n_layers: 1,
            dropout: 0.0,
            epochs: 80,
            batch_size: 8,
            learning_rate: 0.01,
            seed: 5,
        };
        let device = crate::open_device(crate::DeviceKind::Cpu)?.autodiff();
        let mut losses = Vec::new();
        let model = train_sasrec(&train, &config, &device, |r| losses.push(r.loss))?;
        assert!(losses[79] < 0.3 * losses[0], "{losses:?}");
        assert_eq!(
            model.recommend_after("x", &["c", "d"], 1, true)?.item_ids(),
            ["e"]
        );
        assert_eq!(
            model.recommend_after("x", &["e", "a"], 1, true)?.item_ids(),
            ["b"]
        );
        let cold = model.recommend_after("x", &["unknown"], 2, true)?;
        assert_eq!(cold.source, Source::Popularity);
        Ok(())
    }

    #[test]
    fn settings_that_cannot_train_are_refused() -> Result<()> {
        let train = Interactions::from_records(&[("u", "a", 1.0, 0), ("v", "b", 1.0, 0)])?;
        let device = crate::open_device(crate::DeviceKind::Cpu)?.autodiff();
        let odd = SasRecConfig {
            d_model: 10,
            n_heads: 3,
            ..SasRecConfig::default()
        };
        assert!(matches!(
            train_sasrec(&train, &odd, &device, |_| {}),
            Err(Error::Config(_))
        ));
        // No shopper has two items.
        let err = train_sasrec(&train, &SasRecConfig::default(), &device, |_| {})
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("two items"), "{err}");
        Ok(())
    }
}
