//! The shopper-text tagger: a BERT encoder with a token-classification head.
//!
//! The head is one linear layer over each token's last hidden state, as in Hugging Face's
//! `BertForTokenClassification` (same file and commit as [`crate::Bert`]), whose tensor names it
//! loads: `bert.*` for the encoder and `classifier.*` for the head. Logits and loss are separate
//! functions; decoding turns logits into entities over the original text.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};
use serde::Serialize;

use crate::bert::{Bert, BertInput};
use crate::config::BertConfig;
use crate::entity_metrics::{Scheme, entities};
use crate::error::{Error, Result};
use crate::token_labels::{IGNORE, word_values};
use crate::tokenizer::{Encoding, TextTokenizer};
use crate::weights::WeightSource;

/// A BERT encoder with a linear tag classifier on every token.
#[derive(Module, Debug)]
pub struct Tagger {
    encoder: Bert,
    dropout: Dropout,
    classifier: Linear,
}

/// Builds a [`Tagger`].
#[derive(Debug, Clone, PartialEq)]
pub struct TaggerConfig {
    /// The encoder's configuration.
    pub encoder: BertConfig,
    /// Number of tags, `O` included.
    pub n_labels: usize,
}

impl TaggerConfig {
    /// A tagger with fresh weights everywhere.
    pub fn init(&self, device: &Device) -> Result<Tagger> {
        self.check()?;
        Ok(Tagger {
            encoder: self.encoder.init(device)?,
            dropout: DropoutConfig::new(self.encoder.dropout).init(),
            classifier: LinearConfig::new(self.encoder.d_model, self.n_labels).init(device),
        })
    }

    /// A tagger whose encoder starts from pre-trained weights and whose head is fresh: the
    /// starting point of fine-tuning.
    pub fn init_from_encoder(&self, encoder: Bert, device: &Device) -> Result<Tagger> {
        self.check()?;
        Ok(Tagger {
            encoder,
            dropout: DropoutConfig::new(self.encoder.dropout).init(),
            classifier: LinearConfig::new(self.encoder.d_model, self.n_labels).init(device),
        })
    }

    fn check(&self) -> Result<()> {
        if self.n_labels < 2 {
            return Err(Error::Config(format!(
                "a tagger needs at least 2 labels, got {}",
                self.n_labels
            )));
        }
        self.encoder.validate()
    }
}

impl Tagger {
    /// Loads a `BertForTokenClassification` checkpoint: `bert.*` and `classifier.*` tensors.
    pub fn load(
        config: &TaggerConfig,
        source: &mut WeightSource<'_>,
        device: &Device,
    ) -> Result<Self> {
        config.check()?;
        let encoder = Bert::load(&config.encoder, source, "bert.", device)?;
        let (d, n) = (config.encoder.d_model, config.n_labels);
        let weight = source.transposed("classifier.weight", [n, d], device)?;
        let bias = source.tensor::<1>("classifier.bias", [n], device)?;
        let classifier = Linear {
            weight: burn::module::Param::from_tensor(weight),
            bias: Some(burn::module::Param::from_tensor(bias)),
        };
        let dropout = DropoutConfig::new(config.encoder.dropout).init();
        Ok(Self {
            encoder,
            dropout,
            classifier,
        })
    }

