//! Vitrine's web app.
//!
//! For now it shows the first model Vitrine ships: the shopper-text tagger, loaded from the
//! served model files and run on WebGPU or the CPU, entirely on this device. Type a search and
//! it marks product types, brands, colours, sizes, prices and the rest in the query.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use vitrine_wasm::{ShopperTagger, TaggedEntity};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Where the demo server puts the shipped tagger.
const MODEL_URL: &str = "models/tagger";

fn main() {
    console_error_panic_hook::set_once();
    // A second logger cannot be installed; nothing else installs one on this page.
    let _ = console_log::init_with_level(log::Level::Info);
    leptos::mount::mount_to_body(App);
}

/// Fetches one model file, naming it in the error.
async fn fetch_bytes(name: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let url = format!("{MODEL_URL}/{name}");
    let response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .map_err(|_| format!("cannot fetch {url}: is the demo server running?"))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "fetch gave no response")?;
    if !response.ok() {
        return Err(format!(
            "{url} answered HTTP {}: run `cargo xtask demo`",
            response.status()
        ));
    }
    let body = response
        .array_buffer()
        .map_err(|_| format!("{url} has no body"))?;
    let buffer = JsFuture::from(body)
        .await
        .map_err(|_| format!("reading {url} failed"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

async fn load_tagger(progress: WriteSignal<(u32, String)>) -> Result<ShopperTagger, String> {
    progress.set((5, "Downloading tokenizer.json…".to_owned()));
    let tokenizer = fetch_bytes("tokenizer.json").await?;
    progress.set((20, "Downloading tagger.safetensors…".to_owned()));
    let model = fetch_bytes("tagger.safetensors").await?;
    progress.set((85, "Checking and preparing the model…".to_owned()));
    ShopperTagger::load_bytes(&model, &tokenizer, true)
        .await
        .map_err(|e| format!("the tagger did not load: {e}"))
}

/// What one search gave: the query and the entities found in it.
#[derive(Debug, Clone)]
struct Tagged {
    query: String,
    entities: Vec<TaggedEntity>,
}

/// The page: a loading bar, then a search box whose query the tagger marks up.
#[component]
fn App() -> impl IntoView {
    let (progress, set_progress) = signal((0u32, "Starting…".to_owned()));
    let (failure, set_failure) = signal(None::<String>);
    let engine = RwSignal::new_local(None::<Rc<ShopperTagger>>);
    let (text, set_text) = signal("red heart lantern for a wedding gift 🎁".to_owned());
    let result = RwSignal::new_local(None::<Result<Tagged, String>>);

    spawn_local(async move {
        match load_tagger(set_progress).await {
            Ok(loaded) => {
                set_progress.set((100, "Ready".to_owned()));
                engine.set(Some(Rc::new(loaded)));
            }
            Err(message) => set_failure.set(Some(message)),
        }
    });

    let run = move || {
        let Some(tagger) = engine.get() else { return };
        let query = text.get_untracked();
        spawn_local(async move {
            let out = tagger
                .tag_text(&query)
                .await
                .map(|entities| Tagged { query, entities })
                .map_err(|e| e.to_string());
            result.set(Some(out));
        });
    };
    Effect::new(move |_| {
        if engine.with(Option::is_some) {
            run();
        }
    });

    view! {
        <header>
            <h1>"Vitrine"</h1>
            <p class="tagline">"Personalisation that stays on your device."</p>
        </header>
        <main>
            <Show when=move || failure.get().is_some()>
                <p class="error" role="alert">{move || failure.get().unwrap_or_default()}</p>
            </Show>
            <Show
                when=move || engine.with(Option::is_some)
                fallback=move || view! {
                    <div class="loading">
                        <progress max="100" value=move || progress.get().0></progress>
                        <span>{move || progress.get().1}</span>
                    </div>
                }
            >
                <p class="backend" data-testid="backend">
                    {move || engine.with(|e| e.as_ref().map(|e| {
                        let b = e.backend_info();
                        format!("Running on {} ({})", b.name, b.reason)
                    }).unwrap_or_default())}
                </p>
                <form role="search" on:submit=move |ev| { ev.prevent_default(); run(); }>
                    <input
                        type="search"
                        aria-label="Search the shop"
                        prop:value=move || text.get()
                        on:input=move |ev| set_text.set(event_target_value(&ev))
                    />
                    <button type="submit">"Search"</button>
                </form>
                <Entities result=result />
            </Show>
        </main>
    }
}

/// The last query with its entities marked inline, then one row per entity.
#[component]
fn Entities(result: RwSignal<Option<Result<Tagged, String>>, LocalStorage>) -> impl IntoView {
    move || match result.get() {
        None => view! { <p>"Tagging…"</p> }.into_any(),
        Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
        Some(Ok(tagged)) => {
            let marked = marked_up(&tagged.query, &tagged.entities);
            let summary = match tagged.entities.len() {
                0 => "No entities found".to_owned(),
                1 => "1 entity".to_owned(),
                n => format!("{n} entities"),
            };
            let rows = tagged
                .entities
                .into_iter()
                .map(|e| {
                    view! {
                        <tr>
                            <td>{e.kind}</td>
                            <td>{e.text}</td>
                            <td>{format!("{}..{}", e.utf16.0, e.utf16.1)}</td>
                            <td>{format!("{:.3}", e.confidence)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <p class="query" data-testid="marked">{marked}</p>
                <p data-testid="summary">{summary}</p>
                <table>
                    <thead>
                        <tr>
                            <th>"type"</th><th>"text"</th><th>"UTF-16 span"</th>
                            <th>"confidence"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        }
    }
}

/// The query as plain runs and `<mark>` runs, cut at the entities' character offsets.
fn marked_up(query: &str, entities: &[TaggedEntity]) -> impl IntoView + use<> {
    let chars: Vec<char> = query.chars().collect();
    let piece = |from: usize, to: usize| -> String {
        chars[from.min(chars.len())..to.min(chars.len())]
            .iter()
            .collect()
    };
    let mut parts = Vec::new();
    let mut at = 0;
    for e in entities {
        let (start, end) = e.chars;
        if start < at {
            continue;
        }
        parts.push(view! { <span>{piece(at, start)}</span> }.into_any());
        parts.push(
            view! {
                <mark data-kind=e.kind.clone() title=e.kind.clone()>{piece(start, end)}</mark>
            }
            .into_any(),
        );
        at = end;
    }
    parts.push(view! { <span>{piece(at, chars.len())}</span> }.into_any());
    parts
}
