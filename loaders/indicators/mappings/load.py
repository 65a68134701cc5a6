"""Loading a mapping's file into SQLite: catalogue entries, source, values, what is computed after
(computed.py), the row of fichiers_producteurs, and the report printed by `oc build` and
`oc indicators load`.

`load` writes into an open connection, inside the caller's transaction; `load_into_db` does it on a
copy of oc.db swapped in atomically.
"""

import re
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from oc_site.levels import LEVELS, SMALLEST_FIRST

from ...common.atomic import updating_copy
from ...common.errors import SourceError
from ...common.locations import hide_paths, public_location
from ...common.numbers import grouped
from ...common.pins import sha256_of
from ...producers import lock as producer_lock
from .. import catalogue, computed, populations
from ..computed import Computed
from .archive import archive_files
from .extract import Extract, extract
from .locate import Located, download, locate, named_as_origin
from .spec import Mapping, MappingError, columns_for_year
from .tables import open_table

EXAMPLES = 10


def builtin_codes() -> set[str]:
    """The indicators the build computes itself (populations.py): a mapping adds values and levels to
    them, not its own definition."""
    return {i["code"] for i in populations.INDICATORS}


def catalogue_entries(mapping: Mapping, conn: sqlite3.Connection) -> list[dict]:
    entries = []
    existing = dict(conn.execute("SELECT code, niveaux FROM indicateurs"))
    for order, indicator in enumerate(mapping.indicateurs, start=1):
        levels = [lvl for lvl in (existing.get(indicator["code"]) or "").split(",") if lvl]
        if mapping.niveau not in levels:
            levels.append(mapping.niveau)
        entries.append({
            "code": indicator["code"], "libelle": indicator["libelle"], "unite": indicator.get("unite"),
            "niveaux": ",".join(lvl for lvl in SMALLEST_FIRST if lvl in levels),
            "type": indicator.get("type", "nombre"), "decimales": indicator.get("decimales"),
            "theme": indicator.get("theme"), "ordre": indicator.get("ordre", 1000 + order),
            "description": indicator.get("description"), "source": f"{mapping.producteur} — {mapping.titre}",
            "source_url": mapping.url, "licence": mapping.licence, "bloc": indicator.get("bloc", mapping.bloc),
        })
    return entries + computed.catalogue_entries(mapping)


@dataclass
class Report:
    mapping: str
    source: str
    values: int
    indicators: list[str]
    years: list[int]
    unknown_count: int
    unknown_examples: list[str]
    lines_read: int
    lines_without_code: int
    lines_filtered: int
    duplicates: int
    summed: bool = False
    computed: Computed = field(default_factory=Computed)
    empty: list[str] = field(default_factory=list)  # indicators of the mapping without any value
    notes: list[str] = field(default_factory=list)  # merged communes, totals over member communes

    def lines(self) -> list[str]:
        years = ", ".join(str(y) for y in self.years) or "—"
        out = [
            f"Mapping {self.mapping} : {grouped(self.values)} valeurs chargées depuis {self.source}",
            f"  indicateurs : {', '.join(self.indicators)} ; années : {years}",
            f"  lignes lues : {grouped(self.lines_read)} ; sans code : {grouped(self.lines_without_code)} ; "
            f"écartées par les filtres : {grouped(self.lines_filtered)} ; "
            f"doublons {'additionnés' if self.summed else 'remplacés'} : {grouped(self.duplicates)}",
        ]
        done = self.computed
        if done.aggregated or done.incomplete or done.ratios:
            out.append(f"  calculées : {grouped(done.aggregated)} sommes pour les EPCI, départements et régions "
                       f"({grouped(done.incomplete)} omises faute de valeur pour toutes leurs communes), "
                       f"{grouped(done.ratios)} ratios")
        if self.empty:
            out.append(f"  sans aucune valeur : {', '.join(self.empty)} (colonne ou libellé à vérifier)")
        if self.unknown_count:
            out.append(f"  codes de territoire inconnus : {grouped(self.unknown_count)} "
                       f"(par exemple {', '.join(self.unknown_examples)}) — valeurs non chargées")
        else:
            out.append("  codes de territoire inconnus : 0")
        out.extend(f"  {note}" for note in self.notes)
        return out


