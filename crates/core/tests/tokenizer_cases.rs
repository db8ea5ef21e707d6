//! Tokenizer behaviour from real bug reports (cases TOK-01 to TOK-07, TAG-03), on the shipped
//! all-MiniLM-L6-v2 `tokenizer.json`.

// These tests read the base encoder from disk, which a browser cannot.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::{TestResult, tokenizer};
use tokenizers::normalizers::BertNormalizer;
use tokenizers::{NormalizedString, Normalizer};
use vitrine_core::{Encoding, Error, WindowConfig};

/// A token with its character and UTF-16 offsets.
type Span<'a> = (&'a str, (usize, usize), (usize, usize));

/// Non-special tokens with their offsets.
fn spans(e: &Encoding) -> Vec<Span<'_>> {
    (0..e.len())
        .filter(|&i| !e.special[i])
        .map(|i| (e.tokens[i].as_str(), e.offsets[i], e.offsets_utf16[i]))
        .collect()
}

fn one(text: &str) -> Encoding {
    let mut windows = tokenizer().encode(text).expect("encodes");
    assert_eq!(windows.len(), 1);
    windows.remove(0)
}

fn char_slice(text: &str, (start, end): (usize, usize)) -> String {
    text.chars().skip(start).take(end - start).collect()
}

/// What JavaScript's `text.slice(start, end)` returns, or `None` for a broken surrogate pair.
fn js_slice(text: &str, (start, end): (usize, usize)) -> Option<String> {
    let units: Vec<u16> = text.encode_utf16().collect();
    String::from_utf16(units.get(start..end)?).ok()
}

fn normalise(text: &str) -> String {
    let mut normalized = NormalizedString::from(text);
    BertNormalizer::new(true, true, None, true)
        .normalize(&mut normalized)
        .expect("normalises");
    normalized.get().to_owned()
}

#[test]
fn offsets_index_the_original_text_after_accent_stripping() -> TestResult {
    // TOK-01: lowercase with strip_accents unset strips accents, as the reference does.
    let bag = one("\u{30d0}\u{30c3}\u{30b0}");
    let expected = [("ハ", (0, 1)), ("##ッ", (1, 2)), ("##ク", (2, 3))];
    let got: Vec<_> = spans(&bag).iter().map(|(t, o, _)| (*t, *o)).collect();
    assert_eq!(got, expected);

    let composed = one("na\u{00ef}ve caf\u{00e9}");
    let got: Vec<_> = spans(&composed).iter().map(|(t, o, _)| (*t, *o)).collect();
    assert_eq!(got, [("naive", (0, 5)), ("cafe", (6, 10))]);

    let decomposed = one("nai\u{0308}ve cafe\u{0301}");
    let got: Vec<_> = spans(&decomposed)
        .iter()
        .map(|(t, o, _)| (*t, *o))
        .collect();
    assert_eq!(got, [("naive", (0, 6)), ("cafe", (7, 11))]);

    for text in [
        "\u{30d0}\u{30c3}\u{30b0}",
        "na\u{00ef}ve caf\u{00e9}",
        "nai\u{0308}ve cafe\u{0301}",
    ] {
        for (token, offsets, _) in spans(&one(text)) {
            let surface = char_slice(text, offsets);
            assert!(!surface.is_empty(), "{text}: {token} has an empty span");
            assert_eq!(
                normalise(&surface),
                token.trim_start_matches("##"),
                "{text}: {token}"
            );
        }
    }
    Ok(())
}

#[test]
fn emoji_outside_the_vocabulary_become_one_unknown_per_word() -> TestResult {
    // TOK-02.
    let run = one("\u{1F600}\u{1F600}\u{1F600}");
    assert_eq!(run.tokens, ["[CLS]", "[UNK]", "[SEP]"]);
    assert_eq!((run.offsets[1], run.offsets_utf16[1]), ((0, 3), (0, 6)));
    for c in 0..3 {
        assert_eq!(run.char_to_token(c, 0), Some(1), "character {c}");
    }

    let spaced = one("red \u{1F600}\u{1F600} dress");
    assert_eq!(
        spans(&spaced),
        [
            ("red", (0, 3), (0, 3)),
            ("[UNK]", (4, 6), (4, 8)),
            ("dress", (7, 12), (9, 14))
        ]
    );

    let glued = one("red\u{1F600} dress");
    assert_eq!(
        spans(&glued),
        [("[UNK]", (0, 4), (0, 5)), ("dress", (5, 10), (6, 11))]
    );
    Ok(())
}

