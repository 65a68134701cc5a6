"""Lanes in front of Datasette: each request waits its turn in the lane of what it will run, a few at a time,
and nobody works for a client who has left.

Datasette serves every request in one event loop. Under load (64 connections), all of them progress
together and every step of a page waits behind the steps of all the others: a page that runs fifteen
SQL queries (a table page) waits fifteen times, a page that runs one waits once. The slowest requests
took three times the median (64 connections on the page mix: median 0.6 s, p99 1.9 s).

Taken in their order of arrival, a few at a time, the same requests are served at the same rate (the
processor does the same work) and each one waits for the requests ahead of it, whatever page it asks
for: the slowest ones come close to the median (p99 0.8 s; README, « Passage à l'échelle », paragraph
« Files d'attente »; `make bench` measures it, « Mesures : `make bench` »). It is what a
server with a pool of workers and a queue does (gunicorn, uWSGI); asyncio.Semaphore wakes its waiters
in their order of arrival.

A lane is chosen by what the request will run (`lane`), never by the name of the page alone: the red team
got runaway SQL past every queue by adding `&_stream=1`, and into the pages' lane as `_where`.
- "sql": SQL written by the visitor — `sql=` (whatever the format or `_stream`), `_where=` (a WHERE clause
  Datasette runs as it is), `_searchmode=raw` (the full-text query language). A query can run for
  sql_time_limit_ms (3 s): however many arrive, they hold at most SQL_AT_ONCE of Datasette's SQL threads
  (num_sql_threads) and never make the pages wait for their turn;
- "flux" (streams): `_stream` — every row of a table, view or canned query (http/exports.py), for as long
  as the client reads: STREAMS_AT_ONCE open at a time, and past their first batch LONG_STREAMS_AT_ONCE
  going on ("flux_longs", taken by exports.py);
- "requetes": the site's SQL shaped by the visitor's parameters — canned queries (their parameters are
  bounded by request_limits.py: contours_communes of a whole région takes 0.6 s) and facets;
- "pages" (fiches, search, comparison, Datasette's tables and rows…): PAGES_AT_ONCE at a time;
- files (static files, versioned assets, the database download): no queue. They are quick, or long but
  spent sending bytes, and must not hold a page's place for minutes.
Every request, queued or not, is dropped when its client leaves: while it waits (its turn goes to the next
one) and while it runs (a stream of 35,000 rows, or the database download, stops there). A server does not
tell an application that sends to a closed connection; eight clients that read a CSV stream for 20 s then
left kept two cores busy for ten minutes. The body of a request is read whole before (request_limits.py),
so what comes after it on the connection can only be its end.

An `If-None-Match` that matches is answered before the queues (cache_headers.py is outside this
layer). A request the site makes to itself while it holds a place (datasette.client) does not queue
again. The places are shared by every app of one Datasette (`Lanes`, given by stack.py), never by two.
"""

import asyncio
import contextlib
import contextvars
from urllib.parse import parse_qsl

from oc_site.http.per_loop import PerLoop
from oc_site.datasette_pages.canned_queries import canned_query

# Enough to keep the event loop and Datasette's SQL threads busy while one request waits for another;
# more only shares the processor between more requests. Measured (64 connections, 20 s, page mix):
# 2, 4, 8 and 16 at once all serve 94–104 req/s, p99 0.81 s, 0.81 s, 1.0 s and 0.98 s; no queue 1.9 s.
PAGES_AT_ONCE = 4
QUERIES_AT_ONCE = 2
# One visitor query and one stream at a time leave a core to the pages (2 cores): measured under 16 attacking
# connections, 2 at once gave the ordinary pages a p99 of 0.8-0.9 s (SQL) and 1.0 s (streams), 1 at once
# 0.6-0.7 s and 0.4 s (calm: 0.3-0.4 s on the same busy machine).
SQL_AT_ONCE = 1
# A stream is a complete export (http/exports.py): its processor is bounded there (EXPORT_THREADS batches at
# once, whatever the number of exports), and a client that reads slowly holds its export without using any.
# So the lane bounds memory (an open export is a connection and a statement), not work: with one place, 16
# slow clients that left after 2 s kept a small export of the ordinary pages (/oc/communes.csv?departement=2A)
# waiting 2 s (p99 of the ordinary pages 2.0 s); with 32, it takes its turn among their batches.
STREAMS_AT_ONCE = 32
# ... and past its first batch, one export at a time goes on (exports.py): a small export (a département's
# communes) is whole in its first batch and never waits behind a long one; long ones take turns.
LONG_STREAMS_AT_ONCE = 1
LANES = {"pages": PAGES_AT_ONCE, "requetes": QUERIES_AT_ONCE, "sql": SQL_AT_ONCE, "flux": STREAMS_AT_ONCE,
         "flux_longs": LONG_STREAMS_AT_ONCE}
