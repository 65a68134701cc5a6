#!/usr/bin/env python3
"""Compare the indicators' values of two oc.db: same content, whatever the storage layout.

    .venv/bin/python scripts/compare_values.py AVANT.db APRES.db

Each database's values are read in the long form (indicateur, niveau, code, annee, valeur, valeur_texte,
source): from the table `valeurs` of a database built before the value tables, or by unpivoting the value
tables themselves (their registry `indicateurs_colonnes` and their columns, without the view `valeurs`).
Sources are compared by what they say (producer, title, vintage, file, SHA-256), not by their number.

Printed: the counts and sums per indicator, level and year side by side (differences only, then a
total), then every value that differs: a float artefact removed (equal to 15 significant digits), or a
real difference. Exit status 1 when a value is missing, added or really different.
"""

import argparse
import sqlite3
import sys
from pathlib import Path

SOURCE_FIELDS = ("producteur", "titre", "millesime", "fichier", "sha256", "mapping")


def long_values_sql(conn: sqlite3.Connection, schema: str) -> str:
    """A SELECT of every value of `schema` in the long form, with its source described by SOURCE_FIELDS."""
    described = ", ".join(f"s.{f}" for f in SOURCE_FIELDS)
    kind = conn.execute(f"SELECT type FROM {schema}.sqlite_master WHERE name = 'valeurs'").fetchone()
    if kind and kind[0] == "table":
        body = f"SELECT indicateur, niveau, code, annee, valeur, valeur_texte, source FROM {schema}.valeurs"
    else:
        arms = []
        kinds = dict(conn.execute(f"SELECT code, type FROM {schema}.indicateurs"))
        for indicator, level, table, source in conn.execute(
                f"SELECT indicateur, niveau, nom_table, colonne_source FROM {schema}.indicateurs_colonnes "
                "ORDER BY nom_table, indicateur"):
            key = conn.execute(f"SELECT name FROM pragma_table_info(?, ?) WHERE pk = 1", (table, schema)).fetchone()[0]
            value, text = ((f'"{indicator}"', "NULL") if kinds.get(indicator) != "texte"
                           else ("NULL", f'"{indicator}"'))
            arms.append(f"""SELECT '{indicator}' AS indicateur, '{level}' AS niveau, {key} AS code, annee,
                                   {value} AS valeur, {text} AS valeur_texte, "{source}" AS source
                            FROM {schema}."{table}" WHERE "{indicator}" IS NOT NULL""")
        body = "\nUNION ALL\n".join(arms)
    return f"SELECT v.*, {described} FROM ({body}) AS v LEFT JOIN {schema}.sources_donnees s ON s.id = v.source"


def materialise(conn: sqlite3.Connection, schema: str, name: str):
    conn.execute(f"CREATE TEMP TABLE {name} AS {long_values_sql(conn, schema)}")
    conn.execute(f"CREATE INDEX temp.{name}_cle ON {name}(niveau, code, indicateur, annee)")


def grouped(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def artefact_free(value):
    return float(f"{value:.15g}") if isinstance(value, float) else value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("avant", type=Path)
    parser.add_argument("apres", type=Path)
    parser.add_argument("--exemples", type=int, default=10, help="différences montrées par catégorie")
    args = parser.parse_args()
    conn = sqlite3.connect("file::memory:", uri=True)
    for schema, path in (("avant", args.avant), ("apres", args.apres)):
        conn.execute(f"ATTACH DATABASE ? AS {schema}", (f"file:{path}?mode=ro",))
    conn.execute("PRAGMA temp_store = MEMORY")
    materialise(conn, "avant", "v_avant")
    materialise(conn, "apres", "v_apres")

    print(f"Valeurs : avant {grouped(conn.execute('SELECT count(*) FROM v_avant').fetchone()[0])}, "
          f"après {grouped(conn.execute('SELECT count(*) FROM v_apres').fetchone()[0])}")
    totals = """SELECT indicateur, niveau, annee, count(*), count(valeur_texte), total(valeur) FROM {}
                GROUP BY indicateur, niveau, annee"""
    before = {r[:3]: r[3:] for r in conn.execute(totals.format("v_avant"))}
    after = {r[:3]: r[3:] for r in conn.execute(totals.format("v_apres"))}
    differing = [k for k in sorted(set(before) | set(after))
                 if before.get(k, (0, 0, 0))[:2] != after.get(k, (0, 0, 0))[:2]
                 or abs(before.get(k, (0, 0, 0))[2] - after.get(k, (0, 0, 0))[2])
                 > 1e-9 * max(1, abs(before.get(k, (0, 0, 0))[2]))]
    print(f"Indicateur × niveau × année : {len(before)} avant, {len(after)} après ; comptes ou sommes différents : "
          f"{len(differing)}")
    for key in differing[:args.exemples]:
        print(f"  {key} : avant {before.get(key)}, après {after.get(key)}")

    joined = conn.execute(f"""
        SELECT a.indicateur, a.niveau, a.code, a.annee, a.valeur, a.valeur_texte, b.valeur, b.valeur_texte,
               {", ".join(f"a.{f} IS b.{f}" for f in SOURCE_FIELDS)}
        FROM v_avant a JOIN v_apres b USING (niveau, code, indicateur, annee)""")
    same = artefacts = 0
    other_source, different = [], []
    for row in joined:
        indicator, level, code, year, va, ta, vb, tb, *same_source = row
        if not all(same_source):
            other_source.append(row[:4])
        if va == vb and ta == tb and type(va) is type(vb):
            same += 1
        elif ta == tb and va is not None and vb is not None and artefact_free(va) == artefact_free(vb):
            artefacts += 1
        else:
            different.append((indicator, level, code, year, va if ta is None else ta, vb if tb is None else tb))
    missing = conn.execute("""SELECT indicateur, niveau, code, annee FROM v_avant
                              EXCEPT SELECT indicateur, niveau, code, annee FROM v_apres""").fetchall()
    added = conn.execute("""SELECT indicateur, niveau, code, annee FROM v_apres
                            EXCEPT SELECT indicateur, niveau, code, annee FROM v_avant""").fetchall()
    print(f"Valeurs identiques (valeur, type et source) : {grouped(same)}")
    print(f"Égales à 15 chiffres significatifs près (artefact binaire retiré) : {grouped(artefacts)}")
    print(f"Différentes : {len(different)} ; absentes après : {len(missing)} ; nouvelles après : {len(added)} ; "
          f"source différente : {len(other_source)}")
    for title, rows in (("différentes", different), ("absentes après", missing), ("nouvelles après", added),
                        ("source différente", other_source)):
        for row in rows[:args.exemples]:
            print(f"  {title} : {row}")
    return 1 if different or missing or added or other_source else 0


if __name__ == "__main__":
    sys.exit(main())
