"""The complete exports measured (`make bench`, `scripts/bench --only-exports`): each full CSV downloaded as a
browser does (gzip), timed, read with a strict CSV reader and its rows checked against `count(*)` (every row,
none twice), calm and while runaway-SQL clients keep the visitors' SQL lane full; and the statement of each
export replayed in raw SQLite batch by batch (oc_site/datasette_pages/export_sql.py, as the server builds it),
to show that none of its batches needs more than a small fraction of the time limit.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import itertools
import sqlite3
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.harness import CROSS_JOIN, RECURSIVE_CTE, fetch
from bench.site import make_datasette

GOAL_SECONDS = 5


def targets() -> list[tuple[str, str]]:
    """(label, path): the table page's CSV link of `communes` (as the theme writes it) and each wide table."""
    from oc_site.levels import LEVELS

    return [("communes (lien CSV de la page de table)", "/oc/communes.csv?_size=max&_labels=on&_stream=on")] + [
        (spec.wide_view, f"/oc/{spec.wide_view}.csv?_stream=on") for spec in LEVELS.values()]


def download(url: str, timeout: float = 120) -> dict:
    """A complete export as a browser gets it: time, rows, distinct first column, or the error."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body, status = response.read(), response.status
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline=""), strict=True))
    except Exception as error:  # noqa: BLE001 - an incomplete transfer is what this measures
        return {"seconds": time.monotonic() - started, "error": f"{type(error).__name__}: {error}"[:200]}
    return {"seconds": time.monotonic() - started, "status": status, "bytes": len(body),
            "rows": len(rows) - 1, "distinct": len({row[0] for row in rows[1:]})}


def expected_rows(db: Path, path: str) -> int:
    table = urllib.parse.urlsplit(path).path.split("/")[-1].removesuffix(".csv")
    with sqlite3.connect(f"file:{db}?immutable=1", uri=True) as conn:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


class RunawaySql:
    """`clients` threads sending runaway SQL (bench/harness.py: a recursive CTE without end as HTML, a cross
    join as JSON) in a loop while in use; `statuses` counts their answers."""

    def __init__(self, base_url: str, clients: int):
        self.base_url, self.clients = base_url, clients
        self.stop, self.statuses, self.threads = threading.Event(), {}, []

    def attack(self, sql: str, fmt: str):
        while not self.stop.is_set():
            try:
                status = fetch(f"{self.base_url}/oc{fmt}?" + urllib.parse.urlencode({"sql": sql}), timeout=120)[0]
            except OSError as error:
                status = type(error).__name__
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    def __enter__(self):
        for i in range(self.clients):
            sql, fmt = (RECURSIVE_CTE, "") if i % 2 == 0 else (CROSS_JOIN, ".json")
            self.threads.append(threading.Thread(target=self.attack, args=(sql, fmt), daemon=True))
            self.threads[-1].start()
        time.sleep(1)  # the SQL lane and Datasette's SQL threads are full
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()


def sql_batches(db: Path, path: str) -> dict:
    """The export's statement (built as the server builds it) read in its batches with sqlite3: the first
    batch (which holds any sort), the slowest one, the whole."""
    from datasette.utils.asgi import Request

    from oc_site.datasette_pages import export_sql
    from oc_site.http.exports import CELLS_PER_BATCH

    async def statement():
        ds = make_datasette(db)
        await ds.invoke_startup()
        url = urllib.parse.urlsplit(path)
        request = Request({"type": "http", "method": "GET", "path": url.path, "raw_path": url.path.encode(),
                           "query_string": url.query.encode(), "headers": [], "scheme": "http"}, None)
        with sqlite3.connect(f"file:{db}?immutable=1", uri=True) as conn:
            relation = export_sql.describe(conn, url.path.split("/")[-1].removesuffix(".csv"))
        return await export_sql.table_query(ds, request, "oc", relation)

    query = asyncio.run(statement())
    with sqlite3.connect(f"file:{db}?immutable=1", uri=True) as conn:
        started = time.perf_counter()
        cursor = conn.execute(query.sql, query.params)
        size = max(100, CELLS_PER_BATCH // len(cursor.description))
        times = []
        for _ in itertools.count():
            before = time.perf_counter()
            rows = cursor.fetchmany(size)
            times.append(time.perf_counter() - (started if not times else before))
            if len(rows) < size:
                break
        return {"first_ms": times[0] * 1000, "slowest_ms": max(times) * 1000, "batches": len(times),
                "total_ms": (time.perf_counter() - started) * 1000}


def measure(base_url: str, db: Path, clients: int = 8) -> list[dict]:
    """Each target calm, then under `clients` runaway-SQL clients; with its expected rows and raw SQL batches."""
    results = []
    for label, path in targets():
        results.append({"label": label, "path": path, "expected": expected_rows(db, path),
                        "sql": sql_batches(db, path), "calme": download(base_url + path)})
    with RunawaySql(base_url, clients) as attack:
        for result in results:
            result["sous_attaque"] = download(base_url + result["path"])
    for result in results:
        result["attack_statuses"] = attack.statuses
        result["complete"] = all(run.get("rows") == result["expected"] == run.get("distinct")
                                 for run in (result["calme"], result["sous_attaque"]))
    return results


def cell(run: dict, expected: int) -> str:
    if "error" in run:
        return f"**échec** ({run['error']})"
    ok = run["rows"] == expected == run["distinct"]
    seconds, rows = f"{run['seconds']:.2f}".replace(".", ","), f"{run['rows']:,}".replace(",", " ")
    text = f"{seconds} s, {rows} lignes"
    return text + ("" if ok else f" (**{run['distinct']:,} distinctes sur {expected:,} attendues**)".replace(",", " "))


def report_lines(results: list[dict], clients: int, time_limit_ms: int) -> list[str]:
    statuses = ", ".join(f"{k} : {v}" for k, v in sorted(results[0]["attack_statuses"].items())) if results else ""
    lines = [
        "## Exports complets",
        "",
        "Chaque CSV complet téléchargé comme un navigateur (gzip), lu par un lecteur CSV strict, ses lignes comptées "
        "et comparées à `count(*)` de la table (toutes les lignes, aucune deux fois : la première colonne est la "
        f"clé) ; au calme, puis pendant que {clients} clients envoient sans arrêt des requêtes SQL folles "
        f"(réponses : {statuses}). Objectif : ≤ {GOAL_SECONDS} s et complet. SQLite brut : la requête de l'export "
        "telle que le serveur la construit, lue par lots comme lui ; chaque lot a "
        f"`sql_time_limit_ms` = {time_limit_ms} ms.",
        "",
        "| export | au calme | sous requêtes folles | lignes attendues | SQLite brut : 1er lot | lot le plus lent | "
        "total (lots) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        sql = r["sql"]
        expected = f"{r['expected']:,}".replace(",", " ")
        lines.append(f"| {r['label']} (`{r['path']}`) | {cell(r['calme'], r['expected'])} | "
                     f"{cell(r['sous_attaque'], r['expected'])} | {expected} | "
                     + f"{sql['first_ms']:.1f} ms | {sql['slowest_ms']:.1f} ms | "
                       f"{sql['total_ms']:.0f} ms ({sql['batches']}) |".replace(".", ","))
    worst = max((run["seconds"] for r in results for run in (r["calme"], r["sous_attaque"]) if "error" not in run),
                default=None)
    verdict = all(r["complete"] for r in results) and worst is not None and worst <= GOAL_SECONDS
    lines += ["", (f"Le plus lent : {worst:.2f} s ; " if worst is not None else "").replace(".", ",")
              + ("**objectif atteint**." if verdict else "**objectif manqué**."), ""]
    return lines
