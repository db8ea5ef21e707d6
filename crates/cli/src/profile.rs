//! `vitrine profile`: shopper segments by k-means and a PCA map of shoppers, on Online Retail.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::Duration;
use clap::Args;
use serde::Serialize;
use vitrine_core::events::{feature_label, shopper_features, time_zone};
use vitrine_core::profile::{KMeans, KMeansConfig, Pca, Standardizer, describe_segments};

use crate::plot::{SegmentPoint, segment_map};
use crate::retail::{RetailArgs, load};

/// How shoppers are segmented: shared by `vitrine profile` and `vitrine export profile`, so the
/// shipped model is fitted as the printed segments are.
#[derive(Debug, Args)]
pub(crate) struct SegmentArgs {
    #[command(flatten)]
    pub(crate) retail: RetailArgs,

    /// Number of segments.
    #[arg(long, default_value_t = 5)]
    pub(crate) segments: usize,

    /// Most bought categories that get a feature each.
    #[arg(long, default_value_t = 8)]
    pub(crate) categories: usize,

    /// Seed of k-means.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,

    /// Time zone that hours and weekdays are read in.
    #[arg(long, default_value = "Europe/London")]
    pub(crate) timezone: String,
}

/// Arguments of `vitrine profile`.
#[derive(Debug, Args)]
pub(crate) struct ProfileArgs {
    #[command(flatten)]
    segmenting: SegmentArgs,

    /// Where the PCA map of shoppers, coloured by segment, is drawn.
    #[arg(long, default_value = "target/profile/segments.png")]
    plot: PathBuf,

    /// Also write the segments and explained variance as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// What `--json` writes.
#[derive(Debug, Serialize)]
struct Profile {
    shoppers: usize,
    features: Vec<String>,
    explained_variance_ratio: Vec<f64>,
    inertia: f64,
    segments: Vec<Segment>,
}

#[derive(Debug, Serialize)]
struct Segment {
    shoppers: usize,
    summary: String,
    /// The centroid in z-scores, one per feature.
    centroid: Vec<f64>,
}

/// Builds the profiles and prints the segments.
pub(crate) fn run(args: &ProfileArgs, out: &mut impl Write) -> Result<()> {
    let zone = time_zone(&args.segmenting.timezone)?;
    let retail = load(&args.segmenting.retail)?;
    let last = retail
        .events
        .iter()
        .map(|e| e.timestamp)
        .max()
        .context("the data holds no events")?;
    let reference = last + Duration::days(1);
    let features = shopper_features(&retail.events, reference, zone, args.segmenting.categories)?;

    let (_, z) = Standardizer::fit_transform(&features.values)?;
    let pca = Pca::fit(&z, 2)?;
    let map = pca.transform(&z)?;
    let config = KMeansConfig {
        seed: args.segmenting.seed,
        ..KMeansConfig::new(args.segmenting.segments)
    };
    let kmeans = KMeans::fit(&z, &config)?;
    let labels: Vec<String> = features.names.iter().map(|n| feature_label(n)).collect();
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let summaries = describe_segments(&label_refs, &kmeans.centroids, &kmeans.counts, 3)?;

    writeln!(out, "{}", retail.summary())?;
    writeln!(
        out,
        "{} shoppers, {} features, reference time {reference}",
        features.users.len(),
        features.names.len()
    )?;
    writeln!(
        out,
        "{} of {} product names have a product type",
        retail.categorised.1, retail.categorised.0
    )?;
    let ratio = &pca.explained_variance_ratio;
    writeln!(
        out,
        "PCA: the map's two axes explain {:.1}% and {:.1}% of the variance",
        100.0 * ratio.first().copied().unwrap_or(0.0),
        100.0 * ratio.get(1).copied().unwrap_or(0.0)
    )?;
    writeln!(
        out,
        "k-means: {} segments ({} non-empty), inertia {:.1}\n",
        args.segmenting.segments, kmeans.effective_k, kmeans.inertia
    )?;
    for (i, summary) in summaries.iter().enumerate() {
        writeln!(out, "segment {}: {summary}", i + 1)?;
    }

    let points: Vec<SegmentPoint> = (0..map.rows())
        .map(|r| SegmentPoint {
            x: map.row(r).first().copied().unwrap_or(0.0),
            y: map.row(r).get(1).copied().unwrap_or(0.0),
            segment: kmeans.labels.get(r).copied().unwrap_or(0),
        })
        .collect();
    if let Some(dir) = args.plot.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    segment_map(&args.plot, &points, args.segmenting.segments, ratio)?;
    writeln!(out, "\nmap drawn to {}", args.plot.display())?;

    if let Some(path) = &args.json {
        let profile = Profile {
            shoppers: features.users.len(),
            features: features.names.clone(),
            explained_variance_ratio: ratio.clone(),
            inertia: kmeans.inertia,
            segments: summaries
                .iter()
                .enumerate()
                .map(|(i, summary)| Segment {
                    shoppers: kmeans.counts.get(i).copied().unwrap_or(0),
                    summary: summary.clone(),
                    centroid: kmeans.centroids.row(i).to_vec(),
                })
                .collect(),
        };
        std::fs::write(path, serde_json::to_string_pretty(&profile)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
