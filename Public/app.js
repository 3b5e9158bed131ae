// seatcast seat-map page. Plain JavaScript, no dependencies, CSP-clean (no inline
// script or style, no eval). Speaks the wire protocol of docs/PROTOCOL.md, version 1.
'use strict';

(function () {
  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);
  const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'; // 64 symbols
  const TOKEN_RE = /^[A-Za-z0-9_-]{16,128}$/;

  /** A random token of `n` symbols of A-Z a-z 0-9 _ - (6 bits each, unbiased). */
  function randomToken(n) {
    const bytes = new Uint8Array(n);
    crypto.getRandomValues(bytes);
    let s = '';
    for (const b of bytes) s += TOKEN_ALPHABET[b & 63];
    return s;
  }

  const store = {
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

  /** The page's hold token: one per browser tab, kept across reloads. */
  function pageHoldToken() {
    let t = store.get('seatcast.hold');
    if (!t || !TOKEN_RE.test(t)) {
      t = randomToken(32);
      store.set('seatcast.hold', t);
    }
    return t;
  }

  function wsUrl(path) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return proto + '//' + location.host + path;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function seatList(seats) {
    if (!seats || seats.length === 0) return '';
    if (seats.length === 1) return seats[0];
    return seats.slice(0, -1).join(', ') + ' and ' + seats[seats.length - 1];
  }

  function fmtLeft(ms) {
    const s = Math.max(0, Math.ceil(ms / 1000));
    const m = Math.floor(s / 60);
    return m + ':' + String(s % 60).padStart(2, '0');
  }

  function untilMs(until) {
    const t = until ? Date.parse(until) : NaN;
    return Number.isFinite(t) ? t : null;
  }

  // ---------------------------------------------------------------- state

  const HOLD = pageHoldToken();

  /** The server's hold length in whole seconds as this tab learnt it from a hold it made; null before. */
  let holdSeconds = (() => {
    const v = parseInt(store.get('seatcast.holdSeconds'), 10);
    return v > 0 ? v : null;
  })();

  const state = {
    trips: [],
    tripId: null,
    loaded: false,        // a snapshot of tripId is applied
    name: '',
    rows: 0,
    cols: 0,
    layoutKey: '',        // tripId/rows/cols the grid was built for
    epoch: null,
    seq: 0,
    seats: new Map(),     // seatNo -> {seatNo,row,col,status,until}
    waiting: false,       // a subscribe is out: events are dropped until snapshot/subscribed
    mine: new Map(),      // seatNo -> until (ISO string or '') : seats my token holds
    booked: new Set(),    // seats my token booked
    verified: new Set(),  // remembered holds confirmed by a reserve reply in this page
    pending: new Map(),   // request id -> {op, seats, quiet}
    busy: new Set(),      // seats with a request in flight
  };

  let nextId = 1;
  const newId = (p) => p + (nextId++);

  function mineKey(trip) { return 'seatcast.mine.' + trip; }
  function bookedKey(trip) { return 'seatcast.booked.' + trip; }

  function loadMine(trip) {
    state.mine = new Map(Object.entries(store.json(mineKey(trip), {}) || {}));
    state.booked = new Set(store.json(bookedKey(trip), []) || []);
  }

  function saveMine() {
    if (!state.tripId) return;
    store.set(mineKey(state.tripId), JSON.stringify(Object.fromEntries(state.mine)));
    store.set(bookedKey(state.tripId), JSON.stringify([...state.booked]));
  }

  /** What a seat looks like to me: available, held, mine or booked. */
  function viewStatus(seat) {
    if (seat.status === 'held' && state.mine.has(seat.seatNo)) return 'mine';
    return seat.status;
  }

  // ---------------------------------------------------------------- messages

  let messageTimer = null;
  function say(text, kind = 'info', sticky = false) {
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

  const REASONS = {
    seat_taken: (s) => `Sorry, ${seatList(s)} ${s.length > 1 ? 'were' : 'was'} just taken by someone else.`,
    hold_expired: (s) => `Your hold on ${seatList(s)} expired before it was booked. Pick the seat again if it is still free.`,
    not_held: (s) => `You no longer hold ${seatList(s) || 'those seats'}.`,
  };

  const ERRORS = {
    rate_limited: 'Slow down a little: too many requests in a short time.',
    unknown_trip: 'That trip does not exist (any more).',
    unknown_seat: 'That seat does not exist on this trip.',
    unavailable: 'The server is busy or restarting; try again in a moment.',
    too_large: 'That request was too large.',
  };

  // ---------------------------------------------------------------- connection

  const conn = {
    ws: null,
    attempts: 0,
    everLive: false,
    retryTimer: null,
    retryAt: 0,
    openTimer: null,
    waitTimer: null,
    state: 'connecting',
  };

  function setConn(s) {
    conn.state = s;
    const box = $('conn');
    box.dataset.state = s;
    document.body.dataset.conn = s;
    renderConnLabel();
    $('conn-retry').hidden = !(s === 'reconnecting' || s === 'offline');
    updateActions();
  }

  function renderConnLabel() {
    const left = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
    const labels = {
      connecting: 'Connecting…',
      live: 'Live',
      reconnecting: conn.ws ? 'Reconnecting…' : `Reconnecting in ${left}s…`,
      offline: conn.ws ? 'Offline · trying…' : `Offline · retry in ${left}s`,
    };
    const text = labels[conn.state] || conn.state;
    const label = $('conn-label');
    if (label.textContent !== text) label.textContent = text;
  }

  function isOpen() { return conn.ws && conn.ws.readyState === WebSocket.OPEN; }

  function send(msg) {
    if (!isOpen()) return false;
    conn.ws.send(JSON.stringify(msg));
    return true;
  }

  function connect() {
    clearTimeout(conn.retryTimer);
    conn.retryTimer = null;
    if (conn.ws) return;
    if (conn.state !== 'offline') setConn(conn.everLive ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(wsUrl('/ws'));
    } catch (e) {
      scheduleReconnect();
      return;
    }
    conn.ws = ws;
    renderConnLabel();
    // A handshake that hangs is as good as a failed one.
    conn.openTimer = setTimeout(() => { if (conn.ws === ws && ws.readyState !== WebSocket.OPEN) ws.close(); }, 10000);
    ws.onopen = () => {
      if (conn.ws !== ws) return;
      clearTimeout(conn.openTimer);
      if (state.tripId) subscribe(true);
      else goLive();
    };
    ws.onmessage = (ev) => {
      if (conn.ws !== ws) return;
      let m;
      try { m = JSON.parse(ev.data); } catch (_) { return; }
      if (m && typeof m.type === 'string') handle(m);
    };
    ws.onclose = (ev) => {
      if (conn.ws !== ws) return;
      clearTimeout(conn.openTimer);
      clearTimeout(conn.waitTimer);
      conn.ws = null;
      state.waiting = false;
      failPending();
      if (ev.code === 1008) say('The server refused this page\'s origin (close 1008).', 'error', true);
      scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  /** Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... capped at 20 s, each 50-100 % of that. */
  function scheduleReconnect() {
    conn.attempts += 1;
    const base = Math.min(20000, 500 * Math.pow(2, conn.attempts - 1));
    const delay = Math.round(base / 2 + Math.random() * base / 2);
    conn.retryAt = Date.now() + delay;
    setConn(navigator.onLine === false || conn.attempts > 5 ? 'offline' : 'reconnecting');
    conn.retryTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (conn.ws) return;
    conn.attempts = Math.min(conn.attempts, 2);
    connect();
  }

  function goLive() {
    conn.attempts = 0;
    conn.everLive = true;
    setConn('live');
  }

  /** Subscribe to the current trip; with `since` when a map is loaded, so the server can replay. */
  function subscribe(resume) {
    if (!state.tripId || !isOpen()) return;
    const msg = { type: 'subscribe', tripId: state.tripId, id: newId('s') };
    conn.subId = msg.id;
    if (resume && state.loaded && state.epoch != null) msg.since = { epoch: state.epoch, seq: state.seq };
    state.waiting = true;
    send(msg);
    clearTimeout(conn.waitTimer);
    const ws = conn.ws;
    // No snapshot and no `subscribed` in time: start over on a fresh connection.
    conn.waitTimer = setTimeout(() => { if (state.waiting && conn.ws === ws) ws.close(); }, 10000);
  }

  function failPending() {
    if (state.pending.size === 0) return;
    const lost = [...state.pending.values()].filter((p) => !p.quiet);
    state.pending.clear();
    state.busy.clear();
    if (lost.length) say('The connection dropped before the server answered; the map will catch up when it is back.', 'warn');
    renderAllSeats();
  }

  // ---------------------------------------------------------------- incoming

  function handle(m) {
    switch (m.type) {
      case 'snapshot': onSnapshot(m); break;
      case 'subscribed': onSubscribed(m); break;
      case 'seat_locked':
      case 'seat_released':
      case 'seat_booked': onEvent(m); break;
      case 'reserved':
      case 'confirmed':
      case 'released':
      case 'rejected':
      case 'error': onReply(m); break;
      default: break; // pong, unsubscribed, help, future types
    }
  }

  function onSnapshot(m) {
    if (m.tripId !== state.tripId) return;
    clearTimeout(conn.waitTimer);
    state.waiting = false;
    state.loaded = true;
    state.name = m.name || m.tripId;
    state.rows = m.rows | 0;
    state.cols = m.cols | 0;
    state.epoch = m.epoch;
    state.seq = m.seq;
    state.seats = new Map();
    for (const s of m.seats || []) {
      state.seats.set(s.seatNo, { seatNo: s.seatNo, row: s.row, col: s.col, status: s.status, until: s.until || null });
    }
    reconcileMine();
    buildGrid();
    renderAll();
    $('app').dataset.ready = 'true';
    goLive();
  }

  function onSubscribed(m) {
    if (m.tripId !== state.tripId) return;
    clearTimeout(conn.waitTimer);
    state.waiting = false;
    state.epoch = m.epoch;
    state.seq = m.seq; // the replayed events follow, from seq + 1
    goLive();
  }

  function onEvent(m) {
    if (m.tripId !== state.tripId || !state.loaded || state.waiting) return;
    if (m.seq <= state.seq) return; // already applied
    if (m.seq !== state.seq + 1) {
      // A gap: ask the server to replay from where the map is.
      subscribe(true);
      return;
    }
    state.seq = m.seq;
    const seat = state.seats.get(m.seatNo);
    if (!seat) { subscribe(false); return; }
    const wasMine = state.mine.has(m.seatNo);
    if (m.type === 'seat_locked') {
      seat.status = 'held';
      seat.until = m.until || null;
      // Someone else's lock on a seat I remember: my hold lapsed and was taken over.
      if (wasMine && !state.busy.has(m.seatNo)) {
        const mineUntil = state.mine.get(m.seatNo);
        if (mineUntil && m.until && mineUntil !== m.until) {
          state.mine.delete(m.seatNo);
          say(`Your hold on ${m.seatNo} lapsed and someone else took it.`, 'warn');
        }
      }
    } else if (m.type === 'seat_released') {
      seat.status = 'available';
      seat.until = null;
      if (wasMine) {
        state.mine.delete(m.seatNo);
        if (m.reason === 'expired') say(`Your hold on ${m.seatNo} expired and the seat is free again.`, 'warn');
      }
    } else if (m.type === 'seat_booked') {
      seat.status = 'booked';
      seat.until = null;
      if (wasMine) {
        state.mine.delete(m.seatNo);
        state.booked.add(m.seatNo);
      }
    }
    if (wasMine) saveMine();
    renderSeat(seat);
    renderCounts();
    renderMine();
  }

  function onReply(m) {
    const p = m.id ? state.pending.get(m.id) : null;
    if (!p) {
      if (m.type !== 'error') return;
      if (m.id && m.id === conn.subId) {
        // The subscription itself failed (unknown trip, too many subscriptions, ...).
        clearTimeout(conn.waitTimer);
        state.waiting = false;
        goLive();
        if (m.code === 'unknown_trip') {
          $('trip-name').textContent = 'Trip not found';
          $('trip-sub').textContent = `There is no trip "${state.tripId}". Choose another one above.`;
          $('seatmap').replaceChildren(el('p', 'placeholder', 'No such trip.'));
        }
      }
      say(ERRORS[m.code] ? `${ERRORS[m.code]} (${m.code})` : `Server error (${m.code}): ${m.message}`, 'error');
      return;
    }
    state.pending.delete(m.id);
    for (const s of p.seats) state.busy.delete(s);
    if (p.tripId !== state.tripId) return; // answer about a trip we left
    const seats = Array.isArray(m.seats) && m.seats.length ? m.seats : p.seats;
    switch (m.type) {
      case 'reserved': {
        for (const s of m.seats || []) {
          state.mine.set(s, m.until || '');
          state.verified.add(s);
          const seat = state.seats.get(s);
          // The reply may beat its seat_locked event: show the hold now.
          if (seat && seat.status === 'available') { seat.status = 'held'; seat.until = m.until || null; }
        }
        if (!p.quiet) {
          learnHoldLength(untilMs(m.until), p.sentAt);
          say(`Holding ${seatList(m.seats)} for you. Book it before the timer runs out.`, 'ok');
        }
        break;
      }
      case 'confirmed': {
        for (const s of m.seats || []) {
          state.mine.delete(s);
          state.booked.add(s);
          const seat = state.seats.get(s);
          if (seat) { seat.status = 'booked'; seat.until = null; }
        }
        if (!p.quiet) say(`Booked ${seatList(m.seats)}. Enjoy the trip!`, 'ok');
        break;
      }
      case 'released': {
        for (const s of p.seats.concat(m.seats || [])) {
          state.mine.delete(s);
          const seat = state.seats.get(s);
          if (seat && seat.status === 'held' && (m.seats || []).includes(s)) { seat.status = 'available'; seat.until = null; }
        }
        if (!p.quiet) say(m.seats && m.seats.length ? `Released ${seatList(m.seats)}.` : 'Nothing to release.', 'info');
        break;
      }
      case 'rejected': {
        if (p.op === 'reserve') {
          // Only a remembered hold (after a reload) can be mine here; it is not.
          for (const s of p.seats) if (!state.verified.has(s)) state.mine.delete(s);
        } else {
          for (const s of seats) state.mine.delete(s);
          if (p.op === 'confirm-check') for (const s of p.seats) state.booked.delete(s);
        }
        if (!p.quiet) {
          const f = REASONS[m.reason];
          say(f ? f(seats) : `Rejected: ${m.reason}.`, m.reason === 'seat_taken' ? 'warn' : 'error');
        } else if (p.op === 'reserve' && m.reason === 'seat_taken') {
          say(`Your earlier hold on ${seatList(p.seats)} is gone; someone else holds it now.`, 'warn');
        }
        break;
      }
      case 'error': {
        say(ERRORS[m.code] ? `${ERRORS[m.code]} (${m.code})` : `Server error (${m.code}): ${m.message}`, 'error');
        break;
      }
    }
    saveMine();
    for (const s of p.seats.concat(m.seats || [])) {
      const seat = state.seats.get(s);
      if (seat) renderSeat(seat);
    }
    renderCounts();
    renderMine();
  }

  /** After a snapshot: keep what is still mine, ask the server to confirm remembered holds. */
  function reconcileMine() {
    let changed = false;
    const lapsed = [];
    for (const [s, until] of [...state.mine]) {
      const seat = state.seats.get(s);
      if (!seat) { state.mine.delete(s); changed = true; continue; }
      if (seat.status === 'held') {
        if (until && seat.until && until !== seat.until && state.verified.has(s)) {
          state.mine.delete(s); changed = true; lapsed.push(s); continue;
        }
        if (!state.verified.has(s) && !state.busy.has(s)) {
          // Idempotent: re-reserving a seat this token holds answers `reserved` and changes nothing.
          request('reserve', [s], { quiet: true });
        }
      } else if (seat.status === 'booked') {
        // Booked while we were away: by me (a lost confirm reply) or not? Confirm is idempotent too.
        state.mine.delete(s); changed = true;
        state.booked.add(s);
        request('confirm-check', [s], { quiet: true });
      } else {
        state.mine.delete(s); changed = true; lapsed.push(s);
      }
    }
    for (const s of [...state.booked]) {
      const seat = state.seats.get(s);
      if (!seat || seat.status !== 'booked') { state.booked.delete(s); changed = true; }
    }
    if (lapsed.length) say(`Your hold on ${seatList(lapsed)} expired while you were away.`, 'warn');
    if (changed) saveMine();
  }

  // ---------------------------------------------------------------- outgoing

  function request(op, seats, opts = {}) {
    if (!state.tripId) return false;
    const id = newId(op === 'reserve' ? 'r' : op === 'release' ? 'x' : 'c');
    const type = op === 'confirm-check' ? 'confirm' : op;
    const msg = { type, tripId: state.tripId, seats, hold: HOLD, id };
    if (!send(msg)) {
      if (!opts.quiet) say('Not connected right now; try again when the status says Live.', 'warn');
      return false;
    }
    state.pending.set(id, { op, seats, quiet: !!opts.quiet, tripId: state.tripId, sentAt: Date.now() });
    for (const s of seats) state.busy.add(s);
    for (const s of seats) { const seat = state.seats.get(s); if (seat) renderSeat(seat); }
    return true;
  }

  function toggleSeat(seatNo) {
    const seat = state.seats.get(seatNo);
    if (!seat || state.busy.has(seatNo)) return;
    const v = viewStatus(seat);
    if (v === 'available') request('reserve', [seatNo]);
    else if (v === 'mine') request('release', [seatNo]);
    else if (v === 'held') say(`Seat ${seatNo} is held by someone else right now. It frees up if they let it go or their hold runs out.`, 'info');
    else if (v === 'booked') say(state.booked.has(seatNo) ? `Seat ${seatNo} is booked for you.` : `Seat ${seatNo} is already booked.`, 'info');
  }

  function mySeatsHeld() {
    return [...state.mine.keys()].filter((s) => { const x = state.seats.get(s); return x && x.status === 'held'; }).sort(seatOrder);
  }

  function seatOrder(a, b) {
    const x = state.seats.get(a), y = state.seats.get(b);
    if (!x || !y) return a < b ? -1 : 1;
    return x.row - y.row || x.col - y.col;
  }

  function bookMine() {
    const seats = mySeatsHeld();
    for (let i = 0; i < seats.length; i += 10) request('confirm', seats.slice(i, i + 10));
  }

  function releaseMine() {
    const seats = mySeatsHeld();
    for (let i = 0; i < seats.length; i += 10) request('release', seats.slice(i, i + 10));
  }

  // ---------------------------------------------------------------- rendering

  const seatEls = new Map(); // seatNo -> button

  function columnLabel(col) {
    for (const s of state.seats.values()) {
      if (s.col === col) return s.seatNo.replace(/^\d+-?/, '') || String(col);
    }
    return String(col);
  }

  /** The column after which the aisle runs: between the two halves (after B of A-D). */
  function aisleAfter(cols) { return cols >= 3 ? Math.floor(cols / 2) : 0; }

  function buildGrid() {
    const key = state.tripId + '/' + state.rows + 'x' + state.cols + '/' + state.seats.size;
    if (key === state.layoutKey && seatEls.size) return;
    state.layoutKey = key;
    const map = $('seatmap');
    const hadFocus = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.seat : null;
    map.replaceChildren();
    seatEls.clear();
    const cols = state.cols, rows = state.rows, aisle = aisleAfter(cols);
    const colOf = (c) => 1 + c + (aisle && c > aisle ? 1 : 0);
    const tpl = ['var(--row-label)'];
    for (let c = 1; c <= cols; c++) {
      tpl.push('var(--seat)');
      if (c === aisle) tpl.push('var(--aisle)');
    }
    map.style.gridTemplateColumns = tpl.join(' ');
    map.style.setProperty('--cols', String(cols));
    map.classList.toggle('wide', cols > 6);

    // Column letters on top, row numbers on the left, the aisle as a quiet strip.
    for (let c = 1; c <= cols; c++) {
      const h = el('span', 'col-label', columnLabel(c));
      h.setAttribute('aria-hidden', 'true');
      h.style.gridRow = '1';
      h.style.gridColumn = String(colOf(c));
      map.appendChild(h);
    }
    if (aisle) {
      const a = el('span', 'aisle');
      a.setAttribute('aria-hidden', 'true');
      a.style.gridRow = '1 / span ' + (rows + 1);
      a.style.gridColumn = String(aisle + 2);
      map.appendChild(a);
    }
    for (let r = 1; r <= rows; r++) {
      const l = el('span', 'row-label', String(r));
      l.setAttribute('aria-hidden', 'true');
      l.style.gridRow = String(r + 1);
      l.style.gridColumn = '1';
      map.appendChild(l);
    }
    const sorted = [...state.seats.values()].sort((x, y) => x.row - y.row || x.col - y.col);
    for (const s of sorted) {
      const b = el('button', 'seat');
      b.type = 'button';
      b.dataset.seat = s.seatNo;
      b.dataset.row = String(s.row);
      b.dataset.col = String(s.col);
      b.style.gridRow = String(s.row + 1);
      b.style.gridColumn = String(colOf(s.col));
      b.appendChild(el('span', 'seat-no', s.seatNo));
      const tag = el('span', 'seat-tag');
      tag.setAttribute('aria-hidden', 'true');
      b.appendChild(tag);
      map.appendChild(b);
      seatEls.set(s.seatNo, b);
    }
    if (hadFocus && seatEls.has(hadFocus)) seatEls.get(hadFocus).focus();
    buildRaceSeats();
  }

  const TAGS = { available: '', held: 'held', booked: '✕' };

  function renderSeat(seat) {
    const b = seatEls.get(seat.seatNo);
    if (!b) return;
    const v = viewStatus(seat);
    const busy = state.busy.has(seat.seatNo);
    const mineBooked = v === 'booked' && state.booked.has(seat.seatNo);
    if (b.dataset.status !== v) b.dataset.status = v;
    b.classList.toggle('busy', busy);
    b.classList.toggle('yours', mineBooked);
    b.setAttribute('aria-pressed', v === 'mine' ? 'true' : 'false');
    b.setAttribute('aria-busy', busy ? 'true' : 'false');
    let label;
    if (v === 'mine') label = `Seat ${seat.seatNo}, held by you`;
    else if (mineBooked) label = `Seat ${seat.seatNo}, booked by you`;
    else label = `Seat ${seat.seatNo}, ${v}`;
    if (b.getAttribute('aria-label') !== label) b.setAttribute('aria-label', label);
    const tag = b.lastChild;
    const text = v === 'mine' ? countdownText(seat.seatNo) : (mineBooked ? '✓' : TAGS[v]);
    if (tag.textContent !== text) tag.textContent = text;
    b.title = label + (v === 'available' ? ': click to hold' : v === 'mine' ? ': click to let go' : '');
  }

  function renderAllSeats() { for (const s of state.seats.values()) renderSeat(s); }

  function countdownText(seatNo) {
    const seat = state.seats.get(seatNo);
    const u = untilMs(state.mine.get(seatNo)) || untilMs(seat && seat.until);
    return u ? fmtLeft(u - Date.now()) : '…';
  }

  function renderCounts() {
    let a = 0, h = 0, k = 0;
    for (const s of state.seats.values()) {
      if (s.status === 'available') a++;
      else if (s.status === 'held') h++;
      else if (s.status === 'booked') k++;
    }
    const put = (id, n) => { const e = $(id); const t = state.loaded ? String(n) : '–'; if (e.textContent !== t) e.textContent = t; e.dataset.count = t; };
    put('count-available', a);
    // Keep the picker's "free" figure for this trip current too.
    const t = state.loaded && state.trips.find((x) => x.tripId === state.tripId);
    if (t && t.available !== a) {
      t.available = a;
      const o = [...$('trip-select').options].find((x) => x.value === state.tripId);
      if (o) o.textContent = tripOptionText(t);
    }
    put('count-held', h);
    put('count-booked', k);
  }

  function renderHead() {
    const t = state.trips.find((x) => x.tripId === state.tripId);
    const name = state.loaded ? state.name : (t ? t.name : state.tripId || 'Choose a trip');
    $('trip-name').textContent = name;
    document.title = (state.tripId ? name + ' · ' : '') + 'seatcast';
    $('trip-sub').textContent = state.loaded
      ? `Trip ${state.tripId} · ${state.seats.size} seats in ${state.rows} rows · updates live`
      : (state.tripId ? `Trip ${state.tripId} · loading seats…` : 'Seats update live for everyone watching this trip.');
  }

  function renderMine() {
    const list = $('my-seats');
    const held = mySeatsHeld();
    const booked = [...state.booked].filter((s) => state.seats.has(s)).sort(seatOrder);
    list.replaceChildren();
    for (const s of held) {
      const li = el('li', 'my-seat');
      li.dataset.seat = s;
      li.dataset.status = 'mine';
      li.appendChild(el('span', 'my-seat-no', s));
      const timer = el('span', 'my-seat-timer', countdownText(s));
      timer.dataset.timer = s;
      li.appendChild(el('span', 'my-seat-what', 'held ·'));
      li.appendChild(timer);
      li.appendChild(el('span', 'my-seat-left', 'left'));
      list.appendChild(li);
    }
    for (const s of booked) {
      const li = el('li', 'my-seat');
      li.dataset.seat = s;
      li.dataset.status = 'booked';
      li.appendChild(el('span', 'my-seat-no', s));
      li.appendChild(el('span', 'my-seat-what', 'booked ✓'));
      list.appendChild(li);
    }
    $('no-seats').hidden = held.length + booked.length > 0;
    updateActions();
    tickUrgency();
  }

  function updateActions() {
    const live = conn.state === 'live' && state.loaded;
    const n = state.loaded ? mySeatsHeld().length : 0;
    $('book').disabled = !(live && n > 0);
    $('release').disabled = !(live && n > 0);
    $('book').textContent = n > 1 ? `Book ${n} seats` : 'Book';
    $('release').textContent = n > 1 ? `Release ${n}` : 'Release';
    $('race-run').disabled = !(live && !race.running && $('race-seat').options.length > 0);
  }

  /** A new hold's `until` minus the moment its request left: the server's hold TTL (plus the
   *  request's own trip to the server, well under a second), on the clock the countdowns use. The
   *  protocol does not announce the TTL, so the legend shows none until the first hold. */
  function learnHoldLength(until, sentAt) {
    if (!until || !sentAt) return;
    const s = Math.floor((until - sentAt) / 1000);
    if (s <= 0) return;
    holdSeconds = s;
    store.set('seatcast.holdSeconds', String(s));
    renderLegend();
  }

  function renderLegend() {
    const sample = $('legend-mine');
    const text = holdSeconds ? fmtLeft(holdSeconds * 1000) : 'm:ss';
    const tag = sample.querySelector('.seat-tag');
    if (tag.textContent !== text) tag.textContent = text;
    if (holdSeconds) sample.dataset.holdSeconds = String(holdSeconds);
    else delete sample.dataset.holdSeconds;
    $('legend-hold').textContent = holdSeconds ? `(holds last ${text})` : 'on your hold';
  }

  function renderAll() {
    renderHead();
    renderAllSeats();
    renderCounts();
    renderMine();
  }

  /** Once a second: the countdowns. */
  function tick() {
    for (const s of state.mine.keys()) {
      const seat = state.seats.get(s);
      if (seat && seat.status === 'held') renderSeat(seat);
    }
    for (const t of document.querySelectorAll('[data-timer]')) {
      const text = countdownText(t.dataset.timer);
      if (t.textContent !== text) t.textContent = text;
    }
    tickUrgency();
    if (conn.state === 'reconnecting' || conn.state === 'offline') renderConnLabel();
  }

  function tickUrgency() {
    for (const s of state.mine.keys()) {
      const b = seatEls.get(s);
      const u = untilMs(state.mine.get(s));
      if (b) b.classList.toggle('urgent', !!u && u - Date.now() < 20000);
    }
  }

  // ---------------------------------------------------------------- keyboard

  function onSeatKey(e) {
    const b = e.target.closest('.seat');
    if (!b || !b.dataset.seat) return;
    const r = +b.dataset.row, c = +b.dataset.col;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const mv = moves[e.key];
    if (!mv) {
      if (e.key === 'Home' || e.key === 'End') {
        const all = [...seatEls.values()];
        const t = e.key === 'Home' ? all[0] : all[all.length - 1];
        if (t) { e.preventDefault(); t.focus(); }
      }
      return;
    }
    e.preventDefault();
    // Nearest seat in that direction (layouts may have gaps).
    for (let i = 1; i <= Math.max(state.rows, state.cols); i++) {
      const rr = r + mv[0] * i, cc = c + mv[1] * i;
      if (rr < 1 || cc < 1 || rr > state.rows || cc > state.cols) break;
      const target = [...seatEls.values()].find((x) => +x.dataset.row === rr && +x.dataset.col === cc);
      if (target) { target.focus(); return; }
    }
  }

  // ---------------------------------------------------------------- trips

  async function loadTrips() {
    try {
      const r = await fetch('/api/trips', { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const body = await r.json();
      state.trips = Array.isArray(body.trips) ? body.trips : [];
    } catch (e) {
      if (!state.trips.length) say('Could not load the trip list (' + e.message + '). Retrying…', 'warn');
      setTimeout(loadTrips, 3000);
      return;
    }
    renderTripSelect();
    if (!state.tripId) {
      const last = store.get('seatcast.trip');
      const pick = (state.trips.find((t) => t.tripId === last) || state.trips.find((t) => t.tripId === 'demo') || state.trips[0] || {}).tripId;
      if (pick) switchTrip(pick);
      else {
        $('trip-name').textContent = 'No trips yet';
        $('trip-sub').textContent = 'Create one with: seatcast trip create ID --name NAME --rows 12 --cols 4';
      }
    }
  }

  function renderTripSelect() {
    const sel = $('trip-select');
    sel.replaceChildren();
    const list = state.trips.slice();
    if (state.tripId && !list.some((t) => t.tripId === state.tripId)) list.unshift({ tripId: state.tripId, name: state.name || state.tripId });
    if (!list.length) sel.appendChild(el('option', null, 'No trips'));
    for (const t of list) {
      const o = el('option', null, tripOptionText(t));
      o.value = t.tripId;
      sel.appendChild(o);
    }
    sel.disabled = !list.length;
    if (state.tripId) sel.value = state.tripId;
  }

  function tripOptionText(t) {
    let text = t.name && t.name !== t.tripId ? `${t.name} (${t.tripId})` : t.tripId;
    if (typeof t.available === 'number' && typeof t.seats === 'number') text += ` · ${t.available}/${t.seats} free`;
    return text;
  }

  function switchTrip(id) {
    if (!id || id === state.tripId) return;
    if (state.tripId && isOpen()) send({ type: 'unsubscribe', tripId: state.tripId });
    state.tripId = id;
    state.loaded = false;
    state.epoch = null;
    state.seq = 0;
    state.seats = new Map();
    state.layoutKey = '';
    state.verified = new Set();
    seatEls.clear();
    loadMine(id);
    store.set('seatcast.trip', id);
    const url = new URL(location.href);
    url.searchParams.set('trip', id);
    history.replaceState(null, '', url);
    $('app').dataset.ready = 'false';
    $('app').dataset.trip = id;
    const map = $('seatmap');
    map.replaceChildren(el('p', 'placeholder', 'Loading seats…'));
    $('race-seat').replaceChildren();
    resetRace();
    renderTripSelect();
    renderAll();
    if (isOpen()) subscribe(false);
    else connect();
  }

  // ---------------------------------------------------------------- race

  const race = { running: false };

  function buildRaceSeats() {
    const sel = $('race-seat');
    const prev = sel.value;
    sel.replaceChildren();
    const sorted = [...state.seats.values()].sort((x, y) => x.row - y.row || x.col - y.col);
    for (const s of sorted) {
      const o = el('option', null, s.seatNo);
      o.value = s.seatNo;
      sel.appendChild(o);
    }
    sel.disabled = sorted.length === 0;
    if (prev && state.seats.has(prev)) sel.value = prev;
    else {
      // Default: an available seat near the back, out of everyone's way.
      const free = sorted.filter((s) => s.status === 'available');
      if (free.length) sel.value = free[free.length - 1].seatNo;
    }
    updateActions();
  }

  function resetRace() {
    const box = $('race-result');
    box.dataset.state = 'idle';
    delete box.dataset.winners;
    delete box.dataset.rejections;
    delete box.dataset.errors;
    $('race-summary').textContent = '';
    $('race-dots').replaceChildren();
  }

  /** One racer: its own connection and its own random hold token. Resolves once open (or failed). */
  function openRacer(i) {
    return new Promise((resolve) => {
      const r = { i, token: randomToken(32), ws: null, reply: null, ms: 0, waiters: new Map() };
      let settled = false;
      const settle = () => { if (!settled) { settled = true; resolve(r); } };
      let ws;
      try { ws = new WebSocket(wsUrl('/ws')); } catch (_) { settle(); return; }
      r.ws = ws;
      ws.onopen = settle;
      ws.onmessage = (ev) => {
        let m;
        try { m = JSON.parse(ev.data); } catch (_) { return; }
        const w = m && m.id ? r.waiters.get(m.id) : null;
        if (w) { r.waiters.delete(m.id); w(m); }
      };
      ws.onclose = () => {
        for (const w of r.waiters.values()) w({ type: 'error', code: 'closed' });
        r.waiters.clear();
        settle();
      };
      setTimeout(() => { if (!settled) { try { ws.close(); } catch (_) { /* ignore */ } settle(); } }, 10000);
    });
  }

  /** Sends `msg` on the racer's connection and resolves with the reply carrying its id. */
  function ask(r, msg, ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => { r.waiters.delete(msg.id); resolve({ type: 'error', code: 'timeout' }); }, ms);
      r.waiters.set(msg.id, (m) => { clearTimeout(t); resolve(m); });
      try { r.ws.send(JSON.stringify(msg)); } catch (_) { r.waiters.delete(msg.id); clearTimeout(t); resolve({ type: 'error', code: 'send' }); }
    });
  }

  async function runRace(ev) {
    ev.preventDefault();
    if (race.running || !state.loaded) return;
    const n = Math.max(2, Math.min(200, parseInt($('race-n').value, 10) || 20));
    $('race-n').value = String(n);
    const seatNo = $('race-seat').value;
    const tripId = state.tripId;
    if (!seatNo) return;
    race.running = true;
    updateActions();
    const box = $('race-result');
    resetRace();
    box.dataset.state = 'running';
    box.dataset.seat = seatNo;
    box.dataset.n = String(n);
    const before = viewStatus(state.seats.get(seatNo));
    $('race-summary').textContent = `Opening ${n} connections…`;
    const dots = $('race-dots');
    const dotEls = [];
    for (let i = 0; i < n; i++) { const d = el('li', 'dot'); d.dataset.result = 'waiting'; dots.appendChild(d); dotEls.push(d); }

    const racers = await Promise.all(Array.from({ length: n }, (_, i) => openRacer(i)));
    const ready = racers.filter((r) => r.ws && r.ws.readyState === WebSocket.OPEN);
    $('race-summary').textContent = `${ready.length} connections open. Go!`;
    // Every reserve leaves in the same task: as simultaneous as a page can make them.
    const t0 = performance.now();
    const answers = ready.map((r) => ask(r, { type: 'reserve', tripId, seats: [seatNo], hold: r.token, id: 'race' + r.i }, 10000)
      .then((m) => { r.reply = m; r.ms = performance.now() - t0; }));
    await Promise.all(answers);

    let winners = 0, rejections = 0, errors = 0;
    const reasons = {};
    for (const r of racers) {
      const m = r.reply || { type: 'error', code: 'no reply' };
      const d = dotEls[r.i];
      if (m.type === 'reserved') { winners++; d.dataset.result = 'won'; d.textContent = '★'; }
      else if (m.type === 'rejected') { rejections++; reasons[m.reason] = (reasons[m.reason] || 0) + 1; d.dataset.result = 'lost'; d.textContent = '✕'; }
      else { errors++; d.dataset.result = 'error'; d.textContent = '!'; }
      d.title = `Connection ${r.i + 1}: ${m.type}${m.reason ? ' (' + m.reason + ')' : ''}${m.code ? ' (' + m.code + ')' : ''}${r.ms ? ', ' + Math.round(r.ms) + ' ms' : ''}`;
    }

    let releasedNote = '';
    const winner = racers.find((r) => r.reply && r.reply.type === 'reserved');
    if (winner && $('race-release').checked && winner.ws.readyState === WebSocket.OPEN) {
      const m = await ask(winner, { type: 'release', tripId, seats: [seatNo], hold: winner.token, id: 'race-release' }, 5000);
      releasedNote = m.type === 'released' ? ' The winner then released the seat.' : ' (Releasing the winner\'s hold failed.)';
    }
    for (const r of racers) { try { r.ws && r.ws.close(1000); } catch (_) { /* already closed */ } }

    const reasonText = Object.entries(reasons).map(([k, v]) => `${v} ${k}`).join(', ');
    box.dataset.winners = String(winners);
    box.dataset.rejections = String(rejections);
    box.dataset.errors = String(errors);
    box.dataset.verdict = winners === 1 && rejections === n - 1 ? 'pass' : winners > 1 ? 'double' : 'other';
    let text = `Seat ${seatNo}: ${winners} winner${winners === 1 ? '' : 's'}, ${rejections} rejection${rejections === 1 ? '' : 's'}`;
    if (reasonText) text += ` (${reasonText})`;
    if (errors) text += `, ${errors} error${errors === 1 ? '' : 's'}`;
    text += '.';
    if (winners === 1) text += ' No double booking.' + releasedNote;
    else if (winners > 1) text += ' DOUBLE BOOKING!';
    else if (before !== 'available') text += ` Nobody could win: the seat was ${before === 'mine' ? 'held by you' : before} already.`;
    $('race-summary').textContent = text;
    box.dataset.state = 'done';
    race.running = false;
    updateActions();
  }

  // ---------------------------------------------------------------- start

  function start() {
    $('ws-url').textContent = wsUrl('/ws');
    renderLegend();
    const map = $('seatmap');
    map.addEventListener('click', (e) => {
      const b = e.target.closest('.seat');
      if (b && b.dataset.seat) toggleSeat(b.dataset.seat);
    });
    map.addEventListener('keydown', onSeatKey);
    $('trip-select').addEventListener('change', (e) => switchTrip(e.target.value));
    $('book').addEventListener('click', bookMine);
    $('release').addEventListener('click', releaseMine);
    $('race-form').addEventListener('submit', runRace);
    $('conn-retry').addEventListener('click', reconnectNow);
    window.addEventListener('online', reconnectNow);
    window.addEventListener('offline', () => { if (!isOpen()) setConn('offline'); });
    document.addEventListener('visibilitychange', () => { if (!document.hidden && !conn.ws) reconnectNow(); });
    setInterval(tick, 1000);

    const fromUrl = new URLSearchParams(location.search).get('trip');
    if (fromUrl) switchTrip(fromUrl); // no need to wait for the list
    else connect();
    loadTrips();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
