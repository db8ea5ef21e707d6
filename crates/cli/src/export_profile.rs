//! `vitrine export profile`: the shopper model that places one shopper in the app, fitted on
//! Online Retail as `vitrine profile` and `vitrine forecast` fit theirs, with its model card.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, FixedOffset};
use clap::Args;
use serde::Serialize;
use vitrine_core::events::{Event, EventKind};
use vitrine_core::{FittedShopperModel, ShopperModel, ShopperModelConfig, ShopperPlacement};

use crate::profile::SegmentArgs;
use crate::retail::load;

/// Arguments of `vitrine export profile`.
#[derive(Debug, Args)]
pub(crate) struct ExportProfileArgs {
    #[command(flatten)]
    segmenting: SegmentArgs,

    /// Training shoppers kept as map points to draw.
    #[arg(long, default_value_t = 1_500)]
    map_points: usize,

    /// Directory that receives `profile.safetensors` and the model card `README.md`.
    #[arg(long, default_value = "models/profile")]
    out: PathBuf,

    /// Also write a few shoppers' events and where the batch pipeline placed them as JSON to
    /// this file, for the tests (`tests/fixtures/profile/make_reference.sh`).
    #[arg(long)]
    fixture: Option<PathBuf>,
}

/// Where the batch pipeline put one training shopper.
#[derive(Debug, Serialize)]
struct Batch {
    segment: usize,
    x: f64,
    y: f64,
    features: Vec<f64>,
}

/// One shopper of the fixture: their events, the batch result and the shipped placement.
#[derive(Debug, Serialize)]
struct FixtureShopper {
    id: String,
    events: Vec<serde_json::Value>,
    batch: Batch,
    placement: ShopperPlacement,
}

#[derive(Debug, Serialize)]
struct Fixture {
    /// The checksum of the model file the placements come from.
    model_checksum: String,
    /// The time the shoppers are placed at: the model's reference time.
    now: String,
    shoppers: Vec<FixtureShopper>,
}

