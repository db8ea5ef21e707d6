//! The UCI Online Retail data set (a UK gift shop's invoice lines, 2010-12 to 2011-12) as
//! [`Event`]s.
//!
//! The CSV has the header `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,
//! CustomerID,Country`. [`read_online_retail`] takes any [`std::io::Read`] (decompress first).
//!
//! # Mapping
//!
//! - One event per invoice, with one [`Item`] per kept line, in file order: a `purchase` for a
//!   sale invoice, a `refund` for a cancellation (invoice number starting with `C`, quantities
//!   negative in the file, positive in the event). Event id `inv-<InvoiceNo>`, session id and
//!   transaction id the invoice number (a cancellation does not name the invoice it cancels).
//! - `item_id` is the stock code in capitals, `item_name` the trimmed description, `price` the
//!   unit price in pence (currency GBP), `quantity` the absolute quantity.
//! - Times are UK shop time: read as Europe/London and stored with their offset, `+00:00` in
//!   winter (GMT) and `+01:00` in summer (BST). The invoice's first line gives the time and the
//!   customer.
//! - `CustomerID` `17850.0` becomes user `17850`. A line without one is kept as an anonymous
//!   session (`user_id` `None`), counted in [`OnlineRetailReport::anonymous_rows`]; the
//!   interaction builder leaves such events out of user training.
//!
//! # Dropped and repaired lines
//!
//! A line is dropped for the first of these reasons that applies, in this order (see
//! [`DropReason`]): unreadable CSV record, bad invoice number, adjustment invoice (`A...`),
//! missing stock code, not a product (postage, fees, discounts, manual entries), missing
//! description, unreadable quantity, quantity ≤ 0 on a sale, quantity ≥ 0 on a cancellation,
//! unreadable price, price not above zero (after rounding to pence), unreadable date, bad
//! customer id. Repairs are counted in [`Repair`]: a lowercase stock code, a sub-penny price
//! rounded half up to pence, a local time that the clock change made ambiguous (the earlier is
//! taken) or skipped (moved one hour on), and a line whose customer or time differs from its
//! invoice's first line.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;

use chrono::{Duration, LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Europe::London;

use super::amount::Currency;
use super::event::{Event, EventKind, Item, PurchaseParams, RefundParams};
use crate::error::{Error, Result};

const HEADER: [&str; 8] = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
];

/// Stock codes that are services or bookkeeping, not products: postage (`POST`, `DOT`, `C2`),
/// fees (`BANK CHARGES`, `AMAZONFEE`), discounts (`D`), manual entries (`M`), samples (`S`),
/// bad-debt adjustments (`B`), charity (`CRUK`) and cushion pads sold at 0.001 (`PADS`).
const NOT_PRODUCTS: [&str; 11] = [
    "POST",
    "DOT",
    "C2",
    "BANK CHARGES",
    "AMAZONFEE",
    "D",
    "M",
    "S",
    "B",
    "CRUK",
    "PADS",
];

/// Why a line was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// The CSV record could not be read (wrong number of fields, bad UTF-8).
    Unreadable,
    /// The invoice number is not digits, optionally after `C`.
    BadInvoice,
    /// An `A` invoice: a bookkeeping adjustment, not a sale.
    AdjustmentInvoice,
    /// No stock code.
    MissingStockCode,
    /// A stock code of a service or fee, not a product.
    NotAProduct,
    /// No description (in this data set, stock corrections at price 0).
    MissingDescription,
    /// The quantity is not a whole number.
    BadQuantity,
    /// A quantity of zero or less on a sale invoice (stock write-offs).
    NonPositiveQuantityOnSale,
    /// A quantity of zero or more on a cancellation.
    NonNegativeQuantityOnCancellation,
    /// The unit price is not a decimal number.
    BadPrice,
    /// The unit price, rounded to pence, is zero or negative.
    NonPositivePrice,
    /// The invoice date is not `YYYY-MM-DD HH:MM[:SS]`.
    BadDate,
    /// The customer id is neither empty nor a whole number.
    BadCustomerId,
}

impl DropReason {
    /// A short name for reports, such as `"not a product"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Unreadable => "unreadable record",
            DropReason::BadInvoice => "bad invoice number",
            DropReason::AdjustmentInvoice => "adjustment invoice",
            DropReason::MissingStockCode => "missing stock code",
            DropReason::NotAProduct => "not a product",
            DropReason::MissingDescription => "missing description",
            DropReason::BadQuantity => "bad quantity",
            DropReason::NonPositiveQuantityOnSale => "quantity <= 0 on a sale",
            DropReason::NonNegativeQuantityOnCancellation => "quantity >= 0 on a cancellation",
            DropReason::BadPrice => "bad price",
            DropReason::NonPositivePrice => "price <= 0",
            DropReason::BadDate => "bad date",
            DropReason::BadCustomerId => "bad customer id",
        }
    }
}

