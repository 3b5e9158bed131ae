// seatcast seat-map page: the entry module. Plain ES modules, no dependencies, CSP-clean (no
// inline script or style, no eval). Wires the protocol client (seatcast-client.js) to the map
// (seat-map.js), this tab's holds (holds.js) and the race demo (race.js), and owns what is left:
// the trip picker, the trip's heading and counts, the connection indicator. A buyer token (a
// server run with --token-secret) comes through auth.js and signin.js; open mode needs none.
// The wire protocol: docs/PROTOCOL.md, version 1; the page asks for the compact snapshot of 1.1
// and takes the full one from servers that do not know it.

import { SeatcastClient } from './seatcast-client.js';
import { createSeatMap } from './seat-map.js';
import { createHolds } from './holds.js';
import { createRace } from './race.js';
import { BuyerAuth } from './auth.js';
import { createSignin } from './signin.js';
import { $, el, errorText, say, store, wsUrl } from './ui.js';

// ---------------------------------------------------------------- page state

/** The trip list (GET /api/trips) and the trip shown. Changed only by setTrips, noteAvailable
 *  and showTrip. */
const page = { trips: [], tripId: null };
/** What the connection indicator shows; changed only by renderConn. */
let conn = 'connecting';
/** The indicator says "offline" (sticky until live again). Set by connView and the browser's
 *  offline event, cleared by connView. */
let offline = false;

/** The buyer token, in memory only (none in open mode). */
const auth = new BuyerAuth();
/** Asked on every (re)connect: carries the current token as ?token=. */
const socketUrl = () => auth.url(wsUrl('/ws'));
const client = new SeatcastClient({ url: socketUrl, compact: true });
const signin = createSignin({ client, auth, stopped: signedOut });
const holds = createHolds({ client, changed: seatsChanged });
const map = createSeatMap($('seatmap'), {
  describe: (no) => holds.describe(no), onActivate: (no) => holds.toggle(no),
  mode: new URLSearchParams(location.search).get('map') || 'auto',
});
const race = createRace({ url: socketUrl, currentTrip, statusOf: (no) => holds.describe(no).status, changed: updateActions });

function currentTrip() { return page.tripId ? client.trip(page.tripId) : null; }

// ---------------------------------------------------------------- protocol -> page

client.on('status', renderConn);

client.on('snapshot', (trip) => {
  if (trip.tripId !== page.tripId) return;
  const first = !performance.getEntriesByName('seatcast:snapshot').length;
  if (first) performance.mark('seatcast:snapshot', { detail: { tripId: trip.tripId, seats: trip.size } });
  holds.reconcile();
  map.render(trip);
  race.setSeats(trip);
  renderAll();
  $('app').dataset.ready = 'true';
  // User Timing for DevTools and the browser tests: the first snapshot of this page load was
  // loaded (above), and the frame that shows it (here) - "navigation -> map usable".
  if (first) requestAnimationFrame(() => performance.mark('seatcast:map-ready', { detail: { tripId: trip.tripId, seats: trip.size, mode: map.mode } }));
});

client.on('seat', (tripId, seat, cause) => {
  if (tripId !== page.tripId) return;
  holds.seatChanged(seat, cause);
  seatsChanged([seat.seatNo]);
});

client.on('subscribeError', (tripId, m) => {
  if (tripId === page.tripId && m.code === 'unknown_trip') {
    $('trip-name').textContent = 'Trip not found';
    $('trip-sub').textContent = `There is no trip "${tripId}". Choose another one above.`;
    map.clear('No such trip.');
  }
  say(errorText(m), 'error');
});

client.on('error', (m) => say(errorText(m), 'error'));

/** The page has no usable token (signin.js stopped the connection): say so where the map was. */
function signedOut(kind, text) {
  $('app').dataset.auth = kind;
  $('trip-sub').textContent = text;
  map.clear(text);
  say(text, 'error', true);
  renderConn();
}

/** Reconnect now, unless only the site can help (no token, or an expired one). */
function reconnect() { if (!signin.blocked) client.reconnectNow(); }

// ---------------------------------------------------------------- rendering

