// Shared by the browser tests: start a real folio on 127.0.0.1 port 0 with a fresh data
// directory, and a headless Debian Chromium driven by Playwright. A failed test leaves a
// screenshot in tests/browser/artifacts/.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
export const artifacts = join(here, 'artifacts');

export async function startFolio() {
  const dataDir = mkdtempSync(join(tmpdir(), 'folio-browser-'));
  const binary = process.env.FOLIO_BIN || join(root, 'target', 'debug', 'folio');
  const child = spawn(binary, ['serve', '--data', dataDir, '--listen', '127.0.0.1:0', '--no-mdns'], {
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
  return {
    url,
    dataDir,
    setupCode: () => readFileSync(join(dataDir, 'setup-code'), 'utf8').trim(),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Chromium's own background traffic is useless here and refused by closed networks.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/// Runs `body(page)`; on failure saves a full-page screenshot named after the test.
export async function withPage(browser, name, viewport, body) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  try {
    await body(page);
  } catch (e) {
    mkdirSync(artifacts, { recursive: true });
    const file = join(artifacts, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    e.message += `\n(screenshot: ${file})`;
    throw e;
  } finally {
    await context.close();
  }
}

/// Every visible form control has a label a screen reader announces.
export async function assertLabelled(page) {
  const unlabelled = await page.$$eval('input:not([type=hidden]), select, textarea', (els) =>
    els.filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.outerHTML));
  if (unlabelled.length) throw new Error(`controls without labels on ${page.url()}: ${unlabelled.join(', ')}`);
}