/// A repair made to a kept line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Repair {
    /// The stock code had lowercase letters; it was put in capitals.
    StockCodeUppercased,
    /// The price had more than two decimals; it was rounded half up to pence.
    PriceRounded,
    /// The local time occurred twice (clocks went back); the earlier was taken.
    AmbiguousLocalTime,
    /// The local time did not exist (clocks went forward); it was moved one hour on.
    SkippedLocalTime,
    /// The line's customer differs from its invoice's first line; the invoice's was kept.
    InvoiceCustomerMismatch,
    /// The line's time differs from its invoice's first line; the invoice's was kept.
    InvoiceTimeMismatch,
}

/// What [`read_online_retail`] read, kept, dropped and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnlineRetailReport {
    /// Data lines read (not counting the header).
    pub rows: usize,
    /// Lines kept as items of an event.
    pub kept_rows: usize,
    /// `purchase` events (sale invoices).
    pub purchases: usize,
    /// `refund` events (cancellation invoices).
    pub refunds: usize,
    /// Kept lines without a customer.
    pub anonymous_rows: usize,
    /// Events without a customer (anonymous sessions).
    pub anonymous_events: usize,
    /// Distinct customers among the events.
    pub customers: usize,
    /// Distinct stock codes among the kept lines.
    pub products: usize,
    /// Dropped lines by reason.
    pub dropped: BTreeMap<DropReason, usize>,
    /// Repairs by kind (a line may have several).
    pub repaired: BTreeMap<Repair, usize>,
}

impl OnlineRetailReport {
    /// All dropped lines.
    pub fn dropped_rows(&self) -> usize {
        self.dropped.values().sum()
    }
}

/// The events of an Online Retail file and the report of the import.
#[derive(Debug, Clone)]
pub struct OnlineRetailImport {
    /// One event per invoice with kept lines, in order of first appearance.
    pub events: Vec<Event>,
    /// Counts of what was kept, dropped and repaired.
    pub report: OnlineRetailReport,
}

/// One kept line, before grouping into invoices.
struct Line {
    invoice: String,
    cancellation: bool,
    item: Item,
    time: chrono::DateTime<chrono::FixedOffset>,
    customer: Option<String>,
}

/// Reads the UCI Online Retail CSV (see the [module docs](self) for the mapping). `file` names
/// the source in errors. Fails only when the header is not the data set's or reading fails;
/// bad lines are dropped and counted in the report.
pub fn read_online_retail(file: &str, reader: impl Read) -> Result<OnlineRetailImport> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let header_error = |message: String| Error::Data {
        file: file.to_owned(),
        place: "line 1".into(),
        message,
    };
    let header = csv
        .headers()
        .map_err(|e| header_error(format!("cannot read the header: {e}")))?;
    if header.iter().map(str::trim).ne(HEADER) {
        return Err(header_error(format!(
            "the header is {:?}, expected {}; is this the UCI Online Retail CSV?",
            header.iter().collect::<Vec<_>>(),
            HEADER.join(",")
        )));
    }
    let mut report = OnlineRetailReport::default();
    let mut invoices: Vec<Vec<Line>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line_number = csv.position().line() + 1;
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                report.rows += 1;
                match read_line(&record, &mut report.repaired) {
                    Ok(line) => {
                        let slot = *index.entry(line.invoice.clone()).or_insert_with(|| {
                            invoices.push(Vec::new());
                            invoices.len() - 1
                        });
                        if let Some(lines) = invoices.get_mut(slot) {
                            lines.push(line);
                        }
                    }
                    Err(reason) => *report.dropped.entry(reason).or_insert(0) += 1,
                }
            }
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                return Err(Error::Data {
                    file: file.to_owned(),
                    place: format!("line {line_number}"),
                    message: format!("reading failed: {e}"),
                });
            }
            Err(_) => {
                report.rows += 1;
                *report.dropped.entry(DropReason::Unreadable).or_insert(0) += 1;
            }
        }
    }
    let mut events = Vec::with_capacity(invoices.len());
    let mut customers = BTreeSet::new();
    let mut products = BTreeSet::new();
    for lines in invoices {
        let Some(first) = lines.first() else {
            continue;
        };
        let (invoice, cancellation) = (first.invoice.clone(), first.cancellation);
        let (time, customer) = (first.time, first.customer.clone());
        let mut items = Vec::with_capacity(lines.len());
        for line in lines {
            if line.customer != customer {
                *report
                    .repaired
                    .entry(Repair::InvoiceCustomerMismatch)
                    .or_insert(0) += 1;
            }
            if line.time != time {
                *report
                    .repaired
                    .entry(Repair::InvoiceTimeMismatch)
                    .or_insert(0) += 1;
            }
            if line.customer.is_none() {
                report.anonymous_rows += 1;
            }
            products.insert(line.item.item_id.clone());
            items.push(line.item);
        }
        report.kept_rows += items.len();
        match &customer {
            Some(c) => {
                customers.insert(c.clone());
            }
            None => report.anonymous_events += 1,
        }
        let kind = if cancellation {
            report.refunds += 1;
            EventKind::Refund(RefundParams {
                transaction_id: invoice.clone(),
                currency: Some(Currency::GBP),
                items,
                amount: None,
                amount_issue: None,
            })
        } else {
            report.purchases += 1;
            EventKind::Purchase(PurchaseParams {
                transaction_id: invoice.clone(),
                currency: Currency::GBP,
                items,
            })
        };
        events.push(Event {
            id: format!("inv-{invoice}"),
            timestamp: time,
            user_id: customer,
            session_id: invoice,
            kind,
        });
    }
    report.customers = customers.len();
    report.products = products.len();
    Ok(OnlineRetailImport { events, report })
}

