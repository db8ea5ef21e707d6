//! The engine behind the app and the widget: shipped models, the shopper's events on the
//! device, and what is made of them, behind one object.
//!
//! Nothing is written to the device before the shopper consents. Until then, and whenever the
//! browser's database cannot be used (a private window, a blocked upgrade, a full disk), events
//! live in memory for the life of the page and every answer says so. No event ever leaves the
//! device: the only network requests are the model downloads.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use vitrine_core::events::{Event, EventKind};
use vitrine_core::recommend::{CatalogueItem, ShippedRecommender, Suggestions, weighted_history};
use vitrine_core::{
    MapPoint, SegmentSummary, ShopperModel, ShopperPlacement, TaggedEntity, category_from_tags,
};

use crate::fetch::{Progress, fetch_model, forget};
use crate::store::{self, EventStore, Opened, StorageStatus, StoreError};
use crate::worker::TaggerWorker;
use crate::{Backend, ShopperTagger};

/// The database name for a namespace: each merchant's widget keeps its own.
pub fn database_name(namespace: &str) -> String {
    if namespace.is_empty() {
        "vitrine".to_owned()
    } else {
        format!("vitrine-{namespace}")
    }
}

/// The size of one loaded model file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelSize {
    /// The file, relative to the models' base URL.
    pub file: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// Whether it came from this device's cache rather than the network.
    pub cached: bool,
}

/// What `track` did with one event.
#[derive(Debug, Clone, Serialize)]
pub struct Tracked {
    /// The event as recorded, with the id, time, visitor and session filled in.
    pub event: Value,
    /// Whether it is saved on the device (`false`: in memory only, see `message`).
    pub saved: bool,
    /// Why it is not saved, when it is not.
    pub message: Option<String>,
}

/// What to load and where to keep the shopper's events.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadOptions {
    /// Keeps this namespace's events apart from others on the same origin ("" for the app).
    pub namespace: String,
    /// Runs the tagger on WebGPU when the browser offers an adapter.
    pub prefer_gpu: bool,
    /// Loads the tagger (23 MB). A widget that only recommends leaves it out.
    pub tagger: bool,
    /// Runs the tagger in a Web Worker started from this script (`tagger-worker.js` beside
    /// the engine's `vitrine_wasm.js`), so that tagging never freezes the page.
    pub tagger_worker: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            namespace: String::new(),
            prefer_gpu: true,
            tagger: true,
            tagger_worker: None,
        }
    }
}

/// Options of a recommendation request.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecommendOptions {
    /// How many products.
    pub k: usize,
    /// `"item:<id>"` for products like that one; absent for the shopper's own list.
    pub context: Option<String>,
    /// MMR diversity from 0 (the model's order) to 1.
    pub diversity: f64,
}

impl Default for RecommendOptions {
    fn default() -> Self {
        Self {
            k: 8,
            context: None,
            diversity: 0.3,
        }
    }
}

/// The most products one request may ask for.
pub const MAX_K: usize = 100;

impl RecommendOptions {
    /// Refuses a length of 0 or over [`MAX_K`], and a diversity outside 0 to 1.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_K).contains(&self.k) {
            return Err(format!("k is {}: ask for 1 to {MAX_K} products", self.k));
        }
        if !(0.0..=1.0).contains(&self.diversity) {
            return Err(format!(
                "diversity is {}: give a number from 0 (the model's order) to 1",
                self.diversity
            ));
        }
        Ok(())
    }
}

/// A shopper's place among the shop's customers, and the map to draw it on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// This shopper: features, map point, segment and forecast.
    pub placement: ShopperPlacement,
    /// Every segment's summary, by segment id.
    pub segments: Vec<SegmentSummary>,
    /// A sample of the shop's customers on the map, with their segments.
    pub map: Vec<MapPoint>,
    /// The share of variance each map axis explains.
    pub explained_variance: Vec<f64>,
}

