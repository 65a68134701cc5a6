"""The storage of the indicators' values (loaders/indicators/store.py, views.py): typed tables per source
and level, the long view `valeurs` that unpivots them, the wide tables, numbers at their real precision."""

import math
import sqlite3
import sys
import urllib.parse

import pytest
import yaml

from conftest import ROOT
from loaders.indicators import catalogue, store, views
from loaders.indicators.mappings import spec

sys.path.insert(0, str(ROOT / "scripts"))
import compare_values  # noqa: E402  (scripts/compare_values.py: the independent unpivot)


def rows(db, sql, *params):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


# --- the layout of a build ----------------------------------------------------------------------

def test_one_typed_table_per_source_and_level(fixture_db):
    tables = dict(rows(fixture_db, "SELECT nom, niveau FROM indicateurs_tables"))
    assert {"populations_communes", "populations_epci", "populations_departements", "populations_regions",
            "geographie_communes", "dgcl_criteres_communes", "dgcl_criteres_epci", "dgcl_criteres_departements",
            "dgcl_criteres_regions"} <= set(tables)
    assert tables["dgcl_criteres_epci"] == "epci"
    # no long table any more: `valeurs` is a view
    assert rows(fixture_db, "SELECT type FROM sqlite_master WHERE name = 'valeurs'") == [("view",)]
    for table, level in tables.items():
        sql = rows(fixture_db, "SELECT sql FROM sqlite_master WHERE name = ?", table)[0][0]
        assert "WITHOUT ROWID" in sql
        key = {"commune": "code_insee", "epci": "siren"}.get(level, "code")
        assert [r[1] for r in rows(fixture_db, f"PRAGMA table_info({table})") if r[5]] == [key, "annee"]
    columns = [r[1] for r in rows(fixture_db, "PRAGMA table_info(dgcl_criteres_communes)")]
    assert columns[:4] == ["code_insee", "annee", "dgf_totale", "dgf_par_habitant"]  # the catalogue's order
    assert columns[-1] == "source" and "dacom" in columns  # the ratios too carry the file's source
    # every indicator stored at a level has exactly one column, named after it, in a table of that level
    for indicator, level, table, source in rows(fixture_db, "SELECT * FROM indicateurs_colonnes"):
        assert tables[table] == level
        names = [r[1] for r in rows(fixture_db, f"PRAGMA table_info({table})")]
        assert indicator in names and source in names


def test_rennes_in_the_tables_analysts_read(fixture_db):
    assert rows(fixture_db, """SELECT annee, population_municipale, population_totale, source_municipale IS NOT NULL
                               FROM populations_communes WHERE code_insee = '35238' ORDER BY annee""") == [
        (2017, 216815, 220925, 1), (2018, None, 221898, 0), (2019, None, 224655, 0), (2022, None, 231985, 0),
        (2023, 230890, None, 1)]  # the DGCL's populations totales 2018 and 2019 (issue 28) beside INSEE's
    dgf = rows(fixture_db, "SELECT annee, dgf_totale, dsu, zrr FROM dgcl_criteres_communes WHERE code_insee = '35238' "
                           "AND annee = 2022")
    assert dgf == [(2022, 39062590 + 12448358 + 3157262, 12448358, "Non")]
    sums = rows(fixture_db, "SELECT dsu_communes FROM dgcl_criteres_epci WHERE siren = '243500139' AND annee = 2022")
    members = rows(fixture_db, """SELECT sum(d.dsu) FROM dgcl_criteres_communes d JOIN communes c
                                  ON c.code_insee = d.code_insee WHERE c.epci = '243500139' AND d.annee = 2022""")
    assert sums == members


def test_the_long_view_is_the_value_tables_unpivoted(fixture_db):
    """`valeurs` (views.py) gives exactly the values an independent unpivot of the tables finds
    (scripts/compare_values.py reads their registry and columns, not the view)."""
    with sqlite3.connect(fixture_db) as conn:
        conn.execute("ATTACH DATABASE ? AS base", (str(fixture_db),))
        unpivoted = set(conn.execute(
            f"SELECT indicateur, niveau, code, annee, valeur, valeur_texte, source "
            f"FROM ({compare_values.long_values_sql(conn, 'base')})").fetchall())
        viewed = set(conn.execute("SELECT * FROM valeurs").fetchall())
    assert len(viewed) > 3000 and viewed == unpivoted
    latest = set(rows(fixture_db, "SELECT * FROM valeurs_dernier_millesime"))
    assert latest < viewed
    assert rows(fixture_db, """SELECT count(*) FROM valeurs_dernier_millesime v JOIN indicateurs_millesimes m
                               ON m.indicateur = v.indicateur AND m.niveau = v.niveau AND m.annee = v.annee
                               WHERE m.dernier_millesime = 0""") == [(0,)]


