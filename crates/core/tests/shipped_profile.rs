//! The shipped shopper model in `models/profile/`, against what the batch pipeline of
//! `vitrine export profile` computed for one Online Retail customer of each segment.
//!
//! `tests/fixtures/profile/make_reference.sh` wrote the fixture with the model file: each
//! customer's orders and refunds, with the categories the shipped tagger gave their products,
//! their segment, map point and raw features from the batch pipeline, and the placement the
//! written file gave them.

#![cfg(not(target_family = "wasm"))]

mod common;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use vitrine_core::events::{Event, EventKind};
use vitrine_core::forecast::RepeatSummary;
use vitrine_core::{ForecastBasis, ShopperModel, ShopperPlacement};

use common::{TestResult, repo_root};

#[derive(Debug, Deserialize)]
struct Fixture {
    model_checksum: String,
    now: String,
    shoppers: Vec<Shopper>,
}

#[derive(Debug, Deserialize)]
struct Shopper {
    id: String,
    events: Vec<serde_json::Value>,
    batch: Batch,
    placement: ShopperPlacement,
}

#[derive(Debug, Deserialize)]
struct Batch {
    segment: usize,
    x: f64,
    y: f64,
    features: Vec<f64>,
}

fn model_bytes() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let path = repo_root().join("models/profile/profile.safetensors");
    std::fs::read(&path).map_err(|e| {
        format!(
            "cannot read {} ({e}); run `vitrine export profile`",
            path.display()
        )
        .into()
    })
}

/// The shipped model and the fixture, checked to belong together.
fn shipped() -> Result<(ShopperModel, Fixture, DateTime<FixedOffset>), Box<dyn std::error::Error>> {
    let model = ShopperModel::from_bytes(&model_bytes()?)?;
    let path = repo_root().join("tests/fixtures/profile/shoppers.json");
    let fixture: Fixture = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let checksum = model.metadata().get("checksum").map(String::as_str);
    assert_eq!(
        checksum,
        Some(fixture.model_checksum.as_str()),
        "the fixture was made with another model file; run \
         tests/fixtures/profile/make_reference.sh"
    );
    let now = DateTime::parse_from_rfc3339(&fixture.now)?;
    Ok((model, fixture, now))
}

fn events(shopper: &Shopper) -> vitrine_core::Result<Vec<Event>> {
    shopper.events.iter().map(Event::from_json_value).collect()
}

#[test]
fn customers_land_where_the_batch_pipeline_put_them() -> TestResult {
    let (model, fixture, now) = shipped()?;
    assert_eq!(now, model.reference_time());
    // One customer of each segment.
    let mut segments: Vec<usize> = fixture.shoppers.iter().map(|s| s.batch.segment).collect();
    segments.dedup();
    assert_eq!(segments.len(), model.segments().len());
    for shopper in &fixture.shoppers {
        let placed = model.place(&events(shopper)?, |_| None, now)?;
        let id = &shopper.id;
        let segment = placed.segment.as_ref().ok_or("no segment")?;
        assert_eq!(segment.id, shopper.batch.segment, "customer {id}");
        let map = placed.map.ok_or("no map point")?;
        assert!(
            (map.x - shopper.batch.x).abs() < 1e-9,
            "customer {id}: x {}",
            map.x
        );
        assert!(
            (map.y - shopper.batch.y).abs() < 1e-9,
            "customer {id}: y {}",
            map.y
        );
        assert_eq!(placed.features.len(), shopper.batch.features.len());
        for (f, batch) in placed.features.iter().zip(&shopper.batch.features) {
            assert!((f.value - batch).abs() < 1e-9, "customer {id}: {}", f.name);
        }
        let (f, expected) = (&placed.forecast, &shopper.placement.forecast);
        assert_eq!(f.basis, ForecastBasis::History);
        assert!((f.orders - expected.orders).abs() < 1e-9, "customer {id}");
        assert!((f.spend - expected.spend).abs() < 1e-9, "customer {id}");
    }
    Ok(())
}

#[test]
fn forecasts_are_bgnbd_of_each_customers_repeat_orders() -> TestResult {
    let (model, fixture, now) = shipped()?;
    for shopper in &fixture.shoppers {
        let events = events(shopper)?;
        let mut orders: Vec<DateTime<FixedOffset>> = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Purchase(_)))
            .map(|e| e.timestamp)
            .collect();
        orders.sort();
        let (Some(first), Some(last)) = (orders.first(), orders.last()) else {
            return Err(format!("customer {} has no order", shopper.id).into());
        };
        let days = |t: DateTime<FixedOffset>| (t - *first).num_seconds() as f64 / 86_400.0;
        let summary = RepeatSummary {
            frequency: (orders.len() - 1) as f64,
            recency: days(*last),
            age: days(now),
        };
        let expected = model.bgnbd().expected_purchases(&summary, 30.0)?;
        let alive = model.bgnbd().probability_alive(&summary)?;
        let placed = model.place(&events, |_| None, now)?;
        let f = &placed.forecast;
        assert_eq!((f.horizon_days, f.currency.as_str()), (30.0, "GBP"));
        assert!(
            (f.orders - expected).abs() <= 1e-9 * expected.max(1e-3),
            "customer {}: {} vs {expected}",
            shopper.id,
            f.orders
        );
        let active = f.probability_active.ok_or("no probability")?;
        assert!((active - alive).abs() < 1e-12, "customer {}", shopper.id);
        assert!(f.spend > 0.0 && f.spend.is_finite());
    }
    Ok(())
}

#[test]
fn a_new_visitor_gets_the_average_shoppers_forecast() -> TestResult {
    let (model, _, now) = shipped()?;
    let placed = model.place(&[], |_| None, now)?;
    assert!(!placed.enough_data);
    assert!(placed.segment.is_none() && placed.map.is_none() && placed.features.is_empty());
    let f = &placed.forecast;
    assert_eq!(f.basis, ForecastBasis::Population);
    assert_eq!(f.probability_active, None);
    let prior = model.prior();
    assert!((f.orders - 30.0 * prior.rate_per_day).abs() < 1e-12);
    assert!((f.spend - f.orders * prior.mean_spend).abs() < 1e-9);
    // Online Retail's customers order about once a month or less, for a few hundred pounds.
    assert!(f.orders > 0.1 && f.orders < 2.0, "{}", f.orders);
    assert!(prior.mean_spend > 50.0 && prior.mean_spend < 2_000.0);
    Ok(())
}

#[test]
fn the_shipped_file_is_small_and_whole() -> TestResult {
    let bytes = model_bytes()?;
    assert!(bytes.len() < 1_000_000, "{} bytes", bytes.len());
    let model = ShopperModel::from_bytes(&bytes)?;
    let sizes: usize = model.segments().iter().map(|s| s.shoppers).sum();
    assert_eq!(sizes, model.shoppers());
    assert!(model.map_points().len() <= 1_500);
    assert_eq!(model.explained_variance_ratio().len(), 2);
    assert_eq!(
        model.feature_names().len(),
        10 + model.categories().len() + 1
    );

    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    let err = ShopperModel::from_bytes(&flipped).unwrap_err().to_string();
    assert!(err.contains("checksum"), "{err}");
    Ok(())
}
