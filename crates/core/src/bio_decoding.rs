//! From each word's tag probabilities to one tag per word.
//!
//! Taking each word's most probable tag on its own can give an `I-X` that follows no `B-X`,
//! which strict IOB2 reads as no entity at all. [`Decoding::ValidBio`] instead picks the most
//! probable sequence of tags in which every `I-X` continues a `B-X` or `I-X`: a Viterbi pass over
//! the words whose transitions are allowed or forbidden, nothing learned.

use serde::Serialize;

/// How word tags are read from the tagger's probabilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum Decoding {
    /// Each word's most probable tag on its own.
    Argmax,
    /// The most probable tag sequence that is valid IOB2.
    #[default]
    ValidBio,
}

/// One tag per word from the words' probability rows, in order; each comes with the
/// probability the model gave that tag.
pub fn decode_word_tags(
    rows: &[&[f32]],
    labels: &[String],
    decoding: Decoding,
) -> Vec<(usize, f32)> {
    match decoding {
        Decoding::Argmax => rows.iter().map(|row| best(row)).collect(),
        Decoding::ValidBio => valid_bio(rows, labels),
    }
}

/// The most probable tag of one row and its probability.
pub(crate) fn best(row: &[f32]) -> (usize, f32) {
    row.iter().enumerate().fold(
        (0, f32::MIN),
        |acc, (i, p)| if *p > acc.1 { (i, *p) } else { acc },
    )
}

/// What a tag may follow.
#[derive(Clone, Copy)]
enum Rule<'a> {
    /// `O` and `B-` tags follow anything.
    Anywhere,
    /// `I-X` follows `B-X` or `I-X` only, and never starts a sequence.
    After(&'a str),
}

fn rule(label: &str) -> Rule<'_> {
    match label.strip_prefix("I-") {
        Some(kind) => Rule::After(kind),
        None => Rule::Anywhere,
    }
}

fn kind(label: &str) -> Option<&str> {
    label
        .strip_prefix("B-")
        .or_else(|| label.strip_prefix("I-"))
}

fn valid_bio(rows: &[&[f32]], labels: &[String]) -> Vec<(usize, f32)> {
    let n = labels.len();
    if rows.is_empty() || n == 0 {
        return Vec::new();
    }
    let rules: Vec<Rule<'_>> = labels.iter().map(|l| rule(l)).collect();
    let kinds: Vec<Option<&str>> = labels.iter().map(|l| kind(l)).collect();
    let allowed = |from: usize, to: usize| match rules[to] {
        Rule::Anywhere => true,
        Rule::After(k) => kinds[from] == Some(k),
    };
    // Log-probabilities, floored so that a zero probability stays comparable.
    let log = |p: f32| f64::from(p.max(1e-30)).ln();

    let mut score: Vec<f64> = (0..n)
        .map(|t| match rules[t] {
            Rule::Anywhere => log(rows[0][t]),
            Rule::After(_) => f64::NEG_INFINITY,
        })
        .collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(rows.len());
    for row in &rows[1..] {
        let mut next = vec![f64::NEG_INFINITY; n];
        let mut from = vec![0; n];
        for to in 0..n {
            for (prev, s) in score.iter().enumerate() {
                if *s > next[to] && allowed(prev, to) {
                    next[to] = *s;
                    from[to] = prev;
                }
            }
            next[to] += log(row[to]);
        }
        score = next;
        back.push(from);
    }

    let mut tag = best_score(&score);
    let mut tags = vec![tag; rows.len()];
    for (w, from) in back.iter().enumerate().rev() {
        tag = from[tag];
        tags[w] = tag;
    }
    tags.into_iter()
        .zip(rows)
        .map(|(t, row)| (t, row[t]))
        .collect()
}

fn best_score(score: &[f64]) -> usize {
    score
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |acc, (i, s)| {
            if *s > acc.1 { (i, *s) } else { acc }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        ["O", "B-color", "I-color", "B-brand", "I-brand"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn a_stray_inside_tag_becomes_the_best_valid_sequence() {
        // Word 0 leans O (0.6) over B-color (0.3); word 1 is most likely I-color (0.7). Argmax
        // gives O I-color, which strict IOB2 reads as nothing. The valid sequences: O O scores
        // 0.6 * 0.1 = 0.06, B-color I-color scores 0.3 * 0.7 = 0.21, O B-color 0.6 * 0.15.
        let rows: [&[f32]; 2] = [&[0.6, 0.3, 0.0, 0.1, 0.0], &[0.1, 0.15, 0.7, 0.0, 0.05]];
        let argmax = decode_word_tags(&rows, &labels(), Decoding::Argmax);
        assert_eq!(argmax, vec![(0, 0.6), (2, 0.7)]);
        let valid = decode_word_tags(&rows, &labels(), Decoding::ValidBio);
        assert_eq!(valid, vec![(1, 0.3), (2, 0.7)]);
    }

    #[test]
    fn an_inside_tag_never_starts_a_sequence_nor_follows_another_kind() {
        // I-brand is the most probable tag of both words, but cannot start; and after B-color
        // it cannot follow either: B-brand I-brand (0.3 * 0.6) beats B-color B-brand-free paths.
        let rows: [&[f32]; 2] = [&[0.0, 0.35, 0.0, 0.3, 0.35], &[0.1, 0.0, 0.0, 0.3, 0.6]];
        let valid = decode_word_tags(&rows, &labels(), Decoding::ValidBio);
        assert_eq!(valid, vec![(3, 0.3), (4, 0.6)]);
    }

    #[test]
    fn valid_argmax_sequences_are_kept_and_empty_input_is_empty() {
        let rows: [&[f32]; 3] = [
            &[0.1, 0.8, 0.05, 0.05, 0.0],
            &[0.1, 0.0, 0.9, 0.0, 0.0],
            &[0.9, 0.0, 0.0, 0.1, 0.0],
        ];
        let valid = decode_word_tags(&rows, &labels(), Decoding::ValidBio);
        assert_eq!(valid, decode_word_tags(&rows, &labels(), Decoding::Argmax));
        assert!(decode_word_tags(&[], &labels(), Decoding::ValidBio).is_empty());
    }
}