def test_wide_tables_hold_the_main_vintage(fixture_db):
    for level, table in (("commune", "valeurs_communes_large"), ("epci", "valeurs_epci_large")):
        for indicator, year in rows(fixture_db, "SELECT indicateur, annee FROM indicateurs_millesimes "
                                                "WHERE niveau = ? AND dernier_millesime = 1", level):
            wide = dict(rows(fixture_db, f'SELECT code, "{indicator}" FROM {table} WHERE "{indicator}" IS NOT NULL'))
            long = {code: value if value is not None else text for code, value, text in rows(
                fixture_db, "SELECT code, valeur, valeur_texte FROM valeurs WHERE indicateur = ? AND niveau = ? "
                            "AND annee = ?", indicator, level, year)}
            assert wide == long, (table, indicator)


def test_no_binary_float_artefact_is_stored(fixture_db):
    with sqlite3.connect(fixture_db) as conn:
        reals = [v for (v,) in conn.execute("SELECT valeur FROM valeurs WHERE typeof(valeur) = 'real'")]
    assert reals and all(float(f"{v:.15g}") == v for v in reals)
    assert rows(fixture_db, "SELECT count(*) FROM valeurs WHERE typeof(valeur) = 'real' AND valeur = CAST(valeur AS INTEGER)"
                ) == [(0,)]  # integers stay integers


# The canned queries of a fiche block fed by producers' files that a build may lack (README, « Les fichiers des
# producteurs en ligne »): their example gives rows once such a file is loaded (tests/test_producteurs.py)
PRODUCER_BLOCKS = {"finances_territoire": "finances", "contexte_territoire": "contexte"}


def examples_without_rows(db) -> list[str]:
    """The canned queries whose `-- example:` gives no row on `db` (or that have none)."""
    from oc_site.datasette_pages.canned_queries import load

    empty = []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        loaded = {b for (b,) in conn.execute("SELECT DISTINCT bloc FROM indicateurs WHERE bloc IS NOT NULL")}
        for name, query in load().items():
            if "example" not in query:
                empty.append(name)
                continue
            params = dict(urllib.parse.parse_qsl(query["example"], keep_blank_values=True))
            if not conn.execute(query["sql"], params).fetchall() and PRODUCER_BLOCKS.get(name, "") in loaded | {""}:
                empty.append(name)
    return empty


def test_every_canned_query_example_returns_rows(fixture_db):
    """Each `-- example:` of queries/*.sql runs and gives rows on the fixture build (the page of every canned
    query opens on a real result)."""
    assert examples_without_rows(fixture_db) == []


# --- store.py ------------------------------------------------------------------------------------

@pytest.fixture
def conn():
    conn = sqlite3.connect(":memory:")
    catalogue.ensure_schema(conn)
    catalogue.upsert_indicators(conn, [
        {"code": code, "libelle": code, "niveaux": "commune", "type": kind}
        for code, kind in (("a", "nombre"), ("b", "nombre"), ("t", "texte"), ("c", "nombre"))])
    for id_ in (1, 2, 3):
        catalogue.add_source(conn, producteur="P", titre=f"S{id_}", millesime="2022")
    store.declare(conn, [store.Column("a", "commune", "essai_communes", "source"),
                         store.Column("b", "commune", "essai_communes", "source"),
                         store.Column("t", "commune", "essai_communes", "source", "texte"),
                         store.Column("c", "commune", "essai_communes", "source_calcul")],
                  {"essai_communes": ("Essai", "Une table d'essai.")})
    yield conn
    conn.close()


def table(conn):
    return conn.execute("SELECT code_insee, annee, a, b, t, c, source, source_calcul FROM essai_communes "
                        "ORDER BY code_insee, annee").fetchall()


