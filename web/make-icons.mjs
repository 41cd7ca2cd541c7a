// Makes the app icons in web/static from web/static/icon.svg, with the headless Chromium the
// browser tests use: `node web/make-icons.mjs` (after tests/install-deps.sh). Run it again
// when icon.svg changes, and commit the PNGs; the product build needs no Node.
//
// icon-192.png, icon-512.png: the icon on a transparent background ("any").
// icon-maskable-512.png: the icon inside the maskable safe zone (a centred circle of 80% of
// the width) on the page colour, for launchers that cut icons into circles or squircles.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');
const svg = readFileSync(join(here, 'static', 'icon.svg'), 'utf8');

const icons = [
  { file: 'icon-192.png', size: 192, scale: 1, background: 'transparent' },
  { file: 'icon-512.png', size: 512, scale: 1, background: 'transparent' },
  // The drawing spans x 5..59, y 10..55 of the SVG's 64: its corners are 0.55 * scale from
  // the centre, inside the safe circle (radius 0.4) up to scale 0.73.
  { file: 'icon-maskable-512.png', size: 512, scale: 0.7, background: '#fbf9f4' },
];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
for (const { file, size, scale, background } of icons) {
  const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
  const side = Math.round(size * scale);
  await page.setContent(`<!doctype html><style>html,body{margin:0;width:${size}px;height:${size}px;background:${background};display:grid;place-items:center}svg{width:${side}px;height:${side}px}</style>${svg}`);
  await page.screenshot({ path: join(here, 'static', file), omitBackground: background === 'transparent' });
  await page.close();
  console.log(`wrote web/static/${file}`);
}
await browser.close();
