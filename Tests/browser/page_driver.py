"""What page_test.py and stadium_test.py drive the browsers with: the frame of a test run
(run_browsers), headless Chromium with an optional WebSocket probe, explicit waits, reading the
seat map and the legend, console checks, and the artifacts kept on failure. Needs Debian's chromium, chromium-driver and python3-selenium.
"""

import os
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WAIT = 10.0  # seconds for anything that is not timed on purpose

def websocket_probe(setup, incoming):
    """A script to inject before any page script (DevTools, so the page's CSP does not apply) that
    wraps WebSocket: every frame the page sends is recorded in window.__sent, and every frame it
    receives goes first through `incoming`, the JS body of a function of `data` that answers the
    data the page sees, or null to drop the frame. `setup` runs once first (its globals)."""
    return """
(() => {
  const Native = window.WebSocket;
  window.__sent = [];
  /*SETUP*/
  const incoming = (data) => { /*INCOMING*/ };
  function Probe(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    const send = ws.send.bind(ws);
    ws.send = (data) => { window.__sent.push(String(data)); return send(data); };
    let handler = null;
    Object.defineProperty(ws, 'onmessage', { get() { return handler; }, set(h) { handler = h; } });
    ws.addEventListener('message', (ev) => {
      const data = incoming(ev.data);
      if (data !== null && handler) handler.call(ws, data === ev.data ? ev : {data});
    });
    return ws;
  }
  Probe.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Probe[k] = Native[k];
  window.WebSocket = Probe;
})();
""".replace("/*SETUP*/", setup).replace("/*INCOMING*/", incoming)


# For page_test.py's B: lets the test drop one incoming seat_locked event and watch the page
# notice the seq gap, resubscribe with `since` and catch up. Transparent until window.__dropNext.
GAP_PROBE = websocket_probe("window.__dropped = [];", """
    if (window.__dropNext) {
      try {
        const m = JSON.parse(data);
        if (m.type === 'seat_locked') { window.__dropNext = false; window.__dropped.push(m.seatNo); return null; }
      } catch (_) { /* not JSON */ }
    }
    return data;""")


class Failure(Exception):
    pass


def make_browser(name, probe=None):
    """Headless Chromium named `name` (in messages and artifacts), with the script `probe` (e.g.
    GAP_PROBE) run before any page script when given."""
    profile = tempfile.mkdtemp(prefix=f"seatcast-page-{name}-")
    o = webdriver.ChromeOptions()
    if os.path.exists(CHROMIUM):
        o.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1280,1100", f"--user-data-dir={profile}", "--no-first-run",
              "--disable-extensions", "--disable-background-networking"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    d.set_page_load_timeout(30)
    if probe:
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": probe})
    d.seatcast_name = name
    d.seatcast_profile = profile
    d.seatcast_logs = []
    return d


def logs(d):
    """Console entries so far (get_log drains them, so they are kept on the driver)."""
    try:
        d.seatcast_logs.extend(d.get_log("browser"))
    except WebDriverException:
        pass
    return d.seatcast_logs


def wait(d, what, cond, timeout=WAIT, poll=0.05):
    try:
        return WebDriverWait(d, timeout, poll_frequency=poll,
                             ignored_exceptions=(StaleElementReferenceException,)).until(lambda drv: cond(drv))
    except TimeoutException:
        raise Failure(f"browser {d.seatcast_name}: timed out after {timeout:g}s waiting for {what}") from None


def attr(d, css, name):
    els = d.find_elements(By.CSS_SELECTOR, css)
    return els[0].get_attribute(name) if els else None


def seat_status(d, seat):
    return attr(d, f'#seatmap [data-seat="{seat}"]', "data-status")


def wait_status(d, seat, status, timeout=WAIT):
    return wait(d, f'seat {seat} to be "{status}" (it is "{seat_status(d, seat)}")',
                lambda drv: seat_status(drv, seat) == status, timeout, poll=0.02)


