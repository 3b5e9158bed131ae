#!/usr/bin/env python3
"""Real-browser test of the seat-map page against a server that wants buyer tokens (issue 10):
three headless Chromium instances, A (signed in), B (no token) and C (a token about to expire).

    token_test.py --url http://127.0.0.1:PORT --trip TRIPID --token JWT --short-token JWT --max-held N --artifacts DIR

The server runs with --token-secret and --max-held N, without --buyer-confirm and --public-read.
Checks, with explicit waits only:
  - A opens the page with #token=JWT: the token is gone from the address bar, the page goes live
    and A holds a seat (the WebSocket URL carried ?token=, or the server would not have upgraded);
  - B opens it without a token: the page says it needs a sign-in from the site, its indicator says
    so, and it stops reconnecting (no new WebSocket for several backoff periods);
  - A holds N seats, the next one is refused: "You can hold at most N seats at once";
  - A's Book is answered forbidden: the page says booking is completed at checkout on the site,
    hides Book, and A still holds its seats;
  - C's token runs out: the server closes with 1008 and the page says the session expired;
  - no Content-Security-Policy violation or uncaught script error in any console.
Prints `token_test: ok` on success. Needs Debian's chromium, chromium-driver and python3-selenium.
"""

import argparse
import sys
import time

from selenium.webdriver.common.by import By

sys.dont_write_bytecode = True
from page_driver import (  # noqa: E402
    attr, check, check_console, run_browsers, seat, seat_status, wait, wait_ready, wait_status, websocket_probe,
)

# Counts the WebSockets a page opens (window.__sockets) and the URLs it asked for.
COUNT_PROBE = websocket_probe("window.__urls = [];", "return data;").replace(
    "const ws = protocols", "window.__urls.push(String(url));\n    const ws = protocols")


def message(d):
    return d.find_element(By.ID, "message").text


def run(base, trip, token, short_token, max_held, a, b, c):
    # A: signed in through the fragment.
    a.get(f"{base}/?trip={trip}#token={token}")
    wait_ready(a, trip)
    check("token=" not in a.current_url, f"the token is still in A's address bar: {a.current_url}")
    urls = a.execute_script("return window.__urls")
    check(urls and all("token=" in u for u in urls), f"A's WebSockets did not carry ?token=: {urls}")

    # B: no token. The page says why it cannot show the map, and stops trying.
    b.get(f"{base}/?trip={trip}")
    wait(b, "B to say it needs a sign-in", lambda d: attr(d, "#app", "data-auth") == "sign-in", timeout=20)
    check(attr(b, "#conn", "data-state") == "signin", f"B's indicator: {attr(b, '#conn', 'data-state')}")
    check("needs a sign-in from the site" in b.find_element(By.ID, "trip-sub").text, b.find_element(By.ID, "trip-sub").text)
    tries = b.execute_script("return window.__urls.length")
    time.sleep(3)  # not a synchronisation: the check is that nothing happens in this time (backoff starts at 0.5 s)
    check(b.execute_script("return window.__urls.length") == tries, "B kept reconnecting after it said it needs a sign-in")

    # A: the quota.
    free = [e.get_attribute("data-seat") for e in a.find_elements(By.CSS_SELECTOR, '#seatmap [data-status="available"]')]
    check(len(free) > max_held, f"need more than {max_held} free seats, found {len(free)}")
    for s in free[:max_held]:
        seat(a, s).click()
        wait_status(a, s, "mine")
    seat(a, free[max_held]).click()
    wait(a, "the quota message", lambda d: f"You can hold at most {max_held} seats at once" in message(d))
    check(seat_status(a, free[max_held]) == "available", f"{free[max_held]} is {seat_status(a, free[max_held])} past the quota")

    # A: Book is the site's (no --buyer-confirm): forbidden, and the page stops offering it.
    wait(a, "the Book button to be enabled", lambda d: d.find_element(By.ID, "book").is_enabled())
    a.find_element(By.ID, "book").click()
    wait(a, "the checkout message", lambda d: "checkout on the site" in message(d))
    wait(a, "Book to be hidden", lambda d: not d.find_element(By.ID, "book").is_displayed())
    for s in free[:max_held]:
        check(seat_status(a, s) == "mine", f"{s} is {seat_status(a, s)} after a forbidden confirm")

    # C: a token that runs out while the page is live.
    c.get(f"{base}/?trip={trip}#token={short_token}")
    wait(c, "C to say the session expired", lambda d: attr(d, "#app", "data-auth") == "expired", timeout=60)
    check("session expired" in c.find_element(By.ID, "trip-sub").text.lower(), c.find_element(By.ID, "trip-sub").text)

    for d in (a, b, c):
        check_console(d)
    return [f"quota {max_held}", "sign-in, checkout and expiry messages shown"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--trip", required=True)
    ap.add_argument("--token", required=True, help="a valid buyer token for A")
    ap.add_argument("--short-token", required=True, help="a buyer token that expires within seconds, for C")
    ap.add_argument("--max-held", required=True, type=int)
    ap.add_argument("--artifacts", required=True)
    args = ap.parse_args()
    base = args.url.rstrip("/")
    run_browsers("token_test", args.artifacts, [("A", COUNT_PROBE), ("B", COUNT_PROBE), ("C", None)],
                 lambda drivers: run(base, args.trip, args.token, args.short_token, args.max_held, *drivers))


if __name__ == "__main__":
    main()
