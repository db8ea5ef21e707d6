//! The encoder in headless Chromium on the real weights, against the transformers reference.
//!
//! Run by `cargo xtask test`, which links the base encoder into `.test-assets/` where the test
//! runner serves it.

#![cfg(target_arch = "wasm32")]

mod assets;

use serde_json::Value;
use vitrine_core::{Encoder, TokenStates};
use vitrine_wasm::BaseEncoder;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const REFERENCE: &str = include_str!("../../../tests/fixtures/encoder/reference.json");
const VALUE_TOLERANCE: f64 = 1e-4;
const NORM_TOLERANCE: f64 = 2e-3;

async fn fetch(name: &str) -> Vec<u8> {
    assets::fetch_asset(&format!("all-minilm-l6-v2/{name}")).await
}

async fn load(prefer_gpu: bool) -> BaseEncoder {
    let (config, weights, tokenizer) = (
        fetch("config.json").await,
        fetch("model.safetensors").await,
        fetch("tokenizer.json").await,
    );
    BaseEncoder::load(config, weights, tokenizer, prefer_gpu)
        .await
        .map_err(|_| "load")
        .expect("loads")
}

fn check(name: &str, states: &TokenStates, case: &Value, head: usize, tail: usize) {
    let d = states.d_model;
    let rows = |key: &str| case[key].as_array().expect("rows").clone();
    for (t, (h, tl)) in rows("head").iter().zip(rows("tail").iter()).enumerate() {
        let row = states.row(t);
        let expected = h
            .as_array()
            .expect("row")
            .iter()
            .chain(tl.as_array().expect("row"));
        for (a, b) in row[..head].iter().chain(&row[d - tail..]).zip(expected) {
            let b = b.as_f64().expect("a number");
            assert!(
                (f64::from(*a) - b).abs() <= VALUE_TOLERANCE,
                "{name} token {t}: {a} vs {b}"
            );
        }
    }
    for (t, (a, b)) in states.norms().iter().zip(rows("norms")).enumerate() {
        let b = b.as_f64().expect("a number");
        assert!(
            (f64::from(*a) - b).abs() <= NORM_TOLERANCE,
            "{name} token {t} norm: {a} vs {b}"
        );
    }
}

/// Every reference sentence alone, then as one padded batch: all of them when `full_batch`,
/// else all but the 232-token one, which keeps a software WebGPU adapter within minutes.
async fn parity(encoder: &Encoder, full_batch: bool) {
    let reference: Value = serde_json::from_str(REFERENCE).expect("reference parses");
    let (head, tail) = (
        reference["head"].as_u64().unwrap_or(0),
        reference["tail"].as_u64().unwrap_or(0),
    );
    let cases = reference["cases"].as_array().expect("cases");
    let mut encodings = Vec::new();
    for case in cases {
        let text = case["text"].as_str().expect("text");
        let encoding = encoder.tokenizer().encode(text).expect("encodes").remove(0);
        let ids: Vec<u64> = encoding.ids.iter().map(|i| u64::from(*i)).collect();
        let expected: Vec<u64> = case["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        assert_eq!(ids, expected, "{text}: ids");
        let alone = encoder
            .hidden_states_async(std::slice::from_ref(&encoding))
            .await
            .expect("runs");
        check(text, &alone[0], case, head as usize, tail as usize);
        encodings.push(encoding);
    }
    let max_len = if full_batch { usize::MAX } else { 128 };
    let (cases, encodings): (Vec<&Value>, Vec<_>) = cases
        .iter()
        .zip(encodings)
        .filter(|(_, e)| e.len() <= max_len)
        .unzip();
    assert!(cases.len() >= 7, "the batch keeps the short sentences");
    let batched = encoder
        .hidden_states_async(&encodings)
        .await
        .expect("runs batched");
    for (case, states) in cases.into_iter().zip(&batched) {
        check(
            "in the padded batch",
            states,
            case,
            head as usize,
            tail as usize,
        );
    }
}

#[wasm_bindgen_test]
async fn hidden_states_match_transformers_on_the_cpu_in_the_browser() {
    let engine = load(false).await;
    assert_eq!(engine.backend_info().name, "cpu");
    parity(engine.encoder(), true).await;
}

#[wasm_bindgen_test]
async fn hidden_states_match_transformers_on_webgpu_when_offered() {
    let engine = load(true).await;
    if engine.backend_info().name == "webgpu" {
        parity(engine.encoder(), false).await;
    } else {
        let note = format!(
            "no WebGPU here ({}): checked the CPU only",
            engine.backend_info().reason
        );
        web_sys::console::warn_1(&note.into());
    }
}

#[wasm_bindgen_test]
async fn encode_gives_utf16_offsets_that_slice_the_text() {
    let engine = load(false).await;
    let text = "\u{1F600} red bag";
    let encoded = engine.encode_text(text).await.expect("encodes");
    let red = encoded
        .tokens
        .iter()
        .find(|t| t.token == "red")
        .expect("red");
    assert_eq!((red.start, red.end), (Some(3), Some(6)));
    assert_eq!(encoded.windows, 1);
    assert!(encoded.embedding_norm > 0.0);
}
