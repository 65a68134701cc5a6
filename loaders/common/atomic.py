"""Changing an existing oc.db without ever leaving it half-changed, nor changing it twice at once.

`oc harvest` and `oc indicators load` work on a private copy of the database, which replaces
the original with an atomic rename only when everything succeeded (`oc build` writes a new file
the same way, see build.py). A server that has the old file open keeps reading it.

Every change holds `database_lock` on the target: two harvests at once would each copy the database
and the last rename would drop what the other brought. The second run stops with a French message
naming the first (its process and what it does). The lock is a `flock` on `.oc.db.verrou` beside the
database: the system releases it when the process ends, even killed, so it never goes stale. A child
process forked meanwhile (the build's worker) does not keep it: its copy of the descriptor is closed in
the child (`os.register_at_fork`), else a worker orphaned by a `kill -9` of the build held the lock
for minutes. `exclusive_lock` is the same lock for any other file (the producers' lock file).

The temporary files of a change (`.oc.db.<purpose>-<pid>`, downloads in `.oc.db.telechargement-…`)
are removed when it fails, is interrupted (Ctrl-C) or terminated (SIGTERM, turned into an exit that
runs the clean-up); after a SIGKILL or a power cut they are left, and removed by the next change,
which knows they are stale since it holds the lock.
"""

import contextlib
import fcntl
import os
import shutil
import signal
import sqlite3
import threading
from pathlib import Path

from . import content_hash
from .errors import SourceError

LOCK_SUFFIX = "verrou"


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(f".{db_path.name}.{LOCK_SUFFIX}")


def temporaries(db_path: Path) -> list[Path]:
    """The temporary files and folders of changes of `db_path` (all of them stale when the lock is held)."""
    prefix = f".{db_path.name}."
    return [p for p in db_path.parent.glob(f"{prefix}*") if p.name != lock_path(db_path).name]


def remove(path: Path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def terminate_runs_cleanup():
    """SIGTERM raises SystemExit (in the main thread) so that `finally` and `except` blocks run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# descriptors of the locks this process holds: closed in a forked child, which must not keep them
HELD_LOCKS: set[int] = set()


def _forget_locks_in_child():
    for descriptor in list(HELD_LOCKS):
        with contextlib.suppress(OSError):
            os.close(descriptor)
    HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_forget_locks_in_child)


@contextlib.contextmanager
def exclusive_lock(target: Path, purpose: str, busy: str):
    """Hold the exclusive lock of `target` (a `flock` on `.<name>.verrou` beside it, released when this
    process ends, however), or raise SourceError: `busy` followed by who holds it (what and which process)."""
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_path(target), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip() or "processus inconnu"
            raise SourceError(f"{busy} ({holder}) : attendez la fin de l'autre commande, puis relancez celle-ci",
                              target) from None
        HELD_LOCKS.add(descriptor)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{purpose}, processus {os.getpid()}".encode(), 0)
        with terminate_runs_cleanup():
            yield
    finally:
        HELD_LOCKS.discard(descriptor)
        os.close(descriptor)  # releases the lock


@contextlib.contextmanager
def database_lock(db_path: Path, purpose: str):
    """Hold the exclusive right to change `db_path` (stale temporaries removed), or raise SourceError."""
    db_path = Path(db_path).resolve()
    with exclusive_lock(db_path, purpose, "une autre mise à jour de cette base est en cours"):
        for stale in temporaries(db_path):
            remove(stale)
        yield


@contextlib.contextmanager
def updating_copy(db_path: Path, purpose: str):
    """Yield a sqlite3 connection to a copy of `db_path`; on success the copy replaces it."""
    db_path = Path(db_path).resolve()
    if not db_path.exists():
        raise SourceError("base absente : lancez d'abord `oc build`", db_path)
    with database_lock(db_path, purpose):
        temporary = db_path.with_name(f".{db_path.name}.{purpose}-{os.getpid()}")
        try:
            shutil.copyfile(db_path, temporary)
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
