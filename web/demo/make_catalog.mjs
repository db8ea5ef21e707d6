// Writes the demo merchant's catalogue: the shipped recommender's most popular products, each
// with the link and the picture the merchant's page uses. `cargo xtask demo` runs it after it
// builds dist/vitrine/:
//
//   node web/demo/make_catalog.mjs models/recommender/recommender.safetensors dist/demo/catalog.json

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { EdgeHandler, initSync } from '../../dist/vitrine/vitrine_wasm.js';

const PRODUCTS = 24;

const [model, out] = process.argv.slice(2);
if (!model || !out) {
  console.error('usage: node make_catalog.mjs <recommender.safetensors> <catalog.json>');
  process.exit(2);
}
const wasm = fileURLToPath(new URL('../../dist/vitrine/vitrine_wasm_bg.wasm', import.meta.url));
initSync({ module: readFileSync(wasm) });
const handler = EdgeHandler.load(readFileSync(model));
const items = handler.popular(PRODUCTS).map((item) => ({
  ...item,
  url: `#product-${item.id}`,
  image: 'product.svg',
}));
const catalogue = { currency: handler.currency(), items };
writeFileSync(out, `${JSON.stringify(catalogue, null, 2)}\n`);
console.log(`wrote ${items.length} products to ${out}`);
