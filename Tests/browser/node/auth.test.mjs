// Tests of Public/auth.js (the page's buyer token: fragment, GET /api/token, refresh before exp,
// what a failed connection means), of the client's token-carrying URL and `auth` request, and of
// the words for a quota rejection, with fakes only: no server, no browser, no real time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BuyerAuth, asToken, decide, jwtExp, refreshIn, splitFragment, tokenFromResponse, withToken } from '../../../Public/auth.js';
import { SeatcastClient } from '../../../Public/seatcast-client.js';
import { CHECKOUT_TEXT, rejectionText } from '../../../Public/holds.js';
import { fakeWebSocketClass, FakeClock } from './fakes.mjs';

const b64url = (s) => Buffer.from(s).toString('base64url');
/** An (unsigned as far as the page cares) HS256 JWT with these claims. */
const jwt = (claims) => `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;

/** A fetch that answers `answers` in turn ({status, type, body} or an Error to throw). */
function fakeFetch(answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const a = answers.length > 1 ? answers.shift() : answers[0];
    if (a instanceof Error) throw a;
    return { status: a.status, headers: { get: (h) => (h.toLowerCase() === 'content-type' ? a.type || '' : null) }, text: async () => a.body };
  };
  return { fetch, calls };
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

test('jwtExp reads the payload\'s exp; anything that is not a JWT with a numeric exp is null', () => {
  assert.equal(jwtExp(jwt({ sub: 'u1', exp: 1767225600 })), 1767225600);
  assert.equal(jwtExp(jwt({ sub: 'u1' })), null);
  assert.equal(jwtExp(jwt({ sub: 'u1', exp: '1767225600' })), null);
  assert.equal(jwtExp('not.a.jwt!'), null);
  assert.equal(jwtExp('a.b'), null);
  assert.equal(jwtExp(`${b64url('{}')}.${b64url('not json')}.x`), null);
  assert.equal(jwtExp(undefined), null);
  // base64url payloads with - and _ (and no padding) decode too.
  const t = jwt({ sub: '>>>???', exp: 42 });
  assert.match(t.split('.')[1], /[-_]/);
  assert.equal(jwtExp(t), 42);
});

test('asToken accepts a JWT\'s shape only', () => {
  const t = jwt({ sub: 'u1', exp: 1 });
  assert.equal(asToken(' ' + t + '\n'), t);
  for (const bad of ['', 'abc', 'a.b.c d', 'a.b.', '<script>.b.c', 'a.b.c'.repeat(3000), 42, null]) assert.equal(asToken(bad), null, String(bad).slice(0, 40));
});

test('splitFragment takes #token= out of the URL, keeping any other fragment parts', () => {
  const t = jwt({ sub: 'u1', exp: 1 });
  assert.deepEqual(splitFragment(`https://s.test/?trip=T1#token=${t}`), { token: t, url: 'https://s.test/?trip=T1' });
  assert.deepEqual(splitFragment(`https://s.test/#a=1&token=${t}&b=2`), { token: t, url: 'https://s.test/#a=1&b=2' });
  assert.deepEqual(splitFragment('https://s.test/#seatmap'), { token: null, url: 'https://s.test/#seatmap' });
  assert.deepEqual(splitFragment('https://s.test/'), { token: null, url: 'https://s.test/' });
  // A malformed token is removed from the URL all the same, and not used.
  assert.deepEqual(splitFragment('https://s.test/#token=<b>'), { token: null, url: 'https://s.test/' });
});

test('withToken adds ?token= (URL-encoded) or &token=', () => {
  assert.equal(withToken('ws://h/ws', null), 'ws://h/ws');
  assert.equal(withToken('ws://h/ws', 'a.b.c'), 'ws://h/ws?token=a.b.c');
  assert.equal(withToken('ws://h/ws?compact=1', 'a+b/c='), 'ws://h/ws?compact=1&token=a%2Bb%2Fc%3D');
});

