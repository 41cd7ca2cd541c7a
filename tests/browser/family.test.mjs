// A teacher prints the family invitation sheets (saved as a PDF through Chromium's print);
// on a phone (390x844) a parent opens the sheet's link, joins, sees the child's new work
// under "New since your last visit", opens it and comments; the comment waits for the
// teacher. Then the teacher prints the class's weekly family digests (one A4 page per
// student, each in the family's language; saved as a PDF), and the parent opens their
// child's digest on the phone. Screenshots go to FAMILY_SHOTS (default
// tests/browser/artifacts/family/).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFolio, launchBrowser, withPage, assertLabelled, artifacts, robinsClass, uploadPicture } from './harness.mjs';

const shots = process.env.FAMILY_SHOTS || join(artifacts, 'family');
let folio;
let browser;
let classId;
let anaId;
let work;
let api;
let login;

before(async () => {
  mkdirSync(shots, { recursive: true });
  folio = await startFolio();
  browser = await launchBrowser();
  let tina;
  ({ api, login, tina, classId, anaId } = await robinsClass(folio));

  // Ana's drawing, shared with her family and approved by her teacher.
  const anaCookie = await login('ana', 'ana-password');
  work = await uploadPicture(folio, anaCookie, { title: 'My kite drawing', reflection: 'I used three colours.', visibility: 'family' });
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

    // Something from home: the page's form (with upload.js) puts it in Ana's portfolio.
    await page.getByRole('link', { name: 'Add something from home for Ana' }).click();
    await page.getByRole('heading', { name: "Add to Ana's portfolio" }).waitFor();
    await assertLabelled(page);
    await page.locator('#files').setInputFiles({ name: 'garden.txt', mimeType: 'text/plain', buffer: Buffer.from('our tomatoes') });
    await page.getByLabel('Title').fill('Our garden');
    await page.screenshot({ path: join(shots, 'phone-7-add-from-home.png'), fullPage: true });
    await page.getByLabel('A few words about it').fill('We grew these together.');
    await page.getByRole('button', { name: 'Add it' }).click();
    await page.getByText('Added. The teacher will see it first.').waitFor();
  });
});

/** A student of the class with a picture shared with the family and approved; returns the id. */
async function studentWithWork(admin, tina, username, displayName, title, reflection) {
  let res = await api('/api/v1/users', { username, display_name: displayName, role: 'student', password: `${username}-password` }, admin);
  const id = (await res.json()).id;
  assert.equal((await api(`/api/v1/classes/${classId}/members`, { user_id: id, role: 'student' }, tina)).status, 201);
  const cookie = await login(username, `${username}-password`);
  const artifact = await uploadPicture(folio, cookie, { title, reflection, visibility: 'family' }, { width: 240, height: 320, name: 'picture.png' });
  assert.equal((await api(`/api/v1/artifacts/${artifact}/review`, { approved: true }, tina)).status, 200);
  return { id, artifact };
}

test('a teacher prints the weekly family digests; a parent reads their child\'s on the phone', async () => {
  const admin = await login('admin', 'correct horse battery');
  const tina = await login('tina', 'tina-password');
  let res = await api(`/api/v1/artifacts/${work}/comments`, { body: 'Lovely colours, Ana! The tail looks like it is really flying.' }, tina);
  assert.equal(res.status, 201);
  // Ben's grandmother joins with his sheet and reads folio in Spanish: his page prints in Spanish.
  const ben = await studentWithWork(admin, tina, 'ben', 'Ben Ruiz', 'Mi volcán', 'Hice la lava con papel naranja.');
  res = await api(`/api/v1/classes/${classId}/family-invitations`, {}, tina);
  const token = (await res.json()).invitations.find((i) => i.student_id === ben.id).token;
  res = await api('/api/v1/family/join', { token, username: 'abuela', display_name: 'Abuela Rosa', password: 'volcanes-rojos' });
  assert.equal(res.status, 201);
  const abuela = res.headers.get('set-cookie').split(';')[0];
  assert.equal((await api('/api/v1/me/language', { language: 'es' }, abuela, 'PUT')).status, 200);

  await withPage(browser, 'family-digests', { width: 1200, height: 900 }, async (page) => {
    await page.goto(`${folio.url}/signin`);
    await page.getByLabel('Username').fill('tina');
    await page.getByLabel('Password').fill('tina-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto(`${folio.url}/classes/${classId}`);
    await page.getByRole('link', { name: 'Weekly family digests' }).click();
    await page.getByRole('heading', { name: "Ana Pérez's week in folio" }).waitFor();
    await page.getByRole('heading', { name: 'La semana de Ben Ruiz en folio' }).waitFor();
    const ana = page.locator('.digest', { hasText: 'Ana Pérez' });
    assert.match(await ana.textContent(), /I used three colours\./);
    assert.match(await ana.textContent(), /Feedback from Tina Teacher:/);
    // Every thumbnail loaded before printing.
    await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
    assert.equal(await page.locator('.digest img').count(), 2);
    await page.screenshot({ path: join(shots, 'digest-screen.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('header.noprint').isVisible(), false, 'the page frame is not printed');
    await page.screenshot({ path: join(shots, 'digest-print-media.png'), fullPage: true });
    const pdf = await page.pdf({ path: join(shots, 'digests.pdf'), format: 'A4', printBackground: true });
    // One page per student: two students, two pages.
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    assert.equal(pages, 2, 'one A4 page per student');
  });

  await withPage(browser, 'family-digest-phone', { width: 390, height: 844 }, async (page) => {
    await page.goto(`${folio.url}/signin`);
    await page.getByLabel('Username').fill('anasdad');
    await page.getByLabel('Password').fill('kites-are-fun');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'This week on paper' }).click();
    await page.getByRole('heading', { name: "Ana Pérez's week in folio" }).waitFor();
    assert.match(await page.locator('.digest').textContent(), /Lovely colours, Ana!/);
    await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
    await page.screenshot({ path: join(shots, 'phone-5-digest.png'), fullPage: true });
    // In Arabic the digest reads right to left.
    const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    assert.equal((await api('/api/v1/me/language', { language: 'ar' }, cookie, 'PUT')).status, 200);
    await page.reload();
    await page.getByRole('heading', { name: 'أسبوع Ana Pérez في folio' }).waitFor();
    assert.equal(await page.locator('.digest-page').getAttribute('dir'), 'rtl');
    await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
    await page.screenshot({ path: join(shots, 'phone-6-digest-ar.png'), fullPage: true });
    // Ben's digest is not his to open.
    res = await page.goto(`${folio.url}/family/digest?student=${ben.id}`);
    assert.equal(res.status(), 404);
  });
  assert.ok(anaId);
});
