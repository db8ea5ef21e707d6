//! From the tagger's per-token probabilities, over one or more windows of a text, to one tag per
//! word and to entities over the original text.
//!
//! Each word is read from its first piece (the other pieces carry no label, case TAG-01). A long
//! text is cut into overlapping windows, so a word can lie in two of them; it is read from the
//! window where its first piece has the most context on both sides, and the whole text is then
//! decoded once. An entity is never reported twice, nor two overlapping entities for the two
//! windows (case TAG-03).

use serde::{Deserialize, Serialize};

use crate::bio_decoding::{Decoding, decode_word_tags};
use crate::entity_metrics::{Scheme, entities};
use crate::error::{Error, Result};
use crate::tokenizer::Encoding;

/// One entity found in a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaggedEntity {
    /// The entity type.
    pub kind: String,
    /// The text it covers.
    pub text: String,
    /// Start and end in characters.
    pub chars: (usize, usize),
    /// Start and end in UTF-16 code units.
    pub utf16: (usize, usize),
    /// Mean probability of the chosen tag over the entity's words.
    pub confidence: f32,
}

/// One window of a text and its tag probabilities: `encoding.len() * n_labels` values,
/// row-major by token.
pub type WindowProbs<'a> = (&'a Encoding, &'a [f32]);

/// The entities of `text` from the probabilities of its windows.
///
/// Words are decoded as `decoding` says, and an entity spans all the pieces of its words.
/// Should a stray `I-` tag remain (only [`Decoding::Argmax`] leaves one), it starts an entity:
/// the lenient reading, so that nothing the model marked is hidden.
pub fn decode_entities(
    text: &str,
    windows: &[WindowProbs<'_>],
    labels: &[String],
    decoding: Decoding,
) -> Result<Vec<TaggedEntity>> {
    let words = WordRows::collect(windows, labels)?;
    let present: Vec<&WordRow<'_>> = words.rows.iter().flatten().collect();
    let rows: Vec<&[f32]> = present.iter().map(|w| w.probs).collect();
    let decoded = decode_word_tags(&rows, labels, decoding);

    let tags: Vec<&str> = decoded.iter().map(|(t, _)| labels[*t].as_str()).collect();
    Ok(entities(&tags, Scheme::Lenient)?
        .into_iter()
        .map(|e| {
            let (first, last) = (present[e.start], present[e.end - 1]);
            let chars = (first.chars.0, last.chars.1);
            let confidence = decoded[e.start..e.end].iter().map(|(_, p)| p).sum::<f32>()
                / (e.end - e.start) as f32;
            TaggedEntity {
                kind: e.kind,
                text: text.chars().skip(chars.0).take(chars.1 - chars.0).collect(),
                chars,
                utf16: (first.utf16.0, last.utf16.1),
                confidence,
            }
        })
        .collect())
}

/// One tag id per word of a text of `n_words` words, from the probabilities of its windows;
/// a word that no window holds the first piece of is `O`.
pub fn decode_words(
    windows: &[WindowProbs<'_>],
    n_words: usize,
    labels: &[String],
    decoding: Decoding,
) -> Result<Vec<usize>> {
    let words = WordRows::collect(windows, labels)?;
    let (ids, rows): (Vec<usize>, Vec<&[f32]>) = words
        .rows
        .iter()
        .enumerate()
        .filter_map(|(id, row)| row.as_ref().map(|r| (id, r.probs)))
        .unzip();
    let outside = labels.iter().position(|l| l == "O").unwrap_or(0);
    let mut tags = vec![outside; n_words];
    for (id, (tag, _)) in ids
        .into_iter()
        .zip(decode_word_tags(&rows, labels, decoding))
    {
        if let Some(slot) = tags.get_mut(id) {
            *slot = tag;
        }
    }
    Ok(tags)
}

/// Every word of a text that some window holds the first piece of, by word id.
struct WordRows<'a> {
    rows: Vec<Option<WordRow<'a>>>,
}

/// One word: its first piece's probabilities from the window that gives that piece the most
/// context, and the spans of all its pieces.
struct WordRow<'a> {
    probs: &'a [f32],
    /// Tokens between the first piece and the nearer end of its window.
    margin: usize,
    chars: (usize, usize),
    utf16: (usize, usize),
}

impl<'a> WordRows<'a> {
    fn collect(windows: &[WindowProbs<'a>], labels: &[String]) -> Result<Self> {
        let n = labels.len();
        let mut rows: Vec<Option<WordRow<'a>>> = Vec::new();
        for (encoding, probs) in windows {
            if n == 0 || probs.len() != encoding.len() * n {
                return Err(Error::Input(format!(
                    "{} probabilities for {} tokens of {n} labels",
                    probs.len(),
                    encoding.len()
                )));
            }
            for i in 0..encoding.len() {
                let (Some(word), true) = (encoding.word_ids[i], encoding.first_of_word[i]) else {
                    continue;
                };
                let word = word as usize;
                if rows.len() <= word {
                    rows.resize_with(word + 1, || None);
                }
                let margin = i.min(encoding.len() - 1 - i);
                let spans = word_spans(encoding, i);
                match &mut rows[word] {
                    Some(kept) if kept.margin >= margin => {}
                    slot => {
                        *slot = Some(WordRow {
                            probs: &probs[i * n..(i + 1) * n],
                            margin,
                            chars: spans.0,
                            utf16: spans.1,
                        });
                    }
                }
            }
        }
        Ok(Self { rows })
    }
}

/// The character and UTF-16 spans of the word whose first piece is token `first`, up to its
/// last piece in this window.
fn word_spans(encoding: &Encoding, first: usize) -> ((usize, usize), (usize, usize)) {
    let word = encoding.word_ids[first];
    let last = (first..encoding.len())
        .take_while(|&i| encoding.word_ids[i] == word)
        .last()
        .unwrap_or(first);
    (
        (encoding.offsets[first].0, encoding.offsets[last].1),
        (
            encoding.offsets_utf16[first].0,
            encoding.offsets_utf16[last].1,
        ),
    )
}