/// Fits, checks and writes the model file and its card.
pub(crate) fn run(args: &ExportProfileArgs, out: &mut impl Write) -> Result<()> {
    let retail = load(&args.segmenting.retail)?;
    writeln!(out, "{}", retail.summary())?;
    let last = retail
        .events
        .iter()
        .map(|e| e.timestamp)
        .max()
        .context("the data holds no events")?;
    // As `vitrine profile`: the day after the last event, so every shopper's recency is > 0.
    let reference = last + Duration::days(1);
    let config = ShopperModelConfig {
        segments: args.segmenting.segments,
        categories: args.segmenting.categories,
        seed: args.segmenting.seed,
        time_zone: args.segmenting.timezone.clone(),
        map_points: args.map_points,
        ..ShopperModelConfig::default()
    };
    let fitted = ShopperModel::fit(&retail.events, reference, &config)?;
    let model = &fitted.model;

    let mut extra = BTreeMap::new();
    extra.insert("model_version".to_owned(), "1".to_owned());
    extra.insert("settings".to_owned(), serde_json::to_string(&config)?);
    extra.insert(
        "data".to_owned(),
        format!(
            "UCI Online Retail (CC0), orders of {} customers before {}",
            model.shoppers(),
            reference.to_rfc3339()
        ),
    );
    let bytes = model.to_bytes(extra)?;
    let shipped = ShopperModel::from_bytes(&bytes)?;
    let by_user = events_by_user(&retail.events);
    let mismatches = check_placements(&shipped, &fitted, &by_user, reference)?;
    if mismatches > 0 {
        bail!(
            "{mismatches} training shoppers are placed elsewhere than the batch pipeline put \
             them; the model file does not reproduce its fit"
        );
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let path = args.out.join("profile.safetensors");
    std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    let card = args.out.join("README.md");
    std::fs::write(
        &card,
        model_card(&fitted, &config, retail.categorised, bytes.len()),
    )
    .with_context(|| format!("cannot write {}", card.display()))?;

    let ratio = model.explained_variance_ratio();
    writeln!(
        out,
        "{} shoppers, {} features, reference time {reference}",
        model.shoppers(),
        model.feature_names().len()
    )?;
    writeln!(
        out,
        "map: the two axes explain {:.1}% and {:.1}% of the variance",
        100.0 * ratio.first().copied().unwrap_or(0.0),
        100.0 * ratio.get(1).copied().unwrap_or(0.0)
    )?;
    for (i, segment) in model.segments().iter().enumerate() {
        writeln!(out, "segment {}: {}", i + 1, segment.summary)?;
    }
    let m = model.bgnbd();
    writeln!(
        out,
        "forecast: BG/NBD r {:.4}, alpha {:.3} days, a {:.4}, b {:.4}; mean order {:.2} {}",
        m.r,
        m.alpha,
        m.a,
        m.b,
        model.prior().mean_spend,
        model.currency()
    )?;
    writeln!(
        out,
        "every training shopper placed from the file lands on the batch segment and map point"
    )?;
    writeln!(
        out,
        "wrote {} ({:.1} kB) and {}",
        path.display(),
        bytes.len() as f64 / 1e3,
        card.display()
    )?;

    if let Some(path) = &args.fixture {
        let checksum = shipped
            .metadata()
            .get("checksum")
            .cloned()
            .context("the model file has no checksum")?;
        let fixture = fixture(&shipped, &fitted, &by_user, reference, checksum)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut text = serde_json::to_string_pretty(&fixture)?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(
            out,
            "wrote {} shoppers to {}",
            fixture.shoppers.len(),
            path.display()
        )?;
    }
    Ok(())
}

/// The purchases and refunds of each signed-in shopper, in the data's order.
fn events_by_user(events: &[Event]) -> BTreeMap<&str, Vec<Event>> {
    let mut by_user: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
    for event in events {
        if let (Some(user), EventKind::Purchase(_) | EventKind::Refund(_)) =
            (event.user_id.as_deref(), &event.kind)
        {
            by_user.entry(user).or_default().push(event.clone());
        }
    }
    by_user
}

/// How many training shoppers `model` places on another segment, or farther than 1e-9 from
/// the map point, than the batch pipeline did.
fn check_placements(
    model: &ShopperModel,
    fitted: &FittedShopperModel,
    by_user: &BTreeMap<&str, Vec<Event>>,
    now: DateTime<FixedOffset>,
) -> Result<usize> {
    let mut mismatches = 0;
    for (r, user) in fitted.users.iter().enumerate() {
        let events = by_user.get(user.as_str()).map_or(&[][..], Vec::as_slice);
        let placed = model.place(events, |_| None, now)?;
        if !same_place(&placed, fitted, r) {
            mismatches += 1;
        }
    }
    Ok(mismatches)
}

fn same_place(placed: &ShopperPlacement, fitted: &FittedShopperModel, r: usize) -> bool {
    let row = fitted.map.row(r);
    match (&placed.segment, &placed.map, row) {
        (Some(segment), Some(map), [x, y]) => {
            Some(&segment.id) == fitted.labels.get(r)
                && (map.x - x).abs() <= 1e-9
                && (map.y - y).abs() <= 1e-9
        }
        _ => false,
    }
}

/// For each segment, the first shopper by id with two to six orders and at most 25 item
/// lines in all: small enough to commit, varied enough to cover every segment.
fn fixture(
    model: &ShopperModel,
    fitted: &FittedShopperModel,
    by_user: &BTreeMap<&str, Vec<Event>>,
    now: DateTime<FixedOffset>,
    model_checksum: String,
) -> Result<Fixture> {
    let mut shoppers = Vec::new();
    for segment in 0..model.segments().len() {
        let pick = fitted.users.iter().enumerate().find(|(r, user)| {
            let events = by_user.get(user.as_str()).map_or(&[][..], Vec::as_slice);
            let orders = events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::Purchase(_)))
                .count();
            let lines: usize = events.iter().map(|e| e.kind.items().len()).sum();
            fitted.labels.get(*r) == Some(&segment) && (2..=6).contains(&orders) && lines <= 25
        });
        let Some((r, user)) = pick else {
            continue;
        };
        let events = by_user.get(user.as_str()).map_or(&[][..], Vec::as_slice);
        let row = fitted.map.row(r);
        shoppers.push(FixtureShopper {
            id: user.clone(),
            events: events.iter().map(Event::to_json_value).collect(),
            batch: Batch {
                segment,
                x: row.first().copied().unwrap_or(0.0),
                y: row.get(1).copied().unwrap_or(0.0),
                features: fitted.features.row(r).to_vec(),
            },
            placement: model.place(events, |_| None, now)?,
        });
    }
    Ok(Fixture {
        model_checksum,
        now: now.to_rfc3339(),
        shoppers,
    })
}

