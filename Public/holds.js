// holds.js: this tab's own holds on the trip it shows. The tab's hold token; which seats it
// holds (with their `until`) or booked; the requests that change that (reserve, confirm,
// release) and what their replies mean; the countdowns; the "Your seats" panel and the
// legend's hold length. Remembered per trip in sessionStorage, so a reload keeps the holds
// (checked against every snapshot: holds are idempotent, so asking again is safe).
//
//   const holds = createHolds({ client, changed });   // changed(seatNos): redraw those seats
//   holds.load(tripId)           before subscribing to another trip
//   holds.reconcile()            after each snapshot of it
//   holds.seatChanged(seat, ev)  after each event about one of its seats
//   holds.describe(seatNo)       what the map shows for a seat
//   holds.toggle(seatNo), holds.bookAll(), holds.releaseAll()
//   holds.best(count, together)  best-available reserve: the server picks the seats
//   holds.extend()               extend this tab's hold on the trip (the Extend button, shown
//                                in the last EXTEND_WINDOW ms of the hold)

import { $, el, errorText, fmtLeft, randomToken, say, seatList, store, untilMs } from './ui.js';

const TOKEN_RE = /^[A-Za-z0-9_-]{16,128}$/;
const MAX_SEATS = 10; // per request (docs/PROTOCOL.md, limits)
export const EXTEND_WINDOW = 30000; // the Extend button shows in a hold's last 30 s

const REASONS = {
  seat_taken: (s) => `Sorry, ${seatList(s)} ${s.length > 1 ? 'were' : 'was'} just taken by someone else.`,
  hold_expired: (s) => `Your hold on ${seatList(s)} expired before it was booked. Pick the seat again if it is still free.`,
  not_held: (s) => `You no longer hold ${seatList(s) || 'those seats'}.`,
  not_enough_seats: (_s, p) => p.together
    ? `There are not ${p.count} free seats side by side in one row. Try fewer seats, or untick "Together".`
    : `There are not ${p.count} free seats left on this trip.`,
  extend_limit: () => 'Your hold cannot be extended further. Book the seats now or they will be released.',
  quota: (_s, _p, m) => `You can hold at most ${m.limit > 0 ? m.limit : 'a few'} seats at once. Book or release some first.`,
};

/** Words for a `rejected` reply `m` to request `p` about `seats`. */
export function rejectionText(m, seats, p = {}) {
  const f = REASONS[m.reason];
  return f ? f(seats, p, m) : `Rejected: ${m.reason}.`;
}

/** What the page says when the server will not let this buyer confirm (a server without
 *  --buyer-confirm answers a buyer's confirm `forbidden`): booking is the site's. */
export const CHECKOUT_TEXT = 'Booking is completed at checkout on the site: your seats stay held for you until then.';

/** The page's hold token: one per browser tab, kept across reloads. */
function pageHoldToken() {
  let t = store.get('seatcast.hold');
  if (!t || !TOKEN_RE.test(t)) {
    t = randomToken(32);
    store.set('seatcast.hold', t);
  }
  return t;
}

