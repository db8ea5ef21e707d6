//! Per-shopper features for profiles: recency, frequency, spend, basket size, category mix and
//! the time of day and week they shop, from their purchases and refunds.
//!
//! Only signed-in shoppers count; anonymous sessions say nothing about one person. Each order
//! is one purchase event. Spend is net of refunds with a price, and floored at 0. Skewed counts
//! and amounts (frequency, spend, basket size) enter as `ln(1 + x)`, so that a few wholesale
//! buyers do not stretch every axis of the PCA map.
//!
//! | feature | meaning |
//! | --- | --- |
//! | `recency_days` | days from the last order to the reference time |
//! | `log_orders` | `ln(1 + orders)` |
//! | `log_spend` | `ln(1 + net spend in major units)` |
//! | `log_basket` | `ln(1 + mean units per order)` |
//! | `distinct_items` | share of order lines that are a product not bought before |
//! | `refund_share` | refunded units over purchased units, at most 1 |
//! | `morning`, `afternoon`, `evening` | share of orders before 12:00, 12:00-17:00, after |
//! | `weekend` | share of orders on Saturday or Sunday |
//! | `cat:<name>` | share of purchased units in each of the most bought categories |
//!
//! Hours and weekdays are read in the given time zone, so a shop's evening stays its evening
//! across daylight-saving changes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Weekday};
use chrono_tz::Tz;

use super::event::{Event, EventKind};
use crate::error::{Error, Result};
use crate::profile::Matrix;

/// The category name used for items without one, or outside the most bought categories.
pub const OTHER_CATEGORY: &str = "other";

/// Per-shopper features, one row per signed-in shopper with at least one order.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopperFeatures {
    /// The shoppers, in row order (sorted by id).
    pub users: Vec<String>,
    /// The feature names, in column order.
    pub names: Vec<String>,
    /// The raw (not yet standardised) features.
    pub values: Matrix,
}

#[derive(Debug, Default)]
struct Tally {
    orders: u32,
    last: Option<DateTime<FixedOffset>>,
    spend_minor: i64,
    units: u64,
    refunded_units: u64,
    lines: u32,
    new_item_lines: u32,
    items: BTreeSet<String>,
    morning: u32,
    afternoon: u32,
    evening: u32,
    weekend: u32,
    category_units: BTreeMap<String, u64>,
}

/// Which categories get a feature column each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryColumns<'a> {
    /// The given number of most bought categories in the events (ties by name).
    MostBought(usize),
    /// These categories, in this order, whatever the events hold: the columns a fitted model
    /// chose, so that one shopper's row lines up with the rows it was fitted on.
    Given(&'a [String]),
}

/// Computes the features of every signed-in shopper with an order before `reference`.
///
/// Categories come from each item's `item_category`; the `categories` most bought ones get a
/// column each and the rest share [`OTHER_CATEGORY`]. Money is summed in minor units whatever
/// the currency, so give events of one currency.
///
/// # Errors
///
/// [`Error::Input`] when no shopper has an order before `reference`.
pub fn shopper_features(
    events: &[Event],
    reference: DateTime<FixedOffset>,
    zone: Tz,
    categories: usize,
) -> Result<ShopperFeatures> {
    shopper_features_with(
        events,
        reference,
        zone,
        CategoryColumns::MostBought(categories),
    )
}

