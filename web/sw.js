// Keeps the app's own files on the device, so that a second visit opens without the network.
// The model files are not kept here: the engine keeps them in its own cache, checked by SHA-256.
//
// The page is fetched from the network first (a new build shows at once) and from this cache
// when offline; its code, named by content hash, comes from this cache first. Only same-origin
// GETs pass through here, and nothing is ever sent anywhere.

const CACHE = 'vitrine-app-v1';

// What the tagger's worker loads, which the page does not name.
const WORKER_FILES = [
  'vitrine/tagger-worker.js',
  'vitrine/vitrine_wasm.js',
  'vitrine/vitrine_wasm_bg.wasm',
];

// The files a page names in its `href` and `src` attributes, on this origin.
function named(html) {
  const found = [...html.matchAll(/(?:href|src)="([^"#]+)"/g)].map((m) => m[1]);
  return found.filter((u) => !/^(data:|[a-z]+:\/\/)/.test(u));
}

// Keeps the page and what it names, and drops what an older page named.
async function keep(cache, page) {
  const html = await page.clone().text();
  const wanted = new Set(
    [...named(html), ...WORKER_FILES].map((u) => new URL(u, self.registration.scope).href),
  );
  await cache.put(self.registration.scope, page);
  await Promise.all(
    [...wanted].map(async (url) => {
      if (!(await cache.match(url))) await cache.add(url);
    }),
  );
  for (const request of await cache.keys()) {
    if (request.url !== self.registration.scope && !wanted.has(request.url)) {
      await cache.delete(request);
    }
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await keep(cache, await fetch(self.registration.scope, { cache: 'no-cache' }));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith('vitrine-app-') && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.includes('/models/')) return;
  if (request.mode === 'navigate' && url.href.startsWith(self.registration.scope)) {
    event.respondWith(
      (async () => {
        const cache = await caches.open(CACHE);
        try {
          const page = await fetch(request);
          if (page.ok && url.pathname === new URL(self.registration.scope).pathname) {
            event.waitUntil(keep(cache, page.clone()).catch(() => {}));
          }
          return page;
        } catch {
          return (await cache.match(self.registration.scope)) ?? Response.error();
        }
      })(),
    );
    return;
  }
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      return (await cache.match(request)) ?? fetch(request);
    })(),
  );
});
