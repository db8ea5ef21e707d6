//! `vitrine recommend`: one Online Retail shopper's recommendations, each with its reason, and a
//! diversity control.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Result, bail};
use clap::Args;
use vitrine_core::events::EventKind;
use vitrine_core::recommend::rerank::mmr;
use vitrine_core::recommend::{Interactions, ItemKnn, ItemKnnConfig, Reason, Recommender};

use crate::retail::{RetailArgs, load};

/// Arguments of `vitrine recommend`.
#[derive(Debug, Args)]
pub(crate) struct RecommendArgs {
    /// The shopper, as their Online Retail customer id (e.g. 17850); an unknown one gets the
    /// popular products, flagged as not personalised.
    #[arg(long)]
    user: String,

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

/// Candidates drawn from the model for each product shown, before re-ranking.
const CANDIDATES_PER_SLOT: usize = 5;

/// Fits item-kNN on every purchase and prints the shopper's list.
pub(crate) fn run(args: &RecommendArgs, out: &mut impl Write) -> Result<()> {
    if !(0.0..=1.0).contains(&args.diversity) {
        bail!("--diversity {} must lie between 0 and 1", args.diversity);
    }
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
    let candidates = model.recommend(&args.user, args.k * CANDIDATES_PER_SLOT, true)?;
    let relevance: Vec<f64> = candidates.items.iter().map(|r| r.score).collect();
    let picks = mmr(&relevance, args.k, 1.0 - args.diversity, |a, b| {
        match (candidates.items.get(a), candidates.items.get(b)) {
            (Some(a), Some(b)) => model.similarity(&a.item, &b.item),
            _ => 0.0,
        }
    })?;

    let bought = data
        .user_index(&args.user)
        .map_or(0, |u| data.items_of(u).count());
    writeln!(
        out,
        "shopper {}: {bought} products bought; {}",
        args.user,
        if candidates.personalised() {
            "personalised by item-kNN"
        } else {
            "not personalised (no history): popular products"
        }
    )?;
    writeln!(
        out,
        "{:<4} {:<8} {:<36} {:>7}  why",
        "#", "item", "name", "score"
    )?;
    for (rank, &i) in picks.iter().enumerate() {
        let Some(r) = candidates.items.get(i) else {
            continue;
        };
        let name = names.get(&r.item).map_or("", String::as_str);
        let why = match &r.reason {
            Reason::BoughtTogetherWith { item, .. } => match names.get(item) {
                Some(other) => format!("{} ({other})", r.explanation()),
                None => r.explanation(),
            },
            _ => r.explanation(),
        };
        writeln!(
            out,
            "{:<4} {:<8} {:<36} {:>7.3}  {why}",
            rank + 1,
            r.item,
            name.chars().take(36).collect::<String>(),
            r.score
        )?;
    }
    Ok(())
}
