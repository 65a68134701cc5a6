"""HTTP caching: ETag from the content hash, Cache-Control, 304, versioned immutable assets, gzip, and the
metadata that Datasette no longer deep-copies (oc_site/http/cache_headers.py, compression.py, datasette_pages/metadata.py,
datasette_dsfr_theme/assets.py, loaders/common/content_hash.py)."""

import copy
import re
import shutil
import sqlite3

import pytest

from loaders.common import content_hash
from loaders.common.atomic import updating_copy
from bench.site import make_datasette

PAGES = ["/", "/commune/35238", "/epci/243500139", "/departement/35", "/region/53", "/recherche?q=renn",
         "/recherche.json?q=renn", "/comparer?codes=35238,35047", "/comparer.csv?codes=35238,35047",
         "/publications", "/oc", "/oc/communes", "/oc/communes.json", "/oc/communes/35238",
         "/oc/fiche_commune?code=35238", "/oc/fiche_commune.csv?code=35238&_stream=on"]


def test_build_records_the_content_hash(fixture_db):
    with sqlite3.connect(fixture_db) as conn:
        assert content_hash.stored(conn) == content_hash.content_hash(fixture_db)


def test_a_change_records_the_new_hash(fixture_db, tmp_path):
    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    with updating_copy(db, "test") as conn:
        conn.execute("UPDATE communes SET population = population + 1 WHERE code_insee = '35238'")
    with sqlite3.connect(db) as conn:
        recorded = content_hash.stored(conn)
    assert recorded == content_hash.content_hash(db) != content_hash.content_hash(fixture_db)


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_has_cache_control_and_the_content_etag(fixture_ds, fixture_db, path):
    response = await fixture_ds.client.get(path)
    assert response.status_code == 200, path
    assert re.search(r"max-age=\d+", response.headers["cache-control"]), path
    etag = response.headers["etag"]
    with sqlite3.connect(fixture_db) as conn:
        assert etag.startswith(f'W/"{content_hash.stored(conn)[:16]}-'), etag
    again = await fixture_ds.client.get(path, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag


async def test_another_etag_or_a_cookie_gets_the_page(fixture_ds):
    etag = (await fixture_ds.client.get("/commune/35238")).headers["etag"]
    stale = await fixture_ds.client.get("/commune/35238", headers={"if-none-match": 'W/"0123456789abcdef-0"'})
    assert stale.status_code == 200 and "Rennes" in stale.text
    # Datasette answers requests with a cookie `private, no-store`: no shared ETag, no 304
    personal = await fixture_ds.client.get("/commune/35238", headers={"if-none-match": etag, "cookie": "x=1"})
    assert personal.status_code == 200 and "private" in personal.headers["cache-control"]
    assert "etag" not in personal.headers


async def test_errors_are_not_cached(fixture_ds):
    response = await fixture_ds.client.get("/commune/99999")
    assert response.status_code == 404 and "etag" not in response.headers


async def test_etag_changes_with_the_site_version(fixture_db):
    first = make_datasette(fixture_db)
    await first.invoke_startup()
    other = make_datasette(fixture_db, default_page_size=20)  # another setting: another site version
    await other.invoke_startup()
    a = (await first.client.get("/")).headers["etag"]
    b = (await other.client.get("/")).headers["etag"]
    assert a != b and a.split("-")[0] == b.split("-")[0]


async def test_assets_have_versioned_immutable_urls(fixture_ds):
    html = (await fixture_ds.client.get("/commune/35238")).text
    assets = re.findall(r'(?:href|src)="(/[^"]*\.(?:css|js))"', html)
    assert assets and all(url.startswith("/-/v/") for url in assets), assets
    for url in assets:
        response = await fixture_ds.client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable", url
    # an old version still gets the file, without the promise
    old = re.sub(r"^/-/v/[0-9a-f]+/", "/-/v/000000000000/", assets[0])
    response = await fixture_ds.client.get(old)
    assert response.status_code == 200 and "immutable" not in response.headers.get("cache-control", "")


async def test_text_is_compressed_binary_is_not(fixture_ds, fixture_db):
    response = await fixture_ds.client.get("/commune/35238", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip" and "Accept-Encoding" in response.headers["vary"]
    download = await fixture_ds.client.get("/oc.db", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in download.headers and download.content == fixture_db.read_bytes()
    plain = await fixture_ds.client.get("/commune/35238", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and "Rennes" in plain.text


async def test_metadata_is_read_only_and_not_copied(fixture_ds):
    metadata = fixture_ds._metadata_local
    assert copy.deepcopy(metadata) is metadata
    with pytest.raises(TypeError):
        metadata["title"] = "autre"
    # Datasette still reads everything from it
    assert fixture_ds.metadata("title") == "Open Collectivités"
    assert fixture_ds.table_metadata("oc", "communes")["columns"]["code_insee"]
