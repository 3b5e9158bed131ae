#!/usr/bin/env python3
"""Real-browser test of the seatcast page (Public/): two headless Chromium instances, A and B.

    page_test.py --url http://127.0.0.1:PORT --trip TRIPID --phone-trip TRIPID --hold-ttl SECONDS --artifacts DIR

Checks, with explicit waits only (no fixed sleeps):
  - both pages load the trip (A through ?trip=, B through the trip picker) and go live;
  - a click on a seat in A shows it held in B within 1 second, and "held by me" in A;
  - A books it and B shows it booked;
  - A holds another seat, releases it, and B shows it available again;
  - the keyboard holds and lets go of a seat (Enter, then Space);
  - a reload of A keeps A's hold (still "held by me");
  - the race control with N=10 reports 1 winner and 9 rejections;
  - a seq gap in B (one event dropped on purpose) makes B resubscribe with `since` and catch up;
  - the "best seats" control with 2 together holds two side-by-side seats of one row for A (B
    shows them held); the Extend button shows only in a hold's last 30 s (A's clock moved on)
    and moves the hold's `until` on;
  - the legend's "held by you" sample claims no hold length before A has held a seat, and the
    server's hold TTL (--hold-ttl) once it has;
  - no Content-Security-Policy violation or uncaught script error in either console;
  - on a phone (a 390x844 screen) a 10-column trip (--phone-trip) is fully reachable: with the
    seat map scrolled to its start, column A and the row numbers lie inside its scroll box; scrolled
    to its end, the last column does; the page itself never scrolls sideways;
  - the page's Content-Security-Policy lets it open WebSockets to its own origin only;
  - the page is ES modules, each served as text/javascript, and the protocol client
    (seatcast-client.js) imports on its own in a page under that policy, as another page would.

On failure: screenshots, console logs and the DOM of both browsers go to DIR, the failure is
printed, exit status 1. On success: prints `page_test: ok` (screenshots of both are kept in DIR,
with A-phone.png: the phone trip at 390 px, scrolled to its start).
Needs Debian's chromium, chromium-driver and python3-selenium.
"""

import argparse
import os
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

sys.dont_write_bytecode = True  # no __pycache__ next to the test in the source tree
from page_driver import (  # noqa: E402 (after the line above)
    GAP_PROBE, Failure, attr, check, check_console, legend_hold, logs, mmss, run_browsers, save_artifacts,
    seat, seat_status, wait, wait_ready, wait_status,
)


