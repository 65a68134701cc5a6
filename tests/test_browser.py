"""The site in a real browser: Debian's chromium driven by Playwright, axe-core, keyboard, no JavaScript.

A real `scripts/serve.sh` on 127.0.0.1 serves the fixture database; the map tiles point at a local
path so that nothing leaves the machine. Skipped only outside CI when chromium is absent.
"""

import os
import re
import time
from pathlib import Path

import pytest
import yaml

from conftest import CHROMIUM, ROOT

from bench.harness import Server

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGES = {  # one page of every type
    "accueil": "/",
    "fiche commune": "/commune/35238",
    "fiche EPCI": "/epci/243500139",
    "fiche département": "/departement/2A",
    "fiche région": "/region/53",
    "recherche": "/recherche?q=s",
    "comparaison": "/comparer?codes=35238,44109,2A004",
    "comparaison, autre niveau proposé": "/comparer?niveau=commune&codes=35238&ajouter=finistere",
    "comparaison d'EPCI": "/comparer?niveau=epci&codes=243500139,200046977",
    "comparaison impossible": "/comparer?codes=35238,35",
    "publications": "/publications",
    "publications filtrées": "/publications?territoire=region:53&niveau=region",
    "introuvable": "/commune/99999",
    "base (Données et SQL)": "/oc",
    "table et carte": "/oc/communes",
    "vue large": "/oc/valeurs_communes_large?_facet=region",
    "ligne": "/oc/communes/35238",
    "requête prédéfinie": "/oc/communes_departement?departement=35",
    "requête pré-remplie": "/oc/communes_departement",
    "requête SQL libre": "/oc?sql=select+code_insee,+nom,+superficie_km2+from+communes+limit+5",
    "table introuvable": "/oc/table_inexistante",
    "sources": "/sources",
    "questions fréquentes": "/faq",
    "contact": "/contact",
    "plan du site": "/plan-du-site",
    "mentions légales": "/mentions-legales",
    "accessibilité": "/accessibilite",
}
WIDTHS = {"bureau": 1280, "mobile": 390}


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


