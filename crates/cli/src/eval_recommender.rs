//! `vitrine eval recommender`: ranking metrics of the recommenders on Online Retail (a temporal
//! split) and MovieLens 100K (the 75/25 per-user split of the Microsoft Recommenders
//! benchmark).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::DateTime;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vitrine_core::events::EventKind;
use vitrine_core::recommend::movielens::{read_atomic_inter, to_interactions};
use vitrine_core::recommend::{
    BprConfig, Ease, EaseConfig, EvalConfig, EvalReport, Factorization, Interactions, ItemKnn,
    ItemKnnConfig, Popularity, Recommender, SasRec, SasRecConfig, Split, evaluate,
    stratified_split, temporal_split, train_bpr, train_sasrec,
};
use vitrine_core::{DeviceKind, open_device};

use crate::peer_lists::{Listed, export_split, read_peer_run};
use crate::retail::{RetailArgs, load};

/// The data sets the recommenders are scored on.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Dataset {
    /// UCI Online Retail: train on purchases before the cut-off, test on each shopper's later
    /// purchases of products they had not bought.
    Retail,
    /// MovieLens 100K in RecBole's atomic format: every rating is an interaction, 75% of each
    /// user's in train.
    Ml100k,
}

/// Arguments of `vitrine eval recommender`.
#[derive(Debug, Args)]
pub(crate) struct EvalRecommenderArgs {
    /// The data set.
    #[arg(long, value_enum, default_value_t = Dataset::Retail)]
    dataset: Dataset,

    #[command(flatten)]
    retail: RetailArgs,

    /// MovieLens 100K's `ml-100k.inter` [default: the copy `cargo xtask setup` fetches].
    #[arg(long)]
    movielens: Option<PathBuf>,

    /// Online Retail's cut-off time: purchases before it train, after it test.
    #[arg(long, default_value = "2011-09-01T00:00:00+01:00")]
    cutoff: String,

    /// Seed of the MovieLens split.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Neighbours kept per item by item-kNN.
    #[arg(long, default_value_t = 50)]
    neighbours: usize,

    #[command(flatten)]
    bpr: BprArgs,

    #[command(flatten)]
    sasrec: SasRecArgs,

    #[command(flatten)]
    ease: EaseArgs,

    /// Also write the reports as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,

    /// Write the split as `train.tsv` and `test.tsv` (user, item, weight) into this folder and
    /// stop: other libraries train on exactly these pairs (`bench/recommender_peers.py`).
    #[arg(long, value_name = "DIR")]
    export_split: Option<PathBuf>,

    /// Also score the lists another library made for this split (JSON written by
    /// `bench/recommender_peers.py`), with the same metrics; may be given more than once.
    #[arg(long, value_name = "FILE")]
    peer_lists: Vec<PathBuf>,
}

/// How long a model trained, when it trains.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Fit {
    /// Wall-clock seconds of training.
    fit_seconds: Option<f64>,
    /// Passes over the data in that time.
    epochs: Option<usize>,
}

impl Fit {
    fn of(seconds: f64, epochs: usize) -> Self {
        Self {
            fit_seconds: Some(seconds),
            epochs: Some(epochs),
        }
    }
}

/// One model's report with its training time, as `--json` writes it.
#[derive(Debug, Serialize)]
struct Scored {
    #[serde(flatten)]
    report: EvalReport,
    #[serde(flatten)]
    fit: Fit,
}

/// Settings of the BPR matrix factorisation.
#[derive(Debug, Clone, Args)]
pub(crate) struct BprArgs {
    /// Factors per user and item vector.
    #[arg(long, default_value_t = BprConfig::default().factors)]
    factors: usize,

    /// Passes over the training pairs.
    #[arg(long, default_value_t = BprConfig::default().epochs)]
    epochs: usize,

    /// Triples per optimisation step.
    #[arg(long, default_value_t = BprConfig::default().batch_size)]
    batch_size: usize,

    /// Adam's learning rate.
    #[arg(long, default_value_t = BprConfig::default().learning_rate)]
    learning_rate: f64,

    /// L2 penalty on the vectors of each triple.
    #[arg(long, default_value_t = BprConfig::default().l2)]
    l2: f64,

    /// Seed of the weights and the sampling.
    #[arg(id = "bpr_seed", long = "bpr-seed", default_value_t = BprConfig::default().seed)]
    seed: u64,

    /// The device BPR and SASRec train on: cpu, wgpu or cuda (with those build features).
    #[arg(long, default_value = "cpu")]
    device: DeviceKind,
}

/// Settings of EASE. Their defaults depend on the split: on Online Retail, split by time,
/// older purchases weigh less; MovieLens's split is random, so time says nothing there.
#[derive(Debug, Clone, Args)]
pub(crate) struct EaseArgs {
    /// EASE's L2 penalty [default: 200 on retail, 500 on ml100k].
    #[arg(long)]
    ease_l2: Option<f64>,

    /// EASE's half-life of an interaction in days, 0 for none [default: 120 on retail, 0 on
    /// ml100k].
    #[arg(long)]
    ease_half_life: Option<f64>,

