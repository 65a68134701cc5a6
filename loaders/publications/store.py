"""The publications store in oc.db: schema, cleaning, idempotent upsert, full-text index, archive,
carry-over between builds and territory links.

A publication is identified by its URL: harvesting the same URL again updates it, never duplicates
it, and a publication that has left its feed stays. Every source that brought a URL is recorded
(publications_sources). The editorial lists (data/ressources.yml, data/publications.yml) have the
last word on what they say (title, type, topics, territories, weight, hidden flag); a harvest of one
of their addresses only fills what they leave empty. An entry removed from an editorial list leaves
the base, unless a harvest found it too. Every new or changed harvested publication is also appended
to an archive file (JSON lines, outside oc.db) so that a deleted oc.db loses nothing; the editorial
lists need no archive, they are in the repository.
"""

import json
import os
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from ..common.locations import public_location
from . import classify
from .linking import links_for_publication
from oc_site.levels import NAMES as LEVELS
from oc_site.text import strip_accents, tokens

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
TITLE_MAX = 500
SUMMARY_MAX = 2000
PUBLICATION_FIELDS = (
    "url", "titre", "resume", "date_publication", "date_mise_a_jour", "annee", "organisation", "type",
    "themes", "type_territoire", "annees", "categories", "territoires_declares", "liens_territoriaux",
    "guid", "source", "premiere_vue", "derniere_vue", "poids", "masquee", "date_tri",
)
JSON_FIELDS = ("themes", "annees", "categories", "territoires_declares", "liens_territoriaux")
# fields whose change counts as an update of the publication
CONTENT_FIELDS = tuple(f for f in PUBLICATION_FIELDS
                       if f not in ("url", "guid", "source", "premiere_vue", "derniere_vue", "date_tri"))
# source types whose lists are written by hand and reloaded whole by `oc build`
EDITORIAL_TYPES = ("curation", "catalogue")
# columns added after the first release: `oc harvest` on an older oc.db adds them
ADDED_COLUMNS = {"publications": (("poids", "INTEGER NOT NULL DEFAULT 0"), ("masquee", "INTEGER NOT NULL DEFAULT 0"),
                                  ("date_tri", "TEXT"), ("rang", "INTEGER"))}


def archive_path() -> Path:
    return Path(os.environ.get("OC_PUBLICATIONS_ARCHIVE") or ROOT / ".cache" / "publications.jsonl")


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class Harvest:
    """What a source loader brings back from one run."""

    entries: list[dict] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None
    notes: list[str] = field(default_factory=list)


# --- schema ---------------------------------------------------------------------------------------

