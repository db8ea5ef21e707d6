//! The shop: catalogue and search, product pages, the cart with a simulated payment, and
//! "For you".

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};
use vitrine_core::events::EventKind;
use vitrine_core::recommend::{CatalogueItem, Suggestions};
use vitrine_wasm::TaggedEntity;
use vitrine_wasm::engine::{Engine, RecommendOptions};

use crate::{Route, Shop};

/// Products shown on the shop's front page and per search.
const PAGE: usize = 24;

fn shop() -> Shop {
    expect_context::<Shop>()
}

/// A price in major units as integer minor units (the shop's currency has two decimals).
fn minor_units(price: f64) -> i64 {
    (price * 100.0).round() as i64
}

/// One GA4 item line for an event, priced in minor units.
fn line(item: &CatalogueItem, quantity: u32) -> Value {
    let mut line = json!({ "item_id": item.id, "item_name": item.title, "quantity": quantity });
    if let Some(price) = item.price {
        line["price"] = json!(minor_units(price));
    }
    line
}

/// An event with its items, in the shop's currency.
fn items_event(shop: &Shop, name: &str, lines: Vec<Value>) -> Value {
    json!({
        "event": name,
        "params": { "currency": shop.engine().currency(), "items": lines },
    })
}

/// One line of the cart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CartLine {
    /// The product.
    pub item: CatalogueItem,
    /// How many.
    pub quantity: u32,
}