fn repair(repairs: &mut BTreeMap<Repair, usize>, kind: Repair) {
    *repairs.entry(kind).or_insert(0) += 1;
}

/// Reads one data line, or says why it is dropped.
fn read_line(
    record: &csv::StringRecord,
    repairs: &mut BTreeMap<Repair, usize>,
) -> std::result::Result<Line, DropReason> {
    if record.len() != HEADER.len() {
        return Err(DropReason::Unreadable);
    }
    let field = |i: usize| record.get(i).unwrap_or("").trim();
    let invoice = field(0);
    let (cancellation, number) = match invoice.strip_prefix('C') {
        Some(rest) => (true, rest),
        None => (false, invoice),
    };
    if invoice.starts_with('A') {
        return Err(DropReason::AdjustmentInvoice);
    }
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(DropReason::BadInvoice);
    }
    let raw_code = field(1);
    if raw_code.is_empty() {
        return Err(DropReason::MissingStockCode);
    }
    let code = raw_code.to_ascii_uppercase();
    if NOT_PRODUCTS.contains(&code.as_str()) {
        return Err(DropReason::NotAProduct);
    }
    let description = field(2);
    if description.is_empty() {
        return Err(DropReason::MissingDescription);
    }
    let quantity = parse_quantity(field(3)).ok_or(DropReason::BadQuantity)?;
    if !cancellation && quantity <= 0 {
        return Err(DropReason::NonPositiveQuantityOnSale);
    }
    if cancellation && quantity >= 0 {
        return Err(DropReason::NonNegativeQuantityOnCancellation);
    }
    let quantity = u32::try_from(quantity.unsigned_abs()).map_err(|_| DropReason::BadQuantity)?;
    let (price, rounded) = parse_pence(field(5)).ok_or(DropReason::BadPrice)?;
    if price <= 0 {
        return Err(DropReason::NonPositivePrice);
    }
    let (time, time_repair) = parse_uk_time(field(4)).ok_or(DropReason::BadDate)?;
    let customer = parse_customer(field(6)).ok_or(DropReason::BadCustomerId)?;
    if code != raw_code {
        repair(repairs, Repair::StockCodeUppercased);
    }
    if rounded {
        repair(repairs, Repair::PriceRounded);
    }
    if let Some(kind) = time_repair {
        repair(repairs, kind);
    }
    Ok(Line {
        invoice: invoice.to_owned(),
        cancellation,
        item: Item {
            item_id: code,
            item_name: Some(description.to_owned()),
            item_category: None,
            price: Some(price),
            price_issue: None,
            quantity,
        },
        time,
        customer,
    })
}

/// Splits `-12.50` into sign, integer digits and fraction digits.
fn split_decimal(text: &str) -> Option<(bool, &str, &str)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    (!int.is_empty() && digits(int) && digits(frac)).then_some((negative, int, frac))
}

