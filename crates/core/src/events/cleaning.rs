//! Cleaning events into user–item interactions, with a count of what every rule touched.
//!
//! # Rules, in order
//!
//! 1. **Duplicates** ([`remove_duplicates`], first, and before any split): an event whose `id`
//!    was seen is dropped; so is one with the same user (the session for anonymous events),
//!    event name, item ids (the search term for `search`) and instant as an earlier one. Events
//!    that differ in time are not duplicates: repeated views are merged later into one
//!    interaction with a count.
//! 2. **Outlier caps** ([`clean`]): per item, over the quantities and unit prices of its
//!    `purchase` lines, with `m` the lower median and `MAD` the lower median of `|x - m|`, a
//!    value above `m + k * max(MAD, m / 2, 1)` (integer arithmetic, `k` =
//!    [`CleaningConfig::outlier_k`], default 10) is lowered to that cap, on purchase and refund
//!    lines alike (so that a refund still nets its capped purchase). Items with fewer than
//!    [`CleaningConfig::min_samples`] purchase lines are left alone. The `m / 2` floor keeps a
//!    fixed price (MAD 0) from capping every small rise.
//! 3. **Interactions** ([`interactions`]): per (user, item), the weights of the events about the
//!    item are summed ([`Weights`]: purchase 3, gift 3, add_to_cart 2, begin_checkout 2, share 2,
//!    view_item 1, select_item 1, review 1 if rated 3 or more, else 0; remove_from_cart,
//!    search, payment 0). An event counts once per item even if it lists the item twice; the
//!    count is the number of events with a positive weight. The binary value is 1 for every
//!    pair kept. Anonymous events (no `user_id`) are skipped.
//! 4. **Refunds** never raise a preference: per (user, item) the refunded quantity is taken
//!    from the purchased quantity, floored at 0. When nothing is left, the purchases' weight and
//!    count are removed; a partial refund keeps them, with the net quantity. A refund with no
//!    purchase to net against adds nothing. Pairs left with weight 0 are dropped.
//!
//! [`temporal_split`] removes duplicates, splits at a cutoff, builds the interactions of each
//! side, and drops from the test side every pair already in train, so that no (user, item) pair
//! is in both; [`check_disjoint`] verifies that of any two sets. [`bucket`] gives an event's
//! local hour, weekday and day in an IANA time zone; [`crate::profile::Standardizer`] turns
//! features into z-scores.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike, Weekday};
use chrono_tz::Tz;

use super::event::{Event, EventKind};
use crate::error::{Error, Result};

/// Settings of [`clean`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleaningConfig {
    /// The `k` of the cap `m + k * max(MAD, m / 2, 1)`.
    pub outlier_k: i64,
    /// The fewest purchase lines of an item for its values to be capped.
    pub min_samples: usize,
}

impl Default for CleaningConfig {
    fn default() -> CleaningConfig {
        CleaningConfig {
            outlier_k: 10,
            min_samples: 5,
        }
    }
}

/// How many events or lines each rule of [`clean`] touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleaningReport {
    /// Events given.
    pub input_events: usize,
    /// Events dropped for an `id` seen before.
    pub duplicate_ids: usize,
    /// Events dropped for the same user, event, items and instant as an earlier one.
    pub duplicate_events: usize,
    /// Item lines whose quantity was lowered to the cap.
    pub quantities_capped: usize,
    /// Item lines whose unit price was lowered to the cap.
    pub prices_capped: usize,
    /// Events returned.
    pub output_events: usize,
}

/// Drops duplicate events (see rule 1 of the [module docs](self)), keeping the first of each,
/// in order. Returns the events kept, and the numbers dropped for a repeated id and for repeated
/// content.
pub fn remove_duplicates(events: Vec<Event>) -> (Vec<Event>, usize, usize) {
    let mut ids = HashSet::new();
    let mut contents = HashSet::new();
    let (mut same_id, mut same_content) = (0, 0);
    let mut kept = Vec::with_capacity(events.len());
    for event in events {
        if !ids.insert(event.id.clone()) {
            same_id += 1;
            continue;
        }
        if !contents.insert(content_key(&event)) {
            same_content += 1;
            continue;
        }
        kept.push(event);
    }
    (kept, same_id, same_content)
}

