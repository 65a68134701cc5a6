"""The files offered for download: the whole database and its compressed copy, with their sizes and SHA-256.

The copy is made at build time (`oc compress`, after `oc build`: the Makefile and the Dockerfile run both)
beside the database: `oc.db.gz`, and `oc.db.sha256`, the SHA-256 of both files in the format of
`sha256sum` (`sha256sum -c oc.db.sha256` checks them). Both are written to temporary files and renamed:
a failed or interrupted compression leaves the previous files as they were.

Why gzip (README, « Télécharger la base »): every system opens it without installing anything (gunzip,
macOS's Archive Utility, 7-Zip, Python's gzip module, R's gzfile), where zstd, some 20 % smaller and
faster to decompress, needs a program that Windows and macOS lack and Python only has from 3.14.

The site offers the copy only if it is the compression of the database it serves: the SHA-256 that
oc.db.sha256 gives for oc.db must be that of the served file (Datasette's hash of an immutable database,
read from the inspect file in production, else computed once in a thread), and the copy must have the
size and SHA-256 the manifest gives. A copy left from an earlier build is ignored, with a warning.
"""

import asyncio
import gzip
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

COMPRESSED_SUFFIX = ".gz"
MANIFEST_SUFFIX = ".sha256"
COMPRESSION_LEVEL = 6  # gzip's default: 9 is 3 % smaller and three times slower (README)
CHUNK = 1 << 20


@dataclass(frozen=True)
class DownloadFile:
    """A file offered for download."""

    path: Path
    url: str  # its address on the site (Datasette's /<database>.db, and .gz for the copy)
    size: int
    sha256: str
    media_type: str
    label: str  # « SQLite », « SQLite compressée (gzip) »

    @property
    def name(self) -> str:
        return self.path.name


def compressed_path(db: Path) -> Path:
    return db.with_name(db.name + COMPRESSED_SUFFIX)


def manifest_path(db: Path) -> Path:
    return db.with_name(db.name + MANIFEST_SUFFIX)


class HashingWriter:
    """A binary file that also feeds what is written to a SHA-256."""

    def __init__(self, raw):
        self.raw, self.sha256 = raw, hashlib.sha256()

    def write(self, data) -> int:
        self.sha256.update(data)
        return self.raw.write(data)

    def flush(self):
        self.raw.flush()


def temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def compress(db: Path, level: int = COMPRESSION_LEVEL) -> tuple[Path, Path]:
    """Writes `<db>.gz` and `<db>.sha256` beside `db`, each renamed into place once whole; returns their paths."""
    db = Path(db)
    copy, manifest = compressed_path(db), manifest_path(db)
    parts = [temporary(copy), temporary(manifest)]
    try:
        source_sha = hashlib.sha256()
        with open(db, "rb") as source, open(parts[0], "wb") as raw:
            target = HashingWriter(raw)
            # no date in the header: the same database always gives the same copy
            with gzip.GzipFile(filename=db.name, mode="wb", fileobj=target, compresslevel=level, mtime=0) as out:
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    source_sha.update(chunk)
                    out.write(chunk)
        parts[1].write_text(f"{source_sha.hexdigest()}  {db.name}\n{target.sha256.hexdigest()}  {copy.name}\n")
        os.replace(parts[0], copy)
        os.replace(parts[1], manifest)
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
    return copy, manifest


def read_manifest(path: Path) -> dict[str, str]:
    """File name → SHA-256, from a file in sha256sum's format; empty when absent or unreadable."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    sums = {}
    for line in lines:
        digest, _, name = line.partition("  ")
        if len(digest) == 64 and name:
            sums[name.lstrip("*")] = digest
    return sums


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def downloads_of(registry: dict, db) -> "Downloads":
    """The Downloads of Datasette's database `db`, kept in `registry` (one per Datasette: http/stack.py)."""
    if db.name not in registry:
        registry[db.name] = Downloads(db)
    return registry[db.name]


class Downloads:
    """The files of one served database: `files()` once checked (in a thread, the first time), `sizes()` at
    once (for the header of every page)."""

    def __init__(self, db):
        self.db = db  # Datasette's Database
        self.path = Path(db.path)
        self.copy = compressed_path(self.path)
        self.manifest = read_manifest(manifest_path(self.path))
        self._files: list[DownloadFile] | None = None
        self._lock = asyncio.Lock()

    def copy_size(self) -> int | None:
        """The copy's size if a copy of this database's size is there (what the header can say at once)."""
        try:
            size = self.copy.stat().st_size
        except OSError:
            return None
        if self._files is not None:
            return size if len(self._files) > 1 else None
        return size if self.copy.name in self.manifest and self.path.name in self.manifest else None

    def sizes(self) -> tuple[int, int | None]:
        return self.path.stat().st_size, self.copy_size()

    async def files(self) -> list[DownloadFile]:
        """oc.db, and its copy when it is the compression of this very file (module docstring)."""
        if self._files is None:
            async with self._lock:
                if self._files is None:
                    self._files = await asyncio.get_running_loop().run_in_executor(None, self.check)
        return self._files

    def check(self) -> list[DownloadFile]:
        db_sha = self.db.hash or file_sha256(self.path)  # Datasette's hash: from the inspect file, or computed
        url = f"/{self.db.route}.db"
        files = [DownloadFile(self.path, url, self.path.stat().st_size, db_sha, "application/octet-stream", "SQLite")]
        if not self.copy.exists():
            return files
        if self.manifest.get(self.path.name) != db_sha:
            sys.stderr.write(f"{self.copy.name} n'est pas la copie compressée de {self.path.name} servi "
                             f"(`oc compress --db {self.path.name}` la refait) : elle n'est pas proposée.\n")
            return files
        copy_sha = file_sha256(self.copy)
        if self.manifest.get(self.copy.name) != copy_sha:
            sys.stderr.write(f"{self.copy.name} ne correspond pas à son empreinte : elle n'est pas proposée.\n")
            return files
        return files + [DownloadFile(self.copy, url + COMPRESSED_SUFFIX, self.copy.stat().st_size, copy_sha,
                                     "application/gzip", "SQLite compressée (gzip)")]
