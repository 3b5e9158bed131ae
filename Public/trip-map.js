// trip-map.js: one trip's seats at a stream position (epoch, seq), as docs/PROTOCOL.md
// "Semantics" defines them: a snapshot replaces the map, events apply in `seq` order, an event
// at or below the position is stale, one past position + 1 is a gap. Pure: no I/O, no DOM.
// Used by seatcast-client.js; the counterpart of the server's TripMap.

/** The seat status each event type leaves behind. */
const EVENT_STATUS = Object.freeze({ seat_locked: 'held', seat_released: 'available', seat_booked: 'booked' });
/** The seat status a successful reply leaves behind (until the events say more). */
const REPLY_STATUS = Object.freeze({ reserved: 'held', confirmed: 'booked', released: 'available' });

export const isEvent = (type) => Object.hasOwn(EVENT_STATUS, type);

function seatRecord(seatNo, row, col, status, until) {
  return Object.freeze({ seatNo, row, col, status, until: status === 'held' && until ? until : null });
}

export class TripMap {
  #tripId;
  #loaded = false;
  #name = '';
  #rows = 0;
  #cols = 0;
  #epoch = null;
  #seq = 0;
  #seats = new Map();   // seatNo -> frozen {seatNo, row, col, status, until}
  #touched = new Map(); // seatNo -> seq of the last event that changed it since the snapshot
  #baseSeq = 0;         // seq of that snapshot

  constructor(tripId) {
    this.#tripId = tripId;
    const map = this;
    // The read-only face handed to listeners: live getters, no setters.
    this.view = Object.freeze({
      get tripId() { return map.#tripId; },
      get loaded() { return map.#loaded; },
      get name() { return map.#name; },
      get rows() { return map.#rows; },
      get cols() { return map.#cols; },
      get epoch() { return map.#epoch; },
      get seq() { return map.#seq; },
      get size() { return map.#seats.size; },
      seat(seatNo) { return map.#seats.get(seatNo) || null; },
      seats() { return map.#seats.values(); },
    });
  }

  get loaded() { return this.#loaded; }
  get epoch() { return this.#epoch; }
  get seq() { return this.#seq; }

  /** Where a resume starts: {epoch, seq}, or null before the first snapshot. */
  position() { return this.#loaded && this.#epoch != null ? { epoch: this.#epoch, seq: this.#seq } : null; }

  /** A snapshot replaces everything. False (nothing changed) for one that is not a full snapshot. */
  replace(m) {
    if (!Array.isArray(m.seats) || typeof m.seq !== 'number') return false;
    this.#loaded = true;
    this.#name = typeof m.name === 'string' && m.name ? m.name : this.#tripId;
    this.#rows = m.rows | 0;
    this.#cols = m.cols | 0;
    this.#epoch = m.epoch;
    this.#seq = m.seq;
    this.#baseSeq = m.seq;
    this.#touched = new Map();
    this.#seats = new Map();
    for (const s of m.seats) {
      if (s && typeof s.seatNo === 'string') this.#seats.set(s.seatNo, seatRecord(s.seatNo, s.row, s.col, s.status, s.until));
    }
    return true;
  }

  /** A `subscribed` answer: the replay follows from seq + 1. False when it cannot continue this
   *  map (no snapshot yet, another epoch): the caller must ask for a snapshot. */
  resumeAt(epoch, seq) {
    if (!this.#loaded || epoch !== this.#epoch || typeof seq !== 'number') return false;
    this.#seq = seq;
    return true;
  }

  /** Applies an event: {outcome: 'applied', seat} | {outcome: 'stale'} (seq already applied) |
   *  {outcome: 'gap'} (events are missing before it) | {outcome: 'unknownSeat'}. */
  apply(m) {
    if (!this.#loaded || typeof m.seq !== 'number' || !isEvent(m.type)) return { outcome: 'stale' };
    if (m.seq <= this.#seq) return { outcome: 'stale' };
    if (m.seq !== this.#seq + 1) return { outcome: 'gap' };
    const old = this.#seats.get(m.seatNo);
    if (!old) return { outcome: 'unknownSeat' };
    this.#seq = m.seq;
    const seat = seatRecord(old.seatNo, old.row, old.col, EVENT_STATUS[m.type], m.until);
    this.#seats.set(m.seatNo, seat);
    this.#touched.set(m.seatNo, m.seq);
    return { outcome: 'applied', seat };
  }

  /** A successful reserve/confirm/release reply to a request that left at `sentAt` ({epoch, seq})
   *  shows its seats' new status before their events arrive, unless an event or snapshot about a
   *  seat came after the request left (then the map already has this change or a later one).
   *  Returns the seats it changed. */
  applyReply(reply, sentAt) {
    const status = REPLY_STATUS[reply.type];
    if (!status || !sentAt || sentAt.epoch !== this.#epoch || !Array.isArray(reply.seats)) return [];
    const changed = [];
    for (const seatNo of reply.seats) {
      const old = this.#seats.get(seatNo);
      if (!old || (this.#touched.get(seatNo) ?? this.#baseSeq) > sentAt.seq) continue;
      const seat = seatRecord(old.seatNo, old.row, old.col, status, reply.until);
      if (old.status === seat.status && old.until === seat.until) continue;
      this.#seats.set(seatNo, seat);
      changed.push(seat);
    }
    return changed;
  }
}
