"""Complete exports (plugins/oc_site/http/exports.py, datasette_pages/export_sql.py): every row once whatever the
sort, canned queries past max_returned_rows, CSV and JSON, numbers as stored, and a failure mid-stream that no
client can take for a whole file (through the real server)."""

import asyncio
import csv
import io
import json
import sqlite3

import httpx
import pytest
from datasette.app import Datasette

from bench.harness import Server
from bench.site import make_datasette
from conftest import release
from oc_site.http.exports import CELLS_PER_BATCH, FIRST_BATCH_ROWS, Exports


@pytest.fixture
def datasette_of():
    """Datasette instances of the test (the site's, or a bare one on any database), closed after it."""
    made = []

    def make(path, site=False, **settings):
        made.append(make_datasette(path, **settings) if site else Datasette([], immutables=[str(path)]))
        return made[-1]

    yield make
    for ds in made:
        release(ds)


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


@pytest.fixture
def ties(tmp_path, datasette_of):
    """The minimal case of Datasette's pagination among ties: six towns, four of them with 4 inhabitants,
    sorted by population (indexed) in pages of three."""
    path = tmp_path / "egalites.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE ville (code TEXT PRIMARY KEY, population INTEGER)")
        conn.execute("CREATE INDEX idx_ville_population ON ville(population)")
        conn.executemany("INSERT INTO ville VALUES (?, ?)",
                         [("a", 5), ("b", 4), ("c", 4), ("d", 4), ("e", 4), ("f", 3)])
    return datasette_of(path)


async def test_datasette_pages_repeat_and_lose_rows_among_ties(ties):
    """Why exports do not page: Datasette 0.65.5 sorts its first page on the population alone (the index,
    read backwards: e, d, c, b) and the next ones on the population then the code (b, c, d, e)."""
    seen, url = [], "/egalites/ville.json?_sort_desc=population&_size=3&_shape=objects"
    while url:
        page = (await ties.client.get(url)).json()
        seen += [row["code"] for row in page["rows"]]
        url = page["next_url"] and page["next_url"].replace("http://localhost", "")
    assert seen == ["a", "e", "d", "e", "f"]  # e twice, b and c never


async def test_an_export_has_every_row_once_in_the_order_of_the_page(ties):
    for path in ("/egalites/ville.csv?_stream=on&_sort_desc=population&_size=3",
                 "/egalites/ville.csv?_stream=on&_size=max&_sort_desc=population&_labels=on"):
        response = await ties.client.get(path)
        assert response.status_code == 200
        assert rows_of(response.text) == [["code", "population"], ["a", "5"], ["b", "4"], ["c", "4"], ["d", "4"],
                                          ["e", "4"], ["f", "3"]]
    response = await ties.client.get("/egalites/ville.json?_stream=on&_sort=population")
    assert [row["code"] for row in response.json()] == ["f", "b", "c", "d", "e", "a"]


async def test_a_csv_that_asks_for_no_page_goes_to_the_complete_export(ties):
    for path in ("/egalites/ville.csv", "/egalites/ville.csv?_size=max&_labels=on"):
        response = await ties.client.get(path)
        assert response.status_code == 302
        assert response.headers["location"] == path + ("&" if "?" in path else "?") + "_stream=on"
    page = await ties.client.get("/egalites/ville.csv?_size=2")  # a page asked for: Datasette's page
    assert page.status_code == 200 and len(rows_of(page.text)) == 3
    assert (await ties.client.get("/egalites/ville.json")).json()["rows"]  # JSON pages are Datasette's


async def test_a_canned_query_exports_past_max_returned_rows(fixture_db, datasette_of):
    ds = datasette_of(fixture_db, site=True, max_returned_rows=2)
    (expected,) = sqlite3.connect(fixture_db).execute("SELECT count(*) FROM communes WHERE departement = '35'").fetchone()
    assert expected > 2
    page = await ds.client.get("/oc/communes_departement.json?departement=35&_shape=array")
    assert len(page.json()) == 2  # what Datasette gives
    response = await ds.client.get("/oc/communes_departement.csv?departement=35&_stream=on")
    rows = rows_of(response.text)
    assert len(rows) == expected + 1 and len({tuple(r) for r in rows[1:]}) == expected
    as_json = (await ds.client.get("/oc/communes_departement.json?departement=35&_stream=on")).json()
    assert [str(r["code_insee"]) for r in as_json] == [r[rows[0].index("code_insee")] for r in rows[1:]]
    lines = (await ds.client.get("/oc/communes_departement.json?departement=35&_stream=on&_nl=on")).text
    assert [json.loads(line) for line in lines.splitlines()] == as_json


