// The edge function over HTTP (edge/server.mjs on Node): real event sequences posted to it get
// the same list as the browser engine computes in headless Chromium for the same events, and
// malformed or oversized bodies get a 400 with a message while the server keeps answering.
//
// `cargo xtask test` builds dist/ (the engine in dist/vitrine/) before running it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { serve } from './serve.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const catalogue = JSON.parse(readFileSync(`${root}dist/demo/catalog.json`, 'utf8'));

let edge;
let edgeUrl;
before(async () => {
  edge = spawn('node', [`${root}edge/server.mjs`, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  edgeUrl = await new Promise((resolve, reject) => {
    edge.on('exit', (code) => reject(new Error(`the edge server exited with ${code}`)));
    edge.stdout.on('data', (chunk) => {
      const found = /listening on (http:\/\/\S+)/.exec(String(chunk));
      if (found) resolve(found[1]);
    });
  });
});
after(() => edge?.kill());

const post = async (body, path = '/recommend') => {
  const response = await fetch(`${edgeUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
};

// Three shoppers' trails over the shipped catalogue: a browser, a buyer and a sharer.
function trails() {
  const ids = catalogue.items.map((i) => i.id);
  const line = (id, price = 2.95) => [{ item_id: id, price, quantity: 1 }];
  let n = 0;
  const at = (event, params) => ({
    id: `e${++n}`,
    event,
    timestamp: new Date(Date.UTC(2026, 10, 1, 9, n)).toISOString(),
    user_id: 'v1',
    session_id: 's1',
    params,
  });
  return [
    [at('view_item', { items: line(ids[9]) }), at('view_item', { items: line(ids[14]) })],
    [
      at('view_item', { items: line(ids[5]) }),
      at('add_to_cart', { currency: 'GBP', items: line(ids[5]) }),
      at('purchase', { transaction_id: 'o1', currency: 'GBP', items: line(ids[5]) }),
      at('view_item', { items: line(ids[20]) }),
    ],
    [
      at('search', { search_term: 'red heart lantern' }),
      at('share', { item_id: ids[11], recipient: 'r_5f2a9c', method: 'link' }),
      at('select_item', { items: line(ids[3]) }),
    ],
  ];
}

test('real sequences get the browser engine\'s list', async () => {
  const server = await serve(`${root}dist/`);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}demo/catalog.json`);
    const similar = `item:${catalogue.items[2].id}`;
    const options = [{ k: 6 }, { k: 4, diversity: 0 }, { k: 3, context: similar }];
    for (const [t, events] of trails().entries()) {
      for (const option of options) {
        const local = await page.evaluate(
          async ({ events, option, namespace }) => {
            const wasm = await import('/vitrine/vitrine_wasm.js');
            await wasm.default();
            const engine = await wasm.Engine.load('/models', null, {
              namespace,
              preferGpu: false,
              tagger: false,
            });
            for (const event of events) await engine.track(event);
            return engine.recommend(option);
          },
          { events, option, namespace: `edge-${t}` },
        );
        const { status, body } = await post({ events, ...option });
        assert.equal(status, 200, JSON.stringify(body));
        assert.deepEqual(body, local, `trail ${t}, ${JSON.stringify(option)}`);
        assert.equal(body.items.length, option.k);
        if (!option.context) assert.equal(body.personalised, true);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
});

test('malformed and oversized bodies get a 400 with a message, and the server stays up', async () => {
  const view = { event: 'view_item', params: { items: [{ item_id: catalogue.items[0].id }] } };
  const cases = [
    ['{', /not a request/],
    ['', /not a request/],
    ['null', /not a request/],
    [JSON.stringify({ events: 'all' }), /not a request/],
    [JSON.stringify({ events: [view], k: 1000 }), /ask for 1 to 100/],
    [JSON.stringify({ events: [{ event: 'view_item', params: { items: [] } }] }), /events\[0\]/],
    [JSON.stringify({ events: [view], user: 'me' }), /unknown field `user`/],
    [JSON.stringify({ events: Array(1001).fill(view) }), /over the limit of 1000/],
    ['x'.repeat(1024 * 1024), /over the limit of 262144/],
    [String.raw`{"events": [{"event": "search", "params": {"search_term": "\ud800"}}]}`, /escape/],
  ];
  for (const [body, message] of cases) {
    const reply = await post(body);
    assert.equal(reply.status, 400, `${body.slice(0, 60)}: ${JSON.stringify(reply.body)}`);
    assert.match(reply.body.error, message);
  }

  const wrongMethod = await fetch(`${edgeUrl}/recommend`);
  assert.equal(wrongMethod.status, 405);
  assert.match((await wrongMethod.json()).error, /use POST/);
  assert.equal((await post({ events: [] }, '/elsewhere')).status, 404);

  // A request target that is no URL at all, as a raw request line (fetch would refuse to send it).
  const raw = await new Promise((resolve, reject) => {
    const { hostname, port } = new URL(edgeUrl);
    const socket = connect(Number(port), hostname, () => {
      socket.end(`GET http://[ HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 400/);
  assert.match(raw, /not a URL path/);

  // Many at once, good and bad mixed: each gets its own answer.
  const mixed = await Promise.all(
    Array.from({ length: 20 }, (_, i) => post(i % 2 ? '{' : { events: [view], k: 2 })),
  );
  mixed.forEach((reply, i) => assert.equal(reply.status, i % 2 ? 400 : 200));

  const health = await fetch(`${edgeUrl}/health`);
  assert.equal(health.status, 200);
  const state = await health.json();
  assert.equal(state.ok, true);
  assert.ok(state.products > 3000, `${state.products} products`);
});