def ensure_schema(conn: sqlite3.Connection):
    """Create the publications tables, or bring those of an older oc.db up to date (for `oc harvest`)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.executescript((HERE / "schema.sql").read_text())
    for table, columns in ADDED_COLUMNS.items():
        present = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns:
            if name not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
    if "publications" in tables and "publications_sources" not in tables:
        # an oc.db from before publications_sources: the source column says who brought each publication
        conn.execute("""INSERT OR IGNORE INTO publications_sources
                        SELECT id, source, premiere_vue, derniere_vue FROM publications WHERE source IS NOT NULL""")
        conn.execute("""UPDATE publications SET date_tri = coalesce(date_publication, printf('%04d-00-00', annee),
                        substr(premiere_vue, 1, 10)) WHERE date_tri IS NULL""")
    conn.executemany("INSERT OR REPLACE INTO themes(code, libelle) VALUES (?, ?)", classify.THEMES.items())
    conn.executemany("INSERT OR REPLACE INTO types_ressource(code, libelle) VALUES (?, ?)",
                     classify.TYPES.items())


def upsert_organisations(conn, organisations: list[dict]):
    conn.executemany(
        """INSERT INTO organisations(id, nom, sigle, url) VALUES (:id, :nom, :sigle, :url)
           ON CONFLICT(id) DO UPDATE SET nom = excluded.nom, sigle = excluded.sigle, url = excluded.url""",
        [{"sigle": None, "url": None, **o} for o in organisations],
    )


def ensure_organisation(conn, organisation_id: str | None):
    if organisation_id:
        conn.execute("INSERT OR IGNORE INTO organisations(id, nom) VALUES (?, ?)", (organisation_id, organisation_id))


def producer_key(name: str) -> str:
    return " ".join(tokens(name or ""))


def organisation_for(name: str, organisations: list[tuple]) -> str | None:
    """The id of the organisation a producer's name designates, or None: an organisation with that id, name
    or sigle; else one whose sigle is the name without its detail in parentheses (« ANCT (Observatoire
    des territoires) » → anct). Only sigles, which the organisations of data/sources.yml have and those
    made from a producer's name have not, match a shortened name: the result never depends on the order
    of the entries."""
    full, short = producer_key(name), producer_key(name.split(" (")[0])
    for organisation_id, nom, sigle in organisations:
        if full in (producer_key(organisation_id), producer_key(nom or ""), producer_key(sigle or "")):
            return organisation_id
    for organisation_id, nom, sigle in organisations:
        if sigle and short == producer_key(sigle):
            return organisation_id
    return None


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", strip_accents(name.lower())).strip("-")[:60]


def resolve_producers(conn, entries: list[dict]):
    """Entries that name their producer (« producteur ») get an organisation id; an unknown producer
    becomes an organisation of its own, named as the entry names it."""
    known = conn.execute("SELECT id, nom, sigle FROM organisations").fetchall()
    for entry in entries:
        name = (entry.get("producteur") or "").strip()
        if entry.get("organisation") or not name:
            continue
        organisation_id = organisation_for(name, known)
        if organisation_id is None:
            organisation_id = slug(name)
            conn.execute("INSERT OR IGNORE INTO organisations(id, nom) VALUES (?, ?)", (organisation_id, name))
            known.append((organisation_id, name, None))
        entry["organisation"] = organisation_id


def upsert_source(conn, source: dict):
    ensure_organisation(conn, source.get("organisation"))
    territory = source.get("territoire") or {}
    conn.execute(
        """INSERT INTO sources(id, nom, type, url, organisation, type_ressource, territoire_niveau, territoire_code)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET nom = excluded.nom, type = excluded.type, url = excluded.url,
             organisation = excluded.organisation, type_ressource = excluded.type_ressource,
             territoire_niveau = excluded.territoire_niveau, territoire_code = excluded.territoire_code""",
        (source["id"], source.get("nom") or source["id"], source["type"], public_location(source["url"]),
         source.get("organisation"), source.get("type_ressource"),
         territory.get("niveau"), str(territory["code"]) if territory.get("code") else None),
    )


def source_state(conn, source_id: str) -> dict:
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM sources WHERE id = ?", (source_id,)).fetchone()
    finally:
        conn.row_factory = None
    return dict(row) if row else {}


def editorial_sources(conn) -> set[str]:
    marks = ",".join("?" * len(EDITORIAL_TYPES))
    return {r[0] for r in conn.execute(f"SELECT id FROM sources WHERE type IN ({marks})", EDITORIAL_TYPES)}


def record_run(conn, source_id: str, **fields):
    fields["derniere_collecte"] = now_iso()
    if fields.get("statut") in ("ok", "non_modifie", "partiel"):
        fields["dernier_succes"] = fields["derniere_collecte"]
    fields["nb_publications"] = conn.execute(
        "SELECT count(*) FROM publications_sources WHERE source = ?", (source_id,)).fetchone()[0]
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    conn.execute(f"UPDATE sources SET {assignments} WHERE id = :id", {**fields, "id": source_id})


# --- cleaning -------------------------------------------------------------------------------------

class Batch:
    """Counts for one source run: read, kept, rejected (with reasons), duplicates, dates dropped."""

    def __init__(self):
        self.read = 0
        self.rejected: dict[str, int] = {}
        self.duplicates = 0
        self.dropped_dates: dict[str, int] = {}  # problem (classify.DATE_PROBLEMS) → count
        self.seen: set[str] = set()

    def reject(self, reason: str):
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def notes(self) -> list[str]:
        notes = [f"{n} entrée(s) écartée(s) : {reason}" for reason, n in self.rejected.items()]
        if self.duplicates:
            notes.append(f"{self.duplicates} doublon(s) ignoré(s) (même adresse ou même identifiant)")
        for problem, n in self.dropped_dates.items():
            notes.append(f"{n} {classify.DATE_PROBLEMS[problem]} ignorée(s) : entrée gardée, date laissée vide")
        return notes


def clean_entry(entry: dict, source: dict, batch: Batch, today: date | None = None,
                base_url: str | None = None) -> dict | None:
    """A raw entry from a loader → a publication row ready to store, or None (counted in `batch`)."""
    batch.read += 1
    today = today or datetime.now(timezone.utc).date()
    url = classify.safe_url(entry.get("url"), base_url)
    if url is None:
        long = len(str(entry.get("url") or "")) > classify.URL_MAX
        batch.reject(f"adresse de plus de {classify.URL_MAX} caractères" if long else "adresse absente ou non http(s)")
        return None
    title = classify.plain_text(entry.get("titre"), TITLE_MAX)
    if not title:
        batch.reject("titre vide")
        return None
    guid = (entry.get("guid") or "").strip() or None
    keys = {url} | ({f"guid:{guid}"} if guid else set())
    if keys & batch.seen:
        batch.duplicates += 1
        return None
    batch.seen |= keys
    summary = classify.plain_text(entry.get("resume"), SUMMARY_MAX)
    categories = [c for c in (classify.plain_text(c, 200) for c in entry.get("categories") or []) if c]
    published, problem = classify.iso_date(entry.get("date_publication"), today)
    updated, update_problem = classify.iso_date(entry.get("date_mise_a_jour"), today)
    if problem or update_problem:
        key = problem or update_problem
        batch.dropped_dates[key] = batch.dropped_dates.get(key, 0) + 1
    published = published or updated
    texts = (title, summary, " ".join(categories))
    editorial = source.get("type") in EDITORIAL_TYPES
    # an editorial list says its topics itself; a feed's are guessed from its words
    guessed = set() if editorial else set(classify.themes_for(*texts))
    themes = sorted(set(entry.get("themes") or []) | guessed | set(source.get("themes") or []))
    links = {level: template for level, template in ((level, classify.safe_url(str(template)))
                                                     for level, template in (entry.get("liens_territoriaux") or {}).items())
             if level in LEVELS and template and classify.safe_url(template.replace("{code}", "0"))}
    seen = now_iso()
    return {
        "url": url,
        "titre": title,
        "resume": summary or None,
        "date_publication": published,
        "date_mise_a_jour": updated,
        "annee": int(published[:4]) if published else entry.get("annee"),
        "organisation": entry.get("organisation") or source.get("organisation"),
        "type": entry.get("type") or source.get("type_ressource") or "publication_statistique",
        "themes": [t for t in themes if t in classify.THEMES],
        "type_territoire": entry.get("type_territoire")
        or (None if editorial else classify.territory_type(title, summary))
        or (",".join(links) if links else None),
        "annees": entry.get("annees") or classify.years_in(title),
        "categories": categories,
        "territoires_declares": entry.get("territoires") or [],
        "liens_territoriaux": links,
        "guid": guid,
        "source": source.get("id"),
        "premiere_vue": seen,
        "derniere_vue": seen,
        "poids": int(entry.get("poids") or 0),
        "masquee": 1 if entry.get("masquee") else 0,
    }


def check_declared(rows: list[dict], matcher) -> list[str]:
    """Keep the declared territories that the COG knows (as "niveau:code"); one note per one set aside."""
    notes = []
    for row in rows:
        kept = []
        for territory in row.get("territoires_declares") or []:
            if isinstance(territory, dict):
                level, code, name = territory.get("niveau"), str(territory.get("code")), territory.get("nom") or ""
            else:
                level, _, code = str(territory).partition(":")
                name = ""
            reason = matcher.rejection(level, code, name)
            if reason:
                shown = f"{level}:{code}" + (f" « {name} »" if name else "")
                notes.append(f"territoire écarté {shown} : {reason} ({row['url']})")
            elif f"{level}:{code}" not in kept:
                kept.append(f"{level}:{code}")
        row["territoires_declares"] = kept
    return notes


# --- storing --------------------------------------------------------------------------------------

def _encode(row: dict) -> dict:
    return {k: (json.dumps(row.get(k), ensure_ascii=False, sort_keys=True) if k in JSON_FIELDS else row.get(k))
            for k in PUBLICATION_FIELDS}


def _decode(row: dict) -> dict:
    return {k: (json.loads(v) if k in JSON_FIELDS and isinstance(v, str) else v) for k, v in row.items()}


UPSERT_SQL = f"""
INSERT INTO publications({", ".join(PUBLICATION_FIELDS)})
VALUES ({", ".join(":" + f for f in PUBLICATION_FIELDS)})
ON CONFLICT(url) DO UPDATE SET
  {", ".join(f"{f} = excluded.{f}" for f in PUBLICATION_FIELDS if f != "url")}
