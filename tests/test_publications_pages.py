"""The publications pages, feeds and canned queries, on a fixture oc.db harvested from local files."""

import csv
import io
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET

import pytest
import yaml
from click.testing import CliRunner

from conftest import FIXTURES, make_datasette
from loaders.cli import cli
from loaders.publications.store import rebuild_fts
from oc_site.publications.library import publications_for

PUB = FIXTURES / "publications"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def harvested_db(fixture_db, tmp_path_factory):
    directory = tmp_path_factory.mktemp("pages")
    db = directory / "oc.db"
    shutil.copy(fixture_db, db)
    gallica = directory / "gallica.xml"  # a Gallica answer read from a local file: one page
    gallica.write_bytes((FIXTURES / "gallica-sru" / "SRU_jaune_bleu_p1.xml").read_bytes())
    config = directory / "sources.yml"
    config.write_text(yaml.safe_dump({
        "organisations": [{"id": "dgcl", "nom": "Direction générale des collectivités locales", "sigle": "DGCL"},
                          {"id": "insee", "nom": "Institut national de la statistique", "sigle": "Insee"}],
        "sources": [
            {"id": "dgcl", "nom": "DGCL", "type": "rss", "url": str(PUB / "dgcl.rss"), "organisation": "dgcl"},
            {"id": "insee-bretagne", "nom": "Insee Bretagne", "type": "rss", "url": str(PUB / "insee-bretagne.atom"),
             "organisation": "insee", "territoire": {"niveau": "region", "code": "53"}},
            {"id": "encodage", "nom": "Observatoire", "type": "rss", "url": str(PUB / "latin1.rss")},
            {"id": "gallica", "nom": "Gallica", "type": "gallica", "url": str(gallica), "requete": "x"},
        ],
    }, allow_unicode=True))
    result = CliRunner().invoke(cli, ["harvest", "--db", str(db), "--sources", str(config),
                                      "--archive", str(directory / "archive.jsonl")])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:  # a title with a literal "<" must be shown as text
        conn.execute("UPDATE publications SET titre = 'Ratio dette < 12 ans & <b>gras</b>' WHERE url LIKE '%7780002'")
        rebuild_fts(conn)
    return db


@pytest.fixture
def ds(harvested_db):
    return make_datasette(harvested_db)


async def test_publications_page_cards_count_and_exports(ds):
    response = await ds.client.get("/publications")
    assert response.status_code == 200
    html = response.text
    assert html.count('class="fr-card ') == 20  # first page
    assert "résultats — page 1 sur" in html
    assert 'href="/oc/publications_recherche.csv?' in html and 'href="/publications.atom"' in html
    assert 'class="fr-pagination__link" href="/publications?page=2"' in html
    page2 = await ds.client.get("/publications?page=2")
    assert 'aria-current="page">2</a>' in page2.text


async def test_dates_in_french_and_filters_that_fold(ds):
    html = (await ds.client.get("/publications")).text
    dates = re.findall(r"publié le ([^<·]+)</p>", html)
    assert dates and all(re.fullmatch(r"(1er|\d{1,2}) [a-zéû]+ \d{4}", d.strip()) for d in dates), dates
    assert not re.search(r"publié le \d{4}-\d{2}-\d{2}", html)
    # the filters in a <details>: closed in the HTML (a phone shows the results on its first screen), opened by
    # a script on a wider screen; with active filters, the summary counts them
    assert '<details class="oc-filtres" id="filtres">' in html and 'matchMedia("(min-width: 48em)")' in html
    assert "filtre actif" not in html
    html = (await ds.client.get("/publications?theme=finances&annee=2024")).text
    assert "(2 filtres actifs)</summary>" in html


async def test_search_is_accent_insensitive_and_filters_show_removable_tags(ds):
    response = await ds.client.get("/publications?q=depenses+sociales")
    assert "Les dépenses sociales des départements : l&#39;exemple du Cantal" in response.text
    # and the ODAS page of the catalogue and a budget of the second one (« dépenses sociales » in their summaries)
    assert "3 résultats" in response.text and "Orientations budgétaires 2025" in response.text
    assert 'aria-label="Retirer le filtre Recherche : depenses sociales">Recherche : depenses sociales</a>' in response.text

    response = await ds.client.get("/publications?producteur=insee&territoire=region:53&annee=2024")
    html = response.text
    assert "4 résultats" in html  # 3 from the Insee Bretagne feed, 1 from the catalogue
    assert "Producteur : Insee" in html and "Territoire : Bretagne" in html and "Année : 2024" in html
    assert 'href="/publications?annee=2024&amp;territoire=region%3A53"' in html  # removing "producteur"
    assert 'href="/publications.atom?producteur=insee&amp;annee=2024&amp;territoire=region%3A53"' in html
    assert 'id="lieu" name="lieu" value="Bretagne"' in html and 'name="territoire" value="region:53"' in html

    response = await ds.client.get("/publications?du=2024-04-01&au=2024-04-30")
    assert "Dotation globale de fonctionnement" in response.text and "1 résultat" in response.text

    response = await ds.client.get("/publications?theme=finances_fiscalite&type=publication_statistique")
    assert "Les finances des communes en 2023" in response.text


