"""Complete exports: every row of a table, a view or a canned query as CSV or JSON, streamed — or a failure
that nobody can take for a whole file.

Which requests: `/<base>/<table, view or canned query>.csv` and `.json` with `_stream=on` (the option of
Datasette's CSV export that asks for every row; the site's download links and the theme's CSV link carry
it). A `.csv` without it is redirected there (302) unless it asks for one page (`_next`, or a number of
rows as `_size`): someone who downloads a CSV expects every row, not the 50 of a page nor the 5 000 of
max_returned_rows. Anything else goes on to Datasette, and so do the requests this layer does not answer
(an unknown name, a write query, a database in memory, what the anonymous visitor may not see).

How: one statement (datasette_pages/export_sql.py) on a read-only connection of the export's own, read
in batches of a few hundred rows by a small pool of threads (EXPORT_THREADS) and sent as they come. No
page boundary, so no row twice and none lost whatever the sort; Datasette's SQL threads stay free for the
pages; a client that reads slowly holds no thread, only its connection. Each batch has the site's time
limit (sql_time_limit_ms) to be read: the statement as a whole may last longer as long as rows keep
coming (a batch takes a few milliseconds). Cells are neutralised for spreadsheets as they are written
(csv_safety.neutralise; the header ALREADY_NEUTRALISED tells the CsvSafety layer so); numbers are written
as Python's repr writes them (csv and json modules): the shortest text that reads back as the stored
number, so no digit is added to what is stored. The body is gzip-compressed in the same threads when the
client accepts it (the compression layer passes a body already encoded as it is): the event loop, which
serves every other request, neither writes nor compresses the 10 Mo of a large export.

Failure: an error before the first row is an ordinary HTTP 400 with its French message. Once rows are
sent the status (200) cannot change: a failure then ends the body with a line that no reader takes for
data — in a CSV an opening quote that never closes (pandas: « EOF inside string », Python's csv in
strict mode: « unexpected end of data »), in JSON a text that is not JSON — and the response is aborted:
ExportInterrupted reaches the server, which closes the connection without the last chunk of the chunked
encoding (curl, browsers and HTTP libraries report an incomplete transfer). A client that leaves stops
the export before its next batch.
"""

import asyncio
import csv
import io
import json
import re
import sqlite3
import sys
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from time import perf_counter

from datasette.utils import CustomJSONEncoder, tilde_decode
from datasette.utils.asgi import BadRequest, Request
from datasette.views.base import DatasetteError

from oc_site.datasette_pages import export_sql
from oc_site.datasette_pages import client_errors
from oc_site.datasette_pages.client_errors import TIMEOUT
from oc_site.datasette_pages.sqlite_limits import french_message
from oc_site.http.csv_safety import ALREADY_NEUTRALISED, neutralise

EXPORT_PATH = re.compile(r"^/(?P<database>[^/.]+)/(?P<name>[^/.]+)\.(?P<format>csv|json)$")
EXPORT_THREADS = 2  # exports read at most two batches at once, whatever their number
CELLS_PER_BATCH = 20_000  # a batch of rows: about 5 ms of SQLite and as much of writing on this machine
# The first batch is smaller: an export's first bytes come sooner, and many exports started at once (16 clients
# that come back together) cost a few ms each instead of 20: with full first batches, the ordinary pages' p99
# under 16 abandoned streams was 1.3 s, with 200 rows 0.22 s. 200 rows hold a département's communes in most
# départements: such an export is whole in its first batch and never waits for a long export's place (queues.py).
FIRST_BATCH_ROWS = 200
EXECUTOR = ThreadPoolExecutor(EXPORT_THREADS, thread_name_prefix="oc-export")
# gzip level of the exports: the CSV of communes (11.5 Mo) gives 4.05 Mo in 0.20 s of processor at level 3,
# 3.69 Mo in 0.45 s at level 6 (the pages' level, compression.py): a tenth more bytes for half the time
GZIP_LEVEL = 3
INTERRUPTED = ("ERREUR : export interrompu après {rows} lignes ({reason}). Ce fichier est incomplet ; "
               "téléchargez-le de nouveau.")


class ExportInterrupted(Exception):
    """An export that failed after its first rows: raised once the failure line is sent, so that the
    server aborts the response instead of ending it cleanly."""