def load(conn: sqlite3.Connection, mapping: Mapping, source: Path, origin: str | None = None,
         vintage: str | None = None, sha256: str | None = None, refresh: bool = True,
         extracted: Extract | None = None) -> Report:
    """Read `source` through `mapping` and write catalogue, source and values (caller commits).

    `vintage`: the pinned file's millésime (lock), the year of the values when the mapping says
    `annee: millesime`; `sha256`: the file's, when already known (a big file is not hashed twice);
    `refresh=False` leaves the wide views to the caller (`oc build` regenerates them once);
    `extracted`: the file already read (read_archive_member, in a worker process), with its sha256."""
    source = Path(source)
    catalogue.ensure_schema(conn)
    if extracted is None:
        with open_table(mapping, source) as table:
            extracted = extract(mapping, table, source, catalogue.known_codes(conn, mapping.niveau), vintage)
    computed.follow_recoded(conn, mapping, extracted)
    computed.fold_predecessors(conn, mapping, extracted)
    extracted.years.update(row[3] for row in extracted.rows)  # (folded rows included)
    entries = catalogue_entries(mapping, conn)
    builtin = builtin_codes()
    catalogue.upsert_indicators(conn, [e for e in entries if e["code"] not in builtin])
    for entry in entries:
        if entry["code"] in builtin:
            conn.execute("UPDATE indicateurs SET niveaux = ? WHERE code = ?", (entry["niveaux"], entry["code"]))
    unknown = sorted(extracted.unknown)
    years = sorted(extracted.years)
    note = (f"{extracted.lines_read} lignes lues, {extracted.lines_without_code} sans code, "
            f"{extracted.lines_filtered} écartées par les filtres, {extracted.duplicates} doublons remplacés."
            + "".join(f" {n}." for n in extracted.notes))
    source_id = catalogue.add_source(
        conn, producteur=mapping.producteur, titre=mapping.titre, url=mapping.url,
        fichier=public_location(origin or source),  # published: an address or a file name, no machine path
        millesime=mapping.millesime or vintage or ", ".join(str(y) for y in years) or "inconnu",
        sha256=sha256 or sha256_of(source), mapping=mapping.name,
        nb_valeurs=len(extracted.rows), nb_codes_inconnus=len(unknown),
        exemples_codes_inconnus=", ".join(unknown[:EXAMPLES]) or None, note=note,
    )
    extracted.rows.sort(key=lambda r: (r[1], r[2], r[0], r[3]))  # primary-key order: a faster insert
    catalogue.insert_values(conn, extracted.rows, source_id)
    done = computed.apply(conn, mapping, source_id, years)
    if done.aggregated or done.ratios:
        catalogue.update_source(conn, source_id, nb_valeurs=conn.execute(
            "SELECT count(*) FROM valeurs WHERE source = ?", (source_id,)).fetchone()[0])
        for entry in entries:
            levels = set(computed.levels_with_values(conn, entry["code"])) | set(entry["niveaux"].split(","))
            conn.execute("UPDATE indicateurs SET niveaux = ? WHERE code = ?",
                         (",".join(lvl for lvl in SMALLEST_FIRST if lvl in levels), entry["code"]))
    catalogue.drop_orphan_sources(conn)
    if refresh:
        catalogue.refresh_views(conn)
    loaded = {row[0] for row in extracted.rows}
    return Report(
        mapping=mapping.name, source=origin or str(source), values=len(extracted.rows),
        indicators=[i["code"] for i in mapping.indicateurs], years=years, unknown_count=len(unknown),
        unknown_examples=unknown[:EXAMPLES], lines_read=extracted.lines_read,
        lines_without_code=extracted.lines_without_code, lines_filtered=extracted.lines_filtered,
        duplicates=extracted.duplicates, summed=mapping.doublons == "somme", computed=done,
        empty=[i["code"] for i in mapping.indicateurs if i["code"] not in loaded and not _unpublished(i, years)],
        notes=extracted.notes,
    )


