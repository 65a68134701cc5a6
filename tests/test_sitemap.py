"""/sitemap.xml (an index of parts under the protocol's limits: every fiche of every level, the library, the site's
and data pages, with lastmod from the data's vintage) and /robots.txt, both on the configured public address."""

import sqlite3
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from bench.site import make_datasette
from conftest import release
from oc_site.pages import sitemap

PUBLIC = "https://open-collectivites.example.org"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
MAX_URLS, MAX_BYTES = 50_000, 50 * 1024 * 1024  # sitemaps.org: per file


@pytest.fixture
def public(monkeypatch):
    """A started Datasette of a database on the public address (released after the test)."""
    monkeypatch.setenv("OC_URL_PUBLIQUE", PUBLIC)
    made = []

    async def start(db_path):
        made.append(make_datasette(db_path))
        await made[-1].invoke_startup()
        return made[-1]

    yield start
    for ds in made:
        release(ds)


async def read_sitemap(ds) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]]:
    """The index's parts and every address of every part: (loc, lastmod)."""
    response = await ds.client.get("/sitemap.xml", headers={"host": "evil.example"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    index = ET.fromstring(response.content)
    assert index.tag == f"{{{NS['s']}}}sitemapindex"
    parts = [(e.find("s:loc", NS).text, getattr(e.find("s:lastmod", NS), "text", None))
             for e in index.findall("s:sitemap", NS)]
    urls = []
    for loc, _ in parts:
        assert loc.startswith(f"{PUBLIC}/sitemap-")
        part = await ds.client.get(loc.removeprefix(PUBLIC), headers={"host": "evil.example"})
        assert part.status_code == 200 and len(part.content) <= MAX_BYTES
        tree = ET.fromstring(part.content)
        assert tree.tag == f"{{{NS['s']}}}urlset"
        found = [(e.find("s:loc", NS).text, getattr(e.find("s:lastmod", NS), "text", None))
                 for e in tree.findall("s:url", NS)]
        assert 0 < len(found) <= (MAX_URLS if loc.endswith("-pages.xml") else sitemap.PART_SIZE)
        urls += found
    return parts, urls


def fiche_urls(db_path) -> set[str]:
    conn = sqlite3.connect(db_path)
    return {PUBLIC + url for (url,) in conn.execute("SELECT url FROM territoires")}


async def test_every_fiche_and_page_is_listed_once_on_the_public_address(fixture_db, public, monkeypatch):
    monkeypatch.setattr(sitemap, "PART_SIZE", 10)  # several parts per level with the test data
    ds = await public(fixture_db)
    parts, urls = await read_sitemap(ds)
    locs = [loc for loc, _ in urls]
    assert len(locs) == len(set(locs)), "adresse en double"
    assert fiche_urls(fixture_db) <= set(locs)
    for path in ("/", "/publications", "/comparer", "/plan-du-site", "/sources", "/faq", "/contact",
                 "/mentions-legales", "/accessibilite", "/oc", "/oc/communes", "/oc/valeurs_communes_large"):
        assert PUBLIC + path in locs, path
    assert not any("evil.example" in loc or "_fts" in loc for loc in locs)
    assert len([p for p, _ in parts if "-communes-" in p]) > 1  # the communes in several parts
    for loc, _ in urls[:60]:  # the site's pages and a sample of fiches answer
        assert (await ds.client.get(loc.removeprefix(PUBLIC))).status_code == 200, loc


async def test_lastmod_is_the_datas_vintage_never_today(fixture_db, public):
    ds = await public(fixture_db)
    parts, urls = await read_sitemap(ds)
    conn = sqlite3.connect(fixture_db)
    cog = conn.execute("SELECT max(annee) FROM indicateurs_millesimes WHERE indicateur = 'nb_communes'").fetchone()[0]
    newest = conn.execute("SELECT max(date_publication) FROM publications WHERE masquee = 0").fetchone()[0]
    lastmod = dict(urls)
    assert lastmod[f"{PUBLIC}/commune/35238"] == lastmod[f"{PUBLIC}/oc/communes"] == f"{cog}-01-01"
    assert lastmod[f"{PUBLIC}/publications"] == newest
    assert lastmod[f"{PUBLIC}/faq"] is None  # plain text: no vintage
    assert all(mod == f"{cog}-01-01" for loc, mod in parts if "-communes-" in loc)
    assert date.today().isoformat() not in {mod for _, mod in urls + parts}


async def test_robots_names_the_sitemap_on_the_public_address(fixture_db, public):
    ds = await public(fixture_db)
    response = await ds.client.get("/robots.txt", headers={"host": "evil.example"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert f"Sitemap: {PUBLIC}/sitemap.xml" in lines and "User-agent: *" in lines
    assert "Disallow: /oc?sql=" in lines and "Disallow: /" not in lines  # only visitors' SQL is kept out


@pytest.mark.parametrize("path", ["/sitemap-communes-99.xml", "/sitemap-communes-0.xml", "/sitemap-territoires-1.xml"])
async def test_an_unknown_part_is_not_found(fixture_ds, path):
    assert (await fixture_ds.client.get(path)).status_code == 404


@pytest.mark.full
async def test_the_full_sitemap_lists_every_fiche_under_the_protocols_limits(full_db, public):
    ds = await public(full_db)
    parts, urls = await read_sitemap(ds)
    locs = {loc for loc, _ in urls}
    fiches = fiche_urls(full_db)
    assert len(fiches) > 36_000 and fiches <= locs
    counts = sqlite3.connect(full_db).execute("SELECT count(*) FROM territoires GROUP BY type").fetchall()
    assert len(parts) == 1 + sum(-(-n // sitemap.PART_SIZE) for (n,) in counts)
    print(f"\n{len(parts)} parties, {len(locs)} adresses dont {len(fiches)} fiches")
