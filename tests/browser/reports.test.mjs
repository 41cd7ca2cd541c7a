// A teacher reviews three pieces of work on the review page, rating each one's skills with
// the page's own rating form (no API), then opens the class report from the class page: the
// table shows each student's level by name and the charts are there (SVG with a title and a
// description). Screenshots of the class report and of a student's report, at laptop
// (1280x800) and phone (390x844) size, in English and Arabic, go to REPORTS_SHOTS (default
// tests/browser/artifacts/reports/).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFolio, launchBrowser, withScreenshot, assertLabelled, artifacts, robinsClass, uploadPicture } from './harness.mjs';

const shots = process.env.REPORTS_SHOTS || join(artifacts, 'reports');
let folio;
let browser;
let classId;
let anaId;
let tinaCookie;

// What the teacher gives each student's piece: FR.1 and COLLAB, by level name.
const levels = {
  'Ana Pérez': ['Secure', 'Developing'],
  'Ben <b>Okafor</b>': ['Developing', 'Developing'],
  'Cy Lee': ['Extending', 'Secure'],
};

before(async () => {
  mkdirSync(shots, { recursive: true });
  folio = await startFolio();
  browser = await launchBrowser();
  const students = [['ana', 'Ana Pérez'], ['ben', 'Ben <b>Okafor</b>'], ['cy', 'Cy Lee']];
  let api, login;
  ({ api, login, tina: tinaCookie, classId, anaId } = await robinsClass(folio, { students }));
  const skills = 'FR.1,Compare fractions,Fractions\nCOLLAB,Works with others,Habits\n';
  const res = await api('/api/v1/skills/import', skills, tinaCookie, 'POST', 'text/csv');
  assert.equal(res.status, 200);
  for (const [username, name] of students) {
    const cookie = await login(username, `${username}-password`);
    const title = `${name.replace(/<\/?b>/g, '')}: halves and quarters`;
    await uploadPicture(folio, cookie, { title, skills: 'FR.1,COLLAB' }, { width: 320, height: 240, name: 'fractions.png' });
  }
});

after(async () => {
  await browser?.close();
  await folio?.stop();
});

/// A page signed in as the teacher, in `locale`, at `viewport`.
async function teacherPage(viewport, locale) {
  const context = await browser.newContext({ viewport, locale });
  const [name, value] = tinaCookie.split('=');
  await context.addCookies([{ name, value, url: folio.url }]);
  return { context, page: await context.newPage() };
}

test('a teacher rates three pieces while reviewing and sees the levels and charts in the class report', async () => {
  const { context, page } = await teacherPage({ width: 1280, height: 800 }, 'en-US');
  try {
    await withScreenshot(page, 'reports-review', async () => {
      await page.goto(`${folio.url}/review`);
      for (let i = 0; i < 3; i++) {
        const lead = await page.locator('p.lead').first().textContent();
        const who = Object.keys(levels).find((n) => lead.includes(n));
        assert.ok(who, `whose work is this? ${lead}`);
        await assertLabelled(page);
        await page.getByLabel('FR.1 Compare fractions').selectOption({ label: levels[who][0] });
        await page.getByLabel('COLLAB Works with others').selectOption({ label: levels[who][1] });
        await page.getByLabel('Feedback (optional)').fill('Clear halves. Now try thirds.');
        await page.getByRole('button', { name: 'Approve and next' }).click();
        await page.waitForLoadState('load');
      }
      await page.getByText('Nothing waiting. Well done!').waitFor();
    });

    await withScreenshot(page, 'reports-class', async () => {
      await page.goto(`${folio.url}/classes/${classId}`);
      await page.getByRole('link', { name: /Class report/ }).click();
      await page.getByRole('heading', { name: 'Report: Robins' }).waitFor();
      const table = page.getByTestId('report-students');
      for (const [who, [fr, collab]] of Object.entries(levels)) {
        const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: who }) });
        const cells = await row.getByTestId('level').allTextContents();
        assert.deepEqual(cells, [fr, collab], `${who}'s levels (FR.1 first: the school's order, by group)`);
      }
      // The name with markup is shown as text, in the table and in the chart.
      assert.equal(await page.locator('b', { hasText: 'Okafor' }).count(), 0);
      const charts = page.locator('svg[role=img]');
      assert.equal(await charts.count(), 2);
      assert.equal(await charts.first().locator('title').textContent(), 'Pieces per student');
      assert.ok((await charts.first().locator('desc').textContent()).length > 20);
      const levelsChart = page.getByTestId('levels-chart').locator('svg');
      assert.equal(await levelsChart.locator('title').textContent(), 'Students at each level');
      // FR.1: Developing 1, Secure 1, Extending 1; COLLAB: Developing 2, Secure 1. Plus a
      // square per level in the legend.
      assert.equal(await levelsChart.locator('rect').count(), 4 + 3 + 2);
      assert.match(await page.getByTestId('turnaround').textContent(), /within 1 hour/);
      await page.screenshot({ path: join(shots, 'class-laptop-en.png'), fullPage: true });
      await page.emulateMedia({ media: 'print' });
      await page.screenshot({ path: join(shots, 'class-print-en.png'), fullPage: true });
      await page.emulateMedia({ media: 'screen' });
      await page.getByRole('link', { name: 'Ana Pérez' }).click();
      await page.getByRole('heading', { name: 'Progress of Ana Pérez' }).waitFor();
      assert.equal(await page.locator('svg[role=img] title').first().textContent(), 'FR.1: level over time');
      await page.screenshot({ path: join(shots, 'student-laptop-en.png'), fullPage: true });
    });
  } finally {
    await context.close();
  }

  for (const [size, viewport] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
    for (const locale of ['en', 'ar']) {
      if (size === 'laptop' && locale === 'en') continue;
      const { context: c, page: p } = await teacherPage(viewport, locale);
      try {
        await withScreenshot(p, `reports-${size}-${locale}`, async () => {
          await p.goto(`${folio.url}/classes/${classId}/report`);
          assert.equal(await p.locator('html').getAttribute('dir'), locale === 'ar' ? 'rtl' : 'ltr');
          assert.equal(await p.locator('svg[role=img]').first().getAttribute('direction'), locale === 'ar' ? 'rtl' : 'ltr');
          await p.screenshot({ path: join(shots, `class-${size}-${locale}.png`), fullPage: true });
          await p.goto(`${folio.url}/students/${anaId}/report`);
          await p.screenshot({ path: join(shots, `student-${size}-${locale}.png`), fullPage: true });
        });
      } finally {
        await c.close();
      }
    }
  }
});
