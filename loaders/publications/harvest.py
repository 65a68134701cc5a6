"""`oc harvest` and the publications step of `oc build`: run each configured source, store what it
brings, record how the run went, link the publications to territories.

One source failing (unreachable, malformed, too big…) is reported in French and recorded in the
`sources` table; the other sources are still harvested and nothing already stored is lost.
"""

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..common import http
from ..common.atomic import updating_copy
from ..common.errors import SourceError
from ..common.locations import hide_paths, public_location
from . import store
from .linking import Matcher
from .sources import catalogue, curated, gallica, opendatasoft
from .sources import rss as feeds

ROOT = Path(__file__).resolve().parents[2]
LOADERS = {"rss": feeds, "opendatasoft": opendatasoft, "gallica": gallica, "curation": curated,
           "catalogue": catalogue}
# a source must be done in this time, whatever its server does (one byte every 2 s kept a run alive
# for 8 minutes); `delai_total_s` in sources.yml, `--total-timeout` on the command line
DEFAULT_TOTAL_SECONDS = 120.0
TYPE_LABELS = {"rss": "flux RSS/Atom", "opendatasoft": "catalogue OpenDataSoft", "gallica": "SRU Gallica",
               "curation": "liste choisie", "catalogue": "catalogue de publications"}


def sources_file() -> Path:
    return Path(os.environ.get("OC_SOURCES_FILE") or ROOT / "data" / "sources.yml")


@dataclass
class Config:
    organisations: list[dict]
    sources: list[dict]


def load_config(path: Path | None = None) -> Config:
    """Read data/sources.yml; errors name the file and the faulty entry."""
    path = Path(path or sources_file())
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError("fichier de configuration des sources introuvable", path) from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise SourceError(f"YAML invalide : {e}", path) from None
    if not isinstance(document, dict) or not isinstance(document.get("sources"), list):
        raise SourceError("le fichier doit contenir une liste « sources »", path)
    organisations = document.get("organisations") or []
    known = {o.get("id") for o in organisations if isinstance(o, dict)}
    sources, seen = [], set()
    for number, source in enumerate(document["sources"], start=1):
        where = f"source n° {number}"
        if not isinstance(source, dict) or not source.get("id") or not source.get("url"):
            raise SourceError(f"{where} : « id » et « url » sont obligatoires", path)
        if source["id"] in seen:
            raise SourceError(f"{where} : identifiant en double « {source['id']} »", path)
        seen.add(source["id"])
        if source.get("type") not in LOADERS:
            raise SourceError(f"{where} ({source['id']}) : type « {source.get('type')} » inconnu "
                              f"(attendu : {', '.join(LOADERS)})", path)
        if source.get("organisation") and source["organisation"] not in known:
            raise SourceError(f"{where} ({source['id']}) : organisation « {source['organisation']} » "
                              "absente de la liste « organisations »", path)
        if source["type"] == "gallica" and not source.get("requete"):
            raise SourceError(f"{where} ({source['id']}) : une source gallica demande une « requete »", path)
        source = dict(source)
        if "://" not in source["url"] and not Path(source["url"]).is_absolute():
            source["url"] = str(path.parent / source["url"])  # relative to the configuration file
        sources.append(source)
    return Config(organisations=organisations, sources=sources)


def adhoc_source(argument: str) -> dict:
    """A feed URL or a local file given on the command line becomes a source of its own."""
    digest = hashlib.sha1(argument.encode()).hexdigest()[:10]
    kind = "curation" if argument.endswith((".yml", ".yaml")) else "rss"
    return {"id": f"ponctuelle-{digest}", "nom": public_location(argument), "type": kind, "url": argument}


@dataclass
class RunReport:
    source: dict
    status: str  # ok, non_modifie, erreur
    message: str = ""
    read: int = 0
    new: int = 0
    changed: int = 0
    rejected: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        name = self.source["id"]
        if self.status == "erreur":
            return f"✗ {name} : ÉCHEC — {self.message}"
        if self.status == "non_modifie":
            return f"= {name} : inchangé depuis la dernière collecte (rien n'a été retéléchargé)"
        text = (f"✓ {name} : {self.read} entrée(s) lue(s), {self.new} nouvelle(s), "
                f"{self.changed} mise(s) à jour")
        if self.rejected:
            text += f", {self.rejected} écartée(s)"
        return text + "".join(f"\n    ⚠ {note}" for note in self.notes)


def fetch_options(source: dict, defaults: dict) -> dict:
    """The options of http.fetch for this source's run; its deadline starts now."""
    options = dict(defaults)
    total = float(source.get("delai_total_s", options.pop("total_seconds", DEFAULT_TOTAL_SECONDS)))
    options["deadline"] = time.monotonic() + total
    if "delai_s" in source:
        options["timeout"] = float(source["delai_s"])
    if "tentatives" in source:
        options["retries"] = int(source["tentatives"])
    if "taille_max_mo" in source:
        options["max_bytes"] = int(float(source["taille_max_mo"]) * 1024 * 1024)
    return options


