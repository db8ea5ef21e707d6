// The web app in headless Chromium, as a shopper uses it: consent, a search marked up by the
// tagger, a product, the cart and a simulated payment, "For you" changing, export, deletion and
// a reload. It runs with WebGPU offered and with it off, saves a screenshot of each page, and
// records every request the page makes: none may carry the shopper's events.
//
// `cargo xtask test` builds dist/ and passes the served address in VITRINE_APP_URL.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.VITRINE_APP_URL ?? 'http://127.0.0.1:8080/';
const origin = new URL(url).origin;
const artifacts = new URL('./artifacts/', import.meta.url).pathname;
mkdirSync(artifacts, { recursive: true });

const QUERY = 'red heart lantern';

async function launch(webgpu) {
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  return chromium.launch({ executablePath: '/usr/bin/chromium', args });
}

// Every request of the page, with its body: the privacy proof reads them at the end.
function recordRequests(page) {
  const requests = [];
  page.on('request', (r) =>
    requests.push({ url: r.url(), method: r.method(), body: r.postData() ?? '' }),
  );
  return requests;
}

// Waits for the shop to be ready, failing at once on a page error or an error shown to the
// shopper rather than at the timeout.
async function ready(page, errors) {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (errors.length) throw new Error(`page error: ${errors.join('; ')}`);
    if (await page.getByTestId('backend').isVisible()) return;
    const alert = page.locator('[role="alert"]').first();
    if (await alert.isVisible()) throw new Error(`the page says: ${await alert.innerText()}`);
    await page.waitForTimeout(500);
  }
  throw new Error('the shop did not load in 300 s');
}

async function visit(page, hash) {
  await page.evaluate((h) => { window.location.hash = h; }, hash);
}

async function eventCount(page) {
  await visit(page, '#/data');
  const heading = page.getByTestId('event-count');
  await heading.waitFor();
  return Number((await heading.innerText()).split(' ')[0]);
}

async function forYouItems(page) {
  await visit(page, '#/for-you');
  const cards = page.locator('ul[data-list="for_you"] li.card');
  await cards.first().waitFor();
  return cards.evaluateAll((els) => els.map((e) => e.dataset.item));
}