/// Local click-through and conversion, counted on the device.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Engagement {
    /// Recommended products shown.
    pub shown: u64,
    /// Recommended products clicked (`select_item`).
    pub clicked: u64,
    /// `clicked / shown`, or 0.
    pub click_through: f64,
    /// Sessions with at least one event.
    pub sessions: u64,
    /// Sessions that ended in a purchase.
    pub converted: u64,
    /// `converted / sessions`, or 0.
    pub conversion: f64,
}

#[derive(Debug)]
struct State {
    consent: bool,
    store: Option<Rc<EventStore>>,
    status: StorageStatus,
    events: Vec<Event>,
    visitor: String,
    session: String,
    counter: u64,
    shown: u64,
}

/// Where the tagger runs.
#[derive(Debug)]
enum Tagger {
    /// In this page or worker.
    Here(Box<ShopperTagger>),
    /// In a Web Worker of its own.
    Worker(TaggerWorker),
}

/// The engine: models loaded once, events kept per visitor.
#[derive(Debug)]
pub struct Engine {
    tagger: Option<Tagger>,
    recommender: ShippedRecommender,
    profile: ShopperModel,
    namespace: String,
    sizes: Vec<ModelSize>,
    state: Rc<RefCell<State>>,
}

/// A random id from the browser's generator: 16 hex digits after a prefix.
fn random_id(prefix: &str) -> String {
    let a = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    let b = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!("{prefix}{a:08x}{b:08x}")
}

/// Now, with this device's UTC offset.
pub fn now() -> DateTime<FixedOffset> {
    let date = js_sys::Date::new_0();
    let offset_seconds = -(date.get_timezone_offset() * 60.0) as i32;
    let offset = FixedOffset::east_opt(offset_seconds)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("a zero offset is valid"));
    DateTime::from_timestamp_millis(date.get_time() as i64)
        .unwrap_or_default()
        .with_timezone(&offset)
}

impl Engine {
    /// Loads the tagger (unless `options.tagger` is false), the recommender and the shopper
    /// model from `base` (a URL prefix holding `tagger/`, `recommender/` and `profile/`), then
    /// the shopper's stored events if they consented before.
    pub async fn load(
        base: &str,
        options: &LoadOptions,
        progress: Progress<'_>,
    ) -> Result<Engine, String> {
        let base = base.trim_end_matches('/');

        // Progress is shared by size: the tagger, when loaded, is most of the download.
        let share = if options.tagger { 0.8 } else { 0.0 };
        let within = |done: f64, message: &str| progress(done * share, message);
        let mut sizes = Vec::new();
        let tagger = if !options.tagger {
            None
        } else if let Some(script) = &options.tagger_worker {
            let (worker, files) =
                TaggerWorker::start(script, base, options.prefer_gpu, &within).await?;
            sizes.extend(files);
            Some(Tagger::Worker(worker))
        } else {
            let (loaded, files) = fetch_tagger(base, options.prefer_gpu, &within).await?;
            sizes.extend(files);
            Some(Tagger::Here(Box::new(loaded)))
        };

        let middle = share + (0.9 - share) * 0.9;
        let (url, body) = fetch_file(
            base,
            ("recommender/recommender.safetensors", "the recommender"),
            (share, middle),
            progress,
            &mut sizes,
        )
        .await?;
        let recommender = match ShippedRecommender::from_bytes(&body) {
            Ok(loaded) => loaded,
            Err(err) => {
                forget(&url).await;
                return Err(format!("the recommender did not load: {err}"));
            }
        };
        let (url, body) = fetch_file(
            base,
            ("profile/profile.safetensors", "the shopper model"),
            (middle, 0.9),
            progress,
            &mut sizes,
        )
        .await?;
        let profile = match ShopperModel::from_bytes(&body) {
            Ok(loaded) => loaded,
            Err(err) => {
                forget(&url).await;
                return Err(format!("the shopper model did not load: {err}"));
            }
        };

        progress(0.95, "Opening your data on this device…");
        let state = State {
            consent: false,
            store: None,
            status: StorageStatus {
                kind: "memory",
                reason: "nothing is stored until you agree".to_owned(),
            },
            events: Vec::new(),
            visitor: random_id("v_"),
            session: random_id("s_"),
            counter: 0,
            shown: 0,
        };
        let namespace = options.namespace.as_str();
        let engine = Engine {
            tagger,
            recommender,
            profile,
            namespace: namespace.to_owned(),
            sizes,
            state: Rc::new(RefCell::new(state)),
        };
        match store::exists(&database_name(namespace)).await {
            Ok(true) => {
                engine.connect().await;
            }
            Ok(false) => {}
            Err(err) => engine.fall_back(&err),
        }
        progress(1.0, "Ready");
        Ok(engine)
    }

