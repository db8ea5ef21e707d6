//! A tokenizer and a BERT encoder together: text in, hidden states out.

use burn::prelude::*;

use crate::bert::{Bert, BertInput, check_input};
use crate::config::BertConfig;
use crate::error::{Error, Result};
use crate::tokenizer::{Encoding, TextTokenizer};

/// The last hidden states of one window, one row per token.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenStates {
    /// Width of each row.
    pub d_model: usize,
    /// Row-major values, `n_tokens * d_model` of them.
    pub values: Vec<f32>,
}

impl TokenStates {
    /// Number of tokens.
    pub fn n_tokens(&self) -> usize {
        self.values.len() / self.d_model
    }

    /// The hidden state of one token.
    pub fn row(&self, token: usize) -> &[f32] {
        &self.values[token * self.d_model..(token + 1) * self.d_model]
    }

    /// Euclidean norm of every token's state.
    pub fn norms(&self) -> Vec<f32> {
        self.values
            .chunks_exact(self.d_model)
            .map(l2_norm)
            .collect()
    }

    /// The mean of all token states: the sentence embedding of sentence-transformers before
    /// its final normalisation.
    pub fn mean_pooled(&self) -> Vec<f32> {
        let mut mean = vec![0.0; self.d_model];
        for row in self.values.chunks_exact(self.d_model) {
            mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
        }
        let n = self.n_tokens().max(1) as f32;
        mean.iter_mut().for_each(|m| *m /= n);
        mean
    }
}

/// Euclidean norm of a vector.
pub fn l2_norm(values: &[f32]) -> f32 {
    values.iter().map(|v| v * v).sum::<f32>().sqrt()
}

/// Text to contextual token states on one device.
#[derive(Debug)]
pub struct Encoder {
    config: BertConfig,
    model: Bert,
    tokenizer: TextTokenizer,
    device: Device,
}

impl Encoder {
    /// Builds an encoder from the bytes of `config.json`, `model.safetensors` and
    /// `tokenizer.json`.
    pub fn from_bytes(
        config_json: &[u8],
        weights: &[u8],
        tokenizer_json: &[u8],
        device: &Device,
    ) -> Result<Self> {
        let config = BertConfig::from_json(config_json)?;
        let mut tokenizer = TextTokenizer::from_bytes(tokenizer_json)?;
        let windows = crate::tokenizer::WindowConfig {
            max_len: config.max_seq_len,
            ..tokenizer.windows()
        };
        tokenizer.set_windows(windows)?;
        if tokenizer.vocab_size() > config.vocab_size {
            return Err(Error::Config(format!(
                "the tokenizer knows {} ids but the model only {}: tokenizer and weights do not \
                 belong together",
                tokenizer.vocab_size(),
                config.vocab_size
            )));
        }
        let model = Bert::from_safetensors(&config, weights, device)?;
        Ok(Self {
            config,
            model,
            tokenizer,
            device: device.clone(),
        })
    }

    /// The model configuration.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The model itself.
    pub fn model(&self) -> &Bert {
        &self.model
    }

    /// Pads encodings of different lengths into one batch on this encoder's device.
    pub fn batch(&self, encodings: &[Encoding]) -> Result<BertInput> {
        batch(&self.config, encodings, &self.device)
    }

    /// Runs a batch and returns the states of the real tokens of each encoding.
    pub fn hidden_states(&self, encodings: &[Encoding]) -> Result<Vec<TokenStates>> {
        let states = self.model.forward(self.batch(encodings)?);
        let data = states.into_data();
        split_states(data, encodings, self.config.d_model)
    }

    /// Like [`Encoder::hidden_states`], reading results back asynchronously as WebGPU needs.
    pub async fn hidden_states_async(&self, encodings: &[Encoding]) -> Result<Vec<TokenStates>> {
        let states = self.model.forward(self.batch(encodings)?);
        let data = states
            .into_data_async()
            .await
            .map_err(|e| Error::Readback(format!("{e:?}")))?;
        split_states(data, encodings, self.config.d_model)
    }
}

