// trip-map.js: one trip's seats at a stream position (epoch, seq), as docs/PROTOCOL.md
// "Semantics" defines them: a snapshot replaces the map, events apply in `seq` order, an event
// at or below the position is stale, one past position + 1 is a gap. Pure: no I/O, no DOM.
// Used by seatcast-client.js; the counterpart of the server's TripMap.
//
// Both snapshot forms load the same state: the full one (`seats: [...]`) and the compact one
// (`compact: true`, `status: "aahb..."`, `until: {"7": "..."}`, protocol 1.1 "Compact
// snapshot"). The map is stored compactly, so a 50,000-seat venue costs little: one byte of
// status per seat (a Uint8Array indexed by the seat's row-major index), a Map of the held seats'
// `until`, and names derived from row and column (`12C` when cols <= 26, else `12-40`), parsed
// back to an index in O(1) instead of being kept per seat. A full snapshot that is not such a
// grid (seats missing, other names) is kept as a list with an explicit name index instead.
// Seat objects ({seatNo, row, col, status, until}) are made on demand, never stored.

/** The seat status each event type leaves behind. */
const EVENT_STATUS = Object.freeze({ seat_locked: 'held', seat_released: 'available', seat_booked: 'booked' });
/** The seat status a successful reply leaves behind (until the events say more). */
const REPLY_STATUS = Object.freeze({ reserved: 'held', confirmed: 'booked', released: 'available' });

/** Status codes as stored (and as statusCodeAt answers): index into STATUSES. */
export const AVAILABLE = 0, HELD = 1, BOOKED = 2;
export const STATUSES = Object.freeze(['available', 'held', 'booked']);
const CODE = Object.freeze({ available: AVAILABLE, held: HELD, booked: BOOKED });
/** The compact snapshot's characters, by char code: a, h, b. */
const CHAR_CODE = new Int8Array(128).fill(-1);
CHAR_CODE[97] = AVAILABLE; CHAR_CODE[104] = HELD; CHAR_CODE[98] = BOOKED;

export const isEvent = (type) => Object.hasOwn(EVENT_STATUS, type);

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** What a column's seats carry after the row: "C" of "12C" (cols <= 26), "40" of "12-40". */
export function columnLabel(col, cols) { return cols <= 26 ? LETTERS[col - 1] : String(col); }

/** The seat name at row, column (1-based) of a trip `cols` wide (docs/PROTOCOL.md, seatNo). */
export function seatName(row, col, cols) { return cols <= 26 ? row + LETTERS[col - 1] : row + '-' + col; }

/** The row-major index (0-based) of seat `name` in a rows x cols grid, or -1. Rejects names
 *  the server would not make (leading zeros, a letter past `cols`, the other form). */
export function seatIndex(name, rows, cols) {
  if (typeof name !== 'string') return -1;
  let row, col;
  if (cols <= 26) {
    const m = /^([1-9][0-9]{0,5})([A-Z])$/.exec(name);
    if (!m) return -1;
    row = +m[1];
    col = m[2].charCodeAt(0) - 64;
  } else {
    const m = /^([1-9][0-9]{0,5})-([1-9][0-9]{0,5})$/.exec(name);
    if (!m) return -1;
    row = +m[1];
    col = +m[2];
  }
  if (row > rows || col > cols) return -1;
  return (row - 1) * cols + (col - 1);
}

function seatRecord(seatNo, row, col, status, until) {
  return Object.freeze({ seatNo, row, col, status, until: status === 'held' && until ? until : null });
}

const positiveInt = (n) => Number.isInteger(n) && n > 0;

/** Why a snapshot cannot be loaded, or null when it can. */
export function snapshotProblem(m) {
  if (!m || typeof m !== 'object') return 'not an object';
  if (typeof m.seq !== 'number' || !Number.isInteger(m.seq) || m.seq < 0) return 'no seq';
  if (m.compact === true) {
    if (!positiveInt(m.rows) || !positiveInt(m.cols)) return 'compact: rows and cols must be positive integers';
    if (typeof m.status !== 'string') return 'compact: no status string';
    if (m.status.length !== m.rows * m.cols) return `compact: status has ${m.status.length} characters for ${m.rows} x ${m.cols} seats`;
    if (m.until != null && (typeof m.until !== 'object' || Array.isArray(m.until))) return 'compact: until is not an object';
    return null; // the characters and the until keys are checked while loading
  }
  if (!Array.isArray(m.seats)) return 'no seats';
  return null;
}

/** Storage of one loaded snapshot (replaced whole by the next one). */
class Layout {
  constructor(rows, cols, size) {
    this.rows = rows;
    this.cols = cols;
    this.size = size;
    this.status = new Uint8Array(size); // status code by seat index
    this.until = new Map();             // seat index -> until, for held seats that have one
    this.counts = [0, 0, 0];            // seats per status code
    // A list layout (a full snapshot that is no rows x cols grid) keeps names and positions.
    this.names = null;                  // seat index -> seatNo
    this.rowOf = null;
    this.colOf = null;
    this.index = null;                  // seatNo -> seat index
  }

