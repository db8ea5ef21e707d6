//! The core of Vitrine, a recommender that learns from a shopper's behaviour on their own device.
//!
//! This crate holds the models, the data pipeline and the metrics. It names no concrete
//! backend: a [`Device`](burn::prelude::Device) chosen at run time (see [`open_device`]) says
//! where tensors live, so the same code runs natively, in a browser on WebGPU, or on the CPU
//! fallback in wasm32.
//!
//! What is here so far:
//! - [`TextTokenizer`]: WordPiece tokens with character and UTF-16 offsets, and overlapping
//!   windows for long text.
//! - [`Bert`]: a BERT encoder loadable from Hugging Face safetensors, and [`Encoder`], which
//!   ties it to its tokenizer.
//! - [`EntityReport`]: entity-level precision, recall and F1 of tag sequences, and readers of
//!   tagged text ([`read_queryner`], [`read_conll`]).
//! - [`ShopperModel`]: one shopper's segment, map point and spend forecast, placed from their
//!   own events by the shipped profile model.
//!
//! # Features
//!
//! - `flex` (default): burn's pure-Rust CPU backend.
//! - `wgpu`: native GPUs through wgpu. `webgpu`: the browser's WebGPU.
//! - `cuda`: NVIDIA GPUs.
//! - `train`: fine-tuning, with burn's autodiff and optimisers.
//!
//! # Example
//!
//! ```no_run
//! # fn main() -> vitrine_core::Result<()> {
//! use vitrine_core::{DeviceKind, Encoder, open_device};
//!
//! let dir = std::path::Path::new("all-minilm-l6-v2");
//! let read = |name: &str| std::fs::read(dir.join(name)).expect("model file");
//! let device = open_device(DeviceKind::Cpu)?;
//! let encoder = Encoder::from_bytes(
//!     &read("config.json"),
//!     &read("model.safetensors"),
//!     &read("tokenizer.json"),
//!     &device,
//! )?;
//! let windows = encoder.tokenizer().encode("red nike running shoes")?;
//! let states = encoder.hidden_states(&windows)?;
//! assert_eq!(states[0].d_model, 384);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod bert;
mod bio_decoding;
mod config;
mod device;
mod encoder;
mod entity_decoding;
mod entity_metrics;
mod error;
pub mod events;
pub mod forecast;
mod model_file;
pub mod profile;
mod quantization_gate;
mod random;
pub mod rec_metrics;
pub mod recommend;
mod shopper_model;
mod tagged_text;
mod tagger;
mod token_labels;
mod tokenizer;
#[cfg(feature = "train")]
mod train;
mod weights;

pub use bert::{Bert, BertEmbeddings, BertInput, BertLayer, NamedTensor};
pub use bio_decoding::{Decoding, decode_word_tags};
pub use config::BertConfig;
#[cfg(feature = "webgpu")]
pub use device::webgpu_device;
pub use device::{DeviceKind, open_device};
pub use encoder::{Encoder, TokenStates, batch, l2_norm};
pub use entity_decoding::{TaggedEntity, WindowProbs, decode_entities, decode_words};
pub use entity_metrics::{Entity, EntityReport, Scheme, Score, entities};
pub use error::{Error, Result};
pub use model_file::{
    FORMAT, FORMAT_VERSION, ModelFile, SCALE_SUFFIX, Storage, StoredTensor,
    open as open_model_file, quantize_rows, seal, sha256_hex,
};
pub use quantization_gate::{
    MAX_F1_DROP, MAX_O_SHARE_SHIFT, MIN_AGREEMENT, MIN_F1_RATIO, QuantizationGate,
};
pub use random::SplitMix64;
pub use shopper_model::{
    FittedShopperModel, ForecastBasis, MapPoint, MapPosition, PROFILE_KIND, PlacedFeature,
    PlacedSegment, SegmentSummary, ShopperForecast, ShopperModel, ShopperModelConfig,
    ShopperPlacement, category_from_tags,
};
pub use tagged_text::{TaggedText, read_conll, read_labels, read_queryner};
pub use tagger::{
    TAGGER_KIND, Tagger, TaggerConfig, TaggerFile, TaggerStorage, TextTagger, masked_cross_entropy,
    tag_probabilities, write_tagger_file,
};
pub use token_labels::{IGNORE, align_labels, word_values};
pub use tokenizer::{Encoding, TextTokenizer, WindowConfig, join_words};
#[cfg(feature = "train")]
pub use train::{WarmupLinear, for_inference, length_buckets, train_step};
pub use weights::WeightSource;

/// Re-export of the burn version this crate is built on, so dependants name the same types.
pub use burn;

/// Where `cargo xtask setup` keeps what it fetches on this machine: `VITRINE_CACHE`,
/// `$XDG_CACHE_HOME/vitrine` or `~/.cache/vitrine`, the first that is set.
#[cfg(not(target_family = "wasm"))]
pub fn cache_dir() -> std::path::PathBuf {
    use std::env::var_os;
    use std::path::PathBuf;

    var_os("VITRINE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let base = var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(|| PathBuf::from(".cache"));
            base.join("vitrine")
        })
}

/// Where `cargo xtask setup` keeps the base encoder on this machine.
///
/// `VITRINE_BASE_ENCODER` names the directory outright; otherwise it is
/// `models/all-minilm-l6-v2` under [`cache_dir`].
#[cfg(not(target_family = "wasm"))]
pub fn base_encoder_dir() -> std::path::PathBuf {
    match std::env::var_os("VITRINE_BASE_ENCODER") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => cache_dir().join("models").join("all-minilm-l6-v2"),
    }
}