def run(url, trip, hold_ttl, a, b):
    base = url.rstrip("/")
    # A preselects the trip through the URL; B picks it in the trip picker.
    a.get(f"{base}/?trip={trip}")
    b.get(f"{base}/")
    # 30 s: under a loaded machine's first run, the page's first GET /api/trips once got an
    # empty response (after 7.5 s); the page asks again 3 s after a failed load, which the
    # default 10 s wait did not leave room for.
    wait(b, f"trip {trip} in the picker",
         lambda drv: drv.find_elements(By.CSS_SELECTOR, f'#trip-select option[value="{trip}"]')
         and drv.find_element(By.ID, "trip-select").is_enabled(), timeout=30)
    Select(b.find_element(By.ID, "trip-select")).select_by_value(trip)
    wait_ready(a, trip)
    wait_ready(b, trip)
    check(f"trip={trip}" in b.current_url, f"the picker did not put ?trip={trip} in B's URL: {b.current_url}")

    name = a.find_element(By.ID, "trip-name").text.strip()
    check(name and name != "Choose a trip", f"no trip name shown (got {name!r})")
    counts = {k: attr(a, f"#count-{k}", "data-count") for k in ("available", "held", "booked")}
    check(all(v is not None and v.isdigit() for v in counts.values()), f"counts not shown: {counts}")
    total = len(a.find_elements(By.CSS_SELECTOR, "#seatmap [data-seat]"))
    check(sum(int(v) for v in counts.values()) == total, f"counts {counts} do not add up to {total} seats")
    label = seat(a, "1A").get_attribute("aria-label") if a.find_elements(By.CSS_SELECTOR, '[data-seat="1A"]') else ""
    check(label.startswith("Seat 1A, "), f"seat 1A has no useful aria-label: {label!r}")

    free = [e.get_attribute("data-seat") for e in a.find_elements(By.CSS_SELECTOR, '#seatmap [data-status="available"]')]
    check(len(free) >= 7, f"need 7 available seats on trip {trip}, found {len(free)}")
    s_book, s_release, s_keys, s_reload, s_race = free[0], free[1], free[2], free[3], free[-1]

    # 0. Before any hold, the legend claims no hold length (the page has not learnt it yet).
    tag, secs = legend_hold(a)
    check(secs is None and not any(c.isdigit() for c in tag),
          f"the legend shows a hold length ({tag!r}, {secs}) before the page has seen a hold")

    # 1. Hold in A: B sees it held within one second; A sees it as its own.
    seat(a, s_book).click()
    t0 = time.monotonic()
    wait_status(b, s_book, "held", timeout=1.0)
    held_after = time.monotonic() - t0
    wait_status(a, s_book, "mine")
    wait(a, f"{s_book} in 'Your seats' with a countdown",
         lambda drv: any(":" in e.text for e in drv.find_elements(By.CSS_SELECTOR, f'#my-seats [data-seat="{s_book}"]')))
    # The legend now shows the server's hold length (learnt from the hold's `until`; the reply
    # can only add the request's own latency to it).
    wait(a, "the legend to show a hold length", lambda drv: legend_hold(drv)[1] is not None)
    tag, secs = legend_hold(a)
    check(hold_ttl <= secs <= hold_ttl + 5 and tag == mmss(secs),
          f"the legend's hold length is {tag!r} ({secs} s); the server's hold TTL is {hold_ttl} s ({mmss(hold_ttl)})")

    # 2. Book in A: B sees it booked.
    wait(a, "the Book button to be enabled", lambda drv: drv.find_element(By.ID, "book").is_enabled())
    a.find_element(By.ID, "book").click()
    wait_status(b, s_book, "booked")
    wait_status(a, s_book, "booked")

    # 3. Hold another seat in A, release it: B sees it available again.
    seat(a, s_release).click()
    wait_status(a, s_release, "mine")
    wait_status(b, s_release, "held")
    wait(a, "the Release button to be enabled", lambda drv: drv.find_element(By.ID, "release").is_enabled())
    a.find_element(By.ID, "release").click()
    wait_status(b, s_release, "available")
    wait_status(a, s_release, "available")

    # 4. Keyboard: Enter holds a focused seat, Space lets it go.
    seat(a, s_keys).send_keys(Keys.ENTER)
    wait_status(a, s_keys, "mine")
    wait_status(b, s_keys, "held")
    check(seat(a, s_keys).get_attribute("aria-label") == f"Seat {s_keys}, held by you",
          f"aria-label of {s_keys}: {seat(a, s_keys).get_attribute('aria-label')!r}")
    seat(a, s_keys).send_keys(Keys.SPACE)
    wait_status(a, s_keys, "available")
    wait_status(b, s_keys, "available")

    # 5. A reload keeps A's hold.
    seat(a, s_reload).click()
    wait_status(a, s_reload, "mine")
    wait_status(b, s_reload, "held")
    logs(a)
    a.refresh()
    wait_ready(a, trip)
    wait_status(a, s_reload, "mine")
    wait(a, f"{s_reload} in 'Your seats' after the reload",
         lambda drv: drv.find_elements(By.CSS_SELECTOR, f'#my-seats [data-seat="{s_reload}"][data-status="mine"]'))
    check(seat_status(b, s_reload) == "held", f"B shows {s_reload} as {seat_status(b, s_reload)} after A's reload")
    # The server still agrees it is A's: releasing it from A frees it in B.
    seat(a, s_reload).click()
    wait_status(b, s_reload, "available")

    # 6. The race: N=10 connections, one seat, one winner.
    n_input = a.find_element(By.ID, "race-n")
    n_input.clear()
    n_input.send_keys("10")
    Select(a.find_element(By.ID, "race-seat")).select_by_value(s_race)
    wait(a, "the race button to be enabled", lambda drv: drv.find_element(By.ID, "race-run").is_enabled())
    a.find_element(By.ID, "race-run").click()
    wait(a, "the race to finish", lambda drv: attr(drv, "#race-result", "data-state") == "done", timeout=30)
    winners = attr(a, "#race-result", "data-winners")
    rejections = attr(a, "#race-result", "data-rejections")
    summary = a.find_element(By.ID, "race-summary").text
    check(winners == "1" and rejections == "9",
          f"race with N=10 on {s_race}: winners={winners} rejections={rejections} ({summary!r})")
    check("1 winner" in summary and "9 rejections" in summary, f"race summary does not say 1 winner, 9 rejections: {summary!r}")
    # The winner released its hold afterwards (the default): everyone sees the seat free again.
    wait_status(a, s_race, "available")
    wait_status(b, s_race, "available")

    # 7. A seq gap: B misses one event, notices the gap at the next one, resubscribes with
    #    `since` and gets the replay.
    s_gap1, s_gap2 = free[4], free[5]
    b.execute_script("window.__dropNext = true")
    seat(a, s_gap1).click()
    wait_status(a, s_gap1, "mine")
    wait(b, "B to drop the seat_locked event", lambda drv: drv.execute_script("return window.__dropped.length") == 1)
    check(seat_status(b, s_gap1) == "available", f"the probe did not drop {s_gap1}'s event in B")
    seat(a, s_gap2).click()
    wait_status(a, s_gap2, "mine")
    wait_status(b, s_gap2, "held")
    wait_status(b, s_gap1, "held")
    resumes = b.execute_script("return window.__sent.filter((x) => x.includes('\"since\"'))")
    check(resumes and '"subscribe"' in resumes[-1], f"B caught up without a subscribe with since: {b.execute_script('return window.__sent')}")
    a.find_element(By.ID, "release").click()
    wait_status(b, s_gap1, "available")
    wait_status(b, s_gap2, "available")

    # 8. Best seats: 2 together picks two side-by-side seats in one row, "mine" in A, held in B.
    before = set(e.get_attribute("data-seat") for e in a.find_elements(By.CSS_SELECTOR, '#seatmap [data-status="mine"]'))
    count = a.find_element(By.ID, "best-count")
    count.clear()
    count.send_keys("2")
    if not a.find_element(By.ID, "best-together").is_selected():
        a.find_element(By.ID, "best-together").click()
    wait(a, "the best-seats button to be enabled", lambda drv: drv.find_element(By.ID, "best-run").is_enabled())
    a.find_element(By.ID, "best-run").click()
    pair = wait(a, "two seats held by A after best seats", lambda drv: (lambda m: m if len(m) == 2 else None)(
        [e for e in drv.find_elements(By.CSS_SELECTOR, '#seatmap [data-status="mine"]') if e.get_attribute("data-seat") not in before]))
    spots = sorted((int(e.get_attribute("data-row")), int(e.get_attribute("data-col")), e.get_attribute("data-seat")) for e in pair)
    check(spots[0][0] == spots[1][0] and spots[1][1] - spots[0][1] == 1, f"best 2 together gave {spots}: not side by side in one row")
    for _, _, s in spots:
        wait_status(b, s, "held")

    # 9. Extend: shows in a hold's last 30 s (A's clock is moved on to there: no waiting), and
    #    moves the hold's `until` on.
    check(not a.find_element(By.ID, "extend").is_displayed(), "Extend shows with the whole hold left")
    first = spots[0][2]
    mine_li = f'#my-seats [data-seat="{first}"]'
    until0 = attr(a, mine_li, "data-until")
    a.execute_script("const now = Date.now.bind(Date), d = arguments[0] * 1000; window.__realNow = now;"
                     "Date.now = () => now() + d;", hold_ttl - 20)
    wait(a, "the Extend button in the hold's last 30 s", lambda drv: drv.find_element(By.ID, "extend").is_displayed()
         and drv.find_element(By.ID, "extend").is_enabled())
    ext = a.find_element(By.ID, "extend")
    a.execute_script("arguments[0].scrollIntoView({block: 'center'})", ext)  # not under the sticky top bar
    ext.click()
    wait(a, f"{first}'s hold to run longer after Extend (until was {until0})",
         lambda drv: (attr(drv, mine_li, "data-until") or "") > until0)
    a.execute_script("Date.now = window.__realNow")
    wait_status(a, first, "mine")
    a.find_element(By.ID, "release").click()
    for _, _, s in spots:
        wait_status(b, s, "available")

    # 10. No CSP violations, no uncaught errors.
    for d in (a, b):
        check_console(d)
    return held_after


