// Test doubles for seatcast-client.js under `node --test`: a WebSocket the test drives from the
// server's side, and a clock whose timers run only when the test advances it.

/** A fresh fake WebSocket class; `sockets` lists every instance in creation order. */
export function fakeWebSocketClass() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0; // CONNECTING
      this.sent = [];      // parsed JSON of every frame the client sent
      this.closedByClient = null;
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      sockets.push(this);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error('send() on a WebSocket that is not open');
      this.sent.push(JSON.parse(data));
    }
    close(code) {
      this.closedByClient = { code: code ?? null };
      this.readyState = 3;
    }
    // ---- the server's side
    open() {
      this.readyState = 1;
      if (this.onopen) this.onopen({});
    }
    /** Delivers one frame: an object is sent as JSON, anything else as it is. */
    receive(msg) {
      if (this.onmessage) this.onmessage({ data: typeof msg === 'object' && !(msg instanceof ArrayBuffer) ? JSON.stringify(msg) : msg });
    }
    serverClose(code = 1006, reason = '') {
      this.readyState = 3;
      if (this.onclose) this.onclose({ code, reason });
    }
    /** The last frame sent, parsed. */
    last() { return this.sent[this.sent.length - 1]; }
  }
  return { FakeWebSocket, sockets };
}

/** setTimeout / clearTimeout / now on a clock that moves only in advance(). */
export class FakeClock {
  constructor() {
    this.time = 0;
    this.timers = new Map();
    this.nextId = 1;
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { at: this.time + Math.max(0, ms || 0), fn });
      return id;
    };
    this.clearTimeout = (id) => { this.timers.delete(id); };
    this.now = () => this.time;
  }
  /** Moves time forward by `ms`, running each timer that falls due, in order. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let next = null;
      for (const [id, t] of this.timers) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
  }
}
