// The shopper-text tagger in a module Web Worker, for pages that must not freeze while BERT
// runs. The page posts `{ id, type: "load", args: { base, preferGpu } }`, then
// `{ id, type: "tag", args: text }`; the worker answers `{ id, ok, value }` or
// `{ id, ok: false, fatal, error }`, and reports loading as `{ progress: [share, message] }`.
// A trap of the module (`fatal`: a lost GPU device, a bug) closes the worker, and the page
// starts a new one on the CPU.

import init, { ShopperTagger } from './vitrine_wasm.js';

let tagger = null;

async function load({ base, preferGpu }) {
  await init();
  const progress = (share, message) => self.postMessage({ progress: [share, message] });
  tagger = await ShopperTagger.fetch(base, preferGpu, progress);
  return { ...tagger.backend(), sizes: tagger.modelSizes() };
}

self.onmessage = async ({ data }) => {
  const { id, type, args } = data ?? {};
  try {
    let value;
    if (type === 'load') value = await load(args);
    else if (type === 'tag' && tagger) value = await tagger.tag(args);
    else throw new Error(`the tagger cannot answer ${JSON.stringify(type)} now`);
    self.postMessage({ id, ok: true, value });
  } catch (error) {
    const fatal = error instanceof WebAssembly.RuntimeError;
    self.postMessage({ id, ok: false, fatal, error: String(error?.message ?? error) });
    if (fatal) self.close();
  }
};
