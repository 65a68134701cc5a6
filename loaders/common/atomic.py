"""Changing an existing oc.db without ever leaving it half-changed.

`oc harvest` and `oc indicators load` work on a private copy of the database, which replaces
the original with an atomic rename only when everything succeeded (`oc build` writes a new file
the same way, see build.py). A server that has the old file open keeps reading it.
"""

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

from . import content_hash
from .errors import SourceError


@contextlib.contextmanager
def updating_copy(db_path: Path, purpose: str):
    """Yield a sqlite3 connection to a copy of `db_path`; on success the copy replaces it."""
    db_path = Path(db_path).resolve()
    if not db_path.exists():
        raise SourceError("base absente : lancez d'abord `oc build`", db_path)
    temporary = db_path.with_name(f".{db_path.name}.{purpose}-{os.getpid()}")
    shutil.copyfile(db_path, temporary)
    try:
        conn = sqlite3.connect(temporary)
        # a private copy, swapped in only at the end: no need to sync it to disk at every commit
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA journal_mode = MEMORY")
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'communes'").fetchone():
                raise SourceError("ce fichier n'est pas une base Open Collectivités (table communes absente)",
                                  db_path)
            yield conn
            content_hash.record(conn, temporary)
        finally:
            conn.close()
        os.replace(temporary, db_path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
