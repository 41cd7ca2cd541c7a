// The offline app. A student signs in on http://localhost (a secure context, so the service
// worker runs), opens their portfolio, and then the box goes away (folio is killed): the
// portfolio still opens from the device with an "offline" banner; new work with a photo, a
// comment, a new version and a changed reflection wait in the outbox ("4 waiting to send");
// when folio starts again on the same port and data they arrive exactly once and a teacher
// sees them; signing out while the box was away ends the session once it is back. Then a
// request whose answer is lost is sent again without making a copy, signing out keeps unsent
// work but forgets the kept pages, and over plain HTTP the pages work without any of it and
// say how to get it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFolio, launchBrowser, withScreenshot, assertLabelled, png, robinsClass, signIn } from './harness.mjs';

let folio;
let browser;
let anaId;
const dir = mkdtempSync(join(tmpdir(), 'folio-offline-'));
const photo = join(dir, 'bus-stop.png');
const photoBytes = png(320, 240);
writeFileSync(photo, photoBytes);
const kite = join(dir, 'kite.png');
writeFileSync(kite, png(200, 150));

const api = (path, { body, cookie, method } = {}) => fetch(`${folio.url}${path}`, {
  method: method || (body ? 'POST' : 'GET'),
  headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}) },
  body: body ? JSON.stringify(body) : undefined,
});
const login = async (username, password) => {
  const res = await api('/api/v1/login', { body: { username, password } });
  assert.equal(res.status, 200);
  return res.headers.get('set-cookie').split(';')[0];
};
/** Ana's work as the box has it, fetched with a session of its own. */
const anasWork = async () => {
  const res = await api(`/api/v1/users/${anaId}/artifacts`, { cookie: await login('ana', 'ana-password') });
  return res.json();
};
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

before(async () => {
  folio = await startFolio();
  browser = await launchBrowser();
  ({ anaId } = await robinsClass(folio));
});

after(async () => {
  await browser?.close();
  await folio?.stop();
});

const localhost = () => `http://localhost:${folio.port}`;

/** Waits until the service worker keeps `path` (or, with `gone`, until it no longer does). */
async function waitKept(page, path, gone = false) {
  for (let i = 0; i < 100; i++) {
    const kept = await page.evaluate(async (p) => !!(await caches.match(p, { cacheName: 'folio-pages' })), path);
    if (kept !== gone) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`${path} was ${gone ? 'still' : 'never'} kept`);
}

const count = (page) => page.locator('[data-outbox-count]');

/**
 * Waits until the service worker controls `page`. A fresh worker first keeps the whole shell;
 * a page that loaded before it was active is only controlled once it claims the page, and a
 * worker whose install was cut short is tried again at the next page load, so the page is
 * loaded again (as a person moving on would) before giving up.
 */
async function untilControlled(page) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15000 });
      return;
    } catch {
      await page.reload();
    }
  }
  const state = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    return reg ? { installing: reg.installing?.state, waiting: reg.waiting?.state, active: reg.active?.state } : 'no registration';
  });
  throw new Error(`the service worker never took control of ${page.url()}: ${JSON.stringify(state)}`);
}

