//! The shipped recommender in headless Chromium: folding in a history gives the same products,
//! order and explanations as the native build (`tests/fixtures/recommender/fold_in.json`, made
//! by `make_reference.sh` beside it).
//!
//! Run by `cargo xtask test`, which links `models/recommender/` into
//! `.test-assets/recommender/`.

#![cfg(target_arch = "wasm32")]

mod assets;

use vitrine_core::recommend::Suggestions;
use vitrine_wasm::ShopperRecommender;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const FOLD_IN: &str = include_str!("../../../tests/fixtures/recommender/fold_in.json");

async fn model_bytes() -> Vec<u8> {
    assets::fetch_asset("recommender/recommender.safetensors").await
}

#[wasm_bindgen_test]
async fn fold_in_in_the_browser_equals_the_native_lists() {
    let model = ShopperRecommender::load_bytes(&model_bytes().await).expect("the model loads");
    let cases: Vec<Suggestions> = serde_json::from_str(FOLD_IN).expect("fixture parses");
    assert!(cases.len() >= 4);
    for case in &cases {
        let found = model
            .suggest(&case.history, case.k, case.diversity)
            .expect("recommends");
        let ids = |s: &Suggestions| -> Vec<(String, String)> {
            s.items
                .iter()
                .map(|i| (i.item.clone(), i.explanation.clone()))
                .collect()
        };
        assert_eq!(ids(&found), ids(case), "history {:?}", case.history);
        assert_eq!(found.personalised, case.personalised);
        assert_eq!(found.unknown, case.unknown);
        assert_eq!(found.segment, case.segment);
        for (f, e) in found.items.iter().zip(&case.items) {
            assert!(
                (f.score - e.score).abs() < 1e-4,
                "{}: {} vs {}",
                e.item,
                f.score,
                e.score
            );
        }
    }
}

#[wasm_bindgen_test]
async fn bad_models_and_settings_are_error_values_not_traps() {
    let mut bytes = model_bytes().await;
    let model = ShopperRecommender::load_bytes(&bytes).expect("the model loads");
    assert!(model.suggest(&["85123A".to_owned()], 0, 0.0).is_err());
    assert!(model.suggest(&["85123A".to_owned()], 3, -1.0).is_err());
    // A flipped bit in the factors, past the header and its item table.
    let at = bytes.len() - 100;
    bytes[at] ^= 0x10;
    let err = ShopperRecommender::load_bytes(&bytes).expect_err("refused");
    assert!(err.to_string().contains("checksum"), "{err}");
    assert!(ShopperRecommender::load_bytes(b"not a model").is_err());
}