/// The model card: data, licences, contents, segments, map, forecast and limits.
fn model_card(
    fitted: &FittedShopperModel,
    config: &ShopperModelConfig,
    categorised: (usize, usize),
    size: usize,
) -> String {
    let model = &fitted.model;
    let ratio = model.explained_variance_ratio();
    let pct = |i: usize| 100.0 * ratio.get(i).copied().unwrap_or(0.0);
    let (m, p) = (model.bgnbd(), model.prior());
    let currency = model.currency();
    let zone = model.time_zone();
    let categories: Vec<String> = model
        .categories()
        .iter()
        .map(|c| format!("`{c}`"))
        .collect();
    let k = model.segments().len();

    let mut card = String::from("# Shopper profile\n\n");
    card += &paragraph(&format!(
        "What the app shows a shopper about themselves: their segment among {k} segments of \
         shoppers, their point on a map of shoppers, and a forecast of their next {} days, all \
         computed on their own device from their own events. It is fitted on UCI Online \
         Retail's customers and holds no customer id.",
        model.horizon_days()
    ));
    card += "| file | what |\n| --- | --- |\n";
    card += "| `profile.safetensors` | the profile and forecast models, in the checked \
             model-file format |\n\n";

    card += "## Contents\n\n";
    card += &bullet(&format!(
        "The {} feature columns: days since the last order; orders, spend and basket size \
         (each as `ln(1+x)`); variety (the share of order lines that are a new product); the \
         refund share; the shares of morning, afternoon, evening and weekend orders, read in \
         {zone}; and the share of units in each of the {} most bought categories ({}) and in \
         the rest. The category list is fixed at export, so one shopper's row has the columns \
         of the rows the model was fitted on.",
        model.feature_names().len(),
        categories.len(),
        categories.join(", ")
    ));
    card += &bullet(
        "The standardiser's means and deviations, the map's two principal components and the \
         segments' centroids, in float64, so that a placement read from the file is exact.",
    );
    card += &bullet(&format!(
        "{} training shoppers as map points (float32, with their segments): an evenly spaced \
         sample of the {} to draw the crowd with.",
        thousands(model.map_points().len()),
        thousands(model.shoppers())
    ));
    card += &bullet(&format!(
        "The BG/NBD parameters and the spend prior of the forecast, the currency ({currency}), \
         the reference time ({}) and a SHA-256 checksum over all of it, which the loader \
         verifies.",
        model.reference_time().to_rfc3339()
    ));
    card += &format!("\n{:.1} kB in all.\n\n", size as f64 / 1e3);

    card += "## Fitting\n\n```sh\ncargo run -p vitrine-cli --release -- export profile\n```\n\n";
    card += &paragraph(&format!(
        "The pipeline of `vitrine profile` and `vitrine forecast`, on the orders and refunds \
         of the {} customers with an order before the reference time (the day after the last \
         event), after the cleaning of `vitrine_core::events`. Categories are the product \
         types the shipped tagger reads in the lower-cased product names ({} of {} names get \
         one). The features are standardised to z-scores; the map is their first two \
         principal components; the segments come from k-means (k-means++, 10 starts, seed {}) \
         on the standardised features. The export places every training shopper again from \
         the written file and checks that each lands on the segment and map point the batch \
         pipeline gave them.",
        thousands(model.shoppers()),
        thousands(categorised.1),
        thousands(categorised.0),
        config.seed
    ));

    card +=
        "## Segments\n\n| segment | shoppers | most distinctive features |\n| --- | --- | --- |\n";
    for (i, segment) in model.segments().iter().enumerate() {
        let words = segment
            .summary
            .split_once(": ")
            .map_or(segment.summary.as_str(), |(_, w)| w);
        card += &format!(
            "| {} | {} | {words} |\n",
            i + 1,
            thousands(segment.shoppers)
        );
    }
    card += "\n";
    card += &paragraph(&format!(
        "A segment is named by the features of its centroid that lie at least 0.5 standard \
         deviations from the mean, the largest three (\"very\" from 1.5). k-means inertia \
         {:.1}.",
        fitted.inertia
    ));

    card += "## Map\n\n";
    card += &paragraph(&format!(
        "The two axes explain {:.1}% and {:.1}% of the variance of the standardised features \
         ({:.1}% together): the map shows the broad shape of the crowd, and shoppers close on \
         it can still differ in what the other axes hold.",
        pct(0),
        pct(1),
        pct(0) + pct(1)
    ));

    card += "## Forecast\n\n";
    card += &paragraph(&format!(
        "BG/NBD (Fader, Hardie and Lee 2005), fitted by maximum likelihood on every \
         customer's orders: r {:.4}, α {:.3} days, a {:.4}, b {:.4}. A shopper's expected \
         orders in the next {} days are the model's conditional expectation given their \
         repeat orders and the days from their first order to their last and to now; the \
         probability that they still buy is BG/NBD's probability of being alive. Expected \
         spend is expected orders times their mean order value shrunk toward the \
         population's ({:.2} {currency}) by {} orders, as in `vitrine forecast`, whose scores \
         on held-out weeks are in the top-level README. A visitor with no order gets no \
         profile and the population's average: {:.4} orders a day ({:.2} in {} days) at \
         {:.2} {currency} an order.",
        m.r,
        m.alpha,
        m.a,
        m.b,
        model.horizon_days(),
        p.mean_spend,
        p.prior_purchases,
        p.rate_per_day,
        p.rate_per_day * model.horizon_days(),
        model.horizon_days(),
        p.mean_spend,
    ));

    card += "## Licences\n\n";
    card += &bullet(
        "Online Retail: Daqing Chen, UCI Machine Learning Repository, CC0 (see \
         `data/online-retail/README.md`).",
    );
    card += &bullet(
        "The categories come from the shipped tagger (`models/tagger/`): all-MiniLM-L6-v2 \
         (Apache-2.0) fine-tuned on QueryNER (CC BY 4.0).",
    );

    card += "\n## Known limits\n\n";
    card += &bullet(
        "Online Retail is a UK gift wholesaler's customers in 2010 and 2011, mostly \
         businesses buying in bulk: a shop's own shoppers can sit far from every centroid, and \
         their segment is still the nearest one.",
    );
    card += &bullet(&format!(
        "Spend is in {currency}; placing a shopper whose purchases are in another currency is \
         refused."
    ));
    card += &bullet(
        "Products outside the categories above count as other products, and so does a \
         product in whose name the tagger finds no product type.",
    );
    card += &bullet(&format!(
        "Hours and weekdays are read in {zone}; a shopper in another time zone looks like an \
         early or late one."
    ));
    card += &bullet(
        "BG/NBD assumes that a shopper buys at a steady rate until they stop for good; \
         seasonal buying (Christmas stock, in this data) is outside the model.",
    );
    card
}

