// Vitrine at the edge: a stateless function from a shopper's recent events to recommendations.
//
// It runs the same WebAssembly engine as the browser (`vitrine_wasm.js`, wasm-bindgen's web
// target) and keeps nothing: no log of bodies, no store, no cookie. Any runtime that runs wasm
// and speaks the Fetch API can host `fetch`; Node's server in `server.mjs` uses `answer`.

import { initSync, EdgeHandler } from '../dist/vitrine/vitrine_wasm.js';

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
};

/** The largest body read, in bytes; the engine refuses larger ones with a 400 too. */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * Starts the engine from the wasm module (bytes or a compiled `WebAssembly.Module`) and the
 * bytes of `recommender.safetensors`.
 */
export function createEdge(wasm, recommender) {
  initSync({ module: wasm });
  const handler = EdgeHandler.load(new Uint8Array(recommender));
  const products = handler.popular(100000).length;

  /** `{ status, headers, body }` for one request, given its method, path and body text. */
  function answer(method, path, body) {
    const reply = (status, value) => ({
      status,
      headers: JSON_HEADERS,
      body: typeof value === 'string' ? value : JSON.stringify(value),
    });
    if (path === '/health') {
      return reply(200, { ok: true, products, currency: handler.currency() });
    }
    if (path !== '/recommend') {
      return reply(404, { error: `no route ${path}: POST events to /recommend` });
    }
    if (method !== 'POST') {
      return reply(405, { error: `${method} /recommend: use POST with a JSON body` });
    }
    const { status, body: json } = handler.handle(body);
    return reply(status, json);
  }

  /** The Fetch API form, for Workers, Deno and other edge runtimes. */
  async function fetch(request) {
    const path = new URL(request.url).pathname;
    const length = Number(request.headers.get('content-length') ?? 0);
    if (length > MAX_BODY_BYTES) {
      const error = `the body has ${length} bytes, over the limit of ${MAX_BODY_BYTES}`;
      return new Response(JSON.stringify({ error }), { status: 400, headers: JSON_HEADERS });
    }
    const body = request.method === 'POST' ? await request.text() : '';
    const { status, headers, body: text } = answer(request.method, path, body);
    return new Response(text, { status, headers });
  }

  return { answer, fetch };
}