fn content_key(event: &Event) -> (String, &'static str, Vec<String>, DateTime<chrono::Utc>) {
    let who = match &event.user_id {
        Some(user) => format!("u:{user}"),
        None => format!("s:{}", event.session_id),
    };
    let what = match &event.kind {
        EventKind::Search(p) => vec![p.search_term.clone()],
        kind => kind.item_ids().into_iter().map(str::to_owned).collect(),
    };
    (who, event.kind.name(), what, event.timestamp.to_utc())
}

/// Removes duplicates, then caps outlying quantities and prices (rules 1 and 2 of the
/// [module docs](self)).
pub fn clean(events: Vec<Event>, config: &CleaningConfig) -> (Vec<Event>, CleaningReport) {
    let input_events = events.len();
    let (mut events, duplicate_ids, duplicate_events) = remove_duplicates(events);
    let mut quantities: HashMap<String, Vec<i64>> = HashMap::new();
    let mut prices: HashMap<String, Vec<i64>> = HashMap::new();
    for event in &events {
        if let EventKind::Purchase(p) = &event.kind {
            for item in &p.items {
                let id = &item.item_id;
                quantities
                    .entry(id.clone())
                    .or_default()
                    .push(i64::from(item.quantity));
                if let Some(price) = item.price {
                    prices.entry(id.clone()).or_default().push(price);
                }
            }
        }
    }
    let caps = |values: HashMap<String, Vec<i64>>| -> HashMap<String, i64> {
        values
            .into_iter()
            .filter(|(_, v)| v.len() >= config.min_samples)
            .filter_map(|(id, v)| robust_cap(v, config.outlier_k).map(|cap| (id, cap)))
            .collect()
    };
    let quantity_caps = caps(quantities);
    let price_caps = caps(prices);
    let (mut quantities_capped, mut prices_capped) = (0, 0);
    for event in &mut events {
        let items = match &mut event.kind {
            EventKind::Purchase(p) => &mut p.items,
            EventKind::Refund(p) => &mut p.items,
            _ => continue,
        };
        for item in items {
            if let Some(&cap) = quantity_caps.get(&item.item_id)
                && i64::from(item.quantity) > cap
            {
                item.quantity = u32::try_from(cap).unwrap_or(u32::MAX);
                quantities_capped += 1;
            }
            if let (Some(&cap), Some(price)) = (price_caps.get(&item.item_id), item.price)
                && price > cap
            {
                item.price = Some(cap);
                prices_capped += 1;
            }
        }
    }
    let report = CleaningReport {
        input_events,
        duplicate_ids,
        duplicate_events,
        quantities_capped,
        prices_capped,
        output_events: events.len(),
    };
    (events, report)
}

/// The cap `m + k * max(MAD, m / 2, 1)` of `values` (see the [module docs](self)); `None` for
/// no values.
pub fn robust_cap(mut values: Vec<i64>, k: i64) -> Option<i64> {
    let median = lower_median(&mut values)?;
    let mut deviations: Vec<i64> = values
        .iter()
        .map(|v| v.abs_diff(median))
        .map(clamp)
        .collect();
    let mad = lower_median(&mut deviations)?;
    let scale = mad.max(median / 2).max(1);
    Some(median.saturating_add(k.saturating_mul(scale)))
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn lower_median(values: &mut [i64]) -> Option<i64> {
    values.sort_unstable();
    values.get(values.len().checked_sub(1)? / 2).copied()
}

/// The weight each event adds to its (user, item) pairs (see rule 3 of the
/// [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// `view_item`.
    pub view_item: f64,
    /// `select_item`.
    pub select_item: f64,
    /// `add_to_cart`.
    pub add_to_cart: f64,
    /// `begin_checkout`.
    pub begin_checkout: f64,
    /// `purchase`.
    pub purchase: f64,
    /// `share`.
    pub share: f64,
    /// `gift`.
    pub gift: f64,
    /// `review` rated at least [`Weights::review_min_stars`].
    pub review: f64,
    /// The fewest stars for a review to count.
    pub review_min_stars: u8,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            view_item: 1.0,
            select_item: 1.0,
            add_to_cart: 2.0,
            begin_checkout: 2.0,
            purchase: 3.0,
            share: 2.0,
            gift: 3.0,
            review: 1.0,
            review_min_stars: 3,
        }
    }
}

