//! The typed event model and its JSON form (see the [module docs](super) for the shape).

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::amount::{Currency, parse_amount, parse_amount_in};
use crate::error::{Error, Result};

/// One behaviour event: who did what, when, in which session.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event's id, unique within its source (used to drop duplicates).
    pub id: String,
    /// When it happened, with the UTC offset of the device or shop that recorded it.
    pub timestamp: DateTime<FixedOffset>,
    /// The signed-in user, or `None` for an anonymous session (GA4 sets `user_id` only for
    /// signed-in users). Anonymous events are kept but never train a user's preferences.
    pub user_id: Option<String>,
    /// The session (or visit, or invoice) the event belongs to.
    pub session_id: String,
    /// What happened, with its parameters.
    pub kind: EventKind,
}

/// What happened: the GA4 e-commerce event names, plus `payment`, `gift` and `review`.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// `view_item`: a product page was seen.
    ViewItem(ItemsParams),
    /// `select_item`: a product was clicked in a list.
    SelectItem(ItemsParams),
    /// `search`: a search was run.
    Search(SearchParams),
    /// `add_to_cart`.
    AddToCart(ItemsParams),
    /// `remove_from_cart`.
    RemoveFromCart(ItemsParams),
    /// `begin_checkout`.
    BeginCheckout(ItemsParams),
    /// `purchase`: a completed order.
    Purchase(PurchaseParams),
    /// `payment`: money paid, in integer minor units.
    Payment(PaymentParams),
    /// `refund`: an order, or some of its items, given back.
    Refund(RefundParams),
    /// `share`: an item sent to someone, whose identity is anonymised.
    Share(ShareParams),
    /// `gift`: an item given or transferred to someone, whose identity is anonymised.
    Gift(GiftParams),
    /// `review`: a written review with a star rating.
    Review(ReviewParams),
}

/// A product line in an event's `items`, with GA4's parameter names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The product's id (SKU).
    pub item_id: String,
    /// The product's name.
    pub item_name: Option<String>,
    /// The product's category.
    pub item_category: Option<String>,
    /// The unit price in minor units of the event's currency, when known and readable.
    pub price: Option<i64>,
    /// Why a given price could not be read (then `price` is `None`).
    pub price_issue: Option<AmountIssue>,
    /// How many units; at least 1 (refunds count units given back, also positive).
    pub quantity: u32,
}

impl Item {
    /// An item with only its id and a quantity of 1.
    pub fn new(item_id: impl Into<String>) -> Item {
        Item {
            item_id: item_id.into(),
            item_name: None,
            item_category: None,
            price: None,
            price_issue: None,
            quantity: 1,
        }
    }
}

/// An amount that was given but could not be read: the raw text and the reason. The event is
/// kept with the amount unset, so that nothing is dropped or zeroed silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountIssue {
    /// The text as given.
    pub raw: String,
    /// Why it could not be read.
    pub reason: String,
}

/// Parameters of the events about a list of items (`view_item`, `select_item`, `add_to_cart`,
/// `remove_from_cart`, `begin_checkout`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemsParams {
    /// The currency of the item prices.
    pub currency: Option<Currency>,
    /// The items, at least one.
    pub items: Vec<Item>,
}

/// Parameters of `search`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParams {
    /// The text searched for.
    pub search_term: String,
}

/// Parameters of `purchase`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseParams {
    /// The order's id.
    pub transaction_id: String,
    /// The currency of the item prices.
    pub currency: Currency,
    /// The items bought, at least one.
    pub items: Vec<Item>,
}

/// Parameters of `payment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentParams {
    /// The order paid for, if known.
    pub transaction_id: Option<String>,
    /// The amount in minor units, when readable.
    pub amount: Option<i64>,
    /// Why a given amount could not be read (then `amount` is `None`).
    pub amount_issue: Option<AmountIssue>,
    /// The currency.
    pub currency: Currency,
    /// How it was paid (`card`, `paypal`, ...).
    pub method: String,
}

/// Parameters of `refund`: items, an amount, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundParams {
    /// The order refunded.
    pub transaction_id: String,
    /// The currency of the amount and prices.
    pub currency: Option<Currency>,
    /// The items given back (quantities positive); empty for an amount-only refund.
    pub items: Vec<Item>,
    /// The amount refunded in minor units, positive, when given and readable.
    pub amount: Option<i64>,
    /// Why a given amount could not be read (then `amount` is `None`).
    pub amount_issue: Option<AmountIssue>,
}