# The box of an element and of the seat map's scroll box (its padding box, where content shows).
GEOMETRY = """
const box = document.querySelector('.coach');
const el = arguments[0];
const b = box.getBoundingClientRect(), r = el.getBoundingClientRect();
const left = b.left + box.clientLeft, right = left + box.clientWidth;
const x = r.left + r.width / 2, y = r.top + r.height / 2;
const hit = document.elementFromPoint(x, y);
return {left: r.left, right: r.right, boxLeft: left, boxRight: right, scrollLeft: box.scrollLeft,
        hittable: !!hit && (hit === el || el.contains(hit))};
"""


def phone(url, trip, d, artifacts):
    """A 10-column trip on a 390x844 phone screen: every column and the row numbers reachable."""
    base = url.rstrip("/")
    since = len(logs(d))
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    d.get(f"{base}/?trip={trip}")
    wait_ready(d, trip)
    width = d.execute_script("return window.innerWidth")
    check(width == 390, f"the phone viewport is {width} px wide, not 390")
    last_col = d.execute_script(
        "return Math.max(...[...document.querySelectorAll('#seatmap [data-seat]')].map((e) => +e.dataset.col))")
    check(last_col == 10, f"the phone trip should have 10 columns, the page shows {last_col}")
    first = d.find_element(By.CSS_SELECTOR, '#seatmap [data-row="1"][data-col="1"]')
    last = d.find_element(By.CSS_SELECTOR, f'#seatmap [data-row="1"][data-col="{last_col}"]')
    row_label = d.find_elements(By.CSS_SELECTOR, "#seatmap .row-label")[0]
    col_label = d.find_elements(By.CSS_SELECTOR, "#seatmap .col-label")[0]

    overflow = d.execute_script("const b = document.querySelector('.coach'); return b.scrollWidth - b.clientWidth")
    check(overflow > 0, "at 390 px the 10-column map should need to scroll sideways (the test would prove nothing)")
    page = d.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check(page <= 0, f"the page itself is {page} px wider than the phone screen")

    d.execute_script("document.querySelector('.coach').scrollLeft = 0")
    os.makedirs(artifacts, exist_ok=True)
    d.save_screenshot(os.path.join(artifacts, f"{d.seatcast_name}-phone.png"))
    for name, el in (("seat " + first.get_attribute("data-seat"), first), ("row number 1", row_label),
                     ("column label " + col_label.text, col_label)):
        g = d.execute_script(GEOMETRY, el)
        check(g["left"] >= g["boxLeft"] - 0.5 and g["right"] <= g["boxRight"] + 0.5,
              f"scrolled to the start, {name} is at {g['left']:.0f}..{g['right']:.0f}, outside the seat map's "
              f"box {g['boxLeft']:.0f}..{g['boxRight']:.0f}: unreachable")
        check(g["hittable"], f"{name} is covered by something else at the start of the seat map")

    d.execute_script("const b = document.querySelector('.coach'); b.scrollLeft = b.scrollWidth")
    g = d.execute_script(GEOMETRY, last)
    check(g["scrollLeft"] > 0, "the seat map did not scroll")
    check(g["left"] >= g["boxLeft"] - 0.5 and g["right"] <= g["boxRight"] + 0.5,
          f"scrolled to the end, seat {last.get_attribute('data-seat')} is at {g['left']:.0f}..{g['right']:.0f}, "
          f"outside the seat map's box {g['boxLeft']:.0f}..{g['boxRight']:.0f}: unreachable")
    check(g["hittable"], f"seat {last.get_attribute('data-seat')} is covered by something else at the end of the seat map")
    check_console(d, since)