def test_write_pivots_and_keeps_numbers_exact(conn):
    written = store.write(conn, [("a", "commune", "35238", 2022, 15.950000000000001, None),
                                 ("b", "commune", "35238", 2022, 3.0, None),
                                 ("t", "commune", "35238", 2022, None, "Oui"),
                                 ("a", "commune", "01001", 2022, 705.4029000000002, None)], source=1)
    assert written == 4
    assert table(conn) == [("01001", 2022, 705.4029, None, None, None, 1, None),
                           ("35238", 2022, 15.95, 3, "Oui", None, 1, None)]
    assert store.clean(0.1 + 0.2) == 0.3 and store.clean(12345678.910000002) == 12345678.91
    assert store.clean(1 / 3) == pytest.approx(1 / 3, rel=1e-14) and store.clean(230890) == 230890


def test_a_row_takes_one_source_per_source_column(conn):
    store.write(conn, [("a", "commune", "35238", 2022, 1, None), ("b", "commune", "35238", 2022, 2, None)], 1)
    store.write(conn, [("c", "commune", "35238", 2022, 9, None)], 3)  # another source column: both kept
    assert table(conn) == [("35238", 2022, 1, 2, None, 9, 1, 3)]
    # a load of another source that gives `a` only takes the whole group: `b` came from the load it replaces
    store.write(conn, [("a", "commune", "35238", 2022, 10, None)], 2)
    assert table(conn) == [("35238", 2022, 10, None, None, 9, 2, 3)]
    # the same source again keeps what it does not give
    store.write(conn, [("t", "commune", "35238", 2022, None, "Non")], 2)
    assert table(conn) == [("35238", 2022, 10, None, "Non", 9, 2, 3)]
    with pytest.raises(ValueError, match="deux sources"):
        store.write(conn, [("a", "commune", "01001", 2022, 1, None, 1), ("b", "commune", "01001", 2022, 1, None, 2)])
    with pytest.raises(ValueError, match="sans colonne"):
        store.write(conn, [("inconnu", "commune", "01001", 2022, 1, None)], 1)


def test_clear_then_tidy_drop_empty_cells_sources_and_rows(conn):
    store.write(conn, [("a", "commune", "35238", 2021, 1, None), ("c", "commune", "35238", 2021, 5, None, 3),
                       ("a", "commune", "35238", 2022, 2, None)], 1)
    store.clear(conn, [store.registry(conn)["c", "commune"]], [2021])
    assert table(conn) == [("35238", 2021, 1, None, None, None, 1, None), ("35238", 2022, 2, None, None, None, 1, None)]
    store.clear(conn, [store.registry(conn)["a", "commune"]], [2022])
    assert table(conn) == [("35238", 2021, 1, None, None, None, 1, None)]
    assert store.referenced_sources(conn) == {1} and store.count(conn, 1) == 1


def test_declare_refuses_a_name_taken_and_keeps_an_indicators_place(conn):
    catalogue.upsert_indicators(conn, [{"code": "source", "libelle": "x", "niveaux": "commune", "type": "nombre"},
                                       {"code": "annee", "libelle": "x", "niveaux": "commune", "type": "nombre"}])
    for name in ("source", "annee"):
        with pytest.raises(ValueError, match="déjà une colonne"):
            store.declare(conn, [store.Column(name, "commune", "essai_communes", "source")], {})
    placed = store.declare(conn, [store.Column("a", "commune", "autre_communes", "source")], {})
    assert placed[0].table == "essai_communes"  # stored once, where it was first declared


def test_views_of_an_empty_registry_exist_with_their_columns():
    conn = sqlite3.connect(":memory:")
    catalogue.ensure_schema(conn)
    conn.executescript("CREATE TABLE communes (code_insee TEXT PRIMARY KEY, nom TEXT, departement TEXT, region TEXT, "
                       "epci TEXT); CREATE TABLE epci (siren TEXT PRIMARY KEY, nom TEXT, type TEXT, departement TEXT, "
                       "region TEXT); CREATE TABLE departements (code TEXT PRIMARY KEY, nom TEXT, region TEXT, "
                       "zone TEXT); CREATE TABLE regions (code TEXT PRIMARY KEY, nom TEXT, zone TEXT);")
    views.refresh(conn)
    assert [d[0] for d in conn.execute("SELECT * FROM valeurs").description] == list(views.LONG_COLUMNS)
    assert conn.execute("SELECT count(*) FROM valeurs_communes_large").fetchone() == (0,)


# --- where a mapping's values go ------------------------------------------------------------------

