// seatcast-client.js: the client side of the seatcast wire protocol (docs/PROTOCOL.md,
// version 1) for any page or script. ES modules with no DOM dependency: it needs a WebSocket
// constructor (the browser's by default; pass another, or a fake in tests); timers, clock and
// random source can be injected too. README.md "Use the client in your own page" has an example.
//
// - connects, and reconnects with exponential backoff and jitter when the connection drops
//   (connection.js);
// - follows trips: subscribes on every (re)connect, with `since` once it has a position, so the
//   server replays what was missed instead of sending a whole snapshot;
// - keeps each trip's seat map (trip-map.js): a snapshot replaces it (asked for or not), events
//   apply in `seq` order, older ones are ignored, a gap resubscribes with `since`;
// - with `compact: true`, asks for the compact snapshot (protocol 1.1); either form is accepted
//   whatever was asked (a server that does not know `compact` ignores it and sends the full
//   one). A snapshot that cannot be loaded (a compact one of the wrong length, a bad character)
//   is a failed snapshot: the trip is subscribed again (after a second failure in a row, without
//   `compact`, and with the backoff delay), never a crash;
// - correlates requests and replies by `id`: request() returns a Promise of the reply.
// Unknown message types and fields are ignored, as the protocol asks.

import { TripMap, isEvent } from './trip-map.js';
import { Connection, OPEN, DEFAULT_BACKOFF, backoffDelay } from './connection.js';

export { OPEN, DEFAULT_BACKOFF, backoffDelay };

/** An error produced here, not by the server: `local` says so. Codes: not_connected,
 *  disconnected (the connection dropped before the reply), timeout, duplicate_id. */
function localError(id, code, message) {
  return Object.freeze({ type: 'error', id, code, message, local: true });
}

/** A followed trip: its map and the state of its subscription. `compact`: ask for the compact
 *  snapshot; `failures`: failed snapshots in a row; `retryTimer`: a delayed resubscribe. */
function newTrip(tripId, compact) {
  return { tripId, map: new TripMap(tripId), waiting: false, subId: null, waitTimer: null, compact, failures: 0, retryTimer: null };
}

export class SeatcastClient {
  #o;
  #conn;
  #trips = new Map();    // tripId -> trip
  #pending = new Map();  // request id -> {finish(reply)}
  #listeners = new Map();
  #nextId = 1;