    /// Opens the database, reads what it holds and saves what is only in memory. A blocked
    /// upgrade leaves the events in memory, says why, and finishes when the other tab lets go.
    async fn connect(&self) -> bool {
        match store::open(&database_name(&self.namespace)).await {
            Ok(Opened::Ready(db)) => adopt_into(&self.state, db).await,
            Ok(Opened::Blocked(pending)) => {
                self.state.borrow_mut().consent = true;
                self.fall_back(&StoreError::Blocked);
                let state = Rc::downgrade(&self.state);
                wasm_bindgen_futures::spawn_local(async move {
                    let Ok(db) = pending.await else { return };
                    if let Some(state) = state.upgrade() {
                        adopt_into(&state, db).await;
                    }
                });
                false
            }
            Err(err) => {
                self.fall_back(&err);
                false
            }
        }
    }

    fn fall_back(&self, err: &StoreError) {
        set_memory(&self.state, err);
    }

    /// The device the tagger runs on, and why; it may change when a lost GPU moves the tagger
    /// to the CPU.
    pub fn backend(&self) -> Backend {
        match &self.tagger {
            Some(Tagger::Here(tagger)) => tagger.backend_info().clone(),
            Some(Tagger::Worker(worker)) => worker.backend(),
            None => Backend {
                name: "cpu",
                reason: "no model was loaded that needs a GPU: the recommender runs in plain Rust"
                    .to_owned(),
            },
        }
    }

    /// The loaded model files and their sizes.
    pub fn model_sizes(&self) -> &[ModelSize] {
        &self.sizes
    }

    /// The product table.
    pub fn catalogue(&self) -> &[CatalogueItem] {
        &self.recommender.catalogue
    }

    /// One product.
    pub fn item(&self, id: &str) -> Option<&CatalogueItem> {
        self.recommender.item(id)
    }

    /// The currency of the product prices.
    pub fn currency(&self) -> &str {
        &self.recommender.currency
    }

    /// Whether the shopper agreed to keep their activity on this device.
    pub fn consent(&self) -> bool {
        self.state.borrow().consent
    }

    /// Where events are kept, and why.
    pub fn storage(&self) -> StorageStatus {
        self.state.borrow().status.clone()
    }

