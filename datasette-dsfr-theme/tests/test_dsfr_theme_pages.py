import os
import re

import pytest
from markupsafe import Markup

from dsfr_theme_helpers import METADATA, datasette_for, visible_text

# English strings of Datasette 0.65's own templates that this plugin replaces.
ENGLISH = [
    "rows", "row", "Download", "Advanced export", "Custom SQL query", "This data as",
    "Next page", "Suggested facets", "Run SQL", "Format SQL", "View and edit SQL",
    "Powered by", "Apply", "Search", "Sort by", "descending", "remove filter",
    "column", "CSV options", "download file", "expand labels", "stream all rows",
    "Export CSV", "JSON shape", "default", "array", "newline-delimited", "object",
    "Queries took", "Data license", "Data source", "About", "Views",
    "Query parameters", "Edit SQL", "hidden", "Links from other tables", "from",
    "Error", "home", "Log out", "returning", "results", "records", "hide", "show",
    "view", "views", "contains", "starts with", "ends with",
    "is null", "is not null", "is blank", "Many rows", "Download SQLite DB",
    "These facets timed out", "Invalid SQL", "SQL Interrupted", "took too long",
    "Not Found", "Database not found", "Table not found",
]

PAGES = {
    "index": "/",
    "database": "/demo",
    "table": "/demo/communes",
    "table_facet_sort": "/demo/communes?_facet=region&_sort_desc=population&population__gt=1000",
    "table_page_2": "/demo/communes?_size=2",
    "view": "/demo/grandes_communes",
    "row": "/demo/communes/75056",
    "row_fk_target": "/demo/regions/84",
    "query": "/demo?sql=select+nom%2C+population+from+communes",
    "canned_query": "/demo/par_region?region=84",
    "canned_query_empty": "/demo/par_region",
    "metadata": "/-/metadata",
    "versions": "/-/versions",
    "plugins": "/-/plugins",
    "settings": "/-/settings",
    "databases": "/-/databases",
    "allow_debug": "/-/allow-debug",
    "messages_debug": "/-/messages",
}

ERRORS = {
    "404": ("/pas-de-page-ici", 404),
    "404_row": ("/demo/communes/99999", 404),
    "404_nested": ("/demo/communes/75056/autre", 404),
    "404_table": ("/demo/pas_de_table", 404),
    "sql_error": ("/demo?sql=select+*+from+pas_de_table", 400),
    "403": ("/-/permissions", 403),  # Datasette's forbidden() hook gives the template no status
}


def english_found(text):
    return [
        word for word in ENGLISH if re.search(r"(?<![\w-]){}(?![\w-])".format(re.escape(word)), text)
    ]


async def get(ds, path):
    response = await ds.client.get(path)
    return response


def assert_common(html):
    assert '<html lang="fr"' in html
    assert 'class="fr-skiplinks"' in html
    assert 'href="#contenu"' in html and 'id="contenu"' in html
    assert 'href="#pied-de-page"' in html and 'id="pied-de-page"' in html
    assert 'href="#recherche"' in html and 'id="recherche"' in html


@pytest.mark.asyncio
@pytest.mark.parametrize("name,path", PAGES.items())
async def test_page_is_french(ds, name, path):
    response = await get(ds, path)
    assert response.status_code == 200, response.text[:500]
    html = response.text
    assert_common(html)
    text = visible_text(html)
    assert english_found(text) == [], (name, english_found(text))
    assert "Service de démonstration" in text


@pytest.mark.asyncio
@pytest.mark.parametrize("name,path_status", ERRORS.items())
async def test_error_pages_french(ds, name, path_status):
    path, status = path_status
    response = await get(ds, path)
    assert response.status_code == status
    html = response.text
    assert_common(html)
    text = visible_text(html)
    assert english_found(text) == [], english_found(text)
    # a search form to get back on track
    assert 'action="/chercher"' in html
    assert 'name="texte"' in html


@pytest.mark.asyncio
async def test_404_wording(ds):
    text = visible_text((await get(ds, "/demo/pas_de_table")).text)
    assert "Page introuvable" in text
    assert "Table introuvable" in text


