#!/usr/bin/env python3
"""The seat-map page at stadium scale: a 500 x 100 trip (50,000 seats) in two headless Chromium, A and B.

    stadium_test.py --url http://127.0.0.1:PORT --trip TRIPID --artifacts DIR

Measures and prints (figures, not assertions: the machine is shared and slow):
  - navigation -> map usable in A and B: from the start of navigation to the animation frame
    that shows the first snapshot (the page's User Timing mark `seatcast:map-ready`), with the
    moment the snapshot was loaded (`seatcast:snapshot`) and what WebDriver saw (get() to ready);
  - click -> shown: from a real pointer click on a seat's cell (the click event's timeStamp) to
    the first animation frame in which the page shows the seat held by you; also seen from
    outside (before the click is sent to the moment WebDriver sees it);
  - A's click -> B shows the hold, and A's release -> B shows the seat free;
  - the JS heap after a garbage collection, the number of DOM elements.
Both pages ask for the compact snapshot and the server sends it; B's WebSocket is wrapped
(before any page script) to record what was sent and received, and the test checks that the page
asked for compact, that the server answered compact, and that both maps agree.
Checks, with explicit waits only: the map is the canvas; the counts add up to 50,000; a click
holds a seat (A: "mine", and B: "held", also through the DOM's `[data-seat][data-status]` of
B's cursor); the map is ONE Tab stop and its keyboard works (arrows, Home / End, Ctrl+Home /
Ctrl+End, PageDown; Enter holds, Space lets go) with an accessible name on the cursor; hovering
names the seat; on a 390 px phone the first column is reachable; no CSP violation or uncaught
error. Generous bounds only: usable within 15 s, a click shown within 2 s.

On failure: screenshots, console logs and the DOM of both browsers go to DIR, exit status 1.
On success: `stadium_test: ok`. Needs Debian's chromium, chromium-driver and python3-selenium.
"""

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ next to the test in the source tree
from page_driver import (  # noqa: E402 (after the lines above)
    Failure, attr, check, check_console, logs, run_browsers, save_artifacts, wait, websocket_probe,
)

ROWS, COLS = 500, 100
SEATS = ROWS * COLS
USABLE_BOUND_S = 15.0
CLICK_BOUND_S = 2.0

MAP = "document.getElementById('seatmap').seatcastMap"

# Injected into B before any page script (DevTools, so the page's CSP does not apply): B's
# WebSocket records each snapshot it receives (size, whether the server sent it compact) and what
# the page sends (the subscribe must ask for `compact`). It changes nothing: the server sends the
# compact form of protocol 1.1 itself.
COMPACT_PROBE = websocket_probe("window.__snapshots = [];", """
    if (typeof data === 'string' && data.indexOf('"snapshot"') >= 0 && data.indexOf('"snapshot"') < 40) {
      const m = JSON.parse(data);
      if (m.type === 'snapshot') window.__snapshots.push({bytes: data.length, compact: m.compact === true});
    }
    return data;""")


def status(d, seat):
    return d.execute_script(f"return {MAP}.statusOf(arguments[0])", seat)


def wait_map_status(d, seat, want, timeout=10.0):
    wait(d, f'seat {seat} to show "{want}" (it shows "{status(d, seat)}")',
         lambda drv: status(drv, seat) == want, timeout, poll=0.01)


def open_trip(d, base, trip):
    """Navigates to the trip; answers the page's own timings and WebDriver's, in ms."""
    t0 = time.monotonic()
    wall = time.time() * 1000
    d.get(f"{base}/?trip={trip}")
    wait(d, "the map to be usable",
         lambda drv: drv.execute_script("return performance.getEntriesByName('seatcast:map-ready').length") > 0,
         timeout=USABLE_BOUND_S + 15)
    outside = (time.monotonic() - t0) * 1000
    marks = d.execute_script("""
        const m = (n) => { const e = performance.getEntriesByName(n)[0]; return e ? e.startTime : null; };
        const nav = performance.getEntriesByType('navigation')[0];
        return {ready: m('seatcast:map-ready'), snapshot: m('seatcast:snapshot'), origin: performance.timeOrigin,
                loaded: nav ? nav.loadEventEnd : null,
                mode: document.getElementById('seatmap').dataset.mode};""")
    wait(d, "connection state live", lambda drv: attr(drv, "#conn", "data-state") == "live")
    marks["outside"] = outside
    marks["late"] = marks["origin"] - wall  # how long after get() the navigation started
    return marks


