#!/usr/bin/env python3
"""Open the static status page in a real browser (Debian's Chromium through Playwright) and check it.

    python ci/check_report_html.py PAGE.html SCREENSHOT.png [--expect TEXT ...]

Fails (exit 1, one line per problem) when:
  * the browser reports a console error or warning, or a page error (an uncaught exception);
  * any request other than the page's own file:// URL is made (every other route is also aborted,
    so nothing leaves the machine even if the page tried);
  * an --expect text is not in the rendered text of <body>;
  * there is no inline SVG chart (svg[role=img]) or it has an empty bounding box.
A full-page screenshot is written to SCREENSHOT.png in every case where the page could be loaded.

Playwright's own browser download (`playwright install`) is never used: the system Chromium is
launched from /usr/bin/chromium (override with $CHROMIUM).
"""

import argparse
import os
import pathlib
import sys
import time

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("page", type=pathlib.Path)
    ap.add_argument("screenshot", type=pathlib.Path)
    ap.add_argument("--expect", action="append", default=[], metavar="TEXT",
                    help="text that must be visible in the page body (repeatable)")
    ap.add_argument("--timeout-ms", type=int, default=15000)
    args = ap.parse_args()

    if not args.page.is_file():
        print(f"FAIL: {args.page}: no such file", file=sys.stderr)
        return 1
    url = args.page.resolve().as_uri()
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    launch_args = ["--no-sandbox"] if os.geteuid() == 0 else []

    problems: list[str] = []
    console: list[str] = []
    requests: list[str] = []
    started = time.monotonic()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=launch_args, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          java_script_enabled=True, offline=True)
            page = context.new_page()
            page.set_default_timeout(args.timeout_ms)

            def on_console(msg):
                if msg.type in ("error", "warning"):
                    loc = msg.location or {}
                    console.append(f"console {msg.type}: {msg.text} "
                                   f"({loc.get('url', '')}:{loc.get('lineNumber', '')})")

            page.on("console", on_console)
            page.on("pageerror", lambda exc: console.append(f"page error: {exc}"))
            page.on("request", lambda req: requests.append(req.url))

            def route(r):
                if r.request.url == url:
                    r.continue_()
                else:
                    r.abort("blockedbyclient")

            page.route("**/*", route)

            try:
                page.goto(url, wait_until="load")
                # Let anything the page might schedule (it should schedule nothing) run and report.
                page.wait_for_timeout(300)
            except PlaywrightError as e:
                problems.append(f"loading {url}: {e}")

            foreign = [u for u in requests if u != url]
            for u in foreign:
                problems.append(f"request other than the page itself: {u}")
            if url not in requests:
                problems.append(f"the page's own URL was never requested: {url}")
            problems.extend(console)

            try:
                body = page.inner_text("body")
            except PlaywrightError as e:
                body = ""
                problems.append(f"reading body text: {e}")
            for text in args.expect:
                if text not in body:
                    problems.append(f"expected text not visible: {text!r}")

            charts = page.locator("svg[role=img]")
            n = charts.count()
            if n == 0:
                problems.append("no SVG chart (svg[role=img]) on the page")
            for i in range(n):
                box = charts.nth(i).bounding_box()
                if not box or box["width"] <= 0 or box["height"] <= 0:
                    problems.append(f"SVG chart #{i + 1} has an empty bounding box: {box}")
                label = charts.nth(i).get_attribute("aria-label")
                if not label:
                    problems.append(f"SVG chart #{i + 1} has no aria-label")

            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            try:
                page.screenshot(path=str(args.screenshot), full_page=True)
            except PlaywrightError as e:
                problems.append(f"screenshot: {e}")
        finally:
            browser.close()

    elapsed = time.monotonic() - started
    if problems:
        print(f"FAIL: {args.page} ({len(problems)} problem(s), {elapsed:.1f} s):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(f"ok: {args.page}: {n} chart(s), {len(args.expect)} expected text(s) visible, "
          f"no foreign request, no console error; screenshot {args.screenshot} ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
