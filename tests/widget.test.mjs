// The widget on a merchant's page that is not ours (web/demo-merchant.html), in headless
// Chromium: cards render from the engine in a Web Worker, a click on the merchant's own product
// link changes the next render, events stay in the merchant origin's IndexedDB under its
// namespace, and no request carries them. Then the same page under a strict Content Security
// Policy (case WID-01): without 'wasm-unsafe-eval' it shows popular products and says once
// what to add; with it, it personalises again.
//
// It serves dist/ itself, as `cargo xtask test` builds it, so that it can set the page's CSP.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { serve } from './serve.mjs';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));
mkdirSync(artifacts, { recursive: true });
const catalogue = JSON.parse(readFileSync(`${dist}demo/catalog.json`, 'utf8'));

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--no-first-run'],
  });
});
after(async () => {
  await browser?.close();
});

// Opens the demo page on a server sending `headers`, recording console messages, page errors
// and every request.
async function open(headers = {}) {
  const server = await serve(dist, headers);
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = { console: [], errors: [], requests: [] };
  page.on('console', (m) => seen.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => seen.errors.push(e.message));
  context.on('request', (r) =>
    seen.requests.push({ url: r.url(), method: r.method(), body: r.postData() ?? '' }),
  );
  await page.goto(`${server.url}demo-merchant.html`);
  const close = async () => {
    await context.close();
    await server.close();
  };
  return { page, seen, close, origin: new URL(server.url).origin };
}

// The cards of one element once it has rendered from `source` ("engine" or "fallback").
async function cards(page, selector, source) {
  const element = page.locator(selector);
  await assert.doesNotReject(
    element.and(page.locator(`[data-source="${source}"]`)).waitFor({ timeout: 120_000 }),
    `${selector} renders from the ${source}`,
  );
  return element.evaluate((el) =>
    [...el.shadowRoot.querySelectorAll('ul[role="list"] > li > a')].map((a) => ({
      id: a.dataset.vitrineItem,
      href: a.getAttribute('href'),
      title: a.querySelector('.title')?.textContent,
      alt: a.querySelector('img')?.alt ?? null,
      why: a.querySelector('.why')?.textContent ?? '',
      personalised: el.dataset.personalised,
      heading: el.shadowRoot.querySelector('h2').textContent,
    })),
  );
}

// Waits until the element's cards (products or their explanations) differ from `before`.
async function changed(page, selector, before) {
  const shown = (cards) => cards.map((c) => `${c.id} ${c.why}`).join('|');
  await page.waitForFunction(
    ([sel, old]) => {
      const el = document.querySelector(sel);
      const now = [...el.shadowRoot.querySelectorAll('li > a')].map(
        (a) => `${a.dataset.vitrineItem} ${a.querySelector('.why')?.textContent ?? ''}`,
      );
      return now.length > 0 && now.join('|') !== old;
    },
    [selector, shown(before)],
    { timeout: 60_000 },
  );
  return cards(page, selector, 'engine');
}

test('the widget renders, learns from a click and keeps the events on the device', async () => {
  const { page, seen, close, origin } = await open();
  try {
    const first = await cards(page, '#for-you', 'engine');
    assert.equal(first.length, 4, 'k="4" gives four cards');
    assert.equal(first[0].heading, 'Popular products');
    assert.equal(first[0].personalised, 'false');
    const popular = new Set(catalogue.items.map((i) => i.id));
    for (const card of first) {
      assert.ok(popular.has(card.id), `a new shopper sees popular products, not ${card.id}`);
      assert.equal(card.why, 'popular overall');
    }
    for (const card of first) {
      assert.ok(card.alt && card.alt === card.title, `the picture of ${card.id} has alt text`);
      assert.equal(card.href, `#product-${card.id}`);
    }
    await page.screenshot({ path: `${artifacts}widget-first.png`, fullPage: true });

    // The shop's consent, then a click on one of its own product links (not the widget's).
    await page.getByRole('button', { name: 'Allow personalisation' }).click();
    const pick = catalogue.items[7];
    await page.locator(`#products a[data-vitrine-item="${pick.id}"]`).click();
    const next = await changed(page, '#for-you', first);
    assert.equal(next[0].personalised, 'true');
    assert.equal(next[0].heading, 'Recommended for you');
    assert.ok(
      next.some((c) => c.why.startsWith(`because you looked at ${pick.id}`)),
      `an explanation names the product clicked: ${JSON.stringify(next.map((c) => c.why))}`,
    );
    const similar = await cards(page, '#similar', 'engine');
    assert.equal(similar[0].heading, 'Goes well with');
    assert.ok(!similar.some((c) => c.id === pick.id), 'similar products leave out the product');
    await page.screenshot({ path: `${artifacts}widget-personalised.png`, fullPage: true });

    // A card is a focusable link: the keyboard reaches it.
    const focusable = await page.locator('#for-you').evaluate((el) => {
      const a = el.shadowRoot.querySelector('li > a');
      a.focus();
      return el.shadowRoot.activeElement === a;
    });
    assert.ok(focusable, 'cards take the keyboard focus');

    // The events are in this origin's IndexedDB, under the merchant's namespace.
    const stored = await page.evaluate(async () => {
      await new Promise((r) => setTimeout(r, 500));
      return JSON.parse(await window.vitrine.exportData());
    });
    const names = await page.evaluate(async () =>
      (await indexedDB.databases()).map((d) => d.name),
    );
    assert.ok(names.includes('vitrine-hearth-and-home'), `databases: ${names}`);
    assert.equal(stored.storage.kind, 'indexeddb');
    const kinds = stored.events.map((e) => e.event);
    assert.ok(kinds.includes('select_item') && kinds.includes('view_item'), `${kinds}`);

    // After a reload, the same shopper gets the same personal list.
    await page.reload();
    const again = await cards(page, '#for-you', 'engine');
    await page.waitForFunction(
      () => document.querySelector('#for-you').dataset.personalised === 'true',
      null,
      { timeout: 60_000 },
    );
    assert.ok(again.length === 4);

    assert.deepEqual(seen.errors, [], 'no uncaught error on the merchant page');
    for (const r of seen.requests) {
      assert.equal(new URL(r.url).origin, origin, `only the merchant's origin: ${r.url}`);
      assert.equal(r.method, 'GET', `only downloads: ${r.method} ${r.url}`);
      assert.equal(r.body, '', `no request body: ${r.url}`);
      assert.ok(!r.url.includes(pick.id) || r.url.includes('catalog'), `no event data: ${r.url}`);
    }
  } finally {
    await close();
  }
});

