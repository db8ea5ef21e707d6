//! Downloading the shipped model files with progress, kept in the browser's Cache API so a
//! second visit loads them without the network.
//!
//! The files check themselves: each model file carries a SHA-256 over its tensors and metadata,
//! and the tagger's names the SHA-256 of its tokenizer, so a cached copy that went bad is
//! refused when loaded, dropped from the cache and fetched again.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, CacheStorage, ReadableStreamDefaultReader, Response};

use crate::store::describe;

/// The Cache API bucket; a new name when the file layout changes.
pub(crate) const CACHE_NAME: &str = "vitrine-models-v1";

/// Reports progress: the share done from 0 to 1 and what is happening.
pub(crate) type Progress<'a> = &'a dyn Fn(f64, &str);

/// The browser's `caches`, when this context has one (not on plain HTTP, nor in some
/// private windows).
async fn open_cache() -> Option<Cache> {
    let caches: CacheStorage = Reflect::get(&js_sys::global(), &"caches".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let cache = JsFuture::from(caches.open(CACHE_NAME)).await.ok()?;
    cache.dyn_into().ok()
}

/// Drops one URL from the cache, after its bytes were refused.
pub(crate) async fn forget(url: &str) {
    if let Some(cache) = open_cache().await {
        let _ = JsFuture::from(cache.delete_with_str(url)).await;
    }
}

/// Fetches `url` (from the cache when it is there), reporting progress between `from` and `to`.
/// Returns the bytes and whether they came from the cache.
pub(crate) async fn fetch_model(
    url: &str,
    label: &str,
    from: f64,
    to: f64,
    progress: Progress<'_>,
) -> Result<(Vec<u8>, bool), String> {
    let cache = open_cache().await;
    if let Some(cache) = &cache
        && let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await
        && let Ok(response) = hit.dyn_into::<Response>()
    {
        progress(from, &format!("Reading {label} from this device…"));
        let bytes = read_body(&response, label, from, to, progress).await?;
        return Ok((bytes, true));
    }

    progress(from, &format!("Downloading {label}…"));
    let global = js_sys::global();
    let fetch: js_sys::Function = Reflect::get(&global, &"fetch".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("this context has no fetch()")?;
    let promise: js_sys::Promise = fetch
        .call1(&global, &url.into())
        .map_err(|e| format!("cannot fetch {url}: {}", describe(&e)))?
        .dyn_into()
        .map_err(|_| "fetch() gave no promise".to_owned())?;
    let response: Response = JsFuture::from(promise)
        .await
        .map_err(|e| {
            format!(
                "cannot fetch {url} ({}): is the server running?",
                describe(&e)
            )
        })?
        .dyn_into()
        .map_err(|_| "fetch() gave no response".to_owned())?;
    if !response.ok() {
        return Err(format!(
            "{url} answered HTTP {}: the model files are missing from the server",
            response.status()
        ));
    }
    if let Some(cache) = &cache
        && let Ok(copy) = response.clone()
        && let Err(err) = JsFuture::from(cache.put_with_str(url, &copy)).await
    {
        log::warn!("{label} is not kept for offline use: {}", describe(&err));
    }
    let bytes = read_body(&response, label, from, to, progress).await?;
    Ok((bytes, false))
}

/// Reads a body chunk by chunk, reporting bytes against `Content-Length` when it is given.
async fn read_body(
    response: &Response,
    label: &str,
    from: f64,
    to: f64,
    progress: Progress<'_>,
) -> Result<Vec<u8>, String> {
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0);
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{label}: the body cannot be read"))?;
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("{label}: the download broke off ({})", describe(&e)))?;
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        if let Ok(value) = Reflect::get(&chunk, &"value".into())
            && let Ok(array) = value.dyn_into::<Uint8Array>()
        {
            let start = bytes.len();
            bytes.resize(start + array.length() as usize, 0);
            array.copy_to(&mut bytes[start..]);
        }
        if let Some(total) = total {
            let share = (bytes.len() as f64 / total).min(1.0);
            let mb = bytes.len() as f64 / 1e6;
            progress(
                from + (to - from) * share,
                &format!("{label}: {mb:.1} of {:.1} MB", total / 1e6),
            );
        }
    }
    progress(to, &format!("{label}: done"));
    Ok(bytes)
}
