// Languages in a browser: on a tablet (820x1180) asking for Arabic, a teacher and a student
// sign in and go through the main pages (home, a piece of work, the class, search). Each is
// <html lang="ar" dir="rtl">, its layout is mirrored (the brand and the menu start at the
// right), no two visible controls or labels overlap and nothing runs off the screen
// sideways. The same pages are photographed in English, Spanish and Arabic into LANG_SHOTS
// (default tests/browser/artifacts/lang/) for a person to look at.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFolio, launchBrowser, withScreenshot, png, artifacts, robinsClass, uploadPicture, signIn as signInAt } from './harness.mjs';

const shots = process.env.LANG_SHOTS || join(artifacts, 'lang');
const tablet = { width: 820, height: 1180 };
const noFile = '01890000-0000-7000-8000-000000000000';
let folio;
let browser;
let classId;
let workId;

before(async () => {
  mkdirSync(shots, { recursive: true });
  folio = await startFolio();
  browser = await launchBrowser();
  let login;
  ({ login, classId } = await robinsClass(folio));
  const anaCookie = await login('ana', 'ana-password');
  workId = await uploadPicture(folio, anaCookie, { title: 'My kite drawing', reflection: 'I used three colours and a long tail.', visibility: 'class', tags: 'kites, art' });
});

after(async () => {
  await browser?.close();
  await folio?.stop();
});

const signIn = (page, username, password) => signInAt(page, folio.url, username, password);

/// What is wrong with the page's layout, as sentences (empty when nothing is).
async function layoutProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width + 1) {
      problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth}px in ${width}px`);
    }
    const shown = (el) => {
      if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return null;
      const r = el.getBoundingClientRect();
      // Screen-reader-only text is a 1px box.
      return r.width > 2 && r.height > 2 ? r : null;
    };
    // Inside something that scrolls or clips on purpose (a wide table), off-screen is fine.
    const scrolled = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true;
      }
      return false;
    };
    const name = (el) => `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}> "${(el.textContent || el.value || '').trim().slice(0, 40)}"`;
    const controls = [...document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea, label, summary, h1, h2')]
      .map((el) => [el, shown(el)])
      .filter(([, r]) => r);
    for (const [el, r] of controls) {
      if (!scrolled(el) && (r.left < -1 || r.right > width + 1)) {
        problems.push(`${name(el)} runs off the screen (${Math.round(r.left)}..${Math.round(r.right)} of ${width})`);
      }
    }
    for (let i = 0; i < controls.length; i++) {
      for (let j = i + 1; j < controls.length; j++) {
        const [a, ra] = controls[i];
        const [b, rb] = controls[j];
        if (a.contains(b) || b.contains(a)) continue;
        // A label and its own control are one thing.
        if ((a.control && a.control === b) || (b.control && b.control === a)) continue;
        const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
        const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (x > 2 && y > 2) problems.push(`${name(a)} and ${name(b)} overlap (${Math.round(x)}x${Math.round(y)}px)`);
      }
    }
    return problems;
  });
}

/// The page is Arabic and right to left, mirrored, and laid out without overlaps.
async function assertArabicPage(page, what) {
  const html = page.locator('html');
  assert.equal(await html.getAttribute('lang'), 'ar', `${what}: lang`);
  assert.equal(await html.getAttribute('dir'), 'rtl', `${what}: dir`);
  assert.match(await page.locator('main').innerText(), /[\u0600-\u06ff]/, `${what}: Arabic words in the page`);
  const width = tablet.width;
  const brand = await page.locator('.top .brand').boundingBox();
  assert.ok(brand.x + brand.width > width * 0.75, `${what}: the brand is at the right (${brand.x}+${brand.width})`);
  const links = page.locator('.top nav a');
  const count = await links.count();
  assert.ok(count >= 1, `${what}: a menu`);
  const first = await links.first().boundingBox();
  const nav = await page.locator('.top nav').boundingBox();
  assert.ok(first.x + first.width > nav.x + nav.width - 12, `${what}: the menu starts at its right end`);
  if (count > 1) {
    const second = await links.nth(1).boundingBox();
    assert.ok(second.x < first.x, `${what}: the second menu entry is left of the first`);
  }
  const h1 = await page.locator('main h1').first().boundingBox();
  const main = await page.locator('main').boundingBox();
  assert.ok(h1.x + h1.width > main.x + main.width - 40, `${what}: the heading starts at the right`);
  const problems = await layoutProblems(page);
  assert.deepEqual(problems, [], `${what}: ${problems.join('; ')}`);
}

async function shoot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

test('a teacher and a student on an Arabic tablet: every main page right to left, mirrored, nothing overlapping', async () => {
  for (const [user, password, pages] of [
    ['tina', 'tina-password', () => [['home', '/home'], ['class', `/classes/${classId}`], ['work', `/work/${workId}`], ['search', '/search?q=kite'], ['device', '/device']]],
    ['ana', 'ana-password', () => [['home', '/home'], ['work', `/work/${workId}`]]],
  ]) {
    const context = await browser.newContext({ viewport: tablet, locale: 'ar-EG' });
    const page = await context.newPage();
    try {
      await withScreenshot(page, `rtl-${user}`, async () => {
        await signIn(page, user, password);
        for (const [name, path] of pages()) {
          await page.goto(`${folio.url}${path}`);
          // Open the folded parts, so what they hold is checked too.
          await page.locator('details').evaluateAll((all) => all.forEach((d) => { d.open = true; }));
          await assertArabicPage(page, `${user} ${name}`);
        }
        if (user === 'ana') {
          // A link to a file that is not there (an API address) answers a page in words,
          // not the JSON a program gets.
          await page.goto(`${folio.url}/api/v1/artifacts/${workId}/files/${noFile}`);
          assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
          assert.equal(await page.locator('main h1').innerText(), 'غير موجود');
          // The scripts speak Arabic too: the upload list names each file and its size in
          // the page's words and digits (from <script id="folio-messages">).
          await page.goto(`${folio.url}/home`);
          await page.locator('#files').setInputFiles({ name: 'kite.png', mimeType: 'image/png', buffer: png(320, 240) });
          const bar = page.locator('.upload-progress progress');
          assert.equal(await bar.getAttribute('aria-label'), 'جارٍ إرسال kite.png');
          assert.match(await page.locator('.upload-row span').innerText(), /^kite\.png \([٠-٩٫]+ ك\.ب\)$/);
          await shoot(page, 'ar-student-upload');
        }
      });
    } finally {
      await context.close();
    }
  }
});

test('the same pages in English, Spanish and Arabic, photographed', async () => {
  for (const locale of ['en', 'es', 'ar']) {
    const context = await browser.newContext({ viewport: tablet, locale });
    const page = await context.newPage();
    try {
      await withScreenshot(page, `shots-${locale}`, async () => {
        await page.goto(`${folio.url}/signin`);
        assert.equal(await page.locator('html').getAttribute('lang'), locale);
        await shoot(page, `${locale}-signin`);
        await signIn(page, 'tina', 'tina-password');
        for (const [name, path] of [['home', '/home'], ['class', `/classes/${classId}`], ['work', `/work/${workId}`], ['search', '/search?q=kite'], ['device', '/device'], ['file-gone', `/api/v1/artifacts/${workId}/files/${noFile}`]]) {
          await page.goto(`${folio.url}${path}`);
          assert.equal(await page.locator('html').getAttribute('lang'), locale, `${locale} ${name}`);
          await shoot(page, `${locale}-${name}`);
        }
      });
    } finally {
      await context.close();
    }
  }
});