async def test_tables_export_what_their_page_selects(fixture_db, datasette_of):
    ds = datasette_of(fixture_db, site=True, max_returned_rows=5)
    conn = sqlite3.connect(fixture_db)
    (count,) = conn.execute("SELECT count(*) FROM communes").fetchone()
    rows = rows_of((await ds.client.get("/oc/communes.csv?_stream=on&_labels=on")).text)
    assert len(rows) == count + 1 and len({r[0] for r in rows[1:]}) == count
    assert rows[0][:5] == ["code_insee", "nom", "population", "departement", "departement_label"]
    populations = [int(r[2]) if r[2] else -1 for r in rows[1:]]
    assert populations == sorted(populations, reverse=True)  # the table's sort (metadata: sort_desc population)
    rennes = next(r for r in rows if r[0] == "35238")
    assert rennes[3:5] == ["35", "Ille-et-Vilaine"]
    filtered = rows_of((await ds.client.get("/oc/communes.csv?_stream=on&departement=35&_col=nom&_sort=nom")).text)
    expected = [list(r) for r in conn.execute(
        "SELECT code_insee, nom FROM communes WHERE departement = '35' ORDER BY nom, code_insee")]
    assert filtered == [["code_insee", "nom"], *expected]
    labelled = (await ds.client.get("/oc/communes.json?_stream=on&code_insee=35238&_labels=on")).json()
    assert labelled[0]["departement"] == {"value": "35", "label": "Ille-et-Vilaine"}
    # a view, and a table without primary key (rowid first, as in Datasette's CSV)
    view = rows_of((await ds.client.get("/oc/valeurs_regions_large.csv?_stream=on")).text)
    assert len(view) == conn.execute("SELECT count(*) FROM valeurs_regions_large").fetchone()[0] + 1
    assert rows_of((await ds.client.get("/oc/empreinte_contenu.csv?_stream=on")).text)[0] == ["rowid", "empreinte"]


@pytest.mark.parametrize("path, message", [
    ("/oc/communes.csv?_stream=on&_sort=inconnue", "Impossible de trier par inconnue"),
    ("/oc/communes.csv?_stream=on&_sort=nom&_sort_desc=nom", "à la fois"),
    ("/oc/communes.json?_stream=on&_col=inconnue", "Colonnes inconnues"),
])
async def test_a_request_that_cannot_be_exported_is_a_400_in_french(fixture_ds, path, message):
    response = await fixture_ds.client.get(path)
    assert response.status_code == 400 and message in response.text


async def test_unknown_names_and_other_databases_go_to_datasette(fixture_ds):
    assert (await fixture_ds.client.get("/oc/inconnue.csv?_stream=on")).status_code == 404
    assert (await fixture_ds.client.get("/inconnue/communes.csv?_stream=on")).status_code == 404
    renamed = await fixture_ds.client.get("/oc/communes_classees_par_indicateur.csv?departement=35&indicateur=densite")
    assert renamed.status_code == 301  # an old canned query's name: the site's redirection, not an export


@pytest.fixture
def numbers_db(tmp_path):
    path = tmp_path / "nombres.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE mesure (id INTEGER PRIMARY KEY, valeur REAL, entier INTEGER, texte TEXT)")
        conn.executemany("INSERT INTO mesure VALUES (?, ?, ?, ?)", [
            (1, 705.4029, 230890, "705.4029"), (2, 0.1, -44, "-3,5"), (3, 1e-07, 0, "=1+1"), (4, 12.35, None, None),
            (5, 2e16, 2**53 + 1, "")])
    return path


async def test_numbers_are_written_as_stored(numbers_db, datasette_of):
    ds = datasette_of(numbers_db)
    text = (await ds.client.get("/nombres/mesure.csv?_stream=on")).text
    assert rows_of(text)[1:] == [["1", "705.4029", "230890", "705.4029"], ["2", "0.1", "-44", "-3,5"],
                                 ["3", "1e-07", "0", "'=1+1"], ["4", "12.35", "", ""],
                                 ["5", "2e+16", str(2**53 + 1), ""]]
    stored = [(i, v, n) for i, v, n in sqlite3.connect(numbers_db).execute("SELECT id, valeur, entier FROM mesure")]
    as_json = (await ds.client.get("/nombres/mesure.json?_stream=on")).json()
    assert [(r["id"], r["valeur"], r["entier"]) for r in as_json] == stored
    raw = (await ds.client.get("/nombres/mesure.json?_stream=on")).text
    assert '"valeur": 705.4029,' in raw and "705.40290" not in raw and '"entier": 9007199254740993' in raw


