//! Money: ISO 4217 currency codes, their minor units, and locale-formatted amounts parsed into
//! integer minor units without any floating point.
//!
//! [`parse_amount`] reads what a shop page or a spreadsheet shows: `1,299.00` (en-US),
//! `1.299,00 €` (de-DE), `1 299,00 €` (fr-FR, grouped with a narrow no-break space), `€ -15.00`,
//! `(1,299.00)` (accounting negative), `-£3.50`, `JPY 1,200`, `12.500 KWD`.
//!
//! # Rules
//!
//! - The number is split from what stands before and after it. Around it may stand white space,
//!   one currency symbol or ISO code, one minus sign (`-` or U+2212, before or after the number,
//!   before or after the symbol), a `+`, or a pair of parentheses, which means negative.
//! - The locale's language (and for a few locales its region) gives the decimal separator and the
//!   grouping separators (see [`NumberFormat::for_locale`]). Groups must have three digits (two
//!   after the first in `en-IN`/`hi-IN` lakh grouping), so a misplaced separator is an error,
//!   not a different number.
//! - Without a locale the separators are inferred only where that is certain: with both `.` and
//!   `,` the last one is the decimal point; a separator that occurs twice groups; one followed by
//!   other than three digits is the decimal point. `1,299` is refused as ambiguous (1299 in
//!   en-US, 1.299 in de-DE).
//! - The currency (given, or read from the symbol or code) says how many fraction digits exist
//!   ([`minor_digits`]): JPY 0, KWD/BHD 3, most others 2; with no currency known, 2. More
//!   fraction digits than that is an error, fewer are padded (`12.5` EUR is 1250).

use std::fmt;

use crate::error::{Error, Result};

/// An ISO 4217 currency code: three ASCII capital letters, such as `EUR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");
    /// Pound sterling.
    pub const GBP: Currency = Currency(*b"GBP");
    /// United States dollar.
    pub const USD: Currency = Currency(*b"USD");
    /// Japanese yen.
    pub const JPY: Currency = Currency(*b"JPY");

    /// Checks that `code` is three ASCII capital letters. Whether the code is assigned is not
    /// checked: new codes appear and old ones stay in historic data.
    pub fn new(code: &str) -> Result<Currency> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Currency([a, b, c])),
            _ => Err(Error::Input(format!(
                "{code:?} is not an ISO 4217 code (three capital letters, such as \"EUR\")"
            ))),
        }
    }

    /// The code, such as `"EUR"`.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII capitals, checked in `new`.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// The number of digits of the currency's minor unit (see [`minor_digits`]).
    pub fn minor_digits(&self) -> u32 {
        minor_digits(*self)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Currency {
    type Err = Error;

    fn from_str(s: &str) -> Result<Currency> {
        Currency::new(s)
    }
}

/// Digits of the minor unit of `currency` per ISO 4217: 0 for currencies without a minor unit in
/// use (JPY, KRW, ...), 3 for the dinars and rials that divide into 1000 (KWD, BHD, ...), and 2
/// for every other code.
pub fn minor_digits(currency: Currency) -> u32 {
    const ZERO: [&str; 17] = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    let code = currency.as_str();
    if ZERO.contains(&code) {
        0
    } else if THREE.contains(&code) {
        3
    } else {
        2
    }
}

/// An amount in integer minor units (cents, pence; yen for JPY), with the currency if the text
/// or the caller named one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    /// The amount in minor units, negative for refunds and credits.
    pub minor_units: i64,
    /// The currency, when known.
    pub currency: Option<Currency>,
}

/// The separators a locale writes numbers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberFormat {
    /// The decimal separator.
    pub decimal: char,
    /// The characters that group thousands.
    pub grouping: Vec<char>,
    /// Whether groups after the first are of two digits (Indian lakh grouping: 1,00,000).
    pub lakh: bool,
}

const NBSP: char = '\u{00A0}';
const NNBSP: char = '\u{202F}';
const THIN: char = '\u{2009}';

