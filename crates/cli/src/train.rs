//! `vitrine train tagger`: fine-tune the base encoder on QueryNER.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use vitrine_core::burn::optim::AdamWConfig;
use vitrine_core::burn::prelude::{Device, Int, Tensor, TensorData};
use vitrine_core::{
    Bert, BertConfig, DeviceKind, Encoding, EntityReport, IGNORE, Scheme, Tagger, TaggerConfig,
    TextTokenizer, WarmupLinear, WeightSource, align_labels, base_encoder_dir, batch, best_tags,
    for_inference, length_buckets, open_device, read_labels, read_queryner, tag_probabilities,
    train_step, word_values,
};

/// Arguments of `vitrine train tagger`.
#[derive(Debug, Args)]
pub(crate) struct TrainTaggerArgs {
    /// Directory holding QueryNER's `train.json`, `validation.json` and `labels.json`.
    #[arg(long, default_value = "data/queryner")]
    data: PathBuf,

    /// Directory of the base encoder [default: the one fetched by `cargo xtask setup`].
    #[arg(long)]
    base: Option<PathBuf>,

    /// Where the best checkpoint is written.
    #[arg(long, default_value = "target/tagger/checkpoint.safetensors")]
    out: PathBuf,

    /// Start from this checkpoint instead of the base encoder.
    #[arg(long)]
    resume: Option<PathBuf>,

    /// Passes over the training set.
    #[arg(long, default_value_t = 3)]
    epochs: usize,

    /// Queries per step.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,

    /// Peak learning rate of AdamW.
    #[arg(long, default_value_t = 5e-5)]
    learning_rate: f64,

    /// Share of the steps spent warming up.
    #[arg(long, default_value_t = 0.1)]
    warmup: f64,

    /// Seed of initialisation, dropout and batch order.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Use only the first N queries of each split (a quick check of the whole loop).
    #[arg(long)]
    limit: Option<usize>,

    /// Where to train: cpu, wgpu or cuda.
    #[arg(long, default_value = "cpu")]
    device: DeviceKind,
}

/// Queries ready for the model: one window each, with token labels and word tags.
struct Split {
    windows: Vec<Encoding>,
    token_labels: Vec<Vec<i64>>,
    word_tags: Vec<Vec<String>>,
}

fn load_split(
    dir: &Path,
    name: &str,
    labels: &[String],
    tokenizer: &TextTokenizer,
    limit: Option<usize>,
) -> Result<Split> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut texts = read_queryner(name, &bytes, labels)?;
    texts.truncate(limit.unwrap_or(usize::MAX));
    let mut split = Split {
        windows: Vec::new(),
        token_labels: Vec::new(),
        word_tags: Vec::new(),
    };
    for text in texts {
        let mut windows = tokenizer.encode_words(&text.words)?;
        if windows.len() != 1 {
            bail!(
                "{name}: a query of {} words needs {} windows",
                text.words.len(),
                windows.len()
            );
        }
        let window = windows.remove(0);
        let ids: Vec<u32> = text
            .tags
            .iter()
            .map(|t| labels.iter().position(|l| l == t).map(|i| i as u32))
            .collect::<Option<_>>()
            .context("a tag outside the label list")?;
        split.token_labels.push(align_labels(&window, &ids)?);
        split.windows.push(window);
        split.word_tags.push(text.tags);
    }
    Ok(split)
}