    /// Every event of this visitor, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.state.borrow().events.clone()
    }

    /// Gives or withdraws consent. Giving it creates the database, saves the events of this
    /// visit and asks the browser to keep the data (`navigator.storage.persist()`).
    /// Withdrawing it deletes the database; the events of this visit stay in memory.
    pub async fn set_consent(&self, given: bool) -> Result<StorageStatus, String> {
        if given {
            self.state.borrow_mut().consent = true;
            if self.connect().await {
                let visitor = self.state.borrow().visitor.clone();
                let store = self.state.borrow().store.clone();
                if let Some(store) = store {
                    let record = json!({
                        "key": "consent",
                        "given_at": now().to_rfc3339_opts(SecondsFormat::Secs, false),
                        "visitor": visitor,
                    });
                    if let Err(err) = store.put_meta(&record).await {
                        self.fall_back(&err);
                    }
                }
                request_persistence().await;
            }
        } else {
            let store = self.state.borrow_mut().store.take();
            if let Some(store) = store {
                store.close();
            }
            store::delete_database(&database_name(&self.namespace))
                .await
                .map_err(|e| e.to_string())?;
            let mut state = self.state.borrow_mut();
            state.consent = false;
            state.status = StorageStatus {
                kind: "memory",
                reason: "you withdrew consent: nothing is stored".to_owned(),
            };
        }
        Ok(self.storage())
    }

    /// Records one event given in its JSON form. `id`, `timestamp`, `user_id` and `session_id`
    /// may be left out: the engine fills them with a fresh id, now, the local visitor and this
    /// visit. A malformed event is refused with the field at fault, and nothing is recorded.
    pub async fn track(&self, mut value: Value) -> Result<Tracked, String> {
        let Some(fields) = value.as_object_mut() else {
            return Err(
                "an event must be a JSON object like { \"event\": \"view_item\", \
                        \"params\": { ... } }"
                    .to_owned(),
            );
        };
        {
            let mut state = self.state.borrow_mut();
            state.counter += 1;
            let id = format!("{}-{}", random_id("e_"), state.counter);
            fields.entry("id").or_insert(Value::String(id));
            let stamp = now().to_rfc3339_opts(SecondsFormat::Millis, false);
            fields.entry("timestamp").or_insert(Value::String(stamp));
            fields
                .entry("user_id")
                .or_insert(Value::String(state.visitor.clone()));
            fields
                .entry("session_id")
                .or_insert(Value::String(state.session.clone()));
        }
        let event = Event::from_json_value(&value).map_err(|e| e.to_string())?;
        let json = event.to_json_value();
        {
            let mut state = self.state.borrow_mut();
            if state.events.iter().any(|e| e.id == event.id) {
                return Err(format!("an event with id {} is already recorded", event.id));
            }
            state.events.push(event.clone());
        }

        let (consent, store) = {
            let state = self.state.borrow();
            (state.consent, state.store.clone())
        };
        let (saved, message) = match (consent, store) {
            (false, _) => (
                false,
                Some("kept in memory: you have not agreed to storage".into()),
            ),
            (true, None) => (false, Some(self.storage().reason)),
            (true, Some(store)) => match store.append(std::slice::from_ref(&json)).await {
                Ok(()) => (true, None),
                Err(err) => {
                    if !matches!(err, StoreError::Full(_)) {
                        self.fall_back(&err);
                    }
                    (false, Some(err.to_string()))
                }
            },
        };
        Ok(Tracked {
            event: json,
            saved,
            message,
        })
    }

    /// Deletes every event, on the device and in memory. Consent stays as it was.
    pub async fn delete_all(&self) -> Result<(), String> {
        let store = self.state.borrow().store.clone();
        if let Some(store) = store {
            store.clear_events().await.map_err(|e| e.to_string())?;
        }
        let mut state = self.state.borrow_mut();
        state.events.clear();
        state.shown = 0;
        Ok(())
    }

    /// Every event as pretty JSON: `{ exported_at, visitor, storage, events: [...] }`.
    pub fn export(&self) -> String {
        let state = self.state.borrow();
        let events: Vec<Value> = state.events.iter().map(Event::to_json_value).collect();
        let document = json!({
            "exported_at": now().to_rfc3339_opts(SecondsFormat::Secs, false),
            "visitor": state.visitor,
            "storage": state.status,
            "events": events,
        });
        serde_json::to_string_pretty(&document).unwrap_or_default()
    }

    /// Tags shopper text.
    pub async fn tag(&self, text: &str) -> Result<Vec<TaggedEntity>, String> {
        match &self.tagger {
            Some(Tagger::Here(tagger)) => tagger.tag_text(text).await.map_err(|e| e.to_string()),
            Some(Tagger::Worker(worker)) => worker.tag(text).await,
            None => Err("the tagger was not loaded: load the engine with { tagger: true }".into()),
        }
    }

    /// Products for this shopper, folded in from their events, or like one product when the
    /// context is `item:<id>`. Counts the products shown for the click-through rate.
    pub fn recommend(&self, options: &RecommendOptions) -> Result<Suggestions, String> {
        let list = recommend_for(&self.recommender, &self.events(), options)?;
        self.state.borrow_mut().shown += list.items.len() as u64;
        Ok(list)
    }

    /// The `k` most popular products, for a shop's front page; not counted as recommended.
    pub fn popular(&self, k: usize) -> Vec<String> {
        let none: [&str; 0] = [];
        self.recommender
            .suggest(&none, k, 0.0)
            .map(|list| list.items.into_iter().map(|s| s.item).collect())
            .unwrap_or_default()
    }

    /// Where this shopper's own purchases place them among the shop's customers: their segment,
    /// their point on the map and their forecast. A shopper without purchases gets the
    /// population's forecast and no segment, flagged as not enough data.
    pub fn profile(&self) -> Result<Profile, String> {
        let events = self.events();
        let category_of = |id: &str| self.item(id).and_then(|i| category_from_tags(&i.tags));
        let placement = self
            .profile
            .place(&events, category_of, now())
            .map_err(|e| e.to_string())?;
        Ok(Profile {
            placement,
            segments: self.profile.segments().to_vec(),
            map: self.profile.map_points().to_vec(),
            explained_variance: self.profile.explained_variance_ratio().to_vec(),
        })
    }

    /// Local click-through and conversion.
    pub fn engagement(&self) -> Engagement {
        let state = self.state.borrow();
        let clicked = state
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::SelectItem(_)))
            .count() as u64;
        let mut sessions = std::collections::BTreeMap::<&str, bool>::new();
        for event in &state.events {
            let bought = matches!(event.kind, EventKind::Purchase(_));
            *sessions.entry(event.session_id.as_str()).or_default() |= bought;
        }
        let converted = sessions.values().filter(|b| **b).count() as u64;
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        Engagement {
            shown: state.shown,
            clicked,
            click_through: ratio(clicked, state.shown),
            sessions: sessions.len() as u64,
            converted,
            conversion: ratio(converted, sessions.len() as u64),
        }
    }
}