test('the portfolio opens offline, new work waits on the device and arrives exactly once when the box is back', async () => {
  const context = await browser.newContext({ viewport: { width: 600, height: 960 } });
  const resumable = [];
  const page = await context.newPage();
  let workUrl;
  try {
    await withScreenshot(page, 'offline-student', async () => {
      await signIn(page, localhost(), 'ana', 'ana-password');
      // The service worker installs and takes over the page.
      await untilControlled(page);
      await assertLabelled(page);

      // Something made online first, through the same form.
      await page.locator('#files').setInputFiles(photo);
      await page.getByLabel('Title').fill('Leaf rubbing');
      await page.getByRole('button', { name: 'Save my work' }).click();
      await page.getByRole('heading', { name: 'Leaf rubbing' }).waitFor();
      workUrl = new URL(page.url()).pathname;
      await page.goto(`${localhost()}/home`);
      const tile = page.locator('.work-tile').filter({ hasText: 'Leaf rubbing' });
      await tile.locator('img').waitFor();
      await page.waitForFunction(() => [...document.querySelectorAll('.work-tile img')].every((i) => i.complete && i.naturalWidth > 0));
      await waitKept(page, '/home');
      await waitKept(page, workUrl);
      assert.equal(await page.locator('[data-offline-banner]').count(), 0, 'no banner while the box answers');
      assert.equal(await page.locator('[data-offline-setup]').isVisible(), false, 'no setup notice in a secure context');

      // The box goes away.
      await folio.kill();

      await page.reload();
      await page.locator('[data-offline-banner]').filter({ hasText: /Offline — showing saved copy/ }).waitFor();
      await page.getByRole('heading', { name: 'Hello, Ana Pérez' }).waitFor();
      await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 5000 });
      await tile.waitFor();
      assert.ok(await tile.locator('img').evaluate((i) => i.complete && i.naturalWidth > 0), 'the kept thumbnail shows');

      // Their own work page opens too, its photo from the kept thumbnail.
      await tile.click();
      await page.getByRole('heading', { name: 'Leaf rubbing' }).waitFor();
      await page.locator('[data-offline-banner]').waitFor();
      await page.waitForFunction(() => { const i = document.querySelector('.files img'); return i && i.complete && i.naturalWidth > 0; });

      // A comment written offline waits.
      await page.getByLabel('Your comment').fill('I did it again on the bus, with a coin.');
      await page.getByRole('button', { name: 'Send comment' }).click();
      await page.getByText('It is saved on this device and will be sent by itself').waitFor();
      await count(page).filter({ hasText: /^1 waiting to send$/ }).waitFor();
      // So do a new version and a changed reflection.
      await page.locator('#version-files').setInputFiles(kite);
      await page.getByLabel('What changed?').fill('Rubbed harder.');
      await page.getByRole('button', { name: 'Add version' }).click();
      await page.getByText('your work is saved on this device').waitFor();
      await page.getByLabel('Reflection').fill('Bark works as well as leaves.');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.locator('form[data-offline="edit"]').getByText('It is saved on this device').waitFor();
      await count(page).filter({ hasText: '3 waiting to send' }).waitFor();

      // A page that was never kept says so.
      await page.goto(`${localhost()}/search?q=leaf`);
      await page.getByRole('heading', { name: 'You are offline' }).waitFor();
      await page.getByText('3 pieces of work made offline are waiting on this device').waitFor();

      // New work with a photo, made offline.
      await page.goto(`${localhost()}/home`);
      await page.locator('[data-offline-banner]').waitFor();
      await page.locator('#files').setInputFiles(photo);
      await page.getByLabel('Title').fill('Bus stop drawing');
      await page.getByLabel('What did you make? What did you learn?').fill('Drawn while waiting for the 41.');
      await page.getByRole('button', { name: 'Save my work' }).click();
      await page.getByText('your work is saved on this device').waitFor();
      await count(page).filter({ hasText: '4 waiting to send' }).waitFor();
      const waiting = page.locator('#outbox .outbox-item');
      await waiting.filter({ hasText: 'Bus stop drawing' }).filter({ hasText: '1 file' }).waitFor();
      await waiting.filter({ hasText: 'Comment on “Leaf rubbing”' }).waitFor();
      await waiting.filter({ hasText: 'New version of “Leaf rubbing”' }).waitFor();
      await waiting.filter({ hasText: 'Changes to “Leaf rubbing”' }).waitFor();
      assert.equal(await page.getByLabel('Title').inputValue(), '', 'the form is ready for the next piece');

      // Work waiting more than three days says what to do.
      await page.evaluate(async () => {
        const items = await self.folioOutbox.all();
        const old = items.find((i) => i.title === 'Bus stop drawing');
        old.made -= 4 * 24 * 60 * 60 * 1000;
        await self.folioOutbox.save(old);
      });
      await page.reload();
      await waiting.filter({ hasText: 'Bus stop drawing' }).filter({ hasText: /waiting since \w+ — connect to the school network/ }).waitFor();
      if (process.env.FOLIO_SCREENSHOTS) await page.screenshot({ path: `${process.env.FOLIO_SCREENSHOTS}/offline-home.png`, fullPage: true });
      assert.equal(await waiting.filter({ hasText: 'Comment on' }).filter({ hasText: 'connect to the school network' }).count(), 0);

      // Signing out now warns that work has not been sent, then signs out on the device: the
      // kept pages go, the waiting work stays.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('alert').filter({ hasText: '4 pieces of your work have not reached the box yet' }).waitFor();
      assert.ok(page.url().endsWith('/home'));
      await page.getByRole('button', { name: 'Sign out anyway' }).click();
      await page.getByText('Signed out on this device.').waitFor();
      await waitKept(page, '/home', true);
      assert.equal(await page.evaluate(async () => (await self.folioOutbox.all()).length), 4);
      await page.goto(`${localhost()}/home`);
      await page.getByRole('heading', { name: 'You are offline' }).waitFor();
      assert.equal((await anasWork().catch(() => null)), null, 'the box is really gone');

      // The box comes back on the same port with the same data. The session signed out of
      // offline is ended before anything is shown; the student signs in again and the work
      // goes up by itself.
      // Files go up as resumable uploads (tus), so a send cut off continues where it stopped.
      context.on('request', (r) => {
        if (r.method() === 'PATCH' && /\/api\/v1\/uploads\/[0-9a-f]+$/.test(r.url())) resumable.push(r.url());
      });
      folio = await startFolio({ dataDir: folio.dataDir, port: folio.port });
      await page.goto(`${localhost()}/home`);
      await page.waitForURL(/\/signin$/);
      await signIn(page, localhost(), 'ana', 'ana-password');
      await count(page).waitFor({ state: 'hidden', timeout: 15000 });
      await page.locator('[data-outbox-sent]').filter({ hasText: /Sent to the box: .*Bus stop drawing/ }).waitFor();
      assert.equal(await page.locator('[data-offline-banner]').count(), 0);
      assert.equal(await page.locator('#outbox').isVisible(), false, 'nothing left waiting');
    });

    assert.equal(new Set(resumable).size, 2, 'the photo and the new version\'s file went up as resumable uploads');
    // Exactly once, with the photo's bytes unchanged.
    const work = await anasWork();
    const bus = work.filter((a) => a.title === 'Bus stop drawing');
    assert.equal(bus.length, 1, 'one artifact');
    assert.equal(bus[0].reflection, 'Drawn while waiting for the 41.');
    assert.equal(bus[0].files.length, 1);
    const cookie = await login('ana', 'ana-password');
    const file = Buffer.from(await (await api(bus[0].files[0].url, { cookie })).arrayBuffer());
    assert.equal(sha256(file), sha256(photoBytes), 'the photo arrived whole');
    assert.equal(work.filter((a) => a.title === 'Leaf rubbing').length, 1);
    const leaf = work.find((a) => a.title === 'Leaf rubbing');
    const comments = await (await api(`/api/v1/artifacts/${leaf.id}/comments`, { cookie })).json();
    assert.deepEqual(comments.map((c) => c.body), ['I did it again on the bus, with a coin.']);
    assert.deepEqual(leaf.versions.map((v) => v.note), ['', 'Rubbed harder.'], 'one new version');
    assert.equal(leaf.reflection, 'Bark works as well as leaves.');

    // Her teacher, in another browser, sees it.
    const teacher = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const tpage = await teacher.newPage();
    await withScreenshot(tpage, 'offline-teacher', async () => {
      await signIn(tpage, localhost(), 'tina', 'tina-password');
      await untilControlled(tpage);
      await tpage.goto(`${localhost()}/students/${anaId}`);
      await tpage.locator('.work-tile').filter({ hasText: 'Bus stop drawing' }).click();
      await tpage.getByRole('heading', { name: 'Bus stop drawing' }).waitFor();
      await tpage.getByText('Drawn while waiting for the 41.').waitFor();
      await tpage.waitForTimeout(300);
      const kept = await tpage.evaluate(async () => (await (await caches.open('folio-pages')).keys()).map((r) => r.url));
      assert.deepEqual(kept, [], 'nothing a teacher opens is kept on their device');
    });
    await teacher.close();
  } finally {
    await context.close();
  }
});