# Opens a WebSocket to `arguments[0]` from the page and reports what happened: the page's CSP
# must refuse it (a securitypolicyviolation for connect-src) instead of letting it open.
CSP_PROBE = """
const url = arguments[0], done = arguments[arguments.length - 1];
const seen = {violation: null, opened: false, closed: false, thrown: null};
let finished = false;
const finish = () => { if (!finished) { finished = true; done(seen); } };
document.addEventListener('securitypolicyviolation', (e) => {
  if (e.blockedURI && e.blockedURI.indexOf(new URL(url).host) >= 0) {
    seen.violation = e.effectiveDirective || e.violatedDirective;
    setTimeout(finish, 0);
  }
});
try {
  const ws = new WebSocket(url);
  ws.onopen = () => { seen.opened = true; ws.close(); finish(); };
  ws.onclose = () => { seen.closed = true; };
} catch (e) {
  seen.thrown = String(e);
}
setTimeout(finish, 8000);
"""


def csp_probe(url, d):
    """The page may open WebSockets to its own origin (it went live) and to no other."""
    base = url.rstrip("/")
    host = base.split("//", 1)[1]
    other = host.replace("127.0.0.1", "localhost") if "127.0.0.1" in host else host.replace("localhost", "127.0.0.1")
    d.set_script_timeout(15)
    seen = d.execute_async_script(CSP_PROBE, f"ws://{other}/ws")
    check(not seen["opened"], f"the page opened a WebSocket to another origin (ws://{other}/ws): {seen}")
    check(seen["violation"] == "connect-src",
          f"no connect-src violation for a WebSocket to another origin (ws://{other}/ws): {seen}")