/// Parameters of `share`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareParams {
    /// The item shared.
    pub item_id: String,
    /// Who it was shared with, anonymised.
    pub recipient: Recipient,
    /// How (`email`, `link`, ...).
    pub method: Option<String>,
}

/// Parameters of `gift` (a gift or a transfer of an item to someone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftParams {
    /// The item given.
    pub item_id: String,
    /// Who received it, anonymised.
    pub recipient: Recipient,
}

/// Parameters of `review`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewParams {
    /// The item reviewed.
    pub item_id: String,
    /// The review's text.
    pub text: String,
    /// The stars given.
    pub rating: Rating,
}

/// The anonymised recipient of a share or gift: an opaque id, never an address or a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Recipient(String);

impl Recipient {
    /// Anonymises a raw recipient (e-mail address, phone number, user name) as `r_` and 32 hex
    /// digits of SHA-256 over `salt`, a zero byte and the trimmed, lowercased recipient. The
    /// same recipient and salt always give the same id; keep the salt on the device, so that the
    /// id cannot be reversed by hashing guessed addresses.
    pub fn anonymise(raw: &str, salt: &str) -> Recipient {
        let mut hasher = Sha256::new();
        hasher.update(salt.as_bytes());
        hasher.update([0]);
        hasher.update(raw.trim().to_lowercase().as_bytes());
        let digest = hasher.finalize();
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Recipient(format!("r_{hex}"))
    }

    /// Takes an id that is already opaque. Refuses what looks like a raw recipient: an e-mail
    /// address (has `@`), a phone number (seven or more digits and only `+-(). ` besides), text
    /// with spaces, or anything empty or over 128 characters.
    pub fn from_opaque(id: &str) -> Result<Recipient> {
        let digits = id.chars().filter(char::is_ascii_digit).count();
        let phone_like = digits >= 7
            && id
                .chars()
                .all(|c| c.is_ascii_digit() || "+-(). ".contains(c));
        let why = if id.is_empty() || id.chars().count() > 128 {
            "is not an id of 1 to 128 characters"
        } else if id.contains('@') {
            "looks like a raw e-mail address"
        } else if phone_like {
            "looks like a raw phone number"
        } else if id.chars().any(char::is_whitespace) {
            "has white space, so it may be a raw name"
        } else {
            return Ok(Recipient(id.to_owned()));
        };
        Err(Error::Input(format!(
            "recipient {id:?} {why}; store an opaque id made with Recipient::anonymise"
        )))
    }

    /// The opaque id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A review's stars, 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rating(u8);

impl Rating {
    /// Checks that `stars` is 1 to 5.
    pub fn new(stars: u8) -> Result<Rating> {
        if (1..=5).contains(&stars) {
            Ok(Rating(stars))
        } else {
            Err(Error::Input(format!("rating {stars} is not 1 to 5 stars")))
        }
    }

    /// The stars, 1 to 5.
    pub fn stars(self) -> u8 {
        self.0
    }
}

impl EventKind {
    /// The event's name as in JSON (`"view_item"`, `"purchase"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::ViewItem(_) => "view_item",
            EventKind::SelectItem(_) => "select_item",
            EventKind::Search(_) => "search",
            EventKind::AddToCart(_) => "add_to_cart",
            EventKind::RemoveFromCart(_) => "remove_from_cart",
            EventKind::BeginCheckout(_) => "begin_checkout",
            EventKind::Purchase(_) => "purchase",
            EventKind::Payment(_) => "payment",
            EventKind::Refund(_) => "refund",
            EventKind::Share(_) => "share",
            EventKind::Gift(_) => "gift",
            EventKind::Review(_) => "review",
        }
    }

    /// The item lines of the event (empty for events about no item list).
    pub fn items(&self) -> &[Item] {
        match self {
            EventKind::ViewItem(p)
            | EventKind::SelectItem(p)
            | EventKind::AddToCart(p)
            | EventKind::RemoveFromCart(p)
            | EventKind::BeginCheckout(p) => &p.items,
            EventKind::Purchase(p) => &p.items,
            EventKind::Refund(p) => &p.items,
            _ => &[],
        }
    }

    /// The item lines, mutable.
    pub fn items_mut(&mut self) -> Option<&mut Vec<Item>> {
        match self {
            EventKind::ViewItem(p)
            | EventKind::SelectItem(p)
            | EventKind::AddToCart(p)
            | EventKind::RemoveFromCart(p)
            | EventKind::BeginCheckout(p) => Some(&mut p.items),
            EventKind::Purchase(p) => Some(&mut p.items),
            EventKind::Refund(p) => Some(&mut p.items),
            _ => None,
        }
    }

    /// The ids of every item the event is about, in order (one per item line, or the single
    /// `item_id` of `share`, `gift` and `review`).
    pub fn item_ids(&self) -> Vec<&str> {
        match self {
            EventKind::Share(p) => vec![p.item_id.as_str()],
            EventKind::Gift(p) => vec![p.item_id.as_str()],
            EventKind::Review(p) => vec![p.item_id.as_str()],
            other => other.items().iter().map(|i| i.item_id.as_str()).collect(),
        }
    }
}