test('tokenFromResponse: a 200 with JSON {token} or the token as text; anything else is none', () => {
  const t = jwt({ sub: 'u1', exp: 1 });
  assert.equal(tokenFromResponse(200, 'application/json', JSON.stringify({ token: t })), t);
  assert.equal(tokenFromResponse(200, 'text/plain', t + '\n'), t);
  assert.equal(tokenFromResponse(200, '', JSON.stringify({ token: t })), t);
  assert.equal(tokenFromResponse(404, 'application/json', JSON.stringify({ token: t })), null);
  assert.equal(tokenFromResponse(401, 'application/json', '{"type":"error","code":"unauthorized"}'), null);
  assert.equal(tokenFromResponse(200, 'text/html', '<!doctype html><p>sign in'), null);
  assert.equal(tokenFromResponse(200, 'application/json', '{"token":42}'), null);
  assert.equal(tokenFromResponse(200, 'application/json', '{"token":'), null);
});

test('refreshIn: a minute before exp, or at 80% of a short remainder, never sooner than minMs', () => {
  assert.equal(refreshIn(null, 0), null);
  assert.equal(refreshIn(900, 0), 840000);          // 15 min token: at 14 min
  assert.equal(refreshIn(100, 0), 80000);           // 100 s left: at 80 s
  assert.equal(refreshIn(100, 99990000 / 1000), 1000); // about to run out: soon, not at once
});

test('decide: sign-in, expired, refresh, origin or retry from what the failure and GET /api say', () => {
  const d = (f) => decide({ opened: false, hasToken: false, canRefresh: false, code: 1006, api: null, ...f });
  assert.equal(d({}), 'check', 'a refused handshake: ask /api before deciding');
  assert.equal(d({ api: 200 }), 'retry', 'open mode: the server is just not there yet');
  assert.equal(d({ api: 0 }), 'retry', 'no answer: down');
  assert.equal(d({ api: 503 }), 'retry');
  assert.equal(d({ api: 401 }), 'sign-in');
  assert.equal(d({ api: 401, hasToken: true }), 'expired', 'a token from the fragment cannot be refreshed');
  assert.equal(d({ api: 401, hasToken: true, canRefresh: true }), 'refresh');
  assert.equal(d({ opened: true, code: 1006 }), 'retry', 'a dropped live connection');
  assert.equal(d({ opened: true, code: 1008, reason: 'policy' }), 'origin');
  assert.equal(d({ opened: true, code: 1008, reason: 'token expired', hasToken: true }), 'expired');
  assert.equal(d({ opened: true, code: 1008, reason: 'token expired', hasToken: true, canRefresh: true }), 'refresh');
  // A page with a token whose origin the server refuses: not an expiry, no refresh loop.
  assert.equal(d({ opened: true, code: 1008, reason: 'policy', hasToken: true, canRefresh: true }), 'origin');
  assert.equal(d({ opened: true, code: 1008, reason: '', hasToken: true }), 'origin');
});

test('BuyerAuth: the fragment\'s token is kept in memory and never refreshed', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch([{ status: 200, body: jwt({ sub: 'u1', exp: 2000 }) }]);
  const auth = new BuyerAuth({ fetch, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, now: clock.now });
  assert.equal(auth.fromFragment('https://s.test/?trip=T1'), null);
  const t = jwt({ sub: 'u1', exp: 1000 });
  assert.equal(auth.fromFragment(`https://s.test/?trip=T1#token=${t}`), 'https://s.test/?trip=T1');
  assert.deepEqual([auth.token, auth.source, auth.exp, auth.canRefresh], [t, 'fragment', 1000, false]);
  assert.equal(auth.url('ws://s.test/ws'), 'ws://s.test/ws?token=' + t);
  assert.deepEqual(auth.headers(), { Authorization: 'Bearer ' + t });
  clock.advance(2000 * 1000);
  await settle();
  assert.equal(calls.length, 0, 'no refresh of a fragment token');
});

