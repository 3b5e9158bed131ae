// auth.js: the page's buyer token (docs/PROTOCOL.md "Who may do what"). No DOM: the page
// passes location, fetch and timers in, so node tests drive it with fakes.
//
// Owns: where the token comes from (the URL fragment `#token=...`, else the site's
// `GET /api/token`), keeping it in memory only, the WebSocket URL that carries it (`?token=`),
// refreshing it before its `exp` (a fresh one from /api/token, then `auth` on the live
// connection), and the decision what a failed connection means (decide()).
//
//   const auth = new BuyerAuth({ fetch, setTimeout, clearTimeout, now });
//   const cleanUrl = auth.fromFragment(location.href)   // null: no token in the fragment
//   await auth.fromSite()                               // only when the fragment had none
//   auth.url('ws://host/ws'), auth.headers(), auth.token, auth.source, auth.exp
//   auth.onFresh = (token) => ...                       // a refreshed token (send `auth`)

/** A JWT: three base64url parts (the signature may be empty only for alg none, which the server
 *  refuses anyway; it is checked there, not here). */
const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN = 8192;

/** `t` trimmed when it looks like a JWT, else null. */
export function asToken(t) {
  if (typeof t !== 'string') return null;
  const s = t.trim();
  return s.length <= MAX_TOKEN && JWT_RE.test(s) ? s : null;
}

/** The `exp` claim (epoch seconds) of a JWT's payload, or null. Not verified: the page only
 *  needs to know when to ask for a fresh one; the server checks the signature. */
