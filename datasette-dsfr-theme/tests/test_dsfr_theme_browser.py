"""Browser tests: real `datasette serve` + Debian's Chromium driven by Playwright.

Skipped (with the reason) only when Chromium, Playwright or axe-core is missing
AND we are not in CI; with CI=true they must run. Install Chromium with
`scripts/install-chromium.sh` (never `playwright install`).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dsfr_theme_helpers import METADATA, make_db

pytestmark = pytest.mark.browser

PLUGIN_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("DSFR_THEME_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("DSFR_THEME_SCREENSHOTS", PLUGIN_DIR / "screenshots"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

PAGES = {
    "accueil": "/",
    "table": "/demo/communes?_facet=region",
    "ligne": "/demo/communes/75056",
    "requete": "/demo?sql=select+nom%2C+population+from+communes+order+by+population+desc",
    "requete_predefinie": "/demo/par_region?region=84",
    "erreur_404": "/cette-page-n-existe-pas",
}


def _find_upwards(relative):
    for folder in [PLUGIN_DIR, *PLUGIN_DIR.parents]:
        candidate = folder / relative
        if candidate.exists():
            return candidate
    return None


def _missing(reason):
    if IN_CI:
        pytest.fail("CI=true mais " + reason)
    pytest.skip(reason)


# Module scope: Playwright's sync API runs its own event loop, which must be
# closed before the pytest-asyncio tests of the other modules run.
@pytest.fixture(scope="module")
def playwright_browser():
    if not Path(CHROMIUM).exists():
        _missing(
            "Chromium absent ({}) : lancez scripts/install-chromium.sh".format(CHROMIUM)
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("le paquet Python playwright n’est pas installé")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_source():
    path = os.environ.get("AXE_CORE_PATH") or _find_upwards("node_modules/axe-core/axe.min.js")
    if not path or not Path(path).exists():
        _missing("axe-core absent (npm install axe-core, node_modules/axe-core/axe.min.js)")
    return Path(path).read_text(encoding="utf-8")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _plugin_config(theme):
    config = dict(METADATA["plugins"]["datasette-dsfr-theme"], theme=theme)
    config["search_url"] = "/demo/communes"
    config["search_param"] = "_search"
    vendored = PLUGIN_DIR / "datasette_dsfr_theme" / "static" / "dsfr" / "dsfr.min.css"
    if theme == "dsfr" and not vendored.exists():
        dist = _find_upwards("node_modules/@gouvfr/dsfr/dist")
        if not dist:
            _missing("fichiers du DSFR absents (npm install @gouvfr/dsfr puis vendoring)")
        config["dsfr_dist"] = str(dist)
    return config


def _serve(tmp_path_factory, theme):
    folder = tmp_path_factory.mktemp("serve-" + theme)
    db = make_db(folder / "demo.db")
    metadata = dict(METADATA, plugins={"datasette-dsfr-theme": _plugin_config(theme)})
    (folder / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "datasette", "serve", str(db),
            "--metadata", str(folder / "metadata.json"),
            "--host", "127.0.0.1", "--port", str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = "http://127.0.0.1:{}".format(port)
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=1).read()
            break
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                output = process.stdout.read().decode("utf-8", "replace")
                raise RuntimeError("datasette serve n’a pas démarré :\n" + output)
            time.sleep(0.2)
    return process, base


@pytest.fixture(scope="module", params=["dsfr", "neutre"])
def server(request, tmp_path_factory, playwright_browser):
    process, base = _serve(tmp_path_factory, request.param)
    yield request.param, base
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _open(browser, base, path, scheme, requests=None):
    context = browser.new_context(color_scheme=scheme, locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    if requests is not None:
        page.on("request", lambda req: requests.append(req.url))
    page.goto(base + path, wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page


def _wait_theme_ready(page, theme, scheme):
    if theme == "dsfr":
        page.wait_for_function("document.documentElement.hasAttribute('data-fr-js')", timeout=10000)
        expected = "dark" if scheme == "dark" else "light"
        page.wait_for_function(
            "document.documentElement.getAttribute('data-fr-theme') === '{}'".format(expected),
            timeout=10000,
        )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_no_serious_violation(server, playwright_browser, axe_source, name, scheme):
    theme, base = server
    requests = []
    context, page = _open(playwright_browser, base, PAGES[name], scheme, requests)
    try:
        _wait_theme_ready(page, theme, scheme)
        page.add_script_tag(content=axe_source)
        results = page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})"
        )
        violations = results["violations"]
        report = [
            "{} [{}] {} : {}".format(
                v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:5]
            )
            for v in violations
        ]
        print("\naxe {} {} {} : {} violation(s)".format(theme, name, scheme, len(violations)))
        for line in report:
            print("  " + line)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], "\n".join(report)
        # Network: nothing leaves 127.0.0.1
        outside = [
            url for url in requests
            if not url.startswith(base + "/") and not url.startswith(("data:", "blob:"))
        ]
        assert outside == [], outside
    finally:
        context.close()


def test_keyboard_skip_link_and_search(server, playwright_browser):
    theme, base = server
    context, page = _open(playwright_browser, base, "/", "light")
    try:
        _wait_theme_ready(page, theme, "light")
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => [document.activeElement.getAttribute('href'), !!document.activeElement.closest('.fr-skiplinks')]"
        )
        assert focused == ["#contenu", True]
        assert page.evaluate("() => document.activeElement.getBoundingClientRect().height > 0")
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.id") == "recherche":
                break
        else:
            pytest.fail("la touche Tab n’atteint pas le champ de recherche de l’en-tête")
        page.keyboard.type("Lyon")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "_search=Lyon" in page.url
    finally:
        context.close()


def test_skip_link_to_search_moves_focus(server, playwright_browser):
    theme, base = server
    context, page = _open(playwright_browser, base, "/demo/communes", "light")
    try:
        _wait_theme_ready(page, theme, "light")
        page.keyboard.press("Tab")
        # third skip link: Contenu, Menu, Recherche
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#recherche"
        page.keyboard.press("Enter")
        assert page.evaluate("() => location.hash") == "#recherche"
    finally:
        context.close()


def test_display_scheme_is_remembered(server, playwright_browser):
    theme, base = server
    context, page = _open(playwright_browser, base, "/", "light")
    try:
        _wait_theme_ready(page, theme, "light")
        if theme == "dsfr":
            page.click("button[aria-controls='fr-theme-modal']")
            page.click("label[for='fr-radios-theme-dark']")
            page.wait_for_function("document.documentElement.getAttribute('data-fr-theme') === 'dark'")
            page.reload()
            page.wait_for_function("document.documentElement.getAttribute('data-fr-theme') === 'dark'")
        else:
            page.check(".dsfr-theme-scheme input[value='dark']")
            assert page.evaluate("() => document.documentElement.getAttribute('data-theme')") == "dark"
            page.reload()
            assert page.evaluate("() => document.documentElement.getAttribute('data-theme')") == "dark"
            background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(23, 24, 28)"
    finally:
        context.close()


def test_table_column_menu_still_works_and_is_french(server, playwright_browser):
    theme, base = server
    context, page = _open(playwright_browser, base, "/demo/communes", "light")
    try:
        _wait_theme_ready(page, theme, "light")
        page.click("th[data-column='population'] svg.dropdown-menu-icon")
        menu = page.locator("body > .dropdown-menu")
        assert menu.is_visible()
        text = menu.inner_text()
        assert "Trier par ordre décroissant" in text and "Sort" not in text
        assert "Type : INTEGER" in text
        with page.expect_navigation():
            page.click("body > .dropdown-menu a.dropdown-sort-desc")
        assert "_sort_desc=population" in page.url
    finally:
        context.close()


def test_sql_editor_codemirror(server, playwright_browser):
    theme, base = server
    context, page = _open(playwright_browser, base, "/demo", "light")
    try:
        assert page.locator(".CodeMirror").count() == 1
        assert page.locator("#sql-format").is_visible()
        with page.expect_navigation():
            page.click("button[type=submit]:has-text('Exécuter la requête')")
        assert "sql=" in page.url
        assert page.locator("table.rows-and-columns").count() == 1
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", ["accueil", "table"])
def test_screenshots(server, playwright_browser, name, scheme):
    theme, base = server
    context, page = _open(playwright_browser, base, PAGES[name], scheme)
    try:
        _wait_theme_ready(page, theme, scheme)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / "{}-{}-{}.png".format(theme, name, scheme)
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10000
    finally:
        context.close()
