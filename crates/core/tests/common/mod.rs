//! Shared by the integration tests: the real base encoder and the committed reference.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part of this module.

use std::path::PathBuf;

use serde::Deserialize;
use vitrine_core::burn::prelude::Device;
use vitrine_core::{Encoder, TextTokenizer, base_encoder_dir};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Reads one file of the base encoder, failing with what to run when it is absent.
pub fn model_file(name: &str) -> Vec<u8> {
    let path = base_encoder_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "the base encoder is missing ({}: {e}); run `cargo xtask setup` to fetch it",
            path.display()
        )
    })
}

pub fn tokenizer() -> TextTokenizer {
    TextTokenizer::from_bytes(&model_file("tokenizer.json")).expect("shipped tokenizer.json reads")
}

pub fn encoder(device: &Device) -> Encoder {
    Encoder::from_bytes(
        &model_file("config.json"),
        &model_file("model.safetensors"),
        &model_file("tokenizer.json"),
        device,
    )
    .expect("the base encoder loads")
}

/// The workspace root, from the crate directory that Cargo passes when it runs the test. The
/// compile-time value is only a fallback: a target directory shared between clones may hold a
/// test binary compiled in another one.
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
        .join("../..")
}

#[derive(Debug, Deserialize)]
pub struct Reference {
    pub head: usize,
    pub tail: usize,
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub name: String,
    pub text: String,
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
    pub head: Vec<Vec<f32>>,
    pub tail: Vec<Vec<f32>>,
    pub norms: Vec<f32>,
}

pub fn reference() -> Reference {
    let path = repo_root().join("tests/fixtures/encoder/reference.json");
    let text = std::fs::read_to_string(&path).expect("committed reference fixture");
    serde_json::from_str(&text).expect("reference fixture parses")
}