@pytest.mark.asyncio
async def test_sql_error_wording(ds):
    html = (await get(ds, "/demo?sql=select+*+from+pas_de_table")).text
    text = visible_text(html)
    assert "Erreur dans la requête" in text
    assert "Table inexistante : pas_de_table" in text
    assert 'class="fr-alert fr-alert--error' in html


@pytest.mark.asyncio
async def test_sql_time_limit_in_french(db_path):
    ds = datasette_for(db_path, settings={"sql_time_limit_ms": 100})
    sql = (
        "with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000000) "
        "select count(*) from c"
    )
    response = await ds.client.get("/demo", params={"sql": sql})
    assert response.status_code == 400
    text = visible_text(response.text)
    assert "Requête SQL interrompue" in text
    assert "a pris trop de temps" in text
    assert "took too long" not in text
    assert "sql_time_limit_ms" in response.text


@pytest.mark.asyncio
async def test_table_strings(ds):
    html = (await get(ds, "/demo/communes?_facet=region&_size=2")).text
    text = visible_text(html)
    for expected in [
        "5 lignes", "Filtrer", "Appliquer", "Facettes", "Page suivante", "Exporter en CSV",
        "Options CSV", "Voir et modifier le SQL", "Voir la définition du schéma",
        "Télécharger ces données", "décroissant", "trier par population",
    ]:
        assert expected in text, expected
    assert 'class="fr-pagination"' in html
    assert 'class="fr-tag fr-tag--sm"' in html
    assert 'class="rows-and-columns"' in html  # needed by Datasette's table.js
    assert "/-/static/table.js" in html
    assert "table-fr.js" in html
    # Datasette's own raw values stay untouched in JSON and CSV
    data = (await get(ds, "/demo/communes.json?_shape=array")).json()
    assert {"code_insee": "75056", "population": 2133111} .items() <= data[-1].items() or any(
        row["population"] == 2133111 for row in data
    )
    csv = (await get(ds, "/demo/communes.csv")).text
    assert "2133111" in csv


@pytest.mark.asyncio
async def test_numbers_french_format(ds):
    html = (await get(ds, "/demo")).text
    assert "2\u202f133\u202f111" not in html  # cells are not formatted
    index = visible_text((await get(ds, "/")).text)
    assert "lignes dans" in index


@pytest.mark.asyncio
async def test_query_page_strings(ds):
    text = visible_text((await get(ds, "/demo?sql=select+1")).text)
    for expected in ["Requête SQL personnalisée", "Exécuter la requête", "Formater la requête", "1 ligne"]:
        assert expected in text, expected
    text = visible_text((await get(ds, "/demo/par_region?region=84")).text)
    for expected in ["Communes d’une région", "Paramètres de la requête", "Modifier la requête SQL", "3 lignes"]:
        assert expected in text, expected


@pytest.mark.asyncio
async def test_breadcrumb(ds):
    html = (await get(ds, "/demo/communes/75056")).text
    assert 'class="fr-breadcrumb crumbs"' in html
    assert '>Accueil</a>' in html
    assert 'href="/demo/communes"' in html
    assert 'aria-current="page">75056</a>' in html


@pytest.mark.asyncio
async def test_config_values_appear(ds):
    html = (await get(ds, "/")).text
    text = visible_text(html)
    for expected in [
        "Service de démonstration", "Devise configurée du service", "Ministère", "de l’Exemple",
        "Données brutes", "Sources des données", "Accessibilité : partiellement conforme",
        "Mentions légales", "Texte de licence configuré", "Paramètres d’affichage",
    ]:
        assert expected in text, expected
    assert '<form class="fr-search-bar" id="recherche-header" role="search" aria-label="Recherche sur le site" action="/chercher" method="get">' in html
    assert 'name="texte"' in html
    assert 'aria-current="page">Accueil</a>' in html
    assert 'href="/sources"' in html