#[test]
fn utf16_offsets_slice_javascript_strings_without_splitting_surrogates() -> TestResult {
    // TOK-04, and the property behind it over texts of every kind of character.
    let text = "\u{1F600} red bag";
    let e = one(text);
    let red = e
        .tokens
        .iter()
        .position(|t| t == "red")
        .expect("red is a token");
    assert_eq!(e.offsets[red], (2, 5));
    assert_eq!(e.offsets_utf16[red], (3, 6));

    let texts = [
        text,
        "red \u{1F600}\u{1F600} dress \u{1F381} for \u{00a3}50",
        "\u{1F1EC}\u{1F1E7} flag, \u{1F469}\u{200D}\u{1F467} family, caf\u{00e9}",
        "\u{6211}\u{60f3}\u{4e70}\u{1F600}\u{7ea2}\u{8272}",
        "\u{10348}\u{10348} gothic \u{1D11E} clef",
    ];
    for text in texts {
        for (token, chars, utf16) in spans(&one(text)) {
            let js = js_slice(text, utf16);
            assert_eq!(
                js,
                Some(char_slice(text, chars)),
                "{text}: {token} at {utf16:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn a_stride_that_cannot_advance_is_refused_not_a_panic() -> TestResult {
    // TOK-05: [CLS] and [SEP] leave 8 text tokens in a window of 10.
    let mut tokenizer = tokenizer();
    for stride in [8, 9, 10, 1000] {
        let err = tokenizer
            .set_windows(WindowConfig {
                max_len: 10,
                stride,
            })
            .unwrap_err();
        assert!(matches!(err, Error::Window(_)), "stride {stride}: {err}");
        assert!(err.to_string().contains("lower the stride"), "{err}");
    }
    for max_len in [0, 1, 2] {
        let err = tokenizer
            .set_windows(WindowConfig { max_len, stride: 0 })
            .unwrap_err();
        assert!(matches!(err, Error::Window(_)), "max_len {max_len}: {err}");
    }

    tokenizer.set_windows(WindowConfig {
        max_len: 10,
        stride: 7,
    })?;
    let windows = tokenizer.encode(&["buy red dress"; 4].join(" "))?;
    assert_eq!(windows.len(), 5);
    for w in &windows {
        assert_eq!(w.len(), 10);
        assert_eq!(
            (w.tokens[0].as_str(), w.tokens[9].as_str()),
            ("[CLS]", "[SEP]")
        );
    }
    Ok(())
}

#[test]
fn every_cjk_character_is_a_token_with_offsets_into_the_original() -> TestResult {
    // TOK-07.
    let e = one("\u{6211}\u{60f3}\u{4e70}\u{7ea2}\u{8272}\u{8fde}\u{8863}\u{88d9}");
    let offsets: Vec<_> = spans(&e).iter().map(|(_, o, _)| *o).collect();
    assert_eq!(offsets, (0..8).map(|i| (i, i + 1)).collect::<Vec<_>>());

    let mixed = one("buy \u{7ea2}\u{8272}dress");
    let offsets: Vec<_> = spans(&mixed).iter().map(|(_, o, _)| *o).collect();
    assert_eq!(offsets, [(0, 3), (4, 5), (5, 6), (6, 11)]);

    let pair = tokenizer().encode_pair(
        "\u{6211}\u{60f3}\u{4e70}",
        "\u{7ea2}\u{8272}\u{8fde}\u{8863}\u{88d9}",
    )?;
    let second: Vec<_> = (0..pair.len())
        .filter(|&i| pair.sequence_ids[i] == Some(1))
        .collect();
    let offsets: Vec<_> = second.iter().map(|&i| pair.offsets[i]).collect();
    assert_eq!(offsets, (0..5).map(|i| (i, i + 1)).collect::<Vec<_>>());
    assert!(second.iter().all(|&i| pair.type_ids[i] == 1));
    let first: Vec<_> = (0..pair.len())
        .filter(|&i| pair.sequence_ids[i] == Some(0))
        .collect();
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|&i| pair.type_ids[i] == 0));
    Ok(())
}

#[test]
fn long_text_splits_into_overlapping_windows_that_keep_offsets() -> TestResult {
    // TAG-03: 600 words, word 450 is "nike" at characters 1800..1804.
    let words: Vec<&str> = (0..600)
        .map(|i| if i == 450 { "nike" } else { "buy" })
        .collect();
    let text = words.join(" ");
    let windows = tokenizer().encode(&text)?;
    assert_eq!(
        windows.iter().map(Encoding::len).collect::<Vec<_>>(),
        [512, 220]
    );

    let word_range = |w: &Encoding| {
        let ids: Vec<u32> = w.word_ids.iter().flatten().copied().collect();
        (ids[0], ids[ids.len() - 1])
    };
    assert_eq!(word_range(&windows[0]), (0, 509));
    assert_eq!(word_range(&windows[1]), (382, 599));
    for w in &windows {
        assert_eq!(
            (w.tokens[0].as_str(), w.tokens[w.len() - 1].as_str()),
            ("[CLS]", "[SEP]")
        );
        let nike = w
            .tokens
            .iter()
            .position(|t| t == "nike")
            .expect("nike in both windows");
        assert_eq!(w.offsets[nike], (1800, 1804));
    }
    Ok(())
}

#[test]
fn empty_and_blank_text_give_only_special_tokens() -> TestResult {
    for text in ["", "   ", "\n\t", "\u{200B}"] {
        let e = one(text);
        assert_eq!(e.tokens, ["[CLS]", "[SEP]"], "{text:?}");
    }
    Ok(())
}

#[test]
fn a_file_that_is_not_a_tokenizer_is_refused() {
    for bytes in [&b""[..], b"{}", b"{\"model\": 3}", &[0xff, 0xfe]] {
        let err = vitrine_core::TextTokenizer::from_bytes(bytes).unwrap_err();
        assert!(matches!(err, Error::Tokenizer(_)), "{err}");
    }
}

#[test]
fn only_the_first_piece_of_a_word_carries_its_label() -> TestResult {
    // TAG-01: "adidas" splits into adi ##das.
    let words = ["buy", "adidas", "red", "dress"];
    let windows = tokenizer().encode_words(&words)?;
    assert_eq!(windows.len(), 1);
    let e = &windows[0];
    assert_eq!(
        e.tokens,
        ["[CLS]", "buy", "adi", "##das", "red", "dress", "[SEP]"]
    );
    assert_eq!(
        e.word_ids,
        [None, Some(0), Some(1), Some(1), Some(2), Some(3), None]
    );

    // Sentence offsets in "buy adidas red dress", not offsets within each word.
    assert_eq!(vitrine_core::join_words(&words), "buy adidas red dress");
    assert_eq!((e.offsets[2], e.offsets[3]), ((4, 7), (7, 10)));

    // Labels 1..=4 stand for B-BUY, B-BRAND, B-COLOUR, B-PRODUCT.
    let labels = vitrine_core::align_labels(e, &[1, 2, 3, 4])?;
    assert_eq!(labels, [-100, 1, 2, -100, 3, 4, -100]);

    // Decoding reads each word from its first piece: exactly four word labels.
    let predicted = [0, 1, 2, 9, 3, 4, 0];
    let words_back = vitrine_core::word_values(e, &predicted, words.len());
    assert_eq!(words_back, [Some(1), Some(2), Some(3), Some(4)]);
    Ok(())
}

#[test]
fn a_window_starting_inside_a_word_labels_none_of_its_pieces() -> TestResult {
    let mut tokenizer = tokenizer();
    tokenizer.set_windows(WindowConfig {
        max_len: 5,
        stride: 1,
    })?;
    // buy sk ##eche ##rs dress: windows of 3 pieces sharing 1.
    let windows = tokenizer.encode_words(&["buy", "skechers", "dress"])?;
    let second = &windows[1];
    assert_eq!(second.tokens, ["[CLS]", "##eche", "##rs", "dress", "[SEP]"]);
    assert_eq!(
        vitrine_core::align_labels(second, &[1, 2, 3])?,
        [-100, -100, -100, 3, -100]
    );
    Ok(())
}