/// A count with a comma between thousands, as the other model cards write them.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Width of the model card's lines.
const CARD_WIDTH: usize = 100;

/// Words filled into lines of at most [`CARD_WIDTH`] characters, the first starting with
/// `first` and the rest with `rest`.
fn fill(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > CARD_WIDTH {
            out += line.trim_end();
            out.push('\n');
            line = rest.to_owned();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line += word;
        empty = false;
    }
    out += line.trim_end();
    out.push('\n');
    out
}

/// A paragraph and the blank line after it.
fn paragraph(text: &str) -> String {
    fill(text, "", "") + "\n"
}

/// A list item.
fn bullet(text: &str) -> String {
    fill(text, "- ", "  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_commas_between_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4_334), "4,334");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn card_text_is_filled_to_the_width_with_a_hanging_indent() {
        // "- " and 19 words of 4 letters with their spaces make 96 characters; a 20th would
        // make 101.
        let words = "word ".repeat(50);
        let item = bullet(&words);
        let lines: Vec<&str> = item.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].len(), 96);
        assert!(lines[0].starts_with("- word"));
        assert!(lines[1].starts_with("  word"));
        assert!(
            lines
                .iter()
                .all(|l| l.len() <= CARD_WIDTH && !l.ends_with(' '))
        );
        assert_eq!(item.split_whitespace().filter(|w| *w == "word").count(), 50);
        assert_eq!(paragraph("one two"), "one two\n\n");
    }
}