    /// The weights as a `BertForTokenClassification` safetensors file, with string metadata
    /// in its header. [`Tagger::load`] reads it back.
    pub fn to_safetensors(
        &self,
        metadata: std::collections::HashMap<String, String>,
    ) -> Result<Vec<u8>> {
        let mut tensors = self.encoder.named_tensors("bert.")?;
        let mut saver = crate::bert::Saver {
            prefix: "",
            tensors: Vec::new(),
        };
        saver.linear("classifier", &self.classifier)?;
        tensors.append(&mut saver.tensors);

        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
            .into_iter()
            .map(|(name, shape, values)| {
                (
                    name,
                    shape,
                    values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                )
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(name, shape, data)| {
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                    .map(|view| (name.clone(), view))
                    .map_err(|e| Error::WeightsFormat {
                        reason: format!("{name}: {e}"),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        safetensors::serialize(views, Some(metadata)).map_err(|e| Error::WeightsFormat {
            reason: e.to_string(),
        })
    }

    /// Tag scores for every token.
    ///
    /// # Shapes
    ///
    /// - `input`: `[batch, seq]` each
    /// - output: `[batch, seq, n_labels]`
    pub fn forward(&self, input: BertInput) -> Tensor<3> {
        let states = self.encoder.forward(input);
        self.classifier.forward(self.dropout.forward(states))
    }
}

/// Mean cross-entropy over the tokens whose label is not [`IGNORE`].
///
/// # Shapes
///
/// - `logits`: `[batch, seq, n_labels]`
/// - `labels`: `[batch, seq]`
/// - output: `[1]`
///
/// A batch with no labelled token gives 0 rather than dividing by zero.
pub fn masked_cross_entropy(logits: Tensor<3>, labels: Tensor<2, Int>) -> Tensor<1> {
    let [batch, seq, _] = logits.dims();
    let keep = labels.clone().not_equal_elem(IGNORE);
    let safe_labels = labels.clamp_min(0).reshape([batch, seq, 1]);

    // [batch, seq, n_labels] -> [batch, seq, 1]: the log-probability of each true label.
    let picked = log_softmax(logits, 2)
        .gather(2, safe_labels)
        .reshape([batch, seq]);
    let weights = keep.float();
    let count = weights.clone().sum().clamp_min(1.0);
    -(picked * weights).sum() / count
}

/// One entity found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaggedEntity {
    /// The entity type.
    pub kind: String,
    /// The text it covers.
    pub text: String,
    /// Start and end in characters.
    pub chars: (usize, usize),
    /// Start and end in UTF-16 code units.
    pub utf16: (usize, usize),
    /// Mean probability of the chosen tag over the entity's words.
    pub confidence: f32,
}

/// Turns one window's tag probabilities into entities over the original text.
///
/// `probs` holds `encoding.len() * labels.len()` values, row-major by token. Each word takes
/// the most probable tag of its first piece; stray `I-` tags start entities (the lenient
/// reading, so nothing the model marked is hidden), and an entity spans its words' pieces.
pub fn decode_entities(
    text: &str,
    encoding: &Encoding,
    probs: &[f32],
    labels: &[String],
) -> Result<Vec<TaggedEntity>> {
    let n = labels.len();
    if probs.len() != encoding.len() * n {
        return Err(Error::Input(format!(
            "{} probabilities for {} tokens of {n} labels",
            probs.len(),
            encoding.len()
        )));
    }
    let best = best_tags(probs, n);

    // Words of this window in order, each with its first piece's tag and probability and the
    // character and UTF-16 spans of all its pieces.
    let first = word_values(encoding, &best, max_word(encoding));
    let mut words: Vec<WordTag> = Vec::new();
    for (i, word) in encoding.word_ids.iter().enumerate() {
        let Some(w) = *word else { continue };
        match words.last_mut() {
            Some(last) if last.word == w => {
                last.chars.1 = encoding.offsets[i].1;
                last.utf16.1 = encoding.offsets_utf16[i].1;
            }
            _ => {
                if let Some(Some((tag, p))) = first.get(w as usize) {
                    let (chars, utf16) = (encoding.offsets[i], encoding.offsets_utf16[i]);
                    words.push(WordTag {
                        word: w,
                        tag: *tag,
                        p: *p,
                        chars,
                        utf16,
                    });
                }
            }
        }
    }

    let tags: Vec<&str> = words.iter().map(|w| labels[w.tag].as_str()).collect();
    let found = entities(&tags, Scheme::Lenient)?;
    Ok(found
        .into_iter()
        .map(|e| {
            let (first, last) = (&words[e.start], &words[e.end - 1]);
            let chars = (first.chars.0, last.chars.1);
            let confidence =
                words[e.start..e.end].iter().map(|w| w.p).sum::<f32>() / (e.end - e.start) as f32;
            TaggedEntity {
                kind: e.kind,
                text: text.chars().skip(chars.0).take(chars.1 - chars.0).collect(),
                chars,
                utf16: (first.utf16.0, last.utf16.1),
                confidence,
            }
        })
        .collect())
}

/// One word of a window as decoding sees it.
struct WordTag {
    word: u32,
    tag: usize,
    p: f32,
    chars: (usize, usize),
    utf16: (usize, usize),
}

/// The most probable tag of each token and its probability, from rows of `n_labels`
/// probabilities.
pub fn best_tags(probs: &[f32], n_labels: usize) -> Vec<(usize, f32)> {
    probs
        .chunks_exact(n_labels.max(1))
        .map(|row| {
            row.iter().enumerate().fold(
                (0, f32::MIN),
                |acc, (i, p)| if *p > acc.1 { (i, *p) } else { acc },
            )
        })
        .collect()
}

/// Joins the entities of overlapping windows: one entity per character span, the most
/// confident where windows disagree on its type, in text order.
pub fn merge_windows(windows: Vec<Vec<TaggedEntity>>) -> Vec<TaggedEntity> {
    let mut merged: Vec<TaggedEntity> = Vec::new();
    for entity in windows.into_iter().flatten() {
        match merged.iter_mut().find(|e| e.chars == entity.chars) {
            Some(kept) if kept.confidence < entity.confidence => *kept = entity,
            Some(_) => {}
            None => merged.push(entity),
        }
    }
    merged.sort_by_key(|e| e.chars);
    merged
}

/// A tokenizer, a tagger and its label names: text in, entities out.
#[derive(Debug)]
pub struct TextTagger {
    tokenizer: TextTokenizer,
    tagger: Tagger,
    labels: Vec<String>,
    device: Device,
    config: BertConfig,
}

impl TextTagger {
    /// Puts the parts together, checking that the labels fit the tagger's head.
    pub fn new(
        tokenizer: TextTokenizer,
        tagger: Tagger,
        config: &TaggerConfig,
        labels: Vec<String>,
        device: &Device,
    ) -> Result<Self> {
        if labels.len() != config.n_labels {
            return Err(Error::Config(format!(
                "{} label names for a head of {} labels",
                labels.len(),
                config.n_labels
            )));
        }
        Ok(Self {
            tokenizer,
            tagger,
            labels,
            device: device.clone(),
            config: config.encoder.clone(),
        })
    }

    /// The entities of `text`; empty or blank text has none.
    ///
    /// Long text is tagged window by window and entities seen in two windows are kept once.
    pub fn tag(&self, text: &str) -> Result<Vec<TaggedEntity>> {
        let mut found = Vec::new();
        for window in self.tokenizer.encode(text)? {
            let probs = self.probabilities(&window)?.into_data();
            let probs = probs
                .try_to_vec::<f32>()
                .map_err(|e| Error::Readback(format!("{e:?}")))?;
            found.push(decode_entities(text, &window, &probs, &self.labels)?);
        }
        Ok(merge_windows(found))
    }

    /// Like [`TextTagger::tag`], reading results back asynchronously as WebGPU needs.
    pub async fn tag_async(&self, text: &str) -> Result<Vec<TaggedEntity>> {
        let mut found = Vec::new();
        for window in self.tokenizer.encode(text)? {
            let probs = self.probabilities(&window)?.into_data_async().await;
            let probs = probs.map_err(|e| Error::Readback(format!("{e:?}")))?;
            let probs = probs
                .try_to_vec::<f32>()
                .map_err(|e| Error::Readback(format!("{e:?}")))?;
            found.push(decode_entities(text, &window, &probs, &self.labels)?);
        }
        Ok(merge_windows(found))
    }

    fn probabilities(&self, window: &Encoding) -> Result<Tensor<3>> {
        let input =
            crate::encoder::batch(&self.config, std::slice::from_ref(window), &self.device)?;
        Ok(tag_probabilities(self.tagger.forward(input)))
    }
}

fn max_word(encoding: &Encoding) -> usize {
    encoding
        .word_ids
        .iter()
        .flatten()
        .max()
        .map_or(0, |w| *w as usize + 1)
}

/// Probabilities of every tag for every token, `[batch, seq, n_labels]` flattened per window.
pub fn tag_probabilities(logits: Tensor<3>) -> Tensor<3> {
    softmax(logits, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_averages_the_labelled_tokens_only() -> Result<()> {
        let device = crate::open_device(crate::DeviceKind::Cpu)?;
        // Token 0: logits (0, 0), label 1 -> -ln 0.5. Token 1: (ln 3, 0), label 0 -> -ln 0.75.
        // Token 2 is ignored whatever its logits.
        let logits = Tensor::<3>::from_data(
            TensorData::new(vec![0.0f32, 0.0, 3f32.ln(), 0.0, 50.0, -50.0], [1, 3, 2]),
            &device,
        );
        let labels =
            Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 0, IGNORE], [1, 3]), &device);
        let loss = masked_cross_entropy(logits, labels).into_scalar::<f32>();
        let expected = (2f32.ln() + (4f32 / 3.0).ln()) / 2.0;
        assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
        Ok(())
    }

    #[test]
    fn a_batch_without_labels_has_zero_loss() -> Result<()> {
        let device = crate::open_device(crate::DeviceKind::Cpu)?;
        let logits = Tensor::<3>::zeros([1, 2, 3], &device);
        let labels =
            Tensor::<2, Int>::from_data(TensorData::new(vec![IGNORE, IGNORE], [1, 2]), &device);
        let loss = masked_cross_entropy(logits, labels).into_scalar::<f32>();
        assert_eq!(loss, 0.0);
        Ok(())
    }

    #[test]
    fn too_few_labels_is_a_config_error() {
        let json = r#"{"vocab_size": 10, "hidden_size": 4, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 8, "max_position_embeddings": 6}"#;
        let encoder = BertConfig::from_json(json.as_bytes()).expect("valid");
        let device = crate::open_device(crate::DeviceKind::Cpu).expect("cpu");
        let err = TaggerConfig {
            encoder,
            n_labels: 1,
        }
        .init(&device)
        .unwrap_err();
        assert!(err.to_string().contains("at least 2 labels"), "{err}");
    }
}