/// Fetches one model file under `base`, reporting progress over `span`, and notes its size.
async fn fetch_file(
    base: &str,
    (file, label): (&str, &str),
    (from, to): (f64, f64),
    progress: Progress<'_>,
    sizes: &mut Vec<ModelSize>,
) -> Result<(String, Vec<u8>), String> {
    let url = format!("{base}/{file}");
    let (body, cached) = fetch_model(&url, label, from, to, progress).await?;
    sizes.push(ModelSize {
        file: file.to_owned(),
        bytes: body.len(),
        cached,
    });
    Ok((url, body))
}

/// Fetches the tagger and its tokenizer under `base` (from the cache when they are there) and
/// loads it, reporting progress from 0 to 1. A file that fails its check is dropped from the
/// cache, so the next visit fetches it again.
pub(crate) async fn fetch_tagger(
    base: &str,
    prefer_gpu: bool,
    progress: Progress<'_>,
) -> Result<(ShopperTagger, Vec<ModelSize>), String> {
    let base = base.trim_end_matches('/');
    let mut sizes = Vec::new();
    let tokenizer = ("tagger/tokenizer.json", "the tokenizer");
    let (tokenizer_url, tokenizer) =
        fetch_file(base, tokenizer, (0.0, 0.06), progress, &mut sizes).await?;
    let model = ("tagger/tagger.safetensors", "the tagger");
    let (model_url, model) = fetch_file(base, model, (0.06, 0.95), progress, &mut sizes).await?;
    progress(0.95, "Preparing the tagger…");
    match ShopperTagger::load_bytes(&model, &tokenizer, prefer_gpu).await {
        Ok(loaded) => Ok((loaded, sizes)),
        Err(err) => {
            forget(&tokenizer_url).await;
            forget(&model_url).await;
            Err(format!("the tagger did not load: {err}"))
        }
    }
}

