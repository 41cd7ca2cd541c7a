// Onboarding the youngest, on a tablet (768x1024): a student ticks two skills and a
// classmate on the new-work form and posts it (through the form's script); a teacher gives
// the whole class picture sign-in and gets the picture cards to print. Screenshots of the
// form and the cards, in English and Arabic, go to ONBOARD_SHOTS (default
// tests/browser/artifacts/onboard/) for a person to look at.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFolio, launchBrowser, withScreenshot, assertLabelled, png, artifacts, robinsClass, signIn as signInAt } from './harness.mjs';

const shots = process.env.ONBOARD_SHOTS || join(artifacts, 'onboard');
const tablet = { width: 768, height: 1024 };
let folio;
let browser;
let classId;
let benId;

before(async () => {
  mkdirSync(shots, { recursive: true });
  folio = await startFolio();
  browser = await launchBrowser();
  const students = [['ana', 'Ana Pérez'], ['ben', 'Ben Okafor']];
  let api, tina, studentIds;
  ({ api, tina, classId, studentIds } = await robinsClass(folio, { students }));
  benId = studentIds.ben;
  // Young children with no password, signing in with pictures once the teacher sets them.
  let res = await api(`/api/v1/classes/${classId}/roster`, 'lily,Lily Nakamura\nomar,Omar Haddad\nsofia,Sofía Ruiz\nzoe,Zoë Müller-Lüdenscheidt\n', tina, 'POST', 'text/csv');
  assert.equal(res.status, 200);
  const skills = 'code,name,group\ncount-10,Counting to 10,Number\nadd-5,Adding within 5,Number\nshapes,Naming shapes,Shapes and space\ntogether,Working together,Collaboration\n';
  res = await api('/api/v1/skills/import', skills, tina, 'POST', 'text/csv');
  assert.equal(res.status, 200, await res.text());
});

after(async () => {
  await browser?.close();
  await folio?.stop();
});

const signIn = (page, username, password) => signInAt(page, folio.url, username, password);

async function shoot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function onTablet(locale, name, body) {
  const context = await browser.newContext({ viewport: tablet, locale, hasTouch: true });
  const page = await context.newPage();
  try {
    await withScreenshot(page, name, () => body(page));
  } finally {
    await context.close();
  }
}

test('a student ticks two skills and a classmate on the new-work form and posts it', async () => {
  await onTablet('en', 'onboard-student-form', async (page) => {
    await signIn(page, 'ana', 'ana-password');
    const skills = page.getByRole('group', { name: 'What did you practise?' });
    await skills.waitFor();
    for (const heading of ['Number', 'Shapes and space', 'Collaboration']) await skills.getByText(heading, { exact: true }).waitFor();
    // Big enough for small fingers: each choice is a whole tile, at least 56px high.
    for (const box of await page.locator('label.tick').all()) {
      const r = await box.boundingBox();
      assert.ok(r.height >= 56 && r.width >= 150, `a choice is ${r.width}x${r.height}`);
    }
    await assertLabelled(page);
    await page.locator('#files').setInputFiles({ name: 'tower.png', mimeType: 'image/png', buffer: png(320, 240) });
    await page.getByLabel('Title').fill('Our block tower');
    await page.getByLabel('Counting to 10').check();
    await page.getByLabel('Working together').check();
    const classmates = page.getByRole('group', { name: 'Did you make it with classmates?' });
    assert.equal(await classmates.getByRole('checkbox').count(), 5, 'every classmate but Ana herself');
    await classmates.getByLabel('Ben Okafor').check();
    await shoot(page, 'en-student-new-work-form');
    await page.getByRole('button', { name: 'Save my work' }).click();
    await page.getByRole('heading', { name: 'Our block tower' }).waitFor({ timeout: 20000 });
    const id = page.url().match(/\/work\/([0-9a-f-]{36})$/)[1];
    const work = await (await page.request.get(`${folio.url}/api/v1/artifacts/${id}`)).json();
    assert.deepEqual(work.skills, ['count-10', 'together']);
    assert.equal(work.owners.length, 2);
    assert.equal(work.owners[1], benId);
  });
  await onTablet('ar', 'onboard-student-form-ar', async (page) => {
    await signIn(page, 'ben', 'ben-password');
    assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
    await page.locator('label.tick').first().waitFor();
    await page.locator('input[name=skills][value=shapes]').check();
    await page.locator('input[name=co_owners]').first().check();
    await shoot(page, 'ar-student-new-work-form');
  });
});

test('a teacher gives the whole class picture sign-in and prints the cards', async () => {
  await onTablet('en', 'onboard-picture-cards', async (page) => {
    await signIn(page, 'tina', 'tina-password');
    await page.goto(`${folio.url}/classes/${classId}`);
    await page.getByRole('button', { name: 'Picture sign-in for the whole class' }).click();
    await page.getByRole('heading', { name: 'Picture cards: Robins' }).waitFor();
    const cards = page.locator('[data-testid=picture-card]');
    assert.equal(await cards.count(), 6, 'every student had no pictures');
    const first = cards.first();
    assert.equal(await first.locator('img').count(), 3);
    assert.ok(await first.locator('img').first().evaluate((img) => img.complete && img.naturalWidth > 0), 'the pictures load');
    await shoot(page, 'en-picture-cards');
    // As printed: two cards across an A4 sheet (at 96 px an inch), the page's words gone.
    await page.setViewportSize({ width: 794, height: 1123 });
    await page.emulateMedia({ media: 'print' });
    const across = await cards.evaluateAll((all) => new Set(all.map((c) => Math.round(c.getBoundingClientRect().top))).size);
    assert.equal(across, 3, 'six cards in three rows of two');
    assert.equal(await page.locator('header.noprint').isVisible(), false);
    await shoot(page, 'en-picture-cards-print');

    // Pressing again changes nobody's pictures and prints nothing.
    await page.emulateMedia({ media: 'screen' });
    await page.goto(`${folio.url}/classes/${classId}`);
    await page.getByRole('button', { name: 'Picture sign-in for the whole class' }).click();
    await page.locator('[data-testid=no-new-pictures]').waitFor();
  });
  await onTablet('ar', 'onboard-picture-cards-ar', async (page) => {
    await signIn(page, 'tina', 'tina-password');
    await page.goto(`${folio.url}/classes/${classId}`);
    // New pictures for everyone asks first: the box must be ticked.
    await page.locator('summary', { hasText: 'صور جديدة للجميع' }).click();
    await page.locator('input[name=confirm]').check();
    await page.getByRole('button', { name: 'أعطِ الجميع صورًا جديدة' }).click();
    await page.locator('[data-testid=picture-card]').first().waitFor();
    assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
    await shoot(page, 'ar-picture-cards');
  });
});
