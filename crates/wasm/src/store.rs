//! The shopper's event store on the device: IndexedDB, versioned, with bounded waits.
//!
//! Every call settles in bounded time. A browser can leave IndexedDB requests pending for
//! ever: an upgrade blocked by another tab that keeps an old connection open (case STO-01), or
//! a write that runs out of quota and aborts its transaction without a request error (case
//! STO-03). Both come back here as typed errors that say what to do, so the caller can keep the
//! events in memory instead of losing them or hanging.
//!
//! Schema versions and what each migration does:
//!
//! | version | change |
//! | --- | --- |
//! | 1 | object store `events`, keyed by the event's `id`, holding its JSON form |
//! | 2 | object store `meta`, keyed by `key`: the visitor's local id and when consent was given |

use std::cell::RefCell;
use std::future::IntoFuture;
use std::rc::Rc;

use futures::FutureExt;
use futures::channel::oneshot;
use futures::future::{self, Either, LocalBoxFuture};
use gloo_timers::future::TimeoutFuture;
use idb::{
    Database, DatabaseEvent, Factory, KeyPath, ObjectStoreParams, TransactionMode,
    TransactionResult,
};
use js_sys::{Array, Function, Promise, Reflect};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::IdbTransaction;

/// The schema version this build writes; see the module docs for the migrations.
pub const SCHEMA_VERSION: u32 = 2;

/// How long opening the database may take before the caller hears why it has not.
pub const OPEN_TIMEOUT_MS: u32 = 5_000;

/// How long one read or write may take.
pub const REQUEST_TIMEOUT_MS: u32 = 10_000;

const EVENTS: &str = "events";
const META: &str = "meta";