  get grid() { return this.names === null; }
  indexOf(no) {
    if (this.names === null) return seatIndex(no, this.rows, this.cols);
    const i = this.index.get(no);
    return i === undefined ? -1 : i;
  }
  nameAt(i) { return this.names === null ? seatName(Math.floor(i / this.cols) + 1, i % this.cols + 1, this.cols) : this.names[i]; }
  rowAt(i) { return this.names === null ? Math.floor(i / this.cols) + 1 : this.rowOf[i]; }
  colAt(i) { return this.names === null ? i % this.cols + 1 : this.colOf[i]; }
  set(i, code, until) {
    this.counts[this.status[i]]--;
    this.counts[code]++;
    this.status[i] = code;
    if (code === HELD && until) this.until.set(i, until);
    else this.until.delete(i);
  }
  record(i) {
    const code = this.status[i];
    return seatRecord(this.nameAt(i), this.rowAt(i), this.colAt(i), STATUSES[code], this.until.get(i));
  }
}

/** A compact snapshot as a grid layout; throws a string saying what is wrong. */
function fromCompact(m) {
  const { rows, cols } = m;
  const n = rows * cols;
  const L = new Layout(rows, cols, n);
  const s = m.status;
  const st = L.status;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const code = c < 128 ? CHAR_CODE[c] : -1;
    if (code < 0) throw `compact: bad status character ${JSON.stringify(s[i])} at ${i}`;
    st[i] = code;
  }
  for (const [k, v] of Object.entries(m.until || {})) {
    if (!/^(0|[1-9][0-9]*)$/.test(k) || +k >= n) throw `compact: until key ${JSON.stringify(k)} is no seat index`;
    if (typeof v !== 'string') throw `compact: until of seat ${k} is not a string`;
    if (st[+k] !== HELD) throw `compact: until given for seat ${k}, which is not held`;
    if (v) L.until.set(+k, v);
  }
  countAll(L);
  return L;
}

/** A full snapshot: a grid layout when its seats are exactly the rows x cols grid with the
 *  names the protocol gives them (any order), else a list layout in the snapshot's order.
 *  Throws a string for an unknown status. */
function fromFull(m) {
  const rows = m.rows, cols = m.cols;
  const seats = m.seats.filter((x) => x && typeof x === 'object' && typeof x.seatNo === 'string');
  const codeOf = (x) => {
    const code = CODE[x.status];
    if (code === undefined) throw `seat ${x.seatNo}: unknown status ${JSON.stringify(x.status)}`;
    return code;
  };
  if (positiveInt(rows) && positiveInt(cols) && seats.length === rows * cols) {
    const L = new Layout(rows, cols, seats.length);
    const seen = new Uint8Array(seats.length);
    let ok = true;
    for (const x of seats) {
      const i = seatIndex(x.seatNo, rows, cols);
      if (i < 0 || seen[i] || x.row !== Math.floor(i / cols) + 1 || x.col !== i % cols + 1) { ok = false; break; }
      seen[i] = 1;
      L.status[i] = codeOf(x);
      if (L.status[i] === HELD && typeof x.until === 'string' && x.until) L.until.set(i, x.until);
    }
    if (ok) { countAll(L); return L; }
  }
  // Not a grid: keep the seats as listed (a later one of the same name replaces an earlier one).
  const index = new Map();
  const names = [], rowOf = [], colOf = [], codes = [], untils = [];
  for (const x of seats) {
    let i = index.get(x.seatNo);
    if (i === undefined) { i = names.length; index.set(x.seatNo, i); names.push(x.seatNo); }
    rowOf[i] = x.row;
    colOf[i] = x.col;
    codes[i] = codeOf(x);
    untils[i] = x.until;
  }
  const L = new Layout(rows | 0, cols | 0, names.length);
  L.names = names; L.rowOf = rowOf; L.colOf = colOf; L.index = index;
  for (let i = 0; i < names.length; i++) {
    L.status[i] = codes[i];
    if (codes[i] === HELD && typeof untils[i] === 'string' && untils[i]) L.until.set(i, untils[i]);
  }
  countAll(L);
  return L;
}

function countAll(L) {
  const c = [0, 0, 0];
  const st = L.status;
  for (let i = 0; i < st.length; i++) c[st[i]]++;
  L.counts = c;
}

export class TripMap {
  #tripId;
  #loaded = false;
  #name = '';
  #epoch = null;
  #seq = 0;
  #L = new Layout(0, 0, 0);
  #touched = new Map(); // seat index -> seq of the last event that changed it since the snapshot
  #baseSeq = 0;         // seq of that snapshot

