// Uploads with a progress bar per file, cancel, drag and drop, and plain-language errors.
// Progressive enhancement: without JavaScript the form posts normally (no progress shown).
// Forms opt in with data-upload; data-api is the JSON endpoint to post to, data-done where to
// go afterwards (the new artifact's id is appended when it ends in "/").
//
// Every submission carries an id made here, so sending it again never makes a second copy.
// When the box cannot be reached (and the page is a secure context, where the offline app
// runs) the work goes into the outbox (outbox.js) with that same id instead of being lost:
// data-offline says what it is ("artifact" or "version"), data-artifact and data-title which
// piece of work a version belongs to.

// Words and sizes in the page's language (outbox.js reads them from the page).
const t = self.folioT;
const human = self.folioSize;

function setup(form) {
  const progress = form.querySelector('.upload-progress');
  const submit = form.querySelector('button[type=submit]');
  const dropzone = form.querySelector('[data-dropzone]');
  const picker = form.querySelector('input[type=file][multiple]') || form.querySelector('input[type=file]');
  let dropped = [];

  const chosen = () => {
    const files = [...dropped];
    for (const input of form.querySelectorAll('input[type=file]')) files.push(...input.files);
    return files;
  };
  const showChosen = () => {
    const files = chosen();
    progress.replaceChildren(...files.map((f) => row(f)));
  };
  const row = (file) => {
    const li = document.createElement('div');
    li.className = 'upload-row';
    const label = document.createElement('span');
    label.textContent = `${file.name} (${human(file.size)})`;
    const bar = document.createElement('progress');
    bar.max = 100; bar.value = 0;
    bar.setAttribute('aria-label', t('js-sending-file', { name: file.name }));
    li.append(label, bar);
    return li;
  };

  for (const input of form.querySelectorAll('input[type=file]')) input.addEventListener('change', showChosen);
  if (dropzone) {
    for (const type of ['dragenter', 'dragover']) {
      dropzone.addEventListener(type, (e) => { e.preventDefault(); dropzone.classList.add('over'); });
    }
    for (const type of ['dragleave', 'drop']) {
      dropzone.addEventListener(type, () => dropzone.classList.remove('over'));
    }
    dropzone.addEventListener('drop', (e) => {
      e.preventDefault();
      dropped.push(...e.dataTransfer.files);
      showChosen();
    });
  }

  const outbox = self.folioOutbox;
  const offlineReady = window.isSecureContext && outbox && document.body.dataset.user && form.dataset.offline;

  /** Keeps the work on this device; true once it is safely stored. `entries` are the files
   * as the outbox holds them (with the resumable upload each one has begun, if any). */
  const keep = async (id, fields, entries) => {
    const kind = form.dataset.offline;
    const title = kind === 'artifact'
      ? (fields.find(([k]) => k === 'title')?.[1] || t('js-untitled'))
      : t('js-new-version-of', { title: form.dataset.title });
    try {
      await outbox.add({
        id, kind, user: document.body.dataset.user, artifact: form.dataset.artifact, title,
        fields: fields.filter(([k]) => k !== 'csrf' && k !== 'id'),
        files: entries,
      });
      return true;
    } catch {
      return false;
    }
  };
  const entriesOf = (files) => files.map((f) => ({ name: f.name, type: f.type, size: f.size, blob: f, upload: null }));

  /** Once the box is out of reach: into the outbox, or a plain message where there is none. */
  const unreachable = async (id, fields, entries, fail) => {
    if (offlineReady && (await keep(id, fields, entries))) {
      submit.disabled = false;
      form.reset();
      dropped = [];
      const saved = document.createElement('p');
      saved.className = 'saved-here';
      saved.setAttribute('role', 'status');
      saved.textContent = t('js-saved-on-device');
      progress.replaceChildren(saved);
      return;
    }
    fail(t('js-unreachable'));
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const files = chosen();
    const id = outbox ? outbox.uuidv7() : '';
    const data = new FormData();
    const fields = [];
    for (const [key, value] of new FormData(form)) {
      if (value instanceof File) continue;
      data.append(key, value);
      fields.push([key, value]);
      // The id right after the form's token, before any file.
      if (key === 'csrf' && id) data.append('id', id);
    }
    if (id && !data.has('id')) data.append('id', id);
    for (const file of files) data.append(picker ? picker.name : 'file', file, file.name);
    progress.replaceChildren(...files.map((f) => row(f)));
    const bars = [...progress.querySelectorAll('progress')];
    // Files travel in order in one request: map the bytes sent onto each file's bar.
    const sizes = files.map((f) => f.size);
    const total = sizes.reduce((a, b) => a + b, 0) || 1;

    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'secondary';
    cancel.textContent = t('js-cancel');
    const status = document.createElement('p');
    status.setAttribute('role', 'status');
    progress.append(cancel, status);
    submit.disabled = true;
    const fail = (message) => {
      submit.disabled = false;
      cancel.remove();
      status.className = 'error';
      status.setAttribute('role', 'alert');
      status.textContent = message;
    };
    const saved = (body) => {
      bars.forEach((b) => { b.value = 100; });
      status.textContent = t('js-saved');
      const done = form.dataset.done || '/home';
      location.assign(done.endsWith('/') ? done + body.id : done);
    };

    // Big files (a video) go up as resumable uploads, piece by piece: when the Wi-Fi drops
    // halfway, the work goes into the outbox with the uploads begun, and continues from
    // where it stopped instead of from the start.
    if (outbox?.uploadResumable && files.some((f) => f.size > outbox.CHUNK_BYTES)) {
      const entries = entriesOf(files);
      const stop = new AbortController();
      cancel.addEventListener('click', () => stop.abort());
      (async () => {
        try {
          for (const [i, entry] of entries.entries()) {
            const refused = await outbox.uploadResumable(entry, {
              signal: stop.signal,
              onProgress: (sent, size) => {
                bars[i].value = size ? Math.round((sent / size) * 100) : 100;
                const before = sizes.slice(0, i).reduce((a, b) => a + b, 0);
                status.textContent = t('js-sending-percent', { percent: Math.round(((before + sent) / total) * 100) });
              },
            });
            if (refused) {
              let body = {};
              try { body = await refused.json(); } catch { /* not JSON */ }
              return fail(body.message || t('js-did-not-work', { status: refused.status }));
            }
          }
          const named = new FormData();
          for (const [key, value] of data) if (!(value instanceof File)) named.append(key, value);
          for (const entry of entries) named.append('upload', entry.upload);
          const res = await fetch(form.dataset.api, { method: 'POST', credentials: 'same-origin', headers: { accept: 'application/json' }, body: named, signal: stop.signal });
          let body = {};
          try { body = await res.json(); } catch { /* not JSON */ }
          if (res.ok) return saved(body);
          fail(body.message || t('js-did-not-work', { status: res.status }));
        } catch {
          if (stop.signal.aborted) {
            for (const entry of entries) {
              if (entry.upload) fetch(entry.upload, { method: 'DELETE', credentials: 'same-origin', headers: { 'Tus-Resumable': '1.0.0' } }).catch(() => {});
            }
            return fail(t('js-cancelled'));
          }
          cancel.remove();
          await unreachable(id, fields, entries, fail);
        }
      })();
      return;
    }

    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.dataset.api);
    xhr.setRequestHeader('Accept', 'application/json');
    cancel.addEventListener('click', () => xhr.abort());

    xhr.upload.addEventListener('progress', (ev) => {
      let sent = ev.loaded * (total / (ev.total || total));
      sizes.forEach((size, i) => {
        const part = Math.max(0, Math.min(size, sent));
        bars[i].value = size ? Math.round((part / size) * 100) : 100;
        sent -= size;
      });
      status.textContent = t('js-sending-percent', { percent: Math.round((ev.loaded / (ev.total || 1)) * 100) });
    });
    xhr.addEventListener('load', () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) {
        saved(body);
      } else {
        fail(body.message || t('js-did-not-work', { status: xhr.status }));
      }
    });
    xhr.addEventListener('error', async () => {
      cancel.remove();
      await unreachable(id, fields, entriesOf(files), fail);
    });
    xhr.addEventListener('abort', () => fail(t('js-cancelled')));
    xhr.send(data);
  });
}

for (const form of document.querySelectorAll('form[data-upload]')) setup(form);
