"""What a shared link, a search engine and a dataset search read in a page's head: a fiche's canonical address,
description and preview (Open Graph, Twitter card) with two key figures and their year, its schema.org
AdministrativeArea; a schema.org Dataset with its distributions on Datasette's table pages and /oc. The JSON-LD is
checked against schema.org's vocabulary (tests/schema_org.py)."""

import json
import re
from html.parser import HTMLParser

import pytest

from bench.site import make_datasette
from conftest import release
from schema_org import errors

PUBLIC = "https://open-collectivites.example.org"
NNBSP = "\u202f"  # the thousands separator of French numbers


class Head(HTMLParser):
    """What a link preview reads: the <head>'s meta (name or property → content), links, JSON-LD scripts."""

    def __init__(self, html: str):
        super().__init__()
        self.meta, self.links, self.json_ld, self.in_head, self.script = {}, {}, [], False, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "head":
            self.in_head = True
        elif self.in_head and tag == "meta" and (key := attrs.get("property") or attrs.get("name")):
            assert key not in self.meta, f"balise meta en double : {key}"
            self.meta[key] = attrs.get("content")
        elif self.in_head and tag == "link":
            self.links[attrs.get("rel")] = attrs.get("href")
        elif self.in_head and tag == "script" and attrs.get("type") == "application/ld+json":
            self.script = ""

    def handle_data(self, data):
        if self.script is not None:
            self.script += data

    def handle_endtag(self, tag):
        if tag == "script" and self.script is not None:
            self.json_ld.append(json.loads(self.script))
            self.script = None
        elif tag == "head":
            self.in_head = False


@pytest.fixture
async def public_ds(fixture_db, monkeypatch):
    monkeypatch.setenv("OC_URL_PUBLIQUE", PUBLIC)
    ds = make_datasette(fixture_db)
    await ds.invoke_startup()
    yield ds
    release(ds)


async def head(ds, path, **headers) -> Head:
    response = await ds.client.get(path, headers=headers)
    assert response.status_code == 200, path
    return Head(response.text)


FR_NUMBER = r"\d{1,3}(?:\u202f\d{3})*(?:,\d+)?"  # 1 234 567,8 (the thousands separated by a narrow space)
FIGURES = [rf"population municipale {FR_NUMBER}\u00a0hab\. \(2023\)",
           rf"densité de population {FR_NUMBER}\u00a0hab\./km² \(2023\)"]


@pytest.mark.parametrize("path,name,figures", [
    ("/commune/35238", "Rennes", FIGURES),
    ("/epci/243500139", "Rennes Métropole", FIGURES),
    ("/departement/35", "Ille-et-Vilaine", FIGURES),
    ("/region/53", "Bretagne", FIGURES),
])
async def test_a_shared_fiche_shows_its_name_and_two_key_figures_with_their_year(public_ds, path, name, figures):
    page = await head(public_ds, path, host="evil.example")
    url = PUBLIC + path
    assert page.links["canonical"] == url and page.meta["og:url"] == url
    description = page.meta["description"]
    assert description.startswith(f"{name}, ")
    for figure in figures:
        assert re.search(figure, description), (figure, description)
    assert page.meta["og:description"] == page.meta["twitter:description"] == description
    assert name in page.meta["og:title"] and page.meta["twitter:title"] == page.meta["og:title"]
    assert page.meta["og:type"] == "website" and page.meta["og:locale"] == "fr_FR"
    assert page.meta["twitter:card"] == "summary" and page.meta["og:site_name"] == "Open Collectivités"
    assert "evil.example" not in json.dumps([page.meta, page.links, page.json_ld])


async def test_the_figures_of_a_description_are_those_of_the_fiche(public_ds):
    """The same values as the key figures band, formatted the same way."""
    response = await public_ds.client.get("/commune/35238")
    band = re.findall(r'<p class="oc-chiffre__valeur">([^<]+)', response.text)
    description = Head(response.text).meta["description"]
    population = (await public_ds.client.get("/oc/communes/35238.json?_shape=array")).json()[0]["population"]
    assert f"{population:,}".replace(",", NNBSP) in description
    assert band[0].strip().startswith(f"{population:,}".replace(",", NNBSP))