async def test_empty_state_with_suggestions(ds):
    response = await ds.client.get("/publications?q=introuvablexyz&type=outil")
    html = response.text
    assert response.status_code == 200 and "Aucun résultat" in html
    assert "Aucune publication ne correspond à votre recherche" in html
    assert 'href="/publications?theme=sante_social"' in html and "Voir toutes les publications" in html


async def test_bad_parameters_are_ignored_not_errors(ds):
    for query in ("q=%22%27)(*", "annee=deux", "territoire=commune:35238;DROP", "du=hier", "page=abc", "page=9999"):
        response = await ds.client.get(f"/publications?{query}")
        assert response.status_code == 200, query


async def test_nothing_executable_is_rendered(ds):
    html = (await ds.client.get("/publications?q=population")).text + (await ds.client.get("/publications?page=2")).text
    assert "<script>alert" not in html and "javascript:" not in html
    html = (await ds.client.get("/publications?q=ratio")).text
    assert "Ratio dette &lt; 12 ans &amp; &lt;b&gt;gras&lt;/b&gt;" in html


async def test_atom_feeds_site_territory_and_any_filter(ds):
    response = await ds.client.get("/publications.atom")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 50
    # a territory's feed: the publications linked to it, as the library filtered on it
    response = await ds.client.get("/publications.atom?territoire=epci:243500139")
    feed = ET.fromstring(response.content)
    assert feed.findtext(f"{ATOM}title") == "Open Collectivités — publications concernant Rennes Métropole (35)"
    titles = {e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")}
    assert any(t.startswith("Dotation globale de fonctionnement") for t in titles)
    assert not any("Bretagne" in t for t in titles)  # its région's publications have the région's feed
    # every filter of the library applies
    response = await ds.client.get("/publications.atom?territoire=region:53&type=publication_statistique&q=bretagne")
    feed = ET.fromstring(response.content)
    assert feed.findtext(f"{ATOM}title") == ("Open Collectivités — publications concernant Bretagne "
                                             "(recherche : bretagne ; type : Publication statistique)")
    titles = {e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")}
    assert "Bilan démographique 2023 : la Bretagne gagne 20 000 habitants" in titles
    assert "L'essentiel sur… la Bretagne" in titles  # from the catalogue
    assert not any("Cantal" in t for t in titles)
    assert (await ds.client.get("/publications.atom?territoire=rennes")).status_code == 400
    assert (await ds.client.get("/publications.atom?territoire=commune:99999")).status_code == 404


async def test_canned_queries_json_and_csv(ds):
    response = await ds.client.get("/oc/publications_territoire.json?niveau=commune&code=35238&_shape=array")
    rows = response.json()
    # its own (the second catalogue's), then its parents'
    assert {(r["direct"], r["relation"]) for r in rows} == {(1, "territoire"), (0, "parent")}
    assert {(r["territoire_niveau"], r["territoire_code"]) for r in rows} >= {
        ("commune", "35238"), ("epci", "243500139"), ("region", "53")}
    response = await ds.client.get("/oc/publications_territoire.csv?niveau=epci&code=243500139&_stream=on")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert any(r["direct"] == "1" and r["methode"] == "titre" for r in table)
    params = "theme=&type=&producteur=&annee=&niveau=&territoire=&du=&au="
    response = await ds.client.get(f"/oc/publications_recherche.json?q=finances%22&{params}&_shape=array")
    assert response.status_code == 200 and any("finances" in r["titre"].lower() for r in response.json())
    response = await ds.client.get(f"/oc/publications_recherche.csv?q=&{params.replace('annee=', 'annee=1884')}&_stream=on")
    assert response.status_code == 200 and "Lady Tattersall" in response.text


async def test_publications_for_and_the_fiche_blocks(ds, harvested_db):
    with sqlite3.connect(harvested_db) as conn:
        result = publications_for(conn, "commune", "35238")
    groups = {g["titre"]: g for g in result["groupes"]}
    # Rennes itself (the second catalogue), then its EPCI, département and région, nearest first
    assert list(groups) == ["Concernant Rennes", "Concernant Rennes Métropole",
                            "Concernant le département d'Ille-et-Vilaine", "Concernant la région Bretagne"]
    assert all(p["direct"] == 1 for p in groups["Concernant Rennes"]["publications"])
    metropole = groups["Concernant Rennes Métropole"]
    assert all(p["direct"] == 0 for p in metropole["publications"]) and metropole["total"] > 4
    region = groups["Concernant la région Bretagne"]
    assert region["url_tout"] == "/publications?territoire=region:53"
    assert len(region["publications"]) == 4 < region["total"]
    assert region["publications"][0]["titre"] == "L'essentiel sur… la Bretagne"  # newest first
    useful = {p["titre"]: p for p in result["utiles"]}
    assert useful["Dossier complet d'un territoire (Insee)"]["url_territoire"] == \
        "https://www.insee.fr/fr/statistiques/2011101?geo=COM-35238"
    await ds.invoke_startup()
    html = await ds.render_template("_publications_fiche.html", {"publications": result, "niveau": "commune",
                                                                 "code": "35238"})
    assert "Concernant la région Bretagne" in html and "Utiles à toutes les communes" in html
    assert f"Voir les {region['total']} publications" in html and 'href="/publications?territoire=region:53"' in html
    assert "geo=COM-35238" in html and 'rel="noopener noreferrer"' in html
    with pytest.raises(ValueError):
        publications_for(conn, "canton", "3501")


async def test_table_search_and_sources_status_pages(ds):
    response = await ds.client.get("/oc/publications.json?_search=bretagne&_shape=array")
    assert any("Bretagne" in r["titre"] for r in response.json())
    response = await ds.client.get("/oc/sources.json?_shape=array&id=encodage")
    source = response.json()[0]
    assert source["statut"] == "ok" and "encodage déclaré incorrect" in source["message"]


@pytest.mark.full
async def test_full_database_pages_and_fiche_helper(full_ds):
    from oc_site.publications.library import publications_for_db

    response = await full_ds.client.get("/publications?type=outil")
    assert response.status_code == 200 and "BANATIC" in response.text
    result = await publications_for_db(full_ds.get_database("oc"), "epci", "243500139")
    useful = {p["titre"]: p["url_territoire"] for p in result["utiles"]}
    assert useful["Dossier complet d'un territoire (Insee)"] == "https://www.insee.fr/fr/statistiques/2011101?geo=EPCI-243500139"
    response = await full_ds.client.get("/publications.atom?territoire=departement:2A")
    assert response.status_code == 200 and "Corse-du-Sud" in response.text


async def test_search_lists_newest_first_through_the_ranked_index(ds, harvested_db):
    """The full-text index's rowid is the rank in the library's order (store.rebuild_fts): walking it
    backwards gives the same list as the canned query, which sorts every match, and Datasette's table
    search finds the same publications."""
    from oc_site.publications.library import SEARCH_SQL, count_sql, page_search_sql, search_params, sql_params

    with sqlite3.connect(harvested_db) as conn:
        order = "ORDER BY poids DESC, date_tri IS NULL, date_tri DESC, id DESC"
        ranked = [r[0] for r in conn.execute(f"SELECT id FROM publications {order}")]
        assert [r[0] for r in conn.execute("SELECT id FROM publications ORDER BY rang DESC")] == ranked
        for words in ("collectivites", ""):
            params = search_params({"q": words})
            canned = [r[0] for r in conn.execute(SEARCH_SQL, {**params, "q": params["q"]})]
            page = [r[0] for r in conn.execute(page_search_sql(params), sql_params(params))]
            assert page and page == [i for i in ranked if i in page]
            assert conn.execute(count_sql(params), sql_params(params)).fetchone()[0] == len(page)
            if not words:
                assert page == canned
    params = search_params({"q": "collectivites"})
    with sqlite3.connect(harvested_db) as conn:
        found = [r[0] for r in conn.execute(page_search_sql(params), sql_params(params))]
    response = await ds.client.get("/oc/publications.json?_search=collectivites&_shape=array&_col=id&_size=max")
    assert sorted(row["id"] for row in response.json()) == sorted(found)