fn label_tensor(rows: &[&Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let seq = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let values: Vec<i64> = rows
        .iter()
        .flat_map(|r| {
            r.iter()
                .copied()
                .chain(std::iter::repeat_n(IGNORE, seq - r.len()))
        })
        .collect();
    Tensor::from_data(TensorData::new(values, [rows.len(), seq]), device)
}

/// Entity micro-F1 (strict IOB2) of `model` on a split.
fn evaluate(
    model: &Tagger,
    config: &BertConfig,
    split: &Split,
    labels: &[String],
    device: &Device,
) -> Result<EntityReport> {
    let mut predicted = Vec::with_capacity(split.windows.len());
    for chunk in split.windows.chunks(64) {
        let input = batch(config, chunk, device)?;
        let probs = tag_probabilities(model.forward(input));
        let [_, seq, n] = probs.dims();
        let probs = probs
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        for (b, window) in chunk.iter().enumerate() {
            let rows = &probs[b * seq * n..(b * seq + window.len()) * n];
            let best: Vec<usize> = best_tags(rows, n).into_iter().map(|(tag, _)| tag).collect();
            let n_words = split.word_tags[predicted.len()].len();
            let words = word_values(window, &best, n_words);
            predicted.push(
                words
                    .iter()
                    .map(|w| labels[w.unwrap_or(0)].clone())
                    .collect::<Vec<_>>(),
            );
        }
    }
    Ok(EntityReport::new(
        &split.word_tags,
        &predicted,
        Scheme::StrictIob2,
    )?)
}

/// Trains, validating after each epoch and keeping the checkpoint with the best F1.
pub(crate) fn run(args: &TrainTaggerArgs) -> Result<()> {
    let base = args.base.clone().unwrap_or_else(base_encoder_dir);
    let read = |dir: &Path, name: &str| {
        let path = dir.join(name);
        std::fs::read(&path)
            .with_context(|| format!("cannot read {}; run `cargo xtask setup`", path.display()))
    };
    let labels = read_labels("labels.json", &read(&args.data, "labels.json")?)?;
    let tokenizer = TextTokenizer::from_bytes(&read(&base, "tokenizer.json")?)?;
    let train = load_split(&args.data, "train.json", &labels, &tokenizer, args.limit)?;
    let valid = load_split(
        &args.data,
        "validation.json",
        &labels,
        &tokenizer,
        args.limit,
    )?;

    let device = open_device(args.device)?.autodiff();
    device.seed(args.seed);
    let encoder_config = BertConfig::from_json(&read(&base, "config.json")?)?;
    let config = TaggerConfig {
        encoder: encoder_config.clone(),
        n_labels: labels.len(),
    };
    let mut model = match &args.resume {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let mut source = WeightSource::new(&bytes)?;
            let model = Tagger::load(&config, &mut source, &device)?;
            source
                .finish()
                .with_context(|| format!("{} is not a tagger checkpoint", path.display()))?;
            model
        }
        None => {
            let encoder = Bert::from_safetensors(
                &encoder_config,
                &read(&base, "model.safetensors")?,
                &device,
            )?;
            config.init_from_encoder(encoder, &device)?
        }
    };

    let lengths: Vec<usize> = train.windows.iter().map(Encoding::len).collect();
    let steps_per_epoch = lengths.len().div_ceil(args.batch_size.max(1));
    let total = (steps_per_epoch * args.epochs).max(1);
    let schedule = WarmupLinear::new(
        args.learning_rate,
        (total as f64 * args.warmup) as usize,
        total,
    )?;
    let mut optimizer = AdamWConfig::new().with_weight_decay(0.01).init();

    let bar = ProgressBar::new(total as u64);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} steps, {msg} [{elapsed} < {eta}]",
    )?);
    let started = std::time::Instant::now();
    let mut best = f64::MIN;
    let mut step = 0;
    for epoch in 0..args.epochs {
        for indices in length_buckets(&lengths, args.batch_size, args.seed + epoch as u64)? {
            let windows: Vec<Encoding> =
                indices.iter().map(|&i| train.windows[i].clone()).collect();
            let rows: Vec<&Vec<i64>> = indices.iter().map(|&i| &train.token_labels[i]).collect();
            let input = batch(&encoder_config, &windows, &device)?;
            let (next, loss) = train_step(
                model,
                &mut optimizer,
                input,
                label_tensor(&rows, &device),
                schedule.rate(step),
            )?;
            model = next;
            step += 1;
            bar.set_message(format!("epoch {}, loss {loss:.4}", epoch + 1));
            bar.inc(1);
        }
        let eval = for_inference(&model);
        let report = evaluate(
            &eval,
            &encoder_config,
            &valid,
            &labels,
            &eval_device(&device),
        )?;
        // Printed beside the bar rather than through it: a hidden bar (no terminal) drops lines.
        bar.suspend(|| {
            eprintln!(
                "epoch {}: validation entity F1 {:.4} (strict IOB2), {:.0} s so far",
                epoch + 1,
                report.micro.f1,
                started.elapsed().as_secs_f64()
            );
        });
        if report.micro.f1 > best {
            best = report.micro.f1;
            let metadata = HashMap::from([
                ("labels".to_owned(), labels.join(" ")),
                ("epoch".to_owned(), (epoch + 1).to_string()),
                (
                    "validation_f1".to_owned(),
                    format!("{:.4}", report.micro.f1),
                ),
            ]);
            if let Some(dir) = args.out.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&args.out, eval.to_safetensors(metadata)?)
                .with_context(|| format!("cannot write {}", args.out.display()))?;
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "best validation entity F1 {best:.4}; checkpoint in {}",
        args.out.display()
    );
    Ok(())
}

/// The device without autodiff, where a validated model lives.
fn eval_device(device: &Device) -> Device {
    device.clone().inner()
}
