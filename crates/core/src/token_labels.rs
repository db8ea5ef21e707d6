//! From word labels to token labels for training, and from token predictions back to words.
//!
//! A word split into several pieces is labelled on its first piece only; the other pieces, and
//! the special tokens, carry [`IGNORE`] and take no part in the loss. Decoding reads each word's
//! prediction from its first piece. Labelling every piece with the word's `B-` tag would create
//! spurious entities (case TAG-01).

use crate::error::{Error, Result};
use crate::tokenizer::Encoding;

/// The label of tokens the loss ignores, as in PyTorch's `CrossEntropyLoss`.
pub const IGNORE: i64 = -100;

/// Token labels of one window from the labels of its words.
///
/// `word_labels[w]` is the label of word `w` of the whole text (the windows of one text share
/// word ids).
pub fn align_labels(encoding: &Encoding, word_labels: &[u32]) -> Result<Vec<i64>> {
    (0..encoding.len())
        .map(|i| match encoding.word_ids[i] {
            Some(w) if encoding.first_of_word[i] => word_labels
                .get(w as usize)
                .map(|l| i64::from(*l))
                .ok_or_else(|| {
                    Error::Input(format!(
                        "token {i} belongs to word {w} but only {} word labels were given",
                        word_labels.len()
                    ))
                }),
            _ => Ok(IGNORE),
        })
        .collect()
}

/// Each word's value read from its first piece; `None` for words whose first piece lies in
/// another window.
pub fn word_values<T: Clone>(
    encoding: &Encoding,
    token_values: &[T],
    n_words: usize,
) -> Vec<Option<T>> {
    let mut words = vec![None; n_words];
    for (i, value) in token_values.iter().enumerate().take(encoding.len()) {
        if let (Some(w), true) = (encoding.word_ids[i], encoding.first_of_word[i])
            && let Some(slot) = words.get_mut(w as usize)
        {
            *slot = Some(value.clone());
        }
    }
    words
}
