// "Does this device trust folio?" on /device (opened at the plain http:// address). Asks the
// box's secure address for /healthz: the request succeeds only if this device trusts the
// box's certificate authority (its answer cannot be read with no-cors, and need not be); a
// failure means it does not yet, or the secure port cannot be reached from here. The page's
// own policy allows connecting to exactly that address.
const panel = document.getElementById('trust-check');
const url = panel && panel.dataset.check;

function show(state) {
  for (const part of panel.querySelectorAll('[data-state]')) {
    part.hidden = part.dataset.state !== state;
  }
}

if (url) {
  show('checking');
  // A port that a firewall drops never answers: give up after a while rather than spin.
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 8000);
  fetch(url, { mode: 'no-cors', cache: 'no-store', signal: stop.signal })
    .then(() => show('yes'), () => show('no'))
    .finally(() => clearTimeout(timer));
}