def counts(d):
    return {k: attr(d, f"#count-{k}", "data-count") for k in ("available", "held", "booked")}


def click_at(d, p):
    ab = ActionBuilder(d)
    ab.pointer_action.move_to_location(int(round(p["x"])), int(round(p["y"]))).click()
    ab.perform()


# Puts the cursor on the seat (scrolled into view) and arms a probe: the click event's timeStamp
# and the first animation frame after the seat shows as "mine". Answers the seat's centre.
ARM_CLICK_PROBE = """
const seat = arguments[0];
const root = document.getElementById('seatmap');
const box = root.querySelector('.seatscroll');
const probe = window.__clickProbe = {clickAt: null, shownAt: null};
box.addEventListener('click', (e) => { probe.clickAt = e.timeStamp; }, {capture: true, once: true});
const poll = () => {
  if (probe.clickAt !== null && root.seatcastMap.statusOf(seat) === 'mine') probe.shownAt = performance.now();
  else requestAnimationFrame(poll);
};
requestAnimationFrame(poll);
return root.seatcastMap.reveal(seat);
"""


# In the other browser: the wall-clock time (ms since the epoch) of the first animation frame in
# which the seat shows `arguments[1]`. Both browsers run on this machine, so their clocks agree.
ARM_SEEN_PROBE = """
const [seat, want] = arguments;
const root = document.getElementById('seatmap');
const probe = window.__seenProbe = {at: null};
const poll = () => {
  if (root.seatcastMap.statusOf(seat) === want) probe.at = performance.timeOrigin + performance.now();
  else requestAnimationFrame(poll);
};
requestAnimationFrame(poll);
"""


def cursor(d):
    return {k: attr(d, "#seatmap .seat-cursor", k) for k in ("data-seat", "data-status", "aria-label", "id")}


def press(d, *keys):
    d.switch_to.active_element.send_keys(*keys)


def heap_mb(d):
    """The page's JS heap after a garbage collection (DevTools), and Chrome's performance.memory figure."""
    d.execute_cdp_cmd("HeapProfiler.enable", {})
    d.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    used = d.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"]
    chrome = d.execute_script("return performance.memory ? performance.memory.usedJSHeapSize : null")
    return used / 1e6, (chrome or 0) / 1e6


