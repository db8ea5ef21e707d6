//! Vitrine's engine for JavaScript: browsers, workers and edge runtimes.
//!
//! Every exported function returns an error value on bad input and never panics: a panic in
//! wasm32 traps and leaves the module unusable for the rest of the page's life.

#![warn(missing_docs)]

mod constructors;
pub mod edge;
pub mod engine;
mod fetch;
pub mod store;
pub mod worker;

pub use constructors::run_static_constructors;

use serde::Serialize;
pub use vitrine_core::TaggedEntity;
use vitrine_core::burn::prelude::Device;
use vitrine_core::recommend::{ShippedRecommender, Suggestions};
use vitrine_core::{DeviceKind, Encoder, TaggerFile, TextTagger, l2_norm, open_device};
use wasm_bindgen::prelude::*;

/// The compute device the engine picked, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Backend {
    /// `"webgpu"` or `"cpu"`.
    pub name: &'static str,
    /// Why this one: the adapter found, or why WebGPU was not used.
    pub reason: String,
}

thread_local! {
    /// The WebGPU device once initialised: the runtime can be set up only once per page.
    static WEBGPU: std::cell::RefCell<Option<Device>> = const { std::cell::RefCell::new(None) };
}

/// Chooses WebGPU when the browser offers an adapter, else the CPU.
///
/// The adapter is requested once per page; later calls reuse the device.
pub async fn choose_device(prefer_gpu: bool) -> Result<(Device, Backend), vitrine_core::Error> {
    run_static_constructors();
    if prefer_gpu {
        let cached = WEBGPU.with(|cell| cell.borrow().clone());
        let device = match cached {
            Some(device) => Ok(device),
            None => vitrine_core::webgpu_device().await,
        };
        match device {
            Ok(device) => {
                WEBGPU.with(|cell| *cell.borrow_mut() = Some(device.clone()));
                let reason = "the browser offers a WebGPU adapter".to_owned();
                return Ok((
                    device,
                    Backend {
                        name: "webgpu",
                        reason,
                    },
                ));
            }
            Err(err) => log::warn!("falling back to the CPU: {err}"),
        }
    }
    let reason = if prefer_gpu {
        "this browser offers no WebGPU adapter".to_owned()
    } else {
        "the CPU was asked for".to_owned()
    };
    Ok((
        open_device(DeviceKind::Cpu)?,
        Backend {
            name: "cpu",
            reason,
        },
    ))
}

/// One token of an encoded text, with offsets for `String.prototype.slice`.
#[derive(Debug, Clone, Serialize)]
pub struct TokenView {
    /// The WordPiece token.
    pub token: String,
    /// Its vocabulary id.
    pub id: u32,
    /// Start in UTF-16 code units; `null` for special tokens.
    pub start: Option<usize>,
    /// End in UTF-16 code units; `null` for special tokens.
    pub end: Option<usize>,
    /// Norm of its hidden state.
    pub norm: f32,
}

/// What the encoder made of one text.
#[derive(Debug, Clone, Serialize)]
pub struct EncodedText {
    /// Tokens of every window, in order.
    pub tokens: Vec<TokenView>,
    /// Norm of the mean of the first window's token states.
    pub embedding_norm: f32,
    /// Number of windows the text needed.
    pub windows: usize,
}

/// The base encoder, loaded in the browser.
///
/// Not named `TextEncoder`: wasm-bindgen's own glue calls the browser's `TextEncoder`, which an
/// exported class of that name would shadow.
#[wasm_bindgen]
#[derive(Debug)]
pub struct BaseEncoder {
    encoder: Encoder,
    backend: Backend,
}

#[wasm_bindgen]
impl BaseEncoder {
    /// Loads the encoder from the bytes of `config.json`, `model.safetensors` and
    /// `tokenizer.json`, on WebGPU when `preferGpu` is true and an adapter exists.
    pub async fn load(
        config: Vec<u8>,
        weights: Vec<u8>,
        tokenizer: Vec<u8>,
        #[wasm_bindgen(js_name = preferGpu)] prefer_gpu: bool,
    ) -> Result<BaseEncoder, JsError> {
        Ok(Self::load_bytes(&config, &weights, &tokenizer, prefer_gpu).await?)
    }

