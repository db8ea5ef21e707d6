// Vitrine's widget loader: one tag on a merchant's page gives it on-device recommendations.
//
//   <script src="https://cdn.example/vitrine/vitrine-widget.js" async
//           data-models="https://cdn.example/models/" data-catalog="/catalog.json"></script>
//   <vitrine-recommendations k="4" context="item:85123A"></vitrine-recommendations>
//
// The loader stays small: the engine (WebAssembly) starts lazily in a Web Worker, the first time
// a <vitrine-recommendations> element appears or the page tracks an event. Events stay in this
// origin's IndexedDB, under the merchant's namespace, and only after the merchant passes the
// shopper's consent (`data-consent="granted"` or `vitrine.consent(true)`). No request carries
// them, and the loader sets no cookie.
//
// Whatever fails (a Content Security Policy without 'wasm-unsafe-eval', missing model files, no
// worker), the elements show the catalogue's popular products, and the console gets one message
// naming the cause and the fix. The page never gets an uncaught error from here.

(() => {
  'use strict';

  if (window.vitrine && window.vitrine.version) return;

  const script = document.currentScript;
  const data = (script && script.dataset) || {};
  const here = new URL('.', (script && script.src) || location.href);
  const option = (name, fallback) => (data[name] === undefined ? fallback : data[name]);
  const config = {
    models: new URL(option('models', new URL('../models/', here).href), document.baseURI).href,
    catalog: data.catalog ? new URL(data.catalog, document.baseURI).href : null,
    namespace: option('namespace', location.hostname || 'merchant'),
    consent: ['granted', 'true', 'yes'].includes(option('consent', '').toLowerCase()),
    productUrl: option('productUrl', null),
  };
  const pendingKey = `vitrine:${config.namespace}:pending`;

  const MESSAGES = {
    csp:
      "this page's Content-Security-Policy does not allow WebAssembly. Add 'wasm-unsafe-eval' " +
      "to script-src ('unsafe-eval' is not needed) to personalise.",
    models: `the model files did not load from ${config.models}. Check data-models.`,
    worker:
      'its Web Worker could not start. Allow worker-src (or script-src) for ' +
      `${here.href} in the Content-Security-Policy.`,
    engine: 'the engine could not start in this browser.',
  };

  // One message per cause, whatever the number of elements.
  const said = new Set();
  function say(cause, detail) {
    if (said.has(cause)) return;
    said.add(cause);
    const text = MESSAGES[cause] || cause;
    console.warn(`Vitrine shows popular products: ${text}${detail ? ` (${detail})` : ''}`);
  }

  // Once per visit, when the shopper agreed but the browser gives the engine no IndexedDB:
  // it personalises from memory, and nothing outlives the page.
  function sayMemory(storage) {
    if (!config.consent || !storage || storage.kind === 'indexeddb' || said.has('storage')) return;
    said.add('storage');
    console.info(
      'Vitrine keeps this visit in memory, so personalisation ends with the page ' +
        `(${storage.reason}). IndexedDB is missing or blocked here: a private window, or ` +
        'storage turned off for this site.',
    );
  }

  // ---- The catalogue: titles, prices, links and images, and the fallback's popular items.

  let catalogue = null;
  function loadCatalogue() {
    if (catalogue) return catalogue;
    if (!config.catalog) {
      catalogue = Promise.resolve({ currency: null, items: [] });
      return catalogue;
    }
    catalogue = fetch(config.catalog, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((c) => ({ currency: c.currency || null, items: Array.isArray(c.items) ? c.items : [] }))
      .catch((error) => {
        console.warn(`Vitrine: the catalogue ${config.catalog} did not load (${error.message}).`);
        return { currency: null, items: [] };
      });
    return catalogue;
  }

  // ---- The worker, started once, on demand.

  let worker = null;
  let started = null;
  let failed = null;
  let loaded = false;
  let engineCurrency = null;
  let sequence = 0;
  const waiting = new Map();

  function call(type, args) {
    return new Promise((resolve, reject) => {
      const id = ++sequence;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, type, args });
    });
  }

  function fail(cause, detail) {
    failed = { cause, message: detail || '' };
    say(cause, detail);
    for (const { reject } of waiting.values()) reject(failed);
    waiting.clear();
    return failed;
  }

  function spawn() {
    const url = new URL('vitrine-worker.js', here);
    if (url.origin === location.origin) return new Worker(url, { type: 'module' });
    // A worker must come from the page's origin; a module blob imports the real one.
    const source = `import ${JSON.stringify(url.href)};`;
    const blob = new Blob([source], { type: 'text/javascript' });
    return new Worker(URL.createObjectURL(blob), { type: 'module' });
  }

  function start() {
    if (started) return started;
    try {
      worker = spawn();
    } catch (error) {
      started = Promise.resolve(fail('worker', error.message));
      return started;
    }
    worker.onmessage = ({ data: reply }) => {
      const entry = waiting.get(reply.id);
      if (!entry) return;
      waiting.delete(reply.id);
      if (reply.ok) entry.resolve(reply.value);
      else entry.reject(reply.error);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      fail('worker', event.message || 'the worker script failed to load');
    };
    const load = { models: config.models, namespace: config.namespace, consent: config.consent };
    started = call('load', load).then(
      (ready) => {
        loaded = true;
        engineCurrency = ready.currency;
        sayMemory(ready.storage);
        flushPending();
        return null;
      },
      (error) => fail(error.cause || 'engine', error.message),
    );
    return started;
  }

  // Clicks that lead away from the page are queued in sessionStorage (after consent only) and
  // recorded on the next page, so a navigation never loses one. Ids make replays harmless.
  function queue(event) {
    if (!config.consent) return;
    try {
      const list = JSON.parse(sessionStorage.getItem(pendingKey) || '[]');
      list.push(event);
      sessionStorage.setItem(pendingKey, JSON.stringify(list.slice(-50)));
    } catch {
      // No sessionStorage: the worker still records the event if the page stays.
    }
  }

  function unqueue(id) {
    try {
      const list = JSON.parse(sessionStorage.getItem(pendingKey) || '[]');
      const rest = list.filter((e) => e.id !== id);
      if (rest.length) sessionStorage.setItem(pendingKey, JSON.stringify(rest));
      else sessionStorage.removeItem(pendingKey);
    } catch {
      // Nothing queued.
    }
  }

  function flushPending() {
    let list = [];
    try {
      list = JSON.parse(sessionStorage.getItem(pendingKey) || '[]');
    } catch {
      return;
    }
    for (const event of list) {
      call('track', event)
        .catch(() => null)
        .then(() => unqueue(event.id));
    }
    if (list.length) refreshAll();
  }

  // ---- The public API.

  function newId() {
    if (crypto.randomUUID) return `w_${crypto.randomUUID()}`;
    return `w_${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
  }

  /** Records one GA4-style event, e.g. { event: "view_item", params: { items: [...] } }. */
  async function track(event) {
    if (!event || typeof event !== 'object') {
      throw new TypeError('vitrine.track takes an event object like { event: "view_item", ... }');
    }
    const withId = { id: newId(), ...event };
    queue(withId);
    const problem = await start();
    if (problem) return { saved: false, message: `not recorded: ${problem.cause}` };
    try {
      const tracked = await call('track', withId);
      return tracked;
    } finally {
      unqueue(withId.id);
      refreshAll();
    }
  }

  /** Gives (true) or withdraws (false) the shopper's consent to keep events on the device. */
  async function consent(given) {
    config.consent = Boolean(given);
    const problem = await start();
    if (problem) return { kind: 'memory', reason: problem.message };
    const storage = await call('consent', config.consent);
    sayMemory(storage);
    return storage;
  }

  function trackClick(id) {
    track({ event: 'select_item', params: { items: [{ item_id: id }] } }).catch((error) =>
      console.warn(`Vitrine did not record a click on ${id}: ${error.message || error.cause}`),
    );
  }

  // Product links of the merchant's own page, and the widget's cards: inside Shadow DOM the
  // click reaches the document retargeted, so the composed path finds the link.
  document.addEventListener(
    'click',
    (event) => {
      const link = event
        .composedPath()
        .find((node) => node instanceof Element && node.hasAttribute('data-vitrine-item'));
      if (link) trackClick(link.getAttribute('data-vitrine-item'));
    },
    { capture: true },
  );

  // ---- The element.

  const STYLE = `
    :host { display: block; font: var(--vitrine-font, inherit); color: var(--vitrine-text, inherit); }
    :host([hidden]) { display: none; }
    h2 { font-size: var(--vitrine-heading-size, 1.1em); margin: 0 0 .6em; }
    ul { display: grid; gap: var(--vitrine-gap, .75rem); list-style: none; margin: 0; padding: 0;
         grid-template-columns: repeat(auto-fill, minmax(var(--vitrine-card-width, 10rem), 1fr)); }
    a { display: flex; flex-direction: column; gap: .3em; height: 100%; box-sizing: border-box;
        padding: var(--vitrine-card-padding, .75rem); color: inherit; text-decoration: none;
        background: var(--vitrine-card-background, #fff);
        border: 1px solid var(--vitrine-border, #d9d9d9); border-radius: var(--vitrine-radius, .5rem); }
    a:hover { border-color: var(--vitrine-accent, #1f5fbf); }
    a:focus-visible { outline: 2px solid var(--vitrine-accent, #1f5fbf); outline-offset: 2px; }
    img { width: 100%; aspect-ratio: 1; object-fit: cover; border-radius: var(--vitrine-radius, .5rem);
          background: var(--vitrine-image-background, #f2f2f2); }
    .title { font-weight: 600; }
    .price { color: var(--vitrine-accent, #1f5fbf); }
    .why { font-size: .85em; color: var(--vitrine-muted, #595959); }
  `;

  let sheet = null;
  function styleShadow(root) {
    try {
      sheet ??= new CSSStyleSheet();
      sheet.replaceSync(STYLE);
      root.adoptedStyleSheets = [sheet];
    } catch {
      const style = document.createElement('style');
      style.textContent = STYLE;
      root.append(style);
    }
  }

  const elements = new Set();
  function refreshAll() {
    for (const element of elements) element.refresh();
  }

  function price(amount, currency) {
    if (typeof amount !== 'number') return '';
    if (!currency) return amount.toFixed(2);
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined, {
        style: 'currency',
        currency,
      }).format(amount);
    } catch {
      return `${amount.toFixed(2)} ${currency}`;
    }
  }

  class VitrineRecommendations extends HTMLElement {
    static get observedAttributes() {
      return ['k', 'context', 'diversity', 'heading'];
    }

    connectedCallback() {
      if (!this.shadowRoot) {
        const root = this.attachShadow({ mode: 'open' });
        styleShadow(root);
        this.section = document.createElement('section');
        this.heading = document.createElement('h2');
        this.heading.id = 'heading';
        this.heading.setAttribute('part', 'heading');
        this.list = document.createElement('ul');
        this.list.setAttribute('role', 'list');
        this.list.setAttribute('part', 'list');
        this.section.setAttribute('aria-labelledby', 'heading');
        this.section.setAttribute('aria-busy', 'true');
        this.section.append(this.heading, this.list);
        root.append(this.section);
      }
      elements.add(this);
      this.refresh();
    }

    disconnectedCallback() {
      elements.delete(this);
    }

    attributeChangedCallback() {
      if (this.isConnected && this.shadowRoot) this.refresh();
    }

    options() {
      const k = Math.min(Math.max(Number.parseInt(this.getAttribute('k'), 10) || 4, 1), 24);
      const context = this.getAttribute('context') || undefined;
      const diversity = Number.parseFloat(this.getAttribute('diversity'));
      return {
        k,
        context,
        diversity: Number.isFinite(diversity) ? Math.min(Math.max(diversity, 0), 1) : 0.3,
      };
    }

    // Renders the newest answer only: a slow older one never overwrites a newer one.
    async refresh() {
      const ticket = (this.ticket = (this.ticket || 0) + 1);
      const options = this.options();
      const [shop, answer] = await Promise.all([loadCatalogue(), this.ask(options)]);
      if (ticket !== this.ticket) return;
      this.render(shop, answer, options);
    }

    async ask(options) {
      const problem = await start();
      if (!problem) {
        try {
          return { ...(await call('recommend', options)), source: 'engine' };
        } catch (error) {
          say(error.cause || 'engine', error.message);
        }
      }
      return { personalised: false, items: null, source: 'fallback' };
    }

    render(shop, answer, options) {
      const known = new Map(shop.items.map((item) => [String(item.id), item]));
      const skip = options.context && options.context.replace(/^item:/, '');
      const items = answer.items
        ? answer.items
        : shop.items
            .filter((item) => String(item.id) !== skip)
            .slice(0, options.k)
            .map((item) => ({ id: String(item.id), title: item.title, price: item.price }));

      const heading =
        this.getAttribute('heading') ||
        (options.context
          ? 'Similar products'
          : answer.personalised
            ? 'Recommended for you'
            : 'Popular products');
      this.heading.textContent = heading;
      const currency = shop.currency || engineCurrency;
      this.list.replaceChildren(...items.map((item) => this.card(item, known, currency)));
      this.section.setAttribute('aria-busy', 'false');
      this.hidden = items.length === 0;
      this.dataset.source = answer.source;
      this.dataset.personalised = String(Boolean(answer.personalised));
      this.dispatchEvent(new CustomEvent('vitrine-render', { detail: { items, ...answer } }));
    }

    card(item, known, currency) {
      const extra = known.get(item.id) || {};
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.setAttribute('part', 'card');
      a.setAttribute('data-vitrine-item', item.id);
      a.href = extra.url || (config.productUrl ? config.productUrl.replace('{id}', item.id) : '#');
      if (extra.image) {
        const img = document.createElement('img');
        img.src = new URL(extra.image, config.catalog || document.baseURI).href;
        img.alt = item.title || extra.title || item.id;
        img.loading = 'lazy';
        a.append(img);
      }
      const title = document.createElement('span');
      title.className = 'title';
      title.textContent = extra.title || item.title || item.id;
      a.append(title);
      const cost = price(item.price ?? extra.price, currency);
      if (cost) {
        const tag = document.createElement('span');
        tag.className = 'price';
        tag.textContent = cost;
        a.append(tag);
      }
      if (item.explanation) {
        const why = document.createElement('span');
        why.className = 'why';
        why.textContent = item.explanation;
        a.append(why);
      }
      li.append(a);
      return li;
    }
  }

  window.vitrine = {
    version: '1',
    track,
    consent,
    refresh: refreshAll,
    /** `{ state: "idle" | "loading" | "ready" | "fallback", cause, message }`. */
    status: () => {
      if (failed) return { state: 'fallback', ...failed };
      const state = loaded ? 'ready' : started ? 'loading' : 'idle';
      return { state, cause: null, message: '' };
    },
    exportData: async () => ((await start()) ? null : call('exportData')),
    deleteAllData: async () => ((await start()) ? null : call('deleteAllData')),
  };

  if (!customElements.get('vitrine-recommendations')) {
    customElements.define('vitrine-recommendations', VitrineRecommendations);
  }
  document.dispatchEvent(new CustomEvent('vitrine-ready'));
})();
