// Tests of Public/seatcast-client.js (and connection.js, trip-map.js under it) with Node's own
// test runner and a fake WebSocket and clock: no server, no browser, no real time.
//   node --test Tests/browser/node/      (or: swift test --filter ClientModuleTests)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SeatcastClient, backoffDelay, DEFAULT_BACKOFF } from '../../../Public/seatcast-client.js';
import { fakeWebSocketClass, FakeClock } from './fakes.mjs';

const WS_URL = 'ws://seatcast.test/ws';

/** A client on fakes, with everything it emits recorded in `seen`. */
function setup(options = {}) {
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const clock = new FakeClock();
  const client = new SeatcastClient({
    url: WS_URL, WebSocket: FakeWebSocket, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout,
    now: clock.now, random: () => 0.5, ...options,
  });
  const seen = [];
  for (const type of ['status', 'open', 'close', 'snapshot', 'subscribed', 'seat', 'gap', 'subscribeError', 'error', 'message']) {
    client.on(type, (...args) => seen.push([type, ...args]));
  }
  const socket = () => sockets[sockets.length - 1];
  const of = (type) => seen.filter((e) => e[0] === type);
  return { client, clock, sockets, socket, seen, of };
}

/** A 2x2 trip T1 at (epoch, seq): 1A 1B 2A 2B, with `held` / `booked` seats as given. */
function snapshot(seq, { epoch = 'e1', tripId = 'T1', held = [], booked = [], seats = ['1A', '1B', '2A', '2B'] } = {}) {
  return {
    type: 'snapshot', tripId, name: 'Trip ' + tripId, epoch, seq, rows: 2, cols: 2,
    seats: seats.map((no) => ({
      seatNo: no, row: +no[0], col: no.charCodeAt(1) - 64,
      status: held.includes(no) ? 'held' : booked.includes(no) ? 'booked' : 'available',
      ...(held.includes(no) ? { until: '2030-01-01T00:00:00.000Z' } : {}),
    })),
  };
}
const locked = (seq, seatNo, until = '2030-01-01T00:02:00.000Z') => ({ type: 'seat_locked', tripId: 'T1', seatNo, seq, until });
const released = (seq, seatNo, reason = 'released') => ({ type: 'seat_released', tripId: 'T1', seatNo, seq, reason });
const bookedEv = (seq, seatNo) => ({ type: 'seat_booked', tripId: 'T1', seatNo, seq });
const statuses = (trip) => Object.fromEntries([...trip.seats()].map((s) => [s.seatNo, s.status]));

/** Connected, subscribed to T1 and loaded at `seq`. */
function live(seq = 5, options = {}, snap = {}) {
  const t = setup(options);
  t.client.subscribe('T1');
  t.client.connect();
  t.socket().open();
  t.socket().receive(snapshot(seq, snap));
  return t;
}

test('subscribes on open, and a snapshot replaces the trip (also one that comes unasked)', () => {
  const { client, socket, of } = setup();
  const trip = client.subscribe('T1');
  assert.equal(trip.loaded, false);
  client.connect();
  assert.equal(client.status.state, 'connecting');
  socket().open();
  const sub = socket().last();
  assert.equal(sub.type, 'subscribe');
  assert.equal(sub.tripId, 'T1');
  assert.equal(typeof sub.id, 'string');
  assert.equal(sub.since, undefined, 'nothing to resume from yet');

  socket().receive(snapshot(5, { held: ['1A'] }));
  assert.equal(client.status.state, 'live');
  assert.deepEqual([trip.loaded, trip.epoch, trip.seq, trip.rows, trip.cols, trip.name], [true, 'e1', 5, 2, 2, 'Trip T1']);
  assert.deepEqual(statuses(trip), { '1A': 'held', '1B': 'available', '2A': 'available', '2B': 'available' });
  assert.equal(trip.seat('1A').until, '2030-01-01T00:00:00.000Z');
  assert.equal(of('snapshot').length, 1);
  assert.equal(of('snapshot')[0][2].unasked, false);

  // The server resyncs on its own (a slow client, a reloaded trip): whatever the map had goes.
  socket().receive(snapshot(40, { epoch: 'e2', booked: ['2B'], seats: ['1A', '2B', '2C'] }));
  assert.deepEqual([trip.epoch, trip.seq, trip.size], ['e2', 40, 3]);
  assert.deepEqual(statuses(trip), { '1A': 'available', '2B': 'booked', '2C': 'available' });
  assert.equal(trip.seat('1B'), null);
  assert.equal(of('snapshot')[1][2].unasked, true);
  assert.throws(() => { trip.seat('1A').status = 'booked'; }, TypeError, 'seats are read-only');
});