for (const webgpu of [true, false]) {
  const label = webgpu ? 'webgpu' : 'cpu';
  test(`a shopper's journey with ${webgpu ? 'WebGPU offered' : 'WebGPU off'}`,
    { timeout: 900_000 }, async () => {
    const browser = await launch(webgpu);
    // One context per run: a fresh profile with its own IndexedDB, kept across the reload.
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const requests = recordRequests(page);
    const shot = (name) => page.screenshot({ path: join(artifacts, `${name}-${label}.png`),
      fullPage: true });
    try {
      await page.goto(url);
      await ready(page, errors);
      const backend = page.getByTestId('backend');
      const expected = webgpu ? /Running on (webgpu|cpu)/ : /Running on cpu/;
      assert.match(await backend.innerText(), expected);

      // Consent first: nothing is stored before it.
      assert.equal(await eventCount(page), 0);
      await page.getByRole('button', { name: 'Keep my activity on this device' }).click();
      await page.getByTestId('storage').filter({ hasText: 'indexeddb' }).waitFor();

      const before = await forYouItems(page);
      assert.equal(await page.getByTestId('personalised').getAttribute('data-personalised'),
        'false');

      // A search, marked up by the tagger; its spans slice the typed text.
      await visit(page, '#/');
      await page.getByLabel('Search the shop').fill(QUERY);
      await page.getByRole('button', { name: 'Search' }).click();
      const marked = page.getByTestId('marked');
      await marked.waitFor({ timeout: 120_000 });
      assert.equal(await marked.innerText(), QUERY);
      // The table sits in a closed <details>: read the cells' text, not what is shown.
      const cells = await page.locator('[data-testid="entities"] tbody tr')
        .evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
      assert.ok(cells.length >= 1, `entities: ${JSON.stringify(cells)}`);
      for (const [, text, span] of cells) {
        const [start, end] = span.split('..').map(Number);
        assert.equal(QUERY.slice(start, end), text);
      }
      // Each entity is marked inline, under its type.
      const marks = await page.locator('[data-testid="marked"] mark')
        .evaluateAll((ms) => ms.map((m) => [m.dataset.kind, m.textContent]));
      assert.deepEqual(marks, cells.map(([kind, text]) => [kind, text]));
      const results = page.locator('ul[data-list="catalogue"] li.card');
      await results.first().waitFor();
      assert.match((await results.first().innerText()).toLowerCase(), /lantern|heart/);
      await shot('shop');

      // A product, into the cart, paid.
      const product = await results.first().getAttribute('data-item');
      await results.first().locator('a').click();
      await page.locator(`article.product[data-item="${product}"]`).waitFor();
      await page.locator('ul[data-list="similar"] li.card').first().waitFor();
      await shot('product');
      await page.getByRole('button', { name: 'Share with a friend' }).click();
      await page.getByRole('button', { name: 'Add to cart' }).click();
      await page.getByTestId('cart-link').filter({ hasText: 'Cart (1)' }).waitFor();
      await visit(page, '#/cart');
      await page.getByRole('button', { name: 'Pay with test card' }).click();
      await page.getByTestId('paid').waitFor();
      await page.getByTestId('cart-link').filter({ hasText: 'Cart (0)' }).waitFor();
      await shot('cart');

      // "For you" now comes from this shopper's events.
      const after = await forYouItems(page);
      assert.equal(await page.getByTestId('personalised').getAttribute('data-personalised'),
        'true');
      assert.notDeepEqual(after, before);
      assert.ok(!after.includes(product), 'the bought product is not recommended again');
      await shot('for-you');
      await visit(page, '#/profile');
      await page.getByTestId('engagement').waitFor();
      await shot('profile');

      // Export: every event is in the file.
      const count = await eventCount(page);
      assert.ok(count >= 6, `${count} events`);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export as JSON' }).click(),
      ]);
      const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
      const names = exported.events.map((e) => e.event);
      assert.equal(exported.events.length, count);
      for (const name of ['search', 'view_item', 'share', 'add_to_cart', 'payment', 'purchase']) {
        assert.ok(names.includes(name), `${name} in ${names}`);
      }
      assert.ok(exported.events.some((e) => e.params?.search_term === QUERY));
      await shot('data');

      // A reload finds everything as it was left.
      await page.reload();
      await ready(page, errors);
      assert.equal(await eventCount(page), count);
      assert.deepEqual(await forYouItems(page), after);

      // The tagger runs in a Web Worker, so the page never waits on BERT. A worker that dies,
      // as one does when its GPU device is lost, is replaced on the CPU at the next search,
      // and the shopper's session carries on.
      const tagger = page.workers().find((w) => w.url().endsWith('/vitrine/tagger-worker.js'));
      assert.ok(tagger, `workers: ${page.workers().map((w) => w.url())}`);
      await Promise.all([
        tagger.waitForEvent('close'),
        tagger.evaluate(() => setTimeout(() => {
          throw new Error('GPU device lost (simulated)');
        })),
      ]);
      const again = 'blue paper lantern';
      await visit(page, `#/search/${encodeURIComponent(again)}`);
      await page.getByTestId('marked').filter({ hasText: again }).waitFor({ timeout: 120_000 });
      assert.match(await backend.innerText(),
        /Running on cpu \(the tagger (left the GPU|was restarted) after a fault/);
      assert.equal(await eventCount(page), count + 1, 'the search is recorded too');

      // Offline, a reload still opens the shop: its files come from the service worker's
      // cache, the models from the engine's, the events from IndexedDB.
      await page.evaluate(() => navigator.serviceWorker.ready);
      await context.setOffline(true);
      const response = await page.reload();
      assert.ok(response.fromServiceWorker(), 'the page comes from the service worker');
      await ready(page, errors);
      assert.equal(await eventCount(page), count + 1);
      await visit(page, `#/search/${encodeURIComponent(QUERY)}`);
      await page.getByTestId('marked').filter({ hasText: QUERY }).waitFor({ timeout: 120_000 });
      await shot('offline');
      await context.setOffline(false);

      // Delete everything, then reload: nothing comes back, and consent stays given.
      await visit(page, '#/data');
      await page.getByRole('button', { name: 'Delete everything' }).click();
      await page.getByTestId('event-count').filter({ hasText: /^0 events$/ }).waitFor();
      await page.reload();
      await ready(page, errors);
      assert.equal(await eventCount(page), 0);
      assert.equal(await page.getByTestId('consent').isChecked(), true);

      // Privacy: only same-origin GETs of the page, its code and the model files, and no
      // request carries event data.
      const secrets = [QUERY, 'lantern', 'view_item', 'purchase', product];
      for (const r of requests) {
        const where = new URL(r.url);
        // The export's file is made in the page and never leaves it.
        if (where.protocol === 'blob:') continue;
        assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
        assert.equal(where.origin, origin, `request to another origin: ${r.url}`);
        assert.equal(r.body, '', `a request with a body: ${r.url}`);
        const path = decodeURIComponent(where.pathname + where.search);
        assert.match(path, /^\/($|index\.html$|models\/|(vitrine\/)?[\w.-]+\.(js|wasm|css)$)/,
          `not a static asset: ${r.url}`);
        for (const s of secrets) assert.ok(!path.includes(s), `${s} in ${r.url}`);
      }
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
