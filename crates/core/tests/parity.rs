//! The encoder against the original BERT on the real all-MiniLM-L6-v2 weights.
//!
//! `tests/fixtures/encoder/reference.json` holds what Hugging Face transformers computes for
//! the same sentences; `make_reference.py` beside it regenerates it.

// These tests read the base encoder from disk, which a browser cannot.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::{Reference, TestResult, encoder, reference};
use vitrine_core::burn::prelude::Device;
use vitrine_core::{Encoder, Encoding, TokenStates};

/// Largest absolute difference allowed in any hidden-state value.
const VALUE_TOLERANCE: f32 = 1e-4;
/// Largest difference allowed in a token's norm (384 values, each within the tolerance).
const NORM_TOLERANCE: f32 = 2e-3;

fn check_case(name: &str, states: &TokenStates, case: &common::Case, r: &Reference) {
    assert_eq!(states.n_tokens(), case.ids.len(), "{name}: token count");
    let d = states.d_model;
    for (t, (head, tail)) in case.head.iter().zip(&case.tail).enumerate() {
        let row = states.row(t);
        let ours = row[..r.head].iter().chain(&row[d - r.tail..]);
        for (i, (a, b)) in ours.zip(head.iter().chain(tail)).enumerate() {
            assert!(
                (a - b).abs() <= VALUE_TOLERANCE,
                "{name}: token {t} value {i}: ours {a}, reference {b}"
            );
        }
    }
    for (t, (a, b)) in states.norms().iter().zip(&case.norms).enumerate() {
        assert!(
            (a - b).abs() <= NORM_TOLERANCE,
            "{name}: token {t} norm: ours {a}, reference {b}"
        );
    }
}

fn encodings(encoder: &Encoder, r: &Reference) -> Vec<Encoding> {
    r.cases
        .iter()
        .map(|case| {
            let mut windows = encoder.tokenizer().encode(&case.text).expect("encodes");
            assert_eq!(windows.len(), 1, "{}: fits one window", case.name);
            let encoding = windows.remove(0);
            assert_eq!(encoding.ids, case.ids, "{}: ids", case.name);
            assert_eq!(encoding.tokens, case.tokens, "{}: tokens", case.name);
            encoding
        })
        .collect()
}

fn parity_on(device: &Device) -> TestResult {
    let encoder = encoder(device);
    let r = reference();
    assert!(r.cases.len() >= 8);
    let encodings = encodings(&encoder, &r);

    for (case, encoding) in r.cases.iter().zip(&encodings) {
        let states = encoder.hidden_states(std::slice::from_ref(encoding))?;
        check_case(&format!("{} alone", case.name), &states[0], case, &r);
    }

    // The whole set as one batch: every sentence padded to the longest (232 tokens).
    let batched = encoder.hidden_states(&encodings)?;
    for (case, states) in r.cases.iter().zip(&batched) {
        check_case(
            &format!("{} in a padded batch", case.name),
            states,
            case,
            &r,
        );
    }
    Ok(())
}

#[test]
fn hidden_states_match_transformers_on_cpu() -> TestResult {
    parity_on(&vitrine_core::open_device(vitrine_core::DeviceKind::Cpu)?)
}

#[cfg(feature = "wgpu")]
#[test]
fn hidden_states_match_transformers_on_wgpu() -> TestResult {
    let device = vitrine_core::open_device(vitrine_core::DeviceKind::Wgpu).map_err(|e| {
        format!("{e}; install a Vulkan driver (`cargo xtask setup` installs mesa-vulkan-drivers)")
    })?;
    parity_on(&device)
}

#[test]
fn a_sentence_alone_equals_the_same_sentence_padded() -> TestResult {
    let device = vitrine_core::open_device(vitrine_core::DeviceKind::Cpu)?;
    let encoder = encoder(&device);
    let short = encoder.tokenizer().encode("red dress")?.remove(0);
    let long = encoder
        .tokenizer()
        .encode("a much longer query about a blue linen summer dress")?;
    let alone = encoder
        .hidden_states(std::slice::from_ref(&short))?
        .remove(0);
    let padded = encoder
        .hidden_states(&[long[0].clone(), short.clone()])?
        .remove(1);
    assert_eq!(alone.values.len(), padded.values.len());
    let worst = alone
        .values
        .iter()
        .zip(&padded.values)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(worst <= 1e-5, "padding changed a hidden state by {worst}");
    Ok(())
}
