// Shared by the browser tests: start a real folio on 127.0.0.1 port 0 with a fresh data
// directory, and a headless Debian Chromium driven by Playwright. A failed test leaves a
// screenshot in tests/browser/artifacts/.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
export const artifacts = join(here, 'artifacts');

/// Starts folio on a fresh data directory and a free port, or (to start it again after
/// `kill`) on the `dataDir` and `port` given.
export async function startFolio({ dataDir = mkdtempSync(join(tmpdir(), 'folio-browser-')), port = 0 } = {}) {
  const binary = process.env.FOLIO_BIN || join(root, 'target', 'debug', 'folio');
  const child = spawn(binary, ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`, '--tls-listen', '127.0.0.1:0', '--peer-listen', '127.0.0.1:0', '--no-mdns'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`folio did not start:\n${log}`)), 15000);
    const onData = (chunk) => {
      log += chunk;
      const m = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => { log += chunk; });
    child.on('exit', (code) => reject(new Error(`folio exited with ${code}:\n${log}`)));
  });
  const exited = new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    setupCode: () => readFileSync(join(dataDir, 'setup-code'), 'utf8').trim(),
    /// Stops folio the hard way (a pulled plug), leaving its data directory for a restart.
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/// Starts headless Chromium. A launch is tried up to three times: on a loaded CI machine
/// Chromium was seen dying of SIGSEGV while starting, before any page was opened (the
/// browser's own crash, not a test's), which failed every test of the file.
export async function launchBrowser() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        // Chromium's own background traffic is useless here and refused by closed networks.
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
          '--disable-sync', '--no-first-run', '--disable-quic'],
      });
    } catch (e) {
      if (attempt >= 3) throw e;
      console.error(`Chromium did not start (attempt ${attempt}): ${String(e.message).split('\n')[0]}; trying again`);
    }
  }
}

/// Runs `body(page)`; on failure saves a full-page screenshot named after the test.
export async function withPage(browser, name, viewport, body) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  try {
    await withScreenshot(page, name, body);
  } finally {
    await context.close();
  }
}

/// Runs `body(page)` on a page the test manages; on failure saves a full-page screenshot.
export async function withScreenshot(page, name, body) {
  try {
    await body(page);
  } catch (e) {
    mkdirSync(artifacts, { recursive: true });
    const file = join(artifacts, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    e.message += `\n(screenshot: ${file})`;
    throw e;
  }
}

/// A real PNG (a gradient), made without any library.
export function png(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4); ihdr[8] = 8; ihdr[9] = 2;
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) { row[1 + x * 3] = x % 256; row[2 + x * 3] = y % 256; row[3 + x * 3] = 160; }
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

/// Every visible form control has a label a screen reader announces.
export async function assertLabelled(page) {
  const unlabelled = await page.$$eval('input:not([type=hidden]), select, textarea', (els) =>
    els.filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.outerHTML));
  if (unlabelled.length) throw new Error(`controls without labels on ${page.url()}: ${unlabelled.join(', ')}`);
}

/// A caller of `folio`'s API: `api(path, body, cookie, method = 'POST', type)`. The body is
/// sent as JSON, or as it is with another `type` (a CSV as 'text/csv').
export function apiOf(folio) {
  return (path, body, cookie, method = 'POST', type = 'application/json') => fetch(`${folio.url}${path}`, {
    method,
    headers: { 'content-type': type, ...(cookie ? { cookie } : {}) },
    body: type === 'application/json' ? JSON.stringify(body) : body,
  });
}

/// Signs in through the page's form at `origin` (found by ids, so in any language) and
/// waits for the home page.
export async function signIn(page, origin, username, password) {
  await page.goto(`${origin}/signin`);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('form:has(#username) button[type=submit]').click();
  await page.waitForURL(/\/home$/);
}

/// The school the browser tests start from, made through the API: Ada the administrator,
/// Tina the teacher with her class Robins, and its students (`[username, display name]`;
/// Ana alone unless told), each with the password `<username>-password`. Gives the API
/// caller, `login` (username, password → session cookie), the admin's and Tina's cookies,
/// the class's id, Ana's id and every student's id by username.
export async function robinsClass(folio, { students = [['ana', 'Ana Pérez']] } = {}) {
  const api = apiOf(folio);
  const login = async (username, password) =>
    (await api('/api/v1/login', { username, password })).headers.get('set-cookie').split(';')[0];
  let res = await api('/api/v1/setup', { setup_code: folio.setupCode(), school_name: 'Escuela', username: 'admin', display_name: 'Ada Admin', password: 'correct horse battery' });
  if (res.status !== 201) throw new Error(`setup answered ${res.status}`);
  const admin = await login('admin', 'correct horse battery');
  await api('/api/v1/users', { username: 'tina', display_name: 'Tina Teacher', role: 'teacher', password: 'tina-password' }, admin);
  const studentIds = {};
  for (const [username, name] of students) {
    res = await api('/api/v1/users', { username, display_name: name, role: 'student', password: `${username}-password` }, admin);
    studentIds[username] = (await res.json()).id;
  }
  const tina = await login('tina', 'tina-password');
  const classId = (await (await api('/api/v1/classes', { name: 'Robins' }, tina)).json()).id;
  for (const [username, id] of Object.entries(studentIds)) {
    res = await api(`/api/v1/classes/${classId}/members`, { user_id: id, role: 'student' }, tina);
    if (res.status !== 201) throw new Error(`adding ${username} answered ${res.status}`);
  }
  return { api, login, admin, tina, classId, anaId: studentIds.ana, studentIds };
}

/// Uploads work with one picture as the person signed in with `cookie`: `fields` are the
/// form's (title, reflection, visibility, tags). The new work's id.
export async function uploadPicture(folio, cookie, fields, picture = { width: 320, height: 240, name: 'kite.png' }) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([png(picture.width, picture.height)], { type: 'image/png' }), picture.name);
  const res = await fetch(`${folio.url}/api/v1/artifacts`, { method: 'POST', headers: { cookie }, body: form });
  if (res.status !== 201) throw new Error(`the upload answered ${res.status}`);
  return (await res.json()).id;
}