    /// `{ name, reason }` of the device in use.
    pub fn backend(&self) -> Result<JsValue, JsError> {
        Ok(serde_wasm_bindgen::to_value(&self.backend)?)
    }

    /// Encodes one text: `{ tokens: [{ token, id, start, end, norm }], embeddingNorm, windows }`.
    pub async fn encode(&self, text: String) -> Result<JsValue, JsError> {
        let encoded = self.encode_text(&text).await?;
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        Ok(encoded.serialize(&serializer)?)
    }
}

impl BaseEncoder {
    /// Loads the encoder, for Rust callers; see [`BaseEncoder::load`].
    pub async fn load_bytes(
        config: &[u8],
        weights: &[u8],
        tokenizer: &[u8],
        prefer_gpu: bool,
    ) -> Result<BaseEncoder, vitrine_core::Error> {
        run_static_constructors();
        let (device, backend) = choose_device(prefer_gpu).await?;
        let encoder = Encoder::from_bytes(config, weights, tokenizer, &device)?;
        log::info!("encoder ready on {} ({})", backend.name, backend.reason);
        Ok(Self { encoder, backend })
    }

    /// The device choice, for Rust callers.
    pub fn backend_info(&self) -> &Backend {
        &self.backend
    }

    /// The encoder, for Rust callers.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// Encodes one text, for Rust callers.
    pub async fn encode_text(&self, text: &str) -> Result<EncodedText, vitrine_core::Error> {
        let windows = self.encoder.tokenizer().encode(text)?;
        let mut tokens = Vec::new();
        let mut embedding_norm = 0.0;
        for (w, encoding) in windows.iter().enumerate() {
            // One window at a time: a long text's windows together could exhaust memory.
            let one = std::slice::from_ref(encoding);
            let states = self.encoder.hidden_states_async(one).await?.remove(0);
            if w == 0 {
                embedding_norm = l2_norm(&states.mean_pooled());
            }
            for (i, norm) in states.norms().into_iter().enumerate() {
                let (start, end) = encoding.offsets_utf16[i];
                let real = !encoding.special[i];
                tokens.push(TokenView {
                    token: encoding.tokens[i].clone(),
                    id: encoding.ids[i],
                    start: real.then_some(start),
                    end: real.then_some(end),
                    norm,
                });
            }
        }
        Ok(EncodedText {
            tokens,
            embedding_norm,
            windows: windows.len(),
        })
    }
}

/// The shopper-text tagger, loaded in the browser: product types, brands, colours, sizes,
/// prices and the rest of QueryNER's types in search queries and titles.
#[wasm_bindgen]
#[derive(Debug)]
pub struct ShopperTagger {
    tagger: TextTagger,
    backend: Backend,
    sizes: Vec<engine::ModelSize>,
}

#[wasm_bindgen]
impl ShopperTagger {
    /// Loads the tagger from the bytes of `tagger.safetensors` and its `tokenizer.json`, on
    /// WebGPU when `preferGpu` is true and an adapter exists. A corrupted or mismatched file
    /// is refused with the reason.
    pub async fn load(
        model: Vec<u8>,
        tokenizer: Vec<u8>,
        #[wasm_bindgen(js_name = preferGpu)] prefer_gpu: bool,
    ) -> Result<ShopperTagger, JsError> {
        Ok(Self::load_bytes(&model, &tokenizer, prefer_gpu).await?)
    }

