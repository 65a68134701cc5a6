"""The served database: its name, its rows as dicts, its canned queries and their addresses."""

from urllib.parse import urlencode

DATABASE = "oc"  # the name under which Datasette serves oc.db
PLUGIN_CONFIG = "open-collectivites"  # the site's own settings under `plugins:` in metadata.yml


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


def export_url(datasette, name: str, fmt: str = ".csv", **params) -> str:
    """URL of the complete export of a canned query (every row, streamed: oc_site/http/exports.py)."""
    return query_url(datasette, name, fmt, **params, _stream="on")