/// The cart as the events leave it: what was added and not removed since the last purchase.
/// It lives in the event store, so it survives a reload like everything else.
pub(crate) fn cart_lines(engine: &Engine) -> Vec<CartLine> {
    let mut counts = BTreeMap::<String, i64>::new();
    for event in engine.events() {
        match &event.kind {
            EventKind::AddToCart(p) => {
                for i in &p.items {
                    *counts.entry(i.item_id.clone()).or_default() += i64::from(i.quantity.max(1));
                }
            }
            EventKind::RemoveFromCart(p) => {
                for i in &p.items {
                    *counts.entry(i.item_id.clone()).or_default() -= i64::from(i.quantity.max(1));
                }
            }
            EventKind::Purchase(_) => counts.clear(),
            _ => {}
        }
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .filter_map(|(id, n)| {
            Some(CartLine {
                item: engine.item(&id)?.clone(),
                quantity: u32::try_from(n).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// Scores a product for a search: each query word found in its title counts one, and a word
/// the tagger marked (a product type, a colour, a material) counts two.
fn search_score(item: &CatalogueItem, words: &[String], tagged: &[String]) -> u32 {
    let title = item.title.to_lowercase();
    let title_words: Vec<&str> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let found = |w: &str| title_words.iter().any(|t| t.starts_with(w));
    words
        .iter()
        .filter(|w| found(w))
        .map(|w| if tagged.contains(w) { 2 } else { 1 })
        .sum()
}

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_owned)
        .collect()
}

/// The catalogue: popular products, or the matches of a search with its query marked up.
#[component]
pub(crate) fn Catalogue(query: Option<String>) -> impl IntoView {
    let shop = shop();
    let (text, set_text) = signal(query.clone().unwrap_or_default());
    let tagged = RwSignal::new_local(None::<Result<Vec<TaggedEntity>, String>>);

    if let Some(query) = query.clone().filter(|q| !q.trim().is_empty()) {
        let engine = shop.engine().clone();
        let q = query.clone();
        spawn_local(async move {
            tagged.set(Some(engine.tag(&q).await));
            shop.backend.set(engine.backend());
        });
        shop.track(json!({ "event": "search", "params": { "search_term": query } }));
    }

    let results = {
        let query = query.clone();
        move || -> Vec<CatalogueItem> {
            let engine = &shop.engine();
            match &query {
                Some(q) if !q.trim().is_empty() => {
                    let query_words = words(q);
                    let marked: Vec<String> = match tagged.get() {
                        Some(Ok(entities)) => {
                            entities.iter().flat_map(|e| words(&e.text)).collect()
                        }
                        _ => Vec::new(),
                    };
                    let mut scored: Vec<(u32, &CatalogueItem)> = engine
                        .catalogue()
                        .iter()
                        .map(|item| (search_score(item, &query_words, &marked), item))
                        .filter(|(score, _)| *score > 0)
                        .collect();
                    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
                    scored
                        .into_iter()
                        .take(PAGE)
                        .map(|(_, i)| i.clone())
                        .collect()
                }
                _ => engine
                    .popular(PAGE)
                    .into_iter()
                    .filter_map(|id| engine.item(&id).cloned())
                    .collect(),
            }
        }
    };

    let submit = {
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let q = text.get_untracked();
            let route = if q.trim().is_empty() {
                Route::Shop(None)
            } else {
                Route::Shop(Some(q))
            };
            shop.go(&route);
        }
    };

    let heading = match &query {
        Some(q) if !q.trim().is_empty() => format!("Results for “{q}”"),
        _ => "Popular in the shop".to_owned(),
    };
    view! {
        <form role="search" on:submit=submit>
            <input
                type="search"
                aria-label="Search the shop"
                placeholder="red heart lantern"
                prop:value=move || text.get()
                on:input=move |ev| set_text.set(event_target_value(&ev))
            />
            <button type="submit">"Search"</button>
        </form>
        {query
            .filter(|q| !q.trim().is_empty())
            .map(|q| view! { <Entities query=q result=tagged /> })}
        <h2>{heading}</h2>
        {move || {
            let items = results();
            if items.is_empty() {
                view! { <p>"Nothing in the shop matches. Try fewer words."</p> }.into_any()
            } else {
                view! { <ProductGrid items=items list="catalogue" /> }.into_any()
            }
        }}
    }
}

/// Product cards; clicking one records `select_item` with the list it came from.
#[component]
pub(crate) fn ProductGrid(items: Vec<CatalogueItem>, list: &'static str) -> impl IntoView {
    let shop = shop();
    let cards = items
        .into_iter()
        .map(|item| {
            let href = Route::Item(item.id.clone()).href();
            let price = item.price.map(|p| shop.money(p)).unwrap_or_default();
            let on_click = {
                let item = item.clone();
                move |_| {
                    let mut event = items_event(&shop, "select_item", vec![line(&item, 1)]);
                    event["params"]["item_list_id"] = json!(list);
                    if list != "catalogue" {
                        shop.track(event);
                    }
                }
            };
            view! {
                <li class="card" data-item=item.id.clone()>
                    <a href=href on:click=on_click>
                        <span class="title">{item.title.clone()}</span>
                        <span class="price">{price}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="grid" data-list=list>{cards}</ul> }
}

/// Suggestions with their explanations, as cards.
#[component]
fn SuggestionList(list: Suggestions, name: &'static str) -> impl IntoView {
    let shop = shop();
    let cards = list
        .items
        .into_iter()
        .map(|s| {
            let href = Route::Item(s.item.clone()).href();
            let price = shop
                .engine()
                .item(&s.item)
                .and_then(|i| i.price)
                .map(|p| shop.money(p))
                .unwrap_or_default();
            let on_click = {
                let id = s.item.clone();
                move |_| {
                    if let Some(item) = shop.engine().item(&id) {
                        let mut event = items_event(&shop, "select_item", vec![line(item, 1)]);
                        event["params"]["item_list_id"] = json!(name);
                        shop.track(event);
                    }
                }
            };
            view! {
                <li class="card" data-item=s.item.clone()>
                    <a href=href on:click=on_click>
                        <span class="title">{s.title}</span>
                        <span class="price">{price}</span>
                        <span class="why">{s.explanation}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="grid" data-list=name>{cards}</ul> }
}

/// One product: its tags, a cart button, and products like it.
#[component]
pub(crate) fn Product(id: String) -> impl IntoView {
    let shop = shop();
    let Some(item) = shop.engine().item(&id).cloned() else {
        return view! {
            <p class="error" role="alert">
                {format!("There is no product {id} in this shop. ")}
                <a href="#/">"Back to the shop"</a>
            </p>
        }
        .into_any();
    };
    shop.track(items_event(&shop, "view_item", vec![line(&item, 1)]));

    let similar = shop.engine().recommend(&RecommendOptions {
        k: 4,
        context: Some(format!("item:{id}")),
        diversity: 0.3,
    });
    let add = {
        let item = item.clone();
        move |_| shop.track(items_event(&shop, "add_to_cart", vec![line(&item, 1)]))
    };
    let share = {
        let item = item.clone();
        move |_| {
            shop.track(json!({
                "event": "share",
                "params": { "item_id": item.id, "recipient": "via-link", "method": "link" },
            }))
        }
    };
    let tags = item
        .tags
        .iter()
        .map(|t| view! { <li><span class="kind">{t.kind.clone()}</span>" "{t.text.clone()}</li> })
        .collect_view();
    let price = item
        .price
        .map(|p| shop.money(p))
        .unwrap_or_else(|| "price on request".into());
    view! {
        <article class="product" data-item=item.id.clone()>
            <h2>{item.title.clone()}</h2>
            <p class="price">{price}</p>
            <p class="muted">"Product " {item.id.clone()}</p>
            <ul class="tags" aria-label="What the tagger read in the title">{tags}</ul>
            <button on:click=add>"Add to cart"</button>
            " "
            <button class="secondary" on:click=share>"Share with a friend"</button>
        </article>
        <h3>"Similar items"</h3>
        {match similar {
            Ok(list) => view! { <SuggestionList list=list name="similar" /> }.into_any(),
            Err(err) => view! { <p class="error">{err}</p> }.into_any(),
        }}
    }
    .into_any()
}

/// The cart and a simulated payment that records `payment` and `purchase`.
#[component]
pub(crate) fn Cart() -> impl IntoView {
    let shop = shop();
    let (paid, set_paid) = signal(None::<String>);
    let lines = {
        move || {
            shop.revision.track();
            cart_lines(&shop.engine())
        }
    };
    let pay = {
        move |_| {
            let lines = cart_lines(&shop.engine());
            if lines.is_empty() {
                return;
            }
            let order = format!("o{}", js_sys::Date::now() as u64);
            let items: Vec<Value> = lines.iter().map(|l| line(&l.item, l.quantity)).collect();
            let total: i64 = lines
                .iter()
                .map(|l| minor_units(l.item.price.unwrap_or(0.0)) * i64::from(l.quantity))
                .sum();
            let currency = shop.engine().currency().to_owned();
            shop.track(items_event(&shop, "begin_checkout", items.clone()));
            shop.track(json!({
                "event": "payment",
                "params": { "transaction_id": order, "amount": total, "currency": currency,
                            "method": "card" },
            }));
            shop.track(json!({
                "event": "purchase",
                "params": { "transaction_id": order, "currency": currency, "items": items },
            }));
            set_paid.set(Some(format!(
                "Paid {} with the test card: order {order}. Nothing was charged.",
                shop.money(total as f64 / 100.0)
            )));
        }
    };
    let remove = move |item: CatalogueItem| {
        move |_| shop.track(items_event(&shop, "remove_from_cart", vec![line(&item, 1)]))
    };
    let money = {
        let shop = expect_context::<Shop>();
        move |v: f64| shop.money(v)
    };
    view! {
        <h2>"Your cart"</h2>
        <Show when=move || paid.get().is_some()>
            <p class="ok" role="status" data-testid="paid">
                {move || paid.get().unwrap_or_default()}
            </p>
        </Show>
        {move || {
            let lines = lines();
            if lines.is_empty() {
                return view! { <p>"Your cart is empty."</p> }.into_any();
            }
            let total: f64 = lines
                .iter()
                .map(|l| l.item.price.unwrap_or(0.0) * f64::from(l.quantity))
                .sum();
            let rows = lines
                .into_iter()
                .map(|l| {
                    let price = l.item.price.map(&money).unwrap_or_default();
                    view! {
                        <tr>
                            <td>
                                <a href=Route::Item(l.item.id.clone()).href()>
                                    {l.item.title.clone()}
                                </a>
                            </td>
                            <td>{l.quantity}</td>
                            <td>{price}</td>
                            <td>
                                <button class="secondary" on:click=remove(l.item.clone())>
                                    "Remove one"
                                </button>
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table>
                    <thead>
                        <tr><th>"product"</th><th>"quantity"</th><th>"price"</th><th></th></tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
                <p class="total">"Total: " {money(total)}</p>
                <button on:click=pay>"Pay with test card"</button>
            }
            .into_any()
        }}
    }
}

/// "For you": the shopper's list, folded in again after each event, with explanations.
#[component]
pub(crate) fn ForYou() -> impl IntoView {
    let shop = shop();
    let list = move || {
        shop.revision.track();
        shop.engine().recommend(&RecommendOptions {
            k: 8,
            context: None,
            diversity: 0.3,
        })
    };
    view! {
        <h2>"For you"</h2>
        {move || match list() {
            Ok(list) => {
                let note = if list.personalised {
                    "Picked from what you did in this shop, on this device."
                } else {
                    "Popular products: look at or buy a few things and this list becomes yours."
                };
                view! {
                    <p
                        class="muted"
                        data-testid="personalised"
                        data-personalised=list.personalised.to_string()
                    >
                        {note}
                    </p>
                    <SuggestionList list=list name="for_you" />
                }
                .into_any()
            }
            Err(err) => view! { <p class="error" role="alert">{err}</p> }.into_any(),
        }}
    }
}

/// The query with its entities marked inline, then one row per entity.
#[component]
fn Entities(
    query: String,
    result: RwSignal<Option<Result<Vec<TaggedEntity>, String>>, LocalStorage>,
) -> impl IntoView {
    move || match result.get() {
        None => view! { <p class="muted">"Reading your search…"</p> }.into_any(),
        Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
        Some(Ok(entities)) => {
            let marked = marked_up(&query, &entities);
            let summary = match entities.len() {
                0 => "No entities found".to_owned(),
                1 => "1 entity".to_owned(),
                n => format!("{n} entities"),
            };
            let rows = entities
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
                <details>
                    <summary data-testid="summary">{summary}</summary>
                    <table data-testid="entities">
                        <thead>
                            <tr>
                                <th>"type"</th><th>"text"</th><th>"UTF-16 span"</th>
                                <th>"confidence"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </details>
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
