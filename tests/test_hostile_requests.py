"""Hostile requests against the site's pages (issue 17, findings 2, 4, 7, 9, 10): oversized inputs bounded
before any work, client errors as French 4xx pages, no javascript: link, valid Atom and JSON whatever the
data holds, links built from the public address, CORS on every machine-readable address."""

import json
import shutil
import sqlite3
import xml.etree.ElementTree as ET

import pytest

from bench.site import make_datasette

PUBLIC = "https://open-collectivites.example.org"


@pytest.fixture
def tampered_db(tmp_path, fixture_db):
    """The fixture oc.db with what an older build or a faulty loader could have left in it."""
    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE indicateurs SET source_url = 'javascript:alert(1)' WHERE code = 'population_municipale'")
        conn.execute("UPDATE populations_communes SET densite = 9e999 WHERE code_insee = '35238'")
        conn.execute("UPDATE valeurs_communes_large SET densite = 9e999 WHERE code = '35238'")
        first = conn.execute("SELECT id FROM publications ORDER BY id LIMIT 1").fetchone()[0]
        conn.execute("UPDATE publications SET titre = 'Titre\x01 avec \u202econtrôle', url = 'javascript:alert(2)', "
                     "premiere_vue = '2099-01-01T00:00:00+00:00' WHERE id = ?", (first,))
    return db


@pytest.fixture
def tampered_ds(tampered_db):
    return make_datasette(tampered_db)


async def asgi_get(ds, path: str, query: str) -> tuple[int, str]:
    """GET through the site's ASGI application directly: a 120 KB query string is past what httpx sends."""
    messages = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
             "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"localhost")], "server": ("localhost", 80), "client": ("127.0.0.1", 1)}
    await ds.app()(scope, receive, send)
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, body.decode()


# --- inputs bounded before any work -------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["", ".json", ".csv"])
async def test_twenty_thousand_codes_are_refused_before_any_work(fixture_ds, fmt):
    codes = ",".join(f"{35000 + i:05d}" for i in range(20_000))
    status, body = await asgi_get(fixture_ds, f"/comparer{fmt}", f"codes={codes}")
    assert status == 400
    assert "Paramètre codes trop long" in body


@pytest.mark.parametrize("path", ["/recherche", "/recherche.json", "/comparer?codes=35238,44109&ajouter=",
                                  "/publications?q="])
async def test_a_fifty_kilobyte_search_is_read_up_to_its_bound(fixture_ds, path):
    query = "saint " * 9000
    separator = "" if path.endswith("=") else "?q="
    response = await fixture_ds.client.get(path + separator + query)
    assert response.status_code == 200


# --- client errors are 4xx with the site's error page ----------------------------------------------

async def test_an_unknown_sort_column_is_a_french_400(fixture_ds):
    response = await fixture_ds.client.get("/oc/communes?_sort=zz")
    assert response.status_code == 400 and "Impossible de trier la table par zz" in response.text
    assert '<html lang="fr"' in response.text
    assert (await fixture_ds.client.get("/oc/communes.json?_sort_desc=zz")).status_code == 400


async def test_a_forbidden_page_is_a_french_403(fixture_ds):
    response = await fixture_ds.client.get("/-/permissions")
    assert response.status_code == 403
    assert "Vous n’avez pas le droit d’accéder à cette page" in response.text


# --- what the data holds cannot break a page --------------------------------------------------------

async def test_no_javascript_link_is_rendered(tampered_ds):
    for path in ("/commune/35238", "/comparer?codes=35238,44109", "/publications", "/region/53"):
        response = await tampered_ds.client.get(path)
        assert response.status_code == 200, path
        assert 'href="javascript:' not in response.text.lower(), path


async def test_comparison_json_stays_valid_json(tampered_ds):
    def refuse(constant):
        raise ValueError(f"JSON invalide : {constant}")

    response = await tampered_ds.client.get("/comparer.json?codes=35238,44109")
    data = json.loads(response.text, parse_constant=refuse)
    density = next(i for i in data["indicateurs"] if i["code"] == "densite")
    assert density["valeurs"]["35238"] is None


async def test_atom_is_valid_xml_and_ignores_the_host_header(tampered_ds, monkeypatch):
    monkeypatch.setenv("OC_URL_PUBLIQUE", PUBLIC)
    response = await tampered_ds.client.get("/publications.atom", headers={"host": "evil.example"})
    assert response.status_code == 200
    feed = ET.fromstring(response.content)  # raises on a control character
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert feed.find("a:link[@rel='self']", ns).get("href") == f"{PUBLIC}/publications.atom"
    assert "evil.example" not in response.text
    titles = [t.text for t in feed.findall("a:entry/a:title", ns)]
    assert "Titre avec contrôle" in titles


async def test_the_cached_database_page_links_to_the_public_address(fixture_db, monkeypatch):
    monkeypatch.setenv("OC_URL_PUBLIQUE", PUBLIC)
    ds = make_datasette(fixture_db)
    first = await ds.client.get("/oc")  # fills the cache, from http://localhost
    again = await ds.client.get("/oc", headers={"host": "evil.example"})
    for response in (first, again):
        assert "http://localhost/oc.json" not in response.text and "evil.example" not in response.text
        assert f"{PUBLIC}/oc.json" in response.text


@pytest.mark.parametrize("path", ["/comparer.json?codes=35238,44109", "/comparer.csv?codes=35238,44109",
                                  "/publications.atom", "/recherche.json?q=rennes", "/oc/communes.json",
                                  "/oc/communes.csv?_stream=on", "/comparer?codes=35238,44109"])
async def test_cors_headers_are_the_same_everywhere(fixture_ds, path):
    response = await fixture_ds.client.get(path)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-expose-headers"] == "Link"