    /// Fetches `tagger/tagger.safetensors` and `tagger/tokenizer.json` under `baseUrl` (kept
    /// in the Cache API for the next visit) and loads them, reporting `onProgress(share,
    /// message)`. A file that fails its check is dropped from the cache and refused.
    pub async fn fetch(
        #[wasm_bindgen(js_name = baseUrl)] base_url: String,
        #[wasm_bindgen(js_name = preferGpu)] prefer_gpu: bool,
        #[wasm_bindgen(js_name = onProgress)] on_progress: Option<js_sys::Function>,
    ) -> Result<ShopperTagger, JsError> {
        run_static_constructors();
        let report = |share: f64, message: &str| {
            if let Some(callback) = &on_progress {
                let _ = callback.call2(&JsValue::NULL, &share.into(), &message.into());
            }
        };
        let (mut tagger, sizes) = engine::fetch_tagger(&base_url, prefer_gpu, &report)
            .await
            .map_err(|e| JsError::new(&e))?;
        tagger.sizes = sizes;
        Ok(tagger)
    }

    /// `{ name, reason }` of the device in use.
    pub fn backend(&self) -> Result<JsValue, JsError> {
        Ok(serde_wasm_bindgen::to_value(&self.backend)?)
    }

    /// `[{ file, bytes, cached }]` of the files `fetch` loaded; empty after `load`.
    #[wasm_bindgen(js_name = modelSizes)]
    pub fn model_sizes(&self) -> Result<JsValue, JsError> {
        to_js(&self.sizes)
    }

    /// The entities of one text: `[{ kind, text, chars: [start, end], utf16: [start, end],
    /// confidence }]`, where `utf16` slices the JavaScript string. Empty text gives `[]`.
    pub async fn tag(&self, text: String) -> Result<JsValue, JsError> {
        let entities = self.tag_text(&text).await?;
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        Ok(entities.serialize(&serializer)?)
    }
}

impl ShopperTagger {
    /// Loads the tagger, for Rust callers; see [`ShopperTagger::load`].
    pub async fn load_bytes(
        model: &[u8],
        tokenizer: &[u8],
        prefer_gpu: bool,
    ) -> Result<ShopperTagger, vitrine_core::Error> {
        run_static_constructors();
        let (device, backend) = choose_device(prefer_gpu).await?;
        let tagger = TaggerFile::read(model, &device)?.into_text_tagger(tokenizer, &device)?;
        log::info!("tagger ready on {} ({})", backend.name, backend.reason);
        Ok(Self {
            tagger,
            backend,
            sizes: Vec::new(),
        })
    }

    /// The device choice, for Rust callers.
    pub fn backend_info(&self) -> &Backend {
        &self.backend
    }

    /// The tagger, for Rust callers.
    pub fn tagger(&self) -> &TextTagger {
        &self.tagger
    }

    /// Sets how word tags are read from the probabilities, for Rust callers.
    pub fn set_decoding(&mut self, decoding: vitrine_core::Decoding) {
        self.tagger.set_decoding(decoding);
    }

    /// Tags one text, for Rust callers.
    pub async fn tag_text(&self, text: &str) -> Result<Vec<TaggedEntity>, vitrine_core::Error> {
        self.tagger.tag_async(text).await
    }
}

/// The shipped recommender in the browser: it keeps no shopper, and folds in each history as it
/// comes, in plain Rust on the CPU (a few million floating-point operations per history).
#[wasm_bindgen]
#[derive(Debug)]
pub struct ShopperRecommender {
    shipped: ShippedRecommender,
}

#[wasm_bindgen]
impl ShopperRecommender {
    /// Loads `recommender.safetensors`; a corrupted, truncated or foreign file is refused with
    /// the reason.
    pub fn load(model: Vec<u8>) -> Result<ShopperRecommender, JsError> {
        Ok(Self::load_bytes(&model)?)
    }

    /// The number of products in the item table.
    #[wasm_bindgen(js_name = itemCount)]
    pub fn item_count(&self) -> usize {
        self.shipped.catalogue.len()
    }

