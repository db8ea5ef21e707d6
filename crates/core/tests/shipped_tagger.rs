//! The shipped int8 tagger in `models/tagger/`, against what its float32 original did.
//!
//! `tests/fixtures/tagger/make_reference.sh` wrote the fixtures: the float32 checkpoint's most
//! probable tag of every word of the first 300 QueryNER test queries, and the entities the
//! shipped file finds natively in a set of shopper texts. The browser tests check the same
//! fixtures in wasm32.

#![cfg(not(target_family = "wasm"))]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use vitrine_core::{
    Decoding, DeviceKind, Error, QuantizationGate, TaggedEntity, TaggerFile, TextTagger,
    open_device,
};

use common::{TestResult, repo_root};

#[derive(Debug, Deserialize)]
struct Predictions {
    models: Vec<Model>,
    queries: Vec<Query>,
}

#[derive(Debug, Deserialize)]
struct Model {
    checksum: Option<String>,
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

fn shipped(name: &str) -> Vec<u8> {
    let path = repo_root().join("models/tagger").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = repo_root().join("tests/fixtures/tagger").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The shipped tagger and its file's metadata.
fn load() -> Result<(BTreeMap<String, String>, TextTagger), Error> {
    let device = open_device(DeviceKind::Cpu)?;
    let file = TaggerFile::read(&shipped("tagger.safetensors"), &device)?;
    let metadata = file.metadata.clone();
    let tagger = file.into_text_tagger(&shipped("tokenizer.json"), &device)?;
    Ok((metadata, tagger))
}

#[test]
fn the_shipped_file_is_small_int8_and_names_what_it_needs() -> TestResult {
    let bytes = shipped("tagger.safetensors");
    assert!(bytes.len() <= 25_000_000, "{} bytes", bytes.len());
    let (metadata, tagger) = load()?;
    assert_eq!(tagger.labels().len(), 35);
    assert_eq!(tagger.labels()[0], "O");
    for key in [
        "model_version",
        "tokenizer_sha256",
        "quantization",
        "checksum",
    ] {
        assert!(metadata.contains_key(key), "metadata lacks {key}");
    }
    assert!(metadata["quantization"].contains("int8"));
    Ok(())
}

#[test]
fn a_corrupted_or_mismatched_file_is_refused_with_the_reason() -> TestResult {
    let device = open_device(DeviceKind::Cpu)?;
    let bytes = shipped("tagger.safetensors");

    let mut flipped = bytes.clone();
    let at = bytes.len() / 2;
    flipped[at] ^= 0x10;
    let err = TaggerFile::read(&flipped, &device).unwrap_err();
    assert!(matches!(err, Error::Checksum { .. }), "{err}");
    assert!(
        err.to_string().contains("download or export it again"),
        "{err}"
    );

    let err = TaggerFile::read(&bytes[..bytes.len() - 1000], &device).unwrap_err();
    assert!(!err.to_string().is_empty());

    let file = TaggerFile::read(&bytes, &device)?;
    let mut other = shipped("tokenizer.json");
    other.push(b' ');
    let err = file.check_tokenizer(&other).unwrap_err();
    assert!(err.to_string().contains("tokenizer"), "{err}");
    Ok(())
}

#[test]
fn int8_passes_the_release_gate_against_float32() -> TestResult {
    // QNT-01: measured on 300 held-out QueryNER test queries.
    let predictions: Predictions = serde_json::from_slice(&fixture("fp32_predictions.json"))?;
    assert!(predictions.queries.len() >= 200);
    let (metadata, mut tagger) = load()?;
    tagger.set_decoding(Decoding::Argmax);
    assert_ne!(
        predictions.models[0].checksum,
        metadata.get("checksum").cloned(),
        "the reference must come from the float32 checkpoint, not the shipped file"
    );

    let gold: Vec<Vec<String>> = predictions.queries.iter().map(|q| q.gold.clone()).collect();
    let fp32: Vec<Vec<String>> = predictions
        .queries
        .iter()
        .map(|q| q.predicted[0].clone())
        .collect();
    let int8 = predictions
        .queries
        .iter()
        .map(|q| tagger.word_tags(&q.words))
        .collect::<Result<Vec<_>, _>>()?;
    let gate = QuantizationGate::measure(&gold, &fp32, &int8)?;
    gate.check()?;

    // The float32 reference is itself a trained tagger, not a copy of the gold tags.
    assert!(
        gate.reference_f1 > 0.5 && gate.reference_f1 < 0.95,
        "{gate:?}"
    );
    let labels: BTreeSet<&String> = int8.iter().flatten().collect();
    assert!(labels.len() > 10, "int8 uses {} labels", labels.len());
    Ok(())
}

/// The entities the shipped file found natively when the fixture was made; the wasm32 test
/// asserts the same list.
#[test]
fn native_entities_match_the_committed_reference() -> TestResult {
    let expected: Vec<Tagged> = serde_json::from_slice(&fixture("entities.json"))?;
    assert!(expected.len() >= 10);
    let (_, tagger) = load()?;
    for case in &expected {
        let found = tagger.tag(&case.text)?;
        assert_same(&case.text, &found, &case.entities);
    }
    Ok(())
}

fn assert_same(text: &str, found: &[TaggedEntity], expected: &[Entity]) {
    let short: String = text.chars().take(60).collect();
    let spans = |f: &[TaggedEntity]| -> Vec<_> {
        f.iter()
            .map(|e| (e.kind.clone(), e.text.clone(), e.chars, e.utf16))
            .collect()
    };
    let want: Vec<_> = expected
        .iter()
        .map(|e| (e.kind.clone(), e.text.clone(), e.chars, e.utf16))
        .collect();
    assert_eq!(spans(found), want, "{short}");
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

#[test]
fn the_example_query_finds_colour_brand_product_and_price() -> TestResult {
    let (_, tagger) = load()?;
    let found = tagger.tag("red nike running shoes size 10 under $50")?;
    let kinds: Vec<(&str, &str)> = found
        .iter()
        .map(|e| (e.kind.as_str(), e.text.as_str()))
        .collect();
    assert!(kinds.contains(&("color", "red")), "{kinds:?}");
    assert!(kinds.contains(&("creator", "nike")), "{kinds:?}");
    assert!(tagger.tag("")?.is_empty());
    assert!(tagger.tag("  \n\t ")?.is_empty());
    Ok(())
}
