//! The shopper-text tagger: a BERT encoder with a token-classification head.
//!
//! The head is one linear layer over each token's last hidden state, as in Hugging Face's
//! `BertForTokenClassification` (same file and commit as [`crate::Bert`]), whose tensor names it
//! loads: `bert.*` for the encoder and `classifier.*` for the head. Logits and loss are separate
//! functions; decoding turns logits into entities over the original text.

use std::collections::BTreeMap;

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};
use serde::Serialize;

use crate::bert::{Bert, BertInput, NamedTensor};
use crate::bio_decoding::Decoding;
use crate::config::BertConfig;
use crate::entity_decoding::{TaggedEntity, WindowProbs, decode_entities, decode_words};
use crate::error::{Error, Result};
use crate::model_file::{Storage, StoredTensor, open, seal, sha256_hex};
use crate::token_labels::IGNORE;
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

    /// Every parameter as `(name, shape, values)` in `BertForTokenClassification` layout:
    /// `bert.*` for the encoder and `classifier.*` for the head.
    pub fn named_tensors(&self) -> Result<Vec<NamedTensor>> {
        let mut tensors = self.encoder.named_tensors("bert.")?;
        let mut saver = crate::bert::Saver {
            prefix: "",
            tensors: Vec::new(),
        };
        saver.linear("classifier", &self.classifier)?;
        tensors.append(&mut saver.tensors);
        Ok(tensors)
    }

    /// The weights as a plain float32 `BertForTokenClassification` safetensors file with string
    /// metadata in its header, as Hugging Face tools read it. [`Tagger::load`] reads it back.
    pub fn to_safetensors(
        &self,
        metadata: std::collections::HashMap<String, String>,
    ) -> Result<Vec<u8>> {
        let stored = self
            .named_tensors()?
            .into_iter()
            .map(|(name, shape, values)| StoredTensor::encode(&name, &shape, &values, Storage::F32))
            .collect::<Result<Vec<_>>>()?
            .concat();
        let views = stored
            .iter()
            .map(|t| {
                safetensors::tensor::TensorView::new(t.dtype, t.shape.clone(), &t.bytes)
                    .map(|view| (t.name.clone(), view))
                    .map_err(|e| Error::WeightsFormat {
                        reason: format!("{}: {e}", t.name),
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

/// The model-file kind of a tagger.
pub const TAGGER_KIND: &str = "tagger";

/// How each part of a tagger is stored in its model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaggerStorage {
    /// The encoder's linear layers (query, key, value, attention output, feed-forward).
    pub linear: Storage,
    /// The word, position and token-type embedding tables.
    pub embeddings: Storage,
}

impl TaggerStorage {
    /// Everything in float32: training checkpoints.
    pub const F32: Self = Self {
        linear: Storage::F32,
        embeddings: Storage::F32,
    };

    /// The shipped tagger: int8 linear layers and embeddings.
    pub const INT8: Self = Self {
        linear: Storage::Int8,
        embeddings: Storage::Int8,
    };

    /// How the tensor of this name is stored. The head, biases and LayerNorms stay float32:
    /// together they are under 1% of the weights.
    fn of(&self, name: &str, shape: &[usize]) -> Storage {
        if shape.len() != 2 {
            Storage::F32
        } else if name.starts_with("bert.embeddings.") {
            self.embeddings
        } else if name.starts_with("bert.encoder.") {
            self.linear
        } else {
            Storage::F32
        }
    }

    /// A description for the model file's metadata.
    fn describe(&self) -> String {
        let name = |s: Storage| match s {
            Storage::F32 => "f32",
            Storage::F16 => "f16",
            Storage::Int8 => "int8 symmetric per row, scale of least squared error",
        };
        format!(
            "linear layers: {} (per output channel); embeddings: {}; head, biases and \
             LayerNorm: f32",
            name(self.linear),
            name(self.embeddings)
        )
    }
}

/// Writes a tagger as a Vitrine model file.
///
/// The metadata holds what loading needs besides the weights: the label list (JSON), the
/// encoder config (Hugging Face `config.json` names), the SHA-256 of the tokenizer it was
/// trained with, and the storage scheme; `extra` adds entries such as the model version or
/// training metrics.
pub fn write_tagger_file(
    tagger: &Tagger,
    config: &TaggerConfig,
    labels: &[String],
    tokenizer_json: &[u8],
    storage: TaggerStorage,
    extra: BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    if labels.len() != config.n_labels {
        return Err(Error::Config(format!(
            "{} label names for a head of {} labels",
            labels.len(),
            config.n_labels
        )));
    }
    let stored = tagger
        .named_tensors()?
        .into_iter()
        .map(|(name, shape, values)| {
            StoredTensor::encode(&name, &shape, &values, storage.of(&name, &shape))
        })
        .collect::<Result<Vec<_>>>()?
        .concat();
    let mut metadata = extra;
    metadata.insert("labels".to_owned(), to_json(&labels)?);
    metadata.insert("config".to_owned(), to_json(&config.encoder)?);
    metadata.insert("tokenizer_sha256".to_owned(), sha256_hex(tokenizer_json));
    metadata.insert("quantization".to_owned(), storage.describe());
    seal(TAGGER_KIND, &stored, metadata)
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Input(e.to_string()))
}

/// A tagger read from a verified model file, with what its metadata says about it.
#[derive(Debug)]
pub struct TaggerFile {
    /// The model.
    pub tagger: Tagger,
    /// Its shape.
    pub config: TaggerConfig,
    /// Its tag names, in the order of the head's outputs.
    pub labels: Vec<String>,
    /// Every metadata entry of the file.
    pub metadata: BTreeMap<String, String>,
}

impl TaggerFile {
    /// Reads a tagger model file onto `device`, refusing a file that is not one, fails its
    /// checksum, or whose tensors do not fit its config.
    pub fn read(bytes: &[u8], device: &Device) -> Result<Self> {
        let mut file = open(bytes, TAGGER_KIND)?;
        let labels: Vec<String> = serde_json::from_str(file.entry("labels")?)
            .map_err(|e| Error::ModelFile(format!("its label list does not parse: {e}")))?;
        let encoder = BertConfig::from_json(file.entry("config")?.as_bytes())?;
        let config = TaggerConfig {
            encoder,
            n_labels: labels.len(),
        };
        let tagger = Tagger::load(&config, &mut file.weights, device)?;
        file.weights.finish()?;
        Ok(Self {
            tagger,
            config,
            labels,
            metadata: file.metadata,
        })
    }

    /// Checks that `tokenizer_json` is the tokenizer the tagger was trained with.
    pub fn check_tokenizer(&self, tokenizer_json: &[u8]) -> Result<()> {
        let expected = self
            .metadata
            .get("tokenizer_sha256")
            .map(String::as_str)
            .unwrap_or_default();
        let actual = sha256_hex(tokenizer_json);
        if actual == expected {
            Ok(())
        } else {
            Err(Error::ModelFile(format!(
                "the tokenizer given has SHA-256 {actual}, but the tagger was trained with \
                 {expected}; use the tokenizer.json shipped beside the weights"
            )))
        }
    }

    /// A ready-to-use [`TextTagger`] on `device`, after checking the tokenizer.
    pub fn into_text_tagger(self, tokenizer_json: &[u8], device: &Device) -> Result<TextTagger> {
        self.check_tokenizer(tokenizer_json)?;
        let tokenizer = TextTokenizer::from_bytes(tokenizer_json)?;
        TextTagger::new(tokenizer, self.tagger, &self.config, self.labels, device)
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

/// A tokenizer, a tagger and its label names: text in, entities out.
#[derive(Debug)]
pub struct TextTagger {
    tokenizer: TextTokenizer,
    tagger: Tagger,
    labels: Vec<String>,
    device: Device,
    config: BertConfig,
    decoding: Decoding,
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
            decoding: Decoding::default(),
        })
    }

    /// The entities of `text`; empty or blank text has none.
    ///
    /// Long text is tagged window by window, then decoded as one: a word in two windows is
    /// read from the one that gives it more context, so no entity is reported twice.
    pub fn tag(&self, text: &str) -> Result<Vec<TaggedEntity>> {
        let windows = self.tokenizer.encode(text)?;
        let probs = windows
            .iter()
            .map(|w| read_probs(self.probabilities(w)?.into_data()))
            .collect::<Result<Vec<_>>>()?;
        decode_entities(text, &pair(&windows, &probs), &self.labels, self.decoding)
    }

    /// Like [`TextTagger::tag`], reading results back asynchronously as WebGPU needs.
    pub async fn tag_async(&self, text: &str) -> Result<Vec<TaggedEntity>> {
        let windows = self.tokenizer.encode(text)?;
        let probs = self.probabilities_async(&windows).await?;
        decode_entities(text, &pair(&windows, &probs), &self.labels, self.decoding)
    }

    /// One tag per word of text that is already split into words, as evaluation compares
    /// with gold tags: each word is read from its first piece.
    pub fn word_tags<S: AsRef<str>>(&self, words: &[S]) -> Result<Vec<String>> {
        let windows = self.tokenizer.encode_words(words)?;
        let probs = windows
            .iter()
            .map(|w| read_probs(self.probabilities(w)?.into_data()))
            .collect::<Result<Vec<_>>>()?;
        self.name_word_tags(&windows, &probs, words.len())
    }

    /// Like [`TextTagger::word_tags`], reading results back asynchronously as WebGPU needs.
    pub async fn word_tags_async<S: AsRef<str>>(&self, words: &[S]) -> Result<Vec<String>> {
        let windows = self.tokenizer.encode_words(words)?;
        let probs = self.probabilities_async(&windows).await?;
        self.name_word_tags(&windows, &probs, words.len())
    }

    /// The tag names, in the order of the head's outputs.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Sets how word tags are read from the probabilities; [`Decoding::ValidBio`] unless set.
    pub fn set_decoding(&mut self, decoding: Decoding) {
        self.decoding = decoding;
    }

    fn name_word_tags(
        &self,
        windows: &[Encoding],
        probs: &[Vec<f32>],
        n_words: usize,
    ) -> Result<Vec<String>> {
        let tags = decode_words(&pair(windows, probs), n_words, &self.labels, self.decoding)?;
        Ok(tags.into_iter().map(|t| self.labels[t].clone()).collect())
    }

    /// Each window's tag probabilities, one window at a time: a long text's windows together
    /// could exhaust a browser's memory.
    async fn probabilities_async(&self, windows: &[Encoding]) -> Result<Vec<Vec<f32>>> {
        let mut all = Vec::with_capacity(windows.len());
        for window in windows {
            let data = self.probabilities(window)?.into_data_async().await;
            all.push(read_probs(
                data.map_err(|e| Error::Readback(format!("{e:?}")))?,
            )?);
        }
        Ok(all)
    }

    fn probabilities(&self, window: &Encoding) -> Result<Tensor<3>> {
        let input =
            crate::encoder::batch(&self.config, std::slice::from_ref(window), &self.device)?;
        Ok(tag_probabilities(self.tagger.forward(input)))
    }
}

fn pair<'a>(windows: &'a [Encoding], probs: &'a [Vec<f32>]) -> Vec<WindowProbs<'a>> {
    windows
        .iter()
        .zip(probs)
        .map(|(w, p)| (w, p.as_slice()))
        .collect()
}

fn read_probs(data: TensorData) -> Result<Vec<f32>> {
    data.try_to_vec::<f32>()
        .map_err(|e| Error::Readback(format!("{e:?}")))
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
