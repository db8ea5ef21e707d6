//! Text to WordPiece ids, with offsets a browser can use and windows for long text.
//!
//! This wraps the `tokenizers` crate. The shipped `tokenizer.json` of all-MiniLM-L6-v2 pads and
//! truncates every text to 128 tokens; both are switched off here, because padding belongs to
//! batching and a silent cut would lose the end of long text. Text longer than one window is
//! split instead into overlapping windows (see [`WindowConfig`]). The windows are cut here
//! rather than by the library's truncation, whose overflow in `tokenizers` 0.23.2 drops windows
//! once there are more than two.

use crate::error::{Error, Result};

/// How text longer than the model's positions is split.
///
/// `max_len` counts every id of a window, special tokens included; `stride` is the number of
/// tokens two neighbouring windows share. Words in the overlap appear in both windows with the
/// same offsets, so callers can deduplicate by offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowConfig {
    /// Largest number of ids in one window, special tokens included.
    pub max_len: usize,
    /// Number of text tokens shared by neighbouring windows.
    pub stride: usize,
}

impl Default for WindowConfig {
    /// BERT's 512 positions with a quarter of them shared.
    fn default() -> Self {
        Self {
            max_len: 512,
            stride: 128,
        }
    }
}

/// One window of token ids with everything needed to map tokens back to text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// WordPiece ids, special tokens included.
    pub ids: Vec<u32>,
    /// Segment ids: 0 for the first text, 1 for the second of a pair.
    pub type_ids: Vec<u32>,
    /// 1 for every token; padding is added only when batching.
    pub attention_mask: Vec<u32>,
    /// Token strings, `##` continuation marks included.
    pub tokens: Vec<String>,
    /// Index of the word each token belongs to; `None` for special tokens.
    pub word_ids: Vec<Option<u32>>,
    /// Which input text each token comes from (0 or 1); `None` for special tokens.
    pub sequence_ids: Vec<Option<usize>>,
    /// Whether each token was added by the template rather than read from the text.
    pub special: Vec<bool>,
    /// Whether each token is the first piece of its word in the whole text. A window that
    /// starts inside a word begins with pieces for which this is false.
    pub first_of_word: Vec<bool>,
    /// Start and end of each token in characters (Unicode scalar values) of its own text.
    pub offsets: Vec<(usize, usize)>,
    /// The same spans in UTF-16 code units, as JavaScript's `String.slice` counts.
    pub offsets_utf16: Vec<(usize, usize)>,
}

impl Encoding {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the window holds no token at all.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The token covering a character of the given text of the input, if any.
    pub fn char_to_token(&self, char_index: usize, sequence: usize) -> Option<usize> {
        (0..self.len()).find(|&i| {
            let (start, end) = self.offsets[i];
            !self.special[i]
                && self.sequence_ids[i] == Some(sequence)
                && start <= char_index
                && char_index < end
        })
    }
}

/// A WordPiece tokenizer read from a Hugging Face `tokenizer.json`.
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    inner: tokenizers::Tokenizer,
    windows: WindowConfig,
}

