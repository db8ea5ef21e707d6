//! Vitrine's web app.
//!
//! For now it shows the one model that runs end to end in the browser: the base encoder,
//! loaded from the served model files, tokenising text and computing its contextual states on
//! WebGPU or the CPU, entirely on this device.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use vitrine_wasm::{BaseEncoder, EncodedText};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Where the demo server puts the base encoder.
const MODEL_URL: &str = "models/all-minilm-l6-v2";

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

async fn load_encoder(progress: WriteSignal<(u32, String)>) -> Result<BaseEncoder, String> {
    let files = ["config.json", "tokenizer.json", "model.safetensors"];
    let mut bytes = Vec::new();
    for (i, name) in files.iter().enumerate() {
        progress.set((i as u32 * 30, format!("Downloading {name}…")));
        bytes.push(fetch_bytes(name).await?);
    }
    progress.set((90, "Preparing the model…".to_owned()));
    let [config, tokenizer, weights]: [Vec<u8>; 3] =
        bytes.try_into().map_err(|_| "three model files expected")?;
    BaseEncoder::load_bytes(&config, &weights, &tokenizer, true)
        .await
        .map_err(|e| format!("the model did not load: {e}"))
}

/// The page: a loading bar, then a text box and what the encoder makes of the text.
#[component]
fn App() -> impl IntoView {
    let (progress, set_progress) = signal((0u32, "Starting…".to_owned()));
    let (failure, set_failure) = signal(None::<String>);
    let engine = RwSignal::new_local(None::<Rc<BaseEncoder>>);
    let (text, set_text) = signal("red heart lantern for a wedding gift 🎁".to_owned());
    let result = RwSignal::new_local(None::<Result<EncodedText, String>>);

    spawn_local(async move {
        match load_encoder(set_progress).await {
            Ok(loaded) => {
                set_progress.set((100, "Ready".to_owned()));
                engine.set(Some(Rc::new(loaded)));
            }
            Err(message) => set_failure.set(Some(message)),
        }
    });

    let run = move || {
        let Some(encoder) = engine.get() else { return };
        let input = text.get_untracked();
        spawn_local(async move {
            let out = encoder.encode_text(&input).await.map_err(|e| e.to_string());
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
                <form on:submit=move |ev| { ev.prevent_default(); run(); }>
                    <input
                        type="text"
                        aria-label="Text to encode"
                        prop:value=move || text.get()
                        on:input=move |ev| set_text.set(event_target_value(&ev))
                    />
                    <button type="submit">"Encode"</button>
                </form>
                <Tokens result=result />
            </Show>
        </main>
    }
}

/// The tokens of the last encoded text, highlighted in the text by their UTF-16 offsets.
#[component]
fn Tokens(result: RwSignal<Option<Result<EncodedText, String>>, LocalStorage>) -> impl IntoView {
    move || match result.get() {
        None => view! { <p>"Encoding…"</p> }.into_any(),
        Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
        Some(Ok(encoded)) => {
            let summary = format!(
                "{} tokens in {} window(s); sentence embedding norm {:.4}",
                encoded.tokens.len(),
                encoded.windows,
                encoded.embedding_norm
            );
            let rows = encoded
                .tokens
                .into_iter()
                .map(|t| {
                    let span = match (t.start, t.end) {
                        (Some(s), Some(e)) => format!("{s}..{e}"),
                        _ => "special".to_owned(),
                    };
                    view! {
                        <tr>
                            <td>{t.token}</td>
                            <td>{t.id}</td>
                            <td>{span}</td>
                            <td>{format!("{:.4}", t.norm)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <p data-testid="summary">{summary}</p>
                <table>
                    <thead>
                        <tr><th>"token"</th><th>"id"</th><th>"UTF-16 span"</th><th>"norm"</th></tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        }
    }
}
