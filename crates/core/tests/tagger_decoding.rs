//! Decoding tag probabilities into entities over the original text, on the real tokenizer.

// These tests read the base encoder's tokenizer from disk, which a browser cannot.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::{TestResult, tokenizer};
use vitrine_core::{Decoding, decode_entities};

const LABELS: [&str; 9] = [
    "O",
    "B-color",
    "I-color",
    "B-brand",
    "I-brand",
    "B-product",
    "I-product",
    "B-price",
    "I-price",
];

/// Probabilities that choose `tags[i]` for token `i` with probability `p`.
fn probs(tags: &[&str], p: f32) -> Vec<f32> {
    let rest = (1.0 - p) / (LABELS.len() - 1) as f32;
    tags.iter()
        .flat_map(|t| {
            let chosen = LABELS.iter().position(|l| l == t).expect("a known label");
            (0..LABELS.len()).map(move |i| if i == chosen { p } else { rest })
        })
        .collect()
}

fn labels() -> Vec<String> {
    LABELS.map(String::from).to_vec()
}

#[test]
fn words_take_their_first_piece_and_stray_inside_tags_still_show() -> TestResult {
    let text = "red nike running shoes size 10 under $50";
    let e = tokenizer().encode(text)?.remove(0);
    assert_eq!(
        e.tokens,
        [
            "[CLS]", "red", "nike", "running", "shoes", "size", "10", "under", "$", "50", "[SEP]"
        ]
    );
    let tags = [
        "O",
        "B-color",
        "B-brand",
        "B-product",
        "I-product",
        "O",
        "O",
        "O",
        "I-price",
        "I-price",
        "O",
    ];
    let found = decode_entities(
        text,
        &[(&e, &probs(&tags, 0.9))],
        &labels(),
        Decoding::Argmax,
    )?;
    let got: Vec<_> = found
        .iter()
        .map(|f| (f.kind.as_str(), f.text.as_str(), f.chars))
        .collect();
    let expected = [
        ("color", "red", (0, 3)),
        ("brand", "nike", (4, 8)),
        ("product", "running shoes", (9, 22)),
        ("price", "$50", (37, 40)),
    ];
    assert_eq!(got, expected);
    assert!(found.iter().all(|f| (f.confidence - 0.9).abs() < 1e-6));

    // Valid IOB2 decoding cannot start with I-price: "$" becomes B-price at its probability
    // of 0.1 / 8, the best valid choice, and the entity is the same.
    let found = decode_entities(
        text,
        &[(&e, &probs(&tags, 0.9))],
        &labels(),
        Decoding::ValidBio,
    )?;
    let got: Vec<_> = found
        .iter()
        .map(|f| (f.kind.as_str(), f.text.as_str(), f.chars))
        .collect();
    assert_eq!(got, expected);
    assert!((found[3].confidence - (0.0125 + 0.9) / 2.0).abs() < 1e-6);
    Ok(())
}

#[test]
fn an_entity_covers_every_piece_of_its_words_and_counts_utf16() -> TestResult {
    let text = "\u{1F600} skechers bag";
    let e = tokenizer().encode(text)?.remove(0);
    assert_eq!(
        e.tokens,
        ["[CLS]", "[UNK]", "sk", "##eche", "##rs", "bag", "[SEP]"]
    );
    // The later pieces of "skechers" are ignored, whatever they say.
    let tags = ["O", "O", "B-brand", "O", "B-color", "B-product", "O"];
    let found = decode_entities(
        text,
        &[(&e, &probs(&tags, 0.8))],
        &labels(),
        Decoding::ValidBio,
    )?;
    let got: Vec<_> = found
        .iter()
        .map(|f| (f.kind.as_str(), f.text.as_str(), f.chars, f.utf16))
        .collect();
    assert_eq!(
        got,
        [
            ("brand", "skechers", (2, 10), (3, 11)),
            ("product", "bag", (11, 14), (12, 15))
        ]
    );
    Ok(())
}

#[test]
fn empty_text_has_no_entities_and_bad_shapes_are_errors() -> TestResult {
    let e = tokenizer().encode("   ")?.remove(0);
    let p = probs(&["O", "O"], 0.9);
    assert!(decode_entities("   ", &[(&e, &p)], &labels(), Decoding::ValidBio)?.is_empty());
    let bad = [0.5; 3];
    assert!(decode_entities("   ", &[(&e, &bad)], &labels(), Decoding::ValidBio).is_err());
    Ok(())
}