impl TextTokenizer {
    /// Reads `tokenizer.json` bytes, switching off its padding and truncation.
    ///
    /// Windows default to [`WindowConfig::default`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut inner = tokenizers::Tokenizer::from_bytes(bytes)
            .map_err(|e| Error::Tokenizer(format!("tokenizer.json does not parse: {e}")))?;
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| Error::Tokenizer(format!("cannot switch truncation off: {e}")))?;
        let mut tokenizer = Self {
            inner,
            windows: WindowConfig::default(),
        };
        tokenizer.set_windows(WindowConfig::default())?;
        Ok(tokenizer)
    }

    /// Sets how long text is split, refusing settings that cannot make progress.
    ///
    /// Each window holds `max_len` ids minus the special tokens the template adds, and the
    /// stride must leave at least one new token per window.
    pub fn set_windows(&mut self, windows: WindowConfig) -> Result<()> {
        let added = self.special_tokens_per_window();
        let Some(content) = windows.max_len.checked_sub(added).filter(|c| *c > 0) else {
            return Err(Error::Window(format!(
                "max_len {} leaves no room for text next to the {added} special tokens",
                windows.max_len
            )));
        };
        if windows.stride >= content {
            return Err(Error::Window(format!(
                "stride {} must be less than the {content} text tokens a window of {} holds \
                 (max_len minus {added} special tokens); lower the stride",
                windows.stride, windows.max_len
            )));
        }
        self.windows = windows;
        Ok(())
    }

    /// The window settings in force.
    pub fn windows(&self) -> WindowConfig {
        self.windows
    }

    /// Number of ids the template adds around one text ([CLS] and [SEP] for BERT).
    pub fn special_tokens_per_window(&self) -> usize {
        self.inner.get_post_processor().map_or(0, |p| {
            use tokenizers::PostProcessor;
            p.added_tokens(false)
        })
    }

    /// Number of ids the tokenizer can produce, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Id of a token string in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Encodes one text into one or more windows.
    ///
    /// Empty and whitespace-only text gives one window holding just the special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<Encoding>> {
        let full = self
            .inner
            .encode_char_offsets(text, false)
            .map_err(|e| Error::Tokenizer(format!("cannot encode text: {e}")))?;
        self.split_windows(full, text)
    }

    /// Encodes words that are already split, as if joined by single spaces.
    ///
    /// Word ids index `words`, and offsets count in the joined text ([`join_words`]), not in
    /// each word, so they can be shown over the sentence.
    pub fn encode_words<S: AsRef<str>>(&self, words: &[S]) -> Result<Vec<Encoding>> {
        let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
        let mut full = self
            .inner
            .encode_char_offsets(words.as_slice(), false)
            .map_err(|e| Error::Tokenizer(format!("cannot encode words: {e}")))?;

        // The tokenizer counts offsets from the start of each word; shift them by where the
        // word starts in the joined text.
        let mut starts = Vec::with_capacity(words.len());
        let mut at = 0;
        for word in &words {
            starts.push(at);
            at += word.chars().count() + 1;
        }
        let word_ids = full.get_word_ids().to_vec();
        for (offset, word) in full.get_offsets_mut().iter_mut().zip(word_ids) {
            if let Some(start) = word.and_then(|w| starts.get(w as usize)) {
                *offset = (offset.0 + start, offset.1 + start);
            }
        }
        self.split_windows(full, &join_words(&words))
    }

    fn split_windows(&self, full: tokenizers::Encoding, text: &str) -> Result<Vec<Encoding>> {
        let word_ids = full.get_word_ids();
        let first_of_word: Vec<bool> = (0..full.len())
            .map(|i| word_ids[i].is_some() && (i == 0 || word_ids[i - 1] != word_ids[i]))
            .collect();
        let content = self.windows.max_len - self.special_tokens_per_window();
        window_ranges(full.len(), content, self.windows.stride)
            .into_iter()
            .map(|(start, end)| {
                let window = self
                    .inner
                    .post_process(slice(&full, start, end), None, true)
                    .map_err(|e| Error::Tokenizer(format!("cannot add special tokens: {e}")))?;
                let mut encoding = convert(window, [text, ""]);
                // Special tokens stand outside every word.
                let mut firsts = first_of_word[start..end].iter();
                encoding.first_of_word = encoding
                    .special
                    .iter()
                    .map(|s| !s && *firsts.next().unwrap_or(&false))
                    .collect();
                Ok(encoding)
            })
            .collect()
    }

    /// Encodes a pair of texts (`[CLS] a [SEP] b [SEP]`) into one window.
    ///
    /// Offsets of tokens from `b` count from the start of `b`; `sequence_ids` tells the two
    /// texts apart. A pair longer than one window is an error: there is no sound way to slide
    /// two texts at once.
    pub fn encode_pair(&self, a: &str, b: &str) -> Result<Encoding> {
        let encoding = self
            .inner
            .encode_char_offsets((a, b), true)
            .map_err(|e| Error::Tokenizer(format!("cannot encode text pair: {e}")))?;
        if encoding.len() > self.windows.max_len {
            return Err(Error::Input(format!(
                "the pair needs {} tokens but a window holds {}; shorten the texts",
                encoding.len(),
                self.windows.max_len
            )));
        }
        let mut encoding = convert(encoding, [a, b]);
        encoding.first_of_word = (0..encoding.len())
            .map(|i| {
                let key = |j: usize| (encoding.sequence_ids[j], encoding.word_ids[j]);
                !encoding.special[i] && (i == 0 || key(i - 1) != key(i))
            })
            .collect();
        Ok(encoding)
    }
}