test('an answer lost on the way is sent again without a copy; signing out keeps unsent work and forgets kept pages', async () => {
  const context = await browser.newContext({ viewport: { width: 600, height: 960 } });
  const page = await context.newPage();
  try {
    await withScreenshot(page, 'offline-lost-answer', async () => {
      await signIn(page, localhost(), 'ana', 'ana-password');
      await untilControlled(page);
      await waitKept(page, '/home');

      // The box takes the upload, but its answer never reaches the device; and for now the
      // device cannot tell whether the box is there.
      let delivered = 0;
      await context.route('**/api/v1/me', (route) => route.abort('connectionrefused'));
      await page.route('**/api/v1/artifacts', async (route) => {
        await route.fetch();
        delivered += 1;
        await route.abort('connectionreset');
      }, { times: 1 });
      await page.locator('#files').setInputFiles(kite);
      await page.getByLabel('Title').fill('Kite photo');
      await page.getByRole('button', { name: 'Save my work' }).click();
      await page.getByText('your work is saved on this device').waitFor();
      assert.equal(delivered, 1, 'the box received it');
      await count(page).filter({ hasText: '1 waiting to send' }).waitFor();
      assert.equal((await anasWork()).filter((a) => a.title === 'Kite photo').length, 1, 'and made it');

      // Signing out: warned, then signed out; the kept pages go, the waiting work stays.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign out anyway' }).click();
      await page.waitForURL(/\/signin$/);
      await waitKept(page, '/home', true);
      await page.getByText('1 piece of work made offline is waiting on this device').waitFor();
      assert.equal(await page.evaluate(async () => (await self.folioOutbox.all()).length), 1);

      // Signed in again with the box in reach, the same request goes again: still one.
      await context.unroute('**/api/v1/me');
      await signIn(page, localhost(), 'ana', 'ana-password');
      await page.locator('[data-outbox-sent]').filter({ hasText: 'Kite photo' }).waitFor({ timeout: 15000 });
      await count(page).waitFor({ state: 'hidden' });
    });
    assert.equal((await anasWork()).filter((a) => a.title === 'Kite photo').length, 1, 'exactly one, not two');
  } finally {
    await context.close();
  }
});

