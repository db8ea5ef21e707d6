// The widget's engine, in a module Web Worker so that the merchant's page never waits on it.
//
// The loader posts `{ id, type, args }`; the worker answers `{ id, ok, value }` or
// `{ id, ok: false, error: { cause, message } }`. `cause` names what failed ("csp", "models",
// "engine", "input") so that the loader can say what to fix. Nothing here talks to the network
// except the model downloads, which the engine keeps in the Cache API.

import init, { Engine } from './vitrine_wasm.js';

let engine = null;
let loading = null;

// Why WebAssembly would not start: a Content Security Policy without 'wasm-unsafe-eval' shows
// up as a CompileError (or an EvalError) whose text names the policy.
function classify(error) {
  const text = String(error && error.message ? error.message : error);
  if (/unsafe-eval|Content Security Policy|disallowed by embedder/i.test(text)) return 'csp';
  return 'engine';
}

function failure(cause, error) {
  const message = String(error && error.message ? error.message : error);
  return { cause, message };
}

async function load({ models, namespace, consent }) {
  try {
    await init();
  } catch (error) {
    throw failure(classify(error), error);
  }
  try {
    engine = await Engine.load(models, null, { namespace, preferGpu: false, tagger: false });
  } catch (error) {
    throw failure('models', error);
  }
  if (consent) await engine.setConsent(true);
  return { backend: engine.backend(), storage: engine.storage(), currency: engine.currency() };
}

// Recommendations with each product's price, for the cards.
function recommend(args) {
  const list = engine.recommend(args);
  const items = list.items.map((s) => ({
    id: s.item,
    title: s.title,
    price: engine.item(s.item)?.price ?? null,
    explanation: s.explanation,
  }));
  return { personalised: list.personalised, items };
}

const handlers = {
  load,
  recommend: (args) => recommend(args),
  track: async (event) => {
    const tracked = await engine.track(event);
    return { saved: tracked.saved, message: tracked.message ?? null, id: tracked.event.id };
  },
  consent: async (given) => engine.setConsent(given),
  storage: () => engine.storage(),
  exportData: () => engine.exportData(),
  deleteAllData: () => engine.deleteAllData(),
};

self.onmessage = async ({ data }) => {
  const { id, type, args } = data ?? {};
  try {
    const handler = handlers[type];
    if (!handler) throw failure('input', `unknown request ${JSON.stringify(type)}`);
    if (type === 'load') {
      loading ??= load(args);
      self.postMessage({ id, ok: true, value: await loading });
      return;
    }
    if (!loading) throw failure('input', 'the engine is not loaded yet: send "load" first');
    await loading;
    self.postMessage({ id, ok: true, value: await handler(args) });
  } catch (error) {
    const ours = error && !(error instanceof Error) && typeof error.cause === 'string';
    const reason = ours ? error : failure('input', error);
    self.postMessage({ id, ok: false, error: reason });
  }
};