"""
# a value the source no longer gives (a date, a summary) is kept rather than erased
KEPT_IF_MISSING = ("resume", "date_publication", "date_mise_a_jour", "annee", "organisation")
# what a harvest may add to an entry of an editorial list: the gaps it leaves
FILLED_BY_HARVEST = (*KEPT_IF_MISSING, "guid", "type_territoire", "liens_territoriaux")
UNITED_BY_HARVEST = ("themes", "categories", "annees")


def sort_date(row: dict, editorial: bool) -> str | None:
    """The date a list sorts on, newest first: the publication date, else its year (AAAA-00-00), else for
    a harvested item the day it was first seen; an undated editorial entry has none (listed last)."""
    if row.get("date_publication"):
        return row["date_publication"]
    if row.get("annee"):
        return f"{int(row['annee']):04d}-00-00"
    return None if editorial else (row.get("premiere_vue") or "")[:10] or None


def merge(existing: dict | None, incoming: dict, incoming_editorial: bool, held_by_editor: bool) -> dict:
    """The publication to store when `incoming` (a cleaned entry) meets what is stored for its URL.

    An editorial list has the last word; a harvest of an address that an editorial list holds only
    fills the gaps (summary, dates…) and adds topics and categories; otherwise the newest harvest wins,
    keeping the values it no longer gives."""
    if existing is None:
        merged = dict(incoming)
    elif held_by_editor and not incoming_editorial:
        merged = dict(existing)
        for name in FILLED_BY_HARVEST:
            if merged.get(name) in (None, "", [], {}):
                merged[name] = incoming.get(name)
        for name in UNITED_BY_HARVEST:
            merged[name] = sorted(set(existing.get(name) or []) | set(incoming.get(name) or []))
        merged["derniere_vue"] = max(existing["derniere_vue"], incoming["derniere_vue"])
    else:
        merged = {**existing, **incoming}
        for name in KEPT_IF_MISSING:
            if incoming.get(name) is None:
                merged[name] = existing.get(name)
        if incoming_editorial and not incoming.get("categories"):
            merged["categories"] = existing.get("categories") or []
    if existing is not None:
        merged["premiere_vue"] = min(existing["premiere_vue"], incoming["premiere_vue"])
    merged["date_tri"] = sort_date(merged, incoming_editorial or held_by_editor)
    return merged


def stored(conn, url: str) -> dict | None:
    cursor = conn.execute(f"SELECT id, {', '.join(PUBLICATION_FIELDS)} FROM publications WHERE url = ?", (url,))
    row = cursor.fetchone()
    return _decode(dict(zip([d[0] for d in cursor.description], row))) if row else None


def sources_of(conn, publication_id: int) -> set[str]:
    return {r[0] for r in conn.execute("SELECT source FROM publications_sources WHERE publication = ?",
                                       (publication_id,))}


def add_membership(conn, publication_id: int, row: dict) -> bool:
    """Record that row["source"] brought the publication; True if that source had not brought it before."""
    if not row.get("source"):
        return False
    key = (publication_id, row["source"])
    if conn.execute("SELECT 1 FROM publications_sources WHERE publication = ? AND source = ?", key).fetchone():
        conn.execute("""UPDATE publications_sources SET derniere_vue = max(derniere_vue, ?)
                        WHERE publication = ? AND source = ?""", (row["derniere_vue"], *key))
        return False
    conn.execute("INSERT INTO publications_sources VALUES (?, ?, ?, ?)",
                 (*key, row["premiere_vue"], row["derniere_vue"]))
    return True


SOURCE_FIELDS = ("id", "nom", "type", "url", "organisation", "type_ressource", "territoire_niveau",
                 "territoire_code")


def upsert(conn, rows: list[dict], archive: Path | None = None) -> tuple[list[int], int, int]:
    """Insert or update publications by URL → (ids touched, number new, number changed)."""
    ids, new, changed, to_archive = [], 0, 0, []
    editors = editorial_sources(conn)
    for row in rows:
        existing = stored(conn, row["url"])
        editorial = row.get("source") in editors
        held = existing is not None and bool(sources_of(conn, existing["id"]) & editors)
        merged = merge(existing, row, editorial, held)
        write = existing is None or any(existing.get(f) != merged.get(f) for f in CONTENT_FIELDS)
        if existing is None:
            new += 1
        elif write:
            changed += 1
        if write:
            ensure_organisation(conn, merged.get("organisation"))
            conn.execute(UPSERT_SQL, _encode(merged))
        else:  # unchanged: only record that it was seen again
            conn.execute("UPDATE publications SET derniere_vue = ?, date_tri = ? WHERE id = ?",
                         (merged["derniere_vue"], merged["date_tri"], existing["id"]))
        publication_id = existing["id"] if existing else \
            conn.execute("SELECT id FROM publications WHERE url = ?", (row["url"],)).fetchone()[0]
        ids.append(publication_id)
        if add_membership(conn, publication_id, row) or write:
            if not editorial:
                to_archive.append(_encode(row))  # what the source itself said, not the merged publication
    if archive is not None and to_archive:
        sources = {row["source"] for row in to_archive if row.get("source")}
        marks = ",".join("?" * len(sources))
        described = conn.execute(f"SELECT {', '.join(SOURCE_FIELDS)} FROM sources WHERE id IN ({marks})",
                                 list(sources)).fetchall()
        append_archive(archive, [{"source": dict(zip(SOURCE_FIELDS, s))} for s in described] + to_archive)
    return ids, new, changed


def append_archive(path: Path, lines: list[dict]):
    """Append publications (and the sources they come from, as {"source": {...}}) to the archive."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())