/// Pads encodings into one batch: ids and type ids with zeros, the mask with zeros.
pub fn batch(config: &BertConfig, encodings: &[Encoding], device: &Device) -> Result<BertInput> {
    let seq = encodings.iter().map(Encoding::len).max().unwrap_or(0);
    check_input(config, encodings.len(), seq)?;
    if let Some(id) = encodings
        .iter()
        .flat_map(|e| &e.ids)
        .find(|id| **id as usize >= config.vocab_size)
    {
        return Err(Error::Input(format!(
            "token id {id} lies outside the model's {} ids: tokenizer and weights do not match",
            config.vocab_size
        )));
    }
    let pad = |pick: fn(&Encoding) -> &[u32], fill: i64| -> Tensor<2, Int> {
        let values: Vec<i64> = encodings
            .iter()
            .flat_map(|e| {
                let row = pick(e);
                row.iter()
                    .map(|v| i64::from(*v))
                    .chain(std::iter::repeat_n(fill, seq - row.len()))
            })
            .collect();
        Tensor::from_data(TensorData::new(values, [encodings.len(), seq]), device)
    };
    Ok(BertInput {
        ids: pad(|e| &e.ids, i64::from(config.pad_token_id)),
        type_ids: pad(|e| &e.type_ids, 0),
        mask: pad(|e| &e.attention_mask, 0),
    })
}

fn split_states(
    data: TensorData,
    encodings: &[Encoding],
    d_model: usize,
) -> Result<Vec<TokenStates>> {
    let values = data
        .try_to_vec::<f32>()
        .map_err(|e| Error::Readback(format!("{e:?}")))?;
    let seq = values.len() / (encodings.len() * d_model).max(1);
    Ok(encodings
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let start = i * seq * d_model;
            TokenStates {
                d_model,
                values: values[start..start + e.len() * d_model].to_vec(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> BertConfig {
        let json = r#"{"vocab_size": 10, "hidden_size": 4, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 8, "max_position_embeddings": 6}"#;
        BertConfig::from_json(json.as_bytes()).expect("valid tiny config")
    }

    fn encoding(ids: Vec<u32>) -> Encoding {
        let n = ids.len();
        Encoding {
            ids,
            type_ids: vec![0; n],
            attention_mask: vec![1; n],
            tokens: vec![String::new(); n],
            word_ids: vec![None; n],
            sequence_ids: vec![None; n],
            special: vec![false; n],
            first_of_word: vec![true; n],
            offsets: vec![(0, 0); n],
            offsets_utf16: vec![(0, 0); n],
        }
    }

    #[test]
    fn batches_longer_than_the_positions_or_empty_are_refused() -> Result<()> {
        let device = crate::open_device(crate::DeviceKind::Cpu)?;
        let err = batch(&tiny(), &[encoding(vec![1; 7])], &device).unwrap_err();
        assert!(
            err.to_string().contains("exceeds the model's 6 positions"),
            "{err}"
        );
        let err = batch(&tiny(), &[], &device).unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{err}");
        Ok(())
    }

    #[test]
    fn ids_outside_the_vocabulary_are_refused() -> Result<()> {
        let device = crate::open_device(crate::DeviceKind::Cpu)?;
        let err = batch(&tiny(), &[encoding(vec![1, 10])], &device).unwrap_err();
        assert!(err.to_string().contains("token id 10"), "{err}");
        Ok(())
    }

    #[test]
    fn padding_fills_ids_with_the_pad_id_and_the_mask_with_zeros() -> Result<()> {
        let device = crate::open_device(crate::DeviceKind::Cpu)?;
        let input = batch(
            &tiny(),
            &[encoding(vec![3, 4, 5]), encoding(vec![6])],
            &device,
        )?;
        let ids = input
            .ids
            .into_data()
            .try_to_vec_as::<i64>()
            .expect("int data");
        let mask = input
            .mask
            .into_data()
            .try_to_vec_as::<i64>()
            .expect("int data");
        assert_eq!(ids, [3, 4, 5, 6, 0, 0]);
        assert_eq!(mask, [1, 1, 1, 1, 0, 0]);
        Ok(())
    }
}
