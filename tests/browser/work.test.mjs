// A student makes something with a photo and a video and sees the upload progress; their
// teacher gives feedback; the student sees "1 new feedback" and reads it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, launchBrowser, withPage, assertLabelled, png, robinsClass } from './harness.mjs';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let folio;
let browser;

before(async () => {
  folio = await startFolio();
  browser = await launchBrowser();
  // A school, a teacher with a class, and a student in it, through the API.
  await robinsClass(folio);
});

after(async () => {
  await browser?.close();
  await folio?.stop();
});

test('a student uploads a photo and a video with progress, a teacher gives feedback, the student reads it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'folio-media-'));
  const photo = join(dir, 'garden.png');
  writeFileSync(photo, png(640, 480));
  // An MP4 header followed by 3 MB: recognised as video; big enough to watch progress.
  const video = join(dir, 'bridge.mp4');
  const header = Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0, 0, 0, 1, 0x69, 0x73, 0x6f, 0x6d, 0x6d, 0x70, 0x34, 0x31]);
  writeFileSync(video, Buffer.concat([header, Buffer.alloc(3 * 1024 * 1024, 7)]));

  let workUrl;
  await withPage(browser, 'student-uploads', { width: 600, height: 960 }, async (page) => {
    await page.goto(`${folio.url}/signin`);
    await page.getByLabel('Username').fill('ana');
    await page.getByLabel('Password').fill('ana-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Make something new' }).waitFor();

    // Slow the upload to school Wi-Fi speed so the progress can be seen.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 1024 * 1024 });

    await page.locator('#files').setInputFiles([photo, video]);
    await page.getByLabel('Title').fill('Our paper bridge');
    await page.getByLabel('What did you make? What did you learn?').fill('It held 12 coins.\n\nNext time I will fold the paper twice.');
    await page.getByRole('button', { name: 'Save my work' }).click();
    const bars = page.locator('.upload-progress progress');
    assert.equal(await bars.count(), 2, 'a progress bar per file');
    await page.waitForFunction(() => [...document.querySelectorAll('.upload-progress progress')].some((b) => b.value > 0 && b.value < 100));
    await page.getByRole('heading', { name: 'Our paper bridge' }).waitFor({ timeout: 20000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    workUrl = page.url();
    assert.match(workUrl, /\/work\/[0-9a-f-]{36}$/);
    const img = page.locator('.files img');
    await img.waitFor();
    assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth === 640), 'the photo shows');
    assert.equal(await page.locator('.files video').count(), 1, 'the video has a player');
    await page.locator('.reflection').getByText('Next time I will fold the paper twice.').waitFor();
  });

  await withPage(browser, 'teacher-feedback', { width: 1366, height: 768 }, async (page) => {
    await page.goto(`${folio.url}/signin`);
    await page.getByLabel('Username').fill('tina');
    await page.getByLabel('Password').fill('tina-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: /Review new work \(1\)/ }).click();
    await page.getByRole('heading', { name: 'Our paper bridge' }).waitFor();
    await page.getByLabel('Feedback (optional)').fill('Brilliant testing, Ana. Try a triangle shape next.');
    await page.getByRole('button', { name: 'Approve and next' }).click();
    await page.getByText('Nothing waiting. Well done!').waitFor();
  });

  await withPage(browser, 'student-reads-feedback', { width: 600, height: 960 }, async (page) => {
    await page.goto(`${folio.url}/signin`);
    await page.getByLabel('Username').fill('ana');
    await page.getByLabel('Password').fill('ana-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('new-feedback').filter({ hasText: '1 new feedback' }).waitFor();
    await page.getByRole('link', { name: /Our paper bridge/ }).click();
    await page.getByText('Brilliant testing, Ana. Try a triangle shape next.').waitFor();
    await page.getByText('Teacher feedback').waitFor();
  });
});

test('the teacher finds the work from the search box on any page, narrows it and clears the filter with the keyboard', async () => {
  await withPage(browser, 'teacher-searches', { width: 1366, height: 768 }, async (page) => {
    await page.goto(`${folio.url}/signin`);
    await page.getByLabel('Username').fill('tina');
    await page.getByLabel('Password').fill('tina-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Typed with an accent and a typo, submitted with Enter.
    const box = page.getByRole('search').first().getByLabel('Search all the work you can see');
    await box.fill('brigde cóins');
    await box.press('Enter');
    await page.waitForURL(/\/search\?q=/);
    const result = page.locator('.result').filter({ hasText: 'Our paper bridge' });
    await result.waitFor();
    assert.match(await result.locator('.snippet').innerHTML(), /<mark>coins<\/mark>/, 'the matching word is highlighted');
    await assertLabelled(page);
    // A facet adds a chip; the chip, reached by keyboard, removes it again.
    await page.locator('.facets').getByRole('link', { name: 'Photo or picture' }).click();
    const chip = page.locator('.chip').filter({ hasText: 'Kind: Photo or picture' });
    await chip.waitFor();
    await page.locator('.result').filter({ hasText: 'Our paper bridge' }).waitFor();
    if (process.env.FOLIO_SCREENSHOTS) await page.screenshot({ path: process.env.FOLIO_SCREENSHOTS + '/search.png', fullPage: true });
    await chip.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => !url.search.includes('kind='));
    assert.equal(await page.locator('.chip').count(), 0);
  });
});

