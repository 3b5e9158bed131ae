// seat-map.js: the seat map as a grid of buttons, and its keyboard. Knows nothing of the
// protocol or of holds: the page tells it what each seat looks like and hears which seat was
// chosen. The interface is kept narrow so another map (a canvas for very large venues, say)
// can replace this one:
//
//   const map = createSeatMap(rootElement, { describe, onActivate });
//   map.render(trip)      // trip: {tripId, rows, cols, seats()} (a seatcast-client trip view);
//                         // rebuilds the grid when the layout changed, then draws every seat
//   map.update(seatNo)    // redraws one seat (after an event, a reply, a countdown tick)
//   map.updateAll()
//   map.clear(text)       // no map: a placeholder text instead
//
//   describe(seatNo) -> {status: 'available'|'held'|'mine'|'booked', busy, yours, countdown, urgent}
//   onActivate(seatNo)    click, Enter or Space on a seat
//
// DOM contract (the browser test and seat-map.css rely on it): each seat is a
// `button.seat[data-seat][data-row][data-col][data-status]` inside the root, with an
// aria-label "Seat 1A, <status>" and a `.seat-tag`; `.row-label` / `.col-label` around them.

import { el } from './ui.js';

const TAGS = { available: '', held: 'held', booked: '✕' };
const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

/** The column after which the aisle runs: between the two halves (after B of A-D). */
function aisleAfter(cols) { return cols >= 3 ? Math.floor(cols / 2) : 0; }

/** The letter(s) a column's seats carry ("A" of "1A", "27" of "12-27"). */
function columnLabels(seats) {
  const labels = new Map();
  for (const s of seats) {
    if (!labels.has(s.col)) labels.set(s.col, s.seatNo.replace(/^\d+-?/, '') || String(s.col));
  }
  return labels;
}

export function createSeatMap(root, { describe, onActivate }) {
  const buttons = new Map(); // seatNo -> button
  const at = new Map();      // "row/col" -> button
  let layoutKey = '';
  let rows = 0, cols = 0;

  function labelled(tag, cls, text, row, col) {
    const e = el(tag, cls, text);
    e.setAttribute('aria-hidden', 'true');
    e.style.gridRow = row;
    e.style.gridColumn = col;
    return e;
  }

  function build(trip) {
    const hadFocus = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.seat : null;
    root.replaceChildren();
    buttons.clear();
    at.clear();
    rows = trip.rows;
    cols = trip.cols;
    const aisle = aisleAfter(cols);
    const colOf = (c) => 1 + c + (aisle && c > aisle ? 1 : 0);
    const tpl = ['var(--row-label)'];
    for (let c = 1; c <= cols; c++) {
      tpl.push('var(--seat)');
      if (c === aisle) tpl.push('var(--aisle)');
    }
    root.style.gridTemplateColumns = tpl.join(' ');
    root.style.setProperty('--cols', String(cols));
    root.classList.toggle('wide', cols > 6);

    // Column letters on top, row numbers on the left, the aisle as a quiet strip.
    const sorted = [...trip.seats()].sort((x, y) => x.row - y.row || x.col - y.col);
    const letters = columnLabels(sorted);
    for (let c = 1; c <= cols; c++) root.appendChild(labelled('span', 'col-label', letters.get(c) || String(c), '1', String(colOf(c))));
    if (aisle) root.appendChild(labelled('span', 'aisle', null, '1 / span ' + (rows + 1), String(aisle + 2)));
    for (let r = 1; r <= rows; r++) root.appendChild(labelled('span', 'row-label', String(r), String(r + 1), '1'));
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
      root.appendChild(b);
      buttons.set(s.seatNo, b);
      at.set(s.row + '/' + s.col, b);
    }
    if (hadFocus && buttons.has(hadFocus)) buttons.get(hadFocus).focus();
  }

  function update(seatNo) {
    const b = buttons.get(seatNo);
    if (!b) return;
    const d = describe(seatNo);
    const v = d.status;
    const yours = v === 'booked' && !!d.yours;
    if (b.dataset.status !== v) b.dataset.status = v;
    b.classList.toggle('busy', !!d.busy);
    b.classList.toggle('yours', yours);
    b.classList.toggle('urgent', v === 'mine' && !!d.urgent);
    b.setAttribute('aria-pressed', v === 'mine' ? 'true' : 'false');
    b.setAttribute('aria-busy', d.busy ? 'true' : 'false');
    let label;
    if (v === 'mine') label = `Seat ${seatNo}, held by you`;
    else if (yours) label = `Seat ${seatNo}, booked by you`;
    else label = `Seat ${seatNo}, ${v}`;
    if (b.getAttribute('aria-label') !== label) b.setAttribute('aria-label', label);
    const tag = b.lastChild;
    const text = v === 'mine' ? d.countdown || '…' : (yours ? '✓' : TAGS[v] ?? '');
    if (tag.textContent !== text) tag.textContent = text;
    b.title = label + (v === 'available' ? ': click to hold' : v === 'mine' ? ': click to let go' : '');
  }

  function updateAll() { for (const seatNo of buttons.keys()) update(seatNo); }

  /** Arrow keys: the nearest seat in that direction (layouts may have gaps); Home / End. */
  function onKey(e) {
    const b = e.target.closest('.seat');
    if (!b || !b.dataset.seat) return;
    const mv = MOVES[e.key];
    if (!mv) {
      if (e.key === 'Home' || e.key === 'End') {
        const all = [...buttons.values()];
        const t = e.key === 'Home' ? all[0] : all[all.length - 1];
        if (t) { e.preventDefault(); t.focus(); }
      }
      return;
    }
    e.preventDefault();
    const r = +b.dataset.row, c = +b.dataset.col;
    for (let i = 1; i <= Math.max(rows, cols); i++) {
      const rr = r + mv[0] * i, cc = c + mv[1] * i;
      if (rr < 1 || cc < 1 || rr > rows || cc > cols) break;
      const target = at.get(rr + '/' + cc);
      if (target) { target.focus(); return; }
    }
  }

  root.addEventListener('click', (e) => {
    const b = e.target.closest('.seat');
    if (b && b.dataset.seat) onActivate(b.dataset.seat);
  });
  root.addEventListener('keydown', onKey);

  return {
    render(trip) {
      const key = trip.tripId + '/' + trip.rows + 'x' + trip.cols + '/' + trip.size;
      if (key !== layoutKey || buttons.size === 0) {
        layoutKey = key;
        build(trip);
      }
      updateAll();
    },
    update,
    updateAll,
    clear(text) {
      layoutKey = '';
      buttons.clear();
      at.clear();
      root.replaceChildren(el('p', 'placeholder', text));
    },
  };
}
