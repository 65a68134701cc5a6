"""Reading the publications for the site: a territory's publications and the library's search.

Pure SQL over oc.db; used by the fiches, the /publications page, its Atom feeds and canned queries.
"""

import json
import re

from . import queries
from .levels import NAMES as LEVELS
from .text import tokens

def fts_query(text: str) -> str | None:
    """A safe FTS5 expression from user input: every word required, the last one as a prefix."""
    words = tokens(text or "")
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


# --- reading, for the pages and the fiches --------------------------------------------------------

# The publications of a territory and of its parents: the publications_territoire canned query,
# whose first CTE (`cible`: the territory and its parents) also selects the territory's new publications.
TERRITORY_SQL = queries.sql("publications_territoire")
ANCESTORS_SQL = TERRITORY_SQL[:TERRITORY_SQL.index("),\nliens AS (")] + ")\n"
FOR_TERRITORY_SQL = TERRITORY_SQL + "\nLIMIT :limite"

FOR_LEVEL_SQL = """
SELECT p.id, p.titre, p.url, p.resume, p.date_publication, p.type, t.libelle AS type_libelle,
       p.organisation, o.nom AS organisation_nom, p.themes, p.liens_territoriaux
FROM publications p
LEFT JOIN organisations o ON o.id = p.organisation
LEFT JOIN types_ressource t ON t.code = p.type
WHERE (',' || p.type_territoire || ',') LIKE '%,' || :niveau || ',%'
  AND NOT EXISTS (SELECT 1 FROM publications_territoires pt WHERE pt.publication = p.id)
ORDER BY (json_extract(p.liens_territoriaux, '$.' || :niveau) IS NULL),
         coalesce(p.date_publication, substr(p.premiere_vue, 1, 10)) DESC, p.id DESC
LIMIT :limite
"""


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values))
        if "themes" in row:
            row["themes"] = json.loads(row["themes"] or "[]")
        rows.append(row)
    return rows


def publications_for(conn, niveau: str, code: str, limit: int = 50) -> dict:
    """Publications for a territory fiche.

    Returns {"concernant": [...], "utiles": [...]}: the publications linked to the territory or to
    one of its parents (commune → EPCI → département → région; `direct` is 1 for the territory
    itself), and those useful to every territory of its level, with `url_territoire` expanded from
    the resource's deep-link template when it has one. `conn` is a sqlite3 connection to oc.db.
    """
    if niveau not in LEVELS:
        raise ValueError(f"niveau inconnu : {niveau}")
    params = {"niveau": niveau, "code": str(code), "limite": limit}
    concerning = _dicts(conn.execute(FOR_TERRITORY_SQL, params))
    useful = _dicts(conn.execute(FOR_LEVEL_SQL, params))
    for row in useful:
        templates = json.loads(row.pop("liens_territoriaux") or "{}")
        row["url_territoire"] = templates[niveau].replace("{code}", str(code)) if niveau in templates else None
    return {"concernant": concerning, "utiles": useful}


# --- search, for the /publications page and the publications_recherche canned query ---------------

SEARCH_FILTERS = ("q", "theme", "type", "producteur", "annee", "territoire", "du", "au")
# the canned query takes the words as typed: searched as a phrase, quotes removed (never an FTS error)
SEARCH_SQL = queries.sql("publications_recherche")
CANNED_WORDS = ("(:q = '' OR p.rang IN (SELECT rowid FROM publications_fts WHERE publications_fts "
                "MATCH '\"' || replace(:q, '\"', ' ') || '\"'))")
CANNED_FROM = "FROM publications p\n"
CANNED_ORDER = "ORDER BY p.rang DESC"
assert all(SEARCH_SQL.count(part) == 1 for part in (CANNED_WORDS, CANNED_FROM, CANNED_ORDER)), \
    "queries/publications_recherche.sql: the words condition, FROM or ORDER BY changed"
# The page shows one page of results at a time, newest first, and turns the words into "mot1" "mot2"*
# first (see fts_query: every word, the last as a prefix). With words, it walks the full-text index
# backwards (its rowid is the publication's `rang`, the rank by date, see loaders/publications/store.py)
# and stops after the page, instead of finding and sorting every match; without words, it walks the
# index on `rang`. Both are the canned query with its first condition and order rewritten, so that the
# columns and filters are written once.
WORDS_SEARCH_SQL = (SEARCH_SQL.replace(CANNED_FROM, "FROM publications_fts f\nJOIN publications p ON p.rang = f.rowid\n")
                    .replace(CANNED_WORDS, "publications_fts MATCH :fts")
                    .replace(CANNED_ORDER, "ORDER BY f.rowid DESC"))
ALL_SEARCH_SQL = SEARCH_SQL.replace(CANNED_WORDS, "1")
# counting every match costs as much as finding them all: the page counts up to this many
COUNT_LIMIT = 1000


def page_search_sql(params: dict) -> str:
    """The page's search SQL for the cleaned parameters of search_params()."""
    return WORDS_SEARCH_SQL if params["fts"] else ALL_SEARCH_SQL


def count_sql(params: dict) -> str:
    """How many results, up to COUNT_LIMIT + 1 (more than COUNT_LIMIT is shown as such); the same
    query without its columns, whose subqueries would otherwise run for every row counted."""
    sql = page_search_sql(params)
    return f"SELECT count(*) FROM (SELECT 1{sql[sql.index(chr(10) + 'FROM '):]} LIMIT {COUNT_LIMIT + 1})"


NEW_PUBLICATIONS_SQL = """{cte}
SELECT p.id, p.titre, p.url, p.resume, p.date_publication, p.date_mise_a_jour, p.premiere_vue,
       o.nom AS producteur_nom, t.libelle AS type_libelle
FROM publications p
LEFT JOIN organisations o ON o.id = p.organisation
LEFT JOIN types_ressource t ON t.code = p.type
{where}
ORDER BY p.premiere_vue DESC, coalesce(p.date_publication, '') DESC, p.id DESC
LIMIT :limite
"""


ALL_NEW_SQL = NEW_PUBLICATIONS_SQL.format(cte="", where="")
# new publications concerning a territory or one of its parents (the Atom feed of a territory)
TERRITORY_NEW_SQL = NEW_PUBLICATIONS_SQL.format(cte=ANCESTORS_SQL, where="""
WHERE p.id IN (SELECT pt.publication FROM cible
               JOIN publications_territoires pt ON pt.niveau = cible.niveau AND pt.code = cible.code)""")


def search_params(args: dict) -> dict:
    """Clean GET parameters → the named parameters of the page's search SQL (absent filters as '')."""
    params = {name: (args.get(name) or "").strip()[:200] for name in SEARCH_FILTERS}
    if params["annee"] and not params["annee"].isdigit():
        params["annee"] = ""
    for name in ("du", "au"):
        if params[name] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", params[name]):
            params[name] = ""
    if params["territoire"] and not re.fullmatch(r"(region|departement|epci|commune):[0-9AB]{2,9}",
                                                 params["territoire"]):
        params["territoire"] = ""
    params["fts"] = fts_query(params["q"]) or ""
    if not params["fts"]:
        params["q"] = ""
    return params


async def publications_for_db(db, niveau: str, code: str, limit: int = 50) -> dict:
    """publications_for on a Datasette Database object (for the fiche plugin)."""
    return await db.execute_fn(lambda conn: publications_for(conn, niveau, code, limit))
