"""`oc build`'s step for the mappings: every mapping whose file is at hand, the files of pinned archives
read by the build's second process (`ArchiveReader`) while the main one writes the database."""

import concurrent.futures
import tempfile
from pathlib import Path

from ...producers import lock as producer_lock
from .. import catalogue
from .archive import pinned_archive, read_archive_member, tar_member
from .extract import Extract
from .load import Report, load, record
from .locate import Located, locate, named_as_origin
from .spec import DEFAULT_DIR, Mapping, parse_mapping


# Files of an archive mapping read ahead of the one being written: the second process reads the first two
# while the main one writes the territories, then each next one while the one before is written, so that the
# main process never waits for it. At most AHEAD + 1 files' rows are in memory (about 130 MB each for the DGCL).
AHEAD = 2


class ArchiveReader:
    """The files of the build's archive mappings (the DGCL's three years), read one after the other by
    the build's second process (read_archive_member) while the main one does the rest of the build: the
    first AHEAD files as soon as the communes are known (start_reading, first step of the build), each next
    one while the values of a file before are written."""

    def __init__(self, pool: concurrent.futures.Executor):
        self.pool = pool  # the build's second process (BuildContext.worker)
        self.workdir = tempfile.TemporaryDirectory(prefix="oc-archive-")
        self.pending = {}  # (mapping path, archive, member) → future

    def submit(self, mapping: Mapping, archive: Path, member: str, known: set[str]):
        key = (str(mapping.path), str(archive), member)
        if key not in self.pending:
            self.pending[key] = self.pool.submit(read_archive_member, mapping.path, archive, member,
                                                 Path(self.workdir.name), known)

    def result(self, mapping: Mapping, archive: Path, member: str, known: set[str]) -> tuple[Extract, str]:
        self.submit(mapping, archive, member, known)
        return self.pending.pop((str(mapping.path), str(archive), member)).result()

    def close(self):
        for job in self.pending.values():
            job.cancel()
        self.workdir.cleanup()


def mappings_dir(ctx) -> Path:
    """The build's folder of mappings: `oc build --mappings`, else data/mappings."""
    return Path(ctx.options.mappings_dir or DEFAULT_DIR)


def archive_mappings(ctx) -> list[tuple[Mapping, Path]]:
    """The mappings `oc build` reads from their pinned archive, with the archive's path; worked out once
    per build (start_reading, then build_step) and kept in ctx.archive_mappings: each archive's checksum
    is verified once."""
    if ctx.archive_mappings is None:
        directory = mappings_dir(ctx)
        found = []
        for path in sorted(directory.glob("*.yml")) if directory.is_dir() else []:
            mapping = parse_mapping(path)
            local = mapping.local_file()
            if mapping.archive and not (local and local.exists()):
                given = ctx.options.archives.get(mapping.archive["paquet"])
                found.append((mapping, pinned_archive(mapping, given)))
        ctx.archive_mappings = found
    return ctx.archive_mappings


def archive_reader(ctx) -> ArchiveReader:
    """The build's ArchiveReader (ctx.archive_reader), made on first use (by start_reading, else by
    load_archive)."""
    if ctx.archive_reader is None:
        ctx.archive_reader = ArchiveReader(ctx.worker())
    return ctx.archive_reader


def start_reading(ctx, communes: set[str]):
    """Start reading the first files of each archive mapping of the communes (see ArchiveReader)."""
    reader = archive_reader(ctx)
    for mapping, archive in archive_mappings(ctx):
        if mapping.niveau == "commune":
            for member in mapping.archive["fichiers"][:AHEAD]:
                reader.submit(mapping, archive, member, communes)


def stop_reading(ctx):
    reader, ctx.archive_reader = ctx.archive_reader, None
    if reader is not None:
        reader.close()


def load_archive(db, ctx, mapping: Mapping, archive: Path) -> list[Report]:
    """`oc build`: the files of a mapping's pinned archive, read by the build's ArchiveReader."""
    known = catalogue.known_codes(db.conn, mapping.niveau)
    reader = archive_reader(ctx)
    members = mapping.archive["fichiers"]
    reports = []
    for index, member in enumerate(members):
        located = tar_member(archive, member, Path(reader.workdir.name))
        with ctx.reporter.step(f"Indicateurs : mapping {mapping.name}, {Path(located.origin).name}"), \
                named_as_origin(located):
            extracted, sha256 = reader.result(mapping, archive, member, known)
            if index + AHEAD < len(members):  # a next file is read while this one's values are written
                reader.submit(mapping, archive, members[index + AHEAD], known)
            reports.append(load(db.conn, mapping, located.path, origin=located.origin,
                                sha256=sha256, refresh=False, extracted=extracted))
            record(db.conn, mapping, located)
            db.conn.commit()
    return reports


def build_step(db, ctx):
    """`oc build` step: every mapping whose file is at hand (fichier_local, the files of its pinned
    archive, or its pinned file in the cache).

    The others are one line of the report each and a row of fichiers_producteurs, so that the fiches
    say which data were not loaded; the build goes on. A file that does not fit its mapping fails the
    build (the previous oc.db stays). The wide tables and the views are generated once, at the end of the
    build (views.build_step)."""
    directory = mappings_dir(ctx)
    if not directory.is_dir():
        return
    entries = producer_lock.read()
    cache = producer_lock.cache_dir()
    archives = {str(mapping.path): archive for mapping, archive in archive_mappings(ctx)}
    for path in sorted(directory.glob("*.yml")):
        mapping = parse_mapping(path)
        if str(mapping.path) in archives:
            reports = load_archive(db, ctx, mapping, archives[str(mapping.path)])
        else:
            found = locate(mapping, entries, cache)
            if not isinstance(found, Located):
                ctx.reporter.echo(f"Mapping {mapping.name} : données non chargées — {found}.")
                record(db.conn, mapping, None, found)
                db.conn.commit()
                continue
            with ctx.reporter.step(f"Indicateurs : mapping {mapping.name}"):
                reports = [load(db.conn, mapping, found.path, origin=found.origin, vintage=found.vintage,
                                sha256=found.sha256, refresh=False)]
                record(db.conn, mapping, found)
                db.conn.commit()
        for report in reports:
            for line in report.lines():
                ctx.reporter.echo(line)