FILE_PREFIXES = ("/-/static/", "/-/static-plugins/", "/-/v/", "/static/")
VISITOR_SQL = ("sql", "_where")  # parameters whose value Datasette runs as SQL

holding_a_place = contextvars.ContextVar("oc_holding_a_place", default=False)


def lane(scope) -> str | None:
    """The lane of what a request will run: "sql", "flux", "requetes", "pages", or None (files: no queue)."""
    if scope["type"] != "http":
        return None
    path = scope.get("path", "")
    if path.startswith(FILE_PREFIXES) or path.endswith(".db"):
        return None
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if any(name in VISITOR_SQL or (name == "_searchmode" and value == "raw") for name, value in pairs):
        return "sql"
    if any(name == "_stream" and value for name, value in pairs):
        return "flux"
    if canned_query(path) is not None or any(name.startswith("_facet") for name, _ in pairs):
        return "requetes"
    return "pages"


class Connection:
    """A request's connection as the app sees it: the messages of its body, then its end (`gone`), which is
    watched from the moment the body is read."""

    def __init__(self, receive):
        self.original = receive
        self.read: list[dict] = []
        self.gone: asyncio.Future | None = None

    async def open(self) -> bool:
        """Read the body (bounded by request_limits.py), then watch for the end; False if the client left."""
        while True:
            message = await self.original()
            if message["type"] != "http.request":
                return False
            self.read.append(message)
            if not message.get("more_body", False):
                break
        self.gone = asyncio.ensure_future(self.end())
        return True

    async def end(self) -> dict:
        """The next message: the end of the connection (or of the answer). Anything else is not the client
        leaving: watched no further."""
        message = await self.original()
        if message["type"] != "http.disconnect":
            await asyncio.get_running_loop().create_future()  # never done
        return message

    async def receive(self):
        if self.read:
            return self.read.pop(0)
        return await asyncio.shield(self.gone)

    def close(self):
        if self.gone is not None and not self.gone.done():
            self.gone.cancel()


async def wait_for_place(slots: asyncio.Semaphore, connection: Connection) -> bool:
    """A place in `slots`, in order of arrival; False when the client leaves first. A request abandoned in
    the queue (a visitor who reloads, a load test that stops) is not worked on when its turn comes: the
    requests behind it do not wait for an answer nobody reads."""
    if not slots.locked():  # a free place and nobody waiting before
        await slots.acquire()
        return True
    place = asyncio.ensure_future(slots.acquire())
    await asyncio.wait({connection.gone, place}, return_when=asyncio.FIRST_COMPLETED)
    if place.done():
        return True
    place.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await place
    if not place.cancelled():  # obtained at the same moment: given back
        slots.release()
    return False


async def serve_while_connected(app, scope, connection: Connection, send):
    """`app` on the request; cancelled if the client leaves before the whole answer is sent."""
    answered = False

    async def tracking_send(message):
        nonlocal answered
        await send(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            answered = True

    work = asyncio.ensure_future(app(scope, connection.receive, tracking_send))
    try:
        await asyncio.wait({work, connection.gone}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the server stops
        work.cancel()
        raise
    if work.done() or answered:
        return await work
    work.cancel()  # nobody is reading: stop (the SQL query under way ends by itself, within its time limit)
    with contextlib.suppress(asyncio.CancelledError):
        await work


class Lanes:
    """The places of the lanes, one set per event loop. Shared by every app of one Datasette (the server's
    and datasette.client's), so that the site's own requests (the warm-up of page_cache.py) take their
    turn with the visitors'."""

    def __init__(self, at_once: dict[str, int] | None = None):
        self.sizes = sizes = {**LANES, **(at_once or {})}
        self.per_loop = PerLoop(lambda: {name: asyncio.Semaphore(size) for name, size in sizes.items()})

    def places(self, name: str) -> asyncio.Semaphore:
        return self.per_loop.get()[name]

    def busy(self, *names: str) -> bool:
        """Whether a request is being worked on in one of these lanes (a place of theirs is taken)."""
        lanes = self.per_loop.get()
        return any(lanes[name]._value < self.sizes[name] for name in names)  # asyncio.Semaphore's count


class Queues:
    """The layer: each request waits for a place in its lane (`lane`) before `app` works on it, and is
    dropped when its client leaves. Inside the layers that answer by themselves (304) or only add headers."""

    def __init__(self, app, lanes: Lanes):
        self.app = app
        self.lanes = lanes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or holding_a_place.get():
            return await self.app(scope, receive, send)
        connection = Connection(receive)
        try:
            if not await connection.open():
                return  # the client left before its request was whole
            name = lane(scope)
            if name is None:
                return await serve_while_connected(self.app, scope, connection, send)
            slots = self.lanes.places(name)
            if not await wait_for_place(slots, connection):
                return  # the client left while waiting: its place goes to the next one
            token = holding_a_place.set(True)
            try:
                return await serve_while_connected(self.app, scope, connection, send)
            finally:
                holding_a_place.reset(token)
                slots.release()
        finally:
            connection.close()
