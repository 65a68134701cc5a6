"""What a visitor's browser downloads, and when it first paints, on a slow mobile connection (`make bench`).

Chromium (Debian's, driven by Playwright) loads each page in a fresh profile with the conditions of
Lighthouse's mobile profile, set through the DevTools protocol: "Slow 4G" network
(`Network.emulateNetworkConditions`: 562.5 ms of latency, 1.44 Mbit/s down, 675 kbit/s up) and a
processor four times slower (`Emulation.setCPUThrottlingRate`). For each page it records:
- the bytes transferred on a first visit (empty cache), i.e. what crossed the network, headers
  included (`Network.loadingFinished.encodedDataLength`), and the number of requests;
- first paint and first contentful paint (`performance.getEntriesByType("paint")`);
- the bytes of a first visit scrolled to the end (another fresh profile): what a reader who goes through the
  whole page downloads, the blocks loaded when they come on screen (charts, map) included;
- the bytes of a repeat visit of the same page, and of a visit to another page of the same kind
  afterwards (same profile: the cache is warm).
Requests to other hosts (map tiles) are not counted: they are not the site's, and this machine
cannot reach them (they fail at once). Playwright's request interception is not used: it would
disable the browser's cache.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

# Lighthouse "mobile slow 4G" with DevTools throttling: RTT 150 ms × 3.75, 1.6 Mbit/s × 0.9, 750 kbit/s × 0.9
SLOW_4G = {"offline": False, "latency": 562.5, "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
           "uploadThroughput": 750 * 1024 / 8 * 0.9}
CPU_SLOWDOWN = 4
VIEWPORT = {"width": 390, "height": 844}


@dataclass
class Visit:
    bytes: int = 0
    requests: int = 0
    by_type: dict = field(default_factory=dict)
    urls: list = field(default_factory=list)
    first_paint_ms: float | None = None
    first_contentful_paint_ms: float | None = None


def _throttled_page(context, base_url: str):
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return page, cdp


SCROLL_STEP_PX, SCROLL_PAUSE_MS = 600, 250  # a reader going down the page, a screen at a time


def _scroll_to_the_end(page) -> None:
    """Down the page a step at a time (each block loaded on screen has its turn), until the end stays the end."""
    position = 0
    while position < page.evaluate("document.documentElement.scrollHeight - window.innerHeight"):
        position += SCROLL_STEP_PX
        page.evaluate(f"window.scrollTo(0, {position})")
        page.wait_for_timeout(SCROLL_PAUSE_MS)
    page.wait_for_load_state("networkidle", timeout=120_000)


def _visit(page, cdp, url: str, scroll: bool = False) -> Visit:
    visit = Visit()
    types, urls = {}, {}

    def on_response(event):
        types[event["requestId"]] = event.get("type", "Other")
        urls[event["requestId"]] = event["response"]["url"]

    def on_finished(event):
        visit.bytes += int(event.get("encodedDataLength") or 0)
        visit.requests += 1
        kind = types.get(event["requestId"], "Other")
        visit.urls.append((urls.get(event["requestId"]), int(event.get("encodedDataLength") or 0)))
        visit.by_type[kind] = visit.by_type.get(kind, 0) + int(event.get("encodedDataLength") or 0)

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    page.goto(url, wait_until="networkidle", timeout=120_000)
    if scroll:
        _scroll_to_the_end(page)
    paints = {entry["name"]: entry["startTime"] for entry in page.evaluate(
        "performance.getEntriesByType('paint').map(e => ({name: e.name, startTime: e.startTime}))")}
    visit.first_paint_ms = paints.get("first-paint")
    visit.first_contentful_paint_ms = paints.get("first-contentful-paint")
    cdp.remove_listener("Network.responseReceived", on_response)
    cdp.remove_listener("Network.loadingFinished", on_finished)
    return visit


def measure(base_url: str, pages: list[tuple[str, str, str]], chromium: str, runs: int = 3) -> list[dict]:
    """For each (label, path, other_path): first visit (median of `runs` fresh profiles), repeat visit
    of the same page, then a visit of `other_path`, in the profile of the last run; and a first visit
    scrolled to the end, in one more fresh profile."""
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            for label, path, other in pages:
                firsts = []
                for _ in range(runs):
                    context = browser.new_context(viewport=VIEWPORT, is_mobile=True, has_touch=True)
                    page, cdp = _throttled_page(context, base_url)
                    firsts.append(_visit(page, cdp, base_url + path))
                    if len(firsts) < runs:
                        context.close()
                repeat = _visit(page, cdp, base_url + path)
                following = _visit(page, cdp, base_url + other)
                context.close()
                context = browser.new_context(viewport=VIEWPORT, is_mobile=True, has_touch=True)
                page, cdp = _throttled_page(context, base_url)
                scrolled = _visit(page, cdp, base_url + path, scroll=True)
                context.close()
                middle = sorted(firsts, key=lambda v: v.first_contentful_paint_ms or 0)[len(firsts) // 2]
                results.append({
                    "label": label, "path": path, "other": other,
                    "first_bytes": middle.bytes, "first_requests": middle.requests, "first_by_type": middle.by_type,
                    "first_paint_ms": statistics.median(v.first_paint_ms or 0 for v in firsts),
                    "fcp_ms": statistics.median(v.first_contentful_paint_ms or 0 for v in firsts),
                    "fcp_max_ms": max(v.first_contentful_paint_ms or 0 for v in firsts),
                    "scrolled_bytes": scrolled.bytes, "scrolled_requests": scrolled.requests,
                    "scrolled_by_type": scrolled.by_type,
                    "repeat_bytes": repeat.bytes, "repeat_requests": repeat.requests,
                    "other_bytes": following.bytes, "other_requests": following.requests,
                })
        finally:
            browser.close()
    return results