/// A whole quantity written as `6`, `6.0` or `-12.00`.
fn parse_quantity(text: &str) -> Option<i64> {
    let (negative, int, frac) = split_decimal(text)?;
    if frac.chars().any(|c| c != '0') {
        return None;
    }
    let value: i64 = int.parse().ok()?;
    Some(if negative { -value } else { value })
}

/// A price in pounds (`2.55`, `18.0`, `0.001`) as pence, rounded half up (away from zero) when
/// it has more than two decimals; the flag says whether it was rounded.
fn parse_pence(text: &str) -> Option<(i64, bool)> {
    let (negative, int, frac) = split_decimal(text)?;
    let mut pence: i64 = int.parse::<i64>().ok()?.checked_mul(100)?;
    let mut digits = frac.chars().filter_map(|c| c.to_digit(10)).map(i64::from);
    pence = pence.checked_add(digits.next().unwrap_or(0) * 10 + digits.next().unwrap_or(0))?;
    let rest: Vec<i64> = digits.collect();
    let rounded = rest.iter().any(|&d| d != 0);
    if rest.first().is_some_and(|&d| d >= 5) {
        pence = pence.checked_add(1)?;
    }
    Some((if negative { -pence } else { pence }, rounded))
}

/// A UK shop time, `2010-12-01 08:26:00` (seconds optional), as Europe/London time with its
/// offset, and the repair made if the clock change made it ambiguous or skipped it.
fn parse_uk_time(text: &str) -> Option<(chrono::DateTime<chrono::FixedOffset>, Option<Repair>)> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .ok()?;
    match London.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some((t.fixed_offset(), None)),
        LocalResult::Ambiguous(earlier, _) => {
            Some((earlier.fixed_offset(), Some(Repair::AmbiguousLocalTime)))
        }
        LocalResult::None => {
            let later = London
                .from_local_datetime(&naive.checked_add_signed(Duration::hours(1))?)
                .earliest()?;
            Some((later.fixed_offset(), Some(Repair::SkippedLocalTime)))
        }
    }
}