    /// One product of the item table, `{ id, title, price, tags: [{ kind, text }] }`, or
    /// `undefined` for an unknown id.
    pub fn item(&self, id: String) -> Result<JsValue, JsError> {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        match self.shipped.item(&id) {
            Some(item) => Ok(item.serialize(&serializer)?),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// The `k` products for a history of product ids, with diversity from 0 to 1:
    /// `{ history, k, diversity, personalised, unknown, segment, items: [{ item, title,
    /// score, explanation }] }`. An empty or unknown history gives popular products, `personalised`
    /// false.
    pub fn recommend(
        &self,
        history: Vec<String>,
        k: usize,
        diversity: f64,
    ) -> Result<JsValue, JsError> {
        let list = self.suggest(&history, k, diversity)?;
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        Ok(list.serialize(&serializer)?)
    }

    /// [`ShopperRecommender::recommend`] with a weight per product id (`weights[i]` for
    /// `history[i]`): a view 0.25, a cart 0.5, a purchase 1, a share or a gift 2 (the social
    /// boost). Repeats add up.
    #[wasm_bindgen(js_name = recommendWeighted)]
    pub fn recommend_weighted(
        &self,
        history: Vec<String>,
        weights: Vec<f32>,
        k: usize,
        diversity: f64,
    ) -> Result<JsValue, JsError> {
        if history.len() != weights.len() {
            return Err(JsError::new(&format!(
                "{} product ids but {} weights; give one weight per id",
                history.len(),
                weights.len()
            )));
        }
        let weighted: Vec<(String, f32)> = history.into_iter().zip(weights).collect();
        let list = self.shipped.suggest_weighted(&weighted, k, diversity)?;
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        Ok(list.serialize(&serializer)?)
    }
}

impl ShopperRecommender {
    /// Loads the model, for Rust callers; see [`ShopperRecommender::load`].
    pub fn load_bytes(model: &[u8]) -> Result<ShopperRecommender, vitrine_core::Error> {
        run_static_constructors();
        let shipped = ShippedRecommender::from_bytes(model)?;
        log::info!(
            "recommender ready: {} products, {} factors",
            shipped.catalogue.len(),
            shipped.model.factors()
        );
        Ok(Self { shipped })
    }

    /// The list for a history, for Rust callers; see [`ShopperRecommender::recommend`].
    pub fn suggest(
        &self,
        history: &[String],
        k: usize,
        diversity: f64,
    ) -> Result<Suggestions, vitrine_core::Error> {
        self.shipped.suggest(history, k, diversity)
    }
}

/// The engine for pages and widgets: the shipped models, the shopper's events kept on the
/// device after consent, and recommendations folded in from them.
///
/// ```js
/// const engine = await Engine.load("models", (share, message) => bar.value = share);
/// await engine.setConsent(true);
/// await engine.track({ event: "view_item", params: { items: [{ item_id: "85123A" }] } });
/// const { items } = engine.recommend({ k: 4 });
/// ```
#[wasm_bindgen(js_name = Engine)]
#[derive(Debug)]
pub struct JsEngine {
    engine: engine::Engine,
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    Ok(value.serialize(&serializer)?)
}

#[wasm_bindgen(js_class = Engine)]
impl JsEngine {
    /// Loads the models under `baseUrl` (`tagger/`, `recommender/`, `profile/`), reporting
    /// `onProgress(share, message)`, and the shopper's stored events. `options`:
    /// `{ namespace, preferGpu, tagger }`; each namespace keeps its own events, and
    /// `tagger: false` leaves out the tagger for pages that only recommend.
    pub async fn load(
        #[wasm_bindgen(js_name = baseUrl)] base_url: String,
        #[wasm_bindgen(js_name = onProgress)] on_progress: Option<js_sys::Function>,
        options: JsValue,
    ) -> Result<JsEngine, JsError> {
        run_static_constructors();
        let options: engine::LoadOptions = if options.is_undefined() || options.is_null() {
            engine::LoadOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| JsError::new(&format!("load options: {e}")))?
        };
        let report = |share: f64, message: &str| {
            if let Some(callback) = &on_progress {
                let _ = callback.call2(&JsValue::NULL, &share.into(), &message.into());
            }
        };
        let engine = engine::Engine::load(&base_url, &options, &report)
            .await
            .map_err(|e| JsError::new(&e))?;
        Ok(JsEngine { engine })
    }

    /// `{ name: "webgpu" | "cpu", reason }`.
    pub fn backend(&self) -> Result<JsValue, JsError> {
        to_js(&self.engine.backend())
    }

    /// The ISO 4217 code of the product prices.
    pub fn currency(&self) -> String {
        self.engine.currency().to_owned()
    }

    /// `{ kind: "indexeddb" | "memory", reason }`.
    pub fn storage(&self) -> Result<JsValue, JsError> {
        to_js(&self.engine.storage())
    }

    /// Gives or withdraws consent to keep events on this device; see `storage()` after.
    #[wasm_bindgen(js_name = setConsent)]
    pub async fn set_consent(&self, given: bool) -> Result<JsValue, JsError> {
        let status = self
            .engine
            .set_consent(given)
            .await
            .map_err(|e| JsError::new(&e))?;
        to_js(&status)
    }

    /// Records one event, e.g. `{ event: "add_to_cart", params: { currency: "GBP", items: [{
    /// item_id, price, quantity }] } }`; gives `{ event, saved, message }`.
    pub async fn track(&self, event: JsValue) -> Result<JsValue, JsError> {
        let value: serde_json::Value = serde_wasm_bindgen::from_value(event)
            .map_err(|e| JsError::new(&format!("the event is not plain JSON data: {e}")))?;
        let tracked = self
            .engine
            .track(value)
            .await
            .map_err(|e| JsError::new(&e))?;
        to_js(&tracked)
    }

    /// Recommendations, `options` `{ k, context: "item:<id>", diversity }`: see
    /// `ShopperRecommender.recommend` for the answer's shape.
    pub fn recommend(&self, options: JsValue) -> Result<JsValue, JsError> {
        let options: engine::RecommendOptions = if options.is_undefined() || options.is_null() {
            engine::RecommendOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| JsError::new(&format!("recommend options: {e}")))?
        };
        let list = self
            .engine
            .recommend(&options)
            .map_err(|e| JsError::new(&e))?;
        to_js(&list)
    }

