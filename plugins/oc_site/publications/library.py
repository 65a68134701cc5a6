"""Reading the publications for the site: a territory's publications grouped by territory, the home
page's selection, and the library's search.

Pure SQL over oc.db; used by the fiches, the home page, the /publications page, its Atom feeds and
canned queries. Hidden publications (masquee = 1) never appear; the heaviest (poids) come first, then
the newest.
"""

import json
import re

from oc_site.datasette_pages import canned_queries as queries
from oc_site.levels import NAMES
from oc_site.text import tokens

PER_GROUP = 4  # publications shown per territory on a fiche; "voir tout" opens the library
FEATURED = 6  # publications of the home page's "À la une"
# the charnière before a département's name, by its TNCC in the COG (departements.type_liaison)
CONNECTORS = {0: "de ", 1: "d'", 2: "du ", 3: "de la ", 4: "des ", 5: "de l'", 6: "des ", 7: "de las ", 8: "de los "}


def fts_query(text: str) -> str | None:
    """A safe FTS5 expression from user input: every word required, the last one as a prefix."""
    words = tokens(text or "")
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def territory_phrase(level: str, nom: str, type_liaison: int | None = None) -> str:
    """How a sentence names a territory: « la région Bretagne », « le département d'Ille-et-Vilaine »,
    « Rennes Métropole », « Rennes »."""
    if level == "region":
        return f"la région {nom}"
    if level == "departement":
        return f"le département {CONNECTORS.get(type_liaison, 'de ')}{nom}"
    return nom


def library_url(level: str, code: str) -> str:
    return f"/publications?territoire={level}:{code}"


# --- reading, for the fiches ----------------------------------------------------------------------

# The publications of a territory, its parents and (for a région) its départements: the
# publications_territoire canned query, each territory's first publications only.
TERRITORY_SQL = queries.sql("publications_territoire")
FOR_TERRITORY_SQL = f"""SELECT * FROM ({TERRITORY_SQL})
WHERE rang_groupe <= :par_groupe ORDER BY ordre, territoire_nom, rang_groupe"""

FOR_LEVEL_SQL = """
SELECT p.id, p.titre, p.url, p.resume, p.date_publication, p.type, t.libelle AS type_libelle,
       p.organisation, o.nom AS organisation_nom, p.themes, p.liens_territoriaux
FROM publications p
LEFT JOIN organisations o ON o.id = p.organisation
LEFT JOIN types_ressource t ON t.code = p.type
WHERE (',' || p.type_territoire || ',') LIKE '%,' || :niveau || ',%' AND p.masquee = 0
  AND NOT EXISTS (SELECT 1 FROM publications_territoires pt WHERE pt.publication = p.id)
ORDER BY (json_extract(p.liens_territoriaux, '$.' || :niveau) IS NULL), p.poids DESC,
         p.date_tri IS NULL, p.date_tri DESC, p.id DESC
LIMIT :limite
"""

