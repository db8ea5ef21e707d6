//! Running commands and finding the workspace's directories.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The workspace root, from the crate directory that `cargo run` passes. The compile-time value
/// is only a fallback: a target directory shared between clones may hold an xtask compiled in
/// another one.
pub(crate) fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
        .join("..")
        .canonicalize()
        .expect("xtask sits in the workspace")
}

/// Vitrine's cache outside the clone: the base encoder, npm tools and downloads.
///
/// The same rule as `vitrine_core::base_encoder_dir`: `VITRINE_CACHE`, else
/// `$XDG_CACHE_HOME/vitrine`, else `~/.cache/vitrine`.
pub(crate) fn cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("VITRINE_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| root().join(".cache"));
    base.join("vitrine")
}

/// Where the npm-installed tools (wasm-opt) put their executables.
pub(crate) fn tools_bin() -> PathBuf {
    cache().join("tools/node_modules/.bin")
}

/// `PATH` with cargo's and the npm tools' bin directories first, so Trunk finds the installed
/// wasm-bindgen and wasm-opt and never downloads its own.
pub(crate) fn path_with_tools() -> std::ffi::OsString {
    let mut dirs = vec![tools_bin()];
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    } else if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).expect("directories without path separators")
}

/// A command with the tool directories on `PATH`, run from the workspace root.
pub(crate) fn cmd(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(root()).env("PATH", path_with_tools());
    cmd
}

/// Runs a command, echoing it, and fails unless it succeeds.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("cannot start `{}`", describe(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(cmd));
    }
    Ok(())
}

/// Runs a command quietly and returns its standard output, or `None` if it fails or is absent.
pub(crate) fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// One step's banner.
pub(crate) fn step(name: &str) {
    eprintln!("\n==> {name}");
}
