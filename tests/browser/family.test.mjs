// A teacher prints the family invitation sheets (saved as a PDF through Chromium's print);
// on a phone (390x844) a parent opens the sheet's link, joins, sees the child's new work
// under "New since your last visit", opens it and comments; the comment waits for the
// teacher. Screenshots go to FAMILY_SHOTS (default tests/browser/artifacts/family/).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFolio, launchBrowser, withPage, assertLabelled, png, artifacts } from './harness.mjs';

const shots = process.env.FAMILY_SHOTS || join(artifacts, 'family');
let folio;
let browser;
let classId;

before(async () => {
  mkdirSync(shots, { recursive: true });
  folio = await startFolio();
  browser = await launchBrowser();
  const api = (path, body, cookie) => fetch(`${folio.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
  const login = async (username, password) =>
    (await api('/api/v1/login', { username, password })).headers.get('set-cookie').split(';')[0];
  let res = await api('/api/v1/setup', { setup_code: folio.setupCode(), school_name: 'Escuela', username: 'admin', display_name: 'Ada Admin', password: 'correct horse battery' });
  assert.equal(res.status, 201);
  const admin = await login('admin', 'correct horse battery');
  await api('/api/v1/users', { username: 'tina', display_name: 'Tina Teacher', role: 'teacher', password: 'tina-password' }, admin);
  res = await api('/api/v1/users', { username: 'ana', display_name: 'Ana Pérez', role: 'student', password: 'ana-password' }, admin);
  const ana = (await res.json()).id;
  const tina = await login('tina', 'tina-password');
  classId = (await (await api('/api/v1/classes', { name: 'Robins' }, tina)).json()).id;
  assert.equal((await api(`/api/v1/classes/${classId}/members`, { user_id: ana, role: 'student' }, tina)).status, 201);

  // Ana's drawing, shared with her family and approved by her teacher.
  const anaCookie = await login('ana', 'ana-password');
  const form = new FormData();
  form.append('title', 'My kite drawing');
  form.append('reflection', 'I used three colours.');
  form.append('visibility', 'family');
  form.append('file', new Blob([png(320, 240)], { type: 'image/png' }), 'kite.png');
  res = await fetch(`${folio.url}/api/v1/artifacts`, { method: 'POST', headers: { cookie: anaCookie }, body: form });
  assert.equal(res.status, 201);
  const work = (await res.json()).id;
  assert.equal((await api(`/api/v1/artifacts/${work}/review`, { approved: true }, tina)).status, 200);
});

after(async () => {
  await browser?.close();
  await folio?.stop();
});

test('a parent joins from the printed sheet on a phone, sees the new work and comments', async () => {
  let code;
  await withPage(browser, 'family-sheets', { width: 1200, height: 900 }, async (page) => {
    await page.goto(`${folio.url}/signin`);
    await page.getByLabel('Username').fill('tina');
    await page.getByLabel('Password').fill('tina-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto(`${folio.url}/classes/${classId}/family-invitations`);
    await page.getByRole('button', { name: 'Print new sheets' }).click();
    await page.getByRole('heading', { name: "See Ana's work in folio" }).waitFor();
    code = (await page.locator('.family-code strong').first().textContent()).trim();
    assert.match(code, /^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
    await page.screenshot({ path: join(shots, 'sheet-screen.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    await page.screenshot({ path: join(shots, 'sheet-print-media.png'), fullPage: true });
    await page.pdf({ path: join(shots, 'sheet.pdf'), format: 'A4', printBackground: true });
  });

  await withPage(browser, 'family-phone', { width: 390, height: 844 }, async (page) => {
    // The QR code holds this address.
    await page.goto(`${folio.url}/f/${code.replaceAll('-', '')}`);
    await page.getByRole('heading', { name: "Join Ana's folio" }).waitFor();
    await assertLabelled(page);
    await page.screenshot({ path: join(shots, 'phone-1-join.png'), fullPage: true });
    await page.getByLabel('Your name').fill("Ana's dad");
    await page.getByLabel('Username').fill('anasdad');
    await page.getByLabel('Password').fill('kites-are-fun');
    await page.getByRole('button', { name: 'Join' }).click();

    await page.getByRole('heading', { name: 'New since your last visit' }).waitFor();
    const fresh = page.locator('.family-child .work-tile', { hasText: 'My kite drawing' });
    await fresh.first().waitFor();
    assert.match(await page.locator('.family-child').textContent(), /New/);
    await page.screenshot({ path: join(shots, 'phone-2-home.png'), fullPage: true });

    await fresh.first().click();
    await page.getByRole('heading', { name: 'My kite drawing' }).waitFor();
    await page.getByLabel('Your comment').fill('What a beautiful kite! Love, Dad');
    await page.getByRole('button', { name: 'Send comment' }).click();
    await page.getByText('What a beautiful kite! Love, Dad').waitFor();
    assert.match(await page.content(), /waiting for a teacher/);
    await page.screenshot({ path: join(shots, 'phone-3-commented.png'), fullPage: true });

    // Back home, the work was opened: no longer new.
    await page.goto(`${folio.url}/home`);
    await page.getByRole('heading', { name: 'Seen before' }).waitFor();
    await page.screenshot({ path: join(shots, 'phone-4-home-after.png'), fullPage: true });
  });
});
