// Compact snapshots (protocol 1.1, "Compact snapshot") in Public/seatcast-client.js and
// trip-map.js: both snapshot forms load the same state; names derive from row and column;
// events apply in O(1) to the compact store; a malformed compact snapshot is a failed snapshot
// (resubscribe), not a crash.
//   node --test Tests/browser/node/      (or: swift test --filter ClientModuleTests)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeatcastClient, backoffDelay } from '../../../Public/seatcast-client.js';
import { TripMap, seatName, seatIndex, columnLabel } from '../../../Public/trip-map.js';
import { fakeWebSocketClass, FakeClock } from './fakes.mjs';

const UNTIL = '2030-01-01T00:02:00.000Z';

function setup(options = {}) {
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const clock = new FakeClock();
  const client = new SeatcastClient({
    url: 'ws://seatcast.test/ws', WebSocket: FakeWebSocket, setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout, now: clock.now, random: () => 0.5, ...options,
  });
  const seen = [];
  for (const type of ['snapshot', 'snapshotError', 'seat', 'gap', 'error']) client.on(type, (...args) => seen.push([type, ...args]));
  const socket = () => sockets[sockets.length - 1];
  const of = (type) => seen.filter((e) => e[0] === type);
  client.subscribe('T1');
  client.connect();
  socket().open();
  return { client, clock, sockets, socket, of };
}

/** One trip in both forms: `codes` is the compact status string, `until` index -> until. */
function bothForms(rows, cols, codes, until = {}, seq = 7) {
  const head = { type: 'snapshot', tripId: 'T1', name: 'Venue', epoch: 'e1', seq, rows, cols };
  const word = { a: 'available', h: 'held', b: 'booked' };
  const seats = [];
  for (let i = 0; i < rows * cols; i++) {
    const row = Math.floor(i / cols) + 1, col = i % cols + 1;
    const s = { seatNo: seatName(row, col, cols), row, col, status: word[codes[i]] };
    if (until[i]) s.until = until[i];
    seats.push(s);
  }
  return {
    full: { ...head, seats },
    compact: { ...head, compact: true, status: codes, until: Object.fromEntries(Object.entries(until).map(([k, v]) => [String(k), v])) },
  };
}

/** Everything a view says, seat by seat. */
function dump(view) {
  return { rows: view.rows, cols: view.cols, size: view.size, seq: view.seq, epoch: view.epoch, name: view.name,
    counts: view.counts(), seats: [...view.seats()] };
}

function randomCodes(n, seed) {
  let x = seed;
  let s = '';
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; s += 'aahb'[(x >>> 16) % 4]; }
  return s;
}

test('seat names: row then column letter up to 26 columns, row-col beyond; parsed back to the index', () => {
  assert.equal(seatName(12, 3, 4), '12C');
  assert.equal(seatName(1, 26, 26), '1Z');
  assert.equal(seatName(12, 27, 27), '12-27');
  assert.equal(seatName(500, 1, 100), '500-1');
  assert.equal(columnLabel(3, 26), 'C');
  assert.equal(columnLabel(3, 27), '3');
  assert.equal(seatIndex('1A', 12, 4), 0);
  assert.equal(seatIndex('12D', 12, 4), 47);
  assert.equal(seatIndex('2-1', 500, 100), 100);
  assert.equal(seatIndex('500-100', 500, 100), 49999);
  for (const [name, rows, cols] of [['13A', 12, 4], ['1E', 12, 4], ['01A', 12, 4], ['1a', 12, 4], ['1-1', 12, 4],
    ['1A', 12, 27], ['0-1', 5, 30], ['1-31', 5, 30], ['6-1', 5, 30], ['1-01', 5, 30], ['', 5, 5], [null, 5, 5], ['1A ', 5, 5]]) {
    assert.equal(seatIndex(name, rows, cols), -1, `${name} on ${rows}x${cols}`);
  }
});

test('subscribe asks for the compact snapshot only with the compact option', () => {
  assert.equal(setup({ compact: true }).socket().last().compact, true);
  assert.equal(setup().socket().last().compact, undefined);
});

