"""The served database: its name, its rows as dicts, its canned queries and their addresses."""

import sqlite3
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode

from datasette.tracer import get_task_id, trace, trace_task_id
from datasette.utils import sqlite_timelimit

DATABASE = "oc"  # the name under which Datasette serves oc.db
NOT_LOADED = ("no such table:", "no such column:")  # SQLite's words for a table or column this database lacks
PLUGIN_CONFIG = "open-collectivites"  # the site's own settings under `plugins:` in metadata.yml


def dicts(results) -> list[dict]:
    """The rows of a Datasette query result as dicts."""
    return [dict(zip(results.columns, row)) for row in results.rows]


async def canned(datasette, name: str, **params) -> tuple[list[dict], list[str]]:
    """Rows (as dicts) and columns of a canned query of the oc database."""
    query = await datasette.get_canned_query(DATABASE, name, None)
    results = await datasette.get_database(DATABASE).execute(query["sql"], params)
    return dicts(results), list(results.columns)


@dataclass(frozen=True)
class Canned:
    """A canned query of the oc database and its parameters, for `together`."""

    name: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Sql:
    """A query of the site's own (not a canned query) and its parameters, for `together`."""

    sql: str
    params: dict = field(default_factory=dict)


async def together(datasette, jobs: dict[str, "Canned | Sql | Callable"]) -> dict:
    """Several reads of the oc database in one trip to one of Datasette's SQL threads: canned queries and
    queries of the site (their rows as dicts), functions of the connection (their result), by key. A page
    that runs a dozen queries
    (a fiche) waits for the thread pool once instead of a dozen times. Each query is traced as
    Datasette traces its own (the bench replays them), and all are bounded by the SQL time limit.

    A canned query that names a value table or column this database does not have (a build without a
    producer's file: the DGCL's criteria give dgcl_criteres_communes) gives no rows: those data are not
    in this database, and the page says so where it would show them."""
    statements = {key: ((await datasette.get_canned_query(DATABASE, job.name, None))["sql"], job.params)
                  for key, job in jobs.items() if isinstance(job, Canned)}
    statements.update({key: (job.sql, job.params) for key, job in jobs.items() if isinstance(job, Sql)})
    task = get_task_id()  # the tracer of the request, seen from the SQL thread
    limit = datasette.setting("sql_time_limit_ms")

    def run(conn):
        token = trace_task_id.set(task)
        results = {}
        try:
            with sqlite_timelimit(conn, limit):
                for key, job in jobs.items():
                    if key not in statements:
                        results[key] = job(conn)
                        continue
                    sql, params = statements[key]
                    with trace("sql", database=DATABASE, sql=sql.strip(), params=params):
                        try:
                            cursor = conn.execute(sql, params)
                        except sqlite3.OperationalError as e:
                            if not str(e).startswith(NOT_LOADED):
                                raise
                            results[key] = []
                            continue
                        columns = [d[0] for d in cursor.description]
                        results[key] = [dict(zip(columns, row)) for row in cursor.fetchall()]
        finally:
            trace_task_id.reset(token)
        return results

    return await datasette.get_database(DATABASE).execute_fn(run)


def query_url(datasette, name: str, fmt: str = "", **params) -> str:
    """URL of a canned query (or of its `.csv`/`.json` export with `fmt`) with its parameters."""
    return f"{datasette.urls.database(DATABASE)}/{name}{fmt}?{urlencode(params, safe=',')}"


def export_url(datasette, name: str, fmt: str = ".csv", **params) -> str:
    """URL of the complete export of a canned query (every row, streamed: oc_site/http/exports.py)."""
    return query_url(datasette, name, fmt, **params, _stream="on")
