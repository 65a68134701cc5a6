#!/usr/bin/env python3
"""Screenshots of pages as a person sees them: 1280 and 390 px wide, light and dark, in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8001 --out /tmp/ecrans /commune/35238 /comparer?codes=35238,29019

Writes one PNG per page, width and colour scheme (`<page>-<width>-<scheme>.png`), the whole page by
default (`--viewport` for the first screen only), and prints each file's name. Pages are taken with
French locale, after the network is idle (charts and maps drawn). Chromium is /usr/bin/chromium
(scripts/install-chromium.sh), never a browser downloaded by Playwright.
"""

import argparse
import os
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("OC_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = (1280, 390)
SCHEMES = ("light", "dark")


def name_of(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", path.strip("/") or "accueil")[:80]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    parser.add_argument("--out", type=Path, default=Path("/tmp/ecrans"))
    parser.add_argument("--viewport", action="store_true", help="le premier écran seulement")
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)))
    parser.add_argument("--schemes", default=",".join(SCHEMES))
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for path in args.paths:
            for width in map(int, args.widths.split(",")):
                for scheme in args.schemes.split(","):
                    context = browser.new_context(color_scheme=scheme, locale="fr-FR",
                                                  viewport={"width": width, "height": 900 if width > 600 else 844})
                    page = context.new_page()
                    page.goto(args.url + path, wait_until="load")
                    page.wait_for_load_state("networkidle")
                    target = args.out / f"{name_of(path)}-{width}-{scheme}.png"
                    page.screenshot(path=str(target), full_page=not args.viewport)
                    print(target)
                    context.close()
        browser.close()


if __name__ == "__main__":
    main()
