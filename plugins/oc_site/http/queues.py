"""Queues in front of the pages: a few requests are worked on at once, the others wait their turn.

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

Three lanes:
- pages (fiches, search, Datasette's tables, rows, canned queries…): PAGES_AT_ONCE at a time;
- SQL written by the visitor (`?sql=`): SQL_AT_ONCE at a time, in their own queue. A query can run for
  sql_time_limit_ms (3 s): however many arrive, they hold at most SQL_AT_ONCE of Datasette's SQL threads
  (num_sql_threads) and never make the pages wait for their turn;
- files (static files, versioned assets, the database download, `_stream=on` CSV): no queue. They are
  quick, or long but spent sending bytes, and must not hold a page's place for minutes.
An `If-None-Match` that matches is answered before the queues (cache_headers.py is outside this
layer). A request the site makes to itself while it holds a place (datasette.client) does not queue
again. The places are shared by every app of one Datasette (`Lanes`, given by stack.py), never by two.
"""

import asyncio
import contextlib
import contextvars
from urllib.parse import parse_qsl

from oc_site.http.per_loop import PerLoop

# Enough to keep the event loop and Datasette's SQL threads busy while one request waits for another;
# more only shares the processor between more requests. Measured (64 connections, 20 s, page mix):
# 2, 4, 8 and 16 at once all serve 94–104 req/s, p99 0.81 s, 0.81 s, 1.0 s and 0.98 s; no queue 1.9 s.
PAGES_AT_ONCE = 4
SQL_AT_ONCE = 2
FILE_PREFIXES = ("/-/static/", "/-/static-plugins/", "/-/v/", "/static/")

holding_a_place = contextvars.ContextVar("oc_holding_a_place", default=False)


def lane(scope) -> str | None:
    """The queue a request waits in: "pages", "sql", or None (files: no queue)."""
    if scope["type"] != "http":
        return None
    path = scope.get("path", "")
    if path.startswith(FILE_PREFIXES) or path.endswith(".db"):
        return None
    query_string = scope.get("query_string", b"")
    if query_string:
        names = {name for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)}
        if "_stream" in names:
            return None
        if "sql" in names:
            return "sql"
    return "pages"


class Turn:
    """A place obtained in a queue, and the `receive` to give the app: the messages read while waiting,
    then the connection's own."""

    def __init__(self, receive, read=(), gone: asyncio.Future | None = None):
        self.read = list(read)
        self.gone = gone  # the connection's next message (its end), awaited while waiting
        self.original = receive

    async def receive(self):
        if self.read:
            return self.read.pop(0)
        if self.gone is not None:
            return await self.gone
        return await self.original()

    def close(self):
        if self.gone is not None and not self.gone.done():
            self.gone.cancel()


async def wait_in_line(slots: asyncio.Semaphore, scope, receive) -> Turn | None:
    """A place in `slots`, in order of arrival; None when the client leaves while waiting. A request
    abandoned in the queue (a visitor who reloads, a load test that stops) is not worked on when its
    turn comes: the requests behind it do not wait for an answer nobody reads. To see the client
    leave, a bodiless request (GET, HEAD) reads its (empty) body while it waits, then watches for the
    end of the connection; the app gets the body read."""
    if not slots.locked():  # a free place and nobody waiting before
        await slots.acquire()
        return Turn(receive)
    if scope.get("method") not in ("GET", "HEAD"):
        await slots.acquire()
        return Turn(receive)
    first = await receive()
    if first["type"] == "http.disconnect":
        return None
    gone = asyncio.ensure_future(receive())  # completes when the client leaves (or when the answer is sent)
    place = asyncio.ensure_future(slots.acquire())
    await asyncio.wait({gone, place}, return_when=asyncio.FIRST_COMPLETED)
    if place.done():
        return Turn(receive, [first], gone)
    place.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await place
    if not place.cancelled():  # obtained at the same moment: given back
        slots.release()
    return None


class Lanes:
    """The places of the two queues, one set per event loop. Shared by every app of one Datasette (the
    server's and datasette.client's), so that the site's own requests (the warm-up of page_cache.py) take
    their turn with the visitors'."""

    def __init__(self, pages_at_once: int = PAGES_AT_ONCE, sql_at_once: int = SQL_AT_ONCE):
        self.per_loop = PerLoop(lambda: {"pages": asyncio.Semaphore(pages_at_once),
                                         "sql": asyncio.Semaphore(sql_at_once)})

    def places(self, name: str) -> asyncio.Semaphore:
        return self.per_loop.get()[name]


class Queues:
    """The layer: each request waits for a place in its lane (`lane`) before `app` works on it.
    Inside the layers that answer by themselves (304) or only add headers."""

    def __init__(self, app, lanes: Lanes):
        self.app = app
        self.lanes = lanes

    async def __call__(self, scope, receive, send):
        name = lane(scope)
        if name is None or holding_a_place.get():
            return await self.app(scope, receive, send)
        slots = self.lanes.places(name)
        turn = await wait_in_line(slots, scope, receive)
        if turn is None:
            return  # the client left while waiting: its place goes to the next one
        token = holding_a_place.set(True)
        try:
            return await self.app(scope, turn.receive, send)
        finally:
            holding_a_place.reset(token)
            turn.close()
            slots.release()
