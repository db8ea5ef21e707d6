//! "Your data": consent, every stored event, export and deletion, and what runs where.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vitrine_core::events::Event;
use wasm_bindgen::JsCast;

use crate::Shop;

/// Asks once for consent to keep the shopper's activity on this device.
#[component]
pub(crate) fn ConsentBanner() -> impl IntoView {
    let shop = expect_context::<Shop>();
    let dismissed = RwSignal::new(false);
    let visible = {
        move || {
            shop.revision.track();
            !dismissed.get() && !shop.engine().consent()
        }
    };
    let allow = { move |_| set_consent(&shop, true) };
    view! {
        <Show when=visible>
            <aside class="consent" role="region" aria-label="Consent">
                <p>
                    "Vitrine can keep what you look at and buy "
                    <strong>"on this device"</strong>
                    " to personalise the shop. Nothing is sent anywhere; you can see, export or
                     delete it under “Your data” at any time."
                </p>
                <button on:click=allow>"Keep my activity on this device"</button>
                " "
                <button class="secondary" on:click=move |_| dismissed.set(true)>"Not now"</button>
            </aside>
        </Show>
    }
}

fn set_consent(shop: &Shop, given: bool) {
    let shop = *shop;
    spawn_local(async move {
        match shop.engine().set_consent(given).await {
            Ok(status) if given && status.kind != "indexeddb" => {
                shop.notice.set(Some(status.reason))
            }
            Ok(_) => shop.notice.set(None),
            Err(err) => shop.notice.set(Some(err)),
        }
        shop.revision.update(|r| *r += 1);
    });
}

/// Offers `text` as a file download, made in the page: nothing is uploaded.
fn download(name: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| "the browser could not make the file")?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| "the browser could not make the file")?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| "no link")?
        .dyn_into()
        .map_err(|_| "no link")?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

fn describe(event: &Event) -> String {
    let items = event.kind.item_ids();
    if items.is_empty() {
        match &event.kind {
            vitrine_core::events::EventKind::Search(p) => format!("“{}”", p.search_term),
            vitrine_core::events::EventKind::Payment(p) => match p.amount {
                Some(a) => format!("{:.2} {}", a as f64 / 100.0, p.currency),
                None => p.currency.to_string(),
            },
            _ => String::new(),
        }
    } else {
        items.join(", ")
    }
}

/// Every event in a table, the consent switch, export, deletion, and the engine's facts.
#[component]
pub(crate) fn YourData() -> impl IntoView {
    let shop = expect_context::<Shop>();
    let (message, set_message) = signal(None::<String>);
    let events = {
        move || {
            shop.revision.track();
            shop.engine().events()
        }
    };
    let consent = {
        move || {
            shop.revision.track();
            shop.engine().consent()
        }
    };
    let storage = {
        move || {
            shop.revision.track();
            let s = shop.engine().storage();
            format!("{}: {}", s.kind, s.reason)
        }
    };
    let toggle = { move |ev: leptos::ev::Event| set_consent(&shop, event_target_checked(&ev)) };
    let export = {
        move |_| {
            let text = shop.engine().export();
            match download("vitrine-data.json", &text) {
                Ok(()) => set_message.set(Some("Saved vitrine-data.json.".to_owned())),
                Err(err) => set_message.set(Some(err.to_owned())),
            }
        }
    };
    let delete = {
        move |_| {
            spawn_local(async move {
                match shop.engine().delete_all().await {
                    Ok(()) => set_message.set(Some("Everything was deleted.".to_owned())),
                    Err(err) => set_message.set(Some(err)),
                }
                shop.revision.update(|r| *r += 1);
            });
        }
    };
    let backend = shop.backend;
    let sizes = shop
        .engine()
        .model_sizes()
        .iter()
        .map(|m| {
            let from = if m.cached {
                "this device's cache"
            } else {
                "the network"
            };
            view! {
                <tr>
                    <td>{m.file.clone()}</td>
                    <td>{format!("{:.1} MB", m.bytes as f64 / 1e6)}</td>
                    <td>{from}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <h2>"Your data"</h2>
        <label class="switch">
            <input type="checkbox" data-testid="consent" prop:checked=consent on:change=toggle />
            " Keep my activity on this device"
        </label>
        <p class="muted" data-testid="storage">{storage}</p>
        <p>
            <button on:click=export>"Export as JSON"</button>
            " "
            <button class="danger" on:click=delete>"Delete everything"</button>
        </p>
        <Show when=move || message.get().is_some()>
            <p role="status" data-testid="data-message">
                {move || message.get().unwrap_or_default()}
            </p>
        </Show>
        {move || {
            let events = events();
            let count = events.len();
            let rows = events
                .iter()
                .rev()
                .map(|e| {
                    view! {
                        <tr>
                            <td>{e.timestamp.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                            <td>{e.kind.name()}</td>
                            <td>{describe(e)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <h3 data-testid="event-count">{format!("{count} events")}</h3>
                <table data-testid="events">
                    <thead><tr><th>"when"</th><th>"event"</th><th>"what"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
        }}
        <h3>"The engine"</h3>
        <p>{move || backend.with(|b| format!("Models run on {} ({}).", b.name, b.reason))}</p>
        <table>
            <thead><tr><th>"model file"</th><th>"size"</th><th>"loaded from"</th></tr></thead>
            <tbody>{sizes}</tbody>
        </table>
    }
}