function seatsChanged(seats) {
  for (const s of seats) map.update(s);
  renderCounts();
  holds.renderMine();
  updateActions();
}

/** What the indicator shows: connecting, live, reconnecting or offline. */
function connView(s) {
  if (signin.blocked) return 'signin';
  if (s.state === 'live') { offline = false; return 'live'; }
  if (s.state === 'reconnecting' && !s.socket && (navigator.onLine === false || s.attempts > 5)) offline = true;
  if (offline || s.state === 'closed') return 'offline';
  return s.state === 'reconnecting' ? 'reconnecting' : 'connecting';
}

function renderConn() {
  const s = client.status;
  const v = connView(s);
  conn = v;
  $('conn').dataset.state = v;
  document.body.dataset.conn = v;
  const left = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
  const labels = {
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: s.socket ? 'Reconnecting…' : `Reconnecting in ${left}s…`,
    offline: s.socket ? 'Offline · trying…' : `Offline · retry in ${left}s`,
    signin: signin.blocked === 'expired' ? 'Session expired' : 'Sign-in needed',
  };
  const label = $('conn-label');
  if (label.textContent !== labels[v]) label.textContent = labels[v];
  $('conn-retry').hidden = !(v === 'reconnecting' || v === 'offline');
  updateActions();
}

function updateActions() {
  const trip = currentTrip();
  const loaded = !!trip && trip.loaded;
  const live = conn === 'live' && loaded;
  const n = loaded ? holds.heldSeats().length : 0;
  $('book').disabled = !(live && n > 0);
  $('book').hidden = !holds.canConfirm(); // the server books at the site's checkout only
  $('release').disabled = !(live && n > 0);
  $('book').textContent = n > 1 ? `Book ${n} seats` : 'Book';
  $('release').textContent = n > 1 ? `Release ${n}` : 'Release';
  $('race-run').disabled = !(live && race.canRun());
  $('best-run').disabled = !live;
}

function renderHead() {
  const trip = currentTrip();
  const loaded = !!trip && trip.loaded;
  const t = page.trips.find((x) => x.tripId === page.tripId);
  const name = loaded ? trip.name : (t ? t.name : page.tripId || 'Choose a trip');
  $('trip-name').textContent = name;
  document.title = (page.tripId ? name + ' · ' : '') + 'seatcast';
  $('trip-sub').textContent = loaded
    ? `Trip ${page.tripId} · ${trip.size} seats in ${trip.rows} rows · updates live`
    : (page.tripId ? `Trip ${page.tripId} · loading seats…` : 'Seats update live for everyone watching this trip.');
}

function renderCounts() {
  const trip = currentTrip();
  const loaded = !!trip && trip.loaded;
  const n = loaded ? trip.counts() : { available: 0, held: 0, booked: 0 }; // kept by the map: O(1)
  for (const k of Object.keys(n)) {
    const e = $('count-' + k);
    const text = loaded ? String(n[k]) : '–';
    if (e.textContent !== text) e.textContent = text;
    e.dataset.count = text;
  }
  // Keep the picker's "free" figure for this trip current too.
  const t = loaded && noteAvailable(page.tripId, n.available);
  if (t) {
    const o = [...$('trip-select').options].find((x) => x.value === page.tripId);
    if (o) o.textContent = tripOptionText(t);
  }
}

function renderAll() {
  renderHead();
  map.updateAll();
  renderCounts();
  holds.renderMine();
  updateActions();
}

/** Once a second: the countdowns, and the retry countdown of the indicator. */
function tick() {
  holds.tick();
  for (const s of holds.heldSeats()) map.update(s);
  if (conn === 'reconnecting' || conn === 'offline') renderConn();
}

// ---------------------------------------------------------------- trips

function setTrips(list) {
  page.trips = Array.isArray(list) ? list : [];
}

/** Records a trip's available count in the list; returns its entry when that changed it. */
function noteAvailable(tripId, available) {
  const i = page.trips.findIndex((x) => x.tripId === tripId);
  if (i < 0 || page.trips[i].available === available) return null;
  page.trips[i] = { ...page.trips[i], available };
  return page.trips[i];
}

