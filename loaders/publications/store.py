"""The publications store in oc.db: schema, cleaning, idempotent upsert, full-text index, archive,
carry-over between builds, territory links, and the read helpers the site's pages use.

A publication is identified by its URL: harvesting the same URL again updates it, never duplicates
it, and a publication that has left its feed stays. Every new or changed publication is also
appended to an archive file (JSON lines, outside oc.db) so that a deleted oc.db loses nothing.
"""

import json
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from . import classify
from .linking import links_for_publication
from oc_site.levels import NAMES as LEVELS

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
TITLE_MAX = 500
SUMMARY_MAX = 2000
PUBLICATION_FIELDS = (
    "url", "titre", "resume", "date_publication", "date_mise_a_jour", "annee", "organisation", "type",
    "themes", "type_territoire", "annees", "categories", "territoires_declares", "liens_territoriaux",
    "guid", "source", "premiere_vue", "derniere_vue",
)
JSON_FIELDS = ("themes", "annees", "categories", "territoires_declares", "liens_territoriaux")
# fields whose change counts as an update of the publication
CONTENT_FIELDS = ("titre", "resume", "date_publication", "date_mise_a_jour", "type", "themes",
                  "categories", "liens_territoriaux")


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
    conn.executescript((HERE / "schema.sql").read_text())
    if "rang" not in {row[1] for row in conn.execute("PRAGMA table_info(publications)")}:
        conn.execute("ALTER TABLE publications ADD COLUMN rang INTEGER")  # a database built before it existed
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


