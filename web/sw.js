// folio's service worker, served at /sw.js (root scope) with this build's id and shell filled
// in by the box (src/http/offline.rs).
//
// - The app shell (CSS, scripts, icons, the offline page) is kept per build at install and
//   served from there; a new build replaces it.
// - Pages are fetched from the box first. Only answers the box marks `X-Folio-Offline: keep`
//   (a student's own home, portfolio, artifact pages and thumbnails) are kept, within
//   MAX_KEPT_BYTES, oldest dropped first. When the box cannot be reached, a kept page is
//   shown with a banner saying it is a saved copy; any other page gets the offline page.
// - Kept pages last one session: signing in or out on the device forgets them. The outbox
//   (work made offline) is never touched by that. Signing out while the box is out of reach
//   ends the session on the box as soon as it answers again.
// - Background Sync, where the browser has it, sends the outbox when the device is back.
importScripts('/static/outbox.js');

const BUILD = "__FOLIO_BUILD__";
const SHELL = ["__FOLIO_SHELL__"];
const SHELL_CACHE = `folio-shell-${BUILD}`;
const PAGES_CACHE = 'folio-pages';
const MAX_KEPT_BYTES = 50 * 1024 * 1024;
/** How long a page may take before a kept copy is shown instead. */
const NETWORK_WAIT_MS = 4000;
const BANNER_MARK = '<!--folio:offline-banner-->';
/** Form posts that start a new session on this device: what was kept belongs to the last one. */
const SESSION_POSTS = [/^\/signout$/, /^\/signin$/, /^\/signin\/class\/[^/]+\/[^/]+$/, /^\/q\/[^/]+$/, /^\/setup$/];
const FILE = /^\/api\/v1\/artifacts\/[^/]+\/files\/[^/]+$/;
const THUMBNAIL = /^\/api\/v1\/artifacts\/[^/]+\/files\/[^/]+\/thumbnail$/;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('folio-shell-') && key !== SHELL_CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.method === 'POST' && req.mode === 'navigate' && url.pathname === '/signout') {
    event.respondWith(signOut(event));
    return;
  }
  if (req.method === 'POST' && req.mode === 'navigate' && SESSION_POSTS.some((r) => r.test(url.pathname))) {
    event.waitUntil(forgetKept().then(() => self.folioOutbox.meta.set('signout-pending', false)));
    return;
  }
  if (req.method !== 'GET') return;
  if (req.mode === 'navigate') {
    event.respondWith(navigate(event, url));
  } else if (SHELL.includes(url.pathname)) {
    event.respondWith(fromShell(req));
  } else if (THUMBNAIL.test(url.pathname) || (FILE.test(url.pathname) && req.destination === 'image')) {
    event.respondWith(media(event, url));
  }
});

self.addEventListener('sync', (event) => {
  if (event.tag !== 'folio-outbox') return;
  event.waitUntil(self.folioOutbox.flush().then((r) => {
    // Rejecting asks the browser to try again later.
    if (!r.reachable) throw new Error('the box cannot be reached yet');
  }));
});

self.addEventListener('message', (event) => {
  const { type, urls } = event.data || {};
  if (type === 'forget') event.waitUntil(forgetKept());
  // A page that loaded before this worker took over asks for itself to be kept.
  if (type === 'keep' && Array.isArray(urls)) event.waitUntil(keepNow(urls));
});

async function keepNow(paths) {
  for (const path of paths.slice(0, 50)) {
    if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) continue;
    const url = new URL(path, self.location.origin);
    try {
      await remember(url, await fetch(url, { credentials: 'same-origin', redirect: 'manual' }));
    } catch { /* the box went away meanwhile */ }
  }
}

async function fromShell(req) {
  const cache = await caches.open(SHELL_CACHE);
  const kept = await cache.match(req, { ignoreSearch: true });
  if (kept) return kept;
  // Missing (the browser cleared it): fetched, and kept again for next time.
  const res = await fetch(req);
  if (res.ok) await cache.put(new URL(req.url).pathname, res.clone());
  return res;
}

/**
 * Signing out forgets the kept pages at once. If the box cannot be reached, the device says
 * so, and the session on the box is ended as soon as it answers again (endPendingSignOut),
 * before any page is shown: the next person on this device must not find it signed in.
 */
async function signOut(event) {
  await forgetKept();
  try {
    const res = await fetch(event.request);
    await self.folioOutbox.meta.set('signout-pending', false);
    return res;
  } catch {
    await self.folioOutbox.meta.set('signout-pending', true);
    const page = await caches.match('/offline', { cacheName: SHELL_CACHE });
    if (!page) return Response.error();
    const html = await page.text();
    const t = self.folioTFor(html);
    const note = `<p class="offline-banner" role="status" data-offline-banner><strong>${escapeHtml(t('js-signed-out-title'))}</strong> ${escapeHtml(t('js-signed-out'))}</p>`;
    const headers = new Headers(page.headers);
    headers.delete('content-length');
    return new Response(html.replace(BANNER_MARK, note), { status: 200, headers });
  }
}