/// Why the store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// This browser gives the page no IndexedDB (some private windows, a blocked origin).
    Unavailable(String),
    /// Another tab holds the database open at an older version and does not let go.
    Blocked,
    /// The database did not answer in time.
    TimedOut(&'static str),
    /// The origin's storage quota is used up; the write was not saved.
    Full(String),
    /// The database holds a newer schema than this build reads.
    Newer(u32),
    /// Any other failure, with the browser's words.
    Failed(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(why) => write!(
                f,
                "this browser keeps no data for this page ({why}); your activity stays in memory \
                 until the tab closes"
            ),
            Self::Blocked => f.write_str(
                "another tab holds an older version of this shop open: close the other tabs \
                 of this shop and your activity will be saved",
            ),
            Self::TimedOut(what) => write!(f, "the browser's database did not answer to {what}"),
            Self::Full(why) => write!(
                f,
                "the browser's storage for this site is full ({why}); nothing from this \
                 batch was saved. Free space or delete older data under \"Your data\""
            ),
            Self::Newer(version) => write!(
                f,
                "another tab saved data with a newer version of this shop (schema {version}, \
                 this page reads {SCHEMA_VERSION}): reload the page"
            ),
            Self::Failed(why) => write!(f, "the browser's database failed: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Where events are kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageStatus {
    /// `"indexeddb"`, or `"memory"` when nothing outlives the tab.
    pub kind: &'static str,
    /// Why: consent not given, or the reason IndexedDB could not be used.
    pub reason: String,
}

/// The browser's IndexedDB factory, in a window or a worker.
fn factory() -> Result<Factory, StoreError> {
    Factory::new().map_err(|_| {
        StoreError::Unavailable("IndexedDB is missing or disabled in this context".to_owned())
    })
}

/// What opening gave: the database, or why not with the open request still pending when
/// another tab blocked the upgrade, to be awaited once that tab lets go.
pub enum Opened {
    /// The database, at [`SCHEMA_VERSION`].
    Ready(EventStore),
    /// Blocked by another tab: the error to show, and the open that completes when it closes.
    Blocked(LocalBoxFuture<'static, Result<EventStore, StoreError>>),
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ready(store) => f.debug_tuple("Ready").field(store).finish(),
            Self::Blocked(_) => f.write_str("Blocked"),
        }
    }
}

/// An open event database.
#[derive(Debug)]
pub struct EventStore {
    db: Database,
    name: String,
    closed: Rc<RefCell<bool>>,
}

/// Whether a database of this name exists, without creating it: the store is created only
/// after consent, so its existence is the consent on record.
pub async fn exists(name: &str) -> Result<bool, StoreError> {
    let global = js_sys::global();
    let factory = Reflect::get(&global, &"indexedDB".into())
        .ok()
        .filter(|f| !f.is_undefined() && !f.is_null())
        .ok_or_else(|| StoreError::Unavailable("IndexedDB is missing".to_owned()))?;
    let databases = Reflect::get(&factory, &"databases".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| StoreError::Unavailable("indexedDB.databases() is missing".to_owned()))?;
    let promise: Promise = databases
        .call0(&factory)
        .map_err(|e| StoreError::Failed(describe(&e)))?
        .dyn_into()
        .map_err(|_| StoreError::Failed("indexedDB.databases() gave no promise".to_owned()))?;
    let list = with_timeout(
        JsFuture::from(promise),
        REQUEST_TIMEOUT_MS,
        "list its databases",
    )
    .await?
    .map_err(|e| StoreError::Failed(describe(&e)))?;
    Ok(Array::from(&list).iter().any(|entry| {
        Reflect::get(&entry, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .is_some_and(|n| n == name)
    }))
}

/// Deletes the whole database; the next [`open`] starts empty.
pub async fn delete_database(name: &str) -> Result<(), StoreError> {
    let request = factory()?
        .delete(name)
        .map_err(|e| StoreError::Failed(e.to_string()))?;
    with_timeout(
        request.into_future(),
        OPEN_TIMEOUT_MS,
        "delete the database",
    )
    .await?
    .map_err(|e| StoreError::Failed(e.to_string()))
}

/// Opens (creating or migrating) the database `name`, settling within [`OPEN_TIMEOUT_MS`].
pub async fn open(name: &str) -> Result<Opened, StoreError> {
    let mut request = factory()?
        .open(name, Some(SCHEMA_VERSION))
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    request.on_upgrade_needed(|event| {
        if let Err(err) = migrate(&event) {
            log::error!("upgrading the event database failed: {err}");
        }
    });
    let (blocked_tx, blocked_rx) = oneshot::channel::<()>();
    request.on_blocked(move |_| {
        let _ = blocked_tx.send(());
    });

    let owned = name.to_owned();
    let opening = request
        .into_future()
        .map(move |result| match result {
            Ok(db) => Ok(EventStore::watch(db, owned)),
            Err(err) => Err(open_error(err)),
        })
        .boxed_local();
    let blocked = blocked_rx.map(|r| r.is_ok()).boxed_local();
    let timer = TimeoutFuture::new(OPEN_TIMEOUT_MS);
    match future::select(opening, future::select(blocked, timer)).await {
        Either::Left((opened, _)) => opened.map(Opened::Ready),
        Either::Right((Either::Left((true, _)), opening)) => Ok(Opened::Blocked(opening)),
        // The blocked handler was dropped without firing: keep waiting for the open alone.
        Either::Right((Either::Left((false, _)), opening)) => {
            with_timeout(opening, OPEN_TIMEOUT_MS, "open the database")
                .await?
                .map(Opened::Ready)
        }
        Either::Right((Either::Right(_), _)) => Err(StoreError::TimedOut("open the database")),
    }
}

fn open_error(err: idb::Error) -> StoreError {
    let text = err.to_string();
    if text.contains("VersionError") {
        StoreError::Newer(SCHEMA_VERSION + 1)
    } else {
        StoreError::Unavailable(text)
    }
}

/// Brings a database from its stored version to [`SCHEMA_VERSION`], one step at a time.
fn migrate(event: &idb::event::VersionChangeEvent) -> Result<(), idb::Error> {
    let old = event.old_version()?;
    let db = event.database()?;
    let names = db.store_names();
    if old < 1 && !names.iter().any(|n| n == EVENTS) {
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single("id")));
        db.create_object_store(EVENTS, params)?;
    }
    if old < 2 && !names.iter().any(|n| n == META) {
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single("key")));
        db.create_object_store(META, params)?;
    }
    log::info!("event database upgraded from version {old} to {SCHEMA_VERSION}");
    Ok(())
}