for (const [rows, cols] of [[3, 4], [4, 30], [2, 26]]) {
  test(`compact and full snapshots of the same ${rows}x${cols} map give the same state`, () => {
    const codes = randomCodes(rows * cols, rows * 31 + cols);
    const until = {};
    for (let i = 0; i < codes.length; i++) if (codes[i] === 'h' && i % 3) until[i] = `2030-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`;
    const { full, compact } = bothForms(rows, cols, codes, until);
    const a = new TripMap('T1'), b = new TripMap('T1');
    assert.equal(a.replace(full), null);
    assert.equal(b.replace(compact), null);
    assert.deepEqual(dump(b.view), dump(a.view));
    assert.equal(a.view.grid, true, 'a complete full snapshot is stored as a grid too');
    // Spot checks against the snapshot itself.
    for (const s of full.seats) {
      assert.deepEqual(b.view.seat(s.seatNo), { seatNo: s.seatNo, row: s.row, col: s.col, status: s.status, until: s.until || null });
    }
    const n = { available: 0, held: 0, booked: 0 };
    for (const s of full.seats) n[s.status]++;
    assert.deepEqual(b.view.counts(), n);
    // Events and replies change both the same way.
    const names = full.seats.map((s) => s.seatNo);
    const evs = [{ type: 'seat_locked', seatNo: names[0], until: UNTIL }, { type: 'seat_booked', seatNo: names[1] },
      { type: 'seat_released', seatNo: names.at(-1), reason: 'expired' }];
    evs.forEach((e, k) => {
      const m = { ...e, tripId: 'T1', seq: 8 + k };
      assert.equal(a.apply(m).outcome, 'applied');
      assert.equal(b.apply(m).outcome, 'applied');
    });
    const reply = { type: 'reserved', seats: [names[2]], until: UNTIL };
    assert.deepEqual(a.applyReply(reply, { epoch: 'e1', seq: 10 }), b.applyReply(reply, { epoch: 'e1', seq: 10 }));
    assert.deepEqual(dump(b.view), dump(a.view));
    assert.equal(b.view.seat(names[0]).until, UNTIL);
    assert.equal(b.view.seat(names[2]).status, 'held');
  });
}

test('events apply to a compact snapshot in seq order; counts follow; the until map is kept', () => {
  const { client, socket, of } = setup({ compact: true });
  const { compact } = bothForms(2, 30, 'a'.repeat(29) + 'h' + 'b'.repeat(30), { 29: UNTIL }, 5);
  socket().receive(compact);
  const trip = client.trip('T1');
  assert.equal(of('snapshot').length, 1);
  assert.deepEqual([trip.rows, trip.cols, trip.size, trip.seq], [2, 30, 60, 5]);
  assert.deepEqual(trip.counts(), { available: 29, held: 1, booked: 30 });
  assert.deepEqual(trip.seat('1-30'), { seatNo: '1-30', row: 1, col: 30, status: 'held', until: UNTIL });
  assert.equal(trip.untilAt(29), UNTIL);
  assert.equal(trip.seat('1A'), null, 'no lettered names on a 30-wide trip');
  socket().receive({ type: 'seat_locked', tripId: 'T1', seatNo: '1-1', seq: 6, until: UNTIL });
  socket().receive({ type: 'seat_released', tripId: 'T1', seatNo: '1-30', seq: 7, reason: 'expired' });
  socket().receive({ type: 'seat_booked', tripId: 'T1', seatNo: '1-1', seq: 8 });
  assert.deepEqual(of('seat').map((e) => [e[2].seatNo, e[2].status]), [['1-1', 'held'], ['1-30', 'available'], ['1-1', 'booked']]);
  assert.deepEqual(trip.counts(), { available: 29, held: 0, booked: 31 });
  assert.equal(trip.untilAt(29), null, 'a released seat has no until');
  assert.equal(trip.statusAt(0), 'booked');
  assert.equal(trip.indexOf('2-30'), 59);
  assert.equal(trip.nameAt(59), '2-30');
  assert.equal(trip.seq, 8);
  // An unknown seat asks for a fresh snapshot, compact again.
  socket().receive({ type: 'seat_locked', tripId: 'T1', seatNo: '3-1', seq: 9, until: UNTIL });
  assert.equal(socket().last().type, 'subscribe');
  assert.equal(socket().last().compact, true);
  assert.equal(socket().last().since, undefined);
});

test('a server that ignores compact sends the full snapshot: it loads as before', () => {
  const { client, socket, of } = setup({ compact: true });
  socket().receive(bothForms(12, 4, 'h' + 'a'.repeat(47), { 0: UNTIL }).full);
  const trip = client.trip('T1');
  assert.equal(of('snapshot').length, 1);
  assert.equal(of('snapshotError').length, 0);
  assert.equal(trip.seat('1A').status, 'held');
  assert.equal(trip.seat('12D').status, 'available');
  assert.deepEqual(trip.counts(), { available: 47, held: 1, booked: 0 });
});

