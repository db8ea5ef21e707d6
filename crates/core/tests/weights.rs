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

#[test]
fn a_token_classification_checkpoint_loads_encoder_and_head() -> TestResult {
    use std::collections::HashMap;

    use safetensors::tensor::{Dtype, TensorView};
    use vitrine_core::{Tagger, TaggerConfig, WeightSource};

    // The base weights under `bert.`, plus a head whose values are known: W[l][j] = (l - j) / 1000.
    let base = model_file("model.safetensors");
    let source = safetensors::SafeTensors::deserialize(&base)?;
    let (n, d) = (3usize, 384usize);
    let weight: Vec<f32> = (0..n * d)
        .map(|i| ((i / d) as f32 - (i % d) as f32) / 1000.0)
        .collect();
    let bias = vec![0.5f32, -0.25, 0.0];
    let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let (weight_bytes, bias_bytes) = (bytes(&weight), bytes(&bias));
    let mut views: HashMap<String, TensorView<'_>> = source
        .tensors()
        .into_iter()
        .map(|(k, v)| (format!("bert.{k}"), v))
        .collect();
    views.insert(
        "classifier.weight".into(),
        TensorView::new(Dtype::F32, vec![n, d], &weight_bytes)?,
    );
    views.insert(
        "classifier.bias".into(),
        TensorView::new(Dtype::F32, vec![n], &bias_bytes)?,
    );
    let file = safetensors::serialize(views, None)?;

    let device = open_device(DeviceKind::Cpu)?;
    let encoder_config = BertConfig::from_json(&model_file("config.json"))?;
    let mut weights = WeightSource::new(&file)?;
    let config = TaggerConfig {
        encoder: encoder_config,
        n_labels: n,
    };
    let tagger = Tagger::load(&config, &mut weights, &device)?;
    weights.finish()?;

    // The logits must be the encoder's states times W transposed, plus b.
    let encoder = common::encoder(&device);
    let window = encoder.tokenizer().encode("red lantern")?.remove(0);
    let states = encoder
        .hidden_states(std::slice::from_ref(&window))?
        .remove(0);
    let logits = tagger.forward(encoder.batch(std::slice::from_ref(&window))?);
    let logits = logits
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))?;
    for t in 0..window.len() {
        for l in 0..n {
            let row = &weight[l * d..(l + 1) * d];
            let want: f32 = states
                .row(t)
                .iter()
                .zip(row)
                .map(|(a, b)| a * b)
                .sum::<f32>()
                + bias[l];
            let got = logits[t * n + l];
            assert!(
                (got - want).abs() < 1e-3,
                "token {t} label {l}: {got} vs {want}"
            );
        }
    }
    Ok(())
}

#[test]
fn a_saved_tagger_loads_back_with_the_same_logits() -> TestResult {
    use std::collections::HashMap;

    use vitrine_core::{Tagger, TaggerConfig, WeightSource};

    let device = open_device(DeviceKind::Cpu)?;
    let encoder_config = BertConfig::from_json(&model_file("config.json"))?;
    let encoder =
        Bert::from_safetensors(&encoder_config, &model_file("model.safetensors"), &device)?;
    let config = TaggerConfig {
        encoder: encoder_config,
        n_labels: 5,
    };
    let tagger = config.init_from_encoder(encoder, &device)?;

    let metadata = HashMap::from([("labels".to_owned(), "O B-a I-a B-b I-b".to_owned())]);
    let file = tagger.to_safetensors(metadata)?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&file)?;
    let stored = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get("labels").cloned());
    assert_eq!(stored.as_deref(), Some("O B-a I-a B-b I-b"));

    let mut source = WeightSource::new(&file)?;
    let loaded = Tagger::load(&config, &mut source, &device)?;
    source.finish()?;

    let encoder = common::encoder(&device);
    let window = encoder
        .tokenizer()
        .encode("vintage red heart lantern")?
        .remove(0);
    let input = encoder.batch(std::slice::from_ref(&window))?;
    let a = tagger
        .forward(input.clone())
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))?;
    let b = loaded
        .forward(input)
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!(a, b, "a round trip through the file changes nothing");
    Ok(())
}
