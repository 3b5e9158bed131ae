// connection.js: the WebSocket under seatcast-client.js, kept open: it connects, gives up on a
// handshake that hangs, and after a close reconnects with exponential backoff and jitter until
// close() is called. It knows nothing of the protocol: the client is told of open, message and
// close through the handlers it passes, and says when the connection counts as live (a subscribe
// was answered), which resets the backoff. No DOM dependency, like the client.

/** WebSocket readyState OPEN (the constant, so fakes need not define it). */
export const OPEN = 1;

export const DEFAULT_BACKOFF = Object.freeze({ initialMs: 500, maxMs: 20000, factor: 2, jitter: 0.5 });

/** The wait before reconnect attempt `attempt` (1, 2, ...): the base doubles from `initialMs` up to
 *  `maxMs`; the wait is (1 - jitter) of the base plus a random share of the rest. Pure. */
export function backoffDelay(attempt, random = Math.random, backoff = DEFAULT_BACKOFF) {
  const b = { ...DEFAULT_BACKOFF, ...backoff };
  const base = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, Math.max(0, attempt - 1)));
  return Math.round(base * (1 - b.jitter) + random() * base * b.jitter);
}

export class Connection {
  #o;
  #on;
  #ws = null;
  #state = 'idle';       // idle | connecting | reconnecting | live | closed
  #attempts = 0;
  #everLive = false;
  #live = false;
  #stopped = true;
  #retryTimer = null;
  #retryAt = 0;
  #openTimer = null;

  /** options: the client's (url, WebSocket, reconnect, backoff, openTimeoutMs, setTimeout,
   *  clearTimeout, now, random); handlers: open(), message(data), closed({code, reason}) (before
   *  a reconnect is scheduled), status(status). */
  constructor(options, handlers) {
    this.#o = options;
    this.#on = handlers;
  }

  /** {state, attempts, retryAt, socket}: see SeatcastClient.status. */
  get status() {
    return Object.freeze({ state: this.#state, attempts: this.#attempts, retryAt: this.#retryAt, socket: this.#ws !== null });
  }

  /** The current WebSocket or null: compare it later to tell whether this one is still current. */
  get socket() { return this.#ws; }

  isOpen() { return this.#ws !== null && this.#ws.readyState === OPEN; }

  /** Sends a text frame when open; false when not. */
  send(text) {
    if (!this.isOpen()) return false;
    this.#ws.send(text);
    return true;
  }

  #setState(s) {
    this.#state = s;
    this.#on.status(this.status);
  }

  /** Opens the connection (no-op while one is open or opening). */
  connect() {
    this.#stopped = false;
    this.#o.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    if (this.#ws) return;
    this.#retryAt = 0;
    let ws;
    try {
      // A function: asked on every (re)connect (the URL carries a token that may change).
      const url = typeof this.#o.url === 'function' ? this.#o.url() : this.#o.url;
      ws = new this.#o.WebSocket(url);
    } catch (e) {
      this.#closed({ code: 1006, reason: String(e && e.message || e) }); // as if it had failed to open
      return;
    }
    this.#ws = ws;
    this.#live = false;
    this.#setState(this.#everLive ? 'reconnecting' : 'connecting');
    // A handshake that hangs is as good as a failed one.
    this.#openTimer = this.#o.setTimeout(() => {
      if (this.#ws === ws && ws.readyState !== OPEN) this.drop(ws, 'open timeout');
    }, this.#o.openTimeoutMs);
    // on* properties rather than addEventListener: the smallest surface a fake must offer.
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#o.clearTimeout(this.#openTimer);
      this.#on.open();
    };
    ws.onmessage = (ev) => { if (this.#ws === ws) this.#on.message(ev.data); };
    ws.onclose = (ev) => { if (this.#ws === ws) this.#closed(ev || {}); };
    ws.onerror = () => { /* onclose follows */ };
  }

  /** Reconnects at once when waiting for a retry (after the browser came back online, say). */
  reconnectNow() {
    if (this.#ws) return;
    this.#attempts = Math.min(this.#attempts, 2);
    this.connect();
  }

  /** Closes for good: no reconnect until connect() is called again. */
  close() {
    this.#stopped = true;
    this.#o.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#retryAt = 0;
    if (this.#ws) this.drop(this.#ws, 'closed by client', 1000);
    else this.#setState('closed');
  }

  /** Gives up on `ws` without waiting for its close event (which may never come). */
  drop(ws, reason, code = 1006) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      if (code === 1000) ws.close(1000);
      else ws.close();
    } catch (_) { /* already closed */ }
    this.#closed({ code, reason });
  }

  #closed(ev) {
    this.#ws = null;
    this.#live = false;
    this.#o.clearTimeout(this.#openTimer);
    this.#on.closed({ code: ev.code, reason: ev.reason || '' });
    if (this.#stopped || !this.#o.reconnect) {
      this.#stopped = true;
      this.#setState('closed');
    } else {
      this.#scheduleReconnect();
    }
  }

  #scheduleReconnect() {
    this.#attempts += 1;
    const delay = backoffDelay(this.#attempts, this.#o.random, this.#o.backoff);
    this.#retryAt = this.#o.now() + delay;
    this.#retryTimer = this.#o.setTimeout(() => { this.#retryTimer = null; this.connect(); }, delay);
    this.#setState('reconnecting');
  }

  /** The connection works (a subscribe was answered, or there was nothing to subscribe): the
   *  next drop starts the backoff from the first attempt again. */
  markLive() {
    if (this.#live) return;
    this.#live = true;
    this.#everLive = true;
    this.#attempts = 0;
    this.#retryAt = 0;
    this.#setState('live');
  }
}
