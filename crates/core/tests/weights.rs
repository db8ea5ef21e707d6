//! Loading the real weights, and refusing weights that do not fit.

// These tests read the base encoder from disk, which a browser cannot.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::{TestResult, model_file};
use vitrine_core::{Bert, BertConfig, DeviceKind, Encoder, Error, open_device};

#[test]
fn truncated_weights_name_the_first_missing_tensor() -> TestResult {
    let device = open_device(DeviceKind::Cpu)?;
    let config = BertConfig::from_json(&model_file("config.json"))?;
    let bytes = model_file("model.safetensors");
    let cut = &bytes[..bytes.len() / 2];
    let err = Bert::from_safetensors(&config, cut, &device).unwrap_err();
    // The header puts the word embeddings' data at bytes 796,672..47,678,464 of the data
    // section; half the file leaves 45,422,772 of them.
    let Error::Truncated {
        key,
        needed,
        available,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(key, "embeddings.word_embeddings.weight");
    assert_eq!((*needed, *available), (47_678_464, 45_422_772));
    Ok(())
}

#[test]
fn weights_of_another_shape_are_refused_with_the_key() -> TestResult {
    let device = open_device(DeviceKind::Cpu)?;
    let mut config = BertConfig::from_json(&model_file("config.json"))?;
    config.d_ff = 1024;
    let err =
        Bert::from_safetensors(&config, &model_file("model.safetensors"), &device).unwrap_err();
    let Error::Shape {
        key,
        expected,
        actual,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(key, "encoder.layer.0.intermediate.dense.weight");
    assert_eq!(
        (expected.as_slice(), actual.as_slice()),
        (&[1024, 384][..], &[1536, 384][..])
    );
    Ok(())
}

#[test]
fn a_model_with_fewer_layers_sees_unexpected_keys() -> TestResult {
    let device = open_device(DeviceKind::Cpu)?;
    let mut config = BertConfig::from_json(&model_file("config.json"))?;
    config.n_layers = 5;
    let err =
        Bert::from_safetensors(&config, &model_file("model.safetensors"), &device).unwrap_err();
    let Error::UnexpectedKey { key } = &err else {
        panic!("{err}")
    };
    assert!(key.starts_with("encoder.layer.5."), "{key}");
    Ok(())
}

#[test]
fn a_tokenizer_larger_than_the_model_is_refused() -> TestResult {
    let device = open_device(DeviceKind::Cpu)?;
    let config = String::from_utf8(model_file("config.json"))?.replace("30522", "1000");
    let err = Encoder::from_bytes(
        config.as_bytes(),
        &model_file("model.safetensors"),
        &model_file("tokenizer.json"),
        &device,
    )
    .unwrap_err();
    assert!(err.to_string().contains("do not belong together"), "{err}");
    Ok(())
}