test('events apply in seq order; an event at or below the position is ignored', () => {
  const { client, socket, of } = live(5);
  const trip = client.trip('T1');
  socket().receive(locked(6, '1B'));
  assert.equal(trip.seq, 6);
  assert.equal(trip.seat('1B').status, 'held');
  assert.equal(trip.seat('1B').until, '2030-01-01T00:02:00.000Z');
  socket().receive(released(6, '1B')); // a duplicate seq
  socket().receive(bookedEv(4, '1A'));  // older than the snapshot
  assert.equal(trip.seat('1B').status, 'held');
  assert.equal(trip.seat('1A').status, 'available');
  socket().receive(released(7, '1B', 'expired'));
  socket().receive(bookedEv(8, '2A'));
  assert.deepEqual(statuses(trip), { '1A': 'available', '1B': 'available', '2A': 'booked', '2B': 'available' });
  assert.equal(trip.seq, 8);
  assert.deepEqual(of('seat').map((e) => [e[1], e[2].seatNo, e[2].status, e[3].seq]),
    [['T1', '1B', 'held', 6], ['T1', '1B', 'available', 7], ['T1', '2A', 'booked', 8]]);
  assert.equal(of('gap').length, 0);
  assert.equal(socket().sent.length, 1, 'no resubscribe');
});

test('a seq gap resubscribes with since; events wait for the answer; the replay catches up', () => {
  const { client, socket, of } = live(5);
  const trip = client.trip('T1');
  const first = socket().last();
  socket().receive(locked(6, '1A'));
  socket().receive(locked(8, '2A')); // 7 is missing
  assert.equal(of('gap').length, 1);
  assert.deepEqual(of('gap')[0][2], { expected: 7, got: 8 });
  const resub = socket().last();
  assert.equal(resub.type, 'subscribe');
  assert.deepEqual(resub.since, { epoch: 'e1', seq: 6 }, 'since = the last applied position');
  assert.notEqual(resub.id, first.id);
  assert.equal(trip.seat('2A').status, 'available', 'the event past the gap is not applied');

  socket().receive(locked(9, '2B')); // live events before the answer: dropped, the replay has them
  socket().receive({ type: 'subscribed', id: first.id, tripId: 'T1', epoch: 'e1', seq: 2 }); // superseded
  assert.equal(trip.seq, 6);
  socket().receive({ type: 'subscribed', id: resub.id, tripId: 'T1', epoch: 'e1', seq: 6 });
  assert.equal(of('subscribed').length, 1);
  for (const ev of [released(7, '1A'), locked(8, '2A'), locked(9, '2B')]) socket().receive(ev);
  assert.equal(trip.seq, 9);
  assert.deepEqual(statuses(trip), { '1A': 'available', '1B': 'available', '2A': 'held', '2B': 'held' });
  assert.equal(socket().sent.length, 2, 'one resubscribe');
});

test('an event for a seat the map does not have asks for a snapshot (no since)', () => {
  const { socket } = live(5);
  socket().receive(locked(6, '9Z'));
  assert.equal(socket().last().type, 'subscribe');
  assert.equal(socket().last().since, undefined);
});

test('after a reconnect it resumes with since from the last applied event', () => {
  const { client, clock, sockets, socket, of } = live(5);
  socket().receive(locked(6, '1A'));
  socket().serverClose(1001, 'server shutdown');
  assert.deepEqual(of('close').at(-1)[1], { code: 1001, reason: 'server shutdown' });
  assert.equal(client.status.state, 'reconnecting');
  assert.equal(client.isOpen(), false);
  assert.equal(sockets.length, 1);
  clock.advance(backoffDelay(1, () => 0.5));
  assert.equal(sockets.length, 2, 'a new connection after the first backoff step');
  assert.equal(socket().url, WS_URL);
  socket().open();
  const resume = socket().last();
  assert.equal(resume.type, 'subscribe');
  assert.deepEqual(resume.since, { epoch: 'e1', seq: 6 });
  socket().receive({ type: 'subscribed', id: resume.id, tripId: 'T1', epoch: 'e1', seq: 6 });
  assert.equal(client.status.state, 'live');
  socket().receive(bookedEv(7, '1A'));
  assert.equal(client.trip('T1').seat('1A').status, 'booked');
  assert.equal(client.trip('T1').seq, 7);
});

