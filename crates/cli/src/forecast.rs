//! `vitrine forecast`: weekly demand per category and each shopper's next purchases and spend,
//! scored against a held-out end of Online Retail and drawn against what happened.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, FixedOffset};
use clap::Args;
use serde::Serialize;
use vitrine_core::events::{Event, EventKind, OTHER_CATEGORY};
use vitrine_core::forecast::{
    HoldoutReport, PopulationPrior, UserHistory, Window, evaluate_holdout, expect_user, fit_trend,
    mae,
};

use crate::plot::{Series, forecast_chart};
use crate::retail::{RetailArgs, load};

/// Arguments of `vitrine forecast`.
#[derive(Debug, Args)]
pub(crate) struct ForecastArgs {
    #[command(flatten)]
    retail: RetailArgs,

    /// Weeks at the end of the data held out to score the forecasts.
    #[arg(long, default_value_t = 8)]
    holdout_weeks: usize,

    /// Categories forecast one by one, the most bought first.
    #[arg(long, default_value_t = 5)]
    categories: usize,

    /// Where the chart of weekly orders, forecast against actual, is drawn.
    #[arg(long, default_value = "target/forecast/weekly.png")]
    plot: PathBuf,

    /// Also write every series' scores as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One weekly series and both models' scores on its held-out weeks.
#[derive(Debug, Serialize)]
struct SeriesScore {
    name: String,
    actual: Vec<f64>,
    holdout: HoldoutReport,
}

/// Per-shopper forecasts of the held-out weeks, scored.
#[derive(Debug, Serialize)]
struct ShopperScore {
    shoppers: usize,
    /// MAE of the number of orders: the trend line per shopper, and the shrunk rate.
    orders_mae_trend: f64,
    orders_mae_rate: f64,
    /// MAE of spend in major units.
    spend_mae_trend: f64,
    spend_mae_rate: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    weeks: usize,
    holdout_weeks: usize,
    series: Vec<SeriesScore>,
    shoppers: ShopperScore,
}

/// Forecasts, scores and draws.
pub(crate) fn run(args: &ForecastArgs, out: &mut impl Write) -> Result<()> {
    let retail = load(&args.retail)?;
    let orders: Vec<&Event> = retail
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Purchase(_)))
        .collect();
    let first = orders
        .iter()
        .map(|e| e.timestamp)
        .min()
        .context("the data holds no purchases")?;
    let last = orders.iter().map(|e| e.timestamp).max().unwrap_or(first);
    // Whole weeks only: a last, partial week would look like a collapse in demand.
    let weeks = ((last - first).num_days() / 7) as usize;
    if weeks < args.holdout_weeks + 3 {
        bail!(
            "the data spans {weeks} whole weeks, too few for a holdout of {}",
            args.holdout_weeks
        );
    }
    let week_of = |t: DateTime<FixedOffset>| ((t - first).num_days() / 7) as usize;

    let mut total = vec![0.0; weeks];
    let mut by_category: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for event in &orders {
        let week = week_of(event.timestamp);
        if week >= weeks {
            continue;
        }
        total[week] += 1.0;
        for item in event.kind.items() {
            let category = item.item_category.as_deref().unwrap_or(OTHER_CATEGORY);
            by_category
                .entry(category.to_owned())
                .or_insert_with(|| vec![0.0; weeks])[week] += f64::from(item.quantity);
        }
    }
    let mut top: Vec<(String, Vec<f64>)> = by_category
        .into_iter()
        .filter(|(name, _)| name != OTHER_CATEGORY)
        .collect();
    top.sort_by(|a, b| {
        let sum = |v: &[f64]| v.iter().sum::<f64>();
        sum(&b.1).total_cmp(&sum(&a.1)).then_with(|| a.0.cmp(&b.0))
    });
    top.truncate(args.categories);

    let mut series = vec![score("orders, all products", total, args.holdout_weeks)?];
    for (name, counts) in top {
        series.push(score(
            &format!("units of {name}"),
            counts,
            args.holdout_weeks,
        )?);
    }
    let cutoff = first + Duration::weeks((weeks - args.holdout_weeks) as i64);
    let end = first + Duration::weeks(weeks as i64);
    let shoppers = shopper_scores(&orders, first, cutoff, end)?;

    writeln!(out, "{}", retail.summary())?;
    writeln!(
        out,
        "{weeks} whole weeks from {first}; the last {} are held out\n",
        args.holdout_weeks
    )?;
    writeln!(
        out,
        "{:<34} {:>12} {:>14} {:>8}",
        "weekly series", "trend MAE", "smoothing MAE", "better"
    )?;
    for s in &series {
        writeln!(
            out,
            "{:<34} {:>12.1} {:>14.1} {:>8}",
            s.name,
            s.holdout.trend_mae,
            s.holdout.smoothing_mae,
            format!("{:?}", s.holdout.better).to_lowercase()
        )?;
    }
    writeln!(
        out,
        "\n{} shoppers' orders and spend in the held-out {} weeks:",
        shoppers.shoppers, args.holdout_weeks
    )?;
    writeln!(out, "{:<34} {:>12} {:>14}", "", "trend MAE", "rate MAE")?;
    writeln!(
        out,
        "{:<34} {:>12.3} {:>14.3}",
        "orders per shopper", shoppers.orders_mae_trend, shoppers.orders_mae_rate
    )?;
    writeln!(
        out,
        "{:<34} {:>12.2} {:>14.2}",
        "spend per shopper", shoppers.spend_mae_trend, shoppers.spend_mae_rate
    )?;

    if let Some(overall) = series.first() {
        draw(&args.plot, overall, args.holdout_weeks)?;
        writeln!(out, "\nchart drawn to {}", args.plot.display())?;
    }
    if let Some(path) = &args.json {
        let report = Report {
            weeks,
            holdout_weeks: args.holdout_weeks,
            series,
            shoppers,
        };
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn score(name: &str, actual: Vec<f64>, holdout: usize) -> Result<SeriesScore> {
    let holdout = evaluate_holdout(&actual, holdout).with_context(|| format!("series {name}"))?;
    Ok(SeriesScore {
        name: name.to_owned(),
        actual,
        holdout,
    })
}

/// Scores two forecasts of each shopper's orders and spend over `cutoff..end`: a least-squares
/// line through the shopper's weekly orders (the baseline) and the order rate shrunk toward
/// the population's.
fn shopper_scores(
    orders: &[&Event],
    first: DateTime<FixedOffset>,
    cutoff: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
) -> Result<ShopperScore> {
    let day = |t: DateTime<FixedOffset>| (t - first).num_seconds() as f64 / 86_400.0;
    let window = Window {
        start: 0.0,
        end: day(cutoff),
    };
    let horizon = day(end) - day(cutoff);
    let train_weeks = (window.end / 7.0).floor() as usize;

    #[derive(Default)]
    struct Shopper {
        history: UserHistory,
        test_orders: f64,
        test_spend: f64,
    }
    let mut shoppers: BTreeMap<&str, Shopper> = BTreeMap::new();
    for event in orders {
        let (Some(user), EventKind::Purchase(order)) = (event.user_id.as_deref(), &event.kind)
        else {
            continue;
        };
        let spend: f64 = order
            .items
            .iter()
            .map(|i| i.price.unwrap_or(0) as f64 * f64::from(i.quantity) / 100.0)
            .sum();
        let shopper = shoppers.entry(user).or_default();
        if event.timestamp < cutoff {
            shopper.history.purchase_days.push(day(event.timestamp));
            shopper.history.amounts.push(spend);
        } else if event.timestamp < end {
            shopper.test_orders += 1.0;
            shopper.test_spend += spend;
        }
    }
    // Only shoppers known before the cutoff can be forecast.
    shoppers.retain(|_, s| !s.history.amounts.is_empty());
    let histories: Vec<UserHistory> = shoppers.values().map(|s| s.history.clone()).collect();
    let prior = PopulationPrior::from_users(&histories, window, 30.0, 2.0)?;

    let (mut actual_orders, mut actual_spend) = (Vec::new(), Vec::new());
    let (mut trend_orders, mut trend_spend) = (Vec::new(), Vec::new());
    let (mut rate_orders, mut rate_spend) = (Vec::new(), Vec::new());
    let holdout_weeks = (horizon / 7.0).round().max(1.0) as usize;
    for s in shoppers.values() {
        let mut weekly = vec![0.0; train_weeks.max(3)];
        for d in &s.history.purchase_days {
            let w = ((d / 7.0).floor() as usize).min(weekly.len() - 1);
            weekly[w] += 1.0;
        }
        let expected_orders: f64 = fit_trend(&weekly)?
            .forecast(holdout_weeks, 0.95)?
            .mean
            .iter()
            .sum();
        let mean_spend = s.history.amounts.iter().sum::<f64>() / s.history.amounts.len() as f64;
        trend_orders.push(expected_orders);
        trend_spend.push(expected_orders * mean_spend);

        let expectation = expect_user(&s.history, window, horizon, &prior)?;
        rate_orders.push(expectation.purchases);
        rate_spend.push(expectation.spend);
        actual_orders.push(s.test_orders);
        actual_spend.push(s.test_spend);
    }
    Ok(ShopperScore {
        shoppers: shoppers.len(),
        orders_mae_trend: mae(&trend_orders, &actual_orders)?,
        orders_mae_rate: mae(&rate_orders, &actual_orders)?,
        spend_mae_trend: mae(&trend_spend, &actual_spend)?,
        spend_mae_rate: mae(&rate_spend, &actual_spend)?,
    })
}

fn draw(path: &std::path::Path, series: &SeriesScore, holdout: usize) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let start = series.actual.len() - holdout;
    let forecast = |name: &str, values: &[f64]| Series {
        name: name.to_owned(),
        // The forecast starts from the last trained week, so the lines join.
        points: std::iter::once((start as f64 - 1.0, series.actual[start - 1]))
            .chain(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ((start + i) as f64, *v)),
            )
            .collect(),
        forecast: true,
    };
    let lines = [
        Series {
            name: "actual".to_owned(),
            points: series
                .actual
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64, *v))
                .collect(),
            forecast: false,
        },
        forecast(
            &format!("trend line (MAE {:.1})", series.holdout.trend_mae),
            &series.holdout.trend_forecast,
        ),
        forecast(
            &format!(
                "exponential smoothing (MAE {:.1})",
                series.holdout.smoothing_mae
            ),
            &series.holdout.smoothing_forecast,
        ),
    ];
    forecast_chart(
        path,
        "Weekly orders on Online Retail: forecast against actual",
        "week",
        "orders",
        &lines,
        start as f64 - 0.5,
    )
}
