//! Vitrine's web app: a shop front that learns from its visitor on the visitor's own device.
//!
//! The engine (`vitrine-wasm`) loads the shipped tagger and recommender once. Every page reads
//! from it: the shop and its search (marked up by the tagger), product pages with similar
//! products, the cart and a simulated checkout, "For you" (folded in after each event), "Your
//! profile" and "Your data". Pages are addressed by the URL's fragment (`#/item/85123A`), so a
//! reload comes back to the same page, and the shopper's events come back from IndexedDB.

// `#[component]` gives each component's props struct a plain `pub`, which this lint flags in a
// binary that exports nothing.
#![allow(unreachable_pub)]

mod data;
mod profile;
mod shop;

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use vitrine_wasm::Backend;
use vitrine_wasm::engine::{Engine, LoadOptions};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// Where the demo server puts the shipped models.
const MODELS_URL: &str = "models";

/// The tagger's worker, beside the engine built for the web (`cargo xtask demo` puts it there).
const TAGGER_WORKER: &str = "vitrine/tagger-worker.js";

/// The pages, one per URL fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `#/` and `#/search/<query>`: the catalogue, filtered by a search.
    Shop(Option<String>),
    /// `#/item/<id>`.
    Item(String),
    /// `#/cart`.
    Cart,
    /// `#/for-you`.
    ForYou,
    /// `#/profile`.
    Profile,
    /// `#/data`.
    Data,
}

impl Route {
    fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let decode = |s: &str| {
            js_sys::decode_uri_component(s)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_else(|| s.to_owned())
        };
        match path.split_once('/') {
            Some(("item", id)) => Route::Item(decode(id)),
            Some(("search", q)) => Route::Shop(Some(decode(q))),
            _ => match path {
                "cart" => Route::Cart,
                "for-you" => Route::ForYou,
                "profile" => Route::Profile,
                "data" => Route::Data,
                _ => Route::Shop(None),
            },
        }
    }

    /// The fragment that leads here.
    pub fn href(&self) -> String {
        let encode = |s: &str| String::from(js_sys::encode_uri_component(s));
        match self {
            Route::Shop(None) => "#/".to_owned(),
            Route::Shop(Some(q)) => format!("#/search/{}", encode(q)),
            Route::Item(id) => format!("#/item/{}", encode(id)),
            Route::Cart => "#/cart".to_owned(),
            Route::ForYou => "#/for-you".to_owned(),
            Route::Profile => "#/profile".to_owned(),
            Route::Data => "#/data".to_owned(),
        }
    }
}

/// What every page shares: the engine, and a counter bumped after each recorded event so that
/// what depends on the events is computed again.
#[derive(Clone, Copy)]
pub struct Shop {
    /// The loaded engine, kept outside the reactive graph (it is not `Send`).
    engine: StoredValue<Rc<Engine>, LocalStorage>,
    /// Bumped after every event, consent change and deletion.
    pub revision: RwSignal<u64>,
    /// The last storage problem to show, if any.
    pub notice: RwSignal<Option<String>>,
    /// The device the tagger runs on, which a lost GPU changes to the CPU.
    pub backend: RwSignal<Backend>,
}

impl std::fmt::Debug for Shop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shop")
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

impl Shop {
    /// The engine.
    pub fn engine(&self) -> Rc<Engine> {
        self.engine.get_value()
    }

    /// Records an event and refreshes what depends on the events; a storage problem is shown,
    /// and a refused event is logged (it is a bug in the page, not the shopper's doing).
    pub fn track(&self, event: serde_json::Value) {
        let shop = *self;
        spawn_local(async move {
            let engine = shop.engine();
            match engine.track(event).await {
                Ok(tracked) => {
                    if engine.consent() {
                        shop.notice.set(tracked.message);
                    }
                }
                Err(err) => log::error!("event refused: {err}"),
            }
            shop.revision.update(|r| *r += 1);
        });
    }

    /// Goes to a page.
    pub fn go(&self, route: &Route) {
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_hash(&route.href());
        }
    }

    /// A price in the shop's currency.
    pub fn money(&self, amount: f64) -> String {
        match self.engine().currency() {
            "GBP" => format!("£{amount:.2}"),
            "EUR" => format!("€{amount:.2}"),
            "USD" => format!("${amount:.2}"),
            other => format!("{amount:.2} {other}"),
        }
    }
}