def _unpublished(indicator: dict, years: list[int]) -> bool:
    """An indicator whose per-year column is null for every year read (not an empty column)."""
    spec = indicator.get("colonne")
    return isinstance(spec, dict) and bool(years) and all(columns_for_year(indicator, y) is None for y in years)


def served_levels(mapping: Mapping) -> str:
    """The levels a mapping gives values to: its own, and the levels above when it sums commune values."""
    levels = [mapping.niveau]
    if any(i.get("agregation") for i in mapping.indicateurs):
        levels += LEVELS[mapping.niveau].parents
    return ",".join(levels)


def record(conn: sqlite3.Connection, mapping: Mapping, located: Located | None, reason: str | None = None):
    """Note in fichiers_producteurs whether the mapping's data are in the base (the fiches say when not)."""
    catalogue.ensure_schema(conn)
    entry = located.entry if located else None
    catalogue.record_producer_file(
        conn, mapping=mapping.path.stem, producteur=mapping.producteur, titre=mapping.titre, niveaux=served_levels(mapping),
        bloc=mapping.bloc, page=mapping.url, charge=0 if located is None else 1, motif=hide_paths(reason),
        url=entry.url if entry else public_location(located.origin if located else mapping.telechargement),
        millesime=entry.millesime if entry else mapping.millesime, sha256=located.sha256 if located else None,
        date_recuperation=entry.date_recuperation if entry else None,
    )


def load_into_db(db_path: Path, mapping: Mapping, source: str | None, vintage: str | None = None) -> list[Report]:
    """Load into an existing oc.db: work on a copy, swap it in only when everything succeeded.

    Without `source`: the mapping's fichier_local, else the files of its pinned archive, else its pinned
    file in the cache, else its download address. `vintage`: the year of the values for a mapping that
    takes it from the pinned file."""
    if not Path(db_path).exists():
        raise SourceError("base absente : lancez d'abord `oc build`", Path(db_path).resolve())
    located = None
    if source is None:
        local = mapping.local_file()
        if mapping.archive and not (local and local.exists()):
            return _load_archive_into_db(db_path, mapping)
        found = locate(mapping, producer_lock.read(), producer_lock.cache_dir())
        if isinstance(found, Located):
            located = found
        elif mapping.telechargement or (mapping.rule and mapping.rule.type == "fichier"):
            source = mapping.telechargement or mapping.rule.url
        else:
            raise MappingError(mapping.path, f"donnez un fichier ou une URL : {found}")
    db_path = Path(db_path).resolve()
    # the download goes beside the database, under its lock: a stale one is removed by the next change
    with updating_copy(db_path, "mapping") as conn, \
            tempfile.TemporaryDirectory(prefix=f".{db_path.name}.telechargement-", dir=db_path.parent) as workdir:
        if located is None:
            if re.match(r"^https?://", source):
                located = Located(download(source, Path(workdir)), source)
            else:
                if not Path(source).exists():
                    raise SourceError("fichier absent", Path(source))
                located = Located(Path(source), str(Path(source)))
        with conn:
            report = load(conn, mapping, located.path, origin=located.origin,
                          vintage=vintage or located.vintage, sha256=located.sha256)
            record(conn, mapping, located)
        conn.execute("ANALYZE")
    return [report]


def _load_archive_into_db(db_path: Path, mapping: Mapping) -> list[Report]:
    reports = []
    with updating_copy(Path(db_path).resolve(), "mapping") as conn, archive_files(mapping) as files:
        with conn:
            for located in files:
                with named_as_origin(located):
                    reports.append(load(conn, mapping, located.path, origin=located.origin))
                record(conn, mapping, located)
        conn.execute("ANALYZE")
    return reports
