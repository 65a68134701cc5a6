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


def layer(datasette):  # the innermost wrapper: it keeps Datasette's answer, the others add their headers
    # shared by every app Datasette builds (the server's and datasette.client's)
    cache = datasette.__dict__.setdefault("_oc_page_cache", {})
    locks = datasette.__dict__.setdefault("_oc_page_cache_locks", {})

    def wrap(app):
        async def with_cache(scope, receive, send):
            if scope["type"] == "lifespan" and immutable(datasette):
                async def send_then_warm_up(message):
                    await send(message)
                    if message["type"] == "lifespan.startup.complete":
                        asyncio.get_running_loop().create_task(warm_up(datasette))

                return await app(scope, receive, send_then_warm_up)
            if not cacheable(scope) or not immutable(datasette):
                return await app(scope, receive, send)
            path = scope["path"]
            async with locks.setdefault(path, asyncio.Lock()):
                if path not in cache:
                    messages = []

                    async def record(message):
                        messages.append(message)

                    await app(public_scope(scope, public_url(datasette)), receive, record)
                    if not (messages and messages[0]["type"] == "http.response.start"
                            and messages[0]["status"] == 200):
                        for message in messages:  # an error is passed on, never kept
                            await send(message)
                        return
                    cache[path] = messages
            for message in cache[path]:
                # a copy: outer wrappers (compression) change the messages they are sent in place
                await send({**message, **({"headers": list(message["headers"])} if "headers" in message else {})})

        return with_cache

    return wrap
