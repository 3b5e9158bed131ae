// race.js: the race demo panel. Opens N connections of their own (each a SeatcastClient that
// does not reconnect, with its own random hold token), has all of them reserve one seat in the
// same task, and reports winners and rejections: PostgreSQL lets exactly one win.
//
//   const race = createRace({ url, currentTrip, statusOf, changed });
//   race.setSeats(trip)   // the seat picker follows the trip shown (null: none)
//   race.reset(), race.running, race.canRun()
//   currentTrip() -> the trip view shown; statusOf(seatNo) -> what the map shows for it;
//   changed() -> the page updates its buttons (a race started or ended)

import { SeatcastClient } from './seatcast-client.js';
import { $, el, randomToken } from './ui.js';

/** One racer: its own connection and hold token. Resolves once open, or failed to open. */
function openRacer(url, i) {
  const client = new SeatcastClient({ url, reconnect: false, idPrefix: `race${i}-` });
  return new Promise((resolve) => {
    const done = () => {
      offOpen();
      offClose();
      resolve({ i, client, token: randomToken(32), reply: null, ms: 0 });
    };
    const offOpen = client.on('open', done);
    const offClose = client.on('close', done);
    client.connect();
  });
}

/** A trip with more seats than MAX_LISTED lists only MAX_CHOICES of them in the picker. */
const MAX_LISTED = 2000, MAX_CHOICES = 200;

export function createRace({ url, currentTrip, statusOf, changed }) {
  let running = false;
  const box = $('race-result');
  const select = $('race-seat');

  function setRunning(v) {
    running = v;
    changed();
  }

  /** The seats the picker offers: every seat of a small trip; of a large one (a stadium) the
   *  last MAX_CHOICES available seats, plus the one picked before, so the list stays short. */
  function choices(trip) {
    if (!trip || !trip.loaded) return [];
    if (trip.size <= MAX_LISTED) return [...trip.seats()].sort((x, y) => x.row - y.row || x.col - y.col);
    const picked = [];
    for (let i = trip.size - 1; i >= 0 && picked.length < MAX_CHOICES; i--) if (trip.statusAt(i) === 'available') picked.push(trip.seatAt(i));
    const prev = select.value && trip.seat(select.value);
    if (prev && !picked.some((s) => s.seatNo === prev.seatNo)) picked.push(prev);
    return picked.sort((x, y) => x.row - y.row || x.col - y.col);
  }

  function setSeats(trip) {
    const prev = select.value;
    select.replaceChildren();
    const sorted = choices(trip);
    for (const s of sorted) {
      const o = el('option', null, s.seatNo);
      o.value = s.seatNo;
      select.appendChild(o);
    }
    select.disabled = sorted.length === 0;
    if (prev && sorted.some((s) => s.seatNo === prev)) select.value = prev;
    else {
      // Default: an available seat near the back, out of everyone's way.
      const free = sorted.filter((s) => s.status === 'available');
      if (free.length) select.value = free[free.length - 1].seatNo;
    }
    changed();
  }

  function reset() {
    box.dataset.state = 'idle';
    delete box.dataset.winners;
    delete box.dataset.rejections;
    delete box.dataset.errors;
    $('race-summary').textContent = '';
    $('race-dots').replaceChildren();
  }

  function dotResult(d, r) {
    const m = r.reply || { type: 'error', code: 'no reply' };
    if (m.type === 'reserved') { d.dataset.result = 'won'; d.textContent = '★'; }
    else if (m.type === 'rejected') { d.dataset.result = 'lost'; d.textContent = '✕'; }
    else { d.dataset.result = 'error'; d.textContent = '!'; }
    d.title = `Connection ${r.i + 1}: ${m.type}${m.reason ? ' (' + m.reason + ')' : ''}${m.code ? ' (' + m.code + ')' : ''}${r.ms ? ', ' + Math.round(r.ms) + ' ms' : ''}`;
    return m;
  }

  async function run(ev) {
    ev.preventDefault();
    const trip = currentTrip();
    if (running || !trip || !trip.loaded) return;
    const n = Math.max(2, Math.min(200, parseInt($('race-n').value, 10) || 20));
    $('race-n').value = String(n);
    const seatNo = select.value;
    const tripId = trip.tripId;
    if (!seatNo) return;
    setRunning(true);
    reset();
    box.dataset.state = 'running';
    box.dataset.seat = seatNo;
    box.dataset.n = String(n);
    const before = statusOf(seatNo);
    $('race-summary').textContent = `Opening ${n} connections…`;
    const dots = $('race-dots');
    const dotEls = [];
    for (let i = 0; i < n; i++) { const d = el('li', 'dot'); d.dataset.result = 'waiting'; dots.appendChild(d); dotEls.push(d); }

    const racers = await Promise.all(Array.from({ length: n }, (_, i) => openRacer(url, i)));
    const ready = racers.filter((r) => r.client.isOpen());
    $('race-summary').textContent = `${ready.length} connections open. Go!`;
    // Every reserve leaves in this same task (request() sends at once): as simultaneous as a page can make them.
    const t0 = performance.now();
    await Promise.all(ready.map((r) => r.client.request(
      { type: 'reserve', tripId, seats: [seatNo], hold: r.token, id: 'race' + r.i }, { timeoutMs: 10000 })
      .then((m) => { r.reply = m; r.ms = performance.now() - t0; })));

    let winners = 0, rejections = 0, errors = 0;
    const reasons = {};
    for (const r of racers) {
      const m = dotResult(dotEls[r.i], r);
      if (m.type === 'reserved') winners++;
      else if (m.type === 'rejected') { rejections++; reasons[m.reason] = (reasons[m.reason] || 0) + 1; }
      else errors++;
    }

    let releasedNote = '';
    const winner = racers.find((r) => r.reply && r.reply.type === 'reserved');
    if (winner && $('race-release').checked && winner.client.isOpen()) {
      const m = await winner.client.request({ type: 'release', tripId, seats: [seatNo], hold: winner.token, id: 'race-release' }, { timeoutMs: 5000 });
      releasedNote = m.type === 'released' ? ' The winner then released the seat.' : ' (Releasing the winner\'s hold failed.)';
    }
    for (const r of racers) r.client.close();

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
    setRunning(false);
  }

  $('race-form').addEventListener('submit', run);

  return {
    setSeats,
    reset,
    get running() { return running; },
    canRun: () => !running && select.options.length > 0,
  };
}
