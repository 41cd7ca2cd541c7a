// The first hour of a school with folio, in a real browser: the installer sets the box up,
// creates a class and adds a student, and that student signs in with three pictures.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, launchBrowser, withPage, assertLabelled } from './harness.mjs';

let folio;
let browser;

before(async () => {
  folio = await startFolio();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await folio?.stop();
});

// A 7-inch tablet in portrait.
const tablet = { width: 600, height: 960 };

test('setup, a class, a student, and picture sign-in', async () => {
  await withPage(browser, 'setup-to-picture-sign-in', tablet, async (page) => {
    await page.goto(folio.url);
    assert.match(page.url(), /\/setup$/);
    await assertLabelled(page);
    await page.getByLabel('Setup code').fill(folio.setupCode());
    await page.getByLabel('School name').fill('Escuela Rural Las Flores');
    await page.getByLabel('Your name').fill('Ada Admin');
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Set up folio' }).click();
    await page.getByRole('heading', { name: 'Hello, Ada Admin' }).waitFor();

    await page.getByRole('navigation').getByRole('link', { name: 'Classes' }).click();
    await assertLabelled(page);
    await page.getByLabel('Class name').fill('Year 1 Robins');
    await page.getByRole('button', { name: 'Create class' }).click();
    await page.getByRole('heading', { name: 'Year 1 Robins' }).waitFor();
    const joinCode = (await page.getByTestId('join-code').textContent()).trim();
    assert.match(joinCode, /^[A-Z0-9]{6}$/);

    await assertLabelled(page);
    await page.getByLabel("Student's name").fill('Ana Pérez');
    await page.getByLabel('Username', { exact: true }).fill('ana');
    await page.getByRole('button', { name: 'Add student' }).click();
    await page.getByRole('status').filter({ hasText: 'Student added.' }).waitFor();
    await page.getByRole('row', { name: /Ana Pérez/ }).getByRole('link', { name: 'Sign-in options' }).click();
    await page.getByRole('button', { name: 'Choose new pictures' }).click();
    const secret = await page.getByTestId('picture-secret').locator('li span').allTextContents();
    assert.equal(secret.length, 3);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with pictures' }).click();
    await assertLabelled(page);
    await page.getByLabel('Class code').fill(joinCode.toLowerCase());
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('link', { name: /Ana Pérez/ }).click();
    await page.getByRole('heading', { name: /Hello, Ana Pérez/ }).waitFor();

    // A wrong sequence first: the child is told kindly and can try again.
    const wrong = ['Sun', 'Moon', 'Star', 'Heart'].find((p) => p !== secret[0]);
    for (const picture of [wrong, wrong, wrong]) {
      await page.getByRole('button', { name: picture, exact: true }).click();
    }
    await page.getByRole('alert').filter({ hasText: 'Those pictures are not right' }).waitFor();

    for (const picture of secret) {
      await page.getByRole('button', { name: picture, exact: true }).click();
    }
    await page.getByRole('heading', { name: 'Hello, Ana Pérez' }).waitFor();
    assert.match(page.url(), /\/home$/);
    await page.getByText('This is your portfolio').waitFor();
  });
});

test('the device remembers its class for the next child', async () => {
  await withPage(browser, 'remembered-class', tablet, async (page) => {
    await page.goto(`${folio.url}/signin/class`);
    // A fresh browser context has no remembered classes and asks for the code.
    assert.equal(await page.getByRole('list', { name: 'Classes on this device' }).count(), 0);
    await page.getByLabel('Class code').fill('NOPE99');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('alert').filter({ hasText: 'There is no class with that code' }).waitFor();
  });
});

test('pages are usable with the keyboard alone', async () => {
  await withPage(browser, 'keyboard', { width: 1366, height: 768 }, async (page) => {
    await page.goto(`${folio.url}/signin`);
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
    assert.equal(first, 'Skip to content');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'focus is visible');
    await page.keyboard.press('Enter');
    assert.match(page.url(), /#main$/);
  });
});
