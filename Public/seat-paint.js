// seat-paint.js: how one seat and the row / column bands of the canvas seat map look (seat-canvas.js
// decides which seats are drawn, where, and when). Colour is never the only cue, as in the grid:
// available seats are outlined, held ones striped with a dashed edge, yours solid with a star,
// booked ones crossed out. Everything is in CSS px; the caller has set the device-pixel transform.

import { AVAILABLE, HELD, BOOKED, columnLabel } from './trip-map.js';

export const PITCH = 24;             // CSS px from one seat to the next (the gap included)
const SEAT = 20;                     // a seat's box
const INSET = (PITCH - SEAT) / 2;
export const LABEL_W = 36;           // the row numbers' band on the left
export const LABEL_H = 20;           // the column labels' band on top
export const PAD = 8;                // past the last row and column

/** The page's colours (style.css custom properties; they follow light / dark mode). */
export function readPalette() {
  const cs = getComputedStyle(document.documentElement);
  const v = (name, fallback) => cs.getPropertyValue(name).trim() || fallback;
  return {
    bg: v('--surface-2', '#f7f8fb'), surface: v('--surface', '#fff'), text: v('--text', '#111827'),
    muted: v('--muted', '#5b6475'), border: v('--border', '#dfe3ea'), green: v('--green', '#009E73'),
    blue: v('--blue', '#0072B2'), blueDeep: v('--blue-deep', '#00507e'), orange: v('--orange', '#E69F00'),
    booked: v('--booked', '#5f6674'), bookedDeep: v('--booked-deep', '#3d434e'),
    held: '#f7cf72', heldEdge: '#a86f00', bookedMark: '#eef0f4',
  };
}

/** The held seats' stripes (as in style.css): pale bands at 135 degrees over amber. */
export function stripes(ctx, p, dpr) {
  const n = Math.round(9 * dpr);
  const c = document.createElement('canvas');
  c.width = c.height = n;
  const g = c.getContext('2d');
  g.fillStyle = p.held;
  g.fillRect(0, 0, n, n);
  g.strokeStyle = 'rgba(255, 255, 255, .6)';
  g.lineWidth = 3 * dpr;
  g.beginPath();
  for (const o of [-n, 0, n]) { g.moveTo(o, 0); g.lineTo(o + n, n); }
  g.stroke();
  const pat = ctx.createPattern(c, 'repeat');
  if (pat && pat.setTransform && typeof DOMMatrix === 'function') pat.setTransform(new DOMMatrix([1 / dpr, 0, 0, 1 / dpr, 0, 0]));
  return pat || p.held;
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(x, y, w, h, r);
  else ctx.rect(x, y, w, h);
}

function star(ctx, cx, cy, R) {
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const a = -Math.PI / 2 + k * Math.PI / 5;
    const rr = k % 2 ? R * 0.45 : R;
    ctx.lineTo(cx + rr * Math.cos(a), cy + rr * Math.sin(a));
  }
  ctx.closePath();
}

/** Seat `d` (describe(): status, busy, urgent, yours) with trip-map status `code` in the cell at
 *  (x, y), the cell cleared first; `hovered` adds the mouse's highlight. The caller has clipped to
 *  the seats' area. `heldFill` is stripes() for the current device pixel ratio. */
export function paintSeat(ctx, pal, heldFill, x, y, code, d, hovered) {
  ctx.fillStyle = pal.bg;
  ctx.fillRect(x, y, PITCH, PITCH);
  const sx = x + INSET, sy = y + INSET;
  ctx.globalAlpha = d.busy ? 0.5 : 1;
  ctx.lineWidth = 2;
  ctx.setLineDash([]);
  if (d.status === 'mine') {
    roundRect(ctx, sx, sy, SEAT, SEAT, 5);
    ctx.fillStyle = pal.blue;
    ctx.fill();
    ctx.strokeStyle = d.urgent ? pal.orange : pal.blueDeep;
    ctx.stroke();
    star(ctx, sx + SEAT / 2, sy + SEAT / 2 + 0.5, 6.5);
    ctx.fillStyle = '#fff';
    ctx.fill();
  } else if (code === HELD) {
    roundRect(ctx, sx + 1, sy + 1, SEAT - 2, SEAT - 2, 4);
    ctx.fillStyle = heldFill;
    ctx.fill();
    ctx.setLineDash([3, 2]);
    ctx.strokeStyle = pal.heldEdge;
    ctx.stroke();
    ctx.setLineDash([]);
  } else if (code === BOOKED) {
    roundRect(ctx, sx, sy, SEAT, SEAT, 5);
    ctx.fillStyle = pal.booked;
    ctx.fill();
    ctx.strokeStyle = d.yours ? pal.blue : pal.bookedDeep;
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(sx + 6, sy + 6); ctx.lineTo(sx + SEAT - 6, sy + SEAT - 6);
    ctx.moveTo(sx + SEAT - 6, sy + 6); ctx.lineTo(sx + 6, sy + SEAT - 6);
    ctx.strokeStyle = pal.bookedMark;
    ctx.stroke();
  } else if (code === AVAILABLE) {
    roundRect(ctx, sx + 1, sy + 1, SEAT - 2, SEAT - 2, 4);
    ctx.fillStyle = pal.surface;
    ctx.fill();
    if (hovered) {
      ctx.globalAlpha = 0.2;
      ctx.fillStyle = pal.green;
      ctx.fill();
      ctx.globalAlpha = d.busy ? 0.5 : 1;
    }
    ctx.strokeStyle = pal.green;
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  if (hovered && d.status !== 'available') {
    roundRect(ctx, x + 0.5, y + 0.5, PITCH - 1, PITCH - 1, 6);
    ctx.lineWidth = 1;
    ctx.strokeStyle = pal.text;
    ctx.stroke();
  }
}

/** The bands over the seats at scroll position (sl, st) of a canvas vw x vh: the labels of
 *  columns c0..c1 (of `cols`) and rows r0..r1, and their edges. They stay put while the seats
 *  scroll under them. */
export function paintBands(ctx, pal, { vw, vh, sl, st, c0, c1, r0, r1, cols }) {
  ctx.fillStyle = pal.bg;
  ctx.fillRect(0, 0, vw, LABEL_H);
  ctx.fillRect(0, 0, LABEL_W, vh);
  ctx.fillStyle = pal.muted;
  ctx.font = '700 10px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'center';
  ctx.save();
  ctx.beginPath();
  ctx.rect(LABEL_W, 0, vw, LABEL_H);
  ctx.clip();
  for (let c = c0; c <= c1; c++) ctx.fillText(columnLabel(c + 1, cols), LABEL_W + c * PITCH - sl + PITCH / 2, LABEL_H / 2);
  ctx.restore();
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, LABEL_H, LABEL_W, vh);
  ctx.clip();
  ctx.textAlign = 'right';
  for (let r = r0; r <= r1; r++) ctx.fillText(String(r + 1), LABEL_W - 6, LABEL_H + r * PITCH - st + PITCH / 2);
  ctx.restore();
  ctx.strokeStyle = pal.border;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(LABEL_W - 0.5, LABEL_H); ctx.lineTo(LABEL_W - 0.5, vh);
  ctx.moveTo(LABEL_W, LABEL_H - 0.5); ctx.lineTo(vw, LABEL_H - 0.5);
  ctx.stroke();
}
