//! Word-tokenised text with one BIO tag per word, read from QueryNER's JSON or CoNLL columns.
//!
//! Every problem is reported with the file, the place in it (line, or example for JSON) and what
//! is wrong, and nothing is dropped silently: one bad example fails the whole file.

use serde::Deserialize;

use crate::error::{Error, Result};

/// One tagged text: words and their tags, of equal length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaggedText {
    /// The words.
    pub words: Vec<String>,
    /// One tag per word (`O`, `B-<type>` or `I-<type>`).
    pub tags: Vec<String>,
}

#[derive(Deserialize)]
struct QueryNerFile {
    examples: Vec<QueryNerExample>,
}

#[derive(Deserialize)]
struct QueryNerExample {
    tokens: Vec<String>,
    ner_tags: Vec<usize>,
}

fn data_error(file: &str, place: String, message: impl Into<String>) -> Error {
    Error::Data {
        file: file.to_owned(),
        place,
        message: message.into(),
    }
}

/// Reads the tag names of QueryNER's `labels.json`: a JSON list, indexed by tag id.
pub fn read_labels(file: &str, bytes: &[u8]) -> Result<Vec<String>> {
    let labels: Vec<String> = serde_json::from_slice(bytes).map_err(|e| {
        data_error(
            file,
            format!("line {}", e.line()),
            format!("not a JSON list of tag names: {e}"),
        )
    })?;
    if labels.first().map(String::as_str) != Some("O") {
        return Err(data_error(
            file,
            "line 1".into(),
            "the first label must be `O`",
        ));
    }
    for label in &labels[1..] {
        if !(label.starts_with("B-") || label.starts_with("I-")) || label.len() < 3 {
            return Err(data_error(
                file,
                "line 1".into(),
                format!("`{label}` is not a BIO tag"),
            ));
        }
    }
    Ok(labels)
}

/// Reads a QueryNER split (`{"examples": [{"tokens": [...], "ner_tags": [...]}]}`).
pub fn read_queryner(file: &str, bytes: &[u8], labels: &[String]) -> Result<Vec<TaggedText>> {
    let parsed: QueryNerFile = serde_json::from_slice(bytes).map_err(|e| {
        let place = format!("line {}, column {}", e.line(), e.column());
        data_error(file, place, format!("not a QueryNER file: {e}"))
    })?;
    parsed
        .examples
        .into_iter()
        .enumerate()
        .map(|(i, example)| {
            let place = || format!("example {i}");
            if example.tokens.len() != example.ner_tags.len() {
                let message = format!(
                    "{} tokens but {} tags",
                    example.tokens.len(),
                    example.ner_tags.len()
                );
                return Err(data_error(file, place(), message));
            }
            let tags = example
                .ner_tags
                .iter()
                .map(|&id| {
                    labels.get(id).cloned().ok_or_else(|| {
                        let message = format!("unknown tag id {id} ({} labels)", labels.len());
                        data_error(file, place(), message)
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            check(file, place(), &example.tokens, &tags, labels)?;
            Ok(TaggedText {
                words: example.tokens,
                tags,
            })
        })
        .collect()
}

/// Reads CoNLL-style text: one `word tag` pair per line (separated by whitespace), a blank line
/// between texts. Tags must be among `labels`.
pub fn read_conll(file: &str, text: &str, labels: &[String]) -> Result<Vec<TaggedText>> {
    let mut texts = Vec::new();
    let mut current = TaggedText::default();
    let mut first_line = 1;
    // One blank line past the end closes the last text like any other.
    for (i, line) in text.lines().chain([""]).enumerate() {
        let number = i + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !current.words.is_empty() {
                let place = format!("line {first_line}");
                check(file, place, &current.words, &current.tags, labels)?;
                texts.push(std::mem::take(&mut current));
            }
            continue;
        }
        let place = format!("line {number}");
        let mut columns = line.split_whitespace();
        let (Some(word), Some(tag), None) = (columns.next(), columns.next(), columns.next()) else {
            return Err(data_error(
                file,
                place,
                "expected two columns, a word and its tag",
            ));
        };
        if !labels.iter().any(|l| l == tag) {
            return Err(data_error(file, place, format!("unknown tag `{tag}`")));
        }
        if current.words.is_empty() {
            first_line = number;
        }
        current.words.push(word.to_owned());
        current.tags.push(tag.to_owned());
    }
    Ok(texts)
}

fn check(
    file: &str,
    place: String,
    words: &[String],
    tags: &[String],
    labels: &[String],
) -> Result<()> {
    if words.is_empty() {
        return Err(data_error(file, place, "a text without tokens"));
    }
    if let Some(w) = words.iter().position(|w| w.trim().is_empty()) {
        return Err(data_error(file, place, format!("token {w} is empty")));
    }
    if let Some(tag) = tags.iter().find(|t| !labels.contains(t)) {
        return Err(data_error(file, place, format!("unknown tag `{tag}`")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        [
            "O",
            "B-color",
            "I-color",
            "B-core_product_type",
            "I-core_product_type",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn reads_queryner_examples_into_tag_names() -> Result<()> {
        let json =
            br#"{"examples": [{"tokens": ["red", "duvet", "cover"], "ner_tags": [1, 3, 4]}]}"#;
        let texts = read_queryner("t.json", json, &labels())?;
        assert_eq!(texts[0].words, ["red", "duvet", "cover"]);
        assert_eq!(
            texts[0].tags,
            ["B-color", "B-core_product_type", "I-core_product_type"]
        );
        Ok(())
    }

    #[test]
    fn queryner_errors_name_the_file_the_example_and_the_problem() {
        let two = br#"{"examples": [{"tokens": ["a"], "ner_tags": [0]},
            {"tokens": ["a"], "ner_tags": [9]}]}"#;
        let cases: [(&[u8], &str); 4] = [
            (two, "t.json, example 1: unknown tag id 9"),
            (
                br#"{"examples": [{"tokens": ["a", "b"], "ner_tags": [0]}]}"#,
                "t.json, example 0: 2 tokens but 1 tags",
            ),
            (
                br#"{"examples": [{"tokens": [], "ner_tags": []}]}"#,
                "t.json, example 0: a text without tokens",
            ),
            (b"{\"examples\": [\n{\"tokens\": ", "t.json, line 2"),
        ];
        for (json, expected) in cases {
            let err = read_queryner("t.json", json, &labels()).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn reads_conll_columns_with_blank_lines_between_texts() -> Result<()> {
        let text = "red B-color\nduvet B-core_product_type\n\n\nblue B-color\r\n";
        let texts = read_conll("t.conll", text, &labels())?;
        assert_eq!(texts.len(), 2);
        assert_eq!(texts[1].words, ["blue"]);
        assert_eq!(texts[1].tags, ["B-color"]);
        Ok(())
    }

    #[test]
    fn conll_errors_name_the_line() {
        let err = read_conll("t.conll", "red B-color\nduvet B-brand\n", &labels()).unwrap_err();
        assert_eq!(err.to_string(), "t.conll, line 2: unknown tag `B-brand`");
        let err = read_conll("t.conll", "red B-color\n\nred\n", &labels()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.conll, line 3: expected two columns, a word and its tag"
        );
    }

    #[test]
    fn labels_must_start_with_outside_and_be_bio() {
        assert!(read_labels("l.json", br#"["O", "B-x", "I-x"]"#).is_ok());
        assert!(read_labels("l.json", br#"["B-x"]"#).is_err());
        let err = read_labels("l.json", br#"["O", "x"]"#).unwrap_err();
        assert!(err.to_string().contains("`x` is not a BIO tag"), "{err}");
    }
}
