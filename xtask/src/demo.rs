//! `cargo xtask demo`: build the web app and serve it on http://127.0.0.1:8080.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::shell::{cache, cmd, root, run, step};

/// Address the demo serves on.
pub(crate) const ADDRESS: &str = "127.0.0.1";
/// Port the demo serves on.
pub(crate) const PORT: &str = "8080";
/// Port the demo's edge function listens on.
pub(crate) const EDGE_PORT: &str = "8081";

pub(crate) fn run_demo() -> Result<()> {
    crate::setup::ensure()?;
    step("building the web app");
    build_app()?;
    step(&format!(
        "starting the edge function on http://{ADDRESS}:{EDGE_PORT}"
    ));
    let mut edge = edge(EDGE_PORT)
        .spawn()
        .context("cannot start the edge function (node)")?;
    step(&format!("serving http://{ADDRESS}:{PORT} (Ctrl-C stops)"));
    eprintln!(
        "The shop runs the shipped tagger and recommender in the browser; the shopper's events \
         stay in its IndexedDB.\n\
         A merchant's page with the widget: http://{ADDRESS}:{PORT}/demo-merchant.html\n\
         The edge function: POST events to http://{ADDRESS}:{EDGE_PORT}/recommend"
    );
    let served = run(&mut serve(PORT));
    let _ = edge.kill();
    let _ = edge.wait();
    served
}

/// The edge function (`edge/server.mjs`) on the loopback address.
pub(crate) fn edge(port: &str) -> std::process::Command {
    let mut server = cmd("node");
    server.args(["edge/server.mjs", "--host", ADDRESS, "--port", port]);
    server
}

/// Builds the app with Trunk into `dist/` and places the base encoder and the shipped models
/// beside it.
pub(crate) fn build_app() -> Result<()> {
    // Trunk runs cargo offline so that it never reaches for the network mid-build.
    run(cmd("cargo").args(["fetch", "--quiet"]))?;
    run(cmd("trunk").args(["build", "--release"]))?;
    crate::test::link_assets(
        &cache().join("models/all-minilm-l6-v2"),
        &root().join("dist/models/all-minilm-l6-v2"),
        &["config.json", "model.safetensors", "tokenizer.json"],
    )?;
    crate::test::link_assets(
        &root().join("models/tagger"),
        &root().join("dist/models/tagger"),
        &["tagger.safetensors", "tokenizer.json"],
    )?;
    crate::test::link_assets(
        &root().join("models/recommender"),
        &root().join("dist/models/recommender"),
        &["recommender.safetensors"],
    )?;
    crate::test::link_assets(
        &root().join("models/profile"),
        &root().join("dist/models/profile"),
        &["profile.safetensors"],
    )?;
    build_engine()?;
    build_merchant_demo()
}

/// Builds the engine alone for the web target into `dist/vitrine/`, beside the widget's loader
/// and worker: one module for the widget's worker and for the edge function.
fn build_engine() -> Result<()> {
    run(cmd("cargo").args([
        "build",
        "-p",
        "vitrine-wasm",
        "--lib",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;
    let wasm = target_dir()?.join("wasm32-unknown-unknown/release/vitrine_wasm.wasm");
    let out = root().join("dist/vitrine");
    run(cmd("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&out)
        .arg(&wasm))?;
    crate::test::link_assets(
        &root().join("web/vitrine"),
        &out,
        &["vitrine-widget.js", "vitrine-worker.js", "tagger-worker.js"],
    )
}

/// Places the merchant's demo page and writes its catalogue from the shipped recommender.
fn build_merchant_demo() -> Result<()> {
    crate::test::link_assets(
        &root().join("web"),
        &root().join("dist"),
        &["demo-merchant.html"],
    )?;
    crate::test::link_assets(
        &root().join("web/demo"),
        &root().join("dist/demo"),
        &["merchant.js", "merchant.css", "product.svg"],
    )?;
    run(cmd("node").args([
        "web/demo/make_catalog.mjs",
        "models/recommender/recommender.safetensors",
        "dist/demo/catalog.json",
    ]))
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, a configured one, or `target/`.
pub(crate) fn target_dir() -> Result<PathBuf> {
    let output = cmd("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("cannot run cargo metadata")?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata gave no JSON")?;
    let dir = metadata["target_directory"]
        .as_str()
        .context("cargo metadata names no target directory")?;
    Ok(PathBuf::from(dir))
}

/// A static file server for `dist/` on the loopback address.
pub(crate) fn serve(port: &str) -> std::process::Command {
    let mut server = cmd("python3");
    server
        .args(["-m", "http.server", port, "--bind", ADDRESS, "--directory"])
        .arg(root().join("dist"));
    server
}
