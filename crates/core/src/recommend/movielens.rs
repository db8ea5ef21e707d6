//! A reader of RecBole's atomic `.inter` files, such as `ml-100k.inter` (MovieLens 100K).
//!
//! The file is tab separated (`<TAB>` below). Its first line names the columns as
//! `name:type`, e.g.
//!
//! ```text
//! user_id:token<TAB>item_id:token<TAB>rating:float<TAB>timestamp:float
//! ```
//!
//! The columns are found by name, in any order; `user_id` and `item_id` are required, `rating`
//! (default 1) and `timestamp` (default 0) are optional, and other columns are ignored. Blank
//! lines are skipped. Every error names the line (1-based, the header being line 1).
//!
//! # Implicit feedback
//!
//! As the Microsoft Recommenders benchmark does, **every rating is an interaction**, whatever
//! its value: a 1-star rating is as much a positive as a 5-star one for the binary matrix that
//! the baselines learn from. The rating is kept as the event weight ([`to_interactions`]), so
//! graded relevance (graded NDCG) can use it.

use serde::Serialize;

use super::dataset::Interactions;
use crate::error::{Error, Result};

/// One row of an `.inter` file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rating {
    /// The user id (a token, kept as text).
    pub user: String,
    /// The item id (a token, kept as text).
    pub item: String,
    /// The rating; 1 when the file has no rating column.
    pub rating: f64,
    /// The time in seconds, truncated toward zero; 0 when the file has no timestamp column.
    pub timestamp: i64,
}

fn data_error(file: &str, line: usize, message: String) -> Error {
    Error::Data {
        file: file.to_owned(),
        place: format!("line {line}"),
        message,
    }
}

/// Parses the text of an atomic `.inter` file; `file` names it in errors.
///
/// # Errors
///
/// [`Error::Data`] naming the line for a missing header or column, a row with another number
/// of fields than the header, an empty id, or a rating or timestamp that is not a finite
/// number.
pub fn parse_atomic_inter(text: &str, file: &str) -> Result<Vec<Rating>> {
    let mut lines = text.lines().enumerate().map(|(n, l)| (n + 1, l));
    let Some((_, header)) = lines.next() else {
        return Err(data_error(
            file,
            1,
            "the file is empty; an .inter file starts with a header such as \
             `user_id:token\\titem_id:token\\trating:float\\ttimestamp:float`"
                .into(),
        ));
    };
    let names: Vec<&str> = header
        .trim_end_matches('\r')
        .split('\t')
        .map(|c| c.split(':').next().unwrap_or(c).trim())
        .collect();
    let column = |name: &str| names.iter().position(|&n| n == name);
    let (Some(user_col), Some(item_col)) = (column("user_id"), column("item_id")) else {
        return Err(data_error(
            file,
            1,
            format!(
                "the header names the columns {names:?} but needs `user_id` and `item_id`; is \
                 this a tab-separated RecBole .inter file?"
            ),
        ));
    };
    let rating_col = column("rating");
    let time_col = column("timestamp");
    let mut out = Vec::new();
    for (n, raw) in lines {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != names.len() {
            return Err(data_error(
                file,
                n,
                format!(
                    "{} tab-separated fields but the header has {}",
                    fields.len(),
                    names.len()
                ),
            ));
        }
        let field = |c: usize| fields.get(c).map_or("", |f| f.trim());
        let number = |c: Option<usize>, what: &str, default: f64| -> Result<f64> {
            let Some(c) = c else {
                return Ok(default);
            };
            let text = field(c);
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(data_error(
                    file,
                    n,
                    format!("{what} {text:?} is not a finite number"),
                )),
            }
        };
        let (user, item) = (field(user_col), field(item_col));
        if user.is_empty() || item.is_empty() {
            return Err(data_error(file, n, "the user or item id is empty".into()));
        }
        let rating = number(rating_col, "rating", 1.0)?;
        if rating < 0.0 {
            return Err(data_error(
                file,
                n,
                format!("rating {rating} is negative; ratings are at least 0"),
            ));
        }
        let timestamp = number(time_col, "timestamp", 0.0)?;
        out.push(Rating {
            user: user.to_owned(),
            item: item.to_owned(),
            rating,
            timestamp: timestamp as i64,
        });
    }
    Ok(out)
}

