//! `cargo xtask demo`: build the web app and serve it on http://127.0.0.1:8080.

use anyhow::Result;

use crate::shell::{cache, cmd, root, run, step};

/// Address the demo serves on.
pub(crate) const ADDRESS: &str = "127.0.0.1";
/// Port the demo serves on.
pub(crate) const PORT: &str = "8080";

pub(crate) fn run_demo() -> Result<()> {
    crate::setup::ensure()?;
    step("building the web app");
    build_app()?;
    step(&format!("serving http://{ADDRESS}:{PORT} (Ctrl-C stops)"));
    eprintln!(
        "The shop runs the shipped tagger and recommender in the browser; the shopper's events \
         stay in its IndexedDB."
    );
    run(&mut serve(PORT))
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
    )
}

/// A static file server for `dist/` on the loopback address.
pub(crate) fn serve(port: &str) -> std::process::Command {
    let mut server = cmd("python3");
    server
        .args(["-m", "http.server", port, "--bind", ADDRESS, "--directory"])
        .arg(root().join("dist"));
    server
}