export function createHolds({ client, changed }) {
  const token = pageHoldToken();
  /** The server answered a confirm `forbidden` (buyers may not book here): no Book button. */
  let confirmForbidden = store.get('seatcast.noConfirm') === '1';
  let tripId = null;
  let mine = new Map();     // seatNo -> until (ISO string, or '' when unknown): seats my token holds
  let booked = new Set();   // seats my token booked
  let verified = new Set(); // remembered holds a reserve reply confirmed in this page
  const busy = new Set();   // seats with a request in flight
  /** The server's hold length in whole seconds, learnt from a hold this tab made; null before. */
  let holdSeconds = (() => {
    const v = parseInt(store.get('seatcast.holdSeconds'), 10);
    return v > 0 ? v : null;
  })();

  const seat = (no) => {
    const t = tripId ? client.trip(tripId) : null;
    return t ? t.seat(no) : null;
  };

  // ------------------------------------------------------------ state (only these change it)

  function load(id) {
    tripId = id;
    mine = new Map(Object.entries(store.json('seatcast.mine.' + id, {}) || {}));
    booked = new Set(store.json('seatcast.booked.' + id, []) || []);
    verified = new Set();
    busy.clear();
  }

  function save() {
    if (!tripId) return;
    store.set('seatcast.mine.' + tripId, JSON.stringify(Object.fromEntries(mine)));
    store.set('seatcast.booked.' + tripId, JSON.stringify([...booked]));
  }

    /** My hold on a seat (until `until`) has not run out by this tab's clock: nobody else can have
   *  taken it over, so a new `until` for it is an extend (this tab's, or another tab's with the
   *  same token), not a takeover. */
  function stillMine(until) {
    const u = untilMs(until);
    return u !== null && u > Date.now();
  }

  /** A reserve reply says my token holds `no` until `until`. */
  function held(no, until) {
    mine.set(no, until || '');
    verified.add(no);
  }

  function letGo(no) { mine.delete(no); }

  function bookedByMe(no) {
    mine.delete(no);
    booked.add(no);
  }

  /** A new hold's `until` minus the moment its request left: the server's hold TTL (plus the
   *  request's own trip, well under a second). The protocol does not announce the TTL, so the
   *  legend shows none until the first hold. */
  function learnHoldLength(until, sentAt) {
    if (!until || !sentAt) return;
    // Rounded: `until` is truncated to milliseconds and the database stamps it at its
    // transaction start, so it can sit a hair before this tab's `sentAt`.
    const s = Math.round((until - sentAt) / 1000);
    if (s <= 0) return;
    holdSeconds = s;
    store.set('seatcast.holdSeconds', String(s));
    renderLegend();
  }

  // ------------------------------------------------------------ reading

  /** What a seat looks like to me, for the map. */
  function describe(no) {
    const s = seat(no);
    const status = !s ? 'available' : s.status === 'held' && mine.has(no) ? 'mine' : s.status;
    const u = status === 'mine' ? untilMs(mine.get(no)) || untilMs(s.until) : null;
    const left = u ? u - Date.now() : null;
    return { status, busy: busy.has(no), yours: status === 'booked' && booked.has(no),
      countdown: u ? fmtLeft(left) : '…', urgent: u !== null && left < 20000 };
  }

  function order(a, b) {
    const x = seat(a), y = seat(b);
    if (!x || !y) return a < b ? -1 : 1;
    return x.row - y.row || x.col - y.col;
  }

  /** The seats I hold right now, in map order. */
  function heldSeats() {
    return [...mine.keys()].filter((s) => { const x = seat(s); return x && x.status === 'held'; }).sort(order);
  }

  // ------------------------------------------------------------ requests

  function request(op, seats, quiet = false, extra = null) {
    if (!tripId) return;
    if (!client.isOpen()) {
      if (!quiet) say('Not connected right now; try again when the status says Live.', 'warn');
      return;
    }
    const forTrip = tripId, sentAt = Date.now();
    for (const s of seats) busy.add(s);
    changed(seats);
    const type = op === 'confirm-check' ? 'confirm' : op;
    const body = extra ? { type, tripId, hold: token, ...extra } : { type, tripId, seats, hold: token };
    client.request(body).then((m) => settle({ op, seats, quiet, forTrip, sentAt, ...extra }, m));
  }

  /** A reply (or a local failure) to one of my requests. */
  function settle(p, m) {
    if (p.forTrip !== tripId) return; // an answer about a trip we left
    for (const s of p.seats) busy.delete(s);
    const replied = Array.isArray(m.seats) ? m.seats : [];
    const seats = replied.length ? replied : p.seats;
    if (m.local) {
      if (!p.quiet && m.code === 'disconnected') say('The connection dropped before the server answered; the map will catch up when it is back.', 'warn');
    } else if (m.type === 'reserved') {
      for (const s of replied) held(s, m.until);
      if (!p.quiet) {
        learnHoldLength(untilMs(m.until), p.sentAt);
        say(`Holding ${seatList(replied)} for you. Book it before the timer runs out.`, 'ok');
      }
    } else if (m.type === 'extended') {
      // Each seat's own `until` comes as a seat_locked (at or after the hold's earliest, this one).
      for (const s of replied) {
        const x = seat(s);
        mine.set(s, x && x.status === 'held' && untilMs(x.until) > untilMs(m.until) ? x.until : m.until);
      }
      if (!p.quiet) say(`Your hold on ${seatList(replied)} now runs until ${new Date(untilMs(m.until)).toLocaleTimeString()}.`, 'ok');
    } else if (m.type === 'confirmed') {
      for (const s of replied) bookedByMe(s);
      if (!p.quiet) say(`Booked ${seatList(replied)}. Enjoy the trip!`, 'ok');
    } else if (m.type === 'released') {
      for (const s of p.seats.concat(replied)) letGo(s);
      if (!p.quiet) say(replied.length ? `Released ${seatList(replied)}.` : 'Nothing to release.', 'info');
    } else if (m.type === 'rejected') {
      if (p.op === 'reserve') {
        // Only a remembered hold (after a reload) can be mine here; it is not.
        for (const s of p.seats) if (!verified.has(s)) letGo(s);
      } else if (p.op === 'extend') {
        // extend_limit: still mine until it runs out; hold_expired / not_held: gone.
        if (m.reason !== 'extend_limit') for (const s of p.seats) letGo(s);
      } else {
        for (const s of seats) letGo(s);
        if (p.op === 'confirm-check') for (const s of p.seats) booked.delete(s);
      }
      if (!p.quiet) {
        say(rejectionText(m, seats, p), m.reason === 'seat_taken' || m.reason === 'not_enough_seats' || m.reason === 'quota' ? 'warn' : 'error');
      } else if (p.op === 'reserve' && m.reason === 'seat_taken') {
        say(`Your earlier hold on ${seatList(p.seats)} is gone; someone else holds it now.`, 'warn');
      }
    } else if (m.type === 'error' && m.code === 'forbidden' && (p.op === 'confirm' || p.op === 'confirm-check')) {
      // Still held (a refused confirm changes nothing); from now on the page offers no Book.
      confirmForbidden = true;
      store.set('seatcast.noConfirm', '1');
      // (A confirm-check: booked while away, by the site's backend on this buyer's hold, say.)
      if (!p.quiet) say(CHECKOUT_TEXT, 'info');
    } else if (m.type === 'error') {
      say(errorText(m), 'error');
    }
    save();
    changed(p.seats.concat(replied));
  }

  function toggle(no) {
    if (!seat(no) || busy.has(no)) return;
    const v = describe(no).status;
    if (v === 'available') request('reserve', [no]);
    else if (v === 'mine') request('release', [no]);
    else if (v === 'held') say(`Seat ${no} is held by someone else right now. It frees up if they let it go or their hold runs out.`, 'info');
    else if (v === 'booked') say(booked.has(no) ? `Seat ${no} is booked for you.` : `Seat ${no} is already booked.`, 'info');
  }

  /** Best available: the server picks `count` seats (side by side with `together`) for my hold. */
  function best(count, together) {
    const n = Math.trunc(Number(count));
    if (!(n >= 1 && n <= MAX_SEATS)) {
      say(`Choose between 1 and ${MAX_SEATS} seats.`, 'warn');
      return;
    }
    request('reserve', [], false, { count: n, together: !!together });
  }

  /** Extends my hold on this trip (every seat of it). Its seats are busy until the answer, so
   *  their seat_locked events are not mistaken for a takeover. */
  function extend() {
    const seats = heldSeats();
    if (seats.length) request('extend', seats, false, {});
  }

  /** The least time left on any of my holds here, in ms; null when I hold none. */
  function leastLeft() {
    let least = null;
    for (const s of heldSeats()) {
      const x = seat(s);
      const u = untilMs(mine.get(s)) || (x && untilMs(x.until));
      if (u !== null && (least === null || u - Date.now() < least)) least = u - Date.now();
    }
    return least;
  }

  function all(op) {
    const seats = heldSeats();
    for (let i = 0; i < seats.length; i += MAX_SEATS) request(op, seats.slice(i, i + MAX_SEATS));
  }

  // ------------------------------------------------------------ the map changed

  /** After a snapshot: keep what is still mine, ask the server to confirm remembered holds. */
  function reconcile() {
    let dirty = false;
    const lapsed = [];
    for (const [s, until] of [...mine]) {
      const x = seat(s);
      if (x && x.status === 'held') {
        if (until && x.until && until !== x.until && verified.has(s)) {
          if (stillMine(until) && untilMs(x.until) > untilMs(until)) { mine.set(s, x.until); dirty = true; } // extended
          else { letGo(s); dirty = true; lapsed.push(s); }
        } else if (!verified.has(s) && !busy.has(s)) {
          // Idempotent: re-reserving a seat this token holds answers `reserved` and changes nothing.
          request('reserve', [s], true);
        }
      } else if (x && x.status === 'booked') {
        // Booked while we were away: by me (a lost confirm reply) or not? Confirm is idempotent too.
        bookedByMe(s); dirty = true;
        request('confirm-check', [s], true);
      } else {
        letGo(s); dirty = true;
        if (x) lapsed.push(s);
      }
    }
    for (const s of [...booked]) {
      const x = seat(s);
      if (!x || x.status !== 'booked') { booked.delete(s); dirty = true; }
    }
    if (lapsed.length) say(`Your hold on ${seatList(lapsed)} expired while you were away.`, 'warn');
    if (dirty) save();
  }

  /** An event changed `x` (replies to my own requests are handled in settle). */
  function seatChanged(x, ev) {
    const no = x.seatNo;
    if (!mine.has(no) || !ev || !ev.type.startsWith('seat_')) return;
    if (ev.type === 'seat_locked') {
      // Someone else's lock on a seat I remember: my hold lapsed and was taken over.
      const mineUntil = mine.get(no);
      if (busy.has(no) || !mineUntil || !ev.until || mineUntil === ev.until) return;
      if (stillMine(mineUntil) && untilMs(ev.until) > untilMs(mineUntil)) {
        mine.set(no, ev.until); // my hold was extended: the countdown moves
        save();
        return;
      }
      letGo(no);
      say(`Your hold on ${no} lapsed and someone else took it.`, 'warn');
    } else if (ev.type === 'seat_released') {
      letGo(no);
      if (ev.reason === 'expired') say(`Your hold on ${no} expired and the seat is free again.`, 'warn');
    } else if (ev.type === 'seat_booked') {
      bookedByMe(no);
    }
    save();
  }

  // ------------------------------------------------------------ "Your seats" and the legend

  function renderMine() {
    const list = $('my-seats');
    const heldNow = heldSeats();
    const bookedNow = [...booked].filter((s) => seat(s)).sort(order);
    list.replaceChildren();
    for (const s of heldNow) {
      const li = el('li', 'my-seat');
      li.dataset.seat = s;
      li.dataset.status = 'mine';
      li.dataset.until = mine.get(s) || (seat(s) && seat(s).until) || '';
      li.appendChild(el('span', 'my-seat-no', s));
      const timer = el('span', 'my-seat-timer', describe(s).countdown);
      timer.dataset.timer = s;
      li.appendChild(el('span', 'my-seat-what', 'held ·'));
      li.appendChild(timer);
      li.appendChild(el('span', 'my-seat-left', 'left'));
      list.appendChild(li);
    }
    for (const s of bookedNow) {
      const li = el('li', 'my-seat');
      li.dataset.seat = s;
      li.dataset.status = 'booked';
      li.appendChild(el('span', 'my-seat-no', s));
      li.appendChild(el('span', 'my-seat-what', 'booked ✓'));
      list.appendChild(li);
    }
    $('no-seats').hidden = heldNow.length + bookedNow.length > 0;
    renderExtend();
  }

  /** The Extend button: only in the last EXTEND_WINDOW of a hold. */
  function renderExtend() {
    const left = leastLeft();
    const show = left !== null && left <= EXTEND_WINDOW;
    const b = $('extend');
    if (b.hidden === show) b.hidden = !show;
    b.disabled = !client.isOpen() || heldSeats().some((s) => busy.has(s));
  }

  /** Once a second: the countdowns in "Your seats" (the map's are redrawn by the page). */
  function tick() {
    for (const t of document.querySelectorAll('#my-seats [data-timer]')) {
      const text = describe(t.dataset.timer).countdown;
      if (t.textContent !== text) t.textContent = text;
    }
    renderExtend();
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

  return {
    load, reconcile, seatChanged, describe, heldSeats, toggle, tick, renderMine, renderLegend,
    best, extend,
    /** Whether the page may offer Book (false once the server answered a confirm `forbidden`). */
    canConfirm: () => !confirmForbidden,
    bookAll: () => all('confirm'),
    releaseAll: () => all('release'),
  };
}