def upsert_source(conn, source: dict):
    ensure_organisation(conn, source.get("organisation"))
    territory = source.get("territoire") or {}
    conn.execute(
        """INSERT INTO sources(id, nom, type, url, organisation, type_ressource, territoire_niveau, territoire_code)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET nom = excluded.nom, type = excluded.type, url = excluded.url,
             organisation = excluded.organisation, type_ressource = excluded.type_ressource,
             territoire_niveau = excluded.territoire_niveau, territoire_code = excluded.territoire_code""",
        (source["id"], source.get("nom") or source["id"], source["type"], source["url"],
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


def record_run(conn, source_id: str, **fields):
    fields["derniere_collecte"] = now_iso()
    if fields.get("statut") in ("ok", "non_modifie", "partiel"):
        fields["dernier_succes"] = fields["derniere_collecte"]
    fields["nb_publications"] = conn.execute(
        "SELECT count(*) FROM publications WHERE source = ?", (source_id,)).fetchone()[0]
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    conn.execute(f"UPDATE sources SET {assignments} WHERE id = :id", {**fields, "id": source_id})


# --- cleaning -------------------------------------------------------------------------------------

class Batch:
    """Counts for one source run: read, kept, rejected (with reasons), duplicates, future dates."""

    def __init__(self):
        self.read = 0
        self.rejected: dict[str, int] = {}
        self.duplicates = 0
        self.future_dates = 0
        self.seen: set[str] = set()

    def reject(self, reason: str):
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def notes(self) -> list[str]:
        notes = [f"{n} entrée(s) écartée(s) : {reason}" for reason, n in self.rejected.items()]
        if self.duplicates:
            notes.append(f"{self.duplicates} doublon(s) ignoré(s) (même adresse ou même identifiant)")
        if self.future_dates:
            notes.append(f"{self.future_dates} date(s) dans le futur ignorée(s)")
        return notes


def clean_entry(entry: dict, source: dict, batch: Batch, today: date | None = None,
                base_url: str | None = None) -> dict | None:
    """A raw entry from a loader → a publication row ready to store, or None (counted in `batch`)."""
    batch.read += 1
    today = today or datetime.now(timezone.utc).date()
    url = classify.safe_url(entry.get("url"), base_url)
    if url is None:
        batch.reject("adresse absente ou non http(s)")
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
    published, future = classify.iso_date(entry.get("date_publication"), today)
    updated, future_update = classify.iso_date(entry.get("date_mise_a_jour"), today)
    if future or future_update:
        batch.future_dates += 1
    published = published or updated
    texts = (title, summary, " ".join(categories))
    themes = sorted(set(entry.get("themes") or []) | set(classify.themes_for(*texts))
                    | set(source.get("themes") or []))
    links = {level: template for level, template in (entry.get("liens_territoriaux") or {}).items()
             if level in LEVELS and classify.safe_url(template.replace("{code}", "0"))}
    seen = now_iso()
    return {
        "url": url,
        "titre": title,
        "resume": summary or None,
        "date_publication": published,
        "date_mise_a_jour": updated,
        "annee": int(published[:4]) if published else None,
        "organisation": entry.get("organisation") or source.get("organisation"),
        "type": entry.get("type") or source.get("type_ressource") or "publication_statistique",
        "themes": [t for t in themes if t in classify.THEMES],
        "type_territoire": entry.get("type_territoire") or classify.territory_type(title, summary)
        or (",".join(links) if links else None),
        "annees": entry.get("annees") or classify.years_in(title),
        "categories": categories,
        "territoires_declares": entry.get("territoires") or [],
        "liens_territoriaux": links,
        "guid": guid,
        "source": source.get("id"),
        "premiere_vue": seen,
        "derniere_vue": seen,
    }


# --- storing --------------------------------------------------------------------------------------

def _encode(row: dict) -> dict:
    return {k: (json.dumps(row[k], ensure_ascii=False, sort_keys=True) if k in JSON_FIELDS else row.get(k))
            for k in PUBLICATION_FIELDS}


# a value the source no longer gives (a date, a summary) is kept rather than erased
KEPT_IF_MISSING = ("resume", "date_publication", "date_mise_a_jour", "annee", "organisation")
UPSERT_SQL = f"""
INSERT INTO publications({", ".join(PUBLICATION_FIELDS)})
VALUES ({", ".join(":" + f for f in PUBLICATION_FIELDS)})
ON CONFLICT(url) DO UPDATE SET
  {", ".join(f"{f} = excluded.{f}" for f in PUBLICATION_FIELDS
             if f not in ("url", "premiere_vue", *KEPT_IF_MISSING))},
  {", ".join(f"{f} = coalesce(excluded.{f}, publications.{f})" for f in KEPT_IF_MISSING)},
  premiere_vue = min(publications.premiere_vue, excluded.premiere_vue)
"""


SOURCE_FIELDS = ("id", "nom", "type", "url", "organisation", "type_ressource", "territoire_niveau",
                 "territoire_code")


def upsert(conn, rows: list[dict], archive: Path | None = None) -> tuple[list[int], int, int]:
    """Insert or update publications by URL → (ids touched, number new, number changed)."""
    ids, new, changed, to_archive = [], 0, 0, []
    for row in rows:
        encoded = _encode(row)
        existing = conn.execute(
            f"SELECT id, {', '.join(CONTENT_FIELDS)}, organisation FROM publications WHERE url = ?",
            (row["url"],)).fetchone()
        if existing is None:
            new += 1
        elif tuple(existing[1:-1]) != tuple(encoded[f] for f in CONTENT_FIELDS):
            changed += 1
        else:
            # unchanged: only record that it was seen again
            conn.execute("UPDATE publications SET derniere_vue = ? WHERE id = ?", (row["derniere_vue"], existing[0]))
            ids.append(existing[0])
            continue
        ensure_organisation(conn, row.get("organisation"))
        conn.execute(UPSERT_SQL, encoded)
        ids.append(conn.execute("SELECT id FROM publications WHERE url = ?", (row["url"],)).fetchone()[0])
        to_archive.append(encoded)
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
            existing = conn.execute("SELECT derniere_vue FROM publications WHERE url = ?", (url,)).fetchone()
            if existing is None or existing[0] < row["derniere_vue"]:
                ensure_organisation(conn, row.get("organisation"))
                if row.get("source") and not conn.execute("SELECT 1 FROM sources WHERE id = ?",
                                                          (row["source"],)).fetchone():
                    row = {**row, "source": None}
                conn.execute(UPSERT_SQL, {f: row.get(f) for f in PUBLICATION_FIELDS})
    # publications of a source no longer configured keep their source row (carried above)
    conn.execute("""INSERT OR IGNORE INTO organisations(id, nom)
                    SELECT DISTINCT organisation, organisation FROM publications WHERE organisation IS NOT NULL""")
    return conn.execute("SELECT count(*) FROM publications").fetchone()[0]


# --- full-text index ------------------------------------------------------------------------------

def rebuild_fts(conn):
    """Rank the publications by date and rebuild the full-text index with that rank as its rowid.

    `rang` is 1 for the oldest publication and N for the newest (date of publication, else of first
    harvest; then id). The library lists matches newest first: with the index's rowid equal to `rang`,
    SQLite walks the index backwards and stops after one page, instead of finding and sorting every
    match (at a million publications, well under a millisecond instead of 30 to 500 ms; `make bench`).
    """
    conn.executescript(
        """
        DROP TABLE IF EXISTS publications_fts;
        DROP INDEX IF EXISTS idx_publications_rang;
        UPDATE publications SET rang = NULL;
        WITH ordre AS (
            SELECT id, row_number() OVER (
                ORDER BY coalesce(date_publication, substr(premiere_vue, 1, 10)), id) AS rang
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
    sources = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT id, territoire_niveau, territoire_code FROM sources")}
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
        producer = sources.get(source, (None, None))
        for level, code, method in links_for_publication(
            matcher, title, summary, json.loads(categories or "[]"), json.loads(declared or "[]"), producer
        ):
            links.append((pid, level, code, method))
    conn.executemany("INSERT OR IGNORE INTO publications_territoires VALUES (?, ?, ?, ?)", links)
    return len(links)