@pytest.mark.parametrize("name,expected", [
    ("dgcl_criteres_dgf", "dgcl_criteres"),  # its `table`
    ("dgcl_criteres_communes", "dgcl_criteres"),  # from its definitions
    ("ofgl_comptes_communes", "ofgl_comptes"),
    ("ofgl_comptes_groupements", "ofgl_comptes"),  # from its base
    ("insee_comparateur", "insee_comparateur"),  # its name
])
def test_the_tables_of_each_repository_mapping(name, expected):
    assert spec.parse_mapping(spec.mapping_path(name)).stem == expected


def test_a_mapping_named_after_its_level_drops_it(tmp_path):
    data = yaml.safe_load(spec.mapping_path("insee_pop_historiques").read_text(encoding="utf-8"))
    path = tmp_path / "insee_populations_communes.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert spec.parse_mapping(path).stem == "insee_populations"
    data["table"] = "Populations"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(spec.MappingError, match="table « Populations » invalide"):
        spec.parse_mapping(path)


# --- databases built before the value tables ----------------------------------------------------

def long_format(db):
    """Turn a database into one built before the value tables: every value in the long table `valeurs`."""
    with sqlite3.connect(db) as conn:
        tables = [t for (t,) in conn.execute("SELECT nom FROM indicateurs_tables")]
        conn.execute("CREATE TABLE valeurs_longues AS SELECT * FROM valeurs")
        conn.execute("DROP VIEW valeurs")
        conn.execute("DROP VIEW valeurs_dernier_millesime")
        conn.execute("ALTER TABLE valeurs_longues RENAME TO valeurs")
        for table in [*tables, "indicateurs_colonnes", "indicateurs_tables"]:
            conn.execute(f'DROP TABLE "{table}"')


def test_loading_into_a_database_of_the_long_table_asks_for_a_rebuild(tmp_path, fixture_db):
    import hashlib
    import shutil

    from click.testing import CliRunner
    from loaders.cli import cli
    from test_mappings import DGF

    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    long_format(db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = CliRunner().invoke(cli, ["indicators", "load", "dgcl_criteres_dgf", str(DGF), "--db", str(db)])
    assert result.exit_code == 1
    assert "version précédente" in result.output and "relancez `oc build`" in result.output
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_hand_loaded_values_of_a_database_of_the_long_table_survive_a_rebuild(tmp_path):
    """The first build of this layout carries over what was loaded by hand into a database built before it."""
    from click.testing import CliRunner
    from conftest import build_fixture_db
    from loaders.cli import cli
    from test_dgcl import build
    from test_mappings import OFGL, broken_mapping, with_achats

    db = build_fixture_db(tmp_path)
    ofgl = broken_mapping(tmp_path, "ofgl_comptes_communes.yml", with_achats)
    assert CliRunner().invoke(cli, ["indicators", "load", str(ofgl), str(OFGL), "--db", str(db)]).exit_code == 0
    long_format(db)
    result = build(db)
    assert result.exit_code == 0, result.output
    assert "Valeurs reprises de la base précédente : 3" in result.output  # the amount, the population, the ratio
    assert rows(db, "SELECT valeur FROM valeurs WHERE indicateur = 'ofgl_achats_charges_externes' AND code = '93008'"
                ) == [(pytest.approx(17152706.69),)]
    assert rows(db, "SELECT ofgl_achats_charges_externes FROM valeurs_communes_large WHERE code = '93008'") == [
        (pytest.approx(17152706.69),)]


# --- the full build -------------------------------------------------------------------------------

@pytest.mark.full
def test_full_database_is_compact(full_db):
    assert full_db.stat().st_size <= 100 * 1000 * 1000
    assert rows(full_db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'valeurs'") == [(0,)]
    assert rows(full_db, "SELECT count(*) FROM valeurs_communes_large") == rows(full_db, "SELECT count(*) FROM communes")


@pytest.mark.full
def test_full_build_has_no_float_artefact(full_db):
    with sqlite3.connect(f"file:{full_db}?mode=ro", uri=True) as conn:
        tables = [t for (t,) in conn.execute("SELECT nom FROM indicateurs_tables")] + [
            "valeurs_communes_large", "valeurs_epci_large", "valeurs_departements_large", "valeurs_regions_large"]
        for table in tables:
            numeric = [c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[2] == "NUMERIC"]
            for column in numeric:
                for (value,) in conn.execute(f'SELECT "{column}" FROM {table} WHERE typeof("{column}") = \'real\''):
                    assert math.isfinite(value) and float(f"{value:.15g}") == value, (table, column, value)


@pytest.mark.full
def test_every_canned_query_example_returns_rows_on_the_full_build(full_db):
    assert examples_without_rows(full_db) == []