/// Products for a shopper's events, or like one product when the context is `item:<id>`, each
/// explained by what the shopper did. The browser engine and the edge handler both answer
/// through here, so the same events give the same list.
pub fn recommend_for(
    recommender: &ShippedRecommender,
    events: &[Event],
    options: &RecommendOptions,
) -> Result<Suggestions, String> {
    options.check()?;
    let title = |id: &str| {
        recommender
            .item(id)
            .map(|i| i.title.clone())
            .unwrap_or_default()
    };
    let mut list = match options.context.as_deref() {
        Some(context) => {
            let Some(id) = context.strip_prefix("item:") else {
                return Err(format!(
                    "unknown context {context:?}: give \"item:<product id>\" or none"
                ));
            };
            let mut list = recommender
                .suggest(&[id], options.k, options.diversity)
                .map_err(|e| e.to_string())?;
            for s in &mut list.items {
                if s.because.is_some() {
                    s.explanation = format!("similar to {}", title(id));
                }
            }
            list
        }
        None => {
            let history: Vec<(&str, f32)> = weighted_history(events);
            let mut list = recommender
                .suggest_weighted(&history, options.k, options.diversity)
                .map_err(|e| e.to_string())?;
            for s in &mut list.items {
                if let Some(id) = &s.because {
                    let verb = strongest_action(events, id);
                    s.explanation = format!("because you {verb} {id} ({})", title(id));
                }
            }
            list
        }
    };
    list.items.truncate(options.k);
    Ok(list)
}

/// What the shopper did with a product, the strongest first, worded for an explanation.
fn strongest_action(events: &[Event], id: &str) -> &'static str {
    let rank = |kind: &EventKind| match kind {
        EventKind::Purchase(_) => (6, "bought"),
        EventKind::Gift(_) => (5, "gave"),
        EventKind::Share(_) => (4, "shared"),
        EventKind::Review(_) => (3, "reviewed"),
        EventKind::AddToCart(_) | EventKind::BeginCheckout(_) => (2, "put in your cart"),
        _ => (1, "looked at"),
    };
    events
        .iter()
        .filter(|e| e.kind.item_ids().contains(&id))
        .map(|e| rank(&e.kind))
        .max_by_key(|(strength, _)| *strength)
        .map_or("looked at", |(_, verb)| verb)
}

/// Takes an opened database: reads its events and visitor, then saves what is only in memory.
async fn adopt_into(state: &Rc<RefCell<State>>, db: EventStore) -> bool {
    let db = Rc::new(db);
    let stored = match db.events().await {
        Ok(stored) => stored,
        Err(err) => {
            set_memory(state, &err);
            return false;
        }
    };
    let meta = db.meta().await.unwrap_or_default();
    let mut stored_events = Vec::new();
    for value in stored {
        match Event::from_json_value(&value) {
            Ok(event) => stored_events.push(event),
            Err(err) => log::warn!("a stored event is unreadable and is skipped: {err}"),
        }
    }

    let pending: Vec<Value> = {
        let mut s = state.borrow_mut();
        s.consent = true;
        if let Some(visitor) = meta
            .iter()
            .find(|m| m["key"] == "consent")
            .and_then(|m| m["visitor"].as_str())
        {
            s.visitor = visitor.to_owned();
        }
        let known: std::collections::HashSet<String> =
            stored_events.iter().map(|e| e.id.clone()).collect();
        let unsaved: Vec<Event> = s
            .events
            .iter()
            .filter(|e| !known.contains(&e.id))
            .cloned()
            .collect();
        let mut all = stored_events;
        all.extend(unsaved.iter().cloned());
        all.sort_by_key(|e| e.timestamp);
        s.events = all;
        unsaved.iter().map(Event::to_json_value).collect()
    };
    if !pending.is_empty()
        && let Err(err) = db.append(&pending).await
    {
        set_memory(state, &err);
        return false;
    }
    let mut s = state.borrow_mut();
    s.store = Some(db);
    s.status = StorageStatus {
        kind: "indexeddb",
        reason: "you agreed to keep your activity on this device".to_owned(),
    };
    true
}

fn set_memory(state: &Rc<RefCell<State>>, err: &StoreError) {
    log::warn!("events stay in memory: {err}");
    let mut s = state.borrow_mut();
    s.store = None;
    s.status = StorageStatus {
        kind: "memory",
        reason: err.to_string(),
    };
}

/// Asks the browser not to evict this site's data under storage pressure.
async fn request_persistence() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(promise) = window.navigator().storage().persist() else {
        return;
    };
    match wasm_bindgen_futures::JsFuture::from(promise).await {
        Ok(granted) => log::info!("persistent storage granted: {granted:?}"),
        Err(_) => log::info!("persistent storage was not granted"),
    }
}