test('backoff: 0.5 s doubling to 20 s, each 50-100 % of the step', () => {
  const low = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoffDelay(n, () => 0));
  const high = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoffDelay(n, () => 1));
  assert.deepEqual(high, [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000]);
  assert.deepEqual(low, [250, 500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  assert.equal(backoffDelay(3, () => 0.5), 1500);
  assert.deepEqual(DEFAULT_BACKOFF, { initialMs: 500, maxMs: 20000, factor: 2, jitter: 0.5 });
});

test('the client waits exactly the backoff schedule between failed attempts, and starts over once live', () => {
  const { client, clock, sockets, socket } = setup({ random: () => 1 });
  client.subscribe('T1');
  client.connect();
  const waits = [];
  for (let attempt = 1; attempt <= 8; attempt++) {
    socket().serverClose(1006); // the handshake failed
    const before = sockets.length;
    const start = clock.time;
    assert.equal(client.status.retryAt, start + backoffDelay(attempt, () => 1));
    for (let i = 0; sockets.length === before && i < 10000; i++) clock.advance(10);
    waits.push(clock.time - start);
  }
  assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000]);
  socket().open();
  socket().receive(snapshot(1));
  assert.equal(client.status.attempts, 0);
  socket().serverClose(1006);
  const start = clock.time;
  clock.advance(499);
  assert.equal(client.status.socket, false, 'not before 500 ms');
  clock.advance(1);
  assert.equal(client.status.socket, true);
  assert.equal(clock.time - start, 500);
});

test('a handshake or a subscribe that gets no answer counts as a failed connection', () => {
  const { client, clock, sockets, socket } = setup();
  client.subscribe('T1');
  client.connect();
  clock.advance(10000); // never opened
  assert.notEqual(sockets[0].closedByClient, null);
  assert.equal(client.status.state, 'reconnecting');
  clock.advance(1000);
  assert.equal(sockets.length, 2);
  socket().open();
  clock.advance(9999);
  assert.equal(socket().closedByClient, null);
  clock.advance(1); // the subscribe is still unanswered
  assert.notEqual(socket().closedByClient, null);
  assert.equal(client.status.state, 'reconnecting');
});

test('replies resolve the request with the same id, in any order; requests leave at once', async () => {
  const { client, socket, of } = live(5);
  const a = client.request({ type: 'reserve', tripId: 'T1', seats: ['1A'], hold: 'h'.repeat(20) });
  const b = client.request({ type: 'ping' });
  const c = client.request({ type: 'confirm', tripId: 'T1', hold: 'h'.repeat(20), id: 'mine-7' });
  const [ra, rb, rc] = socket().sent.slice(-3);
  assert.deepEqual([ra.type, rb.type, rc.type], ['reserve', 'ping', 'confirm'], 'sent synchronously, in order');
  assert.equal(new Set([ra.id, rb.id, rc.id]).size, 3);
  assert.equal(rc.id, 'mine-7', 'a given id is kept');

  socket().receive({ type: 'pong', id: 'nobody' }); // answers nothing of ours: ignored
  socket().receive({ type: 'rejected', id: rc.id, tripId: 'T1', reason: 'not_held', seats: [] });
  socket().receive({ type: 'pong', id: rb.id });
  socket().receive({ type: 'reserved', id: ra.id, tripId: 'T1', seats: ['1A'], hold: 'h'.repeat(20), until: '2030-01-01T00:02:00.000Z' });
  assert.equal((await a).type, 'reserved');
  assert.equal((await b).type, 'pong');
  assert.equal((await c).reason, 'not_held');

  socket().receive({ type: 'error', id: 'nobody', code: 'bad_request', message: 'x' });
  socket().receive({ type: 'error', code: 'rate_limited', message: 'y' });
  assert.deepEqual(of('error').map((e) => e[1].code), ['bad_request', 'rate_limited'], 'errors that answer nothing are reported');
});

test('a request fails locally when not connected, when the connection drops, or after its timeout', async () => {
  const { client, clock, socket } = live(5);
  const dropped = client.request({ type: 'ping' });
  const slow = client.request({ type: 'ping' }, { timeoutMs: 3000 });
  clock.advance(3000);
  assert.deepEqual([(await slow).code, (await slow).local], ['timeout', true]);
  socket().receive({ type: 'pong', id: socket().last().id }); // too late: ignored
  socket().serverClose(1006);
  assert.deepEqual([(await dropped).code, (await dropped).local], ['disconnected', true]);
  assert.equal((await client.request({ type: 'ping' })).code, 'not_connected');
});