def run_source(conn, source: dict, matcher_factory, archive: Path | None, defaults: dict) -> RunReport:
    started = time.monotonic()
    store.upsert_source(conn, source)
    state = store.source_state(conn, source["id"])
    loader = LOADERS[source["type"]]
    where = f"{TYPE_LABELS[source['type']]} {source['url']}"
    try:
        harvested = loader.harvest(source, state, fetch_options(source, defaults))
    except (SourceError, http.FetchError) as e:
        message = e.message if isinstance(e, SourceError) else str(e)
        report = RunReport(source, "erreur", f"{where} : {message}")
    except Exception as e:  # noqa: BLE001 - one broken source must not stop the others
        report = RunReport(source, "erreur", f"{where} : erreur inattendue ({type(e).__name__} : {e})")
    else:
        report = store_harvest(conn, source, state, harvested, matcher_factory, archive)
    report.seconds = time.monotonic() - started
    message = report.message or "; ".join(report.notes) or None
    # oc.db is published: the source's location as an address or a file name, not a path of this machine
    message = hide_paths(message.replace(source["url"], public_location(source["url"]))) if message else None
    fields = {"statut": report.status, "message": message}
    if report.status != "erreur":
        fields.update(nb_lues=report.read, nb_nouvelles=report.new, nb_mises_a_jour=report.changed,
                      nb_rejetees=report.rejected)
    store.record_run(conn, source["id"], **fields)
    conn.commit()
    return report


def store_harvest(conn, source, state, harvested, matcher_factory, archive) -> RunReport:
    if harvested.not_modified:
        store.record_run(conn, source["id"], etag=harvested.etag, last_modified=harvested.last_modified)
        return RunReport(source, "non_modifie")
    batch = store.Batch()
    store.resolve_producers(conn, harvested.entries)
    rows = [row for row in (store.clean_entry(entry, source, batch, base_url=source["url"])
                            for entry in harvested.entries) if row]
    notes = store.check_declared(rows, matcher_factory()) if any(r["territoires_declares"] for r in rows) else []
    ids, new, changed = store.upsert(conn, rows, archive)
    if source["type"] in store.EDITORIAL_TYPES:  # the whole list: what it no longer lists goes
        removed, kept = store.prune(conn, source["id"], ids)
        ids += kept
        if removed or kept:
            notes.append(f"{removed} entrée(s) retirée(s) de la liste et de la base ; "
                         f"{len(kept)} retirée(s) de la liste mais gardée(s), trouvée(s) aussi par une moisson")
    if ids:
        store.relink(conn, matcher_factory(), ids)
    store.record_run(conn, source["id"], etag=harvested.etag, last_modified=harvested.last_modified,
                     curseur=harvested.cursor or state.get("curseur"))
    return RunReport(source, "ok", read=batch.read, new=new, changed=changed,
                     rejected=sum(batch.rejected.values()) + batch.duplicates,
                     notes=[*harvested.notes, *batch.notes(), *notes])


def harvest_into(conn, config: Config, sources: list[dict], archive: Path | None,
                 defaults: dict | None = None, echo=None, matcher: Matcher | None = None) -> list[RunReport]:
    """Harvest `sources` into an open oc.db connection; returns one report per source."""
    store.ensure_schema(conn)
    store.upsert_organisations(conn, config.organisations)
    matcher: list[Matcher] = [matcher] if matcher else []

    def matcher_factory() -> Matcher:
        if not matcher:
            matcher.append(Matcher.from_db(conn))
        return matcher[0]

    reports = []
    # one HTTP client for the whole run: connections and the TLS set-up are shared between sources
    with http.new_client() as client:
        for source in sources:
            report = run_source(conn, source, matcher_factory, archive, {**(defaults or {}), "client": client})
            if echo:
                echo(report.line())
            reports.append(report)
    store.rebuild_fts(conn)
    conn.commit()
    return reports


def select_sources(config: Config, arguments: list[str]) -> list[dict]:
    """All configured sources, or those named by id, or ad-hoc URLs / files."""
    if not arguments:
        return list(config.sources)
    by_id = {s["id"]: s for s in config.sources}
    chosen = []
    for argument in arguments:
        if argument in by_id:
            chosen.append(by_id[argument])
        elif "://" in argument or Path(argument).is_file():
            chosen.append(adhoc_source(argument))
        else:
            raise SourceError(f"source inconnue « {argument} » : ni un identifiant de la configuration "
                              f"({', '.join(by_id) or 'aucun'}), ni une adresse, ni un fichier existant")
    return chosen


def harvest_database(db_path: Path, arguments: list[str], archive: Path | None, defaults: dict | None = None,
                     config_path: Path | None = None, echo=None) -> list[RunReport]:
    """`oc harvest`: work on a copy of oc.db, swapped in atomically at the end."""
    config = load_config(config_path)
    sources = select_sources(config, arguments)
    with updating_copy(db_path, "harvest") as conn:
        reports = harvest_into(conn, config, sources, archive, defaults, echo)
    return reports


def build_step(db, ctx):
    """`oc build`: keep every publication of the previous oc.db and of the archive, reload the editorial
    lists (curated resources, catalogue of publications: local files, no network at build time), link
    everything to the new territory tables. What the lists set aside is listed in the build report."""
    conn = db.conn
    archive = store.archive_path()
    with ctx.reporter.step("Publications : reprise de la base précédente et de l'archive"):
        config = load_config(None)
        store.ensure_schema(conn)
        store.upsert_organisations(conn, config.organisations)
        for source in config.sources:
            store.upsert_source(conn, source)
        kept = store.carry_over(conn, ctx.previous_db, archive)
        conn.commit()
    with ctx.reporter.step(f"Publications : listes éditoriales et liens aux territoires ({kept} reprises)"):
        local = [s for s in config.sources
                 if s["type"] in store.EDITORIAL_TYPES and not http.is_web_url(s["url"])]
        matcher = Matcher.from_db(conn)
        reports = harvest_into(conn, config, local, archive, matcher=matcher)
        for report in reports:
            if report.status == "erreur":
                raise SourceError(report.message)
        store.relink(conn, matcher)
        store.rebuild_fts(conn)
        conn.commit()
    for report in reports:
        ctx.reporter.echo(f"Publications — {report.line()}")
    ctx.reporter.echo(store.summary(conn))