  /** options: url (required, e.g. ws://host:8080/ws, or a function answering it, asked on every
   *  (re)connect: the URL may carry a buyer token, `?token=`, that changes); WebSocket (default globalThis.WebSocket);
   *  reconnect (true: with backoff after a close); backoff ({initialMs, maxMs, factor, jitter});
   *  openTimeoutMs (10000: a slower handshake counts as failed); subscribeTimeoutMs (10000: an
   *  unanswered subscribe restarts the connection); setTimeout, clearTimeout, now, random (for
   *  tests; default the global ones); idPrefix ('c': of the request ids this client makes);
   *  compact (false: subscribe with `compact: true`, for the compact snapshot). */
  constructor(options = {}) {
    const g = globalThis;
    this.#o = {
      url: options.url,
      WebSocket: options.WebSocket || g.WebSocket,
      reconnect: options.reconnect !== false,
      backoff: { ...DEFAULT_BACKOFF, ...(options.backoff || {}) },
      openTimeoutMs: options.openTimeoutMs ?? 10000,
      subscribeTimeoutMs: options.subscribeTimeoutMs ?? 10000,
      setTimeout: options.setTimeout || ((f, ms) => g.setTimeout(f, ms)),
      clearTimeout: options.clearTimeout || ((t) => g.clearTimeout(t)),
      now: options.now || (() => Date.now()),
      random: options.random || Math.random,
      idPrefix: options.idPrefix ?? 'c',
      compact: options.compact === true,
    };
    if (!this.#o.url) throw new TypeError('SeatcastClient: options.url is required');
    if (typeof this.#o.WebSocket !== 'function') throw new TypeError('SeatcastClient: no WebSocket constructor (pass options.WebSocket)');
    this.#conn = new Connection(this.#o, {
      open: () => this.#opened(),
      message: (data) => this.#receive(data),
      closed: (ev) => this.#closed(ev),
      status: (status) => this.#emit('status', status),
    });
  }

  // ------------------------------------------------------------ listeners

  /**
   * Listens to `type`; returns a function that stops listening. Types and arguments:
   *   status (status)                 the connection's state changed (see `status`)
   *   open ()                         the WebSocket opened
   *   close ({code, reason})          it closed (a reconnect follows unless closed by close())
   *   snapshot (trip, {unasked})      a trip's map was replaced; unasked: the server sent it on its own
   *   snapshotError (tripId, {reason, failures})  a snapshot could not be loaded: subscribing again
   *   subscribed (trip)               a resume was accepted: the replayed events follow
   *   seat (tripId, seat, cause)      one seat changed, by an event or by a reply to this client
   *   gap (trip, {expected, got})     an event skipped `seq`s: resubscribing with `since`
   *   subscribeError (tripId, error)  the server refused a subscribe (e.g. unknown_trip)
   *   error (error)                   an `error` that answers no request of this client
   *   message (message)               every message, after the client has handled it
   */
  on(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(fn);
    return () => this.#listeners.get(type).delete(fn);
  }

  #emit(type, ...args) {
    const fns = this.#listeners.get(type);
    if (!fns) return;
    for (const fn of [...fns]) {
      // A throwing listener must not leave the client half-way through a message.
      try { fn(...args); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
  }

  // ------------------------------------------------------------ connection

  /** {state, attempts, retryAt, socket}: state is idle, connecting (never live yet), live,
   *  reconnecting (after a close: waiting until retryAt, or opening when socket is true) or
   *  closed (by close(), or for good without `reconnect`). */
  get status() { return this.#conn.status; }

  isOpen() { return this.#conn.isOpen(); }

  /** Opens the connection (no-op while one is open or opening). */
  connect() { this.#conn.connect(); }

  /** Reconnects at once when waiting for a retry (after the browser came back online, say). */
  reconnectNow() { this.#conn.reconnectNow(); }

  /** Closes for good: no reconnect until connect() is called again. */
  close() { this.#conn.close(); }

  #opened() {
    this.#emit('open');
    for (const t of this.#trips.values()) this.#subscribe(t, true);
    if (this.#trips.size === 0) this.#conn.markLive();
  }

  /** The connection closed (a reconnect may follow): nothing sent on it will be answered. */
  #closed(ev) {
    for (const t of this.#trips.values()) {
      t.waiting = false;
      this.#o.clearTimeout(t.waitTimer);
      this.#o.clearTimeout(t.retryTimer);
      t.waitTimer = t.retryTimer = null;
    }
    const pending = [...this.#pending.entries()];
    this.#pending.clear();
    for (const [id, p] of pending) p.finish(localError(id, 'disconnected', 'the connection closed before the reply'));
    this.#emit('close', ev);
  }

  #newId(prefix) { return prefix + (this.#nextId++); }

  #send(msg) { return this.#conn.send(JSON.stringify(msg)); }

  // ------------------------------------------------------------ trips

  /** Follows `tripId` (now when connected, else on the next open); returns its read-only view. */
  subscribe(tripId) {
    let t = this.#trips.get(tripId);
    if (!t) {
      t = newTrip(tripId, this.#o.compact);
      this.#trips.set(tripId, t);
      if (this.isOpen()) this.#subscribe(t, false);
    }
    return t.map.view;
  }

  /** Stops following `tripId` and forgets its map. */
  unsubscribe(tripId) {
    const t = this.#trips.get(tripId);
    if (!t) return;
    this.#o.clearTimeout(t.waitTimer);
    this.#o.clearTimeout(t.retryTimer);
    this.#trips.delete(tripId);
    this.#send({ type: 'unsubscribe', tripId });
  }

  /** Asks for a fresh snapshot of a followed trip. */
  resync(tripId) {
    const t = this.#trips.get(tripId);
    if (t && this.isOpen()) this.#subscribe(t, false);
  }

  /** The read-only view of a followed trip ({tripId, loaded, name, rows, cols, epoch, seq, size,
   *  seat(seatNo), seats(), counts(), and by seat index: indexOf, seatAt, nameAt, statusCodeAt,
   *  statusAt, untilAt, rowAt, colAt (trip-map.js)}; seats are frozen {seatNo, row, col, status,
   *  until}, made on demand), or null. */
  trip(tripId) {
    const t = this.#trips.get(tripId);
    return t ? t.map.view : null;
  }

  /** Subscribes; with `since` (the last applied position) when resuming a loaded map. */
  #subscribe(t, resume) {
    this.#o.clearTimeout(t.retryTimer);
    t.retryTimer = null;
    const msg = { type: 'subscribe', tripId: t.tripId, id: this.#newId('s') };
    const since = resume ? t.map.position() : null;
    if (since) msg.since = since;
    if (t.compact) msg.compact = true;
    t.subId = msg.id;
    t.waiting = true;
    this.#send(msg);
    this.#o.clearTimeout(t.waitTimer);
    const ws = this.#conn.socket;
    // No snapshot and no `subscribed` in time: start over on a fresh connection.
    t.waitTimer = this.#o.setTimeout(() => {
      t.waitTimer = null;
      if (t.waiting && this.#conn.socket === ws && ws) this.#conn.drop(ws, 'no answer to subscribe');
    }, this.#o.subscribeTimeoutMs);
  }

  #answered(t) {
    t.waiting = false;
    this.#o.clearTimeout(t.waitTimer);
    t.waitTimer = null;
    this.#conn.markLive();
  }

  // ------------------------------------------------------------ incoming

  #receive(data) {
    if (typeof data !== 'string') return; // the protocol has text frames only
    let m;
    try { m = JSON.parse(data); } catch (_) { return; }
    if (!m || typeof m !== 'object' || Array.isArray(m) || typeof m.type !== 'string') return;
    switch (m.type) {
      case 'snapshot': this.#onSnapshot(m); break;
      case 'subscribed': this.#onSubscribed(m); break;
      default:
        if (isEvent(m.type)) this.#onEvent(m);
        else this.#onReply(m);
        break;
    }
    this.#emit('message', m);
  }

  #onSnapshot(m) {
    const t = this.#trips.get(m.tripId);
    if (!t) return;
    const unasked = !t.waiting;
    const problem = t.map.replace(m);
    if (problem) { this.#snapshotFailed(t, problem); return; }
    t.failures = 0;
    this.#answered(t);
    this.#emit('snapshot', t.map.view, { unasked });
  }

  /** A snapshot of `t` could not be loaded; the map keeps what it had (events after it cannot
   *  apply to that, so they wait for the next answer). The first failure resubscribes at once,
   *  later ones in a row after the backoff delay and without `compact` (the full form is the
   *  one every server sends). */
  #snapshotFailed(t, reason) {
    t.failures += 1;
    this.#emit('snapshotError', t.tripId, { reason, failures: t.failures });
    if (t.failures >= 2) t.compact = false;
    t.waiting = true;
    this.#o.clearTimeout(t.waitTimer);
    t.waitTimer = null;
    this.#o.clearTimeout(t.retryTimer);
    const ws = this.#conn.socket;
    const again = () => {
      t.retryTimer = null;
      if (this.#trips.get(t.tripId) === t && this.#conn.socket === ws && this.isOpen()) this.#subscribe(t, false);
    };
    if (t.failures === 1) again();
    else t.retryTimer = this.#o.setTimeout(again, backoffDelay(t.failures - 1, this.#o.random, this.#o.backoff));
  }

  #onSubscribed(m) {
    const t = this.#trips.get(m.tripId);
    // Only the answer to the newest subscribe counts; an older one was superseded.
    if (!t || !t.waiting || m.id !== t.subId) return;
    if (!t.map.resumeAt(m.epoch, m.seq)) { this.#subscribe(t, false); return; }
    this.#answered(t);
    this.#emit('subscribed', t.map.view); // the replayed events follow, from seq + 1
  }

  #onEvent(m) {
    const t = this.#trips.get(m.tripId);
    if (!t || t.waiting) return; // while a subscribe is out, its answer decides what comes next
    const seq = t.map.seq;
    const r = t.map.apply(m);
    if (r.outcome === 'applied') this.#emit('seat', t.tripId, r.seat, m);
    else if (r.outcome === 'gap') {
      // Events are missing: ask the server to replay from where the map is.
      this.#emit('gap', t.map.view, { expected: seq + 1, got: m.seq });
      this.#subscribe(t, true);
    } else if (r.outcome === 'unknownSeat') this.#subscribe(t, false); // start from a snapshot
  }

  #onReply(m) {
    if (typeof m.id === 'string') {
      const p = this.#pending.get(m.id);
      if (p) {
        this.#pending.delete(m.id);
        p.finish(m);
        return;
      }
      if (m.type === 'error') {
        for (const t of this.#trips.values()) {
          if (t.subId === m.id && t.waiting) {
            // The subscription itself failed (unknown trip, too many subscriptions, ...).
            this.#answered(t);
            this.#emit('subscribeError', t.tripId, m);
            return;
          }
        }
      }
    }
    if (m.type === 'error') this.#emit('error', m);
    // Anything else (pong, help, unsubscribed, types of later versions): nothing to do.
  }

  // ------------------------------------------------------------ requests

  /**
   * Sends `msg` (an object with `type`; an `id` is added unless given) and resolves with the
   * reply carrying its id. Never rejects: failures resolve as `error` replies with `local: true`
   * (not_connected, disconnected, timeout, duplicate_id). With `timeoutMs` the wait is bounded.
   * The message leaves synchronously, so requests made in one task leave together.
   * A successful reserve/confirm/release reply updates the trip's map at once (the reply may
   * beat its event), unless an event or snapshot about that seat came after the request left.
   */
  request(msg, { timeoutMs = 0 } = {}) {
    const id = typeof msg.id === 'string' ? msg.id : this.#newId(this.#o.idPrefix);
    return new Promise((resolve) => {
      if (!this.isOpen()) { resolve(localError(id, 'not_connected', 'not connected')); return; }
      if (this.#pending.has(id)) { resolve(localError(id, 'duplicate_id', `a request with id ${id} is in flight`)); return; }
      const t = this.#trips.get(msg.tripId);
      const sentAt = t ? t.map.position() : null;
      let timer = null;
      const p = {
        finish: (reply) => {
          this.#o.clearTimeout(timer);
          if (sentAt && !reply.local) this.#applyReply(t, reply, sentAt);
          resolve(reply);
        },
      };
      if (timeoutMs > 0) {
        timer = this.#o.setTimeout(() => {
          if (this.#pending.get(id) !== p) return;
          this.#pending.delete(id);
          resolve(localError(id, 'timeout', `no reply within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#pending.set(id, p);
      this.#send({ ...msg, id });
    });
  }

  /** Replaces the connection's buyer token (a fresh one before the old one's `exp`): resolves
   *  with the reply, `authed` ({sub, exp}) or an `error` (unauthorized: the old token stays). */
  authenticate(token, options) { return this.request({ type: 'auth', token }, options); }

  #applyReply(t, reply, sentAt) {
    if (this.#trips.get(t.tripId) !== t) return; // unsubscribed meanwhile
    for (const seat of t.map.applyReply(reply, sentAt)) this.#emit('seat', t.tripId, seat, reply);
  }
}