# The page's module scripts (from the resource timings) with their Content-Type, and what a
# dynamic import of the protocol client alone exports.
MODULES_PROBE = """
const done = arguments[arguments.length - 1];
const urls = performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.endsWith('.js'));
Promise.all(urls.map((u) => fetch(u, {cache: 'no-store'}).then((r) => [new URL(u).pathname, r.headers.get('content-type')])))
  .then((types) => import('/seatcast-client.js').then((m) => done({types, exports: Object.keys(m).sort()})))
  .catch((e) => done({error: String(e)}));
"""


def modules(d):
    """Every module of the page is served as JavaScript; the protocol client imports on its own."""
    seen = d.execute_async_script(MODULES_PROBE)
    check("error" not in seen, f"probing the page's modules failed: {seen}")
    types = dict(seen["types"])
    check({"/app.js", "/seatcast-client.js", "/seat-map.js"} <= set(types), f"the page did not load its modules: {types}")
    bad = {p: t for p, t in types.items() if not (t or "").startswith("text/javascript")}
    check(not bad, f"modules served with a type browsers refuse for modules: {bad}")
    check("SeatcastClient" in seen["exports"], f"seatcast-client.js exports {seen['exports']}")
    scripts = d.execute_script("return [...document.scripts].map((s) => [s.getAttribute('src'), s.type])")
    check(scripts == [["app.js", "module"]], f"the page should load app.js as its only (module) script: {scripts}")
    return sorted(types)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--trip", required=True, help="a trip id with at least 7 available seats")
    ap.add_argument("--phone-trip", required=True, help="a trip id with 10 columns")
    ap.add_argument("--hold-ttl", required=True, type=int, help="the server's hold TTL, whole seconds")
    ap.add_argument("--artifacts", required=True, help="directory for screenshots and logs")
    args = ap.parse_args()

    def body(drivers):
        held_after = run(args.url, args.trip, args.hold_ttl, *drivers)
        phone(args.url, args.phone_trip, drivers[0], args.artifacts)
        csp_probe(args.url, drivers[0])
        loaded = modules(drivers[0])
        save_artifacts(args.artifacts, drivers, "-ok")
        return [f"hold seen in B {held_after * 1000:.0f} ms after the click in A", f"modules {' '.join(loaded)}"]

    run_browsers("page_test", args.artifacts, [("A", None), ("B", GAP_PROBE)], body)


if __name__ == "__main__":
    main()