async def test_an_export_stops_when_the_client_leaves(tmp_path, datasette_of):
    path = tmp_path / "long.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE n (i INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO n WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 200000) "
                     "SELECT i FROM c")
    ds = datasette_of(path)
    messages, first_body = [], asyncio.Event()

    async def receive():
        await first_body.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        messages.append(message)
        if message["type"] == "http.response.body":
            first_body.set()
            await asyncio.sleep(0.01)

    scope = {"type": "http", "method": "GET", "path": "/long/n.csv", "raw_path": b"/long/n.csv",
             "query_string": b"_stream=on", "headers": [], "scheme": "http", "server": ("localhost", 80)}
    await Exports(None, ds)(scope, receive, send)
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    assert messages[0]["status"] == 200 and 1 <= len(bodies) < 10  # 200 000 rows are 20 batches


@pytest.fixture
def breaking_db(tmp_path):
    """30 000 rows, and two views that fail at row 25 000, past the first batches: a SQL error, and a
    query that never ends (cut by the time limit)."""
    path = tmp_path / "casse.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE nombres (n INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO nombres WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 30000) "
                     "SELECT n FROM c")
        conn.execute("CREATE VIEW erreur AS SELECT n, CASE WHEN n = 25000 THEN json('pas du json') ELSE n END AS v "
                     "FROM nombres")
        conn.execute("CREATE VIEW sans_fin AS SELECT n, CASE WHEN n = 25000 THEN (WITH RECURSIVE c(x) AS "
                     "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c) ELSE n END AS v FROM nombres")
    return path


@pytest.mark.parametrize("view, reason", [("erreur", "malformed JSON"), ("sans_fin", "trop de temps")])
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_failure_mid_stream_is_unmistakable(breaking_db, view, reason, encoding):
    with Server(breaking_db, "--setting", "sql_time_limit_ms", "1000") as server:
        received = []
        with pytest.raises(httpx.RemoteProtocolError):  # the chunked response ends without its last chunk
            with httpx.stream("GET", f"{server.url}/casse/{view}.csv?_stream=on", timeout=60,
                              headers={"Accept-Encoding": encoding}) as response:
                assert response.status_code == 200
                for chunk in response.iter_text():
                    received.append(chunk)
        text = "".join(received)
        data, failure = text.rsplit("\r\n", 1)
        # the rows of the batches before the one that fails: the first batch, then two of 10 000 (two columns)
        sent = FIRST_BATCH_ROWS + 2 * (CELLS_PER_BATCH // 2)
        assert sent < 25000 <= sent + CELLS_PER_BATCH // 2
        said = f"{sent:,}".replace(",", "\u202f")
        assert failure.startswith(f'"ERREUR : export interrompu après {said} lignes') and reason in failure
        assert rows_of(data + "\r\n")[1:] == [[str(n), str(n)] for n in range(1, sent + 1)]
        with pytest.raises(csv.Error, match="unexpected end of data"):
            rows_of(text)
        received = []
        with pytest.raises(httpx.RemoteProtocolError):
            with httpx.stream("GET", f"{server.url}/casse/{view}.json?_stream=on", timeout=60,
                              headers={"Accept-Encoding": encoding}) as response:
                for chunk in response.iter_text():
                    received.append(chunk)
        text = "".join(received)
        assert text.rsplit("\n", 1)[1].startswith(f"ERREUR : export interrompu après {said} lignes")
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        assert "ERREUR : export interrompu" in server.output()[-2000:]


async def test_a_small_export_never_waits_behind_long_ones_read_slowly(full_ds):
    """Long exports whose clients read slowly (or not at all) hold their place past the first batch; a small
    export (one batch) still comes whole at once: queues.py gives streams places for their memory, and only
    the continuation of long exports takes turns (LONG_STREAMS_AT_ONCE). With one place for all streams, a
    département's communes waited 2 s behind slow clients in `make bench`."""
    app = full_ds.app()

    def scope(query: bytes):
        return {"type": "http", "method": "GET", "path": "/oc/communes.csv", "query_string": query, "headers": [],
                "http_version": "1.1", "scheme": "http", "server": ("localhost", 80), "root_path": ""}

    never = asyncio.Event()

    async def slow_receive(messages=[{"type": "http.request", "body": b"", "more_body": False}]):
        if messages:
            return messages.pop()
        await never.wait()

    async def stuck_send(message):  # a client that stops reading after the first bytes
        if message["type"] == "http.response.body":
            await never.wait()

    slow = [asyncio.create_task(app(scope(b"_stream=on&n=%d" % n), slow_receive, stuck_send)) for n in range(4)]
    await asyncio.sleep(0.5)
    received = []

    async def send(message):
        received.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    await asyncio.wait_for(app(scope(b"departement=2A&_stream=on"), receive, send), timeout=10)
    body = b"".join(m.get("body", b"") for m in received if m["type"] == "http.response.body")
    assert received[0]["status"] == 200
    assert len(list(csv.reader(io.StringIO(body.decode())))) == 1 + 124  # every commune of Corse-du-Sud
    for task in slow:
        task.cancel()
    await asyncio.gather(*slow, return_exceptions=True)