  constructor(tripId) {
    this.#tripId = tripId;
    const map = this;
    const inRange = (i) => Number.isInteger(i) && i >= 0 && i < map.#L.size;
    // The read-only face handed to listeners: live getters, no setters.
    this.view = Object.freeze({
      get tripId() { return map.#tripId; },
      get loaded() { return map.#loaded; },
      get name() { return map.#name; },
      get rows() { return map.#L.rows; },
      get cols() { return map.#L.cols; },
      get epoch() { return map.#epoch; },
      get seq() { return map.#seq; },
      get size() { return map.#L.size; },
      /** True when seat i is at row floor(i / cols) + 1, column i % cols + 1 with the
       *  protocol's name (every snapshot of a rows x cols trip). */
      get grid() { return map.#L.grid; },
      seat(seatNo) { const i = map.#L.indexOf(seatNo); return i < 0 ? null : map.#L.record(i); },
      /** Every seat, as fresh frozen objects (O(size): for small maps and tests). */
      *seats() { const L = map.#L; for (let i = 0; i < L.size; i++) yield L.record(i); },
      /** {available, held, booked}, kept up to date (O(1)). */
      counts() { const c = map.#L.counts; return { available: c[AVAILABLE], held: c[HELD], booked: c[BOOKED] }; },
      indexOf(seatNo) { return map.#L.indexOf(seatNo); },
      seatAt(i) { return inRange(i) ? map.#L.record(i) : null; },
      nameAt(i) { return inRange(i) ? map.#L.nameAt(i) : null; },
      rowAt(i) { return inRange(i) ? map.#L.rowAt(i) : 0; },
      colAt(i) { return inRange(i) ? map.#L.colAt(i) : 0; },
      /** AVAILABLE (0), HELD (1) or BOOKED (2); -1 out of range. */
      statusCodeAt(i) { return inRange(i) ? map.#L.status[i] : -1; },
      statusAt(i) { return inRange(i) ? STATUSES[map.#L.status[i]] : null; },
      untilAt(i) { return map.#L.until.get(i) || null; },
    });
  }

  get loaded() { return this.#loaded; }
  get epoch() { return this.#epoch; }
  get seq() { return this.#seq; }

  /** Where a resume starts: {epoch, seq}, or null before the first snapshot. */
  position() { return this.#loaded && this.#epoch != null ? { epoch: this.#epoch, seq: this.#seq } : null; }

  /** A snapshot (either form) replaces everything: null when it did, else why it could not be
   *  loaded (the map is then left as it was). */
  replace(m) {
    const problem = snapshotProblem(m);
    if (problem) return problem;
    let L;
    try {
      L = m.compact === true ? fromCompact(m) : fromFull(m);
    } catch (e) {
      if (typeof e === 'string') return e;
      throw e;
    }
    this.#L = L;
    this.#loaded = true;
    this.#name = typeof m.name === 'string' && m.name ? m.name : this.#tripId;
    this.#epoch = m.epoch;
    this.#seq = m.seq;
    this.#baseSeq = m.seq;
    this.#touched = new Map();
    return null;
  }

  /** A `subscribed` answer: the replay follows from seq + 1. False when it cannot continue this
   *  map (no snapshot yet, another epoch): the caller must ask for a snapshot. */
  resumeAt(epoch, seq) {
    if (!this.#loaded || epoch !== this.#epoch || typeof seq !== 'number') return false;
    this.#seq = seq;
    return true;
  }

  /** Applies an event in O(1): {outcome: 'applied', seat} | {outcome: 'stale'} (seq already
   *  applied) | {outcome: 'gap'} (events are missing before it) | {outcome: 'unknownSeat'}. */
  apply(m) {
    if (!this.#loaded || typeof m.seq !== 'number' || !isEvent(m.type)) return { outcome: 'stale' };
    if (m.seq <= this.#seq) return { outcome: 'stale' };
    if (m.seq !== this.#seq + 1) return { outcome: 'gap' };
    const i = this.#L.indexOf(m.seatNo);
    if (i < 0) return { outcome: 'unknownSeat' };
    this.#seq = m.seq;
    this.#L.set(i, CODE[EVENT_STATUS[m.type]], typeof m.until === 'string' ? m.until : null);
    this.#touched.set(i, m.seq);
    return { outcome: 'applied', seat: this.#L.record(i), index: i };
  }

  /** A successful reserve/confirm/release reply to a request that left at `sentAt` ({epoch, seq})
   *  shows its seats' new status before their events arrive, unless an event or snapshot about a
   *  seat came after the request left (then the map already has this change or a later one).
   *  Returns the seats it changed. */
  applyReply(reply, sentAt) {
    const status = REPLY_STATUS[reply.type];
    if (!status || !sentAt || sentAt.epoch !== this.#epoch || !Array.isArray(reply.seats)) return [];
    const L = this.#L;
    const code = CODE[status];
    const until = status === 'held' && typeof reply.until === 'string' && reply.until ? reply.until : null;
    const changed = [];
    for (const seatNo of reply.seats) {
      const i = L.indexOf(seatNo);
      if (i < 0 || (this.#touched.get(i) ?? this.#baseSeq) > sentAt.seq) continue;
      if (L.status[i] === code && (L.until.get(i) || null) === until) continue;
      L.set(i, code, until);
      changed.push(L.record(i));
    }
    return changed;
  }
}