impl NumberFormat {
    /// The format of a BCP 47 locale such as `de-DE` or `fr`, by language family:
    ///
    /// - `.` decimal, `,` grouping: en, ja, zh, ko, he, th, ms, fil, ga, cy, and es-MX/US/419.
    ///   `en-IN` and `hi` group in lakhs. `en-ZA` is as fr.
    /// - `,` decimal, `.` grouping: de, nl, it, es, pt-BR, da, id, tr, el, ro, hr, sl, sr, vi.
    /// - `,` decimal, space grouping (U+202F, U+00A0, U+2009 or a plain space): fr, ru, uk, pl,
    ///   cs, sk, sv, nb, nn, no, fi, et, lv, lt, hu, bg, pt-PT, pt (without region).
    /// - `.` decimal, `’` or `'` grouping: de-CH, de-LI, it-CH.
    ///
    /// Errors name the locale and the families known.
    pub fn for_locale(locale: &str) -> Result<NumberFormat> {
        let lower = locale.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = lower.split('-');
        let language = parts.next().unwrap_or("");
        let region = parts.find(|p| p.len() == 2 || p.len() == 3).unwrap_or("");
        let spaces = vec![NNBSP, NBSP, THIN, ' '];
        let point_comma = |lakh| NumberFormat {
            decimal: '.',
            grouping: vec![','],
            lakh,
        };
        let comma_point = NumberFormat {
            decimal: ',',
            grouping: vec!['.'],
            lakh: false,
        };
        let comma_space = NumberFormat {
            decimal: ',',
            grouping: spaces,
            lakh: false,
        };
        let swiss = NumberFormat {
            decimal: '.',
            grouping: vec!['\u{2019}', '\''],
            lakh: false,
        };
        Ok(match (language, region) {
            ("de" | "it", "ch" | "li") => swiss,
            ("en", "za") => comma_space,
            ("en", "in") | ("hi", _) => point_comma(true),
            ("es", "mx" | "us" | "419") => point_comma(false),
            ("pt", "br") => comma_point,
            (
                "en" | "ja" | "zh" | "ko" | "he" | "iw" | "th" | "ms" | "fil" | "tl" | "ga" | "cy",
                _,
            ) => point_comma(false),
            (
                "de" | "nl" | "it" | "es" | "da" | "id" | "in" | "tr" | "el" | "ro" | "hr" | "sl"
                | "sr" | "vi" | "ca",
                _,
            ) => comma_point,
            (
                "fr" | "ru" | "uk" | "pl" | "cs" | "sk" | "sv" | "nb" | "nn" | "no" | "fi" | "et"
                | "lv" | "lt" | "hu" | "bg" | "pt",
                _,
            ) => comma_space,
            _ => {
                return Err(Error::Input(format!(
                    "locale {locale:?} is not one whose number format is known; use a locale \
                     such as en-US, de-DE, fr-FR or de-CH, or none when the text is unambiguous"
                )));
            }
        })
    }
}

/// Symbols read as a currency. `$` alone and `¥` alone name no single currency: they are
/// accepted, count as two fraction digits (`$`) or none (`¥`), and give no [`Amount::currency`].
fn symbol_currency(symbol: &str) -> Option<(Option<Currency>, Option<u32>)> {
    let code = |c: &[u8; 3]| Some(Currency(*c));
    Some(match symbol {
        "€" => (code(b"EUR"), None),
        "£" => (code(b"GBP"), None),
        "US$" => (code(b"USD"), None),
        "CA$" | "C$" => (code(b"CAD"), None),
        "A$" | "AU$" => (code(b"AUD"), None),
        "NZ$" => (code(b"NZD"), None),
        "HK$" => (code(b"HKD"), None),
        "R$" => (code(b"BRL"), None),
        "₹" => (code(b"INR"), None),
        "₩" => (code(b"KRW"), None),
        "₽" => (code(b"RUB"), None),
        "₺" => (code(b"TRY"), None),
        "zł" => (code(b"PLN"), None),
        "Kč" => (code(b"CZK"), None),
        "Fr." | "CHF" => (code(b"CHF"), None),
        "$" => (None, Some(2)),
        "¥" | "￥" => (None, Some(0)),
        _ => {
            let currency = Currency::new(symbol).ok()?;
            (Some(currency), None)
        }
    })
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == NBSP || c == NNBSP || c == THIN
}

fn is_minus(c: char) -> bool {
    c == '-' || c == '\u{2212}'
}

/// What stands around the number: signs, parentheses, a currency token.
#[derive(Default)]
struct Affixes {
    minus: usize,
    plus: usize,
    open: usize,
    close: usize,
    tokens: Vec<String>,
}

