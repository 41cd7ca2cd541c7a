// The offline app on every page: installs the service worker (only in a secure context:
// HTTPS, or localhost), shows "N waiting to send" and the list of waiting work, sends it when
// the box is reachable, lets the comment and edit forms fall back to the outbox when the box
// cannot be reached, and keeps sign-out from losing unsent work or leaving pages behind.
// Over plain HTTP nothing here runs except a notice saying how to set the device up.

const outbox = self.folioOutbox;
// Words and sizes in the page's language (outbox.js reads them from the page).
const t = self.folioT;
const human = self.folioSize;
const user = document.body.dataset.user || '';
const FLUSH_EVERY_MS = 30 * 1000;
/** The send in progress, so triggers arriving together start one. */
let flushing = null;
/** What the last send found (reachable? signed in?), for the header. */
let lastResult = null;

/** What the box may let this device keep is its decision (X-Folio-Offline): this only asks. */
function askToKeep() {
  const thumbnails = [...document.images]
    .map((img) => new URL(img.currentSrc || img.src, location.href))
    .filter((u) => u.origin === location.origin && u.pathname.endsWith('/thumbnail'))
    .map((u) => u.pathname);
  const urls = [...new Set([location.pathname, '/home', ...thumbnails])];
  navigator.serviceWorker.controller?.postMessage({ type: 'keep', urls });
}

if (!window.isSecureContext || !outbox || !('indexedDB' in window)) {
  for (const el of document.querySelectorAll('[data-offline-setup]')) el.hidden = false;
} else {
  start();
}

function start() {
  if ('serviceWorker' in navigator) {
    // A page that did not come through the service worker (the first pages, while it
    // installs) could not be kept: once it is in charge, it is asked to keep this page, its
    // thumbnails and the start page. workerStart is 0 when no service worker handled the load.
    const handled = (performance.getEntriesByType('navigation')[0]?.workerStart || 0) > 0;
    if (user && !handled) {
      if (navigator.serviceWorker.controller) navigator.serviceWorker.ready.then(askToKeep);
      else navigator.serviceWorker.addEventListener('controllerchange', askToKeep, { once: true });
    }
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => { /* offline use stays off */ });
    // Ask the browser not to clear what is kept here when space runs low.
    if (user) navigator.storage?.persist?.().catch(() => {});
  }
  outbox.onChange((change) => {
    render();
    if (change.type === 'added') setTimeout(flushSoon, 500);
  });
  for (const form of document.querySelectorAll('form[data-offline="comment"], form[data-offline="edit"]')) enhance(form);
  guardSignOut();
  render();
  if (user) {
    flushSoon();
    addEventListener('online', flushSoon);
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') flushSoon(); });
    setInterval(flushSoon, FLUSH_EVERY_MS);
  }
}

function flushSoon() {
  flushing ??= outbox.flush()
    .then(report, () => {})
    .finally(() => { flushing = null; render(); });
  return flushing;
}

function report(result) {
  lastResult = result;
  if (!result.sent.length) return;
  const box = document.querySelector('[data-outbox-sent]');
  if (!box) return;
  const titles = result.sent.map((i) => i.title).join(', ');
  box.replaceChildren(`${t('js-outbox-sent', { titles })} `);
  if (location.pathname === '/home' || location.pathname === '/') {
    const a = document.createElement('a');
    a.href = '/home';
    a.textContent = t('js-show-my-work');
    box.append(a);
  }
  box.hidden = false;
}

/** "waiting since 10:42", "since Monday", "since 3 March". */
function since(ms) {
  const d = new Date(ms);
  const now = new Date();
  const lang = document.documentElement.lang || 'en';
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  if (now - d < 6 * 24 * 60 * 60 * 1000) return d.toLocaleDateString(lang, { weekday: 'long' });
  return d.toLocaleDateString(lang, { day: 'numeric', month: 'long' });
}


async function render() {
  let items;
  try {
    items = await outbox.waiting(user);
  } catch {
    return; // no IndexedDB (private mode in some browsers): nothing can wait here
  }
  const count = document.querySelector('[data-outbox-count]');
  if (count) {
    // The box answered, but nobody is signed in (the session ended): say what unblocks it.
    const stuck = lastResult && lastResult.reachable && !lastResult.signedIn && items.length;
    count.textContent = t('js-outbox-waiting', { count: items.length }) + (stuck ? ` ${t('js-outbox-sign-in-to-send')}` : '');
    count.hidden = items.length === 0;
  }
  const device = document.querySelector('[data-outbox-device]');
  if (device && !user) {
    const n = items.length;
    device.textContent = t('js-device-waiting', { count: n });
    device.hidden = n === 0;
  }
  for (const section of document.querySelectorAll('[data-outbox-list]')) {
    const list = section.querySelector('ul');
    list.replaceChildren(...items.map(row));
    section.hidden = items.length === 0;
  }
}

