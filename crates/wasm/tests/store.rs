//! The event store on real IndexedDB in headless Chromium: round trips, the migration from
//! schema 1, an upgrade blocked by another connection (case STO-01) and a newer connection
//! that this one gives way to, and the engine's consent, tracking, export and deletion on the
//! shipped models.
//!
//! Run by `cargo xtask test`, which links the shipped models into `.test-assets/`.

#![cfg(target_arch = "wasm32")]

use std::future::IntoFuture;

use idb::{DatabaseEvent, Factory, KeyPath, ObjectStoreParams, TransactionMode};
use serde_json::{Value, json};
use vitrine_wasm::engine::{Engine, LoadOptions, RecommendOptions, database_name};
use vitrine_wasm::store::{self, Opened, SCHEMA_VERSION, StoreError};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn event(id: &str, item: &str) -> Value {
    json!({
        "id": id,
        "event": "view_item",
        "timestamp": "2026-05-01T10:00:00+02:00",
        "user_id": "v1",
        "session_id": "s1",
        "params": { "items": [{ "item_id": item }] },
    })
}

async fn fresh(name: &str) {
    store::delete_database(name).await.expect("deletes");
}

async fn ready(name: &str) -> store::EventStore {
    match store::open(name).await.expect("opens") {
        Opened::Ready(db) => db,
        Opened::Blocked(_) => panic!("{name} should not be blocked"),
    }
}

/// Opens `name` at schema 1 as the first release wrote it, with `events` in it, and returns the
/// connection, still open.
async fn schema_one(name: &str, events: &[Value]) -> idb::Database {
    let mut request = Factory::new()
        .expect("IndexedDB")
        .open(name, Some(1))
        .expect("open");
    request.on_upgrade_needed(|event| {
        let db = event.database().expect("db");
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single("id")));
        db.create_object_store("events", params).expect("store");
    });
    let db = request.into_future().await.expect("opens at version 1");
    let tx = db
        .transaction(&["events"], TransactionMode::ReadWrite)
        .expect("tx");
    let objects = tx.object_store("events").expect("store");
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    for e in events {
        let js: JsValue = serde::Serialize::serialize(e, &serializer).expect("js");
        objects.put(&js, None).expect("put");
    }
    tx.into_future().await.expect("commits");
    db
}

#[wasm_bindgen_test]
async fn events_and_meta_round_trip_and_clear() {
    let name = "vitrine-test-round-trip";
    fresh(name).await;
    assert!(!store::exists(name).await.expect("lists"));
    let db = ready(name).await;
    assert!(store::exists(name).await.expect("lists"));
    let events = vec![
        event("a", "85123A"),
        event("b", "22423"),
        event("c", "ü-🎁"),
    ];
    db.append(&events).await.expect("saves");
    db.put_meta(&json!({ "key": "consent", "visitor": "v1" }))
        .await
        .expect("saves meta");
    assert_eq!(db.events().await.expect("reads"), events);

    db.clear_events().await.expect("clears");
    assert!(db.events().await.expect("reads").is_empty());
    assert_eq!(db.meta().await.expect("reads").len(), 1, "consent survives");
    db.close();
    fresh(name).await;
}

#[wasm_bindgen_test]
async fn schema_one_is_migrated_keeping_its_events() {
    let name = "vitrine-test-migration";
    fresh(name).await;
    let old = vec![event("old-1", "85123A"), event("old-2", "22423")];
    schema_one(name, &old).await.close();

    let db = ready(name).await;
    assert_eq!(db.events().await.expect("reads"), old);
    db.put_meta(&json!({ "key": "consent" }))
        .await
        .expect("the meta store of schema 2 exists");
    db.close();
    fresh(name).await;
}

