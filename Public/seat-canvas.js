// seat-canvas.js: the seat map of a large venue (thousands to 100,000 seats) on one canvas.
// Only what is in view is drawn: the canvas is the size of its scroll box (position: sticky
// inside a box the size of the whole map), so memory does not grow with the venue; a scroll
// redraws the visible cells once per frame; a changed seat redraws its own cell only, in O(1).
// The rest of the page sees the same interface as the DOM grid (seat-map.js):
//
//   const map = createCanvasMap(root, { describe, onActivate });
//   map.render(trip), map.update(seatNo), map.updateAll(), map.destroy()
//   map.statusOf(seatNo), map.reveal(seatNo) -> {x, y} (client coordinates of its centre)
//
// Keyboard and screen readers: the map is ONE Tab stop (the scroll box, role=application) with a
// cursor inside it. Arrow keys move it a seat, Home / End to the row's ends, Ctrl+Home / Ctrl+End
// to the first / last seat, PageUp / PageDown a screenful of rows; Enter or Space activates. The
// cursor is a real element (`.seat-cursor`, the box's aria-activedescendant) with the seat's
// `data-seat`, `data-status` and an accessible name ("Row 12 seat C, available").
// How a seat and the bands look (colour never the only cue): seat-paint.js.

import { el } from './ui.js';
import { columnLabel } from './trip-map.js';
import { PITCH, LABEL_W, LABEL_H, PAD, readPalette, stripes, paintSeat, paintBands } from './seat-paint.js';

/** What the seat's accessible name says about its state. */
function stateWords(d) {
  let s;
  if (d.status === 'mine') s = `held by you, ${d.countdown} left`;
  else if (d.status === 'booked' && d.yours) s = 'booked by you';
  else s = d.status;
  return d.busy ? s + ', updating' : s;
}