/// Reads and parses an atomic `.inter` file from disk (native targets; on
/// `wasm32-unknown-unknown` reading fails with [`Error::Data`], parse the text instead).
///
/// # Errors
///
/// [`Error::Data`] when the file cannot be read, else as [`parse_atomic_inter`].
pub fn read_atomic_inter(path: &std::path::Path) -> Result<Vec<Rating>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Data {
        file: name.clone(),
        place: "whole file".into(),
        message: format!("cannot be read ({e}); check the path"),
    })?;
    parse_atomic_inter(&text, &name)
}

/// Every rating as an implicit interaction, with the rating as its weight (see the
/// [module docs](self)).
///
/// # Errors
///
/// As [`Interactions::record`] (not reached for the output of [`parse_atomic_inter`]).
pub fn to_interactions(ratings: &[Rating]) -> Result<Interactions> {
    let mut out = Interactions::new();
    for r in ratings {
        out.record(&r.user, &r.item, r.rating, r.timestamp)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("testdata/ml-100k-sample.inter");

    #[test]
    fn reads_the_committed_sample() {
        let rows = parse_atomic_inter(SAMPLE, "ml-100k-sample.inter").unwrap();
        // 20 lines: the header and 19 ratings.
        assert_eq!(rows.len(), 19);
        assert_eq!(
            rows[0],
            Rating {
                user: "196".into(),
                item: "242".into(),
                rating: 3.0,
                timestamp: 881_250_949,
            }
        );
        let data = to_interactions(&rows).unwrap();
        assert_eq!(data.n_pairs(), 19);
        let (u, i) = (
            data.user_index("22").unwrap(),
            data.item_index("377").unwrap(),
        );
        assert_eq!(data.get(u, i).unwrap().weight, 1.0);
    }

    #[test]
    fn columns_by_name_and_defaults() {
        let text = "item_id:token\tuser_id:token\textra:float\n9\t1\t0.5\n\n8\t1\t0.1\r\n";
        let rows = parse_atomic_inter(text, "t.inter").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[1].user.as_str(), rows[1].item.as_str()), ("1", "8"));
        assert_eq!((rows[1].rating, rows[1].timestamp), (1.0, 0));
        let rows = parse_atomic_inter("user_id\titem_id\ttimestamp\nu\ti\t12.9\n", "t").unwrap();
        assert_eq!(rows[0].timestamp, 12);
    }

    #[test]
    fn errors_name_the_line() {
        let header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
        let cases = [
            (
                format!("{header}1\t2\t3\t4\n1\t2\t3\n"),
                "line 3",
                "3 tab-separated fields",
            ),
            (format!("{header}1\t2\tx\t4\n"), "line 2", "rating \"x\""),
            (format!("{header}1\t2\t3\tNaN\n"), "line 2", "timestamp"),
            (format!("{header}\t2\t3\t4\n"), "line 2", "id is empty"),
            (format!("{header}1\t2\t-3\t4\n"), "line 2", "negative"),
            ("a,b,c\n".to_owned(), "line 1", "needs `user_id`"),
            (String::new(), "line 1", "empty"),
        ];
        for (text, place, what) in cases {
            let err = parse_atomic_inter(&text, "x.inter")
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("x.inter, ") && err.contains(place), "{err}");
            assert!(err.contains(what), "{err}");
        }
        let err = read_atomic_inter(std::path::Path::new("/nonexistent/x.inter")).unwrap_err();
        assert!(matches!(err, Error::Data { .. }));
    }
}
