//! `vitrine bench`: hot paths timed for `cargo xtask bench`.
//!
//! - `encoder`: the shipped tagger's encoder forward pass on CPU, which `cargo xtask bench`
//!   runs alternately with onnxruntime on the same model.
//! - `recommend`: a shopper's events folded into the shipped recommender and the top 10 of the
//!   catalogue picked, natively: the browser's work without the browser.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use vitrine_core::events::{EventKind, ItemsParams};
use vitrine_core::recommend::{ShippedRecommender, signal_weight};
use vitrine_core::{DeviceKind, TaggerFile, TextTokenizer, batch, open_device};

/// Arguments of `vitrine bench encoder`.
#[derive(Debug, Args)]
pub(crate) struct BenchEncoderArgs {
    /// The tagger model file.
    #[arg(long, default_value = "models/tagger/tagger.safetensors")]
    model: PathBuf,

    /// Its tokenizer.
    #[arg(long, default_value = "models/tagger/tokenizer.json")]
    tokenizer: PathBuf,

    /// Input lengths in tokens, [CLS] and [SEP] included.
    #[arg(long, value_delimiter = ',', default_value = "8,16,32,64")]
    tokens: Vec<usize>,

    /// Batch sizes.
    #[arg(long, value_delimiter = ',', default_value = "1,32")]
    batch: Vec<usize>,

    /// Timed runs per shape, after three untimed ones.
    #[arg(long, default_value_t = 10)]
    reps: usize,

    /// Where to run: cpu, wgpu or cuda (the last two need builds with those features).
    #[arg(long, default_value = "cpu")]
    device: DeviceKind,

    /// Also write the timings as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The timings of one input shape.
#[derive(Debug, Serialize)]
struct Shape {
    tokens: usize,
    batch: usize,
    /// The token ids of one row, so a peer runs the very same input.
    input_ids: Vec<u32>,
    /// Each timed run, in milliseconds.
    ms: Vec<f64>,
    median_ms: f64,
    /// Rows per second at the median.
    rows_per_second: f64,
}

/// Loads the tagger and times its forward pass (read back to host memory) for every shape.
pub(crate) fn run(args: &BenchEncoderArgs, out: &mut impl Write) -> Result<()> {
    if args.reps == 0 || args.tokens.iter().any(|&n| n < 2) || args.batch.contains(&0) {
        bail!("give at least one rep, lengths of 2 tokens or more and batches of 1 or more");
    }
    let device = open_device(args.device)?;
    let read =
        |p: &PathBuf| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let file = TaggerFile::read(&read(&args.model)?, &device)
        .with_context(|| format!("{} is not a tagger model file", args.model.display()))?;
    let tokenizer_json = read(&args.tokenizer)?;
    file.check_tokenizer(&tokenizer_json)?;
    let tokenizer = TextTokenizer::from_bytes(&tokenizer_json)?;

    writeln!(
        out,
        "{:>6} {:>6} {:>10} {:>12}",
        "tokens", "batch", "median ms", "rows/s"
    )?;
    let mut shapes = Vec::new();
    for &batch_size in &args.batch {
        for &n in &args.tokens {
            // "red" is one WordPiece: n - 2 of them and [CLS], [SEP] make n tokens.
            let text = vec!["red"; n - 2].join(" ");
            let encoding = tokenizer
                .encode(&text)?
                .into_iter()
                .next()
                .context("the tokenizer gave no window")?;
            if encoding.len() != n {
                bail!("{n} tokens do not fit one window of this tokenizer");
            }
            let rows = vec![encoding.clone(); batch_size];
            let forward = || -> Result<()> {
                let input = batch(&file.config.encoder, &rows, &device)?;
                let logits = file.tagger.forward(input).into_data();
                std::hint::black_box(logits);
                Ok(())
            };
            for _ in 0..3 {
                forward()?;
            }
            let mut ms = Vec::with_capacity(args.reps);
            for _ in 0..args.reps {
                let started = Instant::now();
                forward()?;
                ms.push(started.elapsed().as_secs_f64() * 1e3);
            }
            let median_ms = median(&ms);
            let rows_per_second = batch_size as f64 / (median_ms / 1e3);
            writeln!(
                out,
                "{n:>6} {batch_size:>6} {median_ms:>10.2} {rows_per_second:>12.1}"
            )?;
            shapes.push(Shape {
                tokens: n,
                batch: batch_size,
                input_ids: encoding.ids.clone(),
                ms,
                median_ms,
                rows_per_second,
            });
        }
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&shapes)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Arguments of `vitrine bench recommend`.
#[derive(Debug, Args)]
pub(crate) struct BenchRecommendArgs {
    /// The recommender model file.
    #[arg(long, default_value = "models/recommender/recommender.safetensors")]
    model: PathBuf,

    /// Products viewed, the first of the catalogue.
    #[arg(long, default_value_t = 20)]
    views: usize,

    /// Products listed.
    #[arg(long, default_value_t = 10)]
    k: usize,

    /// MMR diversity, as the app asks by default.
    #[arg(long, default_value_t = 0.3)]
    diversity: f64,

    /// Timed runs, after three untimed ones.
    #[arg(long, default_value_t = 50)]
    reps: usize,

    /// Also write the timings as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Times fold-in plus the top `k` for a shopper who viewed `views` products.
pub(crate) fn run_recommend(args: &BenchRecommendArgs, out: &mut impl Write) -> Result<()> {
    if args.reps == 0 {
        bail!("give at least one rep");
    }
    let bytes = std::fs::read(&args.model)
        .with_context(|| format!("cannot read {}", args.model.display()))?;
    let model = ShippedRecommender::from_bytes(&bytes)?;
    let empty_view = EventKind::ViewItem(ItemsParams {
        currency: None,
        items: Vec::new(),
    });
    let view = signal_weight(&empty_view).map_or(0.25, |(_, weight)| weight);
    let history: Vec<(&str, f32)> = model
        .catalogue
        .iter()
        .take(args.views)
        .map(|item| (item.id.as_str(), view))
        .collect();
    for _ in 0..3 {
        model.suggest_weighted(&history, args.k, args.diversity)?;
    }
    let mut ms = Vec::with_capacity(args.reps);
    for _ in 0..args.reps {
        let started = Instant::now();
        let list = model.suggest_weighted(&history, args.k, args.diversity)?;
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(list);
    }
    let median_ms = median(&ms);
    writeln!(
        out,
        "fold-in of {} views and the top {} of {} products: median {median_ms:.3} ms",
        history.len(),
        args.k,
        model.catalogue.len(),
    )?;
    if let Some(path) = &args.json {
        let report = serde_json::json!({
            "events": history.len(),
            "k": args.k,
            "products": model.catalogue.len(),
            "ms": ms,
            "median_ms": median_ms,
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
