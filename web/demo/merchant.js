// The demo merchant's own page script: its product list, product view, basket and consent.
// It knows Vitrine only through the tag, the element and `window.vitrine`.

const money = (amount, currency) =>
  new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(amount);

// Calls Vitrine once its loader has run (it loads async).
function withVitrine(use) {
  if (window.vitrine) use(window.vitrine);
  else document.addEventListener('vitrine-ready', () => use(window.vitrine), { once: true });
}

async function main() {
  const catalogue = await (await fetch('demo/catalog.json')).json();
  const byId = new Map(catalogue.items.map((item) => [item.id, item]));

  const list = document.getElementById('products');
  for (const item of catalogue.items.slice(0, 12)) {
    const li = document.createElement('li');
    li.innerHTML = '<a><img alt=""><strong></strong><br><span></span></a>';
    const a = li.querySelector('a');
    a.href = item.url;
    a.dataset.vitrineItem = item.id;
    a.querySelector('img').src = `demo/${item.image}`;
    a.querySelector('img').alt = item.title;
    a.querySelector('strong').textContent = item.title;
    a.querySelector('span').textContent = money(item.price, catalogue.currency);
    list.append(li);
  }

  const show = () => {
    const id = decodeURIComponent(location.hash.replace(/^#product-/, ''));
    const item = location.hash.startsWith('#product-') ? byId.get(id) : null;
    const section = document.getElementById('product');
    section.hidden = !item;
    if (!item) return;
    document.getElementById('product-title').textContent = item.title;
    document.getElementById('product-price').textContent = money(item.price, catalogue.currency);
    document.getElementById('similar').setAttribute('context', `item:${item.id}`);
    const line = { item_id: item.id, price: item.price, quantity: 1 };
    withVitrine((v) =>
      v.track({ event: 'view_item', params: { currency: catalogue.currency, items: [line] } }),
    );
  };
  window.addEventListener('hashchange', show);
  show();

  document.getElementById('add').addEventListener('click', () => {
    const id = decodeURIComponent(location.hash.replace(/^#product-/, ''));
    const item = byId.get(id);
    const line = { item_id: id, price: item.price, quantity: 1 };
    withVitrine((v) =>
      v.track({ event: 'add_to_cart', params: { currency: catalogue.currency, items: [line] } }),
    );
  });

  // The shop's own consent banner: its answer is kept by the shop, and passed to Vitrine.
  const banner = document.getElementById('consent');
  const answer = localStorage.getItem('hearth-consent');
  if (answer === 'granted') withVitrine((v) => v.consent(true));
  banner.hidden = answer !== null;
  const decide = (given) => {
    localStorage.setItem('hearth-consent', given ? 'granted' : 'refused');
    banner.hidden = true;
    withVitrine((v) => v.consent(given));
  };
  document.getElementById('allow').addEventListener('click', () => decide(true));
  document.getElementById('refuse').addEventListener('click', () => decide(false));
}

main();
