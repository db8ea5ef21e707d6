//! Behaviour events: the typed model, its JSON form, money amounts, the UCI Online Retail
//! importer, and the cleaning that turns events into user–item interactions.
//!
//! - [`event`]: [`Event`] and its [`EventKind`]s, named and shaped after GA4's e-commerce events;
//!   JSON and JSON Lines import and export.
//! - [`amount`]: [`Currency`] codes and [`parse_amount`], locale-formatted text to integer minor
//!   units, never through floating point.
//! - [`online_retail`]: [`read_online_retail`], the UCI Online Retail CSV as events.
//! - [`cdnow`]: [`read_cdnow`], the CDNOW purchase log (lifetimes' `CDNOW_master.txt`), and
//!   [`purchase_days`], each customer's purchases counted by day.
//! - [`features`]: [`shopper_features`], each shopper's recency, frequency, spend, basket,
//!   category mix and shopping hours, for profiles.
//! - [`cleaning`]: duplicates, refunds, outlier caps, time buckets, z-scores, the
//!   [`interactions`] matrix and a leak-free [`temporal_split`].
//!
//! # JSON form (stable)
//!
//! One event is a JSON object with the event name in `event` and its parameters in `params`,
//! as GA4 sends them:
//!
//! ```json
//! {"id":"e1","event":"purchase","timestamp":"2024-05-01T10:00:00+02:00","user_id":"u1",
//!  "session_id":"s1","params":{"transaction_id":"T1","currency":"EUR","items":[
//!  {"item_id":"sku1","item_name":"Mug","item_category":"Kitchen","price":1299,"quantity":1}]}}
//! ```
//!
//! - `id`, `event`, `timestamp` (RFC 3339 with a UTC offset, `Z` allowed) and `session_id` are
//!   required. `user_id` is absent or `null` for an anonymous session.
//! - `params` by event:
//!   - `view_item`, `select_item`, `add_to_cart`, `remove_from_cart`, `begin_checkout`:
//!     `items` (at least one), `currency`.
//!   - `search`: `search_term`.
//!   - `purchase`: `transaction_id`, `currency`, `items` (at least one).
//!   - `payment`: `amount`, `currency`, `method`, `transaction_id`.
//!   - `refund`: `transaction_id`, `items` and/or `amount` (positive), `currency` (needed with
//!     an amount).
//!   - `share`: `item_id`, `recipient`, `method`. `gift` (a gift or transfer): `item_id`,
//!     `recipient`. The recipient is an opaque id (see [`Recipient::anonymise`]); an e-mail
//!     address or phone number is refused.
//!   - `review`: `item_id`, `text`, `rating` (1 to 5).
//! - An item has `item_id` and optionally `item_name`, `item_category`, `price` and `quantity`
//!   (a whole number from 1; default 1).
//! - `currency` is an ISO 4217 code, three capital letters.
//! - Amounts (`price`, `amount`) are written as integers in minor units of the currency (1299 is
//!   12.99 EUR). On import they may also be locale-formatted text (`"1.299,00 €"`, read with the
//!   optional `params.locale`, such as `"de-DE"`) or a JSON decimal (`12.99`, read from its
//!   decimal text). Text that cannot be read keeps the event: the amount is unset and
//!   `price_issue`/`amount_issue` holds `{"raw": ..., "reason": ...}`, which export writes back.
//! - Unknown fields are refused, so that a misspelt field is an error rather than lost data.
//!   `null` counts as absent.
//!
//! Errors of JSON Lines import name the file, the line and the field:
//! `events.jsonl, line 3: field params.currency: "eur" is not an ISO 4217 code (three capital
//! letters)`.

pub mod amount;
pub mod cdnow;
pub mod cleaning;
pub mod event;
pub mod features;
pub mod online_retail;

pub use amount::{Amount, Currency, NumberFormat, minor_digits, parse_amount, parse_amount_in};
pub use cdnow::{CdnowPurchase, CustomerDays, parse_cdnow, purchase_days, read_cdnow};
pub use cleaning::{
    CleaningConfig, CleaningReport, Interaction, InteractionReport, Interactions, Split,
    TimeBucket, Weights, bucket, check_disjoint, clean, interactions, remove_duplicates,
    robust_cap, temporal_split, time_zone,
};
pub use event::{
    AmountIssue, Event, EventKind, GiftParams, Item, ItemsParams, JsonLinesImport, PaymentParams,
    PurchaseParams, Rating, Recipient, RefundParams, ReviewParams, SearchParams, ShareParams,
    read_json_lines, read_json_lines_strict, write_json_lines,
};
pub use features::{
    CategoryColumns, OTHER_CATEGORY, ShopperFeatures, feature_label, feature_names,
    shopper_features, shopper_features_with,
};
pub use online_retail::{
    DropReason, OnlineRetailImport, OnlineRetailReport, Repair, read_online_retail,
};
