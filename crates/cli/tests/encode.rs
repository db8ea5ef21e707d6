//! `vitrine encode` as a user runs it.

use std::path::PathBuf;
use std::process::{Command, Output};

fn vitrine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(args)
        .output()
        .expect("vitrine runs")
}

fn base_encoder() -> PathBuf {
    let dir = vitrine_core::base_encoder_dir();
    assert!(
        dir.join("model.safetensors").exists(),
        "the base encoder is missing from {}; run `cargo xtask setup`",
        dir.display()
    );
    dir
}

#[test]
fn prints_tokens_with_char_and_utf16_offsets_and_the_norm() {
    base_encoder();
    let out = vitrine(&["encode", "\u{1F600} red bag"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let red = stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("red"))
        .expect("red");
    let fields: Vec<&str> = red.split_whitespace().collect();
    assert_eq!(&fields[..5], ["2", "red", "2417", "2..5", "3..6"], "{red}");
    assert!(
        stdout.contains("embedding: mean of 5 token states, 384 values, norm"),
        "{stdout}"
    );
}

#[test]
fn a_missing_model_directory_says_how_to_fetch_it() {
    let out = vitrine(&["encode", "--model-dir", "/nonexistent/vitrine", "text"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cargo xtask setup"), "{stderr}");
    assert!(
        stderr.contains("/nonexistent/vitrine/config.json"),
        "{stderr}"
    );
}

#[test]
fn weights_that_do_not_match_the_config_are_refused_with_the_key() {
    let dir = base_encoder();
    let scratch = std::env::temp_dir().join(format!("vitrine-mismatch-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    for name in ["model.safetensors", "tokenizer.json"] {
        std::fs::copy(dir.join(name), scratch.join(name)).expect("copies");
    }
    let config = std::fs::read_to_string(dir.join("config.json")).expect("config");
    let config = config.replace("\"hidden_size\": 384", "\"hidden_size\": 768");
    std::fs::write(scratch.join("config.json"), config).expect("writes");

    let out = vitrine(&[
        "encode",
        "--model-dir",
        scratch.to_str().expect("utf-8"),
        "text",
    ]);
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot load the encoder"), "{stderr}");
    assert!(
        stderr.contains("embeddings.word_embeddings.weight"),
        "{stderr}"
    );
    assert!(stderr.contains("[30522, 768]"), "{stderr}");
}
