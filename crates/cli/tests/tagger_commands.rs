//! `vitrine export tagger`, `vitrine eval tagger` and `vitrine tag` as a user runs them.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use vitrine_core::{
    Bert, BertConfig, DeviceKind, TaggerConfig, TaggerFile, TaggerStorage, base_encoder_dir,
    open_device, read_labels, write_tagger_file,
};

mod common;
use common::root;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn vitrine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("vitrine runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A float32 checkpoint as `vitrine train tagger` writes it: the base encoder with a fresh head.
fn untrained_checkpoint(path: &Path) -> TestResult {
    let base = base_encoder_dir();
    let read = |name: &str| {
        std::fs::read(base.join(name))
            .map_err(|e| format!("{name}: {e}; run `cargo xtask setup` first"))
    };
    let device = open_device(DeviceKind::Cpu)?;
    let encoder_config = BertConfig::from_json(&read("config.json")?)?;
    let encoder = Bert::from_safetensors(&encoder_config, &read("model.safetensors")?, &device)?;
    let labels = read_labels(
        "labels.json",
        &std::fs::read(root().join("data/queryner/labels.json"))?,
    )?;
    let config = TaggerConfig {
        encoder: encoder_config,
        n_labels: labels.len(),
    };
    let tagger = config.init_from_encoder(encoder, &device)?;
    let bytes = write_tagger_file(
        &tagger,
        &config,
        &labels,
        &read("tokenizer.json")?,
        TaggerStorage::F32,
        BTreeMap::from([("epoch".to_owned(), "0".to_owned())]),
    )?;
    std::fs::write(path, bytes)?;
    Ok(())
}

#[test]
fn export_quantizes_and_eval_compares_the_two_files() -> TestResult {
    let dir = std::env::temp_dir().join(format!("vitrine-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let checkpoint = dir.join("checkpoint.safetensors");
    untrained_checkpoint(&checkpoint)?;
    let path = |p: &Path| p.to_str().map(str::to_owned).ok_or("utf-8 path");

    let out = vitrine(&[
        "export",
        "tagger",
        "--checkpoint",
        &path(&checkpoint)?,
        "--out",
        &path(&dir.join("shipped"))?,
        "--model-version",
        "test-1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let exported = std::fs::read(dir.join("shipped/tagger.safetensors"))?;
    assert!(exported.len() < 25_000_000, "{} bytes", exported.len());
    assert!(exported.len() * 3 < std::fs::metadata(&checkpoint)?.len() as usize);
    let file = TaggerFile::read(&exported, &open_device(DeviceKind::Cpu)?)?;
    assert_eq!(file.metadata["model_version"], "test-1");
    assert_eq!(file.metadata["epoch"], "0");
    assert!(file.metadata["quantization"].contains("int8"));
    file.check_tokenizer(&std::fs::read(dir.join("shipped/tokenizer.json"))?)?;

    let (json, predictions) = (dir.join("eval.json"), dir.join("predictions.json"));
    let out = vitrine(&[
        "eval",
        "tagger",
        "--model",
        &path(&checkpoint)?,
        "--model",
        &path(&dir.join("shipped/tagger.safetensors"))?,
        "--split",
        "validation",
        "--limit",
        "12",
        "--json",
        &path(&json)?,
        "--predictions",
        &path(&predictions)?,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("micro"), "{table}");
    assert!(
        table.contains("release gate against the first model"),
        "{table}"
    );

    let eval: serde_json::Value = serde_json::from_slice(&std::fs::read(&json)?)?;
    assert_eq!(eval["queries"], 12);
    assert_eq!(eval["models"].as_array().map(Vec::len), Some(2));
    assert!(eval["models"][0]["gate"].is_null());
    let agreement = eval["models"][1]["gate"]["agreement"]
        .as_f64()
        .ok_or("agreement")?;
    assert!((0.0..=1.0).contains(&agreement));
    assert_eq!(eval["models"][1]["agreement_with_first"], agreement);

    let predictions: serde_json::Value = serde_json::from_slice(&std::fs::read(&predictions)?)?;
    let queries = predictions["queries"].as_array().ok_or("queries")?;
    assert_eq!(queries.len(), 12);
    for q in queries {
        let n = q["words"].as_array().map(Vec::len);
        assert_eq!(q["gold"].as_array().map(Vec::len), n);
        assert_eq!(q["predicted"].as_array().map(Vec::len), Some(2));
        assert_eq!(q["predicted"][1].as_array().map(Vec::len), n);
    }

    let bad = vitrine(&[
        "eval",
        "tagger",
        "--model",
        &path(&checkpoint)?,
        "--split",
        "dev",
    ]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("use train, validation or test"),
        "{}",
        stderr(&bad)
    );

    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn tag_prints_the_entities_of_the_shipped_model() -> TestResult {
    let out = vitrine(&["tag", "red nike running shoes size 10 under $50"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    let nike = table
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("nike"))
        .ok_or_else(|| format!("no nike in\n{table}"))?;
    assert_eq!(nike.split_whitespace().next(), Some("creator"), "{table}");
    assert!(nike.contains("4..8"), "{nike}");

    let out = vitrine(&["tag", "--json", "red heart lantern", ""]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tagged: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(tagged[0]["text"], "red heart lantern");
    assert!(
        !tagged[0]["entities"]
            .as_array()
            .ok_or("entities")?
            .is_empty()
    );
    assert_eq!(tagged[1]["entities"], serde_json::json!([]));
    Ok(())
}

#[test]
fn tag_names_a_missing_or_corrupted_model() -> TestResult {
    let out = vitrine(&["tag", "--model", "no/such/tagger.safetensors", "shoes"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no/such/tagger.safetensors"),
        "{}",
        stderr(&out)
    );

    let dir = std::env::temp_dir().join(format!("vitrine-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut bytes = std::fs::read(root().join("models/tagger/tagger.safetensors"))?;
    let at = bytes.len() - 10;
    bytes[at] ^= 0xff;
    std::fs::write(dir.join("tagger.safetensors"), bytes)?;
    std::fs::copy(
        root().join("models/tagger/tokenizer.json"),
        dir.join("tokenizer.json"),
    )?;
    let model = dir.join("tagger.safetensors");
    let out = vitrine(&["tag", "--model", model.to_str().ok_or("utf-8")?, "shoes"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("corrupted"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