impl Weights {
    /// The weight of one event per item it is about.
    pub fn of(&self, kind: &EventKind) -> f64 {
        match kind {
            EventKind::ViewItem(_) => self.view_item,
            EventKind::SelectItem(_) => self.select_item,
            EventKind::AddToCart(_) => self.add_to_cart,
            EventKind::BeginCheckout(_) => self.begin_checkout,
            EventKind::Purchase(_) => self.purchase,
            EventKind::Share(_) => self.share,
            EventKind::Gift(_) => self.gift,
            EventKind::Review(p) if p.rating.stars() >= self.review_min_stars => self.review,
            _ => 0.0,
        }
    }
}

/// One (user, item) pair of the interaction matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// The user.
    pub user_id: String,
    /// The item.
    pub item_id: String,
    /// The summed weight of the pair's events, after refunds.
    pub weight: f64,
    /// The number of events with a positive weight merged into the pair.
    pub count: u32,
    /// Units bought less units refunded, floored at 0.
    pub net_quantity: u64,
}

impl Interaction {
    /// The binary value: 1 for every pair that is present.
    pub fn binary(&self) -> u8 {
        1
    }
}

/// How many events and pairs each rule of [`interactions`] touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InteractionReport {
    /// Events that added to some pair (or netted a refund).
    pub events_used: usize,
    /// Events skipped for having no user.
    pub anonymous_events: usize,
    /// Events about no item, or of weight 0 (search, payment, remove_from_cart, low reviews).
    pub events_without_weight: usize,
    /// Events merged into a pair that another event had already made.
    pub merged: usize,
    /// Refund item lines.
    pub refund_lines: usize,
    /// Refund item lines with no purchase of the same user and item to net against.
    pub unmatched_refund_lines: usize,
    /// Pairs whose purchases were fully refunded, so lost their purchase weight.
    pub purchases_refunded: usize,
    /// Pairs dropped for weight 0 after refunds.
    pub pairs_dropped: usize,
}

/// The interaction matrix: pairs sorted by user then item, and the report of how it was built.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interactions {
    /// The pairs, sorted by user then item.
    pub pairs: Vec<Interaction>,
    /// What each rule touched.
    pub report: InteractionReport,
}

impl Interactions {
    /// The pair of `user` and `item`, if present.
    pub fn get(&self, user: &str, item: &str) -> Option<&Interaction> {
        self.pairs
            .binary_search_by(|p| (p.user_id.as_str(), p.item_id.as_str()).cmp(&(user, item)))
            .ok()
            .and_then(|i| self.pairs.get(i))
    }

    /// The binary value of a pair: 1 if present, else 0.
    pub fn binary(&self, user: &str, item: &str) -> u8 {
        self.get(user, item).map_or(0, Interaction::binary)
    }

    /// The weighted value of a pair: its weight if present, else 0.
    pub fn weight(&self, user: &str, item: &str) -> f64 {
        self.get(user, item).map_or(0.0, |p| p.weight)
    }
}

#[derive(Default)]
struct Pair {
    weight: f64,
    count: u32,
    purchases: u32,
    purchased: u64,
    refunded: u64,
}