    /// The entities of one text; see `ShopperTagger.tag`.
    pub async fn tag(&self, text: String) -> Result<JsValue, JsError> {
        let entities = self.engine.tag(&text).await.map_err(|e| JsError::new(&e))?;
        to_js(&entities)
    }

    /// One product `{ id, title, price, tags }`, or `undefined`.
    pub fn item(&self, id: String) -> Result<JsValue, JsError> {
        match self.engine.item(&id) {
            Some(item) => to_js(item),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// `{ placement: { enough_data, note, orders, features, map, segment, forecast }, segments,
    /// map, explained_variance }`: where the shopper's own purchases place them.
    pub fn profile(&self) -> Result<JsValue, JsError> {
        let profile = self.engine.profile().map_err(|e| JsError::new(&e))?;
        to_js(&profile)
    }

    /// `{ horizon_days, orders, spend, probability_active, currency, basis }`: the shopper's
    /// expected orders and spend in the coming days.
    pub fn forecast(&self) -> Result<JsValue, JsError> {
        let profile = self.engine.profile().map_err(|e| JsError::new(&e))?;
        to_js(&profile.placement.forecast)
    }

    /// Local click-through and conversion counts.
    pub fn engagement(&self) -> Result<JsValue, JsError> {
        to_js(&self.engine.engagement())
    }

    /// Every event as JSON text.
    #[wasm_bindgen(js_name = exportData)]
    pub fn export_data(&self) -> String {
        self.engine.export()
    }

    /// Deletes every event, on the device and in memory.
    #[wasm_bindgen(js_name = deleteAllData)]
    pub async fn delete_all_data(&self) -> Result<(), JsError> {
        self.engine.delete_all().await.map_err(|e| JsError::new(&e))
    }
}