async function loadTrips() {
  try {
    // The list comes in pages (`next` names the page after); a venue has few trips, so
    // follow them, up to 10 pages of 1,000.
    const all = [];
    let after = null;
    for (let pages = 0; pages < 10; pages++) {
      const q = '/api/trips?limit=1000' + (after ? '&after=' + encodeURIComponent(after) : '');
      const r = await fetch(q, { cache: 'no-store', headers: auth.headers() });
      if (r.status === 401) signin.apiRefused(401);
      if (r.status === 403) break; // a token for some trips only: no list, the trip in the URL still shows
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const body = await r.json();
      all.push(...body.trips);
      if (!body.next) break;
      after = body.next;
    }
    setTrips(all);
  } catch (e) {
    if (signin.blocked) return;
    if (!page.trips.length) say('Could not load the trip list (' + e.message + '). Retrying…', 'warn');
    setTimeout(loadTrips, 3000);
    return;
  }
  renderTripSelect();
  if (page.tripId) return;
  const last = store.get('seatcast.trip');
  const pick = (page.trips.find((t) => t.tripId === last) || page.trips.find((t) => t.tripId === 'demo') || page.trips[0] || {}).tripId;
  if (pick) showTrip(pick);
  else {
    $('trip-name').textContent = 'No trips yet';
    $('trip-sub').textContent = 'Create one with: seatcast trip create ID --name NAME --rows 12 --cols 4';
  }
}

function tripOptionText(t) {
  let text = t.name && t.name !== t.tripId ? `${t.name} (${t.tripId})` : t.tripId;
  if (typeof t.available === 'number' && typeof t.seats === 'number') text += ` · ${t.available}/${t.seats} free`;
  return text;
}

function renderTripSelect() {
  const sel = $('trip-select');
  sel.replaceChildren();
  const list = page.trips.slice();
  const trip = currentTrip();
  if (page.tripId && !list.some((t) => t.tripId === page.tripId)) {
    list.unshift({ tripId: page.tripId, name: trip && trip.loaded ? trip.name : page.tripId });
  }
  if (!list.length) sel.appendChild(el('option', null, 'No trips'));
  for (const t of list) {
    const o = el('option', null, tripOptionText(t));
    o.value = t.tripId;
    sel.appendChild(o);
  }
  sel.disabled = !list.length;
  if (page.tripId) sel.value = page.tripId;
}

/** Shows trip `id`: forgets the old one, subscribes to the new one. */
function showTrip(id) {
  if (!id || id === page.tripId) return;
  if (page.tripId) client.unsubscribe(page.tripId);
  page.tripId = id;
  holds.load(id);
  store.set('seatcast.trip', id);
  const url = new URL(location.href);
  url.searchParams.set('trip', id);
  history.replaceState(null, '', url);
  $('app').dataset.ready = 'false';
  $('app').dataset.trip = id;
  map.clear('Loading seats…');
  race.setSeats(null);
  race.reset();
  renderTripSelect();
  renderAll();
  client.subscribe(id);
  if (!signin.blocked) client.connect(); // no-op when connected or connecting
}

// ---------------------------------------------------------------- start

async function start() {
  $('ws-url').textContent = wsUrl('/ws');
  holds.renderLegend();
  $('trip-select').addEventListener('change', (e) => showTrip(e.target.value));
  $('book').addEventListener('click', holds.bookAll);
  $('release').addEventListener('click', holds.releaseAll);
  $('extend').addEventListener('click', holds.extend);
  $('best-form').addEventListener('submit', (e) => {
    e.preventDefault();
    holds.best($('best-count').value, $('best-together').checked);
  });
  $('conn-retry').addEventListener('click', reconnect);
  window.addEventListener('online', reconnect);
  window.addEventListener('offline', () => { if (!client.isOpen()) { offline = true; renderConn(); } });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) reconnect(); });
  setInterval(tick, 1000);
  // The token first (none in open mode: GET /api/token answers 404 there, at once).
  await signin.start();

  const fromUrl = new URLSearchParams(location.search).get('trip');
  if (fromUrl) showTrip(fromUrl); // no need to wait for the list
  else client.connect();
  loadTrips();
}

// A module runs after the document is parsed.
start();