test('the loader is at most 30 KB gzipped', () => {
  const loader = readFileSync(`${dist}vitrine/vitrine-widget.js`);
  const size = gzipSync(loader, { level: 9 }).length;
  assert.ok(size <= 30 * 1024, `vitrine-widget.js is ${size} bytes gzipped`);
});

test("a CSP without 'wasm-unsafe-eval' gets popular products and one message (WID-01)", async () => {
  const csp = "script-src 'self' https://cdn.widget.example";
  const { page, seen, close } = await open({ 'content-security-policy': csp });
  try {
    const shown = await cards(page, '#for-you', 'fallback');
    assert.deepEqual(
      shown.map((c) => c.id),
      catalogue.items.slice(0, 4).map((i) => i.id),
      'the fallback shows the catalogue\'s popular products',
    );
    assert.equal(shown[0].heading, 'Popular products');

    // A click still works on the merchant's page, and the fallback stays.
    await page.locator('#products a').nth(3).click();
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${artifacts}widget-csp-fallback.png`, fullPage: true });

    const ours = seen.console.filter((m) => m.text.startsWith('Vitrine'));
    assert.equal(ours.length, 1, `one message: ${JSON.stringify(ours)}`);
    assert.match(ours[0].text, /'wasm-unsafe-eval'/);
    assert.match(ours[0].text, /'unsafe-eval' is not needed/);
    assert.deepEqual(seen.errors, [], 'no uncaught error on the merchant page');
    const status = await page.evaluate(() => window.vitrine.status());
    assert.equal(status.state, 'fallback');
    assert.equal(status.cause, 'csp');
  } finally {
    await close();
  }
});

test("with 'wasm-unsafe-eval' (and no 'unsafe-eval') the widget personalises", async () => {
  const csp = "script-src 'self' https://cdn.widget.example 'wasm-unsafe-eval'";
  const { page, seen, close } = await open({ 'content-security-policy': csp });
  try {
    const shown = await cards(page, '#for-you', 'engine');
    assert.equal(shown.length, 4);
    await page.locator('#products a').nth(5).click();
    const next = await changed(page, '#for-you', shown);
    assert.equal(next[0].personalised, 'true');
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.console.filter((m) => m.text.startsWith('Vitrine shows')), []);
  } finally {
    await close();
  }
});

test('missing model files fall back to popular products and say which', async () => {
  const { page, seen, close } = await open();
  try {
    // The same page with the models somewhere they are not.
    await page.context().route('**/models/recommender/**', (route) => route.fulfill({ status: 404 }));
    await page.reload();
    const shown = await cards(page, '#for-you', 'fallback');
    assert.equal(shown.length, 4);
    const ours = seen.console.filter((m) => m.text.startsWith('Vitrine shows'));
    assert.equal(ours.length, 1, JSON.stringify(ours));
    assert.match(ours[0].text, /data-models/);
    assert.deepEqual(seen.errors, []);
  } finally {
    await close();
  }
});

test('a worker without IndexedDB personalises in memory and says so once', async () => {
  const server = await serve(dist);
  const context = await browser.newContext();
  // The engine's worker, served as the merchant serves it, with IndexedDB taken out of its
  // scope, as in a private window or with storage turned off for the site.
  await context.route('**/vitrine/vitrine-worker.js', async (route) => {
    const response = await route.fetch();
    const body =
      "Object.defineProperty(self, 'indexedDB', { value: undefined });\n" + (await response.text());
    await route.fulfill({ response, body });
  });
  const page = await context.newPage();
  const seen = { console: [], errors: [] };
  page.on('console', (m) => seen.console.push(m.text()));
  page.on('pageerror', (e) => seen.errors.push(e.message));
  try {
    await page.goto(`${server.url}demo-merchant.html`);
    const first = await cards(page, '#for-you', 'engine');
    await page.getByRole('button', { name: 'Allow personalisation' }).click();
    const pick = catalogue.items[7];
    await page.locator(`#products a[data-vitrine-item="${pick.id}"]`).click();
    const next = await changed(page, '#for-you', first);
    assert.equal(next[0].personalised, 'true', 'the click still personalises, from memory');

    const memory = seen.console.filter((t) => t.includes('keeps this visit in memory'));
    assert.equal(memory.length, 1, JSON.stringify(seen.console));
    assert.match(memory[0], /IndexedDB is missing/);
    assert.deepEqual(seen.errors, []);
    // The page's own IndexedDB works, and the worker kept nothing there.
    const names = await page.evaluate(async () =>
      (await indexedDB.databases()).map((d) => d.name),
    );
    assert.ok(!names.some((n) => n.includes('vitrine')), JSON.stringify(names));
  } finally {
    await context.close();
    await server.close();
  }
});