def wait_ready(d, trip):
    wait(d, f"trip {trip} to be shown",
         lambda drv: attr(drv, "#app", "data-ready") == "true" and attr(drv, "#app", "data-trip") == trip)
    wait(d, "connection state live", lambda drv: attr(drv, "#conn", "data-state") == "live")


def seat(d, s):
    return d.find_element(By.CSS_SELECTOR, f'#seatmap [data-seat="{s}"]')


def check(cond, message):
    if not cond:
        raise Failure(message)


def legend_hold(d):
    """The legend's "held by you" sample: (the text on its tag, the hold length it claims in seconds or None)."""
    sample = '.legend .swatch[data-status="mine"]'
    tag = d.find_element(By.CSS_SELECTOR, sample + " .seat-tag").text.strip()
    secs = attr(d, sample, "data-hold-seconds")
    return tag, (int(secs) if secs and secs.isdigit() else None)


def mmss(seconds):
    return f"{seconds // 60}:{seconds % 60:02d}"


def check_console(d, since=0):
    bad = [e["message"] for e in logs(d)[since:] if e.get("level") == "SEVERE"
           and ("Content Security Policy" in e["message"] or "Uncaught" in e["message"])]
    check(not bad, f"browser {d.seatcast_name} console errors: {bad}")


def save_artifacts(artifacts, drivers, suffix=""):
    os.makedirs(artifacts, exist_ok=True)
    saved = []
    for d in drivers:
        if d is None:
            continue
        n = d.seatcast_name
        try:
            p = os.path.join(artifacts, f"{n}{suffix}.png")
            d.save_screenshot(p)
            saved.append(p)
        except WebDriverException as e:
            print(f"page_test: screenshot of {n} failed: {e}", file=sys.stderr)
        try:
            p = os.path.join(artifacts, f"{n}{suffix}-console.log")
            with open(p, "w") as f:
                for e in logs(d):
                    f.write(f"{e.get('timestamp')} {e.get('level')} {e.get('message')}\n")
            saved.append(p)
            p = os.path.join(artifacts, f"{n}{suffix}.html")
            with open(p, "w") as f:
                f.write(d.page_source)
            saved.append(p)
        except WebDriverException:
            pass
    return saved


def run_browsers(label, artifacts, browsers, body):
    """The frame of a browser test: starts `browsers` ([(name, probe script or None)]) in
    parallel, calls body(drivers), which answers the lines to report, and prints them as
    `label: ...`, the total time and `label: ok`; or `label: FAILED` with the artifacts of every
    browser saved. Always quits the browsers; exits with 0 or 1."""
    started = time.monotonic()
    drivers = [None] * len(browsers)
    status = 1
    try:
        with ThreadPoolExecutor(len(browsers)) as pool:
            futures = [pool.submit(make_browser, name, probe) for name, probe in browsers]
        errors = []
        for i, f in enumerate(futures):
            try:
                drivers[i] = f.result()
            except Exception as e:
                errors.append(e)
        if errors:
            raise Failure(f"could not start Chromium through {CHROMEDRIVER}: {errors[0]}")
        for line in body(drivers):
            print(f"{label}: {line}")
        print(f"{label}: total {time.monotonic() - started:.1f}s")
        print(f"{label}: ok")
        status = 0
    except Failure as e:
        print(f"{label}: FAILED: {e}")
    except Exception:
        print(f"{label}: FAILED with an exception:")
        traceback.print_exc(file=sys.stdout)
    finally:
        if status != 0:
            saved = save_artifacts(artifacts, drivers)
            if saved:
                print(f"{label}: artifacts: " + ", ".join(saved))
        for d in drivers:
            if d is not None:
                try:
                    d.quit()
                except Exception:
                    pass
                shutil.rmtree(d.seatcast_profile, ignore_errors=True)
    sys.exit(status)
