"""Keep the database page /oc in memory once rendered, when the database is immutable.

Datasette builds /oc from about a hundred small queries (columns, full-text detection, counts of
each table) that queue one after another in its SQL thread pool: under load, every one of them
waits behind the other requests' queries, and the page alone took more than 10 s at 64
connections. Its content only changes with the database, which is immutable while the server
runs (a rebuild means a new process), so the first anonymous rendering is kept and replayed; while
it is being rendered, the other requests for it wait for it instead of rendering it again. A real
server (uvicorn's lifespan start) renders it once as soon as it is up, before any load arrives.
Requests with a cookie or credentials, query strings and other paths are never cached.
The kept page is rendered for the site's public address (oc_site.urls.public_url): Datasette writes
absolute links into it (the JSON version of the page), which must not carry the Host header of
whichever request happened to come first (http://localhost/oc.json for the warm-up).
"""

import asyncio
from urllib.parse import urlsplit

from oc_site.database import DATABASE
from oc_site.http.per_loop import PerLoop
from oc_site.urls import public_url

CACHED_PATHS = (f"/{DATABASE}",)


def cacheable(scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("query_string"):
        return False
    if scope["path"] not in CACHED_PATHS:
        return False
    return not any(name in (b"cookie", b"authorization") for name, _ in scope.get("headers", []))


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

    def __init__(self):
        self.pages: dict[str, list[dict]] = {}
        self.locks = PerLoop(dict)

    def lock(self, path: str) -> asyncio.Lock:
        locks = self.locks.get()
        if path not in locks:
            locks[path] = asyncio.Lock()
        return locks[path]


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
        if not cacheable(scope) or not immutable(self.datasette):
            return await self.app(scope, receive, send)
        path, pages = scope["path"], self.kept.pages
        async with self.kept.lock(path):
            if path not in pages:
                messages = []

                async def record(message):
                    messages.append(message)

                await self.app(public_scope(scope, public_url(self.datasette)), receive, record)
                if not (messages and messages[0]["type"] == "http.response.start"
                        and messages[0]["status"] == 200):
                    for message in messages:  # an error is passed on, never kept
                        await send(message)
                    return
                pages[path] = messages
        for message in pages[path]:
            # a copy: outer layers (compression) change the messages they are sent in place
            await send({**message, **({"headers": list(message["headers"])} if "headers" in message else {})})
