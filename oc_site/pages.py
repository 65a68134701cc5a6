"""Pure helpers shared by the site's page plugins (plugins/*.py cannot import one another)."""

import os
from urllib.parse import urlencode, urlsplit

from .search import COUNT_SQL, SEARCH_SQL, match_expression

DATABASE = "oc"  # the name under which Datasette serves oc.db
PLUGIN_CONFIG = "open-collectivites"  # the site's own settings under `plugins:` in metadata.yml
PUBLIC_URL_ENV = "OC_URL_PUBLIQUE"


def web_url(value) -> str | None:
    """`value` if it is an absolute http(s) address, else None (javascript:, data:, relative…)."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def public_url(datasette) -> str:
    """The site's public address (https://…, no trailing slash) for the absolute links of Atom feeds
    and cached pages: configured (OC_URL_PUBLIQUE, else `url_publique` in metadata.yml), never taken
    from a request's Host header, which any client can set."""
    url = os.environ.get(PUBLIC_URL_ENV) or (datasette.plugin_config(PLUGIN_CONFIG) or {}).get("url_publique")
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"adresse publique du site absente ou invalide ({PUBLIC_URL_ENV} ou "
                         f"plugins: {PLUGIN_CONFIG}: url_publique dans metadata.yml) : {url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


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
