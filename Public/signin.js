// signin.js: the page's side of buyer tokens, between auth.js (the token, pure) and the page.
// Owns: getting the token at start (the fragment, else the site's GET /api/token), telling a
// server that wants a token apart from one that is down (decide() in auth.js, with the status of
// GET /api/trips), refreshing the token on the live connection (`auth`), and stopping the
// reconnect spinning with a clear message when the page has no usable token.
//
//   const signin = createSignin({ client, auth, stopped });  // stopped(kind, text): show it
//   await signin.start()          // before the first connect
//   signin.apiRefused(status)     // a GET /api answered 401
//   signin.blocked                // null, 'sign-in' or 'expired'

import { decide } from './auth.js';
import { say } from './ui.js';

export const SIGN_IN_TEXT = 'This seat map needs a sign-in from the site: open it from the site\'s link.';
export const EXPIRED_TEXT = 'Your session expired: reload from the site.';
const ORIGIN_TEXT = 'The server refused this page\'s origin (close 1008).';
/** Fresh tokens fetched after refusals without the connection opening once: then give up. */
const MAX_REFRESHES = 2;

export function createSignin({ client, auth, stopped }) {
  let opened = false;
  let checking = false;
  let refreshes = 0;
  let blocked = null;

  client.on('open', () => { opened = true; refreshes = 0; });
  client.on('close', (ev) => {
    const was = opened;
    opened = false;
    handle({ opened: was, code: ev.code, reason: ev.reason });
  });

  // A token refreshed before its exp goes to the live connection at once (a closed one uses it
  // on the next connect: the client asks auth.url() each time).
  auth.onFresh = (token) => {
    if (!client.isOpen()) return;
    client.authenticate(token, { timeoutMs: 10000 }).then((m) => {
      if (m.type === 'error' && !m.local) say('The site\'s fresh sign-in was refused; the seat map may stop when the current one runs out.', 'warn');
    });
  };

  async function apiStatus() {
    try {
      const r = await fetch('/api/trips?limit=1', { cache: 'no-store', headers: auth.headers() });
      return r.status;
    } catch (_) {
      return 0; // no answer at all: the server is down, not refusing
    }
  }

  async function handle(f) {
    if (blocked) return;
    const facts = () => ({ ...f, hasToken: !!auth.token, canRefresh: auth.canRefresh && refreshes < MAX_REFRESHES });
    let d = decide({ ...facts(), api: null });
    if (d === 'check') {
      if (checking) return;
      checking = true;
      const api = await apiStatus();
      checking = false;
      d = decide({ ...facts(), api });
    }
    await act(d);
  }

  async function act(d) {
    if (blocked || d === 'retry') return;
    if (d === 'origin') { say(ORIGIN_TEXT, 'error', true); return; }
    if (d === 'refresh') {
      refreshes += 1;
      if (await auth.refresh()) { client.reconnectNow(); return; }
      d = 'expired';
    }
    blocked = d;
    auth.stop();
    client.close(); // no reconnect spinning: only the site can fix this
    stopped(d, d === 'sign-in' ? SIGN_IN_TEXT : EXPIRED_TEXT);
  }

  return {
    get blocked() { return blocked; },

    /** The token at start: from the fragment (removed from the address bar: it must not be
     *  shared by copy-paste), else from the site's GET /api/token (none: open mode, or the
     *  server will say it wants one). */
    async start() {
      const clean = auth.fromFragment(location.href);
      if (clean !== null) history.replaceState(history.state, '', clean);
      if (!auth.token) await auth.fromSite();
    },

    /** A GET /api of the page answered `status` 401: decide as for a refused handshake. */
    apiRefused(status) {
      if (status !== 401 || blocked || checking) return;
      act(decide({ opened: false, hasToken: !!auth.token, canRefresh: auth.canRefresh && refreshes < MAX_REFRESHES, api: 401 }));
    },
  };
}
