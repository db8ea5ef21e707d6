// Browser benchmarks in headless Chromium, run by `cargo xtask bench`:
//
// - the encoder: the int8 all-MiniLM-L6-v2 run by onnxruntime-web (WASM backend, one thread)
//   against Vitrine's int8 tagger (the same encoder with a token head) in its wasm engine on the
//   CPU, for inputs of 8, 16, 32 and 64 tokens at batch 1, the two sides alternating after
//   3 s of warm-up each (V8 keeps optimising a fresh module that long); each side's load time
//   to its first result; then both on WebGPU when the browser offers an adapter, a software
//   one reported as such;
// - in-browser recommendation: fold-in of a shopper's events plus the top 10 of the catalogue;
// - the peak memory of the tab (its renderer's VmHWM) over a full cycle of loading, tagging,
//   tracking and recommending.
//
//   node bench/browser.mjs --dist dist --onnx model.onnx --out target/bench/browser.json

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync }
  from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { serve } from '../tests/serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    dist: { type: 'string' },
    onnx: { type: 'string' },
    out: { type: 'string' },
    reps: { type: 'string', default: '15' },
  },
});
const reps = Number(values.reps);
const LENGTHS = [8, 16, 32, 64];
const ARGS = ['--no-sandbox', '--disable-background-networking', '--no-first-run'];

// onnxruntime-web's WASM build and the ONNX file, placed beside the built app for the page.
const place = join(values.dist, 'bench');
mkdirSync(join(place, 'ort'), { recursive: true });
const ortDist = join(here, 'node_modules/onnxruntime-web/dist');
for (const name of readdirSync(ortDist)) {
  const wanted = ['ort.wasm.min.mjs', 'ort.webgpu.min.mjs'].includes(name)
    || /^ort-wasm-simd-threaded(\.jsep|\.asyncify)?\.(mjs|wasm)$/.test(name);
  if (wanted) copyFileSync(join(ortDist, name), join(place, 'ort', name));
}
copyFileSync(values.onnx, join(place, 'model.onnx'));
const ortVersion = JSON.parse(readFileSync(join(ortDist, '../package.json'), 'utf8')).version;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

const server = await serve(`${values.dist}/`);
const results = { chromium: null, onnxruntime_web: ortVersion, reps };

// The encoder, both sides in one page, alternating: on the CPU (WASM), then on WebGPU.
async function encoderRun(page, gpu) {
  return page.evaluate(
    async ({ lengths, reps, gpu }) => {
      const now = () => performance.now();
      const ort = await import(gpu ? '/bench/ort/ort.webgpu.min.mjs' : '/bench/ort/ort.wasm.min.mjs');
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = '/bench/ort/';
      const vitrine = await import('/vitrine/vitrine_wasm.js');

      const feeds = (n) => {
        const ids = BigInt64Array.from({ length: n }, (_, i) =>
          BigInt(i === 0 ? 101 : i === n - 1 ? 102 : 2417));
        const ones = BigInt64Array.from({ length: n }, () => 1n);
        return {
          input_ids: new ort.Tensor('int64', ids, [1, n]),
          attention_mask: new ort.Tensor('int64', ones, [1, n]),
          token_type_ids: new ort.Tensor('int64', new BigInt64Array(n), [1, n]),
        };
      };
      // "red" is one WordPiece: n - 2 of them and [CLS], [SEP] make n tokens.
      const text = (n) => Array(n - 2).fill('red').join(' ');

      let t = now();
      const options = gpu ? { executionProviders: ['webgpu'] } : {};
      const session = await ort.InferenceSession.create('/bench/model.onnx', options);
      await session.run(feeds(8));
      const ortLoad = now() - t;
      t = now();
      await vitrine.default();
      const tagger = await vitrine.ShopperTagger.fetch('/models', gpu, null);
      await tagger.tag(text(8));
      const vitrineLoad = now() - t;
      const backend = tagger.backend();

      const warm = async (run) => {
        const until = now() + 3000;
        while (now() < until) await run();
      };
      const out = { load: { ort: ortLoad, vitrine: vitrineLoad }, backend, lengths: [] };
      for (const n of lengths) {
        const input = feeds(n);
        const words = text(n);
        await warm(() => session.run(input));
        await warm(() => tagger.tag(words));
        const ortTimes = [];
        const vitrineTimes = [];
        for (let i = 0; i < reps; i++) {
          t = now();
          await session.run(input);
          ortTimes.push(now() - t);
          t = now();
          await tagger.tag(words);
          vitrineTimes.push(now() - t);
        }
        out.lengths.push({ tokens: n, ort: ortTimes, vitrine: vitrineTimes });
      }
      return out;
    },
    { lengths: LENGTHS, reps, gpu },
  );
}

