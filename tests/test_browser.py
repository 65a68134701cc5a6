"""The site in a real browser: Debian's chromium driven by Playwright, axe-core, keyboard, no JavaScript.

A real `scripts/serve.sh` on 127.0.0.1 serves the fixture database; the map tiles point at a local
path so that nothing leaves the machine. Skipped only outside CI when chromium is absent.
"""

import os
from pathlib import Path

import pytest
import yaml

from conftest import CHROMIUM, ROOT

from oc_site.harness import Server

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGES = {
    "accueil": "/",
    "fiche commune": "/commune/35238",
    "fiche EPCI": "/epci/243500139",
    "fiche département": "/departement/2A",
    "fiche région": "/region/53",
    "recherche": "/recherche?q=saint+denis",
    "comparaison": "/comparer?codes=35238,44109,2A004",
    "publications": "/publications",
    "publications filtrées": "/publications?territoire=region:53&niveau=region",
    "introuvable": "/commune/99999",
}


def missing(reason):
    if os.environ.get("CI"):
        pytest.fail(reason + " (obligatoire en CI : scripts/install-chromium.sh)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def site(tmp_path_factory, fixture_db):
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    metadata["plugins"]["datasette-cluster-map"]["tile_layer"] = "/tuiles-de-test/{z}/{x}/{y}.png"
    path = tmp_path_factory.mktemp("browser") / "metadata.yml"
    path.write_text(yaml.safe_dump(metadata, allow_unicode=True))
    with Server(fixture_db, env={"OC_METADATA": str(path)}) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        missing(f"chromium absent ({CHROMIUM})")
    if not AXE.exists():
        missing("axe-core absent (npm ci)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def open_page(browser, url, scheme="light", javascript=True, requests=None):
    context = browser.new_context(color_scheme=scheme, locale="fr-FR", java_script_enabled=javascript,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    if requests is not None:
        page.on("request", lambda request: requests.append(request.url))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_and_network(site, browser, name, scheme):
    requests = []
    context, page = open_page(browser, site + PAGES[name], scheme, requests=requests)
    try:
        page.wait_for_function("document.documentElement.hasAttribute('data-fr-js')", timeout=10000)
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
        report = [f"{v['id']} [{v['impact']}] {v['help']} : {[n['target'] for n in v['nodes']][:3]}" for v in violations]
        assert [v for v in violations if v["impact"] in ("serious", "critical")] == [], "\n".join(report)
        outside = [u for u in requests if not u.startswith(site + "/") and not u.startswith(("data:", "blob:"))]
        assert outside == [], outside
    finally:
        context.close()


def test_autocomplete_with_the_keyboard(site, browser):
    context, page = open_page(browser, site + "/")
    try:
        field = page.locator("#recherche-territoire")
        field.focus()
        page.keyboard.type("renn")
        page.wait_for_selector("[role=listbox]:not([hidden]) [role=option]")
        assert field.get_attribute("role") == "combobox"
        assert field.get_attribute("aria-expanded") == "true"
        first = page.locator("[role=listbox]:not([hidden]) [role=option]").first
        assert first.inner_text().startswith("Rennes (35)")
        page.keyboard.press("ArrowDown")
        assert field.get_attribute("aria-activedescendant") == first.get_attribute("id")
        assert first.get_attribute("aria-selected") == "true"
        page.keyboard.press("Enter")
        page.wait_for_url(site + "/commune/35238")
        assert page.locator("main h1").inner_text() == "Rennes"
    finally:
        context.close()


def test_header_search_suggests_and_escape_closes(site, browser):
    context, page = open_page(browser, site + "/commune/35238")
    try:
        field = page.locator("#recherche")  # the theme's header search
        field.focus()
        page.keyboard.type("ajac")
        page.wait_for_selector("[role=listbox]:not([hidden]) [role=option]")
        page.keyboard.press("Escape")
        assert field.get_attribute("aria-expanded") == "false"
        page.keyboard.press("Enter")  # no suggestion chosen: the form submits to /recherche
        page.wait_for_url(site + "/recherche?q=ajac")
        assert "Ajaccio (2A)" in page.locator("main").inner_text()
    finally:
        context.close()


def test_publications_territory_filter_suggests_and_filters(site, browser):
    """The library's territory field: the header search's suggestions, but a choice fills the filter."""
    context, page = open_page(browser, site + "/publications")
    try:
        field = page.locator("#lieu")
        field.focus()
        page.keyboard.type("bretag")
        page.wait_for_selector("#lieu ~ [role=listbox]:not([hidden]) [role=option]")
        assert field.get_attribute("role") == "combobox"
        option = page.locator("#lieu ~ [role=listbox] [role=option]").first
        assert option.inner_text().startswith("Bretagne")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")  # chooses, stays on the page
        assert page.url == site + "/publications"
        assert field.input_value() == "Bretagne" and page.locator("#territoire").input_value() == "region:53"
        page.locator("button", has_text="Appliquer les filtres").click()
        page.wait_for_url("**/publications?*territoire=region%3A53*")
        main = page.locator("main").inner_text()
        assert "Territoire : Bretagne" in main and "L'essentiel sur… la Bretagne" in main
        assert page.locator("#lieu").input_value() == "Bretagne"
        # typing another name clears the choice: the server looks the typed name up
        field = page.locator("#lieu")
        field.fill("")
        field.type("Cantal")
        assert page.locator("#territoire").input_value() == ""
        page.locator("button", has_text="Appliquer les filtres").click()
        page.wait_for_url("**territoire=**")
        assert "Territoire : Cantal" in page.locator("main").inner_text()
    finally:
        context.close()


def test_fiche_map_draws_the_members(site, browser):
    context, page = open_page(browser, site + "/epci/243500139")
    try:
        page.wait_for_selector("#carte .leaflet-interactive")
        assert page.locator("#carte .leaflet-interactive").count() == 3  # the fixture's three members
    finally:
        context.close()


@pytest.mark.parametrize("path,expected", [
    ("/commune/35238", "230\u202f890"),
    ("/epci/243500139?tri=nom&ordre=asc", "Bruz"),
    ("/comparer?codes=35238,44109", "Nantes"),
    ("/recherche?q=35000", "Rennes (35)"),
    ("/publications?lieu=bretagne", "Territoire : Bretagne"),
    ("/region/53", "Concernant la région Bretagne"),
])
def test_pages_read_without_javascript(site, browser, path, expected):
    context, page = open_page(browser, site + path, javascript=False)
    try:
        assert expected in page.locator("main").inner_text()
    finally:
        context.close()