function row(item) {
  const li = document.createElement('li');
  li.className = 'outbox-item';
  li.dataset.id = item.id;
  const title = document.createElement('strong');
  title.textContent = item.title || t('js-untitled');
  li.append(title);
  if (item.files.length) {
    const size = item.files.reduce((n, f) => n + (f.size || 0), 0);
    const small = document.createElement('small');
    small.textContent = ` ${t('js-files', { count: item.files.length })}, ${human(size)}`;
    li.append(small);
  }
  const when = document.createElement('span');
  when.className = 'outbox-when';
  if (Date.now() - item.made > outbox.WARN_AFTER_MS) {
    li.classList.add('late');
    when.textContent = t('js-waiting-since-late', { when: since(item.made) });
  } else {
    when.textContent = t('js-waiting-since', { when: since(item.made) });
  }
  li.append(' ', when);
  if (item.error) {
    li.classList.add('failed');
    const p = document.createElement('p');
    p.className = 'error';
    const why = item.errorStatus && item.error === `${item.errorStatus}` ? t('js-box-refused', { status: item.errorStatus }) : item.error;
    p.textContent = t('js-box-did-not-take', { error: why });
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'secondary';
    remove.textContent = t('js-remove-from-device');
    remove.addEventListener('click', () => outbox.remove(item.id));
    li.append(p, remove);
  }
  return li;
}

/** The comment and edit forms: sent as usual; kept in the outbox only when the box cannot be reached. */
function enhance(form) {
  const button = form.querySelector('button[type=submit]');
  const status = document.createElement('p');
  status.setAttribute('role', 'status');
  status.hidden = true;
  form.append(status);
  const say = (text, error) => {
    status.textContent = text;
    status.className = error ? 'error' : 'saved-here';
    status.setAttribute('role', error ? 'alert' : 'status');
    status.hidden = false;
  };
  form.addEventListener('submit', async (e) => {
    // Someone else took this submission (a voice recording goes with the form as it is).
    if (e.defaultPrevented || !user) return;
    e.preventDefault();
    const kind = form.dataset.offline;
    const fields = [...new FormData(form)].filter(([k, v]) => k !== 'csrf' && typeof v === 'string');
    const title = t(kind === 'comment' ? 'js-comment-on' : 'js-changes-to', { title: form.dataset.title });
    const item = {
      id: outbox.uuidv7(), user, kind, artifact: form.dataset.artifact, fields, files: [],
      title, made: Date.now(),
    };
    button.disabled = true;
    let res;
    try {
      res = await outbox.send(item);
    } catch {
      try {
        await outbox.add(item);
      } catch {
        button.disabled = false;
        say(t('js-not-kept'), true);
        return;
      }
      if (kind === 'comment') form.reset();
      button.disabled = false;
      say(t('js-kept'));
      return;
    }
    if (res.ok) {
      if (kind === 'comment') history.replaceState(null, '', '#feedback-h');
      location.reload();
      return;
    }
    button.disabled = false;
    let message = t('js-did-not-work', { status: res.status });
    try { message = (await res.json()).message || message; } catch { /* not JSON */ }
    say(message, true);
  });
}

/** Signing out forgets the kept pages, and first warns if work has not been sent yet. */
function guardSignOut() {
  const form = document.querySelector('form.signout');
  if (!form) return;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const mine = await outbox.waiting(user).catch(() => []);
    if (mine.length && form.dataset.confirmed !== 'yes') {
      form.dataset.confirmed = 'yes';
      const warning = document.createElement('p');
      warning.className = 'error signout-warning';
      warning.setAttribute('role', 'alert');
      warning.textContent = t('js-signout-waiting', { count: mine.length });
      document.querySelector('header.top').after(warning);
      form.querySelector('button[type=submit]').textContent = t('js-signout-anyway');
      return;
    }
    await forgetKept();
    form.submit();
  });
}

async function forgetKept() {
  try {
    await caches.delete('folio-pages');
    await outbox.kept.clear();
    await outbox.meta.set('owner', '');
  } catch { /* nothing was kept */ }
}
