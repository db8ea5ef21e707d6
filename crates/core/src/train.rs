//! Fine-tuning pieces for the tagger: batches bucketed by length, the learning-rate schedule and
//! one optimisation step. Behind the `train` feature, since the browser never trains.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use crate::bert::BertInput;
use crate::error::{Error, Result};
use crate::tagger::{Tagger, masked_cross_entropy};

/// Linear warm-up from 0 to `peak`, then linear decay to 0 at `total` steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmupLinear {
    /// The largest learning rate, reached at the end of warm-up.
    pub peak: f64,
    /// Steps of warm-up.
    pub warmup: usize,
    /// Steps in the whole run.
    pub total: usize,
}

impl WarmupLinear {
    /// Checks that the schedule can run: a positive rate and warm-up within the run.
    pub fn new(peak: f64, warmup: usize, total: usize) -> Result<Self> {
        if !(peak.is_finite() && peak > 0.0) || total == 0 || warmup > total {
            return Err(Error::Config(format!(
                "a schedule needs a positive rate and warm-up within the run \
                 (rate {peak}, warm-up {warmup}, total {total})"
            )));
        }
        Ok(Self {
            peak,
            warmup,
            total,
        })
    }

    /// The rate for step `step`, counted from 0.
    pub fn rate(&self, step: usize) -> f64 {
        if step < self.warmup {
            self.peak * (step + 1) as f64 / self.warmup as f64
        } else {
            let left = self.total.saturating_sub(step) as f64;
            let span = (self.total - self.warmup).max(1) as f64;
            self.peak * left / span
        }
    }
}

/// Indices of examples grouped into batches of similar length, in a seeded order.
///
/// Examples are sorted by length so that a batch pads little, cut into batches of at most
/// `batch_size`, and the batches shuffled with `seed`: the same seed gives the same batches.
pub fn length_buckets(lengths: &[usize], batch_size: usize, seed: u64) -> Result<Vec<Vec<usize>>> {
    if batch_size == 0 {
        return Err(Error::Config("batch size must be positive".to_owned()));
    }
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    let mut batches: Vec<Vec<usize>> = order.chunks(batch_size).map(<[usize]>::to_vec).collect();

    // Fisher-Yates with a small xorshift generator: reproducible everywhere, no dependency.
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..batches.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        batches.swap(i, (state % (i as u64 + 1)) as usize);
    }
    Ok(batches)
}

/// One optimisation step: forward, masked cross-entropy, backward, update.
///
/// The model must live on an autodiff device (`device.autodiff()`). Returns the updated model
/// and the batch's loss; a loss that is not finite is an error, so a diverging run stops
/// instead of writing garbage weights.
pub fn train_step(
    model: Tagger,
    optimizer: &mut ModuleOptimizer,
    input: BertInput,
    labels: Tensor<2, Int>,
    rate: f64,
) -> Result<(Tagger, f32)> {
    let loss = masked_cross_entropy(model.forward(input), labels);
    let value = loss.clone().into_scalar::<f32>();
    if !value.is_finite() {
        return Err(Error::Input(format!(
            "the loss became {value}; lower the learning rate"
        )));
    }
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    Ok((optimizer.step(rate, model, grads), value))
}

/// The same model on the device without autodiff, for evaluation: dropout off, no graph kept.
pub fn for_inference(model: &Tagger) -> Tagger {
    model.valid()
}

#[cfg(test)]
mod tests {
    use burn::optim::AdamWConfig;

    use super::*;
    use crate::config::BertConfig;
    use crate::tagger::TaggerConfig;

    #[test]
    fn the_rate_warms_up_then_decays_to_zero() -> Result<()> {
        let s = WarmupLinear::new(1e-3, 4, 12)?;
        let rates: Vec<f64> = (0..12).map(|i| s.rate(i) * 1e4).collect();
        let expected = [
            2.5, 5.0, 7.5, 10.0, 10.0, 8.75, 7.5, 6.25, 5.0, 3.75, 2.5, 1.25,
        ];
        for (r, e) in rates.iter().zip(expected) {
            assert!((r - e).abs() < 1e-9, "{rates:?}");
        }
        assert!(WarmupLinear::new(1e-3, 13, 12).is_err());
        assert!(WarmupLinear::new(f64::NAN, 1, 12).is_err());
        Ok(())
    }

    #[test]
    fn buckets_hold_similar_lengths_and_follow_the_seed() -> Result<()> {
        let lengths = [5, 1, 9, 2, 8, 3, 7, 4, 6];
        let batches = length_buckets(&lengths, 3, 7)?;
        assert_eq!(batches.len(), 3);
        let mut sorted: Vec<Vec<usize>> = batches
            .iter()
            .map(|b| b.iter().map(|&i| lengths[i]).collect())
            .collect();
        sorted.sort();
        assert_eq!(sorted, [vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 9]]);
        assert_eq!(batches, length_buckets(&lengths, 3, 7)?);
        assert!(length_buckets(&lengths, 0, 7).is_err());
        Ok(())
    }

    #[test]
    fn training_steps_lower_the_loss_on_a_small_batch() -> Result<()> {
        let device = crate::open_device(crate::DeviceKind::Cpu)?.autodiff();
        device.seed(3);
        let json = r#"{"vocab_size": 20, "hidden_size": 16, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 8,
            "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}"#;
        let encoder = BertConfig::from_json(json.as_bytes())?;
        let mut model = TaggerConfig {
            encoder,
            n_labels: 3,
        }
        .init(&device)?;
        let mut optimizer = AdamWConfig::new().init();

        let ids = Tensor::<2, Int>::from_data(
            TensorData::new(vec![1i64, 5, 6, 2, 1, 7, 2, 0], [2, 4]),
            &device,
        );
        let input = BertInput {
            ids,
            type_ids: Tensor::zeros([2, 4], &device),
            mask: Tensor::from_data(
                TensorData::new(vec![1i64, 1, 1, 1, 1, 1, 1, 0], [2, 4]),
                &device,
            ),
        };
        let labels = Tensor::<2, Int>::from_data(
            TensorData::new(vec![-100i64, 1, 2, -100, -100, 1, -100, -100], [2, 4]),
            &device,
        );

        let mut losses = Vec::new();
        for _ in 0..30 {
            let (next, loss) =
                train_step(model, &mut optimizer, input.clone(), labels.clone(), 1e-2)?;
            model = next;
            losses.push(loss);
        }
        assert!(losses[0] > 0.5, "{losses:?}");
        assert!(losses[29] < 0.05, "{losses:?}");
        Ok(())
    }
}