impl Affixes {
    fn read(&mut self, text: &str) {
        let mut token = String::new();
        for c in text.chars() {
            let sign = is_minus(c) || c == '+' || c == '(' || c == ')';
            if is_space(c) || sign {
                if !token.is_empty() {
                    self.tokens.push(std::mem::take(&mut token));
                }
                if is_minus(c) {
                    self.minus += 1;
                } else if c == '+' {
                    self.plus += 1;
                } else if c == '(' {
                    self.open += 1;
                } else if c == ')' {
                    self.close += 1;
                }
            } else {
                token.push(c);
            }
        }
        if !token.is_empty() {
            self.tokens.push(token);
        }
    }
}

/// Parses a locale-formatted amount such as `"1.299,00 €"` into minor units.
///
/// `locale` is a BCP 47 tag (`"de-DE"`); `None` infers the separators where that is certain and
/// refuses ambiguous text such as `"1,299"`. The currency, if the text names one, sets the
/// number of fraction digits; else two. See the [module docs](self) for the rules.
pub fn parse_amount(text: &str, locale: Option<&str>) -> Result<Amount> {
    parse(text, locale, None)
}

/// Like [`parse_amount`], for an amount known to be in `currency`: its minor unit sets the
/// fraction digits, and a symbol or code in the text that names another currency is an error.
pub fn parse_amount_in(text: &str, locale: Option<&str>, currency: Currency) -> Result<Amount> {
    parse(text, locale, Some(currency))
}

fn parse(text: &str, locale: Option<&str>, given: Option<Currency>) -> Result<Amount> {
    let fail = |why: String| Error::Input(format!("amount {text:?}: {why}"));
    let format = locale.map(NumberFormat::for_locale).transpose()?;
    let first = text.find(|c: char| c.is_ascii_digit());
    let last = text.rfind(|c: char| c.is_ascii_digit());
    let (Some(first), Some(last)) = (first, last) else {
        return Err(fail("there is no number in it".into()));
    };
    let (prefix, rest) = text.split_at(first);
    let end = last + 1;
    let (number, suffix) = rest.split_at(end - first);
    if prefix.ends_with(['.', ',']) {
        return Err(fail("write a 0 before the decimal separator".into()));
    }
    let mut affixes = Affixes::default();
    affixes.read(prefix);
    affixes.read(suffix);
    let parens = match (affixes.open, affixes.close) {
        (0, 0) => false,
        (1, 1) if prefix.contains('(') && suffix.contains(')') => true,
        _ => return Err(fail("its parentheses do not enclose the number".into())),
    };
    if affixes.minus + affixes.plus + usize::from(parens) > 1 {
        return Err(fail(
            "it has more than one sign (minus, plus or parentheses)".into(),
        ));
    }
    let negative = parens || affixes.minus == 1;
    let (currency, symbol_digits) = match affixes.tokens.as_slice() {
        [] => (None, None),
        [token] => symbol_currency(token).ok_or_else(|| {
            fail(format!(
                "{token:?} is not a currency symbol or ISO 4217 code this parser knows"
            ))
        })?,
        _ => {
            return Err(fail(format!(
                "it has more than one word besides the number: {:?}",
                affixes.tokens
            )));
        }
    };
    if let (Some(given), Some(found)) = (given, currency)
        && given != found
    {
        return Err(fail(format!("it is in {found}, expected {given}")));
    }
    let currency = given.or(currency);
    let digits = currency.map(minor_digits).or(symbol_digits).unwrap_or(2);
    let (int_part, frac_part) = split_number(number, format.as_ref()).map_err(fail)?;
    let mut value: i64 = 0;
    let overflow = || fail("it is too large for minor units in 64 bits".into());
    for c in int_part.chars().chain(frac_part.chars()) {
        let digit = i64::from(c.to_digit(10).unwrap_or(0));
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(digit))
            .ok_or_else(overflow)?;
    }
    let frac_len = u32::try_from(frac_part.len()).unwrap_or(u32::MAX);
    if frac_len > digits {
        let name = currency.map_or_else(|| "the amount".to_owned(), |c| c.to_string());
        return Err(fail(format!(
            "it has {frac_len} fraction digits but {name} has {digits}; round it first or give \
             the right currency"
        )));
    }
    for _ in frac_len..digits {
        value = value.checked_mul(10).ok_or_else(overflow)?;
    }
    Ok(Amount {
        minor_units: if negative { -value } else { value },
        currency,
    })
}