/// Builds the interaction matrix of `events` (rules 3 and 4 of the [module docs](self)). Clean
/// the events first ([`clean`]) so that duplicates do not count twice.
pub fn interactions(events: &[Event], weights: &Weights) -> Interactions {
    let mut report = InteractionReport::default();
    let mut pairs: BTreeMap<(String, String), Pair> = BTreeMap::new();
    let mut refunds: Vec<(&String, &str, u64)> = Vec::new();
    for event in events {
        let Some(user) = &event.user_id else {
            report.anonymous_events += 1;
            continue;
        };
        if let EventKind::Refund(p) = &event.kind {
            report.events_used += 1;
            for item in &p.items {
                refunds.push((user, item.item_id.as_str(), u64::from(item.quantity)));
            }
            continue;
        }
        let weight = weights.of(&event.kind);
        let ids = event.kind.item_ids();
        if weight <= 0.0 || ids.is_empty() {
            report.events_without_weight += 1;
            continue;
        }
        report.events_used += 1;
        let mut quantities: BTreeMap<&str, u64> = BTreeMap::new();
        for id in &ids {
            quantities.entry(id).or_insert(0);
        }
        for item in event.kind.items() {
            if let Some(q) = quantities.get_mut(item.item_id.as_str()) {
                *q += u64::from(item.quantity);
            }
        }
        let is_purchase = matches!(event.kind, EventKind::Purchase(_));
        for (id, quantity) in quantities {
            let pair = pairs.entry((user.clone(), id.to_owned())).or_default();
            if pair.count > 0 {
                report.merged += 1;
            }
            pair.weight += weight;
            pair.count += 1;
            if is_purchase {
                pair.purchases += 1;
                pair.purchased += quantity;
            }
        }
    }
    // Refunds net after every purchase is counted, whatever the order of the events.
    for (user, item, quantity) in refunds {
        report.refund_lines += 1;
        match pairs.get_mut(&(user.clone(), item.to_owned())) {
            Some(pair) if pair.purchased > 0 => pair.refunded += quantity,
            _ => report.unmatched_refund_lines += 1,
        }
    }
    let mut kept = Vec::with_capacity(pairs.len());
    for ((user_id, item_id), mut pair) in pairs {
        let net_quantity = pair.purchased.saturating_sub(pair.refunded);
        if pair.purchases > 0 && net_quantity == 0 {
            report.purchases_refunded += 1;
            pair.weight -= weights.purchase * f64::from(pair.purchases);
            pair.count -= pair.purchases;
        }
        if pair.weight <= 0.0 || pair.count == 0 {
            report.pairs_dropped += 1;
            continue;
        }
        kept.push(Interaction {
            user_id,
            item_id,
            weight: pair.weight,
            count: pair.count,
            net_quantity,
        });
    }
    Interactions {
        pairs: kept,
        report,
    }
}

/// Train and test interactions split at a time, with no (user, item) pair in both.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Interactions of the events before the cutoff.
    pub train: Interactions,
    /// Interactions of the events at or after the cutoff, less the pairs in train.
    pub test: Interactions,
    /// Duplicate events removed before splitting (same id, or same content).
    pub duplicates_removed: usize,
    /// Test pairs dropped because train has the same pair.
    pub test_pairs_seen_in_train: usize,
}

/// Removes duplicate events, splits them at `cutoff` (before: train; at or after: test), builds
/// the interactions of each side, and drops test pairs that train has, so that no (user, item)
/// pair is in both. A refund after the cutoff does not net a purchase before it.
pub fn temporal_split(
    events: Vec<Event>,
    cutoff: DateTime<FixedOffset>,
    weights: &Weights,
) -> Split {
    let (events, same_id, same_content) = remove_duplicates(events);
    let (train_events, test_events): (Vec<Event>, Vec<Event>) =
        events.into_iter().partition(|e| e.timestamp < cutoff);
    let train = interactions(&train_events, weights);
    let mut test = interactions(&test_events, weights);
    let before = test.pairs.len();
    test.pairs
        .retain(|p| train.get(&p.user_id, &p.item_id).is_none());
    Split {
        test_pairs_seen_in_train: before - test.pairs.len(),
        train,
        test,
        duplicates_removed: same_id + same_content,
    }
}

/// Checks that no (user, item) pair is in both `train` and `test`; the error says how many are
/// and names a few (see [`crate::rec_metrics::check_no_overlap`]).
pub fn check_disjoint(train: &[Interaction], test: &[Interaction]) -> Result<()> {
    let pairs = |set: &[Interaction]| -> Vec<(String, String)> {
        set.iter()
            .map(|p| (p.user_id.clone(), p.item_id.clone()))
            .collect()
    };
    crate::rec_metrics::check_no_overlap(&pairs(train), &pairs(test))
}

