// The web app in headless Chromium: it loads the real encoder, runs it on WebGPU when offered
// and on the CPU otherwise, and shows tokens whose offsets slice the typed text.
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
  test(`encodes typed text in the browser ${label}`, { timeout: 600_000 }, async () => {
    const { browser, page, errors } = await openApp(webgpu);
    try {
      const backend = page.getByTestId('backend');
      await backend.waitFor({ timeout: 300_000 });
      const expected = webgpu ? /Running on (webgpu|cpu)/ : /Running on cpu/;
      assert.match(await backend.innerText(), expected);

      const input = page.getByLabel('Text to encode');
      await input.fill('😀 red bag');
      await page.getByRole('button', { name: 'Encode' }).click();
      await page.getByTestId('summary').filter({ hasText: '5 tokens' }).waitFor({ timeout: 120_000 });

      const rows = await page.locator('tbody tr').allInnerTexts();
      const cells = rows.map((r) => r.split('\t'));
      assert.deepEqual(cells.map((c) => c[0]), ['[CLS]', '[UNK]', 'red', 'bag', '[SEP]']);
      // UTF-16 offsets: the emoji is two code units, so "red" starts at 3.
      assert.equal(cells[2][2], '3..6');
      assert.equal('😀 red bag'.slice(3, 6), 'red');

      await page.screenshot({ path: join(artifacts, `encoder-${webgpu ? 'webgpu' : 'cpu'}.png`) });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
