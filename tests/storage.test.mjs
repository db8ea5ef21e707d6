// Storage that runs out, in headless Chromium (case STO-03): with the origin's quota cut to
// 1 MB through the DevTools protocol, a 2 MB event is refused within bounded time with a
// message naming the full storage, the events saved before it stay saved, and the refused one
// stays in memory for the page instead of being lost or reported as saved.
//
// The page is the built app; the test drives its engine through the bindings Trunk exposes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const url = process.env.VITRINE_APP_URL ?? 'http://127.0.0.1:8080/';
const origin = new URL(url).origin;

test('a write past the storage quota is refused and loses nothing', { timeout: 600_000 },
  async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1024 * 1024 });
    await page.goto(url);
    await page.getByTestId('backend').waitFor({ timeout: 300_000 });

    const first = await page.evaluate(async () => {
      const { Engine } = window.wasmBindings;
      const engine = await Engine.load('models', null, { namespace: 'quota', preferGpu: false });
      await engine.setConsent(true);
      const small = await engine.track({
        event: 'view_item', params: { items: [{ item_id: '85123A' }] },
      });
      const big = await engine.track({
        event: 'search', params: { search_term: 'lantern '.repeat(256 * 1024) },
      });
      return {
        small: small.saved,
        big: big.saved,
        message: big.message,
        inMemory: JSON.parse(engine.exportData()).events.length,
      };
    });
    assert.equal(first.small, true, 'the small event is saved');
    assert.equal(first.big, false, 'the 2 MB event is not reported as saved');
    assert.match(first.message, /storage for this site is full/);
    assert.equal(first.inMemory, 2, 'the refused event is kept for the page');

    // A new engine on the same device reads back what was saved: the first event, intact.
    const stored = await page.evaluate(async () => {
      const { Engine } = window.wasmBindings;
      const engine = await Engine.load('models', null, { namespace: 'quota', preferGpu: false });
      return JSON.parse(engine.exportData()).events.map((e) => e.event);
    });
    assert.deepEqual(stored, ['view_item']);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