test('a big video cut off halfway by the Wi-Fi continues from where it stopped, not from the start', async () => {
  // 20 MiB: three resumable pieces of 8 MiB. The second piece is lost on the way.
  const video = join(dir, 'long-video.mp4');
  const videoBytes = Buffer.concat([Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex'), Buffer.alloc(20 * 1024 * 1024 - 24, 3)]);
  writeFileSync(video, videoBytes);
  const context = await browser.newContext({ viewport: { width: 600, height: 960 } });
  const page = await context.newPage();
  const offsets = [];
  context.on('request', (r) => {
    if (r.method() === 'PATCH' && /\/api\/v1\/uploads\//.test(r.url())) offsets.push(Number(r.headers()['upload-offset']));
  });
  try {
    await withScreenshot(page, 'offline-resumed-video', async () => {
      await signIn(page, localhost(), 'ana', 'ana-password');
      await untilControlled(page);
      let cut = false;
      await context.route('**/api/v1/uploads/*', async (route) => {
        if (route.request().method() === 'PATCH' && route.request().headers()['upload-offset'] === String(8 * 1024 * 1024) && !cut) {
          cut = true;
          return route.abort('connectionreset');
        }
        return route.continue();
      });
      await page.locator('#files').setInputFiles(video);
      await page.getByLabel('Title').fill('Long video');
      await page.getByRole('button', { name: 'Save my work' }).click();
      await page.getByText('your work is saved on this device').waitFor({ timeout: 30000 });
      assert.ok(cut, 'the second piece was cut off');
      await count(page).filter({ hasText: '1 waiting to send' }).waitFor();
      // The Wi-Fi is back: the outbox sends it, asking the box where it stopped.
      await page.evaluate(() => self.folioOutbox.flush());
      await count(page).waitFor({ state: 'hidden', timeout: 30000 });
    });
    assert.deepEqual(offsets, [0, 8 * 1024 * 1024, 8 * 1024 * 1024, 16 * 1024 * 1024], 'the first piece was never sent again');
    const work = (await anasWork()).filter((a) => a.title === 'Long video');
    assert.equal(work.length, 1);
    const cookie = await login('ana', 'ana-password');
    const file = Buffer.from(await (await api(work[0].files[0].url, { cookie })).arrayBuffer());
    assert.equal(sha256(file), sha256(videoBytes), 'the video arrived whole');
  } finally {
    await context.close();
  }
});

test('over plain HTTP the pages work without offline features and say how to get them', async () => {
  // folio.test resolves to this machine's loopback address, but is not "localhost": an
  // ordinary http:// origin, as a classroom device sees http://folio.local.
  const insecure = await browser.browserType().launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP folio.test 127.0.0.1', '--disable-background-networking'],
  });
  const page = await insecure.newPage({ viewport: { width: 600, height: 960 } });
  try {
    await withScreenshot(page, 'offline-insecure', async () => {
      const origin = `http://folio.test:${folio.port}`;
      await signIn(page, origin, 'ana', 'ana-password');
      assert.equal(await page.evaluate(() => window.isSecureContext), false);
      const notice = page.locator('[data-offline-setup]');
      await notice.filter({ hasText: 'To use folio offline on this device, set it up' }).waitFor();
      assert.equal(await notice.getByRole('link').getAttribute('href'), '/device');
      assert.equal(await page.evaluate(() => 'serviceWorker' in navigator && navigator.serviceWorker.controller), false);
      // The forms work as always.
      await page.locator('#files').setInputFiles(kite);
      await page.getByLabel('Title').fill('Plain HTTP kite');
      await page.getByRole('button', { name: 'Save my work' }).click();
      await page.getByRole('heading', { name: 'Plain HTTP kite' }).waitFor();
    });
  } finally {
    await insecure.close();
  }
});