def wait_until(page, expression, timeout=10):
    """Poll a JavaScript expression from Python (the site's CSP forbids the eval of wait_for_function's polling)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"toujours faux après {timeout} s : {expression}"
        page.wait_for_timeout(50)


def open_page(browser, url, scheme="light", javascript=True, requests=None, width=1280):
    context = browser.new_context(color_scheme=scheme, locale="fr-FR", java_script_enabled=javascript,
                                  viewport={"width": width, "height": 900 if width > 600 else 844})
    page = context.new_page()
    if requests is not None:
        page.on("request", lambda request: requests.append(request.url))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_and_network(site, browser, name, scheme, width):
    requests = []
    context, page = open_page(browser, site + PAGES[name], scheme, requests=requests, width=WIDTHS[width])
    try:
        page.wait_for_function("document.documentElement.hasAttribute('data-fr-js')", timeout=10000)
        if page.locator(".oc-carte-demande button").count():  # a table page's map, drawn when asked for
            page.locator(".oc-carte-demande button").click()
        if page.locator("#carte-leaflet, .leaflet-container, .oc-carte-demande").count():  # the map, drawn after the data arrived
            if page.locator("#carte-leaflet").count():  # a fiche's map loads when its section is on screen
                page.locator("section:has(#carte-leaflet)").first.scroll_into_view_if_needed()
            page.wait_for_selector(".leaflet-container .leaflet-control-zoom-in", timeout=10000)
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
        page.locator("section:has(#carte-leaflet)").scroll_into_view_if_needed()  # the map loads when on screen
        page.wait_for_selector("#carte-leaflet path.leaflet-interactive")
        shapes = page.locator("#carte-leaflet path.leaflet-interactive")
        assert shapes.count() == 3  # the outlines of the fixture's three members
        fills = {shapes.nth(i).get_attribute("fill") for i in range(3)}
        page.locator("label[for=carte-couche-evolution_population_pct]").click()
        assert {shapes.nth(i).get_attribute("fill") for i in range(3)} != fills  # coloured by the other indicator
        assert page.locator(".oc-legende[data-couche=evolution_population_pct]").is_visible()
        assert not page.locator(".oc-legende[data-couche=densite]").is_visible()
        page.locator("label[for=carte-couche-dgf_par_habitant]").click()
        legend = page.locator(".oc-legende[data-couche=dgf_par_habitant]")
        assert legend.is_visible() and "DGF par habitant (population DGF), en €/hab., 2022" in legend.inner_text()
        # classes of the communes shown, not national ones: the fixture's three members (12.85, 121.10 and
        # 238.01 €/hab.) fall in three classes, from the palette's lightest to its darkest
        assert {shapes.nth(i).get_attribute("fill") for i in range(3)} == {"#eff3ff", "#6baed6", "#08519c"}
        classes = legend.locator(".oc-legende__classes li").all_inner_texts()
        assert classes == ["moins de 120", "120 à 230", "230 ou plus"], classes
        assert "Classes calculées sur les 3 communes de la carte" in legend.inner_text()
        # a change: classes symmetric around zero
        evolution = page.locator(".oc-legende[data-couche=evolution_population_pct]")
        assert "Classes symétriques autour de 0" in evolution.inner_text()
        # the popup links to the commune's fiche, at the registry's address
        shapes.first.click()
        link = page.locator(".leaflet-popup-content a").first
        assert link.get_attribute("href").startswith("/commune/")
    finally:
        context.close()


def test_map_controls_in_french_with_a_visible_focus(site, browser):
    context, page = open_page(browser, site + "/commune/35238")
    try:
        page.locator("section:has(#carte-leaflet)").scroll_into_view_if_needed()  # the map loads when on screen
        page.wait_for_selector("#carte-leaflet path.leaflet-interactive")
        zoom_in = page.locator("#carte-leaflet .leaflet-control-zoom-in")
        assert zoom_in.get_attribute("title") == "Zoom avant" and zoom_in.get_attribute("aria-label") == "Zoom avant"
        # Tab from the map's title to its first control: the zoom button, with a focus ring
        page.locator("#carte-titre").evaluate("title => { title.tabIndex = -1; title.focus(); }")
        for _ in range(4):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.classList.contains('leaflet-control-zoom-in')"):
                break
        assert page.evaluate("document.activeElement.classList.contains('leaflet-control-zoom-in')")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle + ' ' + "
                                "getComputedStyle(document.activeElement).outlineWidth")
        assert outline.startswith("solid") and not outline.endswith(" 0px")
        page.keyboard.press("Enter")  # zooms in without leaving the page
        assert page.url == site + "/commune/35238"
    finally:
        context.close()


def test_table_page_map_only_when_asked_for(site, browser):
    requests = []
    context, page = open_page(browser, site + "/oc/communes", requests=requests)
    try:
        asked = [u for u in requests if "communes.json" in u or "leaflet" in u]
        assert asked == [] and page.locator(".leaflet-container").count() == 0
        button = page.locator(".oc-carte-demande button")
        assert button.inner_text() == "Afficher la carte"
        button.click()
        page.wait_for_selector(".leaflet-container .leaflet-marker-icon, .leaflet-container .marker-cluster")
        assert any("/oc/communes.json?_size=max" in u for u in requests)
        assert page.evaluate("document.activeElement.classList.contains('leaflet-container')")  # the keyboard follows
        assert page.locator(".oc-carte-demande").count() == 0 and page.locator(".leaflet-container").count() == 1
    finally:
        context.close()


def test_table_page_map_in_french(site, browser):
    context, page = open_page(browser, site + "/oc/communes?_size=5")
    try:
        page.locator(".oc-carte-demande button").click()
        page.wait_for_selector(".leaflet-container .leaflet-control-zoom-in")
        wait_until(page, "document.querySelector('.leaflet-container').nextElementSibling"
                         " && document.querySelector('.leaflet-container').nextElementSibling.textContent"
                         ".indexOf('Affichage de') === 0")
        assert page.locator(".leaflet-control-zoom-out").get_attribute("title") == "Zoom arrière"
        assert "Showing" not in page.locator("main").inner_text() and "load all" not in page.locator("main").inner_text()
    finally:
        context.close()


def test_compare_by_level_with_the_keyboard(site, browser):
    context, page = open_page(browser, site + "/comparer?niveau=departement&codes=35")
    try:
        field = page.locator("#ajouter")
        field.focus()
        page.keyboard.type("corse-du")
        page.wait_for_selector("[role=listbox]:not([hidden]) [role=option]")
        option = page.locator("[role=listbox]:not([hidden]) [role=option]").first
        assert option.inner_text().startswith("Ajouter Corse-du-Sud")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")  # added in one step
        page.wait_for_url(site + "/comparer?niveau=departement&codes=35,2A")
        assert "Corse-du-Sud" in page.locator("table").inner_text()
        # a name of another level: offered as a switch of level
        field = page.locator("#ajouter")
        field.focus()
        page.keyboard.type("rennes metro")
        page.wait_for_selector("[role=listbox]:not([hidden]) [role=option]")
        option = page.locator("[role=listbox]:not([hidden]) [role=option]").first
        assert "comparer des EPCI" in option.inner_text()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_url(site + "/comparer?niveau=epci&codes=243500139")
    finally:
        context.close()


def test_home_search_on_the_first_screen_of_a_phone(site, browser):
    context, page = open_page(browser, site + "/", width=390)
    try:
        box = page.locator("#recherche-territoire").bounding_box()
        assert box["y"] + box["height"] < 844 / 2, box  # well within the first screen (it was at y ≈ 530)
    finally:
        context.close()


def test_mobile_skip_link_opens_the_search(site, browser):
    context, page = open_page(browser, site + "/commune/35238", width=390)
    try:
        page.wait_for_function("document.documentElement.hasAttribute('data-fr-js')", timeout=10000)
        assert not page.locator("#recherche").is_visible()  # folded in the header's dialog
        page.keyboard.press("Tab")
        for _ in range(3):
            if page.evaluate("document.activeElement.getAttribute('href')") == "#recherche":
                break
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Recherche"
        page.keyboard.press("Enter")
        wait_until(page, "document.activeElement && document.activeElement.id === 'recherche'")
        assert page.locator("#recherche").is_visible()
        page.keyboard.type("nant")
        page.wait_for_selector("[role=listbox]:not([hidden]) [role=option]")
    finally:
        context.close()


def test_charts_draw_and_keep_their_table(site, browser):
    context, page = open_page(browser, site + "/departement/35")
    try:
        page.wait_for_selector("#population bar-chart svg rect", timeout=15000)
        assert page.locator("#population .oc-graphique__dessin").get_attribute("aria-hidden") == "true"
        assert page.locator("#population table").count() >= 1  # the figures, for screen readers and without script
        assert "2017" in page.locator("#population table").first.inner_text()
        assert page.locator("#population bar-chart svg rect").count() == 2  # one bar per vintage
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_charts_take_the_themes_colours(site, browser, scheme):
    """The axes' text in the theme's colours (≥ 4.5:1 on the page's background in both modes: it was 12 px
    #6b6b6b on #161616, 3.4:1, in dark mode), the bars in the palette of static/oc.css for that mode."""
    context, page = open_page(browser, site + "/epci/243500139", scheme, width=390)
    try:
        page.wait_for_selector("#dotations bar-chart svg rect", timeout=15000)
        ratio = page.evaluate("""() => {
            const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
            const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92
                : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
            const text = getComputedStyle(document.querySelector("#dotations .oc-graphique__axe")).fill;
            const background = getComputedStyle(document.body).backgroundColor;
            const [a, b] = [lum(text), lum(background)].sort((x, y) => y - x);
            return (a + 0.05) / (b + 0.05);
        }""")
        assert ratio >= 4.5, ratio
        fill = page.locator("#dotations bar-chart rect").first.evaluate("r => getComputedStyle(r).fill")
        assert fill == "rgb(92, 104, 229)"  # --oc-graphique-1, the same in both modes
        second = page.locator("#dotations bar-chart rect").nth(1).evaluate("r => getComputedStyle(r).fill")
        assert second == ("rgb(130, 181, 242)" if scheme == "light" else "rgb(105, 155, 214)")  # --oc-graphique-2
        legend = page.locator("#dotations .oc-graphique__legende li")
        assert legend.count() == 3 and legend.first.inner_text() == "Dotation forfaitaire"
    finally:
        context.close()


def test_chart_numbers_in_french_in_an_english_browser(site, browser):
    """The DGF chart's axis in French numbers even when the browser speaks English, and taller on a phone."""
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(site + "/epci/243500139", wait_until="load")
        page.wait_for_selector("#population bar-chart svg rect", timeout=15000)
        assert page.evaluate("navigator.language") == "en-US"
        ticks = page.locator("#population .oc-graphique__axe").all_text_contents()
        assert "2023" in ticks and "100\u202f000" in ticks, ticks  # never 100,000
        assert not any(re.fullmatch(r"\d{1,3}(,\d{3})+", t) for t in ticks), ticks
        box = page.locator("#dotations bar-chart svg").bounding_box()
        assert box["height"] >= box["width"] / 1.35  # drawn less elongated on a phone
        assert "2022" in page.locator("#dotations table").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("path,expected", [
    ("/commune/35238", "230\u202f890"),
    ("/faq", "Pourquoi une commune"),
    ("/recherche?q=s&page=2", "page 2 sur"),
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
