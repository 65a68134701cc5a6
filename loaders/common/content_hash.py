"""A fingerprint of what a database says, not of how its file is laid out.

Two builds of the same content give the same hash even when the file bytes differ (page layout,
free pages, FTS segment merges, ANALYZE statistics); any changed row, table or column changes it.
`scripts/rebuild.sh` deploys only when this hash changes.

Every change of oc.db (`oc build`, and `updating_copy` for harvests and indicator loads) also stores
the hash in the one-row table `empreinte_contenu`, so that the server reads it at start-up (the
ETag of every page, oc_site/http/cache_headers.py) instead of hashing the whole file each time.
"""

import hashlib
import re
import sqlite3
from pathlib import Path

STORED_TABLE = "empreinte_contenu"
# derived data, rebuilt identically from the tables, and the stored hash itself: not content
SKIPPED_TABLES = re.compile(rf"^(sqlite_|{STORED_TABLE}$)")
# when a load or a harvest happened and how its last run went, not what it brought: two builds of the
# same sources differ there
VOLATILE_COLUMNS = {
    "sources_donnees": {"date_chargement"},
    "fichiers_producteurs": {"date_chargement"},
    "sources": {"derniere_collecte", "dernier_succes", "statut", "message",
                "nb_lues", "nb_nouvelles", "nb_mises_a_jour", "nb_rejetees"},
    "publications": {"premiere_vue", "derniere_vue"},
    "publications_sources": {"premiere_vue", "derniere_vue"},
}


def _schema(conn: sqlite3.Connection, shadow: set[str]) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"
    ).fetchall()
    return [
        (kind, name, " ".join(sql.split()))
        for kind, name, sql in rows
        if not SKIPPED_TABLES.match(name) and name not in shadow
    ]


def _canonical_order(conn: sqlite3.Connection, table: str, kept: str) -> str:
    """ORDER BY of a table's rows: its primary key when it has one (unique, and free to read in order:
    the 2.8 million rows of `valeurs` sorted on all their columns took 11 s of a 60 s build), else
    every kept column."""
    key = sorted((pk, name) for _, name, _, _, _, pk in conn.execute(f"PRAGMA table_info([{table}])") if pk)
    if key:
        return ", ".join(f"[{name}]" for _, name in key)
    return ", ".join(str(i) for i in range(1, len(kept.split(", ")) + 1))


def content_hash(path: Path | str) -> str:
    """SHA-256 over the schema and every row of every table, rows in a canonical order (_canonical_order)."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        tables = conn.execute(
            "SELECT name, type FROM pragma_table_list WHERE schema = 'main' ORDER BY name"
        ).fetchall()
        shadow = {name for name, kind in tables if kind == "shadow"}
        digest = hashlib.sha256()
        for item in _schema(conn, shadow):
            digest.update(repr(item).encode())
        for name, kind in tables:
            if kind not in ("table", "virtual") or SKIPPED_TABLES.match(name):
                continue
            columns = [d[0] for d in conn.execute(f"SELECT * FROM [{name}] LIMIT 0").description]
            kept = ", ".join(f"[{c}]" for c in columns if c not in VOLATILE_COLUMNS.get(name, ()))
            order = _canonical_order(conn, name, kept)
            digest.update(f"\x00table {name}\x00".encode())
            for row in conn.execute(f"SELECT {kept} FROM [{name}] ORDER BY {order}"):
                digest.update(repr(row).encode())
                digest.update(b"\n")
        return digest.hexdigest()
    finally:
        conn.close()


def record(conn: sqlite3.Connection, path: Path | str) -> str:
    """Hash the committed content of the database at `path` and store it in STORED_TABLE through `conn`
    (a connection to that same file); returns the hash."""
    conn.commit()
    digest = content_hash(path)
    conn.executescript(f"""
        DROP TABLE IF EXISTS {STORED_TABLE};
        CREATE TABLE {STORED_TABLE} (empreinte TEXT NOT NULL);
    """)
    conn.execute(f"INSERT INTO {STORED_TABLE} (empreinte) VALUES (?)", (digest,))
    conn.commit()
    return digest


def stored(conn: sqlite3.Connection) -> str | None:
    """The hash recorded in the database, if any (a database built before it was recorded has none)."""
    try:
        row = conn.execute(f"SELECT empreinte FROM {STORED_TABLE}").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None