fn is_separator(c: char) -> bool {
    matches!(c, '.' | ',' | '\'' | '\u{2019}') || is_space(c)
}

/// Splits the digits-and-separators core into integer and fraction digits.
fn split_number(number: &str, format: Option<&NumberFormat>) -> Result<(String, String), String> {
    if let Some(bad) = number
        .chars()
        .find(|&c| !c.is_ascii_digit() && !is_separator(c))
    {
        return Err(format!("{bad:?} cannot stand inside a number"));
    }
    let decimal = match format {
        Some(format) => {
            if let Some(bad) = number
                .chars()
                .find(|&c| is_separator(c) && c != format.decimal && !format.grouping.contains(&c))
            {
                return Err(format!(
                    "{bad:?} is not a separator of this locale, which writes {:?} for decimals",
                    format.decimal
                ));
            }
            Some(format.decimal)
        }
        None => infer_decimal(number)?,
    };
    if let Some(d) = decimal
        && number.matches(d).count() > 1
    {
        return Err(format!("the decimal separator {d:?} occurs more than once"));
    }
    let (int_text, frac_text) = match decimal.and_then(|d| number.rsplit_once(d)) {
        Some((int_text, frac_text)) => (int_text, Some(frac_text)),
        None => (number, None),
    };
    if let Some(frac_text) = frac_text
        && !frac_text.chars().all(|c| c.is_ascii_digit())
    {
        return Err("its fraction has a separator in it".into());
    }
    let groups: Vec<&str> = int_text.split(|c: char| !c.is_ascii_digit()).collect();
    let lakh = format.is_some_and(|f| f.lakh);
    if groups.len() > 1 {
        let last = groups.len() - 1;
        for (i, group) in groups.iter().enumerate() {
            let ok = match i {
                0 => (1..=3).contains(&group.len()),
                _ if i == last => group.len() == 3,
                _ => group.len() == if lakh { 2 } else { 3 },
            };
            if !ok {
                return Err(format!(
                    "its digit groups {groups:?} are not thousands groups; check the locale"
                ));
            }
        }
    }
    Ok((groups.concat(), frac_text.unwrap_or("").to_owned()))
}