FEATURED_SQL = """
SELECT p.id, p.titre, p.url, p.resume, p.date_publication, p.annee, t.libelle AS type_libelle,
       o.nom AS organisation_nom, o.sigle AS organisation_sigle
FROM publications p
LEFT JOIN organisations o ON o.id = p.organisation
LEFT JOIN types_ressource t ON t.code = p.type
WHERE p.masquee = 0
ORDER BY p.poids DESC, p.date_tri IS NULL, p.date_tri DESC, p.id DESC
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


def group_by_territory(rows: list[dict]) -> list[dict]:
    """Rows of FOR_TERRITORY_SQL → one group per territory, in the rows' order, each with its title
    (« Concernant la région Bretagne »), its total and the link to all of them in the library."""
    groups: dict[tuple, dict] = {}
    for row in rows:
        key = (row["territoire_niveau"], row["territoire_code"])
        if key not in groups:
            name = row["territoire_nom"] or row["territoire_code"]
            groups[key] = {
                "niveau": key[0], "code": key[1], "nom": name,
                "phrase": territory_phrase(key[0], name, row["territoire_type_liaison"]),
                "direct": bool(row["direct"]), "relation": row["relation"], "total": row["nb_groupe"],
                "url_tout": library_url(*key), "publications": [],
            }
        groups[key]["publications"].append(row)
    for group in groups.values():
        group["titre"] = "Concernant " + group["phrase"]
    return list(groups.values())


def publications_for(conn, level: str, code: str, per_group: int = PER_GROUP, limit: int = 50) -> dict:
    """Publications for a territory fiche.

    Returns {"groupes": [...], "utiles": [...]}: the publications linked to the territory, then to each
    of its parents (commune → EPCI → département → région) or, for a région, to each of its
    départements, grouped by territory (at most `per_group` each, with the group's total); and those
    useful to every territory of its level, with `url_territoire` expanded from the resource's
    deep-link template when it has one. `conn` is a sqlite3 connection to oc.db.
    """
    if level not in NAMES:
        raise ValueError(f"niveau inconnu : {level}")
    params = {"niveau": level, "code": str(code), "par_groupe": per_group, "limite": limit}
    groups = group_by_territory(_dicts(conn.execute(FOR_TERRITORY_SQL, params)))
    useful = _dicts(conn.execute(FOR_LEVEL_SQL, params))
    for row in useful:
        templates = json.loads(row.pop("liens_territoriaux") or "{}")
        row["url_territoire"] = templates[level].replace("{code}", str(code)) if level in templates else None
    return {"groupes": groups, "utiles": useful}


async def publications_for_db(db, level: str, code: str, per_group: int = PER_GROUP) -> dict:
    """publications_for on a Datasette Database object (for the fiche plugin)."""
    return await db.execute_fn(lambda conn: publications_for(conn, level, code, per_group))


async def featured(db, limit: int = FEATURED) -> list[dict]:
    """The home page's "À la une": the heaviest, then the newest publications."""
    if "publications" not in await db.table_names():
        return []
    return [dict(r) for r in await db.execute(FEATURED_SQL, {"limite": limit})]


# --- search, for the /publications page and the publications_recherche canned query ---------------

SEARCH_FILTERS = ("q", "theme", "type", "producteur", "annee", "niveau", "territoire", "du", "au")
TERRITORY_LEVELS = (*NAMES, "national")  # the "type de territoire" filter
TERRITORY = re.compile(rf"({'|'.join(NAMES)}):[0-9AB]{{2,9}}")
# The library's search is the canned query publications_recherche (queries/publications_recherche.sql): its
# columns, joins, filters and order are written there, once. The canned query searches its words (q) as a
# phrase. The page turns them into "mot1" "mot2"* (fts_query: every word, the last one as a prefix) and runs
# the canned query with q left empty (sql_params) inside one of two walks that stop after one page instead of
# finding and sorting every match: with words, the full-text index backwards (its rowid is the publication's
# `rang`, its place in the library's order: loaders/publications/store.py); without, the index on `rang`.
# SQLite flattens the canned query into the walk: no sort, and the columns a count does not read are not computed.
SEARCH_SQL = queries.sql("publications_recherche")
WORDS_SEARCH_SQL = f"""SELECT r.* FROM publications_fts f
JOIN publications p ON p.rang = f.rowid
JOIN ({SEARCH_SQL}) r ON r.id = p.id
WHERE publications_fts MATCH :fts
ORDER BY f.rowid DESC"""
ALL_SEARCH_SQL = f"""SELECT r.* FROM publications p
JOIN ({SEARCH_SQL}) r ON r.id = p.id
ORDER BY p.rang DESC"""
# counting every match costs as much as finding them all: the page counts up to this many
COUNT_LIMIT = 1000


def page_search_sql(params: dict) -> str:
    """The page's search SQL for the cleaned parameters of search_params() (run with sql_params())."""
    return WORDS_SEARCH_SQL if params["fts"] else ALL_SEARCH_SQL


def count_sql(params: dict) -> str:
    """How many results, up to COUNT_LIMIT + 1 (more than COUNT_LIMIT is shown as such)."""
    return f"SELECT count(*) FROM (SELECT 1 FROM ({page_search_sql(params)}) LIMIT {COUNT_LIMIT + 1})"


def feed_sql(params: dict) -> str:
    """The Atom feed of a search: the same publications, the newest seen first (LIMIT :limite)."""
    return (f"SELECT * FROM ({page_search_sql(params)})\n"
            "ORDER BY premiere_vue DESC, date_publication DESC, id DESC LIMIT :limite")


def sql_params(params: dict) -> dict:
    """The parameters of the page's SQL: the canned query's own words left empty (the walk matches `fts`)."""
    return {**params, "q": ""}


def search_params(args: dict) -> dict:
    """Clean GET parameters → the named parameters of the page's search SQL (absent filters as '')."""
    params = {name: (args.get(name) or "").strip()[:200] for name in SEARCH_FILTERS}
    if params["annee"] and not params["annee"].isdigit():
        params["annee"] = ""
    for name in ("du", "au"):
        if params[name] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", params[name]):
            params[name] = ""
    if params["niveau"] not in TERRITORY_LEVELS:
        params["niveau"] = ""
    if params["territoire"] and not TERRITORY.fullmatch(params["territoire"]):
        params["territoire"] = ""
    params["fts"] = fts_query(params["q"]) or ""
    if not params["fts"]:
        params["q"] = ""
    return params