test('a reply shows its seats at once, unless an event about the seat came after the request left', async () => {
  const { client, socket, of } = live(5);
  const trip = client.trip('T1');
  const hold = 'h'.repeat(20);
  const r1 = client.request({ type: 'reserve', tripId: 'T1', seats: ['1A'], hold });
  socket().receive({ type: 'reserved', id: socket().last().id, tripId: 'T1', seats: ['1A'], hold, until: '2030-01-01T00:02:00.000Z' });
  await r1;
  assert.equal(trip.seat('1A').status, 'held', 'the reply beat its event');
  assert.equal(of('seat').at(-1)[3].type, 'reserved');
  socket().receive(locked(6, '1A', '2030-01-01T00:02:00.000Z')); // its event
  assert.equal(trip.seat('1A').status, 'held');

  // The events of a release and of someone else's hold beat the reply: the reply changes nothing.
  const r2 = client.request({ type: 'release', tripId: 'T1', seats: ['1A'], hold });
  socket().receive(released(7, '1A'));
  socket().receive(locked(8, '1A', '2030-01-01T00:09:00.000Z'));
  socket().receive({ type: 'released', id: socket().last().id, tripId: 'T1', seats: ['1A'] });
  await r2;
  assert.equal(trip.seat('1A').status, 'held');
  assert.equal(trip.seat('1A').until, '2030-01-01T00:09:00.000Z');
});

test('a refused subscribe is reported and ends the wait', () => {
  const { client, clock, socket, of } = setup();
  client.subscribe('nope');
  client.connect();
  socket().open();
  socket().receive({ type: 'error', id: socket().last().id, code: 'unknown_trip', message: 'unknown trip "nope"' });
  assert.equal(of('subscribeError').length, 1);
  assert.equal(of('subscribeError')[0][1], 'nope');
  assert.equal(of('error').length, 0);
  assert.equal(client.status.state, 'live');
  clock.advance(60000);
  assert.equal(socket().closedByClient, null, 'no subscribe timeout after the answer');
});

test('unknown messages and fields are ignored', () => {
  const { client, socket, of } = live(5);
  const trip = client.trip('T1');
  const before = JSON.stringify([...trip.seats()]);
  const junk = ['not json', '[1,2]', '{"no":"type"}', '{"type":7}', 'null', '"seat_locked"', new ArrayBuffer(4),
    { type: 'seat_moved', tripId: 'T1', seatNo: '1A', seq: 6 },
    { type: 'future_thing', id: 'x1', whatever: [1, 2] },
    { type: 'seat_locked', tripId: 'OTHER', seatNo: '1A', seq: 6 },
    { type: 'snapshot', tripId: 'OTHER', epoch: 'e9', seq: 1, seats: [] },
    { type: 'subscribed', tripId: 'T1', epoch: 'e1', seq: 1 }];
  for (const m of junk) socket().receive(m);
  assert.equal(trip.seq, 5);
  assert.equal(JSON.stringify([...trip.seats()]), before);
  assert.equal(socket().sent.length, 1, 'nothing sent in answer');
  assert.equal(of('error').length + of('seat').length + of('gap').length, 0);
  assert.deepEqual(of('message').map((e) => e[1].type).slice(1),
    ['seat_moved', 'future_thing', 'seat_locked', 'snapshot', 'subscribed']);
  // Unknown fields of known messages do not matter.
  socket().receive({ ...locked(6, '1A'), colour: 'red', extra: { nested: true } });
  assert.equal(trip.seat('1A').status, 'held');
});

test('close() stops for good; unsubscribe forgets the trip', () => {
  const { client, clock, sockets, socket } = live(5);
  client.unsubscribe('T1');
  assert.deepEqual(socket().last(), { type: 'unsubscribe', tripId: 'T1' });
  assert.equal(client.trip('T1'), null);
  socket().receive(locked(6, '1A')); // ignored: not followed
  client.close();
  assert.deepEqual(socket().closedByClient, { code: 1000 });
  assert.equal(client.status.state, 'closed');
  clock.advance(120000);
  assert.equal(sockets.length, 1, 'no reconnect after close()');
});

test('the client module has no DOM dependency', () => {
  const ownModules = ['./trip-map.js', './connection.js']; // what another page copies with it
  for (const file of ['seatcast-client.js', 'connection.js', 'trip-map.js']) {
    const src = readFileSync(new URL(`../../../Public/${file}`, import.meta.url), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, ''); // code only
    assert.doesNotMatch(src, /\b(document|window|navigator|location|localStorage|sessionStorage|HTMLElement)\b/, file);
    const imports = [...src.matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1]);
    assert.ok(imports.every((i) => ownModules.includes(i)), `${file} imports ${imports}`);
  }
});
