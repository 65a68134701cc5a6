"""Keep the database page /oc, and the fiches most recently asked for, in memory once rendered, when the
database is immutable.

Datasette builds /oc from about a hundred small queries (columns, full-text detection, counts of
each table) that queue one after another in its SQL thread pool: under load, every one of them
waits behind the other requests' queries, and the page alone took more than 10 s at 64
connections. Its content only changes with the database, which is immutable while the server
runs (a rebuild means a new process), so the first anonymous rendering is kept and replayed; while
it is being rendered, the other requests for it wait for it instead of rendering it again. A real
server (uvicorn's lifespan start) renders it once as soon as it is up, before any load arrives.
Requests with a cookie or credentials, query strings and other paths are never cached.

A fiche (/commune/35238…) is the same for every anonymous visitor until the next build: its dozen queries take
a few milliseconds, but laying out its blocks in Jinja takes three times as long as Datasette's own row page.
The fiches last rendered (with their query string: a sorted list is another page) are kept up to
FICHES_BYTES (least recently asked for forgotten first), so that a fiche in the news, or linked from a
newsletter, is laid out once, not for each of its readers. `make bench` measures a fiche both ways (kept, and
rendered for each request).
The kept page is rendered for the site's public address (oc_site.urls.public_url): Datasette writes
absolute links into it (the JSON version of the page), which must not carry the Host header of
whichever request happened to come first (http://localhost/oc.json for the warm-up).
"""

import asyncio
import os
import re
from collections import OrderedDict
from urllib.parse import urlsplit

from oc_site.database import DATABASE
from oc_site.levels import LEVELS
from oc_site.http.per_loop import PerLoop
from oc_site.urls import public_url

CACHED_PATHS = (f"/{DATABASE}",)
FICHE_PATH = re.compile(rf"^/(?:{'|'.join(LEVELS)})/[^/]+$")
FICHES_BYTES = 32 * 1024 * 1024  # about 400 commune fiches, 150 of a région


def fiches_budget() -> int:
    """FICHES_BYTES, or the environment's OC_FICHES_CACHE_BYTES (0: every fiche rendered for each request, as
    `make bench` measures it beside the kept one)."""
    return int(os.environ.get("OC_FICHES_CACHE_BYTES", FICHES_BYTES))


def cache_key(scope) -> str | None:
    """The key a response to this request is kept under, or None if it is never kept: /oc without a query
    string, a fiche with its query string; GET only, anonymous only."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    path, query = scope["path"], scope.get("query_string", b"").decode("latin-1")
    if path in CACHED_PATHS and not query:
        key = path
    elif FICHE_PATH.match(path):
        key = path + ("?" + query if query else "")
    else:
        return None
    if any(name in (b"cookie", b"authorization") for name, _ in scope.get("headers", [])):
        return None
    return key


def size(messages: list[dict]) -> int:
    return sum(len(m.get("body", b"")) for m in messages) + 1024


def immutable(datasette) -> bool:
    return not any(db.is_mutable for db in datasette.databases.values() if db.name != "_internal")


def public_scope(scope, url: str) -> dict:
    """The request as if it had come to the site's public address."""
    parts = urlsplit(url)
    headers = [(name, value) for name, value in scope.get("headers", []) if name.lower() != b"host"]
    return {**scope, "scheme": parts.scheme, "headers": [(b"host", parts.netloc.encode()), *headers]}


async def warm_up(datasette):
    for path in CACHED_PATHS:
        await datasette.client.get(path)


class KeptPages:
    """The pages kept (path → the ASGI messages of the answer) and the locks under which one request renders
    a page while the others for it wait (one per path and event loop). Shared by every app of one Datasette
    (the server's and datasette.client's, which renders the page at start-up), never by two."""

    def __init__(self, budget: int | None = None):
        self.pages: dict[str, list[dict]] = {}  # /oc: kept for the life of the process
        self.fiches: OrderedDict[str, list[dict]] = OrderedDict()  # least recently asked for first
        self.budget, self.used = fiches_budget() if budget is None else budget, 0
        self.locks = PerLoop(dict)

    def get(self, key: str) -> list[dict] | None:
        if key in self.pages:
            return self.pages[key]
        if key in self.fiches:
            self.fiches.move_to_end(key)
            return self.fiches[key]
        return None

    def keep(self, key: str, messages: list[dict]):
        if key in CACHED_PATHS:
            self.pages[key] = messages
            return
        kept = size(messages)
        if kept > self.budget:
            return
        self.fiches[key] = messages
        self.used += kept
        while self.used > self.budget:
            _, forgotten = self.fiches.popitem(last=False)
            self.used -= size(forgotten)

    def lock(self, key: str) -> asyncio.Lock:
        locks = self.locks.get()
        if key not in locks:
            if len(locks) > 4096:  # the locks of keys no request is rendering
                for unused in [k for k, lock in locks.items() if not lock.locked()]:
                    del locks[unused]
            locks[key] = asyncio.Lock()
        return locks[key]


class PageCache:
    """The layer: the innermost but for the queues (a replay takes no place in them); the layers above add
    their headers to what it replays."""

    def __init__(self, app, datasette, kept: KeptPages):
        self.app = app
        self.datasette = datasette  # its databases (immutable?), public address and client (warm-up)
        self.kept = kept

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan" and immutable(self.datasette):
            async def send_then_warm_up(message):
                await send(message)
                if message["type"] == "lifespan.startup.complete":
                    asyncio.get_running_loop().create_task(warm_up(self.datasette))

            return await self.app(scope, receive, send_then_warm_up)
        key = cache_key(scope)
        if key is None or not immutable(self.datasette):
            return await self.app(scope, receive, send)
        async with self.kept.lock(key):
            messages = self.kept.get(key)
            if messages is None:
                messages = []

                async def record(message):
                    messages.append(message)

                await self.app(public_scope(scope, public_url(self.datasette)), receive, record)
                if not (messages and messages[0]["type"] == "http.response.start"
                        and messages[0]["status"] == 200):
                    for message in messages:  # an error or a redirect is passed on, never kept
                        await send(message)
                    return
                self.kept.keep(key, messages)
        for message in messages:
            # a copy: outer layers (compression) change the messages they are sent in place
            await send({**message, **({"headers": list(message["headers"])} if "headers" in message else {})})
