//! `vitrine train recommender`: BPR on every Online Retail purchase, written with the item
//! table (titles, usual prices, tags of the titles) as the model file the app ships.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use vitrine_core::Storage;
use vitrine_core::events::EventKind;
use vitrine_core::recommend::{CatalogueItem, Interactions, ItemTag, ShippedRecommender};

use crate::eval_recommender::BprArgs;
use crate::retail::{RetailArgs, load, load_tagger};

/// How the item factors are stored.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum FactorStorage {
    /// 2 bytes a value.
    F16,
    /// 1 byte a value and a scale per item.
    Int8,
}

/// Arguments of `vitrine train recommender`.
#[derive(Debug, Args)]
pub(crate) struct TrainRecommenderArgs {
    #[command(flatten)]
    retail: RetailArgs,

    #[command(flatten)]
    bpr: BprArgs,

    /// How the item factors are stored.
    #[arg(long, value_enum, default_value_t = FactorStorage::F16)]
    storage: FactorStorage,

    /// Where the model file goes.
    #[arg(long, default_value = "models/recommender/recommender.safetensors")]
    out: PathBuf,
}

/// Trains on all customers' purchases, tags every title and writes the model file.
pub(crate) fn run(args: &TrainRecommenderArgs, out: &mut impl Write) -> Result<()> {
    let retail = load(&RetailArgs {
        no_categories: true,
        ..args.retail.clone()
    })?;
    writeln!(out, "{}", retail.summary())?;

    let mut train = Interactions::new();
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    let mut prices: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for event in &retail.events {
        let EventKind::Purchase(order) = &event.kind else {
            continue;
        };
        for item in &order.items {
            if let Some(name) = &item.item_name {
                titles.insert(item.item_id.clone(), name.trim().to_owned());
            }
            if let Some(price) = item.price.filter(|&p| p > 0) {
                prices.entry(item.item_id.clone()).or_default().push(price);
            }
            if let Some(user) = &event.user_id {
                train.record(user, &item.item_id, 1.0, event.timestamp.timestamp())?;
            }
        }
    }
    writeln!(
        out,
        "training on {} purchases of {} customers and {} products",
        train.n_pairs(),
        train.n_users(),
        train.n_items()
    )?;
    let model = args.bpr.train(&train)?;

    let tagger = load_tagger(&args.retail.tagger)?;
    let bar = ProgressBar::new(train.n_items() as u64);
    bar.set_style(ProgressStyle::with_template(
        "tagging titles {bar:40} {pos}/{len} {eta}",
    )?);
    let mut catalogue = Vec::with_capacity(train.n_items());
    for id in train.item_ids() {
        let title = titles.get(id).cloned().unwrap_or_else(|| id.clone());
        let tags = tagger
            .tag(&title.to_lowercase())?
            .into_iter()
            .map(|e| ItemTag {
                kind: e.kind,
                text: e.text,
            })
            .collect();
        let price = prices
            .get_mut(id)
            .and_then(|p| median(p))
            .map(|p| p as f64 / 100.0);
        catalogue.push(CatalogueItem {
            id: id.clone(),
            title,
            price,
            tags,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();

    let shipped = ShippedRecommender::new(&model, catalogue, "GBP")?;
    let mut extra = BTreeMap::new();
    extra.insert("model_version".to_owned(), "1".to_owned());
    extra.insert(
        "training".to_owned(),
        serde_json::to_string(&args.bpr.config())?,
    );
    extra.insert(
        "data".to_owned(),
        format!(
            "UCI Online Retail (CC0), purchases of {} customers, {} products",
            train.n_users(),
            train.n_items()
        ),
    );
    let storage = match args.storage {
        FactorStorage::F16 => Storage::F16,
        FactorStorage::Int8 => Storage::Int8,
    };
    let bytes = shipped.to_bytes(storage, extra)?;
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    writeln!(
        out,
        "wrote {} ({:.2} MB: {} items, {} factors, {:?})",
        args.out.display(),
        bytes.len() as f64 / 1e6,
        shipped.catalogue.len(),
        shipped.model.factors(),
        args.storage
    )?;
    Ok(())
}

/// The median of a list (the lower middle for an even count), `None` when empty.
fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    values.get((values.len() - 1) / 2).copied()
}
