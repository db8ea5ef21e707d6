// The web app in headless Chromium: it loads the shipped tagger, runs it on WebGPU when offered
// and on the CPU otherwise, and marks the entities of a typed search, whose UTF-16 spans slice
// the typed text.
//
// `cargo xtask test` builds dist/ and passes the served address in VITRINE_APP_URL.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.VITRINE_APP_URL ?? 'http://127.0.0.1:8080/';
const artifacts = new URL('./artifacts/', import.meta.url).pathname;
mkdirSync(artifacts, { recursive: true });

// Playwright gives every launch a fresh, empty profile of its own.
async function openApp(webgpu) {
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { browser, page, errors };
}

for (const webgpu of [true, false]) {
  const label = webgpu ? 'with WebGPU offered' : 'without WebGPU';
  test(`tags a typed search in the browser ${label}`, { timeout: 600_000 }, async () => {
    const { browser, page, errors } = await openApp(webgpu);
    try {
      const backend = page.getByTestId('backend');
      await backend.waitFor({ timeout: 300_000 });
      const expected = webgpu ? /Running on (webgpu|cpu)/ : /Running on cpu/;
      assert.match(await backend.innerText(), expected);

      const query = '😀 red nike running shoes';
      await page.getByLabel('Search the shop').fill(query);
      await page.getByRole('button', { name: 'Search' }).click();
      // The first query on the page has no 😀: waiting for it waits for this search's result.
      const marked = page.getByTestId('marked').filter({ hasText: '😀' });
      await marked.waitFor({ timeout: 120_000 });
      assert.equal(await marked.innerText(), query);

      const rows = await page.locator('tbody tr').allInnerTexts();
      const cells = rows.map((r) => r.split('\t'));
      assert.ok(cells.length >= 2, `entities: ${JSON.stringify(cells)}`);
      // Each UTF-16 span slices the JavaScript string to the entity's text; the emoji is two
      // code units, so "red" starts at 3.
      for (const [, text, span] of cells) {
        const [start, end] = span.split('..').map(Number);
        assert.equal(query.slice(start, end), text);
      }
      const row = (text) => cells.find((c) => c[1] === text)?.slice(0, 3);
      assert.deepEqual(row('red'), ['color', 'red', '3..6']);
      assert.deepEqual(row('nike'), ['creator', 'nike', '7..11']);
      assert.equal(await page.locator('mark[data-kind="color"]').innerText(), 'red');

      await page.screenshot({ path: join(artifacts, `tagger-${webgpu ? 'webgpu' : 'cpu'}.png`) });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
