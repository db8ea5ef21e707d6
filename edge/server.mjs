#!/usr/bin/env node
// Serves the edge function on Node: `node edge/server.mjs [--host H] [--port P] [--model F]`.
//
// POST /recommend with `{ "events": [...], "k": 4, "context": "item:85123A", "diversity": 0.3 }`
// gives the same list as the browser engine for those events; GET /health says it is up.
// `cargo xtask demo` builds `dist/vitrine/` first and starts this on 127.0.0.1:8081.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

import { MAX_BODY_BYTES, createEdge } from './handler.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8081' },
    model: { type: 'string', default: `${root}models/recommender/recommender.safetensors` },
  },
});

// Past this much, a body is not even drained: the connection is closed.
const DRAIN_LIMIT = 16 * MAX_BODY_BYTES;

const edge = createEdge(
  readFileSync(`${root}dist/vitrine/vitrine_wasm_bg.wasm`),
  readFileSync(values.model),
);

const server = createServer((request, response) => {
  const send = ({ status, headers, body }) => {
    response.writeHead(status, headers);
    response.end(body);
  };
  const chunks = [];
  let size = 0;
  request.on('data', (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    else if (size > DRAIN_LIMIT) request.destroy();
  });
  request.on('end', () => {
    if (size > MAX_BODY_BYTES) {
      const error =
        `the body has ${size} bytes, over the limit of ${MAX_BODY_BYTES}: ` +
        "send the shopper's most recent events only";
      const headers = { 'content-type': 'application/json' };
      send({ status: 400, headers, body: JSON.stringify({ error }) });
      return;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    let path;
    try {
      path = new URL(request.url, 'http://edge').pathname;
    } catch {
      const error = `the request target ${JSON.stringify(request.url)} is not a URL path: ` +
        'send POST /recommend';
      const headers = { 'content-type': 'application/json' };
      send({ status: 400, headers, body: JSON.stringify({ error }) });
      return;
    }
    try {
      send(edge.answer(request.method, path, body));
    } catch (error) {
      console.error(`vitrine edge: ${request.method} ${path}: ${error.message}`);
      send({ status: 500, headers: {}, body: JSON.stringify({ error: 'the engine failed' }) });
    }
  });
  request.on('error', () => response.destroy());
});

server.listen(Number(values.port), values.host, () => {
  const { port } = server.address();
  console.log(`vitrine edge listening on http://${values.host}:${port}`);
});