    /// Weights EASE keeps per item (0: all).
    #[arg(long, default_value_t = EaseConfig::default().neighbours)]
    ease_neighbours: usize,
}

impl EaseArgs {
    /// The settings for `dataset`: the best of a small grid on each split, where not given.
    fn config(&self, dataset: Dataset) -> EaseConfig {
        let (l2, half_life) = match dataset {
            Dataset::Retail => (200.0, 120.0),
            Dataset::Ml100k => (500.0, 0.0),
        };
        let half_life = self.ease_half_life.unwrap_or(half_life);
        EaseConfig {
            l2: self.ease_l2.unwrap_or(l2),
            half_life_days: (half_life != 0.0).then_some(half_life),
            neighbours: self.ease_neighbours,
        }
    }
}

/// Settings of the SASRec sequence model.
#[derive(Debug, Clone, Args)]
pub(crate) struct SasRecArgs {
    /// SASRec's passes over the shoppers (0 leaves SASRec out).
    #[arg(long, default_value_t = SasRecConfig::default().epochs)]
    sasrec_epochs: usize,

    /// Items SASRec reads per shopper, the most recent.
    #[arg(long, default_value_t = SasRecConfig::default().max_len)]
    sasrec_len: usize,

    /// SASRec's width.
    #[arg(long, default_value_t = SasRecConfig::default().d_model)]
    sasrec_width: usize,

    /// SASRec's encoder layers.
    #[arg(long, default_value_t = SasRecConfig::default().n_layers)]
    sasrec_layers: usize,

    /// SASRec's dropout.
    #[arg(long, default_value_t = SasRecConfig::default().dropout)]
    sasrec_dropout: f64,

    /// SASRec's learning rate.
    #[arg(long, default_value_t = SasRecConfig::default().learning_rate)]
    sasrec_rate: f64,
}

impl SasRecArgs {
    /// Trains SASRec on `train` with a progress bar, or `None` when it has 0 epochs.
    fn train(&self, train: &Interactions, device: DeviceKind) -> Result<Option<SasRec>> {
        if self.sasrec_epochs == 0 {
            return Ok(None);
        }
        let config = SasRecConfig {
            epochs: self.sasrec_epochs,
            max_len: self.sasrec_len,
            d_model: self.sasrec_width,
            n_layers: self.sasrec_layers,
            dropout: self.sasrec_dropout,
            learning_rate: self.sasrec_rate,
            ..SasRecConfig::default()
        };
        let bar = ProgressBar::new(config.epochs as u64);
        bar.set_style(ProgressStyle::with_template(
            "SASRec {bar:40} {pos}/{len} epochs, {msg} [{elapsed} < {eta}]",
        )?);
        let device = open_device(device)?.autodiff();
        let model = train_sasrec(train, &config, &device, |r| {
            bar.set_message(format!("loss {:.4}", r.loss));
            bar.inc(1);
        })?;
        bar.finish_and_clear();
        Ok(Some(model))
    }
}

impl BprArgs {
    pub(crate) fn config(&self) -> BprConfig {
        BprConfig {
            factors: self.factors,
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            l2: self.l2,
            seed: self.seed,
        }
    }

    /// Trains BPR on `train` with a progress bar.
    pub(crate) fn train(&self, train: &Interactions) -> Result<Factorization> {
        let config = self.config();
        let bar = ProgressBar::new(config.epochs as u64);
        bar.set_style(ProgressStyle::with_template(
            "BPR {bar:40} {pos}/{len} epochs, {msg} [{elapsed} < {eta}]",
        )?);
        let device = open_device(self.device)?.autodiff();
        let name = format!("BPR (d = {})", config.factors);
        let model = train_bpr(&name, train, &config, &device, |r| {
            bar.set_message(format!("loss {:.4}, ordered {:.3}", r.loss, r.ordered));
            bar.inc(1);
        })?;
        bar.finish_and_clear();
        Ok(model)
    }
}