/// Parses an IANA time zone name such as `Europe/London`.
pub fn time_zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        Error::Input(format!(
            "{name:?} is not an IANA time zone name; use one such as \"Europe/London\" or \"UTC\""
        ))
    })
}

/// An instant's local day, hour and weekday in a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeBucket {
    /// The local calendar day.
    pub day: NaiveDate,
    /// The local hour, 0 to 23.
    pub hour: u32,
    /// The local day of the week.
    pub weekday: Weekday,
}

/// The local day, hour and weekday of `timestamp` in `zone`, through the zone's rules for that
/// instant, so that daylight-saving changes are honoured (in Europe/London, 2024-03-31 00:30Z is
/// hour 0 and 01:30Z is hour 2).
pub fn bucket(timestamp: &DateTime<FixedOffset>, zone: Tz) -> TimeBucket {
    let local = timestamp.with_timezone(&zone);
    TimeBucket {
        day: local.date_naive(),
        hour: local.hour(),
        weekday: local.weekday(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::amount::Currency;
    use super::super::event::{Item, ItemsParams, PurchaseParams, RefundParams};
    use super::*;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn item(id: &str, quantity: u32, price: Option<i64>) -> Item {
        Item {
            quantity,
            price,
            ..Item::new(id)
        }
    }

    fn event(id: &str, user: &str, kind: &str, items: Vec<Item>, time: &str) -> Event {
        let items_params = ItemsParams {
            currency: None,
            items: items.clone(),
        };
        let kind = match kind {
            "view" => EventKind::ViewItem(items_params),
            "click" => EventKind::SelectItem(items_params),
            "cart" => EventKind::AddToCart(items_params),
            "remove" => EventKind::RemoveFromCart(items_params),
            "purchase" => EventKind::Purchase(PurchaseParams {
                transaction_id: format!("T-{id}"),
                currency: Currency::EUR,
                items,
            }),
            "refund" => EventKind::Refund(RefundParams {
                transaction_id: format!("T-{id}"),
                currency: None,
                items,
                amount: None,
                amount_issue: None,
            }),
            other => panic!("no kind {other}"),
        };
        Event {
            id: id.into(),
            timestamp: at(time),
            user_id: Some(user.into()),
            session_id: "s".into(),
            kind,
        }
    }

    fn simple(id: &str, user: &str, item_id: &str, kind: &str, time: &str) -> Event {
        event(id, user, kind, vec![Item::new(item_id)], time)
    }

    /// Case REC-03: repeated views merge, exact duplicates are dropped before anything else.
    #[test]
    fn rec_03_duplicates_and_aggregation() {
        let events = vec![
            simple("e1", "u1", "i1", "view", "2024-05-01T10:00:00Z"),
            simple("e2", "u1", "i1", "view", "2024-05-01T10:05:00Z"),
            simple("e3", "u2", "i2", "click", "2024-05-01T10:10:00Z"),
            simple("e4", "u2", "i3", "purchase", "2024-05-01T10:15:00Z"),
            // An exact duplicate of e1 under another id, and e2 sent twice.
            simple("e1-again", "u1", "i1", "view", "2024-05-01T12:00:00+02:00"),
            simple("e2", "u1", "i1", "view", "2024-05-01T10:05:00Z"),
        ];
        let (events, report) = clean(events, &CleaningConfig::default());
        assert_eq!((report.duplicate_ids, report.duplicate_events), (1, 1));
        assert_eq!(report.output_events, 4);
        let matrix = interactions(&events, &Weights::default());
        assert_eq!(matrix.pairs.len(), 3);
        assert_eq!(matrix.binary("u1", "i1"), 1);
        assert_eq!(matrix.binary("u2", "i2"), 1);
        assert_eq!(matrix.binary("u2", "i3"), 1);
        assert_eq!(matrix.binary("u1", "i2"), 0);
        assert_eq!(matrix.weight("u1", "i1"), 2.0);
        assert_eq!(matrix.get("u1", "i1").unwrap().count, 2);
        assert_eq!(matrix.weight("u2", "i2"), 1.0);
        assert_eq!(matrix.weight("u2", "i3"), 3.0);
        assert_eq!(matrix.report.merged, 1);
    }

    #[test]
    fn refunds_net_and_never_raise_preference() {
        let events = vec![
            event(
                "r1",
                "u1",
                "refund",
                vec![item("a", 5, None)],
                "2024-05-02T10:00:00Z",
            ),
            event(
                "p1",
                "u1",
                "purchase",
                vec![item("a", 2, None)],
                "2024-05-01T10:00:00Z",
            ),
            event(
                "v1",
                "u1",
                "view",
                vec![item("a", 1, None)],
                "2024-05-01T09:00:00Z",
            ),
            event(
                "p2",
                "u1",
                "purchase",
                vec![item("b", 3, None)],
                "2024-05-01T10:00:00Z",
            ),
            event(
                "r2",
                "u1",
                "refund",
                vec![item("b", 1, None)],
                "2024-05-02T10:00:00Z",
            ),
            event(
                "p3",
                "u1",
                "purchase",
                vec![item("c", 1, None)],
                "2024-05-01T10:00:00Z",
            ),
            event(
                "r3",
                "u1",
                "refund",
                vec![item("c", 1, None)],
                "2024-05-02T10:00:00Z",
            ),
            event(
                "r4",
                "u2",
                "refund",
                vec![item("a", 1, None)],
                "2024-05-02T10:00:00Z",
            ),
            event(
                "x1",
                "u2",
                "remove",
                vec![item("d", 1, None)],
                "2024-05-02T10:00:00Z",
            ),
        ];
        let m = interactions(&events, &Weights::default());
        // a: bought 2, refunded 5: net 0, the purchase's 3 removed, the view's 1 stays.
        let a = m.get("u1", "a").unwrap();
        assert_eq!((a.weight, a.count, a.net_quantity), (1.0, 1, 0));
        // b: partial refund keeps the purchase weight.
        let b = m.get("u1", "b").unwrap();
        assert_eq!((b.weight, b.count, b.net_quantity), (3.0, 1, 2));
        // c: fully refunded, nothing else: dropped. u2's refund has nothing to net against.
        assert_eq!(m.binary("u1", "c"), 0);
        assert_eq!(m.binary("u2", "a"), 0);
        assert_eq!(m.binary("u2", "d"), 0);
        assert_eq!(m.pairs.len(), 2);
        let r = &m.report;
        assert_eq!((r.refund_lines, r.unmatched_refund_lines), (4, 1));
        assert_eq!((r.purchases_refunded, r.pairs_dropped), (2, 1));
        assert_eq!(r.events_without_weight, 1);
    }

    #[test]
    fn outlier_caps_by_hand() {
        // Quantities 1,2,2,3,100: m = 2, |x - m| = 1,0,0,1,98, MAD = 1, scale max(1, 1, 1) = 1,
        // cap 2 + 10 * 1 = 12.
        assert_eq!(robust_cap(vec![1, 2, 2, 3, 100], 10), Some(12));
        // Prices 250,250,255,260,9999: m = 255, deviations 5,5,0,5,9744, MAD 5,
        // scale max(5, 127, 1) = 127, cap 255 + 1270 = 1525.
        assert_eq!(robust_cap(vec![250, 250, 255, 260, 9999], 10), Some(1525));
        // Even count: the lower median. 1,1,1,1: m = 1, MAD 0, scale 1, cap 11.
        assert_eq!(robust_cap(vec![1, 1, 1, 1], 10), Some(11));
        assert_eq!(robust_cap(vec![], 10), None);

        let mut events: Vec<Event> = [1, 2, 2, 3, 100]
            .iter()
            .enumerate()
            .map(|(i, &q)| {
                let price = if i == 4 {
                    9999
                } else {
                    [250, 250, 255, 260][i]
                };
                let items = vec![item("a", q, Some(price))];
                event(
                    &format!("p{i}"),
                    "u1",
                    "purchase",
                    items,
                    &format!("2024-05-0{}T10:00:00Z", i + 1),
                )
            })
            .collect();
        events.push(event(
            "r",
            "u1",
            "refund",
            vec![item("a", 100, None)],
            "2024-06-01T10:00:00Z",
        ));
        events.push(event(
            "q",
            "u2",
            "purchase",
            vec![item("b", 500, Some(1))],
            "2024-06-01T10:00:00Z",
        ));
        let (events, report) = clean(events, &CleaningConfig::default());
        assert_eq!((report.quantities_capped, report.prices_capped), (2, 1));
        let last = events[4].kind.items()[0].clone();
        assert_eq!((last.quantity, last.price), (12, Some(1525)));
        assert_eq!(events[5].kind.items()[0].quantity, 12);
        // Item b has one line only: fewer than min_samples, left alone.
        assert_eq!(events[6].kind.items()[0].quantity, 500);
    }

    #[test]
    fn buckets_across_daylight_saving() {
        let london = time_zone("Europe/London").unwrap();
        let a = bucket(&at("2024-03-31T00:30:00Z"), london);
        let b = bucket(&at("2024-03-31T01:30:00Z"), london);
        assert_eq!((a.hour, b.hour), (0, 2));
        assert_eq!(a.day, NaiveDate::from_ymd_opt(2024, 3, 31).unwrap());
        assert_eq!(a.weekday, Weekday::Sun);
        // Autumn: 00:30Z and 01:30Z on 2024-10-27 are both local hour 1 (BST, then GMT).
        let c = bucket(&at("2024-10-27T00:30:00Z"), london);
        let d = bucket(&at("2024-10-27T01:30:00Z"), london);
        assert_eq!((c.hour, d.hour), (1, 1));
        // The local day can differ from the UTC day.
        let tokyo = time_zone("Asia/Tokyo").unwrap();
        let e = bucket(&at("2024-05-01T20:00:00-04:00"), tokyo);
        assert_eq!(
            (e.day.to_string(), e.hour, e.weekday),
            ("2024-05-02".into(), 9, Weekday::Thu)
        );
        let err = time_zone("Europe/Londres").unwrap_err().to_string();
        assert!(err.contains("not an IANA time zone"), "{err}");
    }

    #[test]
    fn temporal_split_has_no_shared_pairs() {
        let events = vec![
            simple("e1", "u1", "i1", "view", "2024-05-01T10:00:00Z"),
            simple("e2", "u1", "i2", "view", "2024-05-01T11:00:00Z"),
            simple("e3", "u1", "i1", "purchase", "2024-05-03T10:00:00Z"),
            simple("e4", "u1", "i3", "purchase", "2024-05-03T10:00:00Z"),
            simple("e5", "u2", "i1", "view", "2024-05-04T10:00:00Z"),
            simple("e1", "u1", "i1", "view", "2024-05-01T10:00:00Z"),
        ];
        let split = temporal_split(events, at("2024-05-02T00:00:00Z"), &Weights::default());
        assert_eq!(split.duplicates_removed, 1);
        let train: Vec<(&str, &str)> = split
            .train
            .pairs
            .iter()
            .map(|p| (p.user_id.as_str(), p.item_id.as_str()))
            .collect();
        let test: Vec<(&str, &str)> = split
            .test
            .pairs
            .iter()
            .map(|p| (p.user_id.as_str(), p.item_id.as_str()))
            .collect();
        assert_eq!(train, [("u1", "i1"), ("u1", "i2")]);
        assert_eq!(test, [("u1", "i3"), ("u2", "i1")]);
        assert_eq!(split.test_pairs_seen_in_train, 1);
        check_disjoint(&split.train.pairs, &split.test.pairs).unwrap();

        let all = interactions(
            &[
                simple("a", "u1", "i1", "view", "2024-05-01T10:00:00Z"),
                simple("b", "u1", "i3", "view", "2024-05-01T10:00:00Z"),
            ],
            &Weights::default(),
        );
        let err = check_disjoint(&split.train.pairs, &all.pairs)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid input: train and test share 1 (user, item) pairs"),
            "{err}"
        );
        assert!(err.contains("(user u1, item i1)"), "{err}");
    }
}
