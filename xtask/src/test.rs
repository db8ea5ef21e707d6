//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::path::Path;

use anyhow::{Context, Result};

use crate::shell::{cache, cmd, root, run, step};

const WASM: &str = "wasm32-unknown-unknown";

pub(crate) fn run_all() -> Result<()> {
    crate::setup::ensure()?;

    step("format");
    run(cmd("cargo").args(["fmt", "--all", "--check"]))?;

    step("clippy, native");
    run(cmd("cargo")
        .args([
            "clippy",
            "-p",
            "vitrine-core",
            "-p",
            "vitrine-cli",
            "-p",
            "xtask",
        ])
        .args([
            "--all-targets",
            "--features",
            "vitrine-core/wgpu,vitrine-core/train",
            "--",
            "-D",
            "warnings",
        ]))?;

    step("clippy, wasm32");
    run(cmd("cargo")
        .args([
            "clippy",
            "-p",
            "vitrine-core",
            "-p",
            "vitrine-wasm",
            "-p",
            "vitrine-app",
        ])
        .args(["--all-targets", "--target", WASM, "--", "-D", "warnings"]))?;

    step("native tests (CPU, and wgpu on the machine's Vulkan driver)");
    run(cmd("cargo")
        .args([
            "test",
            "-p",
            "vitrine-core",
            "-p",
            "vitrine-cli",
            "-p",
            "xtask",
        ])
        .args(["--features", "vitrine-core/wgpu,vitrine-core/train"]))?;

    step("cuda feature type-checks");
    // Its full build downloads a prebuilt LLVM; DOCS_RS skips that, which a check allows.
    run(cmd("cargo")
        .args(["check", "-p", "vitrine-core", "--features", "cuda"])
        .env("DOCS_RS", "1"))?;

    step("wasm32 build of the app");
    crate::demo::build_app()?;

    step("browser tests: the engine in headless Chromium");
    browser_tests()?;

    step("end-to-end tests: the app in headless Chromium");
    app_tests()?;

    eprintln!("\nall checks passed");
    Ok(())
}

/// wasm-bindgen-test in headless Chromium, on the real weights.
///
/// The test runner serves files from the crate directory, so the base encoder and the shipped
/// tagger, recommender and shopper model are linked into `crates/wasm/.test-assets/` (ignored
/// by git) for the tests to fetch.
fn browser_tests() -> Result<()> {
    let crate_dir = root().join("crates/wasm");
    link_assets(
        &cache().join("models/all-minilm-l6-v2"),
        &crate_dir.join(".test-assets/all-minilm-l6-v2"),
        &["config.json", "model.safetensors", "tokenizer.json"],
    )?;
    link_assets(
        &root().join("models/tagger"),
        &crate_dir.join(".test-assets/tagger"),
        &["tagger.safetensors", "tokenizer.json"],
    )?;
    link_assets(
        &root().join("models/recommender"),
        &crate_dir.join(".test-assets/recommender"),
        &["recommender.safetensors"],
    )?;
    link_assets(
        &root().join("models/profile"),
        &crate_dir.join(".test-assets/profile"),
        &["profile.safetensors"],
    )?;
    // A page that fails before the tests start leaves the runner waiting for ever: bound it,
    // generously, since the time includes a cold release build.
    run(cmd("timeout")
        .args([
            "2400",
            "cargo",
            "test",
            "-p",
            "vitrine-wasm",
            "--target",
            WASM,
            "--release",
        ])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "1500"))
}

/// Serves the built app on a spare port and runs the Playwright tests against it.
fn app_tests() -> Result<()> {
    let port = "8765";
    let mut server = crate::demo::serve(port)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("cannot start the static file server (python3)")?;
    let url = format!("http://{}:{port}/", crate::demo::ADDRESS);
    let result = run(cmd("node")
        .current_dir(root().join("tests"))
        .args(["--test", "--test-concurrency=1"])
        .env("VITRINE_APP_URL", &url));
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// Hard-links (or, across file systems, copies) the named files of `from` into `to`.
pub(crate) fn link_assets(from: &Path, to: &Path, names: &[&str]) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for name in names {
        let (src, dst) = (from.join(name), to.join(name));
        let _ = std::fs::remove_file(&dst);
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).with_context(|| format!("copying {}", src.display()))?;
        }
    }
    Ok(())
}