/// `17850.0` as `Some("17850")`, empty as `None`; anything else is not a customer id.
fn parse_customer(text: &str) -> Option<Option<String>> {
    if text.is_empty() {
        return Some(None);
    }
    let (negative, int, frac) = split_decimal(text)?;
    if negative || frac.chars().any(|c| c != '0') {
        return None;
    }
    Some(Some(int.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("testdata/online_retail_sample.csv");

    #[test]
    fn sample_counts() {
        let import = read_online_retail("online_retail_sample.csv", SAMPLE.as_bytes()).unwrap();
        let r = &import.report;
        assert_eq!(r.rows, 30);
        assert_eq!(r.kept_rows, 22);
        assert_eq!(r.purchases, 7);
        assert_eq!(r.refunds, 2);
        assert_eq!(r.anonymous_rows, 4);
        assert_eq!(r.anonymous_events, 2);
        assert_eq!(r.customers, 6);
        assert_eq!(r.products, 21);
        let dropped: Vec<(DropReason, usize)> = r.dropped.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(
            dropped,
            [
                (DropReason::AdjustmentInvoice, 1),
                (DropReason::NotAProduct, 3),
                (DropReason::MissingDescription, 1),
                (DropReason::NonPositiveQuantityOnSale, 1),
                (DropReason::NonPositivePrice, 2),
            ]
        );
        assert_eq!(r.dropped_rows() + r.kept_rows, r.rows);
        let repaired: Vec<(Repair, usize)> = r.repaired.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(repaired, [(Repair::StockCodeUppercased, 1)]);
        assert_eq!(import.events.len(), 9);
    }

    #[test]
    fn sample_events() {
        let import = read_online_retail("online_retail_sample.csv", SAMPLE.as_bytes()).unwrap();
        let by_id = |id: &str| import.events.iter().find(|e| e.id == id).unwrap();
        let first = by_id("inv-536365");
        assert_eq!(first.timestamp.to_rfc3339(), "2010-12-01T08:26:00+00:00");
        assert_eq!(first.user_id.as_deref(), Some("17850"));
        let EventKind::Purchase(p) = &first.kind else {
            panic!("536365 is not a purchase");
        };
        assert_eq!(p.items.len(), 7);
        assert_eq!(p.items[0].item_id, "85123A");
        assert_eq!((p.items[0].price, p.items[0].quantity), (Some(255), 6));
        // Summer: BST, one hour ahead of UTC.
        let summer = by_id("inv-555156");
        assert_eq!(summer.timestamp.to_rfc3339(), "2011-06-01T07:37:00+01:00");
        assert_eq!(
            summer.timestamp.naive_utc().to_string(),
            "2011-06-01 06:37:00"
        );
        let autumn = by_id("inv-573416");
        assert_eq!(autumn.timestamp.to_rfc3339(), "2011-10-31T08:29:00+00:00");
        let refund = by_id("inv-C536391");
        let EventKind::Refund(r) = &refund.kind else {
            panic!("C536391 is not a refund");
        };
        let quantities: Vec<u32> = r.items.iter().map(|i| i.quantity).collect();
        assert_eq!(quantities, [12, 24, 24]);
        let anonymous = by_id("inv-536865");
        assert_eq!(anonymous.user_id, None);
        assert_eq!(anonymous.kind.item_ids(), ["84534B"]);
        // The events are valid JSON events.
        let text = super::super::event::write_json_lines(&import.events);
        let again = super::super::event::read_json_lines_strict("x", &text).unwrap();
        assert_eq!(again, import.events);
    }

    #[test]
    fn field_parsers() {
        assert_eq!(parse_quantity("6.0"), Some(6));
        assert_eq!(parse_quantity("-12"), Some(-12));
        assert_eq!(parse_quantity("1.5"), None);
        assert_eq!(parse_quantity(""), None);
        assert_eq!(parse_pence("2.55"), Some((255, false)));
        assert_eq!(parse_pence("18.0"), Some((1800, false)));
        assert_eq!(parse_pence("0.001"), Some((0, true)));
        assert_eq!(parse_pence("0.005"), Some((1, true)));
        assert_eq!(parse_pence("-11062.06"), Some((-1_106_206, false)));
        assert_eq!(parse_pence("1e3"), None);
        assert_eq!(parse_customer("17850.0"), Some(Some("17850".into())));
        assert_eq!(parse_customer(""), Some(None));
        assert_eq!(parse_customer("abc"), None);
        // The clock change: 2011-03-27 01:30 did not exist, 2011-10-30 01:30 happened twice.
        let (t, r) = parse_uk_time("2011-03-27 01:30:00").unwrap();
        assert_eq!(
            (t.to_rfc3339().as_str(), r),
            ("2011-03-27T02:30:00+01:00", Some(Repair::SkippedLocalTime))
        );
        let (t, r) = parse_uk_time("2011-10-30 01:30:00").unwrap();
        assert_eq!(
            (t.to_rfc3339().as_str(), r),
            (
                "2011-10-30T01:30:00+01:00",
                Some(Repair::AmbiguousLocalTime)
            )
        );
        assert!(parse_uk_time("2011-13-01 10:00").is_none());
    }

    #[test]
    fn bad_rows_are_counted_and_a_wrong_header_refused() {
        let text = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,\
                    Country\n\
                    1,A1,THING,1.0,2011-01-01 10:00:00,1.0,1.0,UK\n\
                    2,A1,THING,1.0,yesterday,1.0,1.0,UK\n\
                    3,A1,THING,x,2011-01-01 10:00:00,1.0,1.0,UK\n\
                    4,A1,THING,1.0,2011-01-01 10:00:00,cheap,1.0,UK\n\
                    5,A1,THING,1.0,2011-01-01 10:00:00,1.0,x1,UK\n\
                    6,A1,THING,1.0\n\
                    X7,A1,THING,1.0,2011-01-01 10:00:00,1.0,1.0,UK\n\
                    C8,A1,THING,1.0,2011-01-01 10:00:00,1.0,1.0,UK\n\
                    9,,THING,1.0,2011-01-01 10:00:00,1.0,1.0,UK\n";
        let import = read_online_retail("t.csv", text.as_bytes()).unwrap();
        let r = &import.report;
        assert_eq!((r.rows, r.kept_rows, r.dropped_rows()), (9, 1, 8));
        for reason in [
            DropReason::BadDate,
            DropReason::BadQuantity,
            DropReason::BadPrice,
            DropReason::BadCustomerId,
            DropReason::Unreadable,
            DropReason::BadInvoice,
            DropReason::NonNegativeQuantityOnCancellation,
            DropReason::MissingStockCode,
        ] {
            assert_eq!(r.dropped.get(&reason), Some(&1), "{}", reason.as_str());
        }
        let err = read_online_retail("t.csv", "a,b\n1,2\n".as_bytes()).unwrap_err();
        assert!(
            err.to_string().starts_with("t.csv, line 1: the header is"),
            "{err}"
        );
    }
}
