//! A BERT encoder in burn, loadable from Hugging Face weights.
//!
//! The architecture is the one of Devlin et al., "BERT: Pre-training of Deep Bidirectional
//! Transformers for Language Understanding" (<https://arxiv.org/abs/1810.04805>), written to
//! match `BertModel` in Hugging Face transformers, `src/transformers/models/bert/modeling_bert.py`
//! at commit `8ec58104181bfb34d824d89bccc009b4f6be6e0e`: post-norm layers, exact (erf) GELU,
//! absolute learned positions, and padding masked out of every attention row. Tensor names
//! follow that file, so its checkpoints load without renaming.

use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear,
    LinearConfig,
};
use burn::prelude::*;
use burn::tensor::activation::{gelu, softmax};

use crate::config::BertConfig;
use crate::error::{Error, Result};
use crate::weights::WeightSource;

/// Keys that Hugging Face checkpoints carry but an encoder does not use: a constant buffer of
/// position ids and the sentence-classification pooler.
const UNUSED_KEYS: [&str; 3] = [
    "embeddings.position_ids",
    "pooler.dense.weight",
    "pooler.dense.bias",
];

/// Word, position and segment embeddings, summed and normalised.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: LayerNorm,
    dropout: Dropout,
}

/// One post-norm transformer layer: self-attention, then a GELU feed-forward block.
#[derive(Module, Debug)]
pub struct BertLayer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
    attention_dropout: Dropout,
    dropout: Dropout,
    n_heads: usize,
}

/// The BERT encoder: embeddings followed by `n_layers` transformer layers.
#[derive(Module, Debug)]
pub struct Bert {
    embeddings: BertEmbeddings,
    layers: Vec<BertLayer>,
}

/// Token ids and masks of a padded batch, already on a device.
#[derive(Debug, Clone)]
pub struct BertInput {
    /// WordPiece ids, `[batch, seq]`.
    pub ids: Tensor<2, Int>,
    /// Segment ids, `[batch, seq]`.
    pub type_ids: Tensor<2, Int>,
    /// 1 for real tokens and 0 for padding, `[batch, seq]`.
    pub mask: Tensor<2, Int>,
}

impl BertConfig {
    /// Builds an encoder with freshly initialised weights.
    pub fn init(&self, device: &Device) -> Result<Bert> {
        self.validate()?;
        let embeddings = BertEmbeddings {
            word: EmbeddingConfig::new(self.vocab_size, self.d_model).init(device),
            position: EmbeddingConfig::new(self.max_seq_len, self.d_model).init(device),
            token_type: EmbeddingConfig::new(self.type_vocab_size, self.d_model).init(device),
            norm: self.layer_norm(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        };
        let layers = (0..self.n_layers)
            .map(|_| self.init_layer(device))
            .collect();
        Ok(Bert { embeddings, layers })
    }

    fn init_layer(&self, device: &Device) -> BertLayer {
        let square = || LinearConfig::new(self.d_model, self.d_model).init(device);
        BertLayer {
            query: square(),
            key: square(),
            value: square(),
            attention_out: square(),
            attention_norm: self.layer_norm(device),
            intermediate: LinearConfig::new(self.d_model, self.d_ff).init(device),
            output: LinearConfig::new(self.d_ff, self.d_model).init(device),
            output_norm: self.layer_norm(device),
            attention_dropout: DropoutConfig::new(self.attention_dropout).init(),
            dropout: DropoutConfig::new(self.dropout).init(),
            n_heads: self.n_heads,
        }
    }

    fn layer_norm(&self, device: &Device) -> LayerNorm {
        LayerNormConfig::new(self.d_model)
            .with_epsilon(self.layer_norm_eps)
            .init(device)
    }
}

impl Bert {
    /// Loads an encoder from the tensors of a `BertModel` checkpoint.
    ///
    /// Tensor names may carry a prefix (`bert.` in task checkpoints); the caller passes it so
    /// that task heads stored in the same file stay the caller's to load. The pooler and the
    /// position-id buffer are recognised and skipped. Call [`WeightSource::finish`] afterwards
    /// to refuse a file with tensors that nothing consumed.
    pub fn load(
        config: &BertConfig,
        source: &mut WeightSource<'_>,
        prefix: &str,
        device: &Device,
    ) -> Result<Self> {
        config.validate()?;
        let mut model = config.init(device)?;
        let d = config.d_model;
        let mut loader = Loader {
            source,
            prefix,
            device,
        };

        let emb = &mut model.embeddings;
        emb.word.weight =
            loader.param("embeddings.word_embeddings.weight", [config.vocab_size, d])?;
        emb.position.weight = loader.param(
            "embeddings.position_embeddings.weight",
            [config.max_seq_len, d],
        )?;
        emb.token_type.weight = loader.param(
            "embeddings.token_type_embeddings.weight",
            [config.type_vocab_size, d],
        )?;
        emb.norm = loader.layer_norm("embeddings.LayerNorm", emb.norm.clone(), d)?;

        for (i, layer) in model.layers.iter_mut().enumerate() {
            let at = |name: &str| format!("encoder.layer.{i}.{name}");
            layer.query = loader.linear(&at("attention.self.query"), d, d)?;
            layer.key = loader.linear(&at("attention.self.key"), d, d)?;
            layer.value = loader.linear(&at("attention.self.value"), d, d)?;
            layer.attention_out = loader.linear(&at("attention.output.dense"), d, d)?;
            layer.attention_norm = loader.layer_norm(
                &at("attention.output.LayerNorm"),
                layer.attention_norm.clone(),
                d,
            )?;
            layer.intermediate = loader.linear(&at("intermediate.dense"), d, config.d_ff)?;
            layer.output = loader.linear(&at("output.dense"), config.d_ff, d)?;
            layer.output_norm =
                loader.layer_norm(&at("output.LayerNorm"), layer.output_norm.clone(), d)?;
        }

        for key in UNUSED_KEYS {
            loader.source.skip(&format!("{prefix}{key}"));
        }
        log::debug!(
            "loaded a BERT encoder: {} layers, width {d}",
            config.n_layers
        );
        Ok(model)
    }