function encoderSummary(raw, backend) {
  return {
    backend,
    vitrine_backend: raw.backend,
    load_ms: { onnxruntime_web: raw.load.ort, vitrine: raw.load.vitrine,
      ratio: raw.load.vitrine / raw.load.ort },
    lengths: raw.lengths.map(({ tokens, ort, vitrine }) => ({
      tokens,
      onnxruntime_web_ms: median(ort),
      vitrine_ms: median(vitrine),
      ratio: median(vitrine) / median(ort),
    })),
  };
}

{
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  results.chromium = browser.version();
  const page = await browser.newPage();
  await page.goto(`${server.url}demo/catalog.json`);
  const raw = await encoderRun(page, false);
  results.encoder = encoderSummary(raw, 'WASM on the CPU, one thread, batch 1');
  await browser.close();
}

{
  const args = [...ARGS, '--enable-unsafe-webgpu'];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
  const page = await browser.newPage();
  await page.goto(`${server.url}demo/catalog.json`);
  const adapter = await page.evaluate(async () => {
    if (!navigator.gpu) return { found: false, reason: 'the page has no navigator.gpu' };
    const found = await navigator.gpu.requestAdapter();
    if (!found) return { found: false, reason: 'requestAdapter() gave no adapter' };
    const info = found.info ?? {};
    return {
      found: true,
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      description: info.description ?? '',
      fallback: Boolean(found.isFallbackAdapter ?? info.isFallbackAdapter),
    };
  });
  const named = `${adapter.vendor} ${adapter.architecture} ${adapter.description}`;
  adapter.software = adapter.found
    && (adapter.fallback || /swiftshader|llvmpipe|lavapipe|software|microsoft basic/i.test(named));
  results.webgpu = { adapter };
  if (adapter.found) {
    try {
      const raw = await encoderRun(page, true);
      const kind = adapter.software ? 'a software adapter, not a GPU' : 'a GPU';
      results.webgpu.encoder = encoderSummary(raw, `WebGPU on ${kind} (${named.trim()}), batch 1`);
    } catch (error) {
      results.webgpu.error = String(error?.message ?? error);
    }
  }
  await browser.close();
}

// Fold-in plus the top 10 of the whole catalogue.
{
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  const page = await browser.newPage();
  await page.goto(`${server.url}demo/catalog.json`);
  const catalogue = JSON.parse(readFileSync(join(values.dist, 'demo/catalog.json'), 'utf8'));
  const ids = catalogue.items.map((i) => i.id);
  const raw = await page.evaluate(
    async ({ ids, reps }) => {
      const vitrine = await import('/vitrine/vitrine_wasm.js');
      await vitrine.default();
      const engine = await vitrine.Engine.load('/models', null,
        { namespace: 'bench', preferGpu: false, tagger: false });
      for (const id of ids.slice(0, 20)) {
        await engine.track({ event: 'view_item', params: { items: [{ item_id: id }] } });
      }
      for (let i = 0; i < 5; i++) engine.recommend({ k: 10 });
      const times = [];
      for (let i = 0; i < reps * 4; i++) {
        const t = performance.now();
        engine.recommend({ k: 10 });
        times.push(performance.now() - t);
      }
      return times;
    },
    { ids, reps },
  );
  results.recommend = {
    events: 20,
    k: 10,
    median_ms: median(raw),
    p90_ms: quantile(raw, 0.9),
  };
  await browser.close();
}

// The tab's peak memory over a full cycle, read from its renderer process.
{
  const profile = mkdtempSync(join(tmpdir(), 'vitrine-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ARGS,
  });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByTestId('backend').waitFor({ timeout: 300_000 });
  await page.evaluate(() => { window.location.hash = '#/search/red%20heart%20lantern'; });
  await page.getByTestId('marked').waitFor({ timeout: 120_000 });
  await page.evaluate(() => { window.location.hash = '#/for-you'; });
  await page.locator('ul[data-list="for_you"] li.card').first().waitFor();
  // The renderers descend from the browser process that runs this profile.
  const procs = new Map();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      procs.set(pid, { cmdline, parent });
    } catch {
      // The process ended meanwhile.
    }
  }
  const roots = new Set([...procs].filter(([, p]) =>
    p.cmdline.includes(profile) && !p.cmdline.includes('--type=')).map(([pid]) => pid));
  const ours = (pid) => {
    for (let p = pid, hops = 0; p && hops < 10; p = procs.get(p)?.parent, hops++) {
      if (roots.has(p)) return true;
    }
    return false;
  };
  const peaks = [];
  for (const [pid, p] of procs) {
    if (!p.cmdline.includes('--type=renderer') || !ours(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      peaks.push(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024);
    } catch {
      // The process ended meanwhile.
    }
  }
  results.memory = {
    cycle: 'load the app, tag a search, fold in and list "For you"',
    peak_renderer_bytes: Math.max(0, ...peaks),
    renderers: peaks.length,
  };
  await context.close();
}

await server.close();
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