async function endPendingSignOut() {
  if (!(await self.folioOutbox.meta.get('signout-pending'))) return;
  try {
    const res = await fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin' });
    if (res.ok || res.status === 401) await self.folioOutbox.meta.set('signout-pending', false);
  } catch { /* still out of reach */ }
}

/** The box first; a kept copy when it cannot be reached (or is very slow); else the offline page. */
async function navigate(event, url) {
  await endPendingSignOut();
  let keeping = Promise.resolve();
  const network = fetch(event.request).then((res) => {
    keeping = remember(url, res.clone());
    return res;
  });
  event.waitUntil(network.then(() => keeping, () => {}));
  const saved = await savedCopy(url);
  try {
    if (!saved) return await network;
    return await Promise.race([network, sleep(NETWORK_WAIT_MS).then(() => { throw new Error('slow'); })]);
  } catch {
    if (saved) return withBanner(saved);
    const offline = await caches.match('/offline', { cacheName: SHELL_CACHE });
    return offline || Response.error();
  }
}

/** Thumbnails (and images of files) from the box; offline, the kept thumbnail. */
async function media(event, url) {
  try {
    const res = await fetch(event.request);
    event.waitUntil(remember(url, res.clone()));
    return res;
  } catch (e) {
    const cache = await caches.open(PAGES_CACHE);
    const saved = (await cache.match(url.pathname)) || (FILE.test(url.pathname) && (await cache.match(`${url.pathname}/thumbnail`)));
    if (saved) return saved;
    throw e;
  }
}

async function savedCopy(url) {
  const cache = await caches.open(PAGES_CACHE);
  // The start page sends a signed-in person home.
  return cache.match(url.pathname === '/' ? '/home' : url.pathname);
}

// Keeping and forgetting run one after another, so a sign-in's forgetting never lands after
// the first page of the new session was kept.
let keptQueue = Promise.resolve();
function serially(work) {
  const next = keptQueue.then(work, work);
  keptQueue = next.catch(() => {});
  return next;
}

/** Keeps an answer the box marked as keepable; drops a kept copy the box no longer marks. */
function remember(url, res) {
  return serially(() => rememberNow(url, res));
}

async function rememberNow(url, res) {
  const key = url.pathname;
  if (res.type === 'opaqueredirect' || res.status >= 500) return;
  if (!res.ok || res.headers.get('x-folio-offline') !== 'keep') {
    const cache = await caches.open(PAGES_CACHE);
    if (await cache.delete(key)) await self.folioOutbox.kept.delete(key);
    return;
  }
  // Pages with a message in their address (?done=...) are kept by their plain address only.
  if (url.search && res.headers.get('content-type')?.startsWith('text/html')) return;
  const owner = res.headers.get('x-folio-offline-owner') || '';
  if ((await self.folioOutbox.meta.get('owner')) !== owner) {
    // Someone else's pages: not theirs to see.
    await forgetNow();
    await self.folioOutbox.meta.set('owner', owner);
  }
  // Opened after forgetting, which deletes the cache: a handle from before would write into
  // a deleted cache.
  const cache = await caches.open(PAGES_CACHE);
  const body = await res.blob();
  await cache.put(key, new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers }));
  await self.folioOutbox.kept.put(key, body.size);
  await evict(cache);
}

/** Drops the oldest kept answers until they fit in MAX_KEPT_BYTES. */
async function evict(cache) {
  const kept = (await self.folioOutbox.kept.all()).sort((a, b) => a.at - b.at);
  let total = kept.reduce((sum, k) => sum + k.bytes, 0);
  for (const k of kept) {
    if (total <= MAX_KEPT_BYTES) break;
    await cache.delete(k.url);
    await self.folioOutbox.kept.delete(k.url);
    total -= k.bytes;
  }
}

/** Forgets every kept page and thumbnail (not the shell, never the outbox). */
function forgetKept() {
  return serially(forgetNow);
}

async function forgetNow() {
  await caches.delete(PAGES_CACHE);
  await self.folioOutbox.kept.clear();
  await self.folioOutbox.meta.set('owner', '');
}

async function withBanner(saved) {
  const html = await saved.text();
  // The saved page carries its words and language: the banner speaks them too.
  const t = self.folioTFor(html);
  const lang = /<html lang="([a-zA-Z-]+)"/.exec(html)?.[1] || 'en';
  const date = new Date(saved.headers.get('date') || Date.now());
  let when;
  try { when = date.toLocaleString(lang, { weekday: 'long', hour: '2-digit', minute: '2-digit' }); } catch { when = date.toISOString(); }
  const banner = `<p class="offline-banner" role="status" data-offline-banner><strong>${escapeHtml(t('js-offline-title'))}</strong> ${escapeHtml(t('js-offline-from', { when }))}</p>`;
  const headers = new Headers(saved.headers);
  headers.set('x-folio-saved-copy', '1');
  headers.delete('content-length');
  return new Response(html.replace(BANNER_MARK, banner), { status: 200, headers });
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