def asks_for_a_page(request) -> bool:
    """A CSV address that asks for one page of rows (Datasette's `_next`, or a number as `_size`)."""
    return "_next" in request.args or request.args.get("_size") not in (None, "", "max")


def sql_error_message(datasette, error: Exception) -> str:
    if isinstance(error, sqlite3.OperationalError) and str(error) == "interrupted":
        return TIMEOUT.format(datasette.setting("sql_time_limit_ms"))
    return french_message(error) or f"Erreur SQL : {error}"


class Reader:
    """A statement read in batches on a read-only connection of its own; every method but `__init__`
    runs in an export thread (`run`). The connection is closed only once no batch is being read (an
    export cancelled while a thread reads its batch)."""

    def __init__(self, datasette, db):
        self.datasette, self.db = datasette, db
        self.time_limit = datasette.setting("sql_time_limit_ms") / 1000
        self.conn = self.cursor = None
        self.busy = threading.Lock()

    def connect(self):
        mode = "mode=ro" if self.db.is_mutable else "immutable=1"
        self.conn = sqlite3.connect(f"file:{self.db.path}?{mode}", uri=True, check_same_thread=False)
        self.datasette._prepare_connection(self.conn, self.db.name)  # the site's SQLite limits and functions
        self.conn.row_factory = None  # plain tuples, without sqlite_limits' budget of text: exports read whole tables

    def timed(self, work):
        with self.busy:
            deadline = perf_counter() + self.time_limit
            self.conn.set_progress_handler(lambda: perf_counter() > deadline, 1000)
            try:
                return work()
            finally:
                self.conn.set_progress_handler(None, 1000)

    def execute(self, sql: str, params: dict) -> list[str]:
        self.cursor = self.timed(lambda: self.conn.execute(sql, params))
        return [d[0] for d in self.cursor.description]

    def fetch(self, size: int) -> list[tuple]:
        return self.timed(lambda: self.cursor.fetchmany(size))

    def close(self):
        with self.busy:
            if self.conn is not None:
                self.conn.close()


async def run(function, *args):
    return await asyncio.get_running_loop().run_in_executor(EXECUTOR, partial(function, *args))


class CsvFormat:
    """Rows as CSV records, as Datasette writes them (csv module, CRLF), cells neutralised."""

    def __init__(self, request, export: export_sql.ExportQuery, blob_url):
        self.header = request.args.get("_header") != "off"
        self.download = bool(request.args.get("_dl"))
        self.filename = f"{export.name}.csv"
        self.blob_url = blob_url
        self.columns = []

    @property
    def content_type(self) -> bytes:
        return b"text/csv; charset=utf-8" if self.download else b"text/plain; charset=utf-8"

    def start(self, columns: list[str]) -> str:
        self.columns = columns
        return self.write([columns]) if self.header else ""

    def write(self, rows) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        for row in rows:
            cells = [neutralise(v) if v.__class__ is str else v for v in row]
            if bytes in map(type, row):
                cells = [self.blob_url(self.columns, row, c, v) if v.__class__ is bytes else v
                         for c, v in zip(self.columns, cells)]
            writer.writerow(cells)
        return out.getvalue()

    def end(self) -> str:
        return ""

    @staticmethod
    def failure(message: str) -> str:
        return '"' + message.replace('"', "'")  # a quoted field that never closes


class JsonFormat:
    """Rows as a JSON array of objects (Datasette's `_shape=array`), or one object per line (`_nl=on`);
    a foreign key with its label is `{"value": …, "label": …}`, as in Datasette's JSON with `_labels=on`."""

    def __init__(self, request, export: export_sql.ExportQuery, blob_url):
        self.lines = bool(request.args.get("_nl"))
        self.download = bool(request.args.get("_dl"))
        self.filename = f"{export.name}.json"
        self.labelled = export.labelled
        self.columns, self.first = [], True

    content_type = b"application/json; charset=utf-8"

    def start(self, columns: list[str]) -> str:
        self.columns = columns
        return "" if self.lines else "["

    def objects(self, rows) -> list[dict]:
        if not self.labelled:
            return [dict(zip(self.columns, row)) for row in rows]
        objects = []
        for row in rows:
            item, values = {}, iter(zip(self.columns, row))
            for column, value in values:
                if column in self.labelled:
                    label = next(values)[1]
                    value = {"value": value, "label": label} if value is not None and label is not None else value
                item[column] = value
            objects.append(item)
        return objects

    @staticmethod
    def dumps(value) -> str:
        try:
            return json.dumps(value, cls=CustomJSONEncoder, ensure_ascii=False, allow_nan=False)
        except ValueError:  # an infinite or NaN number: null, as Datasette writes it
            return json.dumps(json.loads(json.dumps(value, cls=CustomJSONEncoder),
                                         parse_constant=lambda constant: None), ensure_ascii=False)

    def write(self, rows) -> str:
        if not rows:
            return ""
        texts = [self.dumps(item) for item in self.objects(rows)]
        if self.lines:
            return "\n".join(texts) + "\n"
        text = ("\n" if self.first else ",\n") + ",\n".join(texts)
        self.first = False
        return text

    def end(self) -> str:
        return "" if self.lines else "\n]\n"

    @staticmethod
    def failure(message: str) -> str:
        return "\n" + message  # not JSON: the array stays open, the line is no JSON value


