//! The engine as a stateless edge function: a request carries a shopper's recent events, the
//! answer carries their recommendations, and nothing is kept in between.
//!
//! The handler speaks plain strings so that any runtime that runs wasm can host it: Node's
//! `http` server, a Worker's `fetch` handler or a Deno `serve` callback read the body as text,
//! pass it to [`EdgeHandler::handle`] and send back the status and body it gives.

use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use vitrine_core::events::Event;
use vitrine_core::recommend::ShippedRecommender;
use wasm_bindgen::prelude::*;

use crate::engine::{RecommendOptions, now, recommend_for};

/// The largest body the handler reads, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The most events one request may carry.
pub const MAX_EVENTS: usize = 1000;

/// A request: the shopper's events, oldest first, and what to recommend.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    events: Vec<Value>,
    k: Option<usize>,
    context: Option<String>,
    diversity: Option<f64>,
}

impl Request {
    fn options(&self) -> RecommendOptions {
        let default = RecommendOptions::default();
        RecommendOptions {
            k: self.k.unwrap_or(default.k),
            context: self.context.clone(),
            diversity: self.diversity.unwrap_or(default.diversity),
        }
    }
}

/// An HTTP answer: a status and a JSON body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    /// 200, or 400 for a request the handler cannot answer.
    pub status: u16,
    /// The recommendations, or `{ "error": "..." }` saying what to fix.
    pub body: String,
}

impl Reply {
    fn refuse(message: impl Into<String>) -> Reply {
        Reply {
            status: 400,
            body: json!({ "error": message.into() }).to_string(),
        }
    }
}

/// Answers one request body with the shipped recommender. Events may leave out `id`,
/// `timestamp` and `session_id`; they get a position-based id, now and one session.
pub fn answer(recommender: &ShippedRecommender, body: &str) -> Reply {
    if body.len() > MAX_BODY_BYTES {
        return Reply::refuse(format!(
            "the body has {} bytes, over the limit of {MAX_BODY_BYTES}: send the shopper's most \
             recent events only",
            body.len()
        ));
    }
    let request: Request = match serde_json::from_str(body) {
        Ok(request) => request,
        Err(err) => {
            return Reply::refuse(format!(
                "the body is not a request like {{ \"events\": [...], \"k\": 4 }}: {err}"
            ));
        }
    };
    if request.events.len() > MAX_EVENTS {
        return Reply::refuse(format!(
            "{} events, over the limit of {MAX_EVENTS}: send the most recent ones",
            request.events.len()
        ));
    }

    let options = request.options();
    let stamp = now().to_rfc3339_opts(SecondsFormat::Millis, false);
    let mut events = Vec::with_capacity(request.events.len());
    for (i, mut value) in request.events.into_iter().enumerate() {
        let Some(fields) = value.as_object_mut() else {
            return Reply::refuse(format!("events[{i}] is not a JSON object"));
        };
        fields
            .entry("id")
            .or_insert_with(|| json!(format!("edge-{i}")));
        fields.entry("timestamp").or_insert_with(|| json!(stamp));
        fields.entry("session_id").or_insert_with(|| json!("edge"));
        match Event::from_json_value(&value) {
            Ok(event) => events.push(event),
            Err(err) => return Reply::refuse(format!("events[{i}]: {err}")),
        }
    }

    match recommend_for(recommender, &events, &options) {
        Ok(list) => Reply {
            status: 200,
            body: serde_json::to_string(&list).unwrap_or_default(),
        },
        Err(message) => Reply::refuse(message),
    }
}

/// The edge function for JavaScript hosts.
///
/// ```js
/// import { initSync, EdgeHandler } from "./vitrine_wasm.js";
/// initSync({ module: wasmBytes });
/// const handler = EdgeHandler.load(recommenderBytes);
/// const { status, body } = handler.handle(await request.text());
/// ```
#[wasm_bindgen]
#[derive(Debug)]
pub struct EdgeHandler {
    recommender: ShippedRecommender,
}

#[wasm_bindgen]
impl EdgeHandler {
    /// Loads `recommender.safetensors`; a corrupted or foreign file is refused with the reason.
    pub fn load(model: &[u8]) -> Result<EdgeHandler, JsError> {
        crate::run_static_constructors();
        let recommender = ShippedRecommender::from_bytes(model)?;
        Ok(EdgeHandler { recommender })
    }

    /// Answers one request body (text, at most 256 KiB): `{ events: [...], k, context,
    /// diversity }` gives `{ status: 200, body }` with the same list as the browser engine's
    /// `recommend` for those events, and a malformed or oversized body gives `{ status: 400,
    /// body: '{"error": "..."}' }`.
    pub fn handle(&self, body: &str) -> Result<JsValue, JsError> {
        let reply = answer(&self.recommender, body);
        Ok(serde_wasm_bindgen::to_value(&reply)?)
    }

    /// The `k` most popular products, `[{ id, title, price }]`, most bought first: what a
    /// page shows before it knows the shopper, and what a widget falls back to.
    pub fn popular(&self, k: usize) -> Result<JsValue, JsError> {
        let none: [&str; 0] = [];
        let list = self.recommender.suggest(&none, k, 0.0)?;
        let items: Vec<Value> = list
            .items
            .iter()
            .filter_map(|s| self.recommender.item(&s.item))
            .map(|item| json!({ "id": item.id, "title": item.title, "price": item.price }))
            .collect();
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        Ok(items.serialize(&serializer)?)
    }

    /// ISO 4217 code of the product prices.
    pub fn currency(&self) -> String {
        self.recommender.currency.clone()
    }
}