export function createCanvasMap(root, { describe, onActivate }) {
  const scroller = el('div', 'seatscroll');
  scroller.tabIndex = 0;
  scroller.setAttribute('role', 'application');
  scroller.setAttribute('aria-roledescription', 'seat map');
  const sizer = el('div', 'seatsizer');
  const canvas = el('canvas', 'seatcanvas');
  canvas.setAttribute('aria-hidden', 'true');
  const cursor = el('div', 'seat-cursor');
  cursor.id = 'seat-cursor';
  cursor.setAttribute('role', 'button');
  sizer.append(canvas, cursor);
  scroller.appendChild(sizer);
  scroller.setAttribute('aria-activedescendant', cursor.id);
  root.replaceChildren(scroller);

  const ctx = canvas.getContext('2d', { alpha: false });
  let trip = null;
  let rows = 0, cols = 0, size = 0;
  let cur = 0;          // the cursor's seat index
  let hover = -1;       // the seat under the mouse
  let vw = 0, vh = 0;   // the canvas in CSS px
  let dpr = 1;
  let pal = readPalette();
  let heldFill = null;
  let frame = 0;        // a pending full redraw (requestAnimationFrame id)

  const rowOf = (i) => Math.floor(i / cols);
  const colOf = (i) => i % cols;
  const nameAt = (i) => trip.nameAt(i);

  // ------------------------------------------------------------ geometry

  /** Sizes the canvas to the visible part of the scroll box. */
  function fit() {
    const w = Math.min(scroller.clientWidth, sizer.offsetWidth);
    const h = Math.min(scroller.clientHeight, sizer.offsetHeight);
    const r = window.devicePixelRatio || 1;
    if (w === vw && h === vh && r === dpr) return false;
    vw = w; vh = h; dpr = r;
    canvas.width = Math.max(1, Math.round(w * dpr));
    canvas.height = Math.max(1, Math.round(h * dpr));
    canvas.style.width = w + 'px';
    canvas.style.height = h + 'px';
    heldFill = stripes(ctx, pal, dpr);
    return true;
  }

  /** The cell of seat i in canvas coordinates (CSS px), at the current scroll position. */
  function cellX(i) { return LABEL_W + colOf(i) * PITCH - scroller.scrollLeft; }
  function cellY(i) { return LABEL_H + rowOf(i) * PITCH - scroller.scrollTop; }
  function visible(i) {
    const x = cellX(i), y = cellY(i);
    return x + PITCH > LABEL_W && x < vw && y + PITCH > LABEL_H && y < vh;
  }

  /** The seat at a pointer event, or -1 (the bands, the margins). */
  function hit(e) {
    const b = scroller.getBoundingClientRect();
    const vx = e.clientX - b.left - scroller.clientLeft, vy = e.clientY - b.top - scroller.clientTop;
    if (vx < LABEL_W || vy < LABEL_H || vx >= vw || vy >= vh) return -1;
    const c = Math.floor((vx + scroller.scrollLeft - LABEL_W) / PITCH);
    const r = Math.floor((vy + scroller.scrollTop - LABEL_H) / PITCH);
    return r >= 0 && c >= 0 && r < rows && c < cols ? r * cols + c : -1;
  }

  /** Scrolls so that seat i is fully visible, clear of the bands. */
  function ensureVisible(i) {
    const x0 = LABEL_W + colOf(i) * PITCH, y0 = LABEL_H + rowOf(i) * PITCH;
    const cw = scroller.clientWidth, ch = scroller.clientHeight;
    let sl = scroller.scrollLeft, st = scroller.scrollTop;
    if (x0 - LABEL_W < sl) sl = x0 - LABEL_W;
    else if (x0 + PITCH > sl + cw) sl = x0 + PITCH - cw;
    if (y0 - LABEL_H < st) st = y0 - LABEL_H;
    else if (y0 + PITCH > st + ch) st = y0 + PITCH - ch;
    if (sl !== scroller.scrollLeft) scroller.scrollLeft = sl;
    if (st !== scroller.scrollTop) scroller.scrollTop = st;
  }

  // ------------------------------------------------------------ drawing

  /** One seat, its cell cleared first. The caller has clipped to the seats' area. */
  function drawCell(i) {
    paintSeat(ctx, pal, heldFill, cellX(i), cellY(i), trip.statusCodeAt(i), describe(nameAt(i)), i === hover);
  }

  function clipSeats() {
    ctx.save();
    ctx.beginPath();
    ctx.rect(LABEL_W, LABEL_H, Math.max(0, vw - LABEL_W), Math.max(0, vh - LABEL_H));
    ctx.clip();
  }

  /** Everything in view: the seats, then the row and column bands over them. */
  function drawAll() {
    frame = 0;
    if (!trip) return;
    fit();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = pal.bg;
    ctx.fillRect(0, 0, vw, vh);
    const sl = scroller.scrollLeft, st = scroller.scrollTop;
    const c0 = Math.max(0, Math.floor(sl / PITCH)), c1 = Math.min(cols - 1, Math.floor((sl + vw - LABEL_W) / PITCH));
    const r0 = Math.max(0, Math.floor(st / PITCH)), r1 = Math.min(rows - 1, Math.floor((st + vh - LABEL_H) / PITCH));
    clipSeats();
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) drawCell(r * cols + c);
    ctx.restore();
    paintBands(ctx, pal, { vw, vh, sl, st, c0, c1, r0, r1, cols });
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(drawAll);
  }

  /** Redraws seat i alone (O(1)) when it is in view and no full redraw is pending. */
  function drawOne(i) {
    if (frame || !trip || i < 0 || i >= size || !vw || !visible(i)) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    clipSeats();
    drawCell(i);
    ctx.restore();
  }

  // ------------------------------------------------------------ the cursor

  function label(i) {
    const d = describe(nameAt(i));
    return { d, text: `Row ${rowOf(i) + 1} seat ${columnLabel(colOf(i) + 1, cols)}, ${stateWords(d)}` };
  }

  function renderCursor() {
    if (!trip || size === 0) return;
    const { d, text } = label(cur);
    cursor.style.left = (LABEL_W + colOf(cur) * PITCH) + 'px';
    cursor.style.top = (LABEL_H + rowOf(cur) * PITCH) + 'px';
    const no = nameAt(cur);
    if (cursor.dataset.seat !== no) cursor.dataset.seat = no;
    if (cursor.dataset.status !== d.status) cursor.dataset.status = d.status;
    if (cursor.getAttribute('aria-label') !== text) cursor.setAttribute('aria-label', text);
    cursor.setAttribute('aria-pressed', d.status === 'mine' ? 'true' : 'false');
  }

  function moveTo(i, scroll = true) {
    if (!trip || size === 0) return;
    cur = Math.max(0, Math.min(size - 1, i));
    renderCursor();
    if (scroll) {
      ensureVisible(cur);
      // The box itself may be partly off screen: bring the cursor into the window's view too
      // (within the box it is already fully visible, so only the page scrolls).
      cursor.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
  }

  function onKey(e) {
    if (!trip || size === 0) return;
    const r = rowOf(cur), c = colOf(cur);
    const page = Math.max(1, Math.floor((scroller.clientHeight - LABEL_H) / PITCH) - 1);
    const ctrl = e.ctrlKey || e.metaKey;
    let to = null;
    switch (e.key) {
      case 'ArrowUp': to = r > 0 ? cur - cols : cur; break;
      case 'ArrowDown': to = r < rows - 1 ? cur + cols : cur; break;
      case 'ArrowLeft': to = c > 0 ? cur - 1 : cur; break;
      case 'ArrowRight': to = c < cols - 1 ? cur + 1 : cur; break;
      case 'Home': to = ctrl ? 0 : r * cols; break;
      case 'End': to = ctrl ? size - 1 : r * cols + cols - 1; break;
      case 'PageUp': to = Math.max(0, r - page) * cols + c; break;
      case 'PageDown': to = Math.min(rows - 1, r + page) * cols + c; break;
      case 'Enter': case ' ': case 'Spacebar':
        e.preventDefault();
        if (!e.repeat) onActivate(nameAt(cur));
        return;
      default: return;
    }
    e.preventDefault();
    moveTo(to);
  }

  // ------------------------------------------------------------ events

  scroller.addEventListener('keydown', onKey);
  scroller.addEventListener('scroll', schedule, { passive: true });
  scroller.addEventListener('click', (e) => {
    const i = hit(e);
    if (i < 0) return;
    moveTo(i, false);
    onActivate(nameAt(i));
  });
  scroller.addEventListener('mousemove', (e) => {
    const i = hit(e);
    if (i === hover) return;
    const old = hover;
    hover = i;
    drawOne(old);
    drawOne(i);
    scroller.style.cursor = i >= 0 ? 'pointer' : '';
    scroller.title = i >= 0 ? label(i).text : '';
  });
  scroller.addEventListener('mouseleave', () => {
    const old = hover;
    hover = -1;
    drawOne(old);
    scroller.title = '';
  });
  const resized = new ResizeObserver(() => { if (fit()) schedule(); });
  resized.observe(scroller);
  const dark = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  const repaint = () => { pal = readPalette(); vw = 0; schedule(); };
  if (dark) dark.addEventListener('change', repaint);

  return {
    mode: 'canvas',
    render(t) {
      const same = trip && t.tripId === trip.tripId && t.rows === rows && t.cols === cols;
      trip = t;
      rows = t.rows; cols = t.cols; size = t.size;
      if (!same) {
        cur = 0;
        hover = -1;
        sizer.style.width = (LABEL_W + cols * PITCH + PAD) + 'px';
        sizer.style.height = (LABEL_H + rows * PITCH + PAD) + 'px';
        scroller.setAttribute('aria-label', `Seat map, ${rows} rows of ${cols} seats. Arrow keys move between seats, Enter or Space holds or lets go.`);
        scroller.scrollLeft = 0;
        scroller.scrollTop = 0;
      }
      if (cur >= size) cur = 0;
      vw = 0; // sizes are read again: the box may have been laid out anew
      renderCursor();
      drawAll();
    },
    update(seatNo) {
      if (!trip) return;
      const i = trip.indexOf(seatNo);
      if (i < 0) return;
      drawOne(i);
      if (i === cur) renderCursor();
      if (i === hover) scroller.title = label(i).text;
    },
    updateAll() {
      if (!trip) return;
      renderCursor();
      schedule();
    },
    statusOf(seatNo) {
      return trip && trip.indexOf(seatNo) >= 0 ? describe(seatNo).status : null;
    },
    /** Puts the cursor on a seat, scrolls it into view, draws; its centre in client coordinates. */
    reveal(seatNo) {
      const i = trip ? trip.indexOf(seatNo) : -1;
      if (i < 0) return null;
      moveTo(i);
      drawAll();
      const b = scroller.getBoundingClientRect();
      return { x: b.left + scroller.clientLeft + cellX(i) + PITCH / 2, y: b.top + scroller.clientTop + cellY(i) + PITCH / 2 };
    },
    destroy() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      resized.disconnect();
      if (dark) dark.removeEventListener('change', repaint);
      trip = null;
    },
  };
}
