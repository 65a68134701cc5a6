"""Cache-Control and ETag on every page, and 304 Not Modified, so that an HTTP cache or a CDN can serve the site.

The data only change with a new oc.db, i.e. a new deployment, and a page only depends on the data and
on the code that renders it. So the ETag of every page is the same: the content hash of oc.db
(recorded at build time, table `empreinte_contenu`, see loaders/common/content_hash.py) joined to the
site's version (templates, code, metadata, assets: site_version.py). A request whose
`If-None-Match` carries it gets a 304 at once, before any SQL runs. The ETag is computed once, at
start-up, after the generated metadata (the site's version digests them); every app of one Datasette
reads the same `SiteEtag` (given by stack.py).

Every successful GET of a page (fiches, search, comparison, publications, Datasette's tables, rows and
queries, JSON and CSV) gets `Cache-Control: public, max-age=<default_cache_ttl>` unless the view set its
own lifetime (Datasette's `_ttl`, never longer than default_cache_ttl: `_ttl=99999999` asked three years;
the immutable assets of datasette_dsfr_theme/assets.py), and this weak ETag (weak because the compressed
and uncompressed bodies differ byte for byte). The ETag Datasette gives the database download is kept.
Never cached, as Datasette 0.65.5 itself decides (it answers them `private, no-store`): requests with a
cookie or an Authorization header, responses that set a cookie; nor errors, nor Datasette's per-user
pages (/-/actor, /-/permissions…). The site sets no cookie on its pages, so visitors' requests carry none.

Conditional headers only on successful pages: the ETag is the same for every page, so a matching
`If-None-Match` (or `*`) says nothing of the address it is sent to. It is answered 304 at once only for an
address this server has answered 200 (`AnsweringAddresses`, the last MAX_ADDRESSES of them; the data are
immutable, so an address that answered once always does); for another one the page is worked out, and
its 200 becomes a 304 while a 404 or an SQL error goes out as it is, with no cache header (a red team's
`If-None-Match: *` turned 404 pages and SQL errors into `public, max-age=3600` 304s).
"""

import re
from collections import OrderedDict

from oc_site.database import DATABASE
from oc_site.http.site_version import site_version

PER_USER_PATHS = ("/-/actor", "/-/permissions", "/-/messages", "/-/allow-debug", "/-/logout", "/-/login",
                  "/-/auth-token", "/-/create-token")


async def database_hash(datasette) -> str | None:
    """The content hash recorded in oc.db; else the file hash Datasette computed for an immutable file."""
    if DATABASE not in datasette.databases:
        return None
    db = datasette.get_database(DATABASE)
    if await db.table_exists("empreinte_contenu"):
        row = (await db.execute("SELECT empreinte FROM empreinte_contenu")).first()
        if row and row[0]:
            return row[0]
    return db.hash


def personalized(scope) -> bool:
    """Datasette's own rule: a request with a cookie or credentials gets `private, no-store`."""
    return any(name in (b"cookie", b"authorization") for name, _ in scope.get("headers", []))


def cacheable_request(scope) -> bool:
    return (scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
            and not scope["path"].startswith(PER_USER_PATHS) and not personalized(scope))


def etag_matches(scope, etag: bytes) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"if-none-match":
            candidates = [c.strip() for c in value.split(b",")]
            return b"*" in candidates or etag in candidates or etag[2:] in candidates
    return False


class SiteEtag:
    """The ETag of every page of one Datasette, `value` once `compute` has run at start-up (oc_site.hooks):
    Datasette builds its apps, and so the layers, before it starts. None without a content hash (no database
    `oc`, or a mutable one): then no page gets an ETag."""

    def __init__(self):
        self.value: bytes | None = None

    async def compute(self, datasette):
        content = await database_hash(datasette)
        self.value = f'W/"{content[:16]}-{site_version(datasette)}"'.encode() if content else None


MAX_ADDRESSES = 20_000
MAX_ADDRESS_LENGTH = 2_000


class AnsweringAddresses:
    """The addresses (path and query string) that this server answered 200, the most recent MAX_ADDRESSES;
    shared by every app of one Datasette (stack.SharedState)."""

    def __init__(self, size: int = MAX_ADDRESSES):
        self.size = size
        self.addresses: OrderedDict[bytes, None] = OrderedDict()

    def __contains__(self, address: bytes) -> bool:
        if address in self.addresses:
            self.addresses.move_to_end(address)
            return True
        return False

    def add(self, address: bytes):
        if len(address) <= MAX_ADDRESS_LENGTH:
            self.addresses[address] = None
            self.addresses.move_to_end(address)
            while len(self.addresses) > self.size:
                self.addresses.popitem(last=False)


def address(scope) -> bytes:
    return scope["path"].encode("utf-8", "surrogateescape") + b"?" + scope.get("query_string", b"")


MAX_AGE = re.compile(rb"max-age=(\d+)")


def bounded_lifetime(value: bytes, max_age: int) -> bytes:
    """A view's own Cache-Control (`_ttl`) with its max-age at most `max_age`; immutable assets keep theirs."""
    match = MAX_AGE.search(value)
    if match and int(match.group(1)) > max_age and b"immutable" not in value:
        return value[:match.start(1)] + str(max_age).encode() + value[match.end(1):]
    return value


class CacheHeaders:
    """The layer: Cache-Control and the ETag on the successful pages, 304 for a matching If-None-Match on an
    address that answers. Outside the queues, so that a 304 waits for nothing."""

    def __init__(self, app, etag: SiteEtag, max_age: int, answering: AnsweringAddresses):
        self.app = app
        self.etag = etag
        self.max_age = max_age
        self.lifetime = f"public, max-age={max_age}".encode()
        self.answering = answering

    def not_modified(self, etag: bytes) -> dict:
        return {"type": "http.response.start", "status": 304, "headers": [
            (b"etag", etag), (b"cache-control", self.lifetime), (b"vary", b"Accept-Encoding")]}

    async def __call__(self, scope, receive, send):
        etag = self.etag.value
        if etag is None or not cacheable_request(scope):
            return await self.app(scope, receive, send)
        target = address(scope)
        conditional = etag_matches(scope, etag)
        if conditional and target in self.answering:
            await send(self.not_modified(etag))
            await send({"type": "http.response.body", "body": b""})
            return
        replaced = False  # a 200 answered 304: its body is not sent

        async def send_with_cache_headers(message):
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"set-cookie" not in present:
                    self.answering.add(target)
                    if conditional:
                        replaced = True
                        await send(self.not_modified(etag))
                        await send({"type": "http.response.body", "body": b""})
                        return
                    if b"cache-control" not in present:
                        headers.append((b"cache-control", self.lifetime))
                    else:
                        headers = [(n, bounded_lifetime(v, self.max_age) if n.lower() == b"cache-control" else v)
                                   for n, v in headers]
                    if b"etag" not in present:
                        headers.append((b"etag", etag))
                    message = {**message, "headers": headers}
            elif replaced:
                return
            await send(message)

        return await self.app(scope, receive, send_with_cache_headers)