test('a malformed compact snapshot is a failed snapshot: reported, resubscribed, the map kept', () => {
  const bad = [
    ['wrong length', { status: 'aaaaa' }],
    ['bad character', { status: 'aaxa' }],
    ['upper case', { status: 'aaAa' }],
    ['non-ASCII', { status: 'aa\u00e1a' }],
    ['rows missing', { rows: undefined }],
    ['cols zero', { cols: 0, status: '' }],
    ['rows not an integer', { rows: 1.5 }],
    ['status not a string', { status: ['a', 'a', 'a', 'a'] }],
    ['until a list', { until: ['x'] }],
    ['until key out of range', { status: 'ahaa', until: { 4: UNTIL } }],
    ['until key not an index', { status: 'ahaa', until: { '01': UNTIL } }],
    ['until on a seat that is not held', { status: 'ahaa', until: { 0: UNTIL } }],
    ['until not a string', { status: 'ahaa', until: { 1: 5 } }],
    ['seq missing', { seq: undefined }],
  ];
  for (const [what, patch] of bad) {
    const { client, socket, of } = setup({ compact: true });
    const good = bothForms(2, 2, 'abha', {}, 5).compact;
    socket().receive(good);
    const trip = client.trip('T1');
    const before = JSON.stringify(dump(trip));
    const sent = socket().sent.length;
    socket().receive({ ...good, seq: 9, ...patch });
    assert.equal(of('snapshotError').length, 1, what);
    assert.equal(of('snapshotError')[0][1], 'T1');
    assert.equal(typeof of('snapshotError')[0][2].reason, 'string', what);
    assert.equal(JSON.stringify(dump(trip)), before, `${what}: the map is unchanged`);
    assert.equal(socket().sent.length, sent + 1, `${what}: one resubscribe`);
    assert.deepEqual([socket().last().type, socket().last().compact, socket().last().since], ['subscribe', true, undefined], what);
    // Events of the stream the bad snapshot started are not applied to the old map.
    socket().receive({ type: 'seat_booked', tripId: 'T1', seatNo: '1A', seq: 10 });
    assert.equal(trip.seat('1A').status, 'available', what);
    // The answer to the resubscribe loads.
    socket().receive({ ...good, seq: 11, status: 'bbbb' });
    assert.deepEqual(trip.counts(), { available: 0, held: 0, booked: 4 }, what);
    assert.equal(trip.seq, 11);
  }
});

test('failed snapshots in a row: again after the backoff delay, then without compact', () => {
  const { client, clock, socket, of } = setup({ compact: true });
  const good = bothForms(2, 2, 'abha', {}, 5);
  socket().receive({ ...good.compact, status: 'abh' });
  assert.equal(socket().sent.length, 2, 'the first failure resubscribes at once');
  socket().receive({ ...good.compact, status: 'abh' });
  assert.equal(of('snapshotError').length, 2);
  assert.equal(of('snapshotError')[1][2].failures, 2);
  assert.equal(socket().sent.length, 2, 'the second waits');
  clock.advance(backoffDelay(1, () => 0.5) - 1);
  assert.equal(socket().sent.length, 2);
  clock.advance(1);
  assert.equal(socket().sent.length, 3);
  assert.equal(socket().last().compact, undefined, 'the full form from now on');
  socket().receive(good.full);
  assert.equal(client.trip('T1').loaded, true);
  assert.equal(client.trip('T1').seat('1B').status, 'booked');
  assert.equal(client.status.state, 'live');
});

test('a full snapshot with an unknown status is a failed snapshot too', () => {
  const { socket, of } = setup();
  const { full } = bothForms(1, 2, 'aa');
  full.seats[1].status = 'sold';
  socket().receive(full);
  assert.equal(of('snapshotError').length, 1);
  assert.match(of('snapshotError')[0][2].reason, /sold/);
});

test('50,000 seats: both forms agree, events apply in O(1), the store is small', () => {
  const rows = 500, cols = 100, n = rows * cols;
  const codes = randomCodes(n, 12345);
  const until = {};
  for (let i = 0; i < n; i++) if (codes[i] === 'h') until[i] = UNTIL;
  const { full, compact } = bothForms(rows, cols, codes, until);
  const compactBytes = JSON.stringify(compact).length, fullBytes = JSON.stringify(full).length;
  const a = new TripMap('T1'), b = new TripMap('T1');
  let t0 = performance.now();
  assert.equal(a.replace(full), null);
  const fullMs = performance.now() - t0;
  t0 = performance.now();
  assert.equal(b.replace(compact), null);
  const compactMs = performance.now() - t0;
  assert.deepEqual(a.view.counts(), b.view.counts());
  for (let i = 0; i < n; i += 997) assert.deepEqual(a.view.seatAt(i), b.view.seatAt(i));
  t0 = performance.now();
  for (let k = 0; k < 10000; k++) {
    const i = (k * 7919) % n;
    const r = b.apply({ type: k % 2 ? 'seat_released' : 'seat_locked', tripId: 'T1', seatNo: seatName(Math.floor(i / cols) + 1, i % cols + 1, cols), seq: 8 + k, until: UNTIL, reason: 'released' });
    assert.equal(r.outcome, 'applied');
  }
  const eventsMs = performance.now() - t0;
  const c = b.view.counts();
  assert.equal(c.available + c.held + c.booked, n);
  // Figures only (a quarter of these seats are held, each with its until): nothing timed is asserted tightly.
  console.log(`# 50,000 seats: full snapshot ${fullBytes} bytes loaded in ${fullMs.toFixed(1)} ms; compact ${compactBytes} bytes in ${compactMs.toFixed(1)} ms; 10,000 events in ${eventsMs.toFixed(1)} ms`);
  assert.ok(eventsMs < 5000, `10,000 events took ${eventsMs} ms`);
});

test('a compact snapshot loads also when the client did not ask for it', () => {
  const { client, socket, of } = setup();
  socket().receive(bothForms(2, 2, 'abha', { 2: UNTIL }).compact);
  assert.equal(of('snapshot').length, 1);
  assert.deepEqual(client.trip('T1').seat('2A'), { seatNo: '2A', row: 2, col: 1, status: 'held', until: UNTIL });
});
