//! `vitrine train tagger`: fine-tune the base encoder on QueryNER.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vitrine_core::burn::optim::AdamWConfig;
use vitrine_core::burn::prelude::{Device, Int, Tensor, TensorData};
use vitrine_core::{
    Bert, BertConfig, Decoding, DeviceKind, Encoding, EntityReport, IGNORE, Scheme, TaggerConfig,
    TaggerFile, TaggerStorage, TextTokenizer, WarmupLinear, base_encoder_dir, batch, for_inference,
    length_buckets, open_device, read_labels, train_step, write_tagger_file,
};

use crate::plot::training_curve;
use crate::queryner::{load_split, predict_tags};

/// Arguments of `vitrine train tagger`.
#[derive(Debug, Args)]
pub(crate) struct TrainTaggerArgs {
    /// Directory holding QueryNER's `train.json`, `validation.json` and `labels.json`.
    #[arg(long, default_value = "data/queryner")]
    data: PathBuf,

    /// Directory of the base encoder [default: the one fetched by `cargo xtask setup`].
    #[arg(long)]
    base: Option<PathBuf>,

    /// Where the best checkpoint is written. The training history goes beside it as
    /// `<name>.history.json` and its curve as `<name>.curve.png`.
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

/// What one epoch of training did.
#[derive(Debug, Serialize)]
struct EpochRecord {
    epoch: usize,
    mean_loss: f64,
    validation_f1: f64,
    seconds: f64,
}

/// The whole run, as written beside the checkpoint.
#[derive(Debug, Default, Serialize)]
struct History {
    epochs: Vec<EpochRecord>,
    /// `(epoch, mean loss)` over every [`LOSS_WINDOW`] steps.
    loss: Vec<(f64, f64)>,
}

/// Steps averaged into one point of the loss curve.
const LOSS_WINDOW: usize = 20;

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

    let tokenizer_json = read(&base, "tokenizer.json")?;
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
            let file = TaggerFile::read(&bytes, &device)
                .with_context(|| format!("{} is not a tagger checkpoint", path.display()))?;
            if file.labels != labels || file.config != config {
                bail!(
                    "{} was trained with other labels or another encoder shape",
                    path.display()
                );
            }
            file.check_tokenizer(&tokenizer_json)?;
            file.tagger
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
    let mut history = History::default();
    let (history_path, curve_path) = (
        args.out.with_extension("history.json"),
        args.out.with_extension("curve.png"),
    );
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    for epoch in 0..args.epochs {
        let (mut epoch_loss, mut epoch_steps, mut window) = (0.0, 0, Vec::new());
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
            epoch_loss += f64::from(loss);
            epoch_steps += 1;
            window.push(f64::from(loss));
            if window.len() == LOSS_WINDOW {
                let at = step as f64 / steps_per_epoch as f64;
                history
                    .loss
                    .push((at, window.iter().sum::<f64>() / LOSS_WINDOW as f64));
                window.clear();
            }
            let f1 = history.epochs.last().map_or(String::new(), |e| {
                format!(", validation F1 {:.4}", e.validation_f1)
            });
            bar.set_message(format!("epoch {}, loss {loss:.4}{f1}", epoch + 1));
            bar.inc(1);
        }
        let eval = for_inference(&model);
        let predicted = predict_tags(
            &eval,
            &encoder_config,
            &valid,
            &labels,
            &[Decoding::ValidBio],
            &eval_device(&device),
        )?
        .remove(0);
        let report = EntityReport::new(&valid.word_tags, &predicted, Scheme::StrictIob2)?;
        // Printed beside the bar rather than through it: a hidden bar (no terminal) drops lines.
        bar.suspend(|| {
            eprintln!(
                "epoch {}: validation entity F1 {:.4} (strict IOB2), {:.0} s so far",
                epoch + 1,
                report.micro.f1,
                started.elapsed().as_secs_f64()
            );
        });
        history.epochs.push(EpochRecord {
            epoch: epoch + 1,
            mean_loss: epoch_loss / epoch_steps.max(1) as f64,
            validation_f1: report.micro.f1,
            seconds: started.elapsed().as_secs_f64(),
        });
        let f1: Vec<(f64, f64)> = history
            .epochs
            .iter()
            .map(|e| (e.epoch as f64, e.validation_f1))
            .collect();
        std::fs::write(&history_path, serde_json::to_vec_pretty(&history)?)
            .with_context(|| format!("cannot write {}", history_path.display()))?;
        training_curve(&curve_path, &history.loss, &f1)?;

        if report.micro.f1 > best {
            best = report.micro.f1;
            let metadata = BTreeMap::from([
                ("epoch".to_owned(), (epoch + 1).to_string()),
                (
                    "validation_f1".to_owned(),
                    format!("{:.4}", report.micro.f1),
                ),
                ("training".to_owned(), training_summary(args)),
            ]);
            let file = write_tagger_file(
                &eval,
                &config,
                &labels,
                &tokenizer_json,
                TaggerStorage::F32,
                metadata,
            )?;
            std::fs::write(&args.out, file)
                .with_context(|| format!("cannot write {}", args.out.display()))?;
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "best validation entity F1 {best:.4}; checkpoint in {}, curve in {}",
        args.out.display(),
        curve_path.display()
    );
    Ok(())
}

/// The settings of a run, recorded in its checkpoint.
fn training_summary(args: &TrainTaggerArgs) -> String {
    format!(
        "{} epochs, batch {}, AdamW peak rate {}, warm-up {}, seed {}, device {:?}",
        args.epochs, args.batch_size, args.learning_rate, args.warmup, args.seed, args.device
    )
}

/// The device without autodiff, where a validated model lives.
fn eval_device(device: &Device) -> Device {
    device.clone().inner()
}