def run(url, trip, a, b, artifacts):
    base = url.rstrip("/")
    report = []
    # Both open the trip at once, as a crowd would (and as two would on this machine).
    with ThreadPoolExecutor(2) as pool:
        fa, fb = pool.submit(open_trip, a, base, trip), pool.submit(open_trip, b, base, trip)
        ta, tb = fa.result(), fb.result()
    snaps = b.execute_script("return window.__snapshots")
    check(snaps, "B's probe saw no snapshot")
    check(all(x["compact"] for x in snaps), f"the server sent B a full snapshot: {snaps}")
    subs = [m for m in b.execute_script("return window.__sent") if '"subscribe"' in m]
    check(subs and all('"compact":true' in m for m in subs), f"the page's subscribes do not ask for compact: {subs}")
    for name, t, how in (("A", ta, "the server's compact snapshot"), ("B", tb, "the same, recorded by the probe")):
        check(t["mode"] == "canvas", f"browser {name} shows the 50,000-seat trip as {t['mode']!r}, not the canvas")
        report.append(f"navigation -> map usable in {name} ({how}): {t['ready']:.0f} ms (snapshot loaded at {t['snapshot']:.0f} ms, "
                      f"load event at {t['loaded']:.0f} ms; WebDriver saw it {t['outside']:.0f} ms after get(), "
                      f"which started the navigation after {t['late']:.0f} ms)")
        check(t["ready"] < USABLE_BOUND_S * 1000, f"browser {name}: the map took {t['ready']:.0f} ms to be usable (bound {USABLE_BOUND_S:g} s)")
    report.append(f"snapshot of {SEATS} seats as the server sent it: compact, {snaps[0]['bytes']} bytes")
    # Both gave the same map.
    check(counts(a) == counts(b), f"A counts {counts(a)}, B {counts(b)}")

    n = counts(a)
    check(all(v is not None and v.isdigit() for v in n.values()), f"counts not shown: {n}")
    check(sum(int(v) for v in n.values()) == SEATS, f"counts {n} do not add up to {SEATS}")
    check(n["available"] == str(SEATS), f"a fresh trip should be all available: {n}")

    # One Tab stop: the map has one focusable element, whatever its size.
    stops = a.execute_script("""return [...document.querySelectorAll('#seatmap *')].filter((e) =>
        e.tabIndex >= 0 && !e.disabled && e.getClientRects().length).length""")
    check(stops == 1, f"the 50,000-seat map has {stops} Tab stops, not one")

    # click -> shown, on a seat in the middle of the venue (the map must scroll to it).
    seat = "250-50"
    b.execute_script(ARM_SEEN_PROBE, seat, "held")
    p = a.execute_script(ARM_CLICK_PROBE, seat)
    check(p is not None, f"the map does not know seat {seat}")
    t0 = time.monotonic()
    click_at(a, p)
    wait(a, f"seat {seat} to show as held by me after the click",
         lambda drv: drv.execute_script("return window.__clickProbe.shownAt") is not None, timeout=10, poll=0.01)
    outside = (time.monotonic() - t0) * 1000
    probe = a.execute_script("return window.__clickProbe")
    shown = probe["shownAt"] - probe["clickAt"]
    report.append(f"click -> shown in A: {shown:.0f} ms (click event to the first frame showing it; "
                  f"WebDriver saw it after {outside:.0f} ms)")
    check(shown < CLICK_BOUND_S * 1000, f"a click took {shown:.0f} ms to show (bound {CLICK_BOUND_S:g} s)")
    wait_map_status(b, seat, "held")
    outside = (time.monotonic() - t0) * 1000
    wait(b, "B's probe to see the hold", lambda drv: drv.execute_script("return window.__seenProbe.at") is not None)
    clicked = a.execute_script("return performance.timeOrigin + window.__clickProbe.clickAt")
    seen = b.execute_script("return window.__seenProbe.at") - clicked
    report.append(f"click in A -> hold shown in B: {seen:.0f} ms (A's click event to B's first frame showing it; "
                  f"WebDriver saw it after {outside:.0f} ms)")
    check(seen < 10000, f"B showed A's hold {seen:.0f} ms after the click")
    wait(a, "counts to show the hold", lambda drv: counts(drv) == {"available": str(SEATS - 1), "held": "1", "booked": "0"})
    wait(a, f"{seat} in 'Your seats' with a countdown",
         lambda drv: any(":" in e.text for e in drv.find_elements(By.CSS_SELECTOR, f'#my-seats [data-seat="{seat}"]')))
    # B's DOM says so too: its cursor, put on the seat, carries data-seat and data-status.
    b.execute_script(f"{MAP}.reveal(arguments[0])", seat)
    wait(b, f"B's cursor element on {seat} to say held",
         lambda drv: attr(drv, f'#seatmap [data-seat="{seat}"]', "data-status") == "held")

    # The click focused the map; its cursor is the seat, named for screen readers.
    active = a.execute_script("const e = document.activeElement; return [e.className, e.getAttribute('aria-activedescendant')]")
    c = cursor(a)
    check(active == ["seatscroll", c["id"]], f"after the click the focus is on {active}, not the map with its cursor {c['id']}")
    check(c["data-seat"] == seat and c["data-status"] == "mine", f"the cursor after the click: {c}")
    check((c["aria-label"] or "").startswith("Row 250 seat 50, held by you"), f"the cursor's name: {c['aria-label']!r}")

    # Keyboard: arrows move, Enter holds, Space lets go.
    press(a, Keys.ARROW_RIGHT)
    wait(a, "the cursor to move right", lambda drv: cursor(drv)["data-seat"] == "250-51")
    check(cursor(a)["aria-label"] == "Row 250 seat 51, available", f"the cursor's name: {cursor(a)['aria-label']!r}")
    press(a, Keys.ENTER)
    wait_map_status(a, "250-51", "mine")
    wait_map_status(b, "250-51", "held")
    wait(a, "the cursor to say held by you", lambda drv: cursor(drv)["data-status"] == "mine")
    press(a, Keys.SPACE)
    wait_map_status(a, "250-51", "available")
    wait_map_status(b, "250-51", "available")
    for keys, want in (((Keys.ARROW_DOWN,), "251-51"), ((Keys.HOME,), "251-1"), ((Keys.END,), "251-100"),
                       ((Keys.CONTROL, Keys.END), "500-100"), ((Keys.CONTROL, Keys.HOME), "1-1"),
                       ((Keys.ARROW_UP,), "1-1"), ((Keys.ARROW_LEFT,), "1-1")):
        press(a, *keys)
        wait(a, f"the cursor on {want} after {keys}", lambda drv: cursor(drv)["data-seat"] == want)
    press(a, Keys.PAGE_DOWN)
    wait(a, "PageDown to move the cursor down several rows",
         lambda drv: (cursor(drv)["data-seat"] or "").endswith("-1") and int(cursor(drv)["data-seat"].split("-")[0]) > 5)
    # Tab leaves the map at once; Shift+Tab comes back to it.
    press(a, Keys.TAB)
    inside = a.execute_script("return !!document.activeElement.closest('#seatmap')")
    check(not inside, "one Tab from the map's cursor should leave the map")
    press(a, Keys.SHIFT, Keys.TAB)
    check(a.execute_script("return document.activeElement.className") == "seatscroll", "Shift+Tab should return to the map")

    # Hovering a seat names it (title), as the buttons' tooltips do.
    p = a.execute_script(f"return {MAP}.reveal('2-3')")
    ab = ActionBuilder(a)
    ab.pointer_action.move_to_location(int(p["x"]), int(p["y"]))
    ab.perform()
    wait(a, "the hover title of 2-3", lambda drv: drv.execute_script(
        "return document.querySelector('.seatscroll').title").startswith("Row 2 seat 3, available"))

    # Release the first hold from A: B sees it free again.
    t0 = time.monotonic()
    p = a.execute_script(f"return {MAP}.reveal(arguments[0])", seat)
    click_at(a, p)
    wait_map_status(b, seat, "available")
    report.append(f"A's release seen in B {(time.monotonic() - t0) * 1000:.0f} ms after the click in A")

    for name, d in (("A", a), ("B", b)):
        elements = d.execute_script("return document.getElementsByTagName('*').length")
        used, chrome = heap_mb(d)
        report.append(f"{name}: JS heap {used:.1f} MB after a garbage collection (performance.memory: {chrome:.1f} MB); "
                      f"{elements} DOM elements")
        check(used < 200, f"browser {name} uses {used:.0f} MB of JS heap for the 50,000-seat map")
        check(elements < 3000, f"browser {name} has {elements} DOM elements for the 50,000-seat map")
    for d in (a, b):
        check_console(d)
    return report