/// Splits the data set, fits every recommender on train and prints their metrics side by side.
pub(crate) fn run(args: &EvalRecommenderArgs, out: &mut impl Write) -> Result<()> {
    let split = match args.dataset {
        Dataset::Retail => retail_split(args)?,
        Dataset::Ml100k => {
            let path = args.movielens.clone().unwrap_or_else(|| {
                vitrine_core::cache_dir().join("datasets/ml-100k/ml-100k.inter")
            });
            let ratings = read_atomic_inter(&path).with_context(|| {
                format!(
                    "cannot read {}; run `cargo xtask setup`, which fetches MovieLens 100K, or \
                     pass --movielens",
                    path.display()
                )
            })?;
            stratified_split(&to_interactions(&ratings)?, 0.75, args.seed)?
        }
    };
    writeln!(
        out,
        "{:?}: {} train pairs ({} users, {} items), {} test pairs",
        args.dataset,
        split.report.train_pairs,
        split.train.n_users(),
        split.train.n_items(),
        split.report.test_pairs
    )?;
    if let Some(dir) = &args.export_split {
        export_split(&split.train, &split.test, dir)?;
        writeln!(out, "wrote train.tsv and test.tsv into {}", dir.display())?;
        return Ok(());
    }
    let peers = args
        .peer_lists
        .iter()
        .map(|p| read_peer_run(p))
        .collect::<Result<Vec<_>>>()?;

    let popularity = Popularity::fit(&split.train);
    let knn = ItemKnn::fit(
        &split.train,
        ItemKnnConfig {
            neighbours: args.neighbours,
            ..ItemKnnConfig::default()
        },
    )?;
    let started = Instant::now();
    let bpr = args.bpr.train(&split.train)?;
    let bpr_seconds = started.elapsed().as_secs_f64();
    writeln!(out, "BPR: {} epochs in {bpr_seconds:.1} s", args.bpr.epochs)?;
    let folded = bpr.folded_in();
    let started = Instant::now();
    let ease = Ease::fit(&split.train, args.ease.config(args.dataset))?;
    let ease_seconds = started.elapsed().as_secs_f64();
    writeln!(out, "EASE: fitted in {ease_seconds:.1} s")?;
    let bpr_fit = Fit::of(bpr_seconds, args.bpr.epochs);
    let mut models: Vec<(&dyn Recommender, Fit)> = vec![
        (&popularity, Fit::default()),
        (&knn, Fit::default()),
        (&bpr, bpr_fit),
        (&folded, bpr_fit),
        (&ease, Fit::of(ease_seconds, 1)),
    ];
    let started = Instant::now();
    let sasrec = args.sasrec.train(&split.train, args.bpr.device)?;
    if let Some(sasrec) = &sasrec {
        let seconds = started.elapsed().as_secs_f64();
        let epochs = args.sasrec.sasrec_epochs;
        writeln!(out, "SASRec: {epochs} epochs in {seconds:.1} s")?;
        models.push((sasrec, Fit::of(seconds, epochs)));
    }
    let listed: Vec<(Listed<'_>, Fit)> = peers
        .iter()
        .flat_map(|run| {
            run.models.iter().map(|m| {
                let fit = Fit::of(m.fit_seconds, m.epochs);
                (Listed::new(&run.library, m, &split.train), fit)
            })
        })
        .collect();
    models.extend(listed.iter().map(|(l, fit)| (l as &dyn Recommender, *fit)));

    let config = EvalConfig::default();
    let scored = models
        .iter()
        .map(|&(model, fit)| {
            let report = evaluate(model, &split.train, &split.test, &config)?;
            Ok(Scored { report, fit })
        })
        .collect::<vitrine_core::Result<Vec<Scored>>>()?;
    table(&scored, out)?;

    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&scored)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn retail_split(args: &EvalRecommenderArgs) -> Result<Split> {
    let cutoff = DateTime::parse_from_rfc3339(&args.cutoff)
        .with_context(|| format!("--cutoff {}: give an RFC 3339 time", args.cutoff))?;
    let retail = load(&RetailArgs {
        no_categories: true,
        ..args.retail.clone()
    })?;
    log::info!("{}", retail.summary());
    // Every purchased product is one interaction of weight 1; repeated purchases add up.
    let records: Vec<(String, String, f64, i64)> = retail
        .events
        .iter()
        .filter_map(|e| match (&e.user_id, &e.kind) {
            (Some(user), EventKind::Purchase(order)) => Some((user, order, e.timestamp)),
            _ => None,
        })
        .flat_map(|(user, order, at)| {
            order
                .items
                .iter()
                .map(move |i| (user.clone(), i.item_id.clone(), 1.0, at.timestamp()))
        })
        .collect();
    Ok(temporal_split(&records, cutoff.timestamp())?)
}

fn table(scored: &[Scored], out: &mut impl Write) -> Result<()> {
    let width = scored
        .iter()
        .map(|s| s.report.model.chars().count())
        .max()
        .unwrap_or(0)
        .max(26);
    writeln!(
        out,
        "\n{:<width$} {:>4} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "model",
        "K",
        "precision",
        "recall",
        "NDCG",
        "NDCG bin",
        "HR",
        "MRR",
        "coverage",
        "novelty",
        "ARP",
        "APLT"
    )?;
    for report in scored.iter().map(|s| &s.report) {
        for m in &report.at {
            writeln!(
                out,
                "{:<width$} {:>4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.2} \
                 {:>9.1} {:>9.4}",
                report.model,
                m.k,
                m.precision,
                m.recall,
                m.ndcg,
                m.ndcg_binary,
                m.hit_rate,
                m.mrr,
                m.coverage,
                m.novelty,
                m.arp,
                m.aplt
            )?;
        }
    }
    writeln!(
        out,
        "\nNDCG is graded by interaction weight (linear gain), NDCG bin counts every test item as \
         1; ties are broken against the model. ARP is the mean number of training users of the \
         items shown, APLT the mean share of long-tail items (outside the 20% most popular) \
         per list: the popularity bias"
    )?;
    Ok(())
}
