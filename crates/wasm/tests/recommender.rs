//! The shipped recommender in headless Chromium: folding in a history gives the same products,
//! order and explanations as the native build (`tests/fixtures/recommender/fold_in.json`, made
//! by `make_reference.sh` beside it), and the edge handler answers a request's events with the
//! list the browser engine gives for the same events, or a 400 that says what is wrong.
//!
//! Run by `cargo xtask test`, which links `models/recommender/` into
//! `.test-assets/recommender/`.

#![cfg(target_arch = "wasm32")]

mod assets;

use serde_json::{Value, json};
use vitrine_core::recommend::{ShippedRecommender, Suggestions};
use vitrine_wasm::ShopperRecommender;
use vitrine_wasm::edge::{MAX_BODY_BYTES, MAX_EVENTS, answer};
use vitrine_wasm::engine::{Engine, LoadOptions, RecommendOptions};
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

/// A shopper's trail with every field given, as a page would have recorded it.
fn trail() -> Vec<Value> {
    let line = |id: &str| json!([{ "item_id": id, "price": 295, "quantity": 1 }]);
    let event = |n: u32, name: &str, params: Value| {
        json!({
            "id": format!("t{n}"), "event": name, "timestamp": format!("2026-11-0{n}T10:00:00Z"),
            "user_id": "v1", "session_id": "s1", "params": params,
        })
    };
    vec![
        event(1, "view_item", json!({ "items": line("22086") })),
        event(
            2,
            "add_to_cart",
            json!({ "currency": "GBP", "items": line("22086") }),
        ),
        event(
            3,
            "share",
            json!({ "item_id": "84879", "recipient": "r_5f2a9c", "method": "link" }),
        ),
        event(4, "view_item", json!({ "items": line("21212") })),
    ]
}

#[wasm_bindgen_test]
async fn the_edge_answers_with_the_browser_engines_list() {
    let quiet = |_: f64, _: &str| {};
    let options = LoadOptions {
        namespace: "test-edge".to_owned(),
        prefer_gpu: false,
        tagger: false,
        tagger_worker: None,
    };
    let engine = Engine::load("/.test-assets", &options, &quiet)
        .await
        .expect("the engine loads without the tagger");
    assert_eq!(engine.backend().name, "cpu");
    for event in trail() {
        engine.track(event).await.expect("tracks");
    }
    let shipped = ShippedRecommender::from_bytes(&model_bytes().await).expect("loads");

    for (k, context, diversity) in [(5, None, 0.3), (3, Some("item:85123A"), 0.0)] {
        let asked = RecommendOptions {
            k,
            context: context.map(str::to_owned),
            diversity,
        };
        let local = engine.recommend(&asked).expect("recommends");
        let body = json!({ "events": trail(), "k": k, "context": context, "diversity": diversity });
        let reply = answer(&shipped, &body.to_string());
        assert_eq!(reply.status, 200, "{}", reply.body);
        let remote: Suggestions = serde_json::from_str(&reply.body).expect("a list");
        assert_eq!(remote, local, "k {k}, context {context:?}");
        assert_eq!(remote.items.len(), k);
    }
    let personal = engine
        .recommend(&RecommendOptions::default())
        .expect("list");
    assert!(personal.personalised);
    assert!(
        personal
            .items
            .iter()
            .any(|s| s.explanation.starts_with("because you shared 84879")),
        "{:?}",
        personal.items
    );

    // Left-out ids, times and sessions are filled in; the list is the same.
    let bare: Vec<Value> = trail()
        .into_iter()
        .map(|e| json!({ "event": e["event"], "params": e["params"] }))
        .collect();
    let reply = answer(&shipped, &json!({ "events": bare, "k": 5 }).to_string());
    let remote: Suggestions = serde_json::from_str(&reply.body).expect("a list");
    assert_eq!(
        remote.items,
        engine
            .recommend(&RecommendOptions {
                k: 5,
                ..RecommendOptions::default()
            })
            .expect("list")
            .items
    );
}

#[wasm_bindgen_test]
async fn the_edge_refuses_what_it_cannot_answer_with_a_reason() {
    let shipped = ShippedRecommender::from_bytes(&model_bytes().await).expect("loads");
    let view = json!({ "event": "view_item", "params": { "items": [{ "item_id": "22086" }] } });
    let many: Vec<Value> = (0..=MAX_EVENTS).map(|_| view.clone()).collect();
    let cases = [
        ("".to_owned(), "not a request"),
        ("[1, 2]".to_owned(), "not a request"),
        ("{\"events\": 3}".to_owned(), "not a request"),
        (
            json!({ "events": [], "colour": "red" }).to_string(),
            "unknown field `colour`",
        ),
        (
            json!({ "events": [7] }).to_string(),
            "events[0] is not a JSON object",
        ),
        (
            json!({ "events": [{ "event": "fly" }] }).to_string(),
            "events[0]",
        ),
        (
            json!({ "events": [view, { "event": "view_item", "params": {} }] }).to_string(),
            "events[1]",
        ),
        (
            json!({ "events": [], "k": 0 }).to_string(),
            "ask for 1 to 100",
        ),
        (
            json!({ "events": [], "k": -1 }).to_string(),
            "not a request",
        ),
        (
            json!({ "events": [], "diversity": 2 }).to_string(),
            "diversity is 2",
        ),
        (
            json!({ "events": [], "context": "shop:1" }).to_string(),
            "unknown context",
        ),
        (
            json!({ "events": many }).to_string(),
            "over the limit of 1000",
        ),
        ("x".repeat(MAX_BODY_BYTES + 1), "over the limit of 262144"),
        (r#"{"events": ["\ud800"]}"#.to_owned(), "not a request"),
    ];
    for (body, expected) in cases {
        let reply = answer(&shipped, &body);
        assert_eq!(reply.status, 400, "{expected}: {}", reply.body);
        let error: Value = serde_json::from_str(&reply.body).expect("a JSON error");
        let message = error["error"].as_str().expect("an error message");
        assert!(
            message.contains(expected),
            "{expected:?} not in {message:?}"
        );
    }

    // An unknown product is no error: the list says so and falls back to popular products.
    let unknown = json!({ "events": [{ "event": "view_item",
        "params": { "items": [{ "item_id": "NOPE" }] } }] });
    let reply = answer(&shipped, &unknown.to_string());
    assert_eq!(reply.status, 200);
    let list: Suggestions = serde_json::from_str(&reply.body).expect("a list");
    assert!(!list.personalised);
    assert_eq!(list.unknown, ["NOPE"]);
}
