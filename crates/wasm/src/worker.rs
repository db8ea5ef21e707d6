//! The tagger in a Web Worker, so that a page never freezes while BERT runs.
//!
//! The worker (`tagger-worker.js` beside the engine's `vitrine_wasm.js`) loads the tagger with
//! [`crate::ShopperTagger::fetch`] and answers `tag` requests. Should it die (a lost GPU device
//! traps the module, or the worker throws), the next request starts a new worker on the CPU and
//! is answered there: the page, its engine and the shopper's events carry on untouched.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt};
use js_sys::{Object, Reflect};
use serde::Deserialize;
use vitrine_core::TaggedEntity;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::Backend;
use crate::engine::ModelSize;
use crate::fetch::Progress;

/// What a request came back with: a value, or an error and whether the worker is gone.
type Answer = Result<JsValue, Failure>;

#[derive(Debug, Clone)]
struct Failure {
    message: String,
    fatal: bool,
}

/// What the worker says once the tagger is loaded.
#[derive(Debug, Deserialize)]
struct Loaded {
    name: String,
    reason: String,
    sizes: Vec<ModelSize>,
}

/// One running worker and the requests it has not answered.
struct Running {
    worker: Worker,
    pending: HashMap<u32, oneshot::Sender<Answer>>,
    progress: Option<mpsc::UnboundedSender<(f64, String)>>,
    dead: bool,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl Running {
    /// Fails every waiting request: the worker is gone.
    fn die(&mut self, message: &str) {
        self.dead = true;
        self.worker.terminate();
        for (_, sender) in self.pending.drain() {
            let _ = sender.send(Err(Failure {
                message: message.to_owned(),
                fatal: true,
            }));
        }
    }
}

/// The tagger behind a Web Worker.
pub struct TaggerWorker {
    script: String,
    models: String,
    running: RefCell<Rc<RefCell<Running>>>,
    backend: RefCell<Backend>,
    next: RefCell<u32>,
}

impl std::fmt::Debug for TaggerWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaggerWorker")
            .field("script", &self.script)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// `url` made absolute against this page: a worker resolves relative URLs against its script.
fn absolute(url: &str) -> Result<String, String> {
    let here = Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|l| Reflect::get(&l, &"href".into()))
        .ok()
        .and_then(|h| h.as_string())
        .unwrap_or_default();
    web_sys::Url::new_with_base(url, &here)
        .map(|u| u.href())
        .map_err(|_| format!("{url:?} is not a URL"))
}

fn spawn(script: &str) -> Result<Rc<RefCell<Running>>, String> {
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(script, &options).map_err(|e| {
        format!(
            "the tagger's worker {script} did not start: {}",
            crate::store::describe(&e)
        )
    })?;

    let running = Rc::new_cyclic(|weak: &std::rc::Weak<RefCell<Running>>| {
        let on_message = {
            let weak = weak.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                if let Some(running) = weak.upgrade() {
                    dispatch(&mut running.borrow_mut(), &event.data());
                }
            })
        };
        let on_error = {
            let weak = weak.clone();
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
                event.prevent_default();
                if let Some(running) = weak.upgrade() {
                    let message = format!("the tagger's worker failed: {}", event.message());
                    log::warn!("{message}");
                    running.borrow_mut().die(&message);
                }
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        RefCell::new(Running {
            worker,
            pending: HashMap::new(),
            progress: None,
            dead: false,
            _on_message: on_message,
            _on_error: on_error,
        })
    });
    Ok(running)
}

