//! What the CLI's tests share.

use std::path::PathBuf;

/// The workspace root, from the crate directory that Cargo passes when it runs the test. The
/// compile-time value is only a fallback: a target directory shared between clones may hold a
/// test binary compiled in another one.
pub(crate) fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
        .join("../..")
}