@pytest.mark.parametrize("path,identifiers,parents", [
    ("/commune/35238", {"code INSEE": "35238", "SIREN": "213502388"},
     ["/epci/243500139", "/departement/35", "/region/53"]),
    ("/epci/243500139", {"SIREN": "243500139"}, ["/departement/35", "/region/53"]),
    ("/departement/2A", {"code INSEE": "2A"}, ["/region/94"]),
    ("/region/53", {"code INSEE": "53"}, []),
])
async def test_a_fiche_describes_its_territory_in_schema_org(public_ds, path, identifiers, parents):
    page = await head(public_ds, path)
    (area,) = page.json_ld
    assert errors(area) == [], errors(area)
    assert area["@context"] == "https://schema.org" and area["@type"] == "AdministrativeArea"
    assert area["url"] == PUBLIC + path
    assert {i["propertyID"]: i["value"] for i in area["identifier"]} == identifiers
    contained = area["containedInPlace"]
    if parents:
        assert [p["url"] for p in contained] == [PUBLIC + p for p in parents]
    else:
        assert contained == [{"@type": "Country", "name": "France"}]


async def test_an_epci_over_two_departements_is_inside_neither(public_ds, fixture_db):
    import sqlite3

    conn = sqlite3.connect(fixture_db)
    siren = conn.execute("SELECT siren FROM epci_departements GROUP BY siren HAVING count(*) > 1").fetchone()
    if siren is None:
        pytest.skip("aucun EPCI sur deux départements dans les données de test")
    (area,) = (await head(public_ds, f"/epci/{siren[0]}")).json_ld
    assert not any("/departement/" in p.get("url", "") for p in area["containedInPlace"])


@pytest.mark.parametrize("table", ["communes", "epci", "valeurs_communes_large", "publications"])
async def test_a_table_page_describes_a_dataset_with_its_downloads(public_ds, table):
    (dataset,) = (await head(public_ds, f"/oc/{table}", host="evil.example")).json_ld
    assert errors(dataset) == [], errors(dataset)
    assert dataset["@type"] == "Dataset" and dataset["url"] == f"{PUBLIC}/oc/{table}"
    assert dataset["name"] and dataset["description"] and dataset["license"].startswith("https://")
    assert re.fullmatch(r"\d{4}-01-01", dataset["dateModified"])
    formats = {d["encodingFormat"]: d["contentUrl"] for d in dataset["distribution"]}
    assert set(formats) == {"text/csv", "application/json", "application/vnd.sqlite3"}
    assert formats["application/vnd.sqlite3"] == f"{PUBLIC}/oc.db"
    csv_rows = (await public_ds.client.get(formats["text/csv"].removeprefix(PUBLIC))).text.splitlines()
    json_rows = (await public_ds.client.get(formats["application/json"].removeprefix(PUBLIC))).json()
    assert len(csv_rows) > 1 and isinstance(json_rows, list) and json_rows
    assert set(json_rows[0]) == set(csv_rows[0].split(","))  # the same columns
    database = await public_ds.client.get("/oc.db")
    assert database.status_code == 200 and database.content.startswith(b"SQLite format 3")


async def test_the_database_page_describes_the_whole_base(public_ds):
    (dataset,) = (await head(public_ds, "/oc")).json_ld
    assert errors(dataset) == [], errors(dataset)
    assert [d["encodingFormat"] for d in dataset["distribution"]] == ["application/vnd.sqlite3"]
    parts = {p["url"].removeprefix(f"{PUBLIC}/oc/") for p in dataset["hasPart"]}
    assert {"communes", "epci", "departements", "regions", "valeurs", "publications"} <= parts
    assert not any(p.endswith("_fts") for p in parts)


async def test_other_pages_have_no_structured_data(public_ds):
    """A row, a query (the visitors' SQL, a canned query): not a dataset of their own; the site's other pages."""
    for path in ("/", "/oc/communes/35238", "/faq", "/oc?sql=select+1", "/oc/fiche_commune?code=35238"):
        page = await head(public_ds, path)
        assert page.json_ld == [] and "canonical" not in page.links


def test_the_vocabulary_check_finds_what_is_wrong():
    """The check is not empty: a misspelt property, a property of another type, a value of the wrong type."""
    bad = {"@context": "https://schema.org", "@type": "Dataset", "nom": "x", "geo": {"@type": "GeoCoordinates"},
           "isAccessibleForFree": "oui", "distribution": {"@type": "Country"}, "containedInPlace": {"@type": "Place"}}
    found = "\n".join(errors(bad))
    for expected in ("$.nom: propriété inconnue", "$.geo: propriété qui n'appartient pas au type Dataset",
                     "$.isAccessibleForFree[0]: valeur 'oui'", "$.distribution[0]: Country n'est pas",
                     "$.containedInPlace: propriété qui n'appartient pas au type Dataset"):
        assert expected in found, found
    assert errors({"@type": "Territoire"}) == ["$: type inconnu 'Territoire'"]
