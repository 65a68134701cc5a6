"""The indicators' catalogue and the sources of their values.

Every loader of indicators (the offline populations, the declarative mappings) goes through
`add_source` and `upsert_indicators`, writes its values into the value tables (store.py), and the build
(or `oc indicators load`) then publishes them (views.py).
"""

import datetime
import sqlite3
from pathlib import Path

from oc_site.levels import LEVELS

from ..common.errors import SourceError
from . import store

HERE = Path(__file__).parent

CATALOGUE_COLUMNS = ("code", "libelle", "unite", "niveaux", "type", "decimales", "theme", "ordre",
                     "description", "source", "source_url", "licence", "bloc")


def ensure_schema(conn: sqlite3.Connection):
    """Create the tables of the catalogue and of the registry of value tables (store.py).

    A database built before the value tables (one long table `valeurs`) cannot be completed: it is rebuilt."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'valeurs'").fetchone():
        raise SourceError("base construite par une version précédente (valeurs dans une seule table longue) : "
                          "relancez `oc build`, qui reprend les valeurs chargées à la main")
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


def known_codes(conn: sqlite3.Connection, level: str) -> set[str]:
    table, key = LEVELS[level].table, LEVELS[level].key
    return {row[0] for row in conn.execute(f"SELECT {key} FROM {table}")}


def drop_orphan_sources(conn: sqlite3.Connection):
    """Sources whose every value was replaced by a later load carry nothing any more."""
    cited = store.referenced_sources(conn)
    conn.executemany("DELETE FROM sources_donnees WHERE id = ? AND nb_valeurs IS NOT NULL",
                     [(row[0],) for row in conn.execute("SELECT id FROM sources_donnees").fetchall()
                      if row[0] not in cited])