/// The text that [`TextTokenizer::encode_words`] counts offsets in: the words joined by single
/// spaces.
pub fn join_words<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Token ranges of the windows over `n` tokens: `content` tokens each, neighbours sharing
/// `stride`, the last one ending at `n`. `stride < content` is checked by
/// [`TextTokenizer::set_windows`].
fn window_ranges(n: usize, content: usize, stride: usize) -> Vec<(usize, usize)> {
    let step = content - stride;
    let mut ranges = Vec::with_capacity(n.saturating_sub(stride) / step + 1);
    let mut start = 0;
    loop {
        let end = (start + content).min(n);
        ranges.push((start, end));
        if end == n {
            return ranges;
        }
        start += step;
    }
}

/// Tokens `start..end` of an encoding made without special tokens.
fn slice(full: &tokenizers::Encoding, start: usize, end: usize) -> tokenizers::Encoding {
    let r = start..end;
    tokenizers::Encoding::new(
        full.get_ids()[r.clone()].to_vec(),
        full.get_type_ids()[r.clone()].to_vec(),
        full.get_tokens()[r.clone()].to_vec(),
        full.get_word_ids()[r.clone()].to_vec(),
        full.get_offsets()[r.clone()].to_vec(),
        full.get_special_tokens_mask()[r.clone()].to_vec(),
        full.get_attention_mask()[r].to_vec(),
        Vec::new(),
        ahash::AHashMap::new(),
    )
}

fn convert(encoding: tokenizers::Encoding, texts: [&str; 2]) -> Encoding {
    let tables = texts.map(Utf16Table::new);
    let sequence_ids = encoding.get_sequence_ids();
    let offsets: Vec<(usize, usize)> = encoding.get_offsets().to_vec();
    let offsets_utf16 = offsets
        .iter()
        .zip(&sequence_ids)
        .map(|(&(start, end), seq)| {
            let table = &tables[seq.unwrap_or(0).min(1)];
            (table.utf16(start), table.utf16(end))
        })
        .collect();
    Encoding {
        ids: encoding.get_ids().to_vec(),
        type_ids: encoding.get_type_ids().to_vec(),
        attention_mask: encoding.get_attention_mask().to_vec(),
        tokens: encoding.get_tokens().to_vec(),
        word_ids: encoding.get_word_ids().to_vec(),
        special: encoding
            .get_special_tokens_mask()
            .iter()
            .map(|m| *m == 1)
            .collect(),
        // Filled in by the caller, which knows where words start.
        first_of_word: Vec::new(),
        sequence_ids,
        offsets,
        offsets_utf16,
    }
}

/// Character index to UTF-16 index, for one text.
struct Utf16Table {
    /// `starts[i]` is the UTF-16 index of character `i`; one extra entry for the end.
    starts: Vec<usize>,
}

impl Utf16Table {
    fn new(text: &str) -> Self {
        let mut starts = Vec::with_capacity(text.len() + 1);
        let mut at = 0;
        for c in text.chars() {
            starts.push(at);
            at += c.len_utf16();
        }
        starts.push(at);
        Self { starts }
    }

    fn utf16(&self, char_index: usize) -> usize {
        // Special tokens carry (0, 0); no offset from the tokenizer lies past the end.
        self.starts
            .get(char_index)
            .copied()
            .unwrap_or_else(|| self.starts[self.starts.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_step_by_content_minus_stride_and_end_at_the_text_end() {
        assert_eq!(window_ranges(0, 8, 7), [(0, 0)]);
        assert_eq!(window_ranges(8, 8, 7), [(0, 8)]);
        assert_eq!(
            window_ranges(12, 8, 7),
            [(0, 8), (1, 9), (2, 10), (3, 11), (4, 12)]
        );
        assert_eq!(window_ranges(600, 510, 128), [(0, 510), (382, 600)]);
        assert_eq!(window_ranges(11, 4, 0), [(0, 4), (4, 8), (8, 11)]);
    }

    #[test]
    fn utf16_counts_astral_characters_twice() {
        let table = Utf16Table::new("\u{1F600} red");
        assert_eq!(
            (
                table.utf16(0),
                table.utf16(1),
                table.utf16(2),
                table.utf16(5)
            ),
            (0, 2, 3, 6)
        );
    }
}