test('BuyerAuth: a token from GET /api/token is refreshed before exp, and the fresh one is handed on', async () => {
  const clock = new FakeClock();
  const first = jwt({ sub: 'u1', exp: 900 }), second = jwt({ sub: 'u1', exp: 1800 });
  const { fetch, calls } = fakeFetch([{ status: 200, type: 'application/json', body: JSON.stringify({ token: first }) },
    { status: 200, type: 'text/plain', body: second }]);
  const auth = new BuyerAuth({ fetch, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, now: clock.now });
  const fresh = [];
  auth.onFresh = (t) => fresh.push(t);
  assert.equal(await auth.fromSite(), first);
  assert.deepEqual([calls[0].url, auth.source, auth.canRefresh], ['/api/token', 'site', true]);
  clock.advance(839000);
  await settle();
  assert.equal(calls.length, 1, 'not before a minute before exp');
  clock.advance(1000);
  await settle();
  assert.equal(calls.length, 2);
  assert.deepEqual(fresh, [second]);
  assert.equal(auth.token, second);
});

test('BuyerAuth: no token from the site (404, an error page, a network error, a hang) is none', async () => {
  for (const answer of [{ status: 404, body: '{"type":"error"}' }, { status: 200, type: 'text/html', body: '<html>' }, new Error('offline')]) {
    const { fetch } = fakeFetch([answer]);
    const auth = new BuyerAuth({ fetch });
    assert.equal(await auth.fromSite(), null);
    assert.deepEqual([auth.token, auth.source], [null, null]);
  }
  const clock = new FakeClock();
  const auth = new BuyerAuth({ fetch: () => new Promise(() => {}), setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, timeoutMs: 5000 });
  const pending = auth.fromSite();
  clock.advance(5000);
  assert.equal(await pending, null);
});

test('BuyerAuth.refresh answers null when the site gives the same token again or none', async () => {
  const t = jwt({ sub: 'u1', exp: 900 });
  const { fetch } = fakeFetch([{ status: 200, body: t }, { status: 200, body: t }, { status: 401, body: '' }]);
  const auth = new BuyerAuth({ fetch, setTimeout: () => 0, clearTimeout: () => {} });
  assert.equal(await auth.fromSite(), t);
  assert.equal(await auth.refresh(), null);
  assert.equal(await auth.refresh(), null);
  assert.equal(auth.token, t, 'the old token stays');
});

test('the client asks a url function on every (re)connect, and authenticate() sends `auth`', async () => {
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const clock = new FakeClock();
  let token = 'a.b.c';
  const client = new SeatcastClient({ url: () => withToken('ws://s.test/ws', token), WebSocket: FakeWebSocket,
    setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, now: clock.now, random: () => 0.5 });
  client.connect();
  assert.equal(sockets[0].url, 'ws://s.test/ws?token=a.b.c');
  sockets[0].open();
  const reply = client.authenticate('d.e.f');
  assert.deepEqual({ ...sockets[0].last(), id: undefined }, { type: 'auth', token: 'd.e.f', id: undefined });
  sockets[0].receive({ type: 'authed', sub: 'u1', exp: 1767225600, id: sockets[0].last().id });
  assert.deepEqual(await reply, { type: 'authed', sub: 'u1', exp: 1767225600, id: sockets[0].last().id });
  token = 'd.e.f';
  sockets[0].serverClose(1008, 'token expired');
  clock.advance(60000);
  assert.equal(sockets[1].url, 'ws://s.test/ws?token=d.e.f', 'the reconnect carries the current token');
});

test('a quota rejection and a forbidden confirm have words of their own', () => {
  assert.equal(rejectionText({ type: 'rejected', reason: 'quota', seats: ['3C'], limit: 10 }, ['3C']),
    'You can hold at most 10 seats at once. Book or release some first.');
  assert.equal(rejectionText({ type: 'rejected', reason: 'quota', seats: ['3C'] }, ['3C']),
    'You can hold at most a few seats at once. Book or release some first.');
  assert.equal(rejectionText({ type: 'rejected', reason: 'seat_taken' }, ['3C']), 'Sorry, 3C was just taken by someone else.');
  assert.equal(rejectionText({ type: 'rejected', reason: 'something_new' }, []), 'Rejected: something_new.');
  assert.match(CHECKOUT_TEXT, /checkout on the site/);
});
