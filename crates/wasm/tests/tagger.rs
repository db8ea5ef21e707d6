//! The shipped int8 tagger in headless Chromium, against the native results and its float32
//! original (fixtures made by `tests/fixtures/tagger/make_reference.sh`).
//!
//! Run by `cargo xtask test`, which links `models/tagger/` into `.test-assets/tagger/`.

#![cfg(target_arch = "wasm32")]

mod assets;

use serde::Deserialize;
use vitrine_core::{Decoding, QuantizationGate, TaggedEntity};
use vitrine_wasm::ShopperTagger;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const PREDICTIONS: &str = include_str!("../../../tests/fixtures/tagger/fp32_predictions.json");
const ENTITIES: &str = include_str!("../../../tests/fixtures/tagger/entities.json");

#[derive(Debug, Deserialize)]
struct Predictions {
    queries: Vec<Query>,
}

#[derive(Debug, Deserialize)]
struct Query {
    words: Vec<String>,
    gold: Vec<String>,
    predicted: Vec<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct Tagged {
    text: String,
    entities: Vec<Entity>,
}

#[derive(Debug, Deserialize)]
struct Entity {
    kind: String,
    text: String,
    chars: (usize, usize),
    utf16: (usize, usize),
    confidence: f32,
}

async fn fetch(name: &str) -> Vec<u8> {
    assets::fetch_asset(&format!("tagger/{name}")).await
}

async fn load(prefer_gpu: bool) -> ShopperTagger {
    let (model, tokenizer) = (
        fetch("tagger.safetensors").await,
        fetch("tokenizer.json").await,
    );
    ShopperTagger::load_bytes(&model, &tokenizer, prefer_gpu)
        .await
        .expect("the shipped tagger loads")
}

fn assert_same(text: &str, found: &[TaggedEntity], expected: &[Entity]) {
    let short: String = text.chars().take(60).collect();
    let found_spans: Vec<_> = found
        .iter()
        .map(|e| (e.kind.clone(), e.text.clone(), e.chars, e.utf16))
        .collect();
    let want: Vec<_> = expected
        .iter()
        .map(|e| (e.kind.clone(), e.text.clone(), e.chars, e.utf16))
        .collect();
    assert_eq!(found_spans, want, "{short}");
    for (f, e) in found.iter().zip(expected) {
        assert!(
            (f.confidence - e.confidence).abs() < 1e-3,
            "{short}: {} confidence {} vs {}",
            e.text,
            f.confidence,
            e.confidence
        );
    }
}

/// Tags every fixture text and compares with what the native build found; `max_chars` leaves
/// out longer texts.
async fn same_entities_as_native(tagger: &ShopperTagger, max_chars: usize) -> usize {
    let cases: Vec<Tagged> = serde_json::from_str(ENTITIES).expect("fixture parses");
    let mut checked = 0;
    for case in cases.iter().filter(|c| c.text.chars().count() <= max_chars) {
        let found = tagger.tag_text(&case.text).await.expect("tags");
        assert_same(&case.text, &found, &case.entities);
        checked += 1;
    }
    checked
}

#[wasm_bindgen_test]
async fn entities_in_the_browser_equal_the_native_ones() {
    let tagger = load(false).await;
    assert_eq!(tagger.backend_info().name, "cpu");
    let checked = same_entities_as_native(&tagger, usize::MAX).await;
    assert!(checked >= 10, "{checked} texts");
}

#[wasm_bindgen_test]
async fn int8_passes_the_release_gate_in_the_browser() {
    // QNT-01: the gate measured in the shipped runtime, not only where the file was exported.
    let mut tagger = load(false).await;
    tagger.set_decoding(Decoding::Argmax);
    let predictions: Predictions = serde_json::from_str(PREDICTIONS).expect("fixture parses");
    let mut int8 = Vec::new();
    for query in &predictions.queries {
        int8.push(
            tagger
                .tagger()
                .word_tags_async(&query.words)
                .await
                .expect("tags"),
        );
    }
    let gold: Vec<Vec<String>> = predictions.queries.iter().map(|q| q.gold.clone()).collect();
    let fp32: Vec<Vec<String>> = predictions
        .queries
        .iter()
        .map(|q| q.predicted[0].clone())
        .collect();
    let gate = QuantizationGate::measure(&gold, &fp32, &int8).expect("measures");
    if let Err(err) = gate.check() {
        panic!("{err}");
    }
}

#[wasm_bindgen_test]
async fn entities_on_webgpu_equal_the_native_ones_when_offered() {
    let tagger = load(true).await;
    if tagger.backend_info().name == "webgpu" {
        // Short texts only: a software adapter takes seconds per long window.
        same_entities_as_native(&tagger, 200).await;
    } else {
        let note = format!(
            "no WebGPU here ({}): checked the CPU only",
            tagger.backend_info().reason
        );
        web_sys::console::warn_1(&note.into());
    }
}

#[wasm_bindgen_test]
async fn a_corrupted_model_is_an_error_value_not_a_trap() {
    let mut model = fetch("tagger.safetensors").await;
    let tokenizer = fetch("tokenizer.json").await;
    let at = model.len() / 3;
    model[at] ^= 0x40;
    let err = ShopperTagger::load_bytes(&model, &tokenizer, false)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("checksum"), "{err}");

    let err = ShopperTagger::load_bytes(b"not a model", &tokenizer, false)
        .await
        .expect_err("refused");
    assert!(!err.to_string().is_empty());
}
