//! `vitrine train tagger` end to end on a slice of QueryNER and the real base encoder.

use std::process::Command;

use vitrine_core::{DeviceKind, TaggerFile, open_device};

mod common;
use common::root;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn a_short_run_writes_a_checkpoint_that_loads_and_resumes() -> TestResult {
    let base = vitrine_core::base_encoder_dir();
    assert!(
        base.join("model.safetensors").exists(),
        "run `cargo xtask setup` first"
    );
    let root = root();
    let out = std::env::temp_dir().join(format!("vitrine-train-{}", std::process::id()));
    let first = out.join("first.safetensors");
    let second = out.join("second.safetensors");

    let train = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vitrine"))
            .current_dir(&root)
            .args([
                "train",
                "tagger",
                "--limit",
                "16",
                "--batch-size",
                "8",
                "--epochs",
                "1",
            ])
            .args(args)
            .output()
            .expect("vitrine runs")
    };
    let run = train(&["--out", first.to_str().ok_or("utf-8 path")?]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("best validation entity F1"), "{stderr}");

    // The checkpoint is a sealed tagger file of 35 labels that names the tokenizer it used.
    let bytes = std::fs::read(&first)?;
    let file = TaggerFile::read(&bytes, &open_device(DeviceKind::Cpu)?)?;
    assert_eq!(file.labels.len(), 35);
    assert_eq!(file.labels[0], "O");
    file.check_tokenizer(&std::fs::read(base.join("tokenizer.json"))?)?;
    assert_eq!(file.metadata.get("epoch").map(String::as_str), Some("1"));

    // Its history and curve sit beside it.
    let history: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("first.history.json"))?)?;
    assert_eq!(history["epochs"].as_array().map(Vec::len), Some(1));
    let curve = std::fs::read(out.join("first.curve.png"))?;
    assert_eq!(&curve[..8], b"\x89PNG\r\n\x1a\n");

    let resumed = train(&[
        "--resume",
        first.to_str().ok_or("utf-8 path")?,
        "--out",
        second.to_str().ok_or("utf-8 path")?,
    ]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(second.exists());

    let bad = train(&[
        "--resume",
        "Cargo.toml",
        "--out",
        second.to_str().ok_or("utf-8 path")?,
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a valid safetensors file"));

    let _ = std::fs::remove_dir_all(&out);
    Ok(())
}
