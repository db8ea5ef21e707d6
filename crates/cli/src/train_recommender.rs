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
use vitrine_core::recommend::{CatalogueItem, Interactions, ItemTag, Segments, ShippedRecommender};

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

    /// Segments of the training shoppers kept for "popular in your segment".
    #[arg(long, default_value_t = 5)]
    segments: usize,

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

    if args.segments == 0 {
        anyhow::bail!("--segments must be at least 1");
    }
    let mut shipped = ShippedRecommender::new(&model, catalogue, "GBP")?;
    let segments = Segments::fit(&model, args.segments, 42)?;
    let sizes: Vec<String> = segments
        .popular
        .iter()
        .filter_map(|p| p.first())
        .filter_map(|&(i, n)| {
            let item = shipped.catalogue.get(i as usize)?;
            Some(format!("{} ({n} buyers)", item.title))
        })
        .collect();
    writeln!(
        out,
        "{} segments of shoppers; the most bought in each: {}",
        segments.len(),
        sizes.join("; ")
    )?;
    shipped.segments = Some(segments);
    let check = placement_check(&shipped);
    writeln!(
        out,
        "cold start: placed by their tags alone, items have a mean cosine of {:.3} with their \
         trained vectors ({:.3} for the catalogue's mean vector); {} of {} share a tag with \
         another item",
        check.by_tags, check.by_mean, check.placed, check.items
    )?;
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

/// How well tags alone place known items ([`ShippedRecommender::place`]).
#[derive(Debug)]
struct PlacementCheck {
    items: usize,
    /// Items that share a tag with another.
    placed: usize,
    /// Mean cosine of the tag placement with the trained vector, over placed items.
    by_tags: f64,
    /// Mean cosine of the catalogue's mean vector with the trained vector, same items.
    by_mean: f64,
}

/// Places every item by its tags as if it were new (leaving itself out) and compares with
/// its trained vector.
fn placement_check(shipped: &ShippedRecommender) -> PlacementCheck {
    let model = &shipped.model;
    let d = model.factors();
    let factors = model.item_factors();
    let n = shipped.catalogue.len();
    let mut mean = vec![0.0f32; d];
    for row in factors.chunks_exact(d) {
        for (m, x) in mean.iter_mut().zip(row) {
            *m += x / n as f32;
        }
    }
    let (mut placed, mut by_tags, mut by_mean) = (0, 0.0, 0.0);
    for (i, item) in shipped.catalogue.iter().enumerate() {
        let placement = shipped.place(&item.tags, Some(i));
        if placement.neighbours.is_empty() {
            continue;
        }
        let trained = factors.get(i * d..(i + 1) * d).unwrap_or(&[]);
        placed += 1;
        by_tags += cosine(&placement.vector, trained);
        by_mean += cosine(&mean, trained);
    }
    let share = |total: f64| {
        if placed > 0 {
            total / placed as f64
        } else {
            0.0
        }
    };
    PlacementCheck {
        items: n,
        placed,
        by_tags: share(by_tags),
        by_mean: share(by_mean),
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot = |x: &[f32], y: &[f32]| -> f64 {
        x.iter()
            .zip(y)
            .map(|(p, q)| f64::from(*p) * f64::from(*q))
            .sum()
    };
    let norm = (dot(a, a) * dot(b, b)).sqrt();
    if norm > 0.0 { dot(a, b) / norm } else { 0.0 }
}

/// The median of a list (the lower middle for an even count), `None` when empty.
fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    values.get((values.len() - 1) / 2).copied()
}
