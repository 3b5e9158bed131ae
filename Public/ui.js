// ui.js: small helpers the page's modules share: DOM lookup and creation, the status
// message line, wording and time formats, per-tab storage, random tokens.

export const $ = (id) => document.getElementById(id);

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

/** "1A", "1A and 1B", "1A, 1B and 1C". */
export function seatList(seats) {
  if (!seats || seats.length === 0) return '';
  if (seats.length === 1) return seats[0];
  return seats.slice(0, -1).join(', ') + ' and ' + seats[seats.length - 1];
}

/** Milliseconds as m:ss, rounded up, never negative. */
export function fmtLeft(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(s / 60);
  return m + ':' + String(s % 60).padStart(2, '0');
}

/** An `until` timestamp in epoch milliseconds, or null. */
export function untilMs(until) {
  const t = until ? Date.parse(until) : NaN;
  return Number.isFinite(t) ? t : null;
}

export function wsUrl(path) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return proto + '//' + location.host + path;
}

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'; // 64 symbols

/** A random token of `n` symbols of A-Z a-z 0-9 _ - (6 bits each, unbiased). */
export function randomToken(n) {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += TOKEN_ALPHABET[b & 63];
  return s;
}

/** sessionStorage that degrades to nothing (private mode, storage off). */
export const store = {
  get(k) {
    try { return sessionStorage.getItem(k); } catch (_) { return null; }
  },
  set(k, v) {
    try { sessionStorage.setItem(k, v); } catch (_) { /* private mode: memory only */ }
  },
  json(k, fallback) {
    const raw = store.get(k);
    if (!raw) return fallback;
    try { return JSON.parse(raw); } catch (_) { return fallback; }
  },
};

let messageTimer = null;

/** Shows `text` in the status line (#message); kind: info, ok, warn, error. Fades unless sticky. */
export function say(text, kind = 'info', sticky = false) {
  const m = $('message');
  m.textContent = text;
  m.dataset.kind = kind;
  clearTimeout(messageTimer);
  if (!sticky) {
    messageTimer = setTimeout(() => {
      m.textContent = '';
      m.dataset.kind = 'none';
    }, kind === 'error' || kind === 'warn' ? 12000 : 6000);
  }
}

const ERRORS = {
  rate_limited: 'Slow down a little: too many requests in a short time.',
  unknown_trip: 'That trip does not exist (any more).',
  unknown_seat: 'That seat does not exist on this trip.',
  unavailable: 'The server is busy or restarting; try again in a moment.',
  too_large: 'That request was too large.',
  unauthorized: 'Your sign-in is missing or no longer valid: reload the seat map from the site.',
  forbidden: 'That is not allowed with your sign-in.',
};

/** Words for an `error` message from the server. */
export function errorText(m) {
  return ERRORS[m.code] ? `${ERRORS[m.code]} (${m.code})` : `Server error (${m.code}): ${m.message}`;
}