impl Event {
    /// Every amount of the event that could not be read.
    pub fn amount_issues(&self) -> Vec<&AmountIssue> {
        let mut issues: Vec<&AmountIssue> = self
            .kind
            .items()
            .iter()
            .filter_map(|i| i.price_issue.as_ref())
            .collect();
        match &self.kind {
            EventKind::Payment(p) => issues.extend(p.amount_issue.as_ref()),
            EventKind::Refund(p) => issues.extend(p.amount_issue.as_ref()),
            _ => {}
        }
        issues
    }

    /// Reads one event from JSON text. Errors name the field: `field params.currency: ...`.
    pub fn from_json(text: &str) -> Result<Event> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::Input(format!("not a JSON event: {e}")))?;
        Event::from_json_value(&value)
    }

    /// Reads one event from a parsed JSON value.
    pub fn from_json_value(value: &Value) -> Result<Event> {
        read_event(value).map_err(|e| Error::Input(e.to_string()))
    }

    /// The event as JSON text on one line.
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    /// The event as a JSON value.
    pub fn to_json_value(&self) -> Value {
        let mut event = Map::new();
        event.insert("id".into(), json!(self.id));
        event.insert("event".into(), json!(self.kind.name()));
        let time = self.timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, false);
        event.insert("timestamp".into(), json!(time));
        if let Some(user) = &self.user_id {
            event.insert("user_id".into(), json!(user));
        }
        event.insert("session_id".into(), json!(self.session_id));
        event.insert("params".into(), Value::Object(write_params(&self.kind)));
        Value::Object(event)
    }
}

impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json_value().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
        let value = Value::deserialize(deserializer)?;
        read_event(&value).map_err(serde::de::Error::custom)
    }
}

/// What [`read_json_lines`] found: the valid events and one error per bad line.
#[derive(Debug, Default)]
pub struct JsonLinesImport {
    /// The events of the good lines, in file order.
    pub events: Vec<Event>,
    /// One [`Error::Data`] per bad line, naming the file, line and field.
    pub errors: Vec<Error>,
}

/// Reads JSON Lines (one event per line; blank lines skipped), keeping every valid event and
/// collecting an error per bad line, so that one bad line does not lose the others. `file` names
/// the source in the errors: `events.jsonl, line 3: field params.currency: ...`.
pub fn read_json_lines(file: &str, text: &str) -> JsonLinesImport {
    let mut import = JsonLinesImport::default();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let place = format!("line {}", index + 1);
        let parsed = serde_json::from_str::<Value>(line)
            .map_err(|e| format!("not a JSON object: {e}"))
            .and_then(|value| read_event(&value).map_err(|e| e.to_string()));
        match parsed {
            Ok(event) => import.events.push(event),
            Err(message) => import.errors.push(Error::Data {
                file: file.to_owned(),
                place,
                message,
            }),
        }
    }
    import
}

/// Like [`read_json_lines`], but fails on the first bad line.
pub fn read_json_lines_strict(file: &str, text: &str) -> Result<Vec<Event>> {
    let import = read_json_lines(file, text);
    match import.errors.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(import.events),
    }
}

/// Writes events as JSON Lines, one per line, each line ending in `\n`.
pub fn write_json_lines(events: &[Event]) -> String {
    let mut text = String::new();
    for event in events {
        text.push_str(&event.to_json());
        text.push('\n');
    }
    text
}

/// A bad field: its path (`params.items[0].price`) and what is wrong.
#[derive(Debug)]
struct FieldError {
    field: String,
    message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field {}: {}", self.field, self.message)
    }
}

