//! The encoder configuration, read from a Hugging Face `config.json`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The shape and hyper-parameters of a BERT encoder.
///
/// Field names follow this workspace's conventions; the serde names are those of the Hugging
/// Face `config.json`, so the file of any BERT checkpoint deserialises as it is. Fields that
/// configure heads or training-only tricks (`architectures`, `gradient_checkpointing`) are
/// ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    /// Number of WordPiece ids.
    pub vocab_size: usize,
    /// Width of every hidden state.
    #[serde(rename = "hidden_size")]
    pub d_model: usize,
    /// Number of transformer layers.
    #[serde(rename = "num_hidden_layers")]
    pub n_layers: usize,
    /// Number of attention heads per layer.
    #[serde(rename = "num_attention_heads")]
    pub n_heads: usize,
    /// Width of the feed-forward layer.
    #[serde(rename = "intermediate_size")]
    pub d_ff: usize,
    /// Activation of the feed-forward layer; only `gelu` (the exact, erf-based one) is run.
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// Dropout on hidden states during training.
    #[serde(rename = "hidden_dropout_prob", default = "default_dropout")]
    pub dropout: f64,
    /// Dropout on attention probabilities during training.
    #[serde(rename = "attention_probs_dropout_prob", default = "default_dropout")]
    pub attention_dropout: f64,
    /// Number of learned positions: the longest sequence the model takes.
    #[serde(rename = "max_position_embeddings")]
    pub max_seq_len: usize,
    /// Number of segment (token type) ids.
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    /// Epsilon of every LayerNorm.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Id of the padding token.
    #[serde(default)]
    pub pad_token_id: u32,
    /// Kind of position embedding; only `absolute` is run.
    #[serde(default = "default_position_kind")]
    pub position_embedding_type: String,
}

fn default_act() -> String {
    "gelu".to_owned()
}

fn default_dropout() -> f64 {
    0.1
}

fn default_type_vocab() -> usize {
    2
}

fn default_eps() -> f64 {
    1e-12
}

fn default_position_kind() -> String {
    "absolute".to_owned()
}

impl BertConfig {
    /// Parses and checks a `config.json`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let config: Self = serde_json::from_slice(bytes)
            .map_err(|e| Error::Config(format!("config.json does not parse: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks that the configuration describes a model this crate can run.
    pub fn validate(&self) -> Result<()> {
        let sizes = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.d_model),
            ("num_hidden_layers", self.n_layers),
            ("num_attention_heads", self.n_heads),
            ("intermediate_size", self.d_ff),
            ("max_position_embeddings", self.max_seq_len),
            ("type_vocab_size", self.type_vocab_size),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(Error::Config(format!("{name} must be positive")));
        }
        if !self.d_model.is_multiple_of(self.n_heads) {
            return Err(Error::Config(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.d_model, self.n_heads
            )));
        }
        if self.hidden_act != "gelu" {
            return Err(Error::Config(format!(
                "hidden_act `{}` is not supported; only `gelu` is",
                self.hidden_act
            )));
        }
        if self.position_embedding_type != "absolute" {
            return Err(Error::Config(format!(
                "position_embedding_type `{}` is not supported; only `absolute` is",
                self.position_embedding_type
            )));
        }
        let dropouts = [self.dropout, self.attention_dropout];
        if dropouts.iter().any(|p| !(0.0..1.0).contains(p)) {
            return Err(Error::Config(
                "dropout probabilities must lie in [0, 1)".to_owned(),
            ));
        }
        // Written so that NaN fails too.
        if self.layer_norm_eps.is_nan() || self.layer_norm_eps <= 0.0 {
            return Err(Error::Config("layer_norm_eps must be positive".to_owned()));
        }
        if self.pad_token_id as usize >= self.vocab_size {
            return Err(Error::Config(
                "pad_token_id lies outside the vocabulary".to_owned(),
            ));
        }
        Ok(())
    }

    /// Width of one attention head.
    pub fn d_head(&self) -> usize {
        self.d_model / self.n_heads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{
        "architectures": ["BertModel"], "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 384,
        "intermediate_size": 1536, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
        "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 6,
        "pad_token_id": 0, "position_embedding_type": "absolute", "type_vocab_size": 2,
        "vocab_size": 30522
    }"#;

    #[test]
    fn reads_a_hugging_face_config() -> Result<()> {
        let config = BertConfig::from_json(MINILM.as_bytes())?;
        assert_eq!(config.d_model, 384);
        assert_eq!(config.n_layers, 6);
        assert_eq!(config.d_head(), 32);
        assert_eq!(config.max_seq_len, 512);
        Ok(())
    }

    #[test]
    fn rejects_heads_that_do_not_divide_the_width() {
        let bad = MINILM.replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 7");
        let err = BertConfig::from_json(bad.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("not a multiple"), "{err}");
    }

    #[test]
    fn rejects_an_activation_it_does_not_run() {
        let bad = MINILM.replace("\"gelu\"", "\"relu\"");
        let err = BertConfig::from_json(bad.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("`relu`"), "{err}");
    }

    #[test]
    fn rejects_malformed_json() {
        let err = BertConfig::from_json(b"{\"hidden_size\": ").unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
    }
}