/// 600 words, word 450 "nike" at characters 1800..1804: two windows, of words 0..=509 and
/// 382..=599 (case TAG-03).
fn long_text() -> String {
    (0..600)
        .map(|i| if i == 450 { "nike" } else { "buy" })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn an_entity_in_the_overlap_of_two_windows_is_kept_once() -> TestResult {
    // TAG-03. The windows disagree on "nike": the first says brand, the second colour. Its
    // first piece is token 451 of 0..512 in the first window, 60 tokens from its end, and
    // token 69 of 0..220 in the second, 69 from its start: the second window decides.
    let text = long_text();
    let windows = tokenizer().encode(&text)?;
    assert_eq!(windows.len(), 2);
    let probs: Vec<Vec<f32>> = windows
        .iter()
        .zip([("B-brand", 0.7), ("B-color", 0.9)])
        .map(|(w, (tag, p))| {
            let tags: Vec<&str> = w
                .tokens
                .iter()
                .map(|t| if t == "nike" { tag } else { "O" })
                .collect();
            probs(&tags, p)
        })
        .collect();
    let windows: Vec<_> = windows
        .iter()
        .zip(&probs)
        .map(|(w, p)| (w, &p[..]))
        .collect();
    let found = decode_entities(&text, &windows, &labels(), Decoding::ValidBio)?;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].kind.as_str(), found[0].chars),
        ("color", (1800, 1804))
    );
    assert!((found[0].confidence - 0.9).abs() < 1e-6);
    Ok(())
}

#[test]
fn windows_that_disagree_on_a_long_entity_never_give_overlapping_ones() -> TestResult {
    // The first window reads all its words as one brand, the second all of its own as the
    // inside of a colour. Each word is read from one window, so the text splits into a brand
    // then a colour, side by side.
    let text = long_text();
    let windows = tokenizer().encode(&text)?;
    let probs: Vec<Vec<f32>> = windows
        .iter()
        .zip([("B-brand", "I-brand"), ("I-color", "I-color")])
        .map(|(w, (begin, inside))| {
            let tags: Vec<&str> = (0..w.len())
                .map(|i| match (w.special[i], i) {
                    (true, _) => "O",
                    (false, 1) => begin,
                    _ => inside,
                })
                .collect();
            probs(&tags, 0.9)
        })
        .collect();
    let windows: Vec<_> = windows
        .iter()
        .zip(&probs)
        .map(|(w, p)| (w, &p[..]))
        .collect();
    let found = decode_entities(&text, &windows, &labels(), Decoding::ValidBio)?;
    let got: Vec<_> = found.iter().map(|e| (e.kind.as_str(), e.chars)).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0, got[0].1.0), ("brand", 0));
    assert_eq!((got[1].0, got[1].1.1), ("color", text.chars().count()));
    assert!(got[0].1.1 < got[1].1.0, "{got:?}");
    Ok(())
}

#[test]
fn tagging_with_an_untrained_head_gives_entities_that_slice_the_text() -> TestResult {
    use vitrine_core::{
        Bert, BertConfig, DeviceKind, TaggerConfig, TextTagger, TextTokenizer, open_device,
        read_labels,
    };

    let device = open_device(DeviceKind::Cpu)?;
    let encoder_config = BertConfig::from_json(&common::model_file("config.json"))?;
    let encoder = Bert::from_safetensors(
        &encoder_config,
        &common::model_file("model.safetensors"),
        &device,
    )?;
    let label_file = common::repo_root().join("data/queryner/labels.json");
    let labels = read_labels("labels.json", &std::fs::read(label_file)?)?;
    let config = TaggerConfig {
        encoder: encoder_config,
        n_labels: labels.len(),
    };
    let tagger = config.init_from_encoder(encoder, &device)?;
    let tokenizer = TextTokenizer::from_bytes(&common::model_file("tokenizer.json"))?;
    let text_tagger = TextTagger::new(tokenizer, tagger, &config, labels, &device)?;

    assert!(text_tagger.tag("")?.is_empty());
    assert!(text_tagger.tag(" \t ")?.is_empty());
    let text = "\u{1F381} red heart lantern, cr\u{00e8}me colour, size 10 under $50";
    let units: Vec<u16> = text.encode_utf16().collect();
    for entity in text_tagger.tag(text)? {
        let chars: String = text
            .chars()
            .skip(entity.chars.0)
            .take(entity.chars.1 - entity.chars.0)
            .collect();
        assert_eq!(entity.text, chars);
        assert_eq!(
            String::from_utf16(&units[entity.utf16.0..entity.utf16.1])?,
            chars
        );
        assert!(entity.confidence > 0.0 && entity.confidence <= 1.0);
    }
    Ok(())
}