type Field<T> = std::result::Result<T, FieldError>;

/// A JSON object being read, with the path of its fields.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn new(value: &'a Value, path: &str) -> Field<Obj<'a>> {
        match value {
            Value::Object(map) => Ok(Obj {
                map,
                path: path.to_owned(),
            }),
            other => Err(FieldError {
                field: if path.is_empty() {
                    "(event)".into()
                } else {
                    path.into()
                },
                message: format!("expected a JSON object, found {}", kind_of(other)),
            }),
        }
    }

    fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn err<T>(&self, key: &str, message: impl Into<String>) -> Field<T> {
        Err(FieldError {
            field: self.name(key),
            message: message.into(),
        })
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn only(&self, allowed: &[&str]) -> Field<()> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(key) => self.err(
                key,
                format!("is not a known field here; expected one of {allowed:?}"),
            ),
            None => Ok(()),
        }
    }

    fn opt_str(&self, key: &str) -> Field<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => self.err(key, "is empty"),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => self.err(key, format!("expected a string, found {}", kind_of(other))),
        }
    }

    fn str(&self, key: &str) -> Field<String> {
        match self.opt_str(key)? {
            Some(s) => Ok(s),
            None => self.err(key, "is missing"),
        }
    }

    fn currency(&self, key: &str) -> Field<Option<Currency>> {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(code) => Currency::new(&code).map(Some).or_else(|_| {
                self.err(
                    key,
                    format!("{code:?} is not an ISO 4217 code (three capital letters)"),
                )
            }),
        }
    }

    fn integer(&self, key: &str, min: i64, max: i64) -> Field<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(v) if (min..=max).contains(&v) => Ok(Some(v)),
                _ => self.err(
                    key,
                    format!("{n} is not a whole number from {min} to {max}"),
                ),
            },
            Some(other) => self.err(key, format!("expected a number, found {}", kind_of(other))),
        }
    }

    /// An amount in minor units: an integer, a locale-formatted string, or a JSON decimal
    /// (read from its shortest decimal text, never through float arithmetic). Text that cannot
    /// be read gives an issue, not an error; `issue_key` restores an exported issue.
    fn amount(
        &self,
        key: &str,
        issue_key: &str,
        locale: Option<&str>,
        currency: Option<Currency>,
    ) -> Field<(Option<i64>, Option<AmountIssue>)> {
        let text = match self.get(key) {
            None => return Ok((None, self.issue(issue_key)?)),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(v) => return Ok((Some(v), None)),
                None => n.to_string(),
            },
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                let found = kind_of(other);
                return self.err(key, format!("expected a number or text, found {found}"));
            }
        };
        let parsed = match currency {
            Some(currency) => parse_amount_in(&text, locale, currency),
            None => parse_amount(&text, locale),
        };
        Ok(match parsed {
            Ok(amount) => (Some(amount.minor_units), None),
            Err(e) => {
                let reason = e.to_string();
                let reason = reason.strip_prefix("invalid input: ").unwrap_or(&reason);
                let issue = AmountIssue {
                    raw: text,
                    reason: reason.to_owned(),
                };
                (None, Some(issue))
            }
        })
    }

    fn issue(&self, key: &str) -> Field<Option<AmountIssue>> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let obj = Obj::new(value, &self.name(key))?;
        obj.only(&["raw", "reason"])?;
        Ok(Some(AmountIssue {
            raw: obj.str("raw")?,
            reason: obj.str("reason")?,
        }))
    }

    fn items(
        &self,
        required: bool,
        locale: Option<&str>,
        currency: Option<Currency>,
    ) -> Field<Vec<Item>> {
        let list = match self.get("items") {
            None if required => return self.err("items", "is missing"),
            None => return Ok(Vec::new()),
            Some(Value::Array(list)) => list,
            Some(other) => {
                return self.err(
                    "items",
                    format!("expected a list, found {}", kind_of(other)),
                );
            }
        };
        if required && list.is_empty() {
            return self.err("items", "is empty; give at least one item");
        }
        let mut items = Vec::with_capacity(list.len());
        for (i, value) in list.iter().enumerate() {
            let obj = Obj::new(value, &format!("{}[{i}]", self.name("items")))?;
            obj.only(&[
                "item_id",
                "item_name",
                "item_category",
                "price",
                "price_issue",
                "quantity",
            ])?;
            let (price, price_issue) = obj.amount("price", "price_issue", locale, currency)?;
            let quantity = obj
                .integer("quantity", 1, i64::from(u32::MAX))?
                .unwrap_or(1);
            items.push(Item {
                item_id: obj.str("item_id")?,
                item_name: obj.opt_str("item_name")?,
                item_category: obj.opt_str("item_category")?,
                price,
                price_issue,
                quantity: u32::try_from(quantity).unwrap_or(u32::MAX),
            });
        }
        Ok(items)
    }

    fn recipient(&self) -> Field<Recipient> {
        let id = self.str("recipient")?;
        Recipient::from_opaque(&id).or_else(|e| {
            let message = e.to_string();
            let message = message.strip_prefix("invalid input: ").unwrap_or(&message);
            self.err("recipient", message)
        })
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn read_event(value: &Value) -> Field<Event> {
    let top = Obj::new(value, "")?;
    top.only(&[
        "id",
        "event",
        "timestamp",
        "user_id",
        "session_id",
        "params",
    ])?;
    let id = top.str("id")?;
    let name = top.str("event")?;
    let time = top.str("timestamp")?;
    let timestamp = DateTime::parse_from_rfc3339(&time).or_else(|_| {
        top.err(
            "timestamp",
            format!(
                "{time:?} is not an RFC 3339 time with a UTC offset \
                 (such as 2024-05-01T10:00:00+02:00)"
            ),
        )
    })?;
    let user_id = top.opt_str("user_id")?;
    let session_id = top.str("session_id")?;
    let empty = Value::Object(Map::new());
    let params = Obj::new(top.get("params").unwrap_or(&empty), "params")?;
    let kind = read_params(&name, &params).or_else(|e| match e {
        None => top.err(
            "event",
            format!(
                "{name:?} is not a known event; expected one of view_item, select_item, \
                 search, add_to_cart, remove_from_cart, begin_checkout, purchase, payment, \
                 refund, share, gift, review"
            ),
        ),
        Some(e) => Err(e),
    })?;
    Ok(Event {
        id,
        timestamp,
        user_id,
        session_id,
        kind,
    })
}

/// The parameters of event `name`; `Err(None)` for an unknown name.
fn read_params(name: &str, p: &Obj<'_>) -> std::result::Result<EventKind, Option<FieldError>> {
    let items_params = || -> Field<ItemsParams> {
        p.only(&["currency", "items", "locale"])?;
        let locale = p.opt_str("locale")?;
        let currency = p.currency("currency")?;
        Ok(ItemsParams {
            currency,
            items: p.items(true, locale.as_deref(), currency)?,
        })
    };
    let kind = match name {
        "view_item" => items_params().map(EventKind::ViewItem),
        "select_item" => items_params().map(EventKind::SelectItem),
        "add_to_cart" => items_params().map(EventKind::AddToCart),
        "remove_from_cart" => items_params().map(EventKind::RemoveFromCart),
        "begin_checkout" => items_params().map(EventKind::BeginCheckout),
        "search" => read_search(p),
        "purchase" => read_purchase(p),
        "payment" => read_payment(p),
        "refund" => read_refund(p),
        "share" => read_share(p),
        "gift" => read_gift(p),
        "review" => read_review(p),
        _ => return Err(None),
    };
    kind.map_err(Some)
}

fn read_search(p: &Obj<'_>) -> Field<EventKind> {
    p.only(&["search_term"])?;
    Ok(EventKind::Search(SearchParams {
        search_term: p.str("search_term")?,
    }))
}

fn read_purchase(p: &Obj<'_>) -> Field<EventKind> {
    p.only(&["transaction_id", "currency", "items", "locale"])?;
    let locale = p.opt_str("locale")?;
    let Some(currency) = p.currency("currency")? else {
        return p.err("currency", "is missing");
    };
    Ok(EventKind::Purchase(PurchaseParams {
        transaction_id: p.str("transaction_id")?,
        currency,
        items: p.items(true, locale.as_deref(), Some(currency))?,
    }))
}

fn read_payment(p: &Obj<'_>) -> Field<EventKind> {
    p.only(&[
        "transaction_id",
        "amount",
        "amount_issue",
        "currency",
        "method",
        "locale",
    ])?;
    let locale = p.opt_str("locale")?;
    let Some(currency) = p.currency("currency")? else {
        return p.err("currency", "is missing");
    };
    let (amount, amount_issue) =
        p.amount("amount", "amount_issue", locale.as_deref(), Some(currency))?;
    if amount.is_none() && amount_issue.is_none() {
        return p.err("amount", "is missing");
    }
    Ok(EventKind::Payment(PaymentParams {
        transaction_id: p.opt_str("transaction_id")?,
        amount,
        amount_issue,
        currency,
        method: p.str("method")?,
    }))
}

fn read_refund(p: &Obj<'_>) -> Field<EventKind> {
    p.only(&[
        "transaction_id",
        "currency",
        "items",
        "amount",
        "amount_issue",
        "locale",
    ])?;
    let locale = p.opt_str("locale")?;
    let currency = p.currency("currency")?;
    let (amount, amount_issue) = p.amount("amount", "amount_issue", locale.as_deref(), currency)?;
    if amount.is_some() && currency.is_none() {
        return p.err("currency", "is missing; an amount needs its currency");
    }
    if amount.is_some_and(|a| a < 0) {
        return p.err(
            "amount",
            "is negative; a refund amount is the positive sum given back",
        );
    }
    let items = p.items(false, locale.as_deref(), currency)?;
    if items.is_empty() && amount.is_none() && amount_issue.is_none() {
        return p.err(
            "items",
            "is missing; a refund needs items, an amount, or both",
        );
    }
    Ok(EventKind::Refund(RefundParams {
        transaction_id: p.str("transaction_id")?,
        currency,
        items,
        amount,
        amount_issue,
    }))
}

fn read_share(p: &Obj<'_>) -> Field<EventKind> {
    p.only(&["item_id", "recipient", "method"])?;
    Ok(EventKind::Share(ShareParams {
        item_id: p.str("item_id")?,
        recipient: p.recipient()?,
        method: p.opt_str("method")?,
    }))
}

fn read_gift(p: &Obj<'_>) -> Field<EventKind> {
    p.only(&["item_id", "recipient"])?;
    Ok(EventKind::Gift(GiftParams {
        item_id: p.str("item_id")?,
        recipient: p.recipient()?,
    }))
}

fn read_review(p: &Obj<'_>) -> Field<EventKind> {
    p.only(&["item_id", "text", "rating"])?;
    let Some(stars) = p.integer("rating", 1, 5)? else {
        return p.err("rating", "is missing");
    };
    let rating = Rating(u8::try_from(stars).unwrap_or(1));
    Ok(EventKind::Review(ReviewParams {
        item_id: p.str("item_id")?,
        text: p.str("text")?,
        rating,
    }))
}

fn write_items(items: &[Item]) -> Value {
    let list = items
        .iter()
        .map(|item| {
            let mut m = Map::new();
            m.insert("item_id".into(), json!(item.item_id));
            put(
                &mut m,
                "item_name",
                item.item_name.as_ref().map(|s| json!(s)),
            );
            put(
                &mut m,
                "item_category",
                item.item_category.as_ref().map(|s| json!(s)),
            );
            put(&mut m, "price", item.price.map(|p| json!(p)));
            put(
                &mut m,
                "price_issue",
                item.price_issue.as_ref().map(write_issue),
            );
            m.insert("quantity".into(), json!(item.quantity));
            Value::Object(m)
        })
        .collect();
    Value::Array(list)
}

fn write_issue(issue: &AmountIssue) -> Value {
    json!({"raw": issue.raw, "reason": issue.reason})
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.into(), value);
    }
}