impl EventStore {
    /// Closes this connection when another tab asks to upgrade, so a newer build is never
    /// blocked by this one (the second run of case STO-01).
    fn watch(db: Database, name: String) -> EventStore {
        let raw: web_sys::IdbDatabase = db.into();
        let closed = Rc::new(RefCell::new(false));
        let flag = closed.clone();
        let handle = raw.clone();
        let on_change = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            log::warn!("another tab upgrades the event database; this tab lets go");
            *flag.borrow_mut() = true;
            handle.close();
        });
        raw.set_onversionchange(Some(on_change.as_ref().unchecked_ref()));
        on_change.forget();
        EventStore {
            db: Database::from(raw),
            name,
            closed,
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this connection was closed for another tab's upgrade.
    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Closes the connection.
    pub fn close(&self) {
        self.db.close();
    }

    fn closed_error(&self) -> StoreError {
        StoreError::Newer(SCHEMA_VERSION + 1)
    }

    /// Saves events (their JSON forms, each with an `id`) in one transaction: all or none.
    pub async fn append(&self, events: &[Value]) -> Result<(), StoreError> {
        self.write(EVENTS, events, false).await
    }

    /// Saves one `meta` record, `{ key, ... }`.
    pub async fn put_meta(&self, record: &Value) -> Result<(), StoreError> {
        self.write(META, std::slice::from_ref(record), false).await
    }

    /// Deletes every event, keeping the `meta` records (the consent and the visitor id).
    pub async fn clear_events(&self) -> Result<(), StoreError> {
        self.write(EVENTS, &[], true).await
    }

    async fn write(&self, store: &str, values: &[Value], clear: bool) -> Result<(), StoreError> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        let tx = self
            .db
            .transaction(&[store], TransactionMode::ReadWrite)
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        // Kept to read the abort's reason: idb consumes the transaction when awaited.
        let raw: IdbTransaction = tx.into();
        let tx = idb::Transaction::from(raw.clone());
        let objects = tx
            .object_store(store)
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        if clear {
            objects
                .clear()
                .map_err(|e| StoreError::Failed(e.to_string()))?;
        }
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        for value in values {
            let js = value
                .serialize(&serializer)
                .map_err(|e| StoreError::Failed(e.to_string()))?;
            if let Err(err) = objects.put(&js, None) {
                let _ = raw.abort();
                return Err(StoreError::Failed(err.to_string()));
            }
        }
        let outcome = with_timeout(tx.into_future(), REQUEST_TIMEOUT_MS, "save").await;
        match outcome {
            Ok(Ok(TransactionResult::Committed)) => Ok(()),
            Ok(Ok(TransactionResult::Aborted)) | Ok(Err(_)) => Err(abort_reason(&raw)),
            Err(timeout) => {
                let _ = raw.abort();
                Err(timeout)
            }
        }
    }

    /// Every stored event's JSON form, in key order.
    pub async fn events(&self) -> Result<Vec<Value>, StoreError> {
        self.read_all(EVENTS).await
    }

    /// Every `meta` record.
    pub async fn meta(&self) -> Result<Vec<Value>, StoreError> {
        self.read_all(META).await
    }

    async fn read_all(&self, store: &str) -> Result<Vec<Value>, StoreError> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        let tx = self
            .db
            .transaction(&[store], TransactionMode::ReadOnly)
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let request = tx
            .object_store(store)
            .and_then(|s| s.get_all(None, None))
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let values = with_timeout(request.into_future(), REQUEST_TIMEOUT_MS, "read")
            .await?
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        values
            .into_iter()
            .map(|v| {
                serde_wasm_bindgen::from_value::<Value>(v)
                    .map_err(|e| StoreError::Failed(format!("a stored record is unreadable: {e}")))
            })
            .collect()
    }
}

/// The reason an aborted transaction gives, quota first.
fn abort_reason(raw: &IdbTransaction) -> StoreError {
    match raw.error() {
        Some(error) if error.name() == "QuotaExceededError" => StoreError::Full(error.message()),
        Some(error) => StoreError::Failed(format!("{}: {}", error.name(), error.message())),
        None => StoreError::Failed("the transaction was aborted".to_owned()),
    }
}

/// Races `work` against a timer, so no caller waits for ever on the browser.
pub async fn with_timeout<F: std::future::Future>(
    work: F,
    millis: u32,
    what: &'static str,
) -> Result<F::Output, StoreError> {
    let work = std::pin::pin!(work);
    match future::select(work, TimeoutFuture::new(millis)).await {
        Either::Left((output, _)) => Ok(output),
        Either::Right(_) => Err(StoreError::TimedOut(what)),
    }
}

/// A JavaScript error's message, or its text.
pub fn describe(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
