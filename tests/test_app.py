"""The Datasette app as served by scripts/serve.sh, through its test client."""

import re

import pytest

from oc_site.http import stack


async def test_row_json(fixture_ds):
    response = await fixture_ds.client.get("/oc/communes/35238.json?_shape=objects")
    assert response.status_code == 200
    row = response.json()["rows"][0]
    assert row["nom"] == "Rennes" and row["code_insee"] == "35238" and row["epci"] == "243500139"


async def test_whole_database_download(fixture_ds, fixture_db):
    response = await fixture_ds.client.get("/oc.db")
    assert response.status_code == 200
    assert response.content == fixture_db.read_bytes()
    assert response.content.startswith(b"SQLite format 3\x00")


async def test_table_page_has_cluster_map(fixture_ds):
    response = await fixture_ds.client.get("/oc/communes")
    assert response.status_code == 200
    assert "datasette-cluster-map" in response.text


async def test_codes_stay_text_in_json_and_csv(fixture_ds):
    response = await fixture_ds.client.get("/oc/communes.json?code_insee=01001&_shape=array")
    assert response.json()[0]["code_insee"] == "01001"
    csv_response = await fixture_ds.client.get("/oc/communes.csv?code_insee=01001&_col=departement")
    assert csv_response.text.splitlines()[1] == "01001,01"


async def test_metadata_describes_every_table_and_column(fixture_ds):

    metadata = fixture_ds.metadata()["databases"]["oc"]["tables"]
    db = fixture_ds.get_database("oc")
    for table in await db.table_names():
        if table.startswith("territoires_fts") or table.startswith("sqlite_") or table.startswith("publications_fts_"):
            continue
        assert table in metadata and metadata[table].get("description"), table
        columns = await db.table_columns(table)
        described = metadata[table].get("columns", {})
        assert set(columns) <= set(described), (table, set(columns) - set(described))


@pytest.mark.full
async def test_full_row_json(full_ds):
    response = await full_ds.client.get("/oc/communes/35238.json?_shape=objects")
    assert response.json()["rows"][0]["population"] == 230890
    response = await full_ds.client.get("/oc/epci/243500139.json?_shape=objects")
    assert response.json()["rows"][0]["nom"] == "Rennes Métropole"


async def test_home_page(fixture_ds):
    response = await fixture_ds.client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "Trouver un territoire" in html and 'action="/recherche"' in html
    # the page's heading is what to do, not the site's name again (the header says it): the search comes first
    assert re.search(r'<h1 id="accueil-recherche">Trouver un territoire</h1>', html)
    assert html.index('id="recherche-territoire"') < html.index("fr-text--lead")
    assert 'href="/region/53"' in html and "Bretagne" in html
    assert 'href="/oc.db"' in html and 'href="/oc"' in html


async def test_site_assets_are_served(fixture_ds):
    html = (await fixture_ds.client.get("/commune/35238")).text
    for asset in ("/static/oc.css", "/static/recherche.js", "/static/carte.js"):
        # versioned URL (datasette_dsfr_theme/assets.py): /-/v/<version>/static/oc.css
        url = re.search(rf'"(/-/v/[0-9a-f]+{re.escape(asset)})"', html)
        assert url, asset
        assert (await fixture_ds.client.get(url[1])).status_code == 200, asset
        assert (await fixture_ds.client.get(asset)).status_code == 200, asset


async def test_database_page_is_kept_once_rendered(fixture_ds):
    first = await fixture_ds.client.get("/oc")
    again = await fixture_ds.client.get("/oc")
    assert first.status_code == again.status_code == 200
    assert again.text == first.text and "communes" in again.text
    # a query string is never served from the cache
    filtered = await fixture_ds.client.get("/oc?sql=select+1")
    assert filtered.status_code == 200 and filtered.text != first.text


async def test_server_start_renders_the_database_page(fixture_ds):
    """At uvicorn's lifespan start the /oc page is rendered once, before any visitor asks for it."""
    import asyncio

    incoming, sent = asyncio.Queue(), []
    await incoming.put({"type": "lifespan.startup"})

    async def send(message):
        sent.append(message["type"])

    kept = stack.shared_state(fixture_ds).kept_pages  # shared by the server's app and datasette.client's
    assert "/oc" not in kept.pages
    lifespan = asyncio.create_task(fixture_ds.app()({"type": "lifespan"}, incoming.get, send))
    for _ in range(200):
        if "/oc" in kept.pages:
            break
        await asyncio.sleep(0.05)
    await incoming.put({"type": "lifespan.shutdown"})
    await lifespan
    assert "lifespan.startup.complete" in sent
    assert "/oc" in kept.pages