FORMATS = {"csv": CsvFormat, "json": JsonFormat}


class Body:
    """The text of a response as bytes, gzip-compressed (GZIP_LEVEL) when the client accepts it; each part is
    flushed, so that the client can read every row received so far."""

    def __init__(self, scope):
        accepted = dict(scope.get("headers", [])).get(b"accept-encoding", b"")
        self.compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31) if b"gzip" in accepted else None

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")] if self.compressor else []

    def encode(self, text: str, last: bool = False) -> bytes:
        data = text.encode()
        if self.compressor is None:
            return data
        return self.compressor.compress(data) + self.compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


async def watch_disconnection(receive, gone: asyncio.Event):
    """Sets `gone` when the client leaves (an ASGI server says so by http.disconnect)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


async def redirect_to_export(request, send):
    """302 to the same address with `_stream=on`: the complete export."""
    query = request.query_string
    location = request.path + "?" + (query + "&" if query else "") + "_stream=on"
    await send({"type": "http.response.start", "status": 302, "headers": [
        (b"location", location.encode("latin-1")), (b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": b""})


async def send_error(datasette, scope, send, status: int, message: str):
    """An export refused before its first row: the site's error page, as Datasette's own pages give it (JSON for
    a .json address, the French HTML page for a .csv one)."""
    await client_errors.send_error_page(datasette, scope, send, status, message)


class Exports:
    """The layer: complete exports (see the module), everything else to `app`."""

    def __init__(self, app, datasette, lanes=None):
        self.app = app
        self.datasette = datasette
        self.lanes = lanes  # queues.Lanes: past its first batch, an export waits for a place in "flux_longs"

    def match(self, scope):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return None
        path, base = scope["path"], self.datasette.setting("base_url")
        if base != "/" and path.startswith(base):
            path = "/" + path[len(base):]
        return EXPORT_PATH.match(path)

    async def __call__(self, scope, receive, send):
        match = self.match(scope)
        if match is None:
            return await self.app(scope, receive, send)
        request = Request(scope, receive)
        streamed = bool(request.args.get("_stream"))
        if not streamed and (match["format"] == "json" or asks_for_a_page(request)):
            return await self.app(scope, receive, send)
        try:
            db = self.datasette.get_database(route=tilde_decode(match["database"]))
        except KeyError:
            db = None
        if db is None or db.is_memory or not db.path:
            return await self.app(scope, receive, send)
        reader = Reader(self.datasette, db)
        try:
            if "_timelimit" in request.args and not request.args["_timelimit"].strip().isdigit():
                raise export_sql.ExportRequestError(client_errors.TIME_LIMIT)
            export = await self.prepare(request, db, tilde_decode(match["name"]), reader)
            if export is None:
                return await self.app(scope, receive, send)
            if not streamed:
                return await redirect_to_export(request, send)
            await self.stream(request, send, receive, match["format"], export, reader)
        except export_sql.ExportRequestError as error:
            await send_error(self.datasette, scope, send, 400, str(error))
        except (DatasetteError, BadRequest) as error:  # raised by Datasette's filters (_search_col, _where…)
            client_error = client_errors.as_client_error(self.datasette, error, request) or error
            await send_error(self.datasette, scope, send, getattr(client_error, "status", 400),
                             getattr(client_error, "message", str(client_error)))
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as error:
            # a malformed parameter that Datasette's filters trip on (_through=[, population__in=[…):
            # the 400 Datasette's pages give it (datasette_pages/client_errors.py), never a traceback
            client_error = client_errors.as_client_error(self.datasette, error, request)
            if client_error is None:
                raise
            await send_error(self.datasette, scope, send, client_error.status, client_error.message)
        finally:
            await run(reader.close)

    async def prepare(self, request, db, name: str, reader: Reader) -> export_sql.ExportQuery | None:
        """The statement of the export, or None when Datasette should answer (unknown name, write query,
        not visible to anyone)."""
        canned = await self.datasette.get_canned_query(db.name, name, None)
        if canned is not None:
            if canned.get("write") or not await self.visible(("view-query", (db.name, name)), db.name):
                return None
            return await export_sql.canned_query(self.datasette, request, db.name, name, canned)
        await run(reader.connect)
        relation = await run(export_sql.describe, reader.conn, name)
        if relation is None or not await self.visible(("view-table", (db.name, name)), db.name):
            return None
        return await export_sql.table_query(self.datasette, request, db.name, relation)

    async def visible(self, permission, database: str) -> bool:
        visible, _ = await self.datasette.check_visibility(
            None, permissions=[permission, ("view-database", database), "view-instance"])
        return visible

    async def stream(self, request, send, receive, fmt: str, export: export_sql.ExportQuery, reader: Reader):
        blob_url = partial(export_sql.blob_url, self.datasette, request, export)
        out, body = FORMATS[fmt](request, export, blob_url), Body(request.scope)
        headers = [(b"content-type", out.content_type), *body.headers]
        if fmt == "csv":
            headers.append((ALREADY_NEUTRALISED, b"1"))
        if out.download:
            headers.append((b"content-disposition", f'attachment; filename="{out.filename}"'.encode()))
        if request.method == "HEAD":
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        try:
            rows, data, size, more = await run(self.first_batch, reader, export, out, body)
        except (sqlite3.Error, MemoryError) as error:
            return await send_error(self.datasette, request.scope, send, 400,
                                    sql_error_message(self.datasette, error))
        gone = asyncio.Event()
        watcher = asyncio.ensure_future(watch_disconnection(receive, gone))
        long_places = self.lanes.places("flux_longs") if self.lanes is not None else None
        going_on = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": data, "more_body": True})
            sent = len(rows)
            if more and long_places is not None:
                # more than a batch: long exports go on one at a time (queues.py, LONG_STREAMS_AT_ONCE); a
                # client that leaves while waiting cancels this request (queues.serve_while_connected)
                await long_places.acquire()
                going_on = True
            while more and not gone.is_set():
                started = perf_counter()
                try:
                    rows, data = await run(self.next_batch, reader, out, body, size)
                except (sqlite3.Error, MemoryError) as error:
                    return await self.fail(send, out, body, sent, sql_error_message(self.datasette, error))
                sent += len(rows)
                more = len(rows) == size
                await send({"type": "http.response.body", "body": data, "more_body": True})
                if self.lanes is not None and self.lanes.busy("pages", "requetes"):
                    # pages first: while one is being worked on, a long export pauses as long as its batch took
                    # (Python runs one thread at a time: its writing slowed the pages twice over)
                    await asyncio.sleep(perf_counter() - started)
            await send({"type": "http.response.body", "body": body.encode(out.end(), last=True)})
        finally:
            watcher.cancel()
            if going_on:
                long_places.release()

    @staticmethod
    def first_batch(reader: Reader, export: export_sql.ExportQuery, out, body: Body):
        """The statement started and its first batch written (in an export thread): rows, bytes, batch size."""
        if reader.conn is None:
            reader.connect()
        columns = reader.execute(export.sql, export.params)
        size = max(100, CELLS_PER_BATCH // max(1, len(columns)))
        first = min(size, FIRST_BATCH_ROWS)
        rows = reader.fetch(first)
        return rows, body.encode(out.start(columns) + out.write(rows)), size, len(rows) == first

    @staticmethod
    def next_batch(reader: Reader, out, body: Body, size: int):
        rows = reader.fetch(size)
        return rows, body.encode(out.write(rows))

    async def fail(self, send, out, body: Body, sent: int, reason: str):
        message = INTERRUPTED.format(rows=f"{sent:,}".replace(",", "\u202f"), reason=reason.rstrip("."))
        sys.stderr.write(f"Export interrompu : {message}\n")
        await send({"type": "http.response.body", "body": body.encode(out.failure(message)), "more_body": True})
        raise ExportInterrupted(message)