/// [`shopper_features`] with the category columns chosen by `columns`.
///
/// # Errors
///
/// [`Error::Input`] when no shopper has an order before `reference`, or when given categories
/// repeat a name or name [`OTHER_CATEGORY`], which always comes last by itself.
pub fn shopper_features_with(
    events: &[Event],
    reference: DateTime<FixedOffset>,
    zone: Tz,
    columns: CategoryColumns<'_>,
) -> Result<ShopperFeatures> {
    if let CategoryColumns::Given(given) = columns {
        let mut seen = BTreeSet::new();
        if let Some(bad) = given
            .iter()
            .find(|c| c.as_str() == OTHER_CATEGORY || !seen.insert(c.as_str()))
        {
            return Err(Error::Input(format!(
                "category column `{bad}` is repeated or is `{OTHER_CATEGORY}`; give each \
                 category once and leave `{OTHER_CATEGORY}` out, it is added last"
            )));
        }
    }
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut category_totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut ordered: Vec<&Event> = events.iter().filter(|e| e.timestamp < reference).collect();
    ordered.sort_by_key(|e| e.timestamp);

    for event in ordered {
        let Some(user) = event.user_id.as_deref() else {
            continue;
        };
        match &event.kind {
            EventKind::Purchase(order) => {
                let tally = tallies.entry(user).or_default();
                tally.orders += 1;
                tally.last = Some(event.timestamp);
                let local = event.timestamp.with_timezone(&zone);
                match local.hour() {
                    0..12 => tally.morning += 1,
                    12..17 => tally.afternoon += 1,
                    _ => tally.evening += 1,
                }
                if matches!(local.weekday(), Weekday::Sat | Weekday::Sun) {
                    tally.weekend += 1;
                }
                for item in &order.items {
                    let units = u64::from(item.quantity);
                    tally.units += units;
                    tally.lines += 1;
                    if tally.items.insert(item.item_id.clone()) {
                        tally.new_item_lines += 1;
                    }
                    if let Some(price) = item.price {
                        tally.spend_minor += price.saturating_mul(i64::from(item.quantity));
                    }
                    let category = item
                        .item_category
                        .clone()
                        .unwrap_or_else(|| OTHER_CATEGORY.to_owned());
                    *tally.category_units.entry(category.clone()).or_default() += units;
                    *category_totals.entry(category).or_default() += units;
                }
            }
            EventKind::Refund(refund) => {
                // A refund before any order of the same shopper has nothing to count against.
                let Some(tally) = tallies.get_mut(user) else {
                    continue;
                };
                for item in &refund.items {
                    tally.refunded_units += u64::from(item.quantity);
                    if let Some(price) = item.price {
                        tally.spend_minor -= price.saturating_mul(i64::from(item.quantity));
                    }
                }
                if refund.items.is_empty() {
                    tally.spend_minor -= refund.amount.unwrap_or(0);
                }
            }
            _ => {}
        }
    }
    if tallies.is_empty() {
        return Err(Error::Input(format!(
            "no signed-in shopper has an order before {reference}; profiles need purchase \
             events with a user_id"
        )));
    }

    let top: Vec<String> = match columns {
        CategoryColumns::Given(given) => given.to_vec(),
        CategoryColumns::MostBought(categories) => {
            let mut top: Vec<(String, u64)> = category_totals
                .into_iter()
                .filter(|(name, _)| name != OTHER_CATEGORY)
                .collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            top.truncate(categories);
            top.into_iter().map(|(name, _)| name).collect()
        }
    };

    let names = feature_names(&top);

    let mut users = Vec::with_capacity(tallies.len());
    let mut data = Vec::with_capacity(tallies.len() * names.len());
    for (user, t) in &tallies {
        let orders = f64::from(t.orders);
        let recency = t.last.map_or(0.0, |last| {
            (reference - last).num_seconds() as f64 / 86_400.0
        });
        let spend = (t.spend_minor.max(0) as f64) / 100.0;
        let units = t.units as f64;
        data.extend([
            recency,
            orders.ln_1p(),
            spend.ln_1p(),
            (units / orders).ln_1p(),
            f64::from(t.new_item_lines) / f64::from(t.lines.max(1)),
            if units > 0.0 {
                (t.refunded_units as f64 / units).min(1.0)
            } else {
                0.0
            },
            f64::from(t.morning) / orders,
            f64::from(t.afternoon) / orders,
            f64::from(t.evening) / orders,
            f64::from(t.weekend) / orders,
        ]);
        if !top.is_empty() {
            let share = |units_in: u64| {
                if units > 0.0 {
                    units_in as f64 / units
                } else {
                    0.0
                }
            };
            let mut covered = 0;
            for category in &top {
                let n = t.category_units.get(category).copied().unwrap_or(0);
                covered += n;
                data.push(share(n));
            }
            data.push(share(t.units.saturating_sub(covered)));
        }
        users.push((*user).to_owned());
    }
    let values = Matrix::new(users.len(), names.len(), data)?;
    Ok(ShopperFeatures {
        users,
        names,
        values,
    })
}