/// Routes one message of the worker: progress, or the answer to a request.
fn dispatch(running: &mut Running, data: &JsValue) {
    let get = |key: &str| Reflect::get(data, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let progress = get("progress");
    if progress.is_array() {
        let pair = js_sys::Array::from(&progress);
        let share = pair.get(0).as_f64().unwrap_or(0.0);
        let message = pair.get(1).as_string().unwrap_or_default();
        if let Some(sender) = &running.progress {
            let _ = sender.unbounded_send((share, message));
        }
        return;
    }
    let Some(id) = get("id").as_f64() else { return };
    let Some(sender) = running.pending.remove(&(id as u32)) else {
        return;
    };
    let fatal = get("fatal").is_truthy();
    let answer = if get("ok").is_truthy() {
        Ok(get("value"))
    } else {
        Err(Failure {
            message: get("error").as_string().unwrap_or_default(),
            fatal,
        })
    };
    let _ = sender.send(answer);
    if fatal {
        running.die("the tagger's worker stopped after a fault");
    }
}

/// Sends one request and waits for its answer.
async fn ask(running: &Rc<RefCell<Running>>, id: u32, kind: &str, args: &JsValue) -> Answer {
    let (sender, receiver) = oneshot::channel();
    {
        let mut running = running.borrow_mut();
        if running.dead {
            return Err(Failure {
                message: "the tagger's worker is gone".to_owned(),
                fatal: true,
            });
        }
        let message = Object::new();
        let _ = Reflect::set(&message, &"id".into(), &id.into());
        let _ = Reflect::set(&message, &"type".into(), &kind.into());
        let _ = Reflect::set(&message, &"args".into(), args);
        if let Err(err) = running.worker.post_message(&message) {
            return Err(Failure {
                message: crate::store::describe(&err),
                fatal: true,
            });
        }
        running.pending.insert(id, sender);
    }
    receiver.await.unwrap_or_else(|_| {
        Err(Failure {
            message: "the tagger's worker went away".to_owned(),
            fatal: true,
        })
    })
}

impl TaggerWorker {
    /// Starts the worker at `script` and loads the tagger from `models` in it, on WebGPU when
    /// `prefer_gpu` and the browser offers an adapter there, reporting progress. Gives the
    /// sizes of the files it loaded too.
    pub async fn start(
        script: &str,
        models: &str,
        prefer_gpu: bool,
        progress: Progress<'_>,
    ) -> Result<(TaggerWorker, Vec<ModelSize>), String> {
        let script = absolute(script)?;
        let models = absolute(models)?;
        let (running, loaded) = Self::load(&script, &models, prefer_gpu, progress).await?;
        let worker = TaggerWorker {
            script,
            models,
            running: RefCell::new(running),
            backend: RefCell::new(loaded.0),
            next: RefCell::new(1),
        };
        Ok((worker, loaded.1))
    }

    async fn load(
        script: &str,
        models: &str,
        prefer_gpu: bool,
        progress: Progress<'_>,
    ) -> Result<(Rc<RefCell<Running>>, (Backend, Vec<ModelSize>)), String> {
        let running = spawn(script)?;
        let (sender, mut updates) = mpsc::unbounded();
        running.borrow_mut().progress = Some(sender);

        let args = Object::new();
        let _ = Reflect::set(&args, &"base".into(), &models.into());
        let _ = Reflect::set(&args, &"preferGpu".into(), &prefer_gpu.into());
        let mut pending = Box::pin(ask(&running, 0, "load", &args).fuse());
        let answer = loop {
            futures::select! {
                update = updates.next() => {
                    if let Some((share, message)) = update {
                        progress(share, &message);
                    }
                }
                answer = pending => break answer,
            }
        };
        drop(pending);
        running.borrow_mut().progress = None;

        let value = answer.map_err(|f| f.message)?;
        let reply: Loaded = serde_wasm_bindgen::from_value(value)
            .map_err(|e| format!("the tagger's worker answered oddly: {e}"))?;
        let name = if reply.name == "webgpu" {
            "webgpu"
        } else {
            "cpu"
        };
        let backend = Backend {
            name,
            reason: reply.reason,
        };
        Ok((running, (backend, reply.sizes)))
    }

    /// The device the tagger runs on now, and why.
    pub fn backend(&self) -> Backend {
        self.backend.borrow().clone()
    }

    /// The entities of one text. A worker that died is replaced by one on the CPU, and the
    /// text is tagged there.
    pub async fn tag(&self, text: &str) -> Result<Vec<TaggedEntity>, String> {
        let answer = self.ask_tag(text).await;
        let answer = match answer {
            Err(Failure {
                fatal: true,
                message,
            }) => {
                log::warn!("{message}; the tagger moves to the CPU");
                let quiet = |_: f64, _: &str| {};
                let (running, (mut backend, _)) =
                    Self::load(&self.script, &self.models, false, &quiet).await?;
                backend.reason = if self.backend.borrow().name == "webgpu" {
                    format!("the tagger left the GPU after a fault ({message})")
                } else {
                    format!("the tagger was restarted after a fault ({message})")
                };
                *self.backend.borrow_mut() = backend;
                *self.running.borrow_mut() = running;
                self.ask_tag(text).await
            }
            other => other,
        };
        let value = answer.map_err(|f| f.message)?;
        serde_wasm_bindgen::from_value(value).map_err(|e| format!("tagged entities: {e}"))
    }

    async fn ask_tag(&self, text: &str) -> Answer {
        let id = {
            let mut next = self.next.borrow_mut();
            *next += 1;
            *next
        };
        let running = self.running.borrow().clone();
        ask(&running, id, "tag", &text.into()).await
    }
}

impl Drop for TaggerWorker {
    fn drop(&mut self) {
        self.running.borrow().borrow().worker.terminate();
    }
}
