"""The indicator tables: catalogue, sources, values, and the wide views generated from the catalogue.

Every loader of indicators (the offline populations, the declarative mappings) goes through
`add_source`, `upsert_indicators` and `insert_values`, then `refresh_views`.
"""

import datetime
import sqlite3
from pathlib import Path

from oc_site.levels import LEVELS, SMALLEST_FIRST

HERE = Path(__file__).parent

CATALOGUE_COLUMNS = ("code", "libelle", "unite", "niveaux", "type", "decimales", "theme", "ordre",
                     "description", "source", "source_url", "licence", "bloc")


def ensure_schema(conn: sqlite3.Connection):
    """Create the tables; an oc.db built before the `bloc` column gains it (`oc indicators load`)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(indicateurs)")}
    if columns and "bloc" not in columns:
        conn.execute("ALTER TABLE indicateurs ADD COLUMN bloc TEXT")
    conn.executescript((HERE / "catalogue.sql").read_text())


def record_producer_file(conn: sqlite3.Connection, **fields):
    """What the build did with a mapping's file: loaded, or why not (the fiches' blocks say it)."""
    fields.setdefault("date_chargement", now())
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    conn.execute(f"INSERT OR REPLACE INTO fichiers_producteurs ({columns}) VALUES ({marks})", tuple(fields.values()))


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def add_source(conn: sqlite3.Connection, **fields) -> int:
    fields.setdefault("date_chargement", now())
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    cursor = conn.execute(f"INSERT INTO sources_donnees ({columns}) VALUES ({marks})", tuple(fields.values()))
    return cursor.lastrowid


def update_source(conn: sqlite3.Connection, source_id: int, **fields):
    assignments = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(f"UPDATE sources_donnees SET {assignments} WHERE id = ?", (*fields.values(), source_id))


def upsert_indicators(conn: sqlite3.Connection, indicators: list[dict], replace: bool = True):
    """Write catalogue entries; with replace=False an existing entry is kept as it is."""
    columns = ", ".join(CATALOGUE_COLUMNS)
    marks = ", ".join("?" for _ in CATALOGUE_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in CATALOGUE_COLUMNS if c != "code")
    conflict = f"DO UPDATE SET {updates}" if replace else "DO NOTHING"
    conn.executemany(
        f"INSERT INTO indicateurs ({columns}) VALUES ({marks}) ON CONFLICT(code) {conflict}",
        [tuple(indicator.get(c) for c in CATALOGUE_COLUMNS) for indicator in indicators],
    )


def insert_values(conn: sqlite3.Connection, rows, source_id: int | None = None) -> int:
    """rows: (indicateur, niveau, code, annee, valeur, valeur_texte[, source]); a reload replaces the value.

    Without source_id, each row carries its source as a seventh field.
    """
    cursor = conn.executemany(
        """INSERT INTO valeurs (indicateur, niveau, code, annee, valeur, valeur_texte, source)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (niveau, code, indicateur, annee) DO UPDATE SET
               valeur = excluded.valeur, valeur_texte = excluded.valeur_texte, source = excluded.source""",
        rows if source_id is None else ((*row, source_id) for row in rows),
    )
    return cursor.rowcount


def bulk_insert_values(conn: sqlite3.Connection, rows: list[tuple]):
    """Many rows into a fresh table: in primary-key order, the secondary index built afterwards."""
    conn.execute("DROP INDEX IF EXISTS idx_valeurs_indicateur_niveau_annee")
    rows.sort(key=lambda r: (r[1], r[2], r[0], r[3]))
    insert_values(conn, rows)
    ensure_schema(conn)


def known_codes(conn: sqlite3.Connection, level: str) -> set[str]:
    table, key = LEVELS[level].table, LEVELS[level].key
    return {row[0] for row in conn.execute(f"SELECT {key} FROM {table}")}


def drop_orphan_sources(conn: sqlite3.Connection):
    """Sources whose every value was replaced by a later load carry nothing any more."""
    conn.execute("""DELETE FROM sources_donnees
                    WHERE nb_valeurs IS NOT NULL AND id NOT IN (SELECT DISTINCT source FROM valeurs)""")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# The vintage of a wide-view column: the latest one that covers at least half as many territories as the
# best-covered vintage. A few territories have other census years (Mayotte 2017, Polynésie française 2022,
# Nouvelle-Calédonie 2025): their values stay in `valeurs`, never in a column labelled with another year.
VIEW_VINTAGES_SQL = """
WITH counts AS (  -- read from indicateurs_millesimes (refresh_views builds it first), not from millions of values
    SELECT indicateur, annee, nb_valeurs AS n FROM indicateurs_millesimes WHERE niveau = ?
), best AS (
    SELECT indicateur, max(n) AS n FROM counts GROUP BY indicateur
)
SELECT c.indicateur, max(c.annee), i.type
FROM counts c JOIN best b ON b.indicateur = c.indicateur JOIN indicateurs i ON i.code = c.indicateur
WHERE c.n * 2 >= b.n
GROUP BY c.indicateur
ORDER BY min(i.ordre IS NULL), min(i.ordre), c.indicateur
"""


def wide_view_sql(conn: sqlite3.Connection, level: str) -> str:
    """One row per territory, one column per indicator of the level at its main vintage (VIEW_VINTAGES_SQL)."""
    table, key, context = (LEVELS[level].table, LEVELS[level].key,
                           LEVELS[level].view_context)
    latest = conn.execute(VIEW_VINTAGES_SQL, (level,)).fetchall()
    columns = [f"t.{key} AS code", "t.nom AS nom", *(f"t.{c} AS {c}" for c in context)]
    for code, year, kind in latest:
        value = "valeur_texte" if kind == "texte" else "valeur"
        literal = code.replace("'", "''")
        columns.append(
            f"(SELECT v.{value} FROM valeurs v WHERE v.niveau = '{level}' AND v.code = t.{key}"
            f" AND v.indicateur = '{literal}' AND v.annee = {int(year)}) AS {quote(code)}"
        )
    body = ",\n    ".join(columns)
    return f"CREATE VIEW {LEVELS[level].wide_view} AS\nSELECT\n    {body}\nFROM {table} t"


def refresh_views(conn: sqlite3.Connection):
    """(Re)generate the table of vintages, then the wide views (their vintages are read from it)."""
    conn.execute("DROP TABLE IF EXISTS indicateurs_millesimes")
    conn.execute("""
        CREATE TABLE indicateurs_millesimes (
            indicateur TEXT NOT NULL REFERENCES indicateurs(code),
            niveau TEXT NOT NULL,
            annee INTEGER NOT NULL,
            nb_valeurs INTEGER NOT NULL,
            dernier_millesime INTEGER NOT NULL,
            sources TEXT,
            PRIMARY KEY (indicateur, niveau, annee)
        )""")
    # counted per source first, over the table itself (NOT INDEXED): twice as fast on millions of values
    # as a group_concat(DISTINCT source) that reads the table row by row through the index
    conn.execute("""
        INSERT INTO indicateurs_millesimes
        SELECT indicateur, niveau, annee, sum(n), 0, group_concat(source)
        FROM (SELECT source, indicateur, niveau, annee, count(*) AS n FROM valeurs NOT INDEXED
              GROUP BY source, indicateur, niveau, annee ORDER BY source)
        GROUP BY indicateur, niveau, annee""")
    for level in SMALLEST_FIRST:  # the vintage each wide view shows (VIEW_VINTAGES_SQL)
        conn.executemany(
            "UPDATE indicateurs_millesimes SET dernier_millesime = 1 WHERE indicateur = ? AND niveau = ? AND annee = ?",
            [(indicator, level, year) for indicator, year, _ in conn.execute(VIEW_VINTAGES_SQL, (level,)).fetchall()])
    for level in SMALLEST_FIRST:
        conn.execute(f"DROP VIEW IF EXISTS {LEVELS[level].wide_view}")
        conn.execute(wide_view_sql(conn, level))