def read_archive(path: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """Last archived state of every URL and of every source (a truncated last line is skipped)."""
    latest: dict[str, dict] = {}
    sources: dict[str, dict] = {}
    if not path.exists():
        return latest, sources
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and isinstance(row.get("source"), dict) and row["source"].get("id"):
                sources[row["source"]["id"]] = row["source"]
            elif isinstance(row, dict) and row.get("url") and row.get("titre"):
                previous = latest.get(row["url"])
                if previous:
                    row["premiere_vue"] = min(previous["premiere_vue"], row["premiere_vue"])
                latest[row["url"]] = row
    return latest, sources


def carry_over(conn, previous_db: Path | None, archive: Path | None) -> int:
    """Bring back sources, organisations and publications from the previous oc.db and the archive."""
    if previous_db is not None and Path(previous_db).exists():
        conn.execute("ATTACH DATABASE ? AS previous", (str(previous_db),))
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM previous.sqlite_master WHERE type = 'table'")}
            if "organisations" in tables:
                conn.execute("INSERT OR IGNORE INTO organisations SELECT id, nom, sigle, url FROM previous.organisations")
            if "sources" in tables:
                columns = [r[1] for r in conn.execute("PRAGMA previous.table_info(sources)")]
                own = [r[1] for r in conn.execute("PRAGMA main.table_info(sources)")]
                shared = ", ".join(c for c in own if c in columns)
                conn.execute(f"INSERT OR IGNORE INTO sources({shared}) SELECT {shared} FROM previous.sources")
                conn.execute("""INSERT OR IGNORE INTO organisations(id, nom)
                                SELECT DISTINCT organisation, organisation FROM sources
                                WHERE organisation IS NOT NULL""")
            if "publications" in tables:
                columns = [r[1] for r in conn.execute("PRAGMA previous.table_info(publications)")]
                shared = ", ".join(c for c in ("id", *PUBLICATION_FIELDS) if c in columns)
                conn.execute(f"INSERT OR IGNORE INTO publications({shared}) SELECT {shared} FROM previous.publications")
                if "publications_sources" in tables:
                    conn.execute("INSERT OR IGNORE INTO publications_sources SELECT * FROM previous.publications_sources")
                else:  # an oc.db from before publications_sources: the source column says who brought it
                    conn.execute("""INSERT OR IGNORE INTO publications_sources
                                    SELECT id, source, premiere_vue, derniere_vue FROM publications
                                    WHERE source IS NOT NULL""")
                if "date_tri" not in columns:
                    conn.execute("""UPDATE publications SET date_tri = coalesce(date_publication,
                                    printf('%04d-00-00', annee), substr(premiere_vue, 1, 10))""")
            conn.commit()
        finally:
            conn.execute("DETACH DATABASE previous")
    if archive is not None:
        publications, sources = read_archive(archive)
        for source in sources.values():
            ensure_organisation(conn, source.get("organisation"))
            conn.execute(f"INSERT OR IGNORE INTO sources({', '.join(SOURCE_FIELDS)}) "
                         f"VALUES ({', '.join('?' * len(SOURCE_FIELDS))})",
                         [source.get(f) for f in SOURCE_FIELDS])
        for url, row in publications.items():
            row = _decode({"poids": 0, "masquee": 0, **row})
            if row.get("source") and not conn.execute("SELECT 1 FROM sources WHERE id = ?",
                                                      (row["source"],)).fetchone():
                row["source"] = None
            existing = conn.execute("SELECT id, derniere_vue FROM publications WHERE url = ?", (url,)).fetchone()
            if existing is None or existing[1] < row["derniere_vue"]:
                upsert(conn, [row])
            else:
                add_membership(conn, existing[0], row)
    # publications of a source no longer configured keep their source row (carried above)
    conn.execute("""INSERT OR IGNORE INTO organisations(id, nom)
                    SELECT DISTINCT organisation, organisation FROM publications WHERE organisation IS NOT NULL""")
    hide_machine_paths(conn)
    return conn.execute("SELECT count(*) FROM publications").fetchone()[0]


# --- editorial lists: entries removed ----------------------------------------------------------------

def prune(conn, source_id: str, kept: list[int]) -> tuple[int, list[int]]:
    """After a whole editorial list was loaded: the publications it brought before and no longer lists
    leave the base, unless another source brought them too (then only what the list said is dropped).
    → (number removed, ids kept but changed)."""
    editors = editorial_sources(conn)
    listed = set(kept)
    removed, changed = 0, []
    for (publication_id,) in conn.execute("SELECT publication FROM publications_sources WHERE source = ?",
                                          (source_id,)).fetchall():
        if publication_id in listed:
            continue
        conn.execute("DELETE FROM publications_sources WHERE publication = ? AND source = ?",
                     (publication_id, source_id))
        others = sorted(sources_of(conn, publication_id))
        if not others:
            conn.execute("DELETE FROM publications_territoires WHERE publication = ?", (publication_id,))
            conn.execute("DELETE FROM publications WHERE id = ?", (publication_id,))
            removed += 1
        elif not set(others) & editors:
            conn.execute("""UPDATE publications SET territoires_declares = '[]', poids = 0, masquee = 0, source = ?,
                              date_tri = coalesce(date_publication, printf('%04d-00-00', annee),
                                                  substr(premiere_vue, 1, 10))
                            WHERE id = ?""", (others[0], publication_id))
            changed.append(publication_id)
    return removed, changed


def summary(conn) -> str:
    """One line for the build report: publications, hidden ones, territory links by method and level."""
    total, hidden = conn.execute("SELECT count(*), coalesce(sum(masquee), 0) FROM publications").fetchone()
    links = conn.execute("""SELECT methode, niveau, count(*) FROM publications_territoires
                            GROUP BY methode, niveau ORDER BY methode, niveau""").fetchall()
    methods: dict[str, list[str]] = {}
    for method, level, count in links:
        methods.setdefault(method, []).append(f"{count} {level}")
    detail = " ; ".join(f"{method} : {', '.join(parts)}" for method, parts in methods.items()) or "aucun"
    return (f"Publications : {total} dans la base, dont {hidden} masquée(s) ; "
            f"liens aux territoires par méthode — {detail}.")


def hide_machine_paths(conn):
    """Sources carried over from an older oc.db or the archive: their local paths made public."""
    for source_id, url, name in conn.execute("SELECT id, url, nom FROM sources").fetchall():
        public = public_location(url)
        if public != url:
            conn.execute("UPDATE sources SET url = ?, nom = ? WHERE id = ?",
                         (public, public if name == url else name, source_id))


# --- full-text index ------------------------------------------------------------------------------

def rebuild_fts(conn):
    """Rank the publications in the library's order and rebuild the full-text index with that rank as its rowid.

    `rang` is N for the publication the library lists first and 1 for the last: the library's order is
    `poids DESC, date_tri IS NULL, date_tri DESC, id DESC` (editorial weight, then newest first, undated
    last; queries/publications_recherche.sql), so `ORDER BY rang DESC` is that order. With the index's
    rowid equal to `rang`, SQLite walks the index backwards and stops after one page, instead of finding
    and sorting every match (at a million publications, well under a millisecond instead of 30 to 500 ms;
    `make bench`).
    """
    conn.executescript(
        """
        DROP TABLE IF EXISTS publications_fts;
        DROP INDEX IF EXISTS idx_publications_rang;
        UPDATE publications SET rang = NULL;
        WITH ordre AS (
            SELECT id, row_number() OVER (
                ORDER BY poids, date_tri IS NOT NULL, date_tri, id) AS rang
            FROM publications
        )
        UPDATE publications SET rang = ordre.rang FROM ordre WHERE ordre.id = publications.id;
        CREATE UNIQUE INDEX idx_publications_rang ON publications(rang);
        CREATE VIRTUAL TABLE publications_fts USING fts5(
            titre, resume, producteur,
            tokenize='unicode61 remove_diacritics 2', prefix='2 3'
        );
        INSERT INTO publications_fts(rowid, titre, resume, producteur)
        SELECT p.rang, p.titre, coalesce(p.resume, ''),
               coalesce(o.nom, '') || ' ' || coalesce(o.sigle, '')
        FROM publications p LEFT JOIN organisations o ON o.id = p.organisation;
        INSERT INTO publications_fts(publications_fts) VALUES ('optimize');
        """
    )


# --- territory links ------------------------------------------------------------------------------

def relink(conn, matcher, publication_ids: list[int] | None = None):
    """Recompute publications_territoires (all publications, or the given ones)."""
    sources = {r[0]: r[1:] for r in conn.execute("SELECT id, territoire_niveau, territoire_code, type FROM sources")}
    # the territory of a producer that brought the publication (a regional feed → its région)
    producers = {r[0]: (r[1], r[2]) for r in conn.execute(
        """SELECT ps.publication, s.territoire_niveau, s.territoire_code FROM publications_sources ps
           JOIN sources s ON s.id = ps.source WHERE s.territoire_niveau IS NOT NULL ORDER BY ps.source DESC""")}
    if publication_ids is None:
        conn.execute("DELETE FROM publications_territoires")
        rows = conn.execute("SELECT id, titre, resume, categories, territoires_declares, source FROM publications")
    else:
        marks = ",".join("?" * len(publication_ids))
        conn.execute(f"DELETE FROM publications_territoires WHERE publication IN ({marks})", publication_ids)
        rows = conn.execute(f"""SELECT id, titre, resume, categories, territoires_declares, source
                                FROM publications WHERE id IN ({marks})""", publication_ids)
    links = []
    for pid, title, summary, categories, declared, source in rows.fetchall():
        level, code, kind = sources.get(source, (None, None, None))
        producer = producers.get(pid, (level, code))
        for level, code, method in links_for_publication(
            matcher, title, summary, json.loads(categories or "[]"), json.loads(declared or "[]"), producer,
            declared_method="catalogue" if kind == "catalogue" else "curation", from_summary=kind != "catalogue",
        ):
            links.append((pid, level, code, method))
    conn.executemany("INSERT OR IGNORE INTO publications_territoires VALUES (?, ?, ?, ?)", links)
    return len(links)