@pytest.mark.asyncio
async def test_dsfr_assets_served_locally(ds):
    from datasette_dsfr_theme.config import vendored_assets_present

    if not vendored_assets_present() and os.environ.get("CI", "").lower() not in ("1", "true"):
        pytest.skip("DSFR non copié : python -m datasette_dsfr_theme.vendor …/dist")
    html = (await get(ds, "/")).text
    prefix = "/-/static-plugins/datasette-dsfr-theme/dsfr/"
    for asset in ["dsfr.min.css", "dsfr.module.min.js", "dsfr.nomodule.min.js", "utility/icons/icons.min.css", "favicon/favicon.svg"]:
        assert prefix + asset in html, asset
    assert 'data-fr-scheme="system"' in html
    assert 'id="fr-theme-modal"' in html
    assert "http://" not in re.sub(r'href="https?://[^"]*"', "", html).replace("http://www.w3.org", "")
    for asset in ["dsfr.min.css", "fonts/Marianne-Regular.woff2", "utility/icons/icons.min.css"]:
        response = await get(ds, prefix + asset)
        assert response.status_code == 200, asset
    # the icons are written into the stylesheets (vendor.inline_icons): no request of their own
    css = (await get(ds, prefix + "dsfr.min.css")).text
    assert "url(icons/" not in css and 'url("data:image/svg+xml,' in css


@pytest.mark.asyncio
async def test_neutral_theme_loads_no_dsfr(db_path):
    config = dict(
        service_name="Service neutre", theme="neutre", navigation=[{"label": "Accueil", "href": "/"}]
    )
    ds = datasette_for(db_path, plugin_config=config)
    for path in list(PAGES.values()) + ["/pas-de-page"]:
        response = await ds.client.get(path)
        html = response.text
        assert '<html lang="fr"' in html
        assert "/dsfr/" not in html, path
        assert "dsfr.min" not in html and "Marianne" not in html
        assert "fr-logo" not in html  # no bloc Marianne
        assert "République" not in html
        assert "theme-neutre.css" in html
        assert 'class="fr-skiplinks"' in html
        assert english_found(visible_text(html)) == [], (path, english_found(visible_text(html)))
    css = (await ds.client.get("/-/static-plugins/datasette-dsfr-theme/theme-neutre.css")).text
    assert "Marianne" not in css and "prefers-color-scheme: dark" in css


@pytest.mark.asyncio
async def test_bare_datasette_defaults(db_path):
    """Only this plugin, no metadata at all: defaults must render."""
    ds = datasette_for(db_path, metadata={})
    for path in ["/", "/demo", "/demo/communes", "/demo/communes/75056", "/demo?sql=select+1", "/nope"]:
        response = await ds.client.get(path)
        assert response.status_code in (200, 404)
        html = response.text
        assert '<html lang="fr"' in html
        text = visible_text(html)
        assert "République Française" in text
        assert "Accessibilité : non conforme" in text
        assert 'action="/recherche"' in html and 'name="q"' in html
        assert english_found(text) == [], (path, english_found(text))


@pytest.mark.asyncio
async def test_configuration_read_once_per_instance(db_path, monkeypatch):
    """Templates ask for the configuration dozens of times per page: Datasette's plugin_config() is called
    by the theme's start-up and by its first page, then never again (no private attribute watched)."""
    ds = datasette_for(db_path, plugin_config={"theme": "neutre"})
    await ds.invoke_startup()
    calls = []
    plugin_config = ds.plugin_config
    monkeypatch.setattr(ds, "plugin_config", lambda name, **kwargs: calls.append(name) or plugin_config(name, **kwargs))
    for path in ["/", "/demo/communes", "/demo/communes", "/demo?sql=select+1"]:
        assert (await ds.client.get(path)).status_code == 200, path
    assert calls.count("datasette-dsfr-theme") == 1, calls


@pytest.mark.asyncio
async def test_invalid_theme_rejected(db_path):
    ds = datasette_for(db_path, plugin_config={"theme": "bleu"})
    with pytest.raises(ValueError):
        await ds.invoke_startup()


@pytest.mark.asyncio
async def test_plugin_listed(ds):
    plugins = (await ds.client.get("/-/plugins.json")).json()
    assert any(p["name"] == "datasette-dsfr-theme" for p in plugins)