fn write_params(kind: &EventKind) -> Map<String, Value> {
    let mut m = Map::new();
    match kind {
        EventKind::ViewItem(p)
        | EventKind::SelectItem(p)
        | EventKind::AddToCart(p)
        | EventKind::RemoveFromCart(p)
        | EventKind::BeginCheckout(p) => {
            put(&mut m, "currency", p.currency.map(|c| json!(c.as_str())));
            m.insert("items".into(), write_items(&p.items));
        }
        EventKind::Search(p) => {
            m.insert("search_term".into(), json!(p.search_term));
        }
        EventKind::Purchase(p) => {
            m.insert("transaction_id".into(), json!(p.transaction_id));
            m.insert("currency".into(), json!(p.currency.as_str()));
            m.insert("items".into(), write_items(&p.items));
        }
        EventKind::Payment(p) => {
            put(
                &mut m,
                "transaction_id",
                p.transaction_id.as_ref().map(|s| json!(s)),
            );
            put(&mut m, "amount", p.amount.map(|a| json!(a)));
            put(
                &mut m,
                "amount_issue",
                p.amount_issue.as_ref().map(write_issue),
            );
            m.insert("currency".into(), json!(p.currency.as_str()));
            m.insert("method".into(), json!(p.method));
        }
        EventKind::Refund(p) => {
            m.insert("transaction_id".into(), json!(p.transaction_id));
            put(&mut m, "currency", p.currency.map(|c| json!(c.as_str())));
            if !p.items.is_empty() {
                m.insert("items".into(), write_items(&p.items));
            }
            put(&mut m, "amount", p.amount.map(|a| json!(a)));
            put(
                &mut m,
                "amount_issue",
                p.amount_issue.as_ref().map(write_issue),
            );
        }
        EventKind::Share(p) => {
            m.insert("item_id".into(), json!(p.item_id));
            m.insert("recipient".into(), json!(p.recipient.as_str()));
            put(&mut m, "method", p.method.as_ref().map(|s| json!(s)));
        }
        EventKind::Gift(p) => {
            m.insert("item_id".into(), json!(p.item_id));
            m.insert("recipient".into(), json!(p.recipient.as_str()));
        }
        EventKind::Review(p) => {
            m.insert("item_id".into(), json!(p.item_id));
            m.insert("text".into(), json!(p.text));
            m.insert("rating".into(), json!(p.rating.stars()));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("testdata/events_sample.jsonl");

    fn time(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn reads_a_purchase() {
        let text = r#"{"id":"e1","event":"purchase","timestamp":"2024-05-01T10:00:00+02:00",
            "user_id":"u1","session_id":"s1","params":{"transaction_id":"T1","currency":"EUR",
            "items":[{"item_id":"sku1","item_name":"Mug","price":1299,"quantity":2,
            "item_category":"Kitchen"}]}}"#;
        let event = Event::from_json(text).unwrap();
        assert_eq!(event.timestamp.offset().local_minus_utc(), 7200);
        assert_eq!(event.user_id.as_deref(), Some("u1"));
        let EventKind::Purchase(p) = &event.kind else {
            panic!("not a purchase: {event:?}");
        };
        assert_eq!(p.currency, Currency::EUR);
        assert_eq!(p.items[0].price, Some(1299));
        assert_eq!(p.items[0].quantity, 2);
        assert_eq!(event.kind.item_ids(), ["sku1"]);
    }

    #[test]
    fn sample_round_trips() {
        let events = read_json_lines_strict("events_sample.jsonl", SAMPLE).unwrap();
        assert_eq!(events.len(), 12);
        let names: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
        assert_eq!(
            names,
            [
                "view_item",
                "select_item",
                "search",
                "add_to_cart",
                "remove_from_cart",
                "begin_checkout",
                "purchase",
                "payment",
                "refund",
                "share",
                "gift",
                "review"
            ]
        );
        let text = write_json_lines(&events);
        let again = read_json_lines_strict("export.jsonl", &text).unwrap();
        assert_eq!(events, again);
        // The export is stable: writing again gives the same bytes.
        assert_eq!(write_json_lines(&again), text);
        // serde goes through the same form.
        let via_serde: Vec<Event> =
            serde_json::from_str(&serde_json::to_string(&events).unwrap()).unwrap();
        assert_eq!(via_serde, events);
    }

    #[test]
    fn formatted_amounts_are_read_and_bad_ones_flagged() {
        let events = read_json_lines_strict("events_sample.jsonl", SAMPLE).unwrap();
        let EventKind::Payment(p) = &events[7].kind else {
            panic!("line 8 is not a payment");
        };
        assert_eq!((p.amount, p.currency), (Some(129_900), Currency::EUR));
        let EventKind::Refund(r) = &events[8].kind else {
            panic!("line 9 is not a refund");
        };
        assert_eq!(r.amount, None);
        let issue = r.amount_issue.as_ref().unwrap();
        assert_eq!(issue.raw, "1,299");
        assert!(issue.reason.contains("give the locale"), "{}", issue.reason);
        assert_eq!(events[8].amount_issues().len(), 1);
        // A JSON decimal is read from its decimal text: 12.99 is 1299 exactly.
        let EventKind::AddToCart(a) = &events[3].kind else {
            panic!("line 4 is not add_to_cart");
        };
        assert_eq!(a.items[0].price, Some(1299));
    }

    #[test]
    fn bad_lines_are_reported_and_good_ones_kept() {
        let line = |id: &str, event: &str, time: &str, params: &str| {
            format!(r#"{{"id":"{id}","event":"{event}","timestamp":"{time}","session_id":"s","#)
                + &format!(r#""params":{params}}}"#)
        };
        let t = "2024-05-01T10:00:00Z";
        let lines = [
            line("e1", "search", t, r#"{"search_term":"mug"}"#),
            String::new(),
            line(
                "e2",
                "payment",
                t,
                r#"{"amount":100,"currency":"eur","method":"card"}"#,
            ),
            line(
                "e3",
                "review",
                t,
                r#"{"item_id":"i","text":"ok","rating":6}"#,
            ),
            line(
                "e4",
                "view_item",
                "2024-05-01 10:00",
                r#"{"items":[{"item_id":"i"}]}"#,
            ),
            line(
                "e5",
                "share",
                t,
                r#"{"item_id":"i","recipient":"bob@example.com"}"#,
            ),
            line(
                "e6",
                "view_item",
                t,
                r#"{"items":[{"item_id":"i","quantity":0}]}"#,
            ),
            line("e7", "like", t, "{}"),
            line("e8", "search", t, r#"{"search_term":"x","colour":"red"}"#),
            "not json".to_owned(),
            line(
                "e9",
                "view_item",
                "2024-05-01T10:00:00+01:00",
                r#"{"items":[{"item_id":"i"}]}"#,
            ),
        ];
        let text = &(lines.join("\n") + "\n");
        let import = read_json_lines("events.jsonl", text);
        let ids: Vec<&str> = import.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["e1", "e9"]);
        let errors: Vec<String> = import.errors.iter().map(ToString::to_string).collect();
        let expected = [
            "events.jsonl, line 3: field params.currency: \"eur\" is not an ISO 4217 code \
             (three capital letters)",
            "events.jsonl, line 4: field params.rating: 6 is not a whole number from 1 to 5",
            "events.jsonl, line 5: field timestamp: \"2024-05-01 10:00\" is not an RFC 3339 time",
            "events.jsonl, line 6: field params.recipient: recipient \"bob@example.com\" looks \
             like a raw e-mail address",
            "events.jsonl, line 7: field params.items[0].quantity: 0 is not a whole number",
            "events.jsonl, line 8: field event: \"like\" is not a known event",
            "events.jsonl, line 9: field params.colour: is not a known field here",
            "events.jsonl, line 10: not a JSON object",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
        for (error, expected) in errors.iter().zip(expected) {
            assert!(error.starts_with(expected), "{error}\nexpected {expected}");
        }
        let strict = read_json_lines_strict("events.jsonl", text)
            .unwrap_err()
            .to_string();
        assert!(strict.starts_with("events.jsonl, line 3: "), "{strict}");
    }

    #[test]
    fn recipients_are_anonymised() {
        let a = Recipient::anonymise(" Bob@Example.com", "salt");
        let b = Recipient::anonymise("bob@example.com", "salt");
        let c = Recipient::anonymise("bob@example.com", "other salt");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.as_str().starts_with("r_") && a.as_str().len() == 34);
        assert!(!a.as_str().contains("bob"));
        assert_eq!(Recipient::from_opaque(a.as_str()).unwrap(), a);
        assert!(Recipient::from_opaque("+44 20 7946 0958").is_err());
        assert!(Recipient::from_opaque("Bob Smith").is_err());
        assert!(Recipient::from_opaque("").is_err());
    }

    #[test]
    fn ratings_and_anonymous_users() {
        assert!(Rating::new(0).is_err());
        assert_eq!(Rating::new(5).unwrap().stars(), 5);
        let text = r#"{"id":"e","event":"view_item","timestamp":"2024-05-01T10:00:00Z",
            "user_id":null,"session_id":"s","params":{"items":[{"item_id":"i"}]}}"#;
        let event = Event::from_json(text).unwrap();
        assert_eq!(event.user_id, None);
        assert_eq!(event.timestamp, time("2024-05-01T12:00:00+02:00"));
        assert!(!event.to_json().contains("user_id"));
        let err = Event::from_json("[1]").unwrap_err().to_string();
        assert!(
            err.contains("expected a JSON object, found a list"),
            "{err}"
        );
    }
}