/// Without a locale: which of `.` and `,` is the decimal separator, if any, where certain.
fn infer_decimal(number: &str) -> Result<Option<char>, String> {
    let last_point = number.rfind('.');
    let last_comma = number.rfind(',');
    let candidate = match (last_point, last_comma) {
        (None, None) => return Ok(None),
        (Some(p), Some(c)) => return Ok(Some(if p > c { '.' } else { ',' })),
        (Some(_), None) => '.',
        (None, Some(_)) => ',',
    };
    if number.matches(candidate).count() > 1 {
        return Ok(None);
    }
    let (before, after) = number.rsplit_once(candidate).unwrap_or((number, ""));
    let before_digits: String = before.chars().filter(char::is_ascii_digit).collect();
    let grouped_before = before.chars().any(|c| !c.is_ascii_digit());
    if after.len() != 3 || before_digits == "0" || (before_digits.len() > 3 && !grouped_before) {
        return Ok(Some(candidate));
    }
    Err(format!(
        "{candidate:?} followed by three digits could group thousands or mark decimals; give the \
         locale (such as en-US or de-DE)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(text: &str, locale: Option<&str>) -> i64 {
        match parse_amount(text, locale) {
            Ok(amount) => amount.minor_units,
            Err(e) => panic!("{text:?} {locale:?}: {e}"),
        }
    }

    /// Case REC-05: the exact values of the issue.
    #[test]
    fn rec_05_locale_amounts() {
        assert_eq!(minor("1,299.00", Some("en-US")), 129_900);
        assert_eq!(minor("-1,299.00", Some("en-US")), -129_900);
        assert_eq!(minor("(1,299.00)", Some("en-US")), -129_900);
        assert_eq!(minor("1.299,00 €", Some("de-DE")), 129_900);
        assert_eq!(minor("€ -15.00", Some("en-IE")), -1_500);
        let err = parse_amount("1,299", None).unwrap_err().to_string();
        assert!(err.contains("give the locale"), "{err}");
    }

    #[test]
    fn currency_from_symbol_and_code() {
        let amount = parse_amount("1.299,00 €", Some("de-DE")).unwrap();
        assert_eq!(amount.currency, Some(Currency::EUR));
        let amount = parse_amount("JPY 1,200", Some("ja-JP")).unwrap();
        assert_eq!(
            (amount.minor_units, amount.currency),
            (1200, Some(Currency::JPY))
        );
        assert_eq!(minor("12.500 KWD", Some("en-US")), 12_500);
        assert_eq!(minor("12.5 KWD", Some("en-US")), 12_500);
        assert_eq!(minor("-£3.50", None), -350);
        assert_eq!(minor("£-3.50", None), -350);
        assert_eq!(minor("3.50-", None), -350);
        assert_eq!(minor("\u{2212}3.50 USD", None), -350);
        assert_eq!(minor("+3.5", None), 350);
        assert_eq!(minor("(€15)", None), -1500);
        assert_eq!(minor("¥1200", None), 1200);
    }

    #[test]
    fn locale_separators() {
        assert_eq!(minor("1\u{202F}299,00\u{00A0}€", Some("fr-FR")), 129_900);
        assert_eq!(minor("1\u{00A0}299,5 €", Some("fr-CA")), 129_950);
        assert_eq!(minor("1 234 567,89", Some("sv-SE")), 123_456_789);
        assert_eq!(minor("1’299.00 CHF", Some("de-CH")), 129_900);
        assert_eq!(minor("1'299.00", Some("de_CH")), 129_900);
        assert_eq!(minor("1,00,000.00 ₹", Some("en-IN")), 10_000_000);
        assert_eq!(minor("1.299", Some("de-DE")), 129_900);
        assert_eq!(minor("1,299", Some("en-US")), 129_900);
        assert_eq!(minor("R$ 1.299,90", Some("pt-BR")), 129_990);
        assert_eq!(minor("0", None), 0);
    }

    #[test]
    fn inference_without_locale() {
        assert_eq!(minor("1,299.00", None), 129_900);
        assert_eq!(minor("1.299,00", None), 129_900);
        assert_eq!(minor("1,299,000", None), 129_900_000);
        assert_eq!(minor("12,5", None), 1250);
        assert_eq!(minor("0,299 KWD", None), 299);
        assert_eq!(minor("1299,000 KWD", None), 1_299_000);
        assert_eq!(minor("1 299,00", None), 129_900);
        assert!(parse_amount("1.299", None).is_err());
        assert!(parse_amount("1 299.000", None).is_err());
    }

    #[test]
    fn refusals_say_why() {
        let cases = [
            ("15.00", Some("de-DE"), "thousands groups"),
            ("1,299.00", Some("fr-FR"), "not a separator"),
            ("12.345", Some("en-US"), "fraction digits"),
            ("1.5 JPY", None, "JPY has 0"),
            ("--5", None, "more than one sign"),
            ("-(5)", None, "more than one sign"),
            ("(5", None, "parentheses"),
            ("5 EUR USD", None, "more than one word"),
            ("5 euros", None, "not a currency symbol"),
            ("abc", None, "no number"),
            ("1,2,3.4,5", None, "more than once"),
            ("99999999999999999999", None, "too large"),
            ("5", Some("xx-YY"), "not one whose number format"),
            ("1x2", None, "cannot stand inside"),
        ];
        for (text, locale, expected) in cases {
            match parse_amount(text, locale) {
                Ok(a) => panic!("{text:?} parsed as {a:?}"),
                Err(e) => assert!(e.to_string().contains(expected), "{text:?}: {e}"),
            }
        }
        let err = parse_amount_in("5 €", None, Currency::GBP).unwrap_err();
        assert!(err.to_string().contains("in EUR, expected GBP"), "{err}");
    }

    #[test]
    fn currency_codes() {
        assert_eq!(Currency::new("EUR").unwrap().as_str(), "EUR");
        let err = Currency::new("eur").unwrap_err().to_string();
        assert!(err.contains("\"eur\" is not an ISO 4217 code"), "{err}");
        assert!(Currency::new("EURO").is_err());
        assert!(Currency::new("ÉUR").is_err());
        assert_eq!(Currency::JPY.minor_digits(), 0);
        assert_eq!(Currency::new("BHD").unwrap().minor_digits(), 3);
        assert_eq!(Currency::GBP.minor_digits(), 2);
    }
}
