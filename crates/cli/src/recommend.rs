//! `vitrine recommend`: one Online Retail shopper's recommendations, each with its reason, and a
//! diversity control: by item-kNN over every purchase for a customer (`--user`), or by the
//! shipped recommender folded in from a list of products (`--history`), as the app does.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use vitrine_core::events::EventKind;
use vitrine_core::recommend::rerank::{mmr, unit_scale};
use vitrine_core::recommend::{
    CANDIDATES_PER_SLOT, Interactions, ItemKnn, ItemKnnConfig, Reason, Recommendations,
    Recommender, ShippedRecommender,
};

use crate::retail::{RetailArgs, load};

/// Arguments of `vitrine recommend`.
#[derive(Debug, Args)]
pub(crate) struct RecommendArgs {
    /// The shopper, as their Online Retail customer id (e.g. 17850); an unknown one gets the
    /// popular products, flagged as not personalised.
    #[arg(long, required_unless_present = "history", conflicts_with = "history")]
    user: Option<String>,

    /// Product ids a shopper had, comma-separated (e.g. 85123A,71053): folded into the
    /// shipped recommender (`--model`) instead of item-kNN over a customer.
    #[arg(long, value_delimiter = ',')]
    history: Vec<String>,

    /// The recommender model file used with `--history`.
    #[arg(long, default_value = "models/recommender/recommender.safetensors")]
    model: PathBuf,

    /// Also write the list as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,

    /// How many products to show.
    #[arg(long, default_value_t = 10)]
    k: usize,

    /// Diversity, from 0 (the model's order) to 1 (as unlike each other as possible): the
    /// weight of maximal marginal relevance re-ranking.
    #[arg(long, default_value_t = 0.0)]
    diversity: f64,

    #[command(flatten)]
    retail: RetailArgs,
}

/// Prints the shopper's list, from item-kNN or the shipped model.
pub(crate) fn run(args: &RecommendArgs, out: &mut impl Write) -> Result<()> {
    if !(0.0..=1.0).contains(&args.diversity) {
        bail!("--diversity {} must lie between 0 and 1", args.diversity);
    }
    match &args.user {
        Some(user) => for_customer(args, user, out),
        None => for_history(args, out),
    }
}

/// Folds the history into the shipped model and prints its list.
fn for_history(args: &RecommendArgs, out: &mut impl Write) -> Result<()> {
    let bytes = std::fs::read(&args.model).with_context(|| {
        format!(
            "cannot read {}; run `vitrine train recommender` or pass --model",
            args.model.display()
        )
    })?;
    let shipped = ShippedRecommender::from_bytes(&bytes)
        .with_context(|| format!("cannot load {}", args.model.display()))?;
    let list = shipped.suggest(&args.history, args.k, args.diversity)?;
    if !list.unknown.is_empty() {
        writeln!(
            out,
            "not in the catalogue, left out: {}",
            list.unknown.join(", ")
        )?;
    }
    writeln!(
        out,
        "{} products in the history; {}",
        list.history.len() - list.unknown.len(),
        if list.personalised {
            "personalised by the shipped recommender (fold-in)"
        } else {
            "not personalised (no known product): popular products"
        }
    )?;
    table(
        out,
        list.items.iter().map(|s| {
            (
                s.item.as_str(),
                s.title.as_str(),
                s.score,
                s.explanation.clone(),
            )
        }),
    )?;
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&list)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// MMR over the candidates with their scores scaled to [0, 1]: the indices shown, in order.
fn diversify(
    candidates: &Recommendations,
    args: &RecommendArgs,
    similarity: impl Fn(&str, &str) -> f64,
) -> Result<Vec<usize>> {
    let scores: Vec<f64> = candidates.items.iter().map(|r| r.score).collect();
    Ok(mmr(
        &unit_scale(&scores),
        args.k,
        1.0 - args.diversity,
        |a, b| match (candidates.items.get(a), candidates.items.get(b)) {
            (Some(a), Some(b)) => similarity(&a.item, &b.item),
            _ => 0.0,
        },
    )?)
}

/// Fits item-kNN on every purchase and prints the customer's list.
fn for_customer(args: &RecommendArgs, user: &str, out: &mut impl Write) -> Result<()> {
    let retail = load(&RetailArgs {
        no_categories: true,
        ..args.retail.clone()
    })?;
    let mut names = BTreeMap::new();
    let mut data = Interactions::new();
    for event in &retail.events {
        let (Some(user), EventKind::Purchase(order)) = (&event.user_id, &event.kind) else {
            continue;
        };
        for item in &order.items {
            if let Some(name) = &item.item_name {
                names.insert(item.item_id.clone(), name.clone());
            }
            data.record(user, &item.item_id, 1.0, event.timestamp.timestamp())?;
        }
    }
    let model = ItemKnn::fit(&data, ItemKnnConfig::default())?;
    let candidates = model.recommend(user, args.k.saturating_mul(CANDIDATES_PER_SLOT), true)?;
    let picks = diversify(&candidates, args, |a, b| model.similarity(a, b))?;

    let bought = data
        .user_index(user)
        .map_or(0, |u| data.items_of(u).count());
    writeln!(
        out,
        "shopper {user}: {bought} products bought; {}",
        if candidates.personalised() {
            "personalised by item-kNN"
        } else {
            "not personalised (no history): popular products"
        }
    )?;
    let rows = picks
        .iter()
        .filter_map(|&i| candidates.items.get(i))
        .map(|r| {
            let name = names.get(&r.item).map_or("", String::as_str);
            let why = match &r.reason {
                Reason::BoughtTogetherWith { item, .. } => match names.get(item) {
                    Some(other) => format!("{} ({other})", r.explanation()),
                    None => r.explanation(),
                },
                _ => r.explanation(),
            };
            (r.item.as_str(), name, r.score, why)
        });
    table(out, rows)?;
    Ok(())
}

/// Prints ranked rows of (item, name, score, why) under one header.
fn table<'a>(
    out: &mut impl Write,
    rows: impl Iterator<Item = (&'a str, &'a str, f64, String)>,
) -> Result<()> {
    writeln!(
        out,
        "{:<4} {:<8} {:<36} {:>7}  why",
        "#", "item", "name", "score"
    )?;
    for (rank, (item, name, score, why)) in rows.enumerate() {
        writeln!(
            out,
            "{:<4} {:<8} {:<36} {:>7.3}  {why}",
            rank + 1,
            item,
            name.chars().take(36).collect::<String>(),
            score
        )?;
    }
    Ok(())
}