@pytest.mark.asyncio
async def test_site_template_can_extend_base(db_path, tmp_path):
    (tmp_path / "index.html").write_text(
        '{% extends "base.html" %}{% block title %}Ma page{% endblock %}'
        "{% block extra_head %}<meta name=x-test content=ok>{% endblock %}"
        "{% block content %}<p>Contenu du site : {{ 1234567.5|nombre_fr }}</p>{% endblock %}",
        encoding="utf-8",
    )
    ds = datasette_for(db_path, template_dir=str(tmp_path))
    html = (await ds.client.get("/")).text
    assert "Contenu du site : 1\u202f234\u202f567,5" in html
    assert "<meta name=x-test content=ok>" in html
    assert "fr-header" in html and "fr-footer" in html


@pytest.mark.asyncio
async def test_format_numbers_opt_in(db_path):
    config = {"format_numbers": True}
    ds = datasette_for(db_path, plugin_config=config)
    html = (await ds.client.get("/demo/communes")).text
    assert ">2\u202f133\u202f111</td>" in html
    assert ">105,4</td>" in html
    assert ">75056</a>" in html  # primary key untouched
    rows = (await ds.client.get("/demo/communes.json?_shape=array")).json()
    assert any(row["population"] == 2133111 for row in rows)
    assert "2133111" in (await ds.client.get("/demo/communes.csv")).text
    query = (await ds.client.get("/demo?sql=select+2024+as+annee,+1234+as+n")).text
    assert ">2024</td>" in query and ">1\u202f234</td>" in query
    # default: off
    ds = datasette_for(db_path, metadata={})
    assert ">2133111</td>" in (await ds.client.get("/demo/communes")).text


@pytest.mark.asyncio
async def test_cells_written_by_the_templates(db_path):
    """Numbers and registered links are written by the templates, once per page; a cell another
    plugin rendered keeps that rendering; an empty key gives no link."""
    from datasette import hookimpl
    from datasette.plugins import pm

    class Bold:
        @hookimpl
        def render_cell(self, value, column):
            if column == "superficie" and value == 105.4:
                return Markup("<b>105.4 km²</b>")

    ds = datasette_for(db_path, plugin_config={"format_numbers": True})
    await ds.invoke_startup()
    theme = ds.jinja_env.globals["dsfr_theme"]
    theme.add_cell_links("demo", "communes", "nom", "code_insee", lambda code: f"/commune/{code}")
    pm.register(Bold(), name="bold-test")
    try:
        html = (await ds.client.get("/demo/communes")).text
        row = (await ds.client.get("/demo/communes/69123")).text
        other_table = (await ds.client.get("/demo/grandes_communes")).text
    finally:
        pm.unregister(name="bold-test")
    assert '<td class="col-nom type-str"><a href="/commune/75056">Paris</a></td>' in html
    assert '<a href="/commune/01001">L’Abergement-Clémenciat</a>' in html
    assert '<a href="/commune/69123">Lyon</a>' in row and ">522\u202f250</td>" in row
    assert "<b>105.4 km²</b>" in html and ">47,87</td>" in html  # the plugin's cell, and a French one
    assert 'href="/commune/' not in other_table  # links are registered per table


@pytest.mark.asyncio
async def test_table_description_in_french(ds):
    text = visible_text((await get(ds, "/demo/communes")).text)
    assert "5 lignes" in text and "triées par" not in text  # implicit pk order not announced
    path = "/demo/communes?nom__contains=a&population__gt=1000&_sort_desc=population"
    text = visible_text((await get(ds, path)).text)
    assert "où nom contient « a » et population > 1000 triées par population (ordre décroissant)" in text


@pytest.mark.asyncio
async def test_column_labels_from_config_table_and_plugins(db_path):
    metadata = {"databases": {"demo": {"tables": {"communes": {"column_labels": {"superficie": "Superficie (km²)"}}}}}}
    ds = datasette_for(db_path, metadata=metadata,
                       plugin_config={"column_labels": {"nom": "Nom", "population": "Population"}})
    await ds.invoke_startup()
    ds.jinja_env.globals["dsfr_theme"].add_column_labels({"region": "Région", "nom": "ignoré"})
    html = (await ds.client.get("/demo/communes")).text
    for column, label in (("nom", "Nom"), ("population", "Population"), ("superficie", "Superficie (km²)"),
                          ("region", "Région"), ("code_insee", "code_insee")):
        assert re.search(rf'data-column="{column}"[^>]*>\s*<a [^>]*>{re.escape(label)}', html), column
    assert '<option value="population">Population</option>' in html  # the filters speak the same words
    query = (await ds.client.get("/demo?sql=select+nom,+population+from+communes")).text
    assert 'data-column="population" title="Colonne population">Population</th>' in query
    # on a phone, the cells of a row page are labelled like its columns
    row = (await ds.client.get("/demo/communes/75056")).text
    assert 'content: "Population"; }' in row and 'content: "Superficie (km²)"; }' in row