    /// Loads a `BertModel` checkpoint that holds nothing else.
    pub fn from_safetensors(config: &BertConfig, bytes: &[u8], device: &Device) -> Result<Self> {
        let mut source = WeightSource::new(bytes)?;
        let model = Self::load(config, &mut source, "", device)?;
        source.finish()?;
        Ok(model)
    }

    /// Computes the last hidden states.
    ///
    /// # Shapes
    ///
    /// - `input.ids`, `input.type_ids`, `input.mask`: `[batch, seq]`
    /// - output: `[batch, seq, d_model]`
    ///
    /// Rows of padding positions hold values that mean nothing; every real position ignores
    /// them, so a sentence gives the same states alone or padded in a batch.
    pub fn forward(&self, input: BertInput) -> Tensor<3> {
        let [batch, seq] = input.ids.dims();
        let device = input.ids.device();

        // Padding becomes a large negative bias on the attention scores of every key position:
        // [batch, seq] -> [batch, 1, 1, seq], broadcast over heads and query positions.
        let bias = (input.mask.float() - 1.0) * 1e9;
        let bias = bias.reshape([batch, 1, 1, seq]);

        let positions = Tensor::<1, Int>::arange(0..seq as i64, &device).reshape([1, seq]);
        let emb = &self.embeddings;
        let x = emb.word.forward(input.ids)
            + emb.position.forward(positions)
            + emb.token_type.forward(input.type_ids);
        let mut x = emb.dropout.forward(emb.norm.forward(x));

        for layer in &self.layers {
            x = layer.forward(x, bias.clone());
        }
        x
    }
}

impl BertLayer {
    /// # Shapes
    ///
    /// - `x`: `[batch, seq, d_model]`
    /// - `bias`: `[batch, 1, 1, seq]`
    /// - output: `[batch, seq, d_model]`
    fn forward(&self, x: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let [batch, seq, d_model] = x.dims();
        let d_head = d_model / self.n_heads;

        // [batch, seq, d_model] -> [batch, n_heads, seq, d_head]
        let heads = |t: Tensor<3>| {
            t.reshape([batch, seq, self.n_heads, d_head])
                .swap_dims(1, 2)
        };
        let q = heads(self.query.forward(x.clone()));
        let k = heads(self.key.forward(x.clone()));
        let v = heads(self.value.forward(x.clone()));

        let scores = q.matmul(k.swap_dims(2, 3)) / (d_head as f64).sqrt() + bias;
        let probs = self.attention_dropout.forward(softmax(scores, 3));

        // [batch, n_heads, seq, d_head] -> [batch, seq, d_model]
        let context = probs
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch, seq, d_model]);
        let attended = self.dropout.forward(self.attention_out.forward(context));
        let x = self.attention_norm.forward(attended + x);

        let hidden = gelu(self.intermediate.forward(x.clone()));
        let out = self.dropout.forward(self.output.forward(hidden));
        self.output_norm.forward(out + x)
    }
}

