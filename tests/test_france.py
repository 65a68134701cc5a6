"""Values for France as a whole (loaders/indicators/france.sql), the comparison of the fiches' key figures.

france.sql reads the régions' values in valeurs_regions (a temporary view of the value tables, france.py):
the cases here give it as a table."""

import sqlite3

import pytest

from loaders.indicators.france import SQL


def database(values):
    """Three régions of métropole or DROM, one COM; `values`: (indicator, région, year, value)."""
    conn = sqlite3.connect(":memory:")
    conn.executescript("""
        CREATE TABLE regions (code TEXT PRIMARY KEY, nom TEXT, zone TEXT);
        INSERT INTO regions VALUES ('53', 'Bretagne', 'metro'), ('52', 'Pays de la Loire', 'metro'),
                                   ('06', 'Mayotte', 'drom'), ('988', 'Nouvelle-Calédonie', 'com');
        CREATE TABLE communes (code_insee TEXT, region TEXT, epci TEXT);
        INSERT INTO communes VALUES ('35238', '53', 'A'), ('44109', '52', 'B'), ('29019', '53', 'A'), ('97611', '06', NULL);
        CREATE TABLE indicateurs (code TEXT PRIMARY KEY);
        CREATE TABLE sources_donnees (id INTEGER PRIMARY KEY);
        CREATE TABLE valeurs_regions (indicateur TEXT, code TEXT, annee INTEGER, valeur NUMERIC, source INTEGER);
    """)
    conn.executemany("INSERT INTO valeurs_regions VALUES (?, ?, ?, ?, 1)", values)
    conn.executescript(SQL.read_text(encoding="utf-8"))
    return {(i, a): (v, m, e) for i, a, v, m, e in conn.execute(
        "SELECT indicateur, annee, valeur, methode, exclues FROM valeurs_france")}


def test_stocks_are_sums_of_the_regions_leaving_out_the_com():
    france = database([("population_municipale", "53", 2023, 3000), ("population_municipale", "52", 2023, 4000),
                       ("population_municipale", "06", 2023, 300), ("population_municipale", "988", 2023, 270)])
    assert france[("population_municipale", 2023)] == (7300, "somme des régions", None)


def test_a_region_of_another_vintage_is_left_out_and_named():
    rows = [("population_municipale", "53", 2023, 3000), ("population_municipale", "52", 2023, 4000),
            ("population_municipale", "06", 2017, 250),
            ("superficie", "53", 2026, 30.0), ("superficie", "52", 2026, 40.0), ("superficie", "06", 2026, 5.0),
            ("densite", "53", 2023, 100.0), ("densite", "52", 2023, 100.0), ("densite", "06", 2017, 50.0)]
    france = database(rows)
    assert france[("population_municipale", 2023)][::2] == (7000, "Mayotte")
    # density: the population of the same régions over their own area, not Mayotte's area
    assert france[("densite", 2023)][0] == pytest.approx(100.0)
    # a vintage that only a minority of régions has is not summed
    assert ("population_municipale", 2017) not in france and ("densite", 2017) not in france


def test_population_change_from_the_earlier_vintage():
    rows = [("population_municipale", "53", 2017, 1000), ("population_municipale", "52", 2017, 1000),
            ("population_municipale", "06", 2017, 100),
            ("evolution_population", "53", 2023, 100), ("evolution_population", "52", 2023, -20)]
    france = database(rows)
    assert france[("evolution_population", 2023)][::2] == (80, "Mayotte")
    assert france[("evolution_population_pct", 2023)][0] == pytest.approx(4.0)  # 80 / 2 000, Mayotte left out
    assert france[("taux_evolution_annuel", 2023)][0] == pytest.approx(100 * (1.04 ** (1 / 6) - 1), abs=0.01)