@pytest.mark.asyncio
async def test_facet_values_labelled_by_plugins(db_path):
    ds = datasette_for(db_path, metadata={})
    await ds.invoke_startup()
    ds.jinja_env.globals["dsfr_theme"].add_value_labels("nom", {"Paris": "Ville de Paris"})
    html = (await ds.client.get("/demo/grandes_communes?_facet=nom")).text
    assert "Ville de Paris&nbsp;" in html
    ds.jinja_env.globals["dsfr_theme"].add_value_labels("region", {"84": "Auvergne-Rhône-Alpes"})
    html = (await ds.client.get("/demo/communes?_facet=region")).text
    assert "Auvergne-Rhône-Alpes&nbsp;" in html and ">11&nbsp;" in html  # unknown codes stay as they are


@pytest.mark.asyncio
async def test_header_link_says_the_size_of_a_database(db_path):
    link = {"label": "Télécharger la base (SQLite, {taille})", "href": "/demo.db", "database_size": "demo"}
    ds = datasette_for(db_path, plugin_config={"header_links": [link]})
    html = (await ds.client.get("/")).text
    size = db_path.stat().st_size
    expected = f"{size:,}".replace(",", "\u202f") + " octets" if size < 1024 else None
    label = re.search(r'href="/demo.db">Télécharger la base \(SQLite, ([^)]+)\)</a>', html).group(1)
    assert label == expected if expected else label.endswith(("Ko", "Mo"))


@pytest.mark.asyncio
async def test_canned_query_example_prefills_its_form(db_path):
    metadata = {"databases": {"demo": {"queries": {"par_region": {
        "title": "Communes d’une région", "example": "region=84",
        "sql": "select nom, population from communes where region = :region"}}}}}
    ds = datasette_for(db_path, metadata=metadata)
    assert 'href="/demo/par_region?region=84"' in (await ds.client.get("/demo")).text
    html = (await ds.client.get("/demo/par_region")).text
    assert 'name="region" value="84"' in html and "pré-remplies" in html
    assert '<table class="rows-and-columns">' not in html and "Aucun résultat" not in html
    html = (await ds.client.get("/demo/par_region?region=84")).text
    assert "Lyon" in html and "pré-remplies" not in html


@pytest.mark.asyncio
async def test_database_title_in_the_breadcrumb(db_path):
    ds = datasette_for(db_path, metadata={"databases": {"demo": {"title": "Données et SQL"}}})
    html = (await ds.client.get("/demo/communes")).text
    assert '<a class="fr-breadcrumb__link" href="/demo">Données et SQL</a>' in html


@pytest.mark.asyncio
async def test_the_kept_page_frame_follows_the_page_it_is_on(db_path):
    """The header and footer are rendered once and kept (theme's fragment cache): the active menu
    item and the search box's words still belong to each page, never to the one rendered first."""
    config = {**METADATA["plugins"]["datasette-dsfr-theme"], "search_url": "/demo/communes"}
    ds = datasette_for(db_path, plugin_config=config)
    home = (await get(ds, "/")).text
    data = (await get(ds, "/demo")).text
    assert 'aria-current="page">Accueil</a>' in home and 'aria-current="page">Données brutes</a>' not in home
    assert 'aria-current="page">Données brutes</a>' in data and 'aria-current="page">Accueil</a>' not in data
    first = (await get(ds, "/demo/communes?texte=Lyon")).text
    second = (await get(ds, "/demo/communes?texte=Paris")).text
    again = (await get(ds, "/demo/communes")).text
    assert 'name="texte" value="Lyon"' in first and 'name="texte" value="Paris"' in second
    assert 'value="Lyon"' not in second and 'value="Paris"' not in again
    for page in (home, data, first, second, again):
        assert "Texte de licence configuré" in page and 'href="/sources"' in page


