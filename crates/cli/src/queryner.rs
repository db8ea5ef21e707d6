//! QueryNER splits as the tagger sees them, and the tagger's word tags on a split.

use std::path::Path;

use anyhow::{Context, Result, bail};
use vitrine_core::burn::prelude::Device;
use vitrine_core::{
    BertConfig, Decoding, Encoding, Tagger, TextTokenizer, align_labels, batch, decode_words,
    read_queryner, tag_probabilities,
};

/// Queries ready for the model: one window each, with token labels and word tags.
pub(crate) struct Split {
    /// One tokenizer window per query.
    pub(crate) windows: Vec<Encoding>,
    /// Label ids per token, [`vitrine_core::IGNORE`] where the loss skips a token.
    pub(crate) token_labels: Vec<Vec<i64>>,
    /// The words of each query.
    pub(crate) words: Vec<Vec<String>>,
    /// The true tag of each word.
    pub(crate) word_tags: Vec<Vec<String>>,
}

/// Reads `dir/name` (QueryNER JSON) and tokenizes it; `limit` keeps the first queries only.
pub(crate) fn load_split(
    dir: &Path,
    name: &str,
    labels: &[String],
    tokenizer: &TextTokenizer,
    limit: Option<usize>,
) -> Result<Split> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut texts = read_queryner(name, &bytes, labels)?;
    texts.truncate(limit.unwrap_or(usize::MAX));
    let mut split = Split {
        windows: Vec::new(),
        token_labels: Vec::new(),
        words: Vec::new(),
        word_tags: Vec::new(),
    };
    for text in texts {
        let mut windows = tokenizer.encode_words(&text.words)?;
        if windows.len() != 1 {
            bail!(
                "{name}: a query of {} words needs {} windows",
                text.words.len(),
                windows.len()
            );
        }
        let window = windows.remove(0);
        let ids: Vec<u32> = text
            .tags
            .iter()
            .map(|t| labels.iter().position(|l| l == t).map(|i| i as u32))
            .collect::<Option<_>>()
            .context("a tag outside the label list")?;
        split.token_labels.push(align_labels(&window, &ids)?);
        split.windows.push(window);
        split.words.push(text.words);
        split.word_tags.push(text.tags);
    }
    Ok(split)
}

/// The tag `model` gives each word of every query in `split`, decoded from the probabilities of
/// the word's first piece in each of the `decodings`: one list of queries per decoding.
pub(crate) fn predict_tags(
    model: &Tagger,
    config: &BertConfig,
    split: &Split,
    labels: &[String],
    decodings: &[Decoding],
    device: &Device,
) -> Result<Vec<Vec<Vec<String>>>> {
    let mut predicted = vec![Vec::with_capacity(split.windows.len()); decodings.len()];
    let mut query = 0;
    for chunk in split.windows.chunks(64) {
        let input = batch(config, chunk, device)?;
        let probs = tag_probabilities(model.forward(input));
        let [_, seq, n] = probs.dims();
        let probs = probs
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("cannot read the probabilities back: {e:?}"))?;
        for (b, window) in chunk.iter().enumerate() {
            let rows = &probs[b * seq * n..(b * seq + window.len()) * n];
            let n_words = split.word_tags[query].len();
            for (decoding, predicted) in decodings.iter().zip(&mut predicted) {
                let tags = decode_words(&[(window, rows)], n_words, labels, *decoding)?;
                predicted.push(tags.into_iter().map(|t| labels[t].clone()).collect());
            }
            query += 1;
        }
    }
    Ok(predicted)
}