def phone(url, trip, d, artifacts):
    """The canvas on a 390 px phone: the first column and row numbers visible, nothing wider than the screen."""
    since = len(logs(d))
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    open_trip(d, url.rstrip("/"), trip)
    page = d.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check(page <= 0, f"the page is {page} px wider than the phone screen")
    p = d.execute_script(f"return {MAP}.reveal('1-1')")
    g = d.execute_script("""
        const box = document.querySelector('.seatscroll').getBoundingClientRect();
        const hit = document.elementFromPoint(arguments[0], arguments[1]);
        return {left: box.left, right: box.right, inBox: !!hit && !!hit.closest('.seatscroll')};""", p["x"], p["y"])
    check(g["left"] <= p["x"] <= g["right"] and g["inBox"], f"seat 1-1 at {p} is not reachable on the phone: {g}")
    os.makedirs(artifacts, exist_ok=True)
    d.save_screenshot(os.path.join(artifacts, f"{d.seatcast_name}-stadium-phone.png"))
    check_console(d, since)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--trip", required=True, help=f"a fresh trip of {ROWS} x {COLS} seats")
    ap.add_argument("--artifacts", required=True, help="directory for screenshots and logs")
    args = ap.parse_args()

    def body(drivers):
        report = run(args.url, args.trip, *drivers, args.artifacts)
        save_artifacts(args.artifacts, drivers, "-ok")
        phone(args.url, args.trip, drivers[1], args.artifacts)
        return report

    run_browsers("stadium_test", args.artifacts, [("stadium-A", None), ("stadium-B", COMPACT_PROBE)], body)


if __name__ == "__main__":
    main()