#[wasm_bindgen_test]
async fn a_blocked_upgrade_settles_then_completes_when_the_other_tab_closes() {
    let name = "vitrine-test-blocked";
    fresh(name).await;
    let old = vec![event("kept", "85123A")];
    // The other tab: an old build that holds version 1 open and ignores `versionchange`.
    let other = schema_one(name, &old).await;

    let pending = match store::open(name).await {
        Ok(Opened::Blocked(pending)) => pending,
        other => panic!("expected a blocked upgrade, got {other:?}"),
    };
    assert!(
        StoreError::Blocked
            .to_string()
            .contains("close the other tabs")
    );

    other.close();
    let db = pending
        .await
        .expect("the upgrade completes once the other tab lets go");
    assert_eq!(db.events().await.expect("reads"), old);
    db.close();
    fresh(name).await;
}

#[wasm_bindgen_test]
async fn this_connection_gives_way_to_a_newer_build() {
    let name = "vitrine-test-gives-way";
    fresh(name).await;
    let db = ready(name).await;
    db.append(&[event("x", "85123A")]).await.expect("saves");

    // A newer build in another tab opens a later version: it is not blocked by this one.
    let newer = Factory::new()
        .expect("IndexedDB")
        .open(name, Some(SCHEMA_VERSION + 1))
        .expect("open");
    let newer = store::with_timeout(newer.into_future(), 5_000, "open the newer version")
        .await
        .expect("not blocked")
        .expect("opens");
    assert!(db.is_closed());
    let refused = db.append(&[event("y", "22423")]).await;
    assert!(matches!(refused, Err(StoreError::Newer(_))), "{refused:?}");
    let message = refused.expect_err("refused").to_string();
    assert!(message.contains("reload the page"), "{message}");
    newer.close();
    fresh(name).await;
}

#[wasm_bindgen_test]
async fn the_engine_keeps_nothing_before_consent_and_everything_after() {
    let namespace = "test-engine";
    fresh(&database_name(namespace)).await;
    let quiet = |_: f64, _: &str| {};
    let options = LoadOptions {
        namespace: namespace.to_owned(),
        prefer_gpu: false,
        tagger: true,
        tagger_worker: None,
    };
    let engine = Engine::load("/.test-assets", &options, &quiet)
        .await
        .expect("the engine loads the shipped models");
    assert_eq!(engine.backend().name, "cpu");
    assert!(!engine.consent());

    // Before consent: remembered for this page only.
    let view = json!({ "event": "view_item", "params": { "items": [{ "item_id": "85123A" }] } });
    let tracked = engine.track(view).await.expect("tracks");
    assert!(!tracked.saved);
    assert!(
        !store::exists(&database_name(namespace))
            .await
            .expect("lists")
    );

    // A malformed event is refused with its field, and nothing is recorded.
    let bad = json!({ "event": "add_to_cart", "params": { "items": [] } });
    let err = engine.track(bad).await.expect_err("refused");
    assert!(err.contains("items"), "{err}");
    assert_eq!(engine.events().len(), 1);

    // Consent saves what came before, and what comes after.
    let status = engine.set_consent(true).await.expect("consents");
    assert_eq!(status.kind, "indexeddb", "{}", status.reason);
    let buy = json!({
        "event": "purchase",
        "params": { "transaction_id": "o1", "currency": "GBP",
                    "items": [{ "item_id": "22423", "price": 1275, "quantity": 1 }] },
    });
    assert!(engine.track(buy).await.expect("tracks").saved);
    let db = ready(&database_name(namespace)).await;
    assert_eq!(db.events().await.expect("reads").len(), 2);
    db.close();

    // The list folds in both events and leaves out what was had.
    let list = engine
        .recommend(&RecommendOptions::default())
        .expect("recommends");
    assert!(list.personalised);
    assert!(
        list.items
            .iter()
            .all(|s| s.item != "85123A" && s.item != "22423")
    );

    // Export holds both; deletion leaves none, in memory and on the device.
    let exported: Value = serde_json::from_str(&engine.export()).expect("JSON");
    assert_eq!(exported["events"].as_array().map(Vec::len), Some(2));
    engine.delete_all().await.expect("deletes");
    assert!(engine.events().is_empty());
    let db = ready(&database_name(namespace)).await;
    assert!(db.events().await.expect("reads").is_empty());
    db.close();

    engine.set_consent(false).await.expect("withdraws");
    assert!(
        !store::exists(&database_name(namespace))
            .await
            .expect("lists")
    );
}