impl Bert {
    /// Every parameter as `(Hugging Face name, shape, values)`, in the layout the checkpoint
    /// files use: the inverse of [`Bert::load`].
    pub fn named_tensors(&self, prefix: &str) -> Result<Vec<NamedTensor>> {
        let mut out = Saver {
            prefix,
            tensors: Vec::new(),
        };
        let emb = &self.embeddings;
        out.tensor("embeddings.word_embeddings.weight", emb.word.weight.val())?;
        out.tensor(
            "embeddings.position_embeddings.weight",
            emb.position.weight.val(),
        )?;
        out.tensor(
            "embeddings.token_type_embeddings.weight",
            emb.token_type.weight.val(),
        )?;
        out.layer_norm("embeddings.LayerNorm", &emb.norm)?;
        for (i, layer) in self.layers.iter().enumerate() {
            let at = |name: &str| format!("encoder.layer.{i}.{name}");
            out.linear(&at("attention.self.query"), &layer.query)?;
            out.linear(&at("attention.self.key"), &layer.key)?;
            out.linear(&at("attention.self.value"), &layer.value)?;
            out.linear(&at("attention.output.dense"), &layer.attention_out)?;
            out.layer_norm(&at("attention.output.LayerNorm"), &layer.attention_norm)?;
            out.linear(&at("intermediate.dense"), &layer.intermediate)?;
            out.linear(&at("output.dense"), &layer.output)?;
            out.layer_norm(&at("output.LayerNorm"), &layer.output_norm)?;
        }
        Ok(out.tensors)
    }
}

/// A tensor ready to be written: its checkpoint name, shape and float32 values.
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// Reads parameters back out of burn, in checkpoint layout.
pub(crate) struct Saver<'p> {
    pub(crate) prefix: &'p str,
    pub(crate) tensors: Vec<NamedTensor>,
}

impl Saver<'_> {
    pub(crate) fn tensor<const D: usize>(&mut self, name: &str, tensor: Tensor<D>) -> Result<()> {
        let shape = tensor.dims().to_vec();
        let values = tensor
            .into_data()
            .try_to_vec_as::<f32>()
            .map_err(|e| Error::Readback(format!("{name}: {e:?}")))?;
        self.tensors
            .push((format!("{}{name}", self.prefix), shape, values));
        Ok(())
    }

    /// Back to PyTorch's `[d_output, d_input]`.
    pub(crate) fn linear(&mut self, name: &str, linear: &Linear) -> Result<()> {
        self.tensor(&format!("{name}.weight"), linear.weight.val().transpose())?;
        if let Some(bias) = &linear.bias {
            self.tensor(&format!("{name}.bias"), bias.val())?;
        }
        Ok(())
    }

    fn layer_norm(&mut self, name: &str, norm: &LayerNorm) -> Result<()> {
        self.tensor(&format!("{name}.weight"), norm.gamma.val())?;
        if let Some(beta) = &norm.beta {
            self.tensor(&format!("{name}.bias"), beta.val())?;
        }
        Ok(())
    }
}

/// Moves checkpoint tensors into burn parameters, converting layouts on the way.
struct Loader<'s, 'a> {
    source: &'s mut WeightSource<'a>,
    prefix: &'s str,
    device: &'s Device,
}

impl Loader<'_, '_> {
    fn param<const D: usize>(
        &mut self,
        key: &str,
        shape: [usize; D],
    ) -> Result<burn::module::Param<Tensor<D>>> {
        let key = format!("{}{key}", self.prefix);
        let tensor = self.source.tensor(&key, shape, self.device)?;
        Ok(burn::module::Param::from_tensor(tensor))
    }

    /// PyTorch stores a linear weight as `[d_output, d_input]`; burn's row layout is the
    /// transpose.
    fn linear(&mut self, name: &str, d_input: usize, d_output: usize) -> Result<Linear> {
        let key = format!("{}{name}.weight", self.prefix);
        let weight = self
            .source
            .transposed(&key, [d_output, d_input], self.device)?;
        let bias = self.param(&format!("{name}.bias"), [d_output])?;
        Ok(Linear {
            weight: burn::module::Param::from_tensor(weight),
            bias: Some(bias),
        })
    }

    fn layer_norm(&mut self, name: &str, mut norm: LayerNorm, d: usize) -> Result<LayerNorm> {
        norm.gamma = self.param(&format!("{name}.weight"), [d])?;
        norm.beta = Some(self.param(&format!("{name}.bias"), [d])?);
        Ok(norm)
    }
}

/// Checks that a batch fits the model before it reaches a kernel.
pub(crate) fn check_input(config: &BertConfig, batch: usize, seq: usize) -> Result<()> {
    if batch == 0 || seq == 0 {
        return Err(Error::Input(
            "a batch needs at least one sequence of one token".to_owned(),
        ));
    }
    if seq > config.max_seq_len {
        return Err(Error::Input(format!(
            "sequence of {seq} tokens exceeds the model's {} positions; split it into windows",
            config.max_seq_len
        )));
    }
    Ok(())
}