export function jwtExp(token) {
  const t = asToken(token);
  if (!t) return null;
  try {
    const b64 = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(globalThis.atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    return typeof json.exp === 'number' && Number.isFinite(json.exp) ? json.exp : null;
  } catch (_) {
    return null;
  }
}

/** The token in a URL's fragment (`#token=JWT`, maybe among other `k=v` parts) and the URL
 *  without it (no `#` left when nothing else was there): {token, url}; token null when none. */
export function splitFragment(href) {
  const i = href.indexOf('#');
  if (i < 0) return { token: null, url: href };
  const params = new URLSearchParams(href.slice(i + 1));
  if (!params.has('token')) return { token: null, url: href };
  const token = asToken(params.get('token'));
  params.delete('token');
  const rest = params.toString();
  return { token, url: href.slice(0, i) + (rest ? '#' + rest : '') };
}

/** `url` with `?token=` (or `&token=`) when `token` is given. */
export function withToken(url, token) {
  if (!token) return url;
  return url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
}

/** What `GET /api/token` answered: the token of a 200 with JSON `{"token":"..."}` or the token
 *  as plain text; null for anything else. */
export function tokenFromResponse(status, contentType, body) {
  if (status !== 200 || typeof body !== 'string') return null;
  if (/json/i.test(contentType || '') || body.trim().startsWith('{')) {
    try {
      const j = JSON.parse(body);
      return j && typeof j === 'object' ? asToken(j.token) : null;
    } catch (_) {
      return null;
    }
  }
  return asToken(body);
}

/** When to fetch a fresh token, in ms from `nowMs`: a minute before `exp`, or at 80% of what
 *  is left when that is less than five minutes; never sooner than `minMs`. null: no `exp`. */
export function refreshIn(exp, nowMs, minMs = 1000) {
  if (typeof exp !== 'number') return null;
  const left = exp * 1000 - nowMs;
  const lead = left < 300000 ? left * 0.2 : 60000;
  return Math.max(minMs, Math.round(left - lead));
}

/**
 * What a failed connection means (pure). `f`: {hasToken, canRefresh (the token came from the
 * site, which may give a fresh one), opened (the WebSocket had opened: a close, not a refused
 * handshake), code and reason (the close frame's), api (the status of GET /api/trips with the
 * page's credentials, or null when not asked)}. Answers one of:
 *   'retry'    reconnect as usual (server down, network, restart);
 *   'check'    ask GET /api/trips (with the page's credentials) and decide again with its status;
 *   'refresh'  get a fresh token from the site, then reconnect;
 *   'sign-in'  the server wants a token and the page has none: stop, say so;
 *   'expired'  the token is no longer accepted and cannot be refreshed: stop, say so;
 *   'origin'   (close 1008 other than "token expired") the server refused this page's origin.
 */
export function decide(f) {
  if (f.opened && f.code === 1008) {
    // The server closes with 1008 for two things: a token that ran out ("token expired")
    // and an Origin it does not allow ("policy"), whether or not the page has a token.
    if (!f.hasToken || f.reason !== 'token expired') return 'origin';
    return f.canRefresh ? 'refresh' : 'expired';
  }
  if (f.opened) return 'retry';
  if (f.api == null) return 'check';
  if (f.api !== 401) return 'retry';
  if (!f.hasToken) return 'sign-in';
  return f.canRefresh ? 'refresh' : 'expired';
}

export class BuyerAuth {
  #o;
  #timer = null;
  token = null;
  /** 'fragment', 'site' (GET /api/token) or null. */
  source = null;
  /** Called with each fresh token a scheduled refresh got. */
  onFresh = null;

  /** options: fetch, setTimeout, clearTimeout, now (defaults: the globals), tokenUrl
   *  ('/api/token'), timeoutMs (5000: a slower /api/token counts as none). */
  constructor(options = {}) {
    const g = globalThis;
    this.#o = {
      fetch: options.fetch || ((...a) => g.fetch(...a)),
      setTimeout: options.setTimeout || ((f, ms) => g.setTimeout(f, ms)),
      clearTimeout: options.clearTimeout || ((t) => g.clearTimeout(t)),
      now: options.now || (() => Date.now()),
      tokenUrl: options.tokenUrl || '/api/token',
      timeoutMs: options.timeoutMs ?? 5000,
    };
  }

  get exp() { return jwtExp(this.token); }

  /** The site can hand out fresh tokens (it gave this one). */
  get canRefresh() { return this.source === 'site'; }

  /** Takes the token from `href`'s fragment; answers the URL without it to show instead (for
   *  history.replaceState), or null when the fragment had no token. */
  fromFragment(href) {
    const { token, url } = splitFragment(href);
    if (url === href) return null;
    if (token) this.#set(token, 'fragment');
    return url;
  }

  /** Asks the site for a token (GET /api/token); resolves with it, or null (none, an error, a
   *  timeout). With one, refreshes are scheduled. */
  async fromSite() {
    const t = await this.#ask();
    if (t) this.#set(t, 'site');
    return t;
  }

  /** A fresh token from the site now (after a refused handshake or a 1008): null when it gave
   *  none or the same one again (which is no use). */
  async refresh() {
    const t = await this.#ask();
    if (!t || t === this.token) return null;
    this.#set(t, 'site');
    return t;
  }

  url(base) { return withToken(base, this.token); }

  /** Headers for the page's own GET /api requests. */
  headers() { return this.token ? { Authorization: 'Bearer ' + this.token } : {}; }

  stop() {
    this.#o.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #set(token, source) {
    this.token = token;
    this.source = source;
    this.#schedule();
  }

  #schedule() {
    this.stop();
    if (!this.canRefresh || !this.exp || this.exp * 1000 <= this.#o.now()) return;
    const ms = refreshIn(this.exp, this.#o.now());
    this.#timer = this.#o.setTimeout(async () => {
      this.#timer = null;
      const t = await this.refresh();
      if (t) { if (this.onFresh) this.onFresh(t); }
      else if (this.exp && this.exp * 1000 > this.#o.now() + 2000) {
        // None this time: try again in a while, as long as the old one lasts.
        this.#timer = this.#o.setTimeout(() => this.#schedule(), Math.min(15000, (this.exp * 1000 - this.#o.now()) / 2));
      }
    }, ms);
  }

  async #ask() {
    let timer = null;
    try {
      const timeout = new Promise((resolve) => { timer = this.#o.setTimeout(() => resolve(null), this.#o.timeoutMs); });
      const answer = (async () => {
        const r = await this.#o.fetch(this.#o.tokenUrl, { cache: 'no-store', credentials: 'same-origin' });
        const body = r.status === 200 ? await r.text() : null;
        return tokenFromResponse(r.status, r.headers && r.headers.get ? r.headers.get('content-type') : '', body);
      })();
      return await Promise.race([answer, timeout]);
    } catch (_) {
      return null;
    } finally {
      this.#o.clearTimeout(timer);
    }
  }
}
