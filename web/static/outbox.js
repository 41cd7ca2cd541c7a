// The offline outbox, and the list of what the service worker keeps, in IndexedDB.
//
// A classic script on purpose: pages load it with <script defer>, the service worker with
// importScripts(), and both reach it as self.folioOutbox. Work made while the box cannot be
// reached waits here (files as Blobs) under an id made on the device (a UUIDv7), and is sent
// when the box is back. The box answers a second copy of a request carrying the same id as it
// answered the first, so a send whose answer was lost is simply sent again: work arrives
// exactly once.
//
// Item: { id, user, kind: 'artifact' | 'version' | 'comment' | 'edit', made (ms), title,
//         artifact (version, comment, edit: the artifact's id), fields: [[name, value]...],
//         files: [{ name, type, size, blob, upload, done }], error, tries, lastTry }
//         (upload: the path of its resumable upload on the box; done: all bytes are there)
(function (global) {
  'use strict';

  const DB_NAME = 'folio-offline';
  const DB_VERSION = 1;
  const CHANNEL = 'folio-outbox';
  /** Work waiting longer than this is shown with a warning. */
  const WARN_AFTER_MS = 3 * 24 * 60 * 60 * 1000;
  /** Files are sent as resumable uploads (tus) in pieces of this size. */
  const CHUNK_BYTES = 8 * 1024 * 1024;

  let opening = null;
  function db() {
    opening ??= new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const d = req.result;
        // Keyed by the device-made UUIDv7, so key order is the order the work was made.
        d.createObjectStore('outbox', { keyPath: 'id' });
        // What the service worker keeps: url -> { url, bytes, at }.
        d.createObjectStore('kept', { keyPath: 'url' });
        d.createObjectStore('meta');
      };
      req.onsuccess = () => {
        const d = req.result;
        d.onversionchange = () => { d.close(); opening = null; };
        resolve(d);
      };
      req.onerror = () => { opening = null; reject(req.error); };
    });
    return opening;
  }

  /** Runs `body(store)` in one transaction and resolves with its result when it commits. */
  async function tx(name, mode, body) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const t = d.transaction(name, mode);
      let result;
      t.oncomplete = () => resolve(result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error || new Error('aborted'));
      const req = body(t.objectStore(name));
      if (req) req.onsuccess = () => { result = req.result; };
    });
  }

  /** A UUIDv7: 48 bits of milliseconds, then random bits (as the box makes its ids). */
  function uuidv7() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    let ms = Date.now();
    for (let i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
  const listeners = new Set();
  /** Tells every page (and this one) that the outbox changed. */
  function changed(detail = {}) {
    channel?.postMessage(detail);
    for (const fn of listeners) fn(detail);
  }
  channel?.addEventListener('message', (e) => { for (const fn of listeners) fn(e.data || {}); });

  async function all() {
    const items = await tx('outbox', 'readonly', (s) => s.getAll());
    return (items || []).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The work waiting for `user` (everything on the device when `user` is empty). */
  async function waiting(user) {
    return (await all()).filter((i) => !user || i.user === user);
  }

  /** Keeps a new item; resolves once it is safely written. */
  async function add(item) {
    const full = { made: Date.now(), files: [], fields: [], error: null, tries: 0, lastTry: 0, ...item };
    full.id ??= uuidv7();
    await tx('outbox', 'readwrite', (s) => s.put(full));
    changed({ type: 'added', id: full.id });
    requestSync();
    return full;
  }

  /** Background Sync, where the browser has it: the service worker sends when the device is back. */
  async function requestSync() {
    try {
      const reg = global.registration || (await global.navigator.serviceWorker?.getRegistration());
      await reg?.sync?.register(CHANNEL);
    } catch { /* no Background Sync here: pages send on load, when online and every 30 s */ }
  }

  async function save(item) {
    await tx('outbox', 'readwrite', (s) => s.put(item));
  }

  async function remove(id) {
    await tx('outbox', 'readwrite', (s) => s.delete(id));
    changed({ type: 'removed', id });
  }

  const TUS = { 'Tus-Resumable': '1.0.0' };
  const b64 = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

  /**
   * Sends one file as a resumable upload (tus 1.0 at /api/v1/uploads) in CHUNK_BYTES
   * PATCHes. `file` is { name, type, blob, upload }: `file.upload` (the upload's path) is set
   * as soon as the box has made the upload and `persist()` is awaited then, so a send cut off
   * by the Wi-Fi, a reload or a flat battery continues from the offset the box reports.
   * Resolves with null once the whole file is on the box, or with the box's refusal (a
   * Response); rejects when the box cannot be reached (or `signal` aborts it).
   */
  async function uploadResumable(file, { persist = async () => {}, onProgress = () => {}, signal } = {}) {
    const opts = { credentials: 'same-origin', cache: 'no-store', signal };
    const size = file.blob.size;
    // A finished upload is not asked about again: once an artifact has used it, it is gone
    // from the box, and the artifact's own id makes a resent request harmless.
    if (file.upload && file.done) return null;
    for (let fresh = 0; fresh < 2; fresh += 1) {
      if (!file.upload) {
        const meta = `filename ${b64(file.name || 'file')},filetype ${b64(file.type || '')}`;
        const res = await fetch('/api/v1/uploads', {
          ...opts, method: 'POST', headers: { ...TUS, 'Upload-Length': String(size), 'Upload-Metadata': meta },
        });
        if (!res.ok) return res;
        file.upload = new URL(res.headers.get('Location'), global.location.href).pathname;
        await persist();
      }
      let offset = null;
      let restart = false;
      while (true) {
        if (offset === null) {
          const head = await fetch(file.upload, { ...opts, method: 'HEAD', headers: TUS });
          if (head.status === 404 || head.status === 410) { restart = true; break; }
          if (!head.ok) return head;
          offset = Number(head.headers.get('Upload-Offset'));
        }
        onProgress(offset, size);
        if (offset >= size) break;
        const res = await fetch(file.upload, {
          ...opts,
          method: 'PATCH',
          headers: { ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) },
          body: file.blob.slice(offset, Math.min(size, offset + CHUNK_BYTES)),
        });
        if (res.status === 409) { offset = null; continue; } // Ask where the box is, go on from there.
        if (res.status === 404 || res.status === 410 || res.status === 460) { restart = true; break; }
        if (!res.ok) return res;
        offset = Number(res.headers.get('Upload-Offset'));
      }
      if (!restart) {
        file.done = true;
        await persist();
        return null;
      }
      // The box no longer has it (expired, or the box was restored): start once more.
      file.upload = null;
      file.done = false;
      await persist();
    }
    throw new Error('the upload could not be started again');
  }

  /**
   * Every file of the outbox goes to the box through here: as a resumable upload, named in
   * the request by an `upload` part. Resolves with null, or with the box's refusal.
   */
  async function sendFile(item, file, form) {
    const refused = await uploadResumable(file, { persist: () => save(item) });
    if (refused) return refused;
    form.append('upload', file.upload);
    return null;
  }

  const json = (body) => ({ headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });

  /** One item as the request that makes it. Resolves with the Response; rejects offline. */
  async function send(item) {
    const opts = { credentials: 'same-origin', cache: 'no-store' };
    const fields = Object.fromEntries(item.fields);
    const artifact = encodeURIComponent(item.artifact || '');
    switch (item.kind) {
      case 'artifact':
      case 'version': {
        const form = new FormData();
        form.append('id', item.id);
        for (const [k, v] of item.fields) form.append(k, v);
        for (const file of item.files) {
          const refused = await sendFile(item, file, form);
          if (refused) return refused;
        }
        const url = item.kind === 'artifact' ? '/api/v1/artifacts' : `/api/v1/artifacts/${artifact}/versions`;
        return fetch(url, { ...opts, method: 'POST', headers: { accept: 'application/json' }, body: form });
      }
      case 'comment':
        return fetch(`/api/v1/artifacts/${artifact}/comments`, { ...opts, method: 'POST', ...json({ id: item.id, body: fields.body || '' }) });
      case 'edit': {
        // Edits carry no id: setting the same fields twice changes nothing the second time.
        const edit = { title: fields.title, reflection: fields.reflection, tags: [fields.tags || ''] };
        if (fields.visibility) edit.visibility = fields.visibility;
        return fetch(`/api/v1/artifacts/${artifact}`, { ...opts, method: 'PATCH', ...json(edit) });
      }
      default:
        throw new Error(`unknown outbox item ${item.kind}`);
    }
  }

  /** Whether the box answers, and who is signed in: { reachable, user }. */
  async function whoIsSignedIn() {
    try {
      const res = await fetch('/api/v1/me', { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } });
      if (res.status === 401) return { reachable: true, user: null };
      if (!res.ok) return { reachable: false, user: null };
      return { reachable: true, user: (await res.json()).id };
    } catch {
      return { reachable: false, user: null };
    }
  }

  async function flushNow() {
    const pending = (await all()).filter((i) => !i.error);
    const result = { sent: [], failed: [], reachable: true, signedIn: true, left: 0 };
    if (!pending.length) return result;
    const me = await whoIsSignedIn();
    result.reachable = me.reachable;
    result.signedIn = !!me.user;
    // Only the signed-in person's own work: on a shared device, someone else's waits for them.
    const mine = pending.filter((i) => i.user === me.user);
    result.left = mine.length;
    if (!me.user) return result;
    for (const item of mine) {
      let res;
      item.tries += 1;
      item.lastTry = Date.now();
      try {
        res = await send(item);
      } catch {
        await save(item);
        result.reachable = false;
        break;
      }
      if (res.ok) {
        await tx('outbox', 'readwrite', (s) => s.delete(item.id));
        result.sent.push(item);
        result.left -= 1;
        continue;
      }
      if (res.status === 401) { result.signedIn = false; await save(item); break; }
      if (res.status >= 500 || res.status === 429 || res.status === 408) { await save(item); break; }
      // Refused (too big, not allowed any more...): kept and shown, for the student to decide.
      // The box's own message is in the person's language; the page says the status if
      // there is none (the service worker has no words of its own).
      let message = '';
      try { message = (await res.json()).message || ''; } catch { /* not JSON */ }
      item.error = message || `${res.status}`;
      item.errorStatus = res.status;
      await save(item);
      result.failed.push(item);
      result.left -= 1;
    }
    if (result.sent.length || result.failed.length) changed({ type: 'flushed', sent: result.sent.map((i) => i.title) });
    return result;
  }

  /**
   * Sends what is waiting for the signed-in person, oldest first, stopping at the first sign
   * that the box is out of reach. One sender at a time across pages and the service worker.
   */
  function flush() {
    if (global.navigator?.locks) return global.navigator.locks.request('folio-outbox', flushNow);
    return flushNow();
  }

  // What the service worker keeps on the device, for its size bound.
  const kept = {
    put: (url, bytes) => tx('kept', 'readwrite', (s) => s.put({ url, bytes, at: Date.now() })),
    delete: (url) => tx('kept', 'readwrite', (s) => s.delete(url)),
    all: () => tx('kept', 'readonly', (s) => s.getAll()),
    clear: () => tx('kept', 'readwrite', (s) => s.clear()),
  };
  const meta = {
    get: (key) => tx('meta', 'readonly', (s) => s.get(key)),
    set: (key, value) => tx('meta', 'readwrite', (s) => s.put(value, key)),
  };

  /** The page's words for the scripts: the box says them in the page's language into
   * <script id="folio-messages"> (web/locales/<code>/js.ftl). `t(id, { count: 3, title })`
   * picks the plural form for `count` and fills in each `{name}`; numbers in the language's
   * digits. (The service worker has no page: it keeps numbers and the box's own messages.) */
  let pageWords = null;
  function t(id, args = {}) {
    const doc = global.document;
    if (!pageWords) {
      try { pageWords = JSON.parse(doc?.getElementById('folio-messages')?.textContent || '{}'); } catch { pageWords = {}; }
    }
    return say(pageWords, doc?.documentElement.lang || 'en', id, args);
  }

  /** For the service worker: `t` for a saved page, in the words and language it carries. */
  function tFor(html) {
    let words = {};
    // The box writes "</" as "<\/" in it, so the first "</script>" ends it.
    const json = /<script type="application\/json" id="folio-messages">([\s\S]*?)<\/script>/.exec(html);
    try { words = JSON.parse(json ? json[1] : '{}'); } catch { /* an old copy */ }
    const lang = /<html lang="([a-zA-Z-]+)"/.exec(html)?.[1] || 'en';
    return (id, args = {}) => say(words, lang, id, args);
  }

  function say(words, lang, id, args) {
    let text = words[id];
    if (text && typeof text === 'object') {
      let category = 'other';
      try { category = new Intl.PluralRules(lang).select(Number(args.count) || 0); } catch { /* an unknown language */ }
      text = text[category] ?? text.other;
    }
    if (typeof text !== 'string') return id;
    // The box's digits and decimal sign for the language (browsers differ on Arabic's).
    const digits = words['number-digits'] || '0123456789';
    const number = (n) => String(Math.round(n * 10) / 10)
      .replace(/[0-9]/g, (d) => digits[Number(d)] ?? d)
      .replace('.', words['number-decimal'] || '.');
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in args ? (typeof args[name] === 'number' ? number(args[name]) : String(args[name])) : whole));
  }

  /** A size in bytes as the page's language writes it: "1.5 MB", "١٫٥ م.ب". */
  function size(n) {
    if (n < 1024) return t('js-size-bytes', { count: n });
    const units = ['js-size-kb', 'js-size-mb', 'js-size-gb'];
    let i = -1;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return t(units[i], { size: Math.round(n * 10) / 10 });
  }

  global.folioT = t;
  global.folioTFor = tFor;
  global.folioSize = size;
  global.folioOutbox = {
    WARN_AFTER_MS, CHUNK_BYTES,
    uuidv7, add, save, remove, all, waiting, flush, send, sendFile, uploadResumable,
    onChange: (fn) => listeners.add(fn),
    kept, meta,
  };
})(self);