/// The feature names, in column order, of rows with a column for each of `categories`: the
/// ten fixed features, then `cat:<name>` for each category and `cat:other` when there is at
/// least one category.
pub fn feature_names(categories: &[String]) -> Vec<String> {
    let mut names: Vec<String> = [
        "recency_days",
        "log_orders",
        "log_spend",
        "log_basket",
        "distinct_items",
        "refund_share",
        "morning",
        "afternoon",
        "evening",
        "weekend",
    ]
    .map(str::to_owned)
    .to_vec();
    names.extend(categories.iter().map(|c| format!("cat:{c}")));
    if !categories.is_empty() {
        names.push(format!("cat:{OTHER_CATEGORY}"));
    }
    names
}

/// A feature name as a shopper-facing phrase: `log_spend` is "spend", `cat:mug` is
/// "mug share".
pub fn feature_label(name: &str) -> String {
    match name {
        "recency_days" => "days since last order".to_owned(),
        "log_orders" => "orders".to_owned(),
        "log_spend" => "spend".to_owned(),
        "log_basket" => "basket size".to_owned(),
        "distinct_items" => "variety".to_owned(),
        "refund_share" => "refunds".to_owned(),
        "morning" | "afternoon" | "evening" => format!("{name} orders"),
        "weekend" => "weekend orders".to_owned(),
        _ => match name.strip_prefix("cat:") {
            Some(OTHER_CATEGORY) => "other products".to_owned(),
            Some(category) => format!("{category} share"),
            None => name.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;

    fn event(json: &str) -> Event {
        Event::from_json(json).unwrap()
    }

    fn purchase(id: &str, user: &str, at: &str, items: &str) -> Event {
        event(&format!(
            r#"{{"id":"{id}","event":"purchase","timestamp":"{at}","user_id":"{user}",
            "session_id":"s{id}","params":{{"transaction_id":"T{id}","currency":"GBP",
            "items":[{items}]}}}}"#
        ))
    }

    #[test]
    fn features_by_hand() {
        let events = vec![
            // u1: two orders. Saturday 2024-06-01 09:00 London (08:00Z), 2 mugs at 2.50 and a
            // lamp at 10.00; Monday 2024-06-03 18:30 London, 1 mug at 2.50.
            purchase(
                "1",
                "u1",
                "2024-06-01T08:00:00Z",
                r#"{"item_id":"mug","item_category":"mug","price":250,"quantity":2},
                   {"item_id":"lamp","item_category":"lamp","price":1000,"quantity":1}"#,
            ),
            purchase(
                "2",
                "u1",
                "2024-06-03T17:30:00Z",
                r#"{"item_id":"mug","item_category":"mug","price":250,"quantity":1}"#,
            ),
            // u1 gives one mug back.
            event(
                r#"{"id":"3","event":"refund","timestamp":"2024-06-04T10:00:00Z",
                "user_id":"u1","session_id":"s3","params":{"transaction_id":"T2",
                "currency":"GBP","items":[{"item_id":"mug","price":250,"quantity":1}]}}"#,
            ),
            // u2: one order on Tuesday 2024-06-04 13:00 London, 4 bowls at 1.00.
            purchase(
                "4",
                "u2",
                "2024-06-04T12:00:00Z",
                r#"{"item_id":"bowl","item_category":"bowl","price":100,"quantity":4}"#,
            ),
            // Anonymous and after the reference time: both ignored.
            event(
                r#"{"id":"5","event":"purchase","timestamp":"2024-06-02T10:00:00Z",
                "session_id":"s5","params":{"transaction_id":"T5","currency":"GBP",
                "items":[{"item_id":"bowl","price":100}]}}"#,
            ),
            purchase("6", "u2", "2024-06-09T12:00:00Z", r#"{"item_id":"lamp"}"#),
        ];
        let reference = DateTime::parse_from_rfc3339("2024-06-05T12:00:00Z").unwrap();
        let zone = crate::events::time_zone("Europe/London").unwrap();
        let f = shopper_features(&events, reference, zone, 2).unwrap();

        assert_eq!(f.users, ["u1", "u2"]);
        // Units: mug 3 + bowl 4 + lamp 1, so the two top categories are bowl and mug.
        assert_eq!(&f.names[10..], ["cat:bowl", "cat:mug", "cat:other"]);
        let u1 = f.values.row(0);
        // Last order 2024-06-03 17:30Z, reference 2024-06-05 12:00Z: 1 day 18.5 hours.
        assert!((u1[0] - (1.0 + 18.5 / 24.0)).abs() < 1e-12);
        assert!((u1[1] - 2f64.ln_1p()).abs() < 1e-12);
        // Spend 5.00 + 10.00 + 2.50 - 2.50 = 15.00.
        assert!((u1[2] - 15f64.ln_1p()).abs() < 1e-12);
        // 4 units over 2 orders.
        assert!((u1[3] - 2f64.ln_1p()).abs() < 1e-12);
        // Lines: mug (new), lamp (new), mug again: 2 of 3.
        assert!((u1[4] - 2.0 / 3.0).abs() < 1e-12);
        assert!((u1[5] - 0.25).abs() < 1e-12);
        assert_eq!(&u1[6..10], [0.5, 0.0, 0.5, 0.5]);
        assert_eq!(&u1[10..], [0.0, 0.75, 0.25]);

        let u2 = f.values.row(1);
        assert!((u2[0] - 1.0).abs() < 1e-12);
        assert_eq!(&u2[6..], [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn given_categories_fix_the_columns() {
        let events = vec![
            purchase(
                "1",
                "u1",
                "2024-06-01T08:00:00Z",
                r#"{"item_id":"mug","item_category":"mug","price":250,"quantity":3},
                   {"item_id":"lamp","item_category":"lamp","price":1000,"quantity":1}"#,
            ),
            purchase(
                "2",
                "u2",
                "2024-06-02T08:00:00Z",
                r#"{"item_id":"bowl","item_category":"bowl","price":100,"quantity":4}"#,
            ),
        ];
        let reference = DateTime::parse_from_rfc3339("2024-06-05T12:00:00Z").unwrap();
        let zone = crate::events::time_zone("UTC").unwrap();
        // "vase" is bought by nobody and "bowl" by u2 only; u1's row is the same either way.
        let given = ["lamp".to_owned(), "vase".to_owned()];
        let f = shopper_features_with(&events, reference, zone, CategoryColumns::Given(&given))
            .unwrap();
        assert_eq!(&f.names[10..], ["cat:lamp", "cat:vase", "cat:other"]);
        assert_eq!(&f.values.row(0)[10..], [0.25, 0.0, 0.75]);
        assert_eq!(&f.values.row(1)[10..], [0.0, 0.0, 1.0]);

        let most = shopper_features(&events, reference, zone, 2).unwrap();
        assert_eq!(&most.names[10..], ["cat:bowl", "cat:mug", "cat:other"]);
        assert_eq!(&most.values.row(0)[..10], &f.values.row(0)[..10]);

        let none =
            shopper_features_with(&events, reference, zone, CategoryColumns::Given(&[])).unwrap();
        assert_eq!(none.names.len(), 10);

        for bad in [
            vec!["mug".to_owned(), "mug".to_owned()],
            vec!["other".to_owned()],
        ] {
            let err = shopper_features_with(&events, reference, zone, CategoryColumns::Given(&bad))
                .unwrap_err();
            assert!(err.to_string().contains("give each category once"), "{err}");
        }
    }

    #[test]
    fn feature_labels_read_as_words() {
        assert_eq!(feature_label("log_spend"), "spend");
        assert_eq!(feature_label("cat:mug"), "mug share");
        assert_eq!(feature_label("cat:other"), "other products");
        assert_eq!(feature_label("evening"), "evening orders");
    }

    #[test]
    fn no_signed_in_order_is_an_error() {
        let reference = DateTime::parse_from_rfc3339("2024-06-05T12:00:00Z").unwrap();
        let zone = crate::events::time_zone("UTC").unwrap();
        let err = shopper_features(&[], reference, zone, 3).unwrap_err();
        assert!(err.to_string().contains("no signed-in shopper"), "{err}");
    }
}