@pytest.mark.asyncio
async def test_row_page_named_by_its_label_column(db_path):
    metadata = {"databases": {"demo": {"tables": {"communes": {"title": "Communes", "label_column": "nom"}}}}}
    ds = datasette_for(db_path, metadata=metadata)
    html = (await ds.client.get("/demo/communes/75056")).text
    assert re.search(r"<h1>Communes : Paris \(75056\)\s*</h1>", html)
    assert "<title>Communes : Paris (75056) (demo)" in html
    assert 'aria-current="page">Paris (75056)</a>' in html and ">Communes</a>" in html  # the breadcrumb
    # the row as a card at every width: each value after its column's label
    style = html[html.index("<style>"):html.index("</style>")]
    assert "@media" not in style and 'content: "nom"; }' in style
    html = (await datasette_for(db_path, metadata={}).client.get("/demo/communes/75056")).text
    assert re.search(r"<h1>communes : 75056\s*</h1>", html)  # no title nor label column: the table and the key


@pytest.mark.asyncio
async def test_coded_values_shown_with_their_labels_in_cells(db_path):
    ds = datasette_for(db_path, plugin_config={"value_labels": {"region": {"84": "Auvergne-Rhône-Alpes"}}})
    await ds.invoke_startup()
    ds.jinja_env.globals["dsfr_theme"].add_value_labels("nom", {"Paris": "Ville de Paris (Paris)"})
    row = (await ds.client.get("/demo/communes/69123")).text
    assert '<td class="col-region type-str">Auvergne-Rhône-Alpes <em>84</em></td>' in row
    row = (await ds.client.get("/demo/communes/75056")).text
    assert '<td class="col-nom type-str">Ville de Paris (Paris)</td>' in row  # the label already says the code
    table = (await ds.client.get("/demo/grandes_communes")).text  # a view: no foreign key for Datasette
    assert "Auvergne-Rhône-Alpes <em>84</em>" in table
    assert (await ds.client.get("/demo/communes/69123.json")).json()["rows"][0][2] == "84"  # JSON stays raw


@pytest.mark.asyncio
async def test_decimals_of_a_column_in_html_cells(db_path):
    ds = datasette_for(db_path, plugin_config={"format_numbers": True, "decimals": {"superficie": 1}})
    await ds.invoke_startup()
    html = (await ds.client.get("/demo/communes/69123")).text
    assert ">47,9</td>" in html
    query = (await ds.client.get("/demo?sql=select+superficie,+population+from+communes+where+code_insee='69123'")).text
    assert ">47,9</td>" in query and ">522\u202f250</td>" in query  # integers keep their digits
    ds = datasette_for(db_path, plugin_config={"format_numbers": True})
    await ds.invoke_startup()
    ds.jinja_env.globals["dsfr_theme"].add_column_decimals({"superficie": 0})
    assert ">48</td>" in (await ds.client.get("/demo/communes/69123")).text
    assert (await ds.client.get("/demo/communes/69123.json")).json()["rows"][0][4] == 47.87


@pytest.mark.asyncio
async def test_canned_query_parameters_labelled(db_path):
    metadata = {"databases": {"demo": {"queries": {
        "seuil": {"title": "Seuil", "sql": "select nom from communes where region = :region and population > :minimum",
                  "param_labels": "minimum=Population minimale", "example": "region=84&minimum=100000"}}}},
        "plugins": {"datasette-dsfr-theme": {"column_labels": {"region": "Région"}}}}
    ds = datasette_for(db_path, metadata=metadata)
    html = (await ds.client.get("/demo/seuil")).text
    assert ('<label class="fr-label" for="qp1">Région <span class="fr-hint-text">Paramètre region ; '
            'exemple : 84</span></label>') in html
    assert '>Population minimale <span class="fr-hint-text">Paramètre minimum ; exemple : 100000</span>' in html
    metadata["plugins"]["datasette-dsfr-theme"]["parameter_labels"] = {"region": "Code de la région"}
    html = (await datasette_for(db_path, metadata=metadata).client.get("/demo/seuil")).text
    assert ">Code de la région <span" in html
