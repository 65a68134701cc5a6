"""Pure helpers shared by the site's page plugins (plugins/*.py cannot import one another)."""

from urllib.parse import urlencode

from .search import COUNT_SQL, SEARCH_SQL, match_expression

DATABASE = "oc"  # the name under which Datasette serves oc.db


def dicts(results) -> list[dict]:
    """The rows of a Datasette query result as dicts."""
    return [dict(zip(results.columns, row)) for row in results.rows]


async def canned(datasette, name: str, **params) -> tuple[list[dict], list[str]]:
    """Rows (as dicts) and columns of a canned query of the oc database."""
    query = await datasette.get_canned_query(DATABASE, name, None)
    results = await datasette.get_database(DATABASE).execute(query["sql"], params)
    return dicts(results), list(results.columns)


def query_url(datasette, name: str, fmt: str = "", **params) -> str:
    """URL of a canned query (or of its `.csv`/`.json` export with `fmt`) with its parameters."""
    return f"{datasette.urls.database(DATABASE)}/{name}{fmt}?{urlencode(params, safe=',')}"


async def search_territories(datasette, query: str, limit: int, niveau: str = "", offset: int = 0) -> list[dict]:
    """Territories matching a free-text query, best first (the site search and the comparison selector),
    of one level when `niveau` is given."""
    expression = match_expression(query)
    if expression is None:
        return []
    match, nom, code = expression
    results = await datasette.get_database(DATABASE).execute(SEARCH_SQL, {
        "match": match, "nom": nom, "code": code, "niveau": niveau or "", "limit": limit, "offset": offset})
    return dicts(results)


async def count_territories(datasette, query: str) -> dict[str, int]:
    """How many territories of each level match a free-text query."""
    expression = match_expression(query)
    if expression is None:
        return {}
    results = await datasette.get_database(DATABASE).execute(COUNT_SQL, {"match": expression[0]})
    return {kind: count for kind, count in results.rows}


def bars(rows, label_key="nom", url=lambda row: None, value_key="population", limit=None):
    """Rows for a horizontal bar chart in pure HTML: value and width in % of the largest."""
    kept = [r for r in rows if r.get(value_key)]
    if limit:
        kept = sorted(kept, key=lambda r: -r[value_key])[:limit]
    biggest = max((r[value_key] for r in kept), default=0) or 1
    return [
        {"nom": r[label_key], "url": url(r), "population": r[value_key],
         "pourcentage": round(100 * r[value_key] / biggest, 1)}
        for r in kept
    ]