fn main() {
    vitrine_wasm::run_static_constructors();
    console_error_panic_hook::set_once();
    // A second logger cannot be installed; nothing else installs one on this page.
    let _ = console_log::init_with_level(log::Level::Info);
    leptos::mount::mount_to_body(App);
}

fn current_route() -> Route {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    Route::parse(&hash)
}

/// The page: a loading bar, then the shop once the engine is ready.
#[component]
fn App() -> impl IntoView {
    let (progress, set_progress) = signal((0.0f64, "Starting…".to_owned()));
    let (failure, set_failure) = signal(None::<String>);
    let shop = RwSignal::new_local(None::<Shop>);
    let route = RwSignal::new(current_route());

    let on_hash = Closure::<dyn Fn()>::new(move || route.set(current_route()));
    if let Some(window) = web_sys::window() {
        window.set_onhashchange(Some(on_hash.as_ref().unchecked_ref()));
    }
    on_hash.forget();

    spawn_local(async move {
        let report = |share: f64, message: &str| set_progress.set((share, message.to_owned()));
        let options = LoadOptions {
            tagger_worker: Some(TAGGER_WORKER.to_owned()),
            ..LoadOptions::default()
        };
        match Engine::load(MODELS_URL, &options, &report).await {
            Ok(engine) => {
                let backend = engine.backend();
                log::info!("Vitrine runs on {} ({})", backend.name, backend.reason);
                shop.set(Some(Shop {
                    engine: StoredValue::new_local(Rc::new(engine)),
                    revision: RwSignal::new(0),
                    notice: RwSignal::new(None),
                    backend: RwSignal::new(backend),
                }));
            }
            Err(message) => set_failure.set(Some(message)),
        }
    });

    view! {
        <header>
            <a class="brand" href="#/"><h1>"Vitrine"</h1></a>
            <p class="tagline">"Personalisation that stays on your device."</p>
        </header>
        <Show when=move || failure.get().is_some()>
            <div class="error" role="alert">
                <p>{move || failure.get().unwrap_or_default()}</p>
                <p>"Reload the page to try again."</p>
            </div>
        </Show>
        <Show
            when=move || shop.with(Option::is_some)
            fallback=move || view! {
                <div class="loading" data-testid="loading">
                    <progress max="100" value=move || (progress.get().0 * 100.0).round()>
                    </progress>
                    <span>{move || progress.get().1}</span>
                </div>
            }
        >
            {move || shop.get().map(|shop| view! { <Pages shop=shop route=route /> })}
        </Show>
    }
}

/// The navigation, the consent banner and the page of the current route.
#[component]
fn Pages(shop: Shop, route: RwSignal<Route>) -> impl IntoView {
    provide_context(shop);
    let backend = shop.backend;
    let cart_count = {
        move || {
            shop.revision.track();
            shop::cart_lines(&shop.engine())
                .iter()
                .map(|l| l.quantity)
                .sum::<u32>()
        }
    };
    let nav = move |to: Route, label: &'static str| {
        let href = to.href();
        let current = move || {
            let here = route.get();
            let same = match (&here, &to) {
                (Route::Shop(_), Route::Shop(_)) => true,
                (a, b) => a == b,
            };
            same.then_some("page")
        };
        view! { <a href=href aria-current=current>{label}</a> }
    };
    let notice = shop.notice;
    view! {
        <nav aria-label="Shop">
            {nav(Route::Shop(None), "Shop")}
            {nav(Route::ForYou, "For you")}
            {nav(Route::Profile, "Your profile")}
            {nav(Route::Data, "Your data")}
            <a href="#/cart" data-testid="cart-link">
                "Cart (" {cart_count} ")"
            </a>
        </nav>
        <p class="backend" data-testid="backend">
            {move || backend.with(|b| format!("Running on {} ({})", b.name, b.reason))}
        </p>
        <data::ConsentBanner />
        <Show when=move || notice.get().is_some()>
            <p class="error" role="alert" data-testid="notice">
                {move || notice.get().unwrap_or_default()}
            </p>
        </Show>
        <main>
            {move || match route.get() {
                Route::Shop(query) => view! { <shop::Catalogue query=query /> }.into_any(),
                Route::Item(id) => view! { <shop::Product id=id /> }.into_any(),
                Route::Cart => view! { <shop::Cart /> }.into_any(),
                Route::ForYou => view! { <shop::ForYou /> }.into_any(),
                Route::Profile => view! { <profile::Profile /> }.into_any(),
                Route::Data => view! { <data::YourData /> }.into_any(),
            }}
        </main>
    }
}
