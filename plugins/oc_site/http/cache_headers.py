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
own lifetime (Datasette's `_ttl`, the immutable assets of datasette_dsfr_theme/assets.py), and this weak ETag
(weak because the compressed and uncompressed bodies differ byte for byte). The ETag Datasette gives the
database download is kept. Never cached, as Datasette 0.65.5 itself decides (it answers them
`private, no-store`): requests with a cookie or an Authorization header, responses that set a cookie;
nor errors, nor Datasette's per-user pages (/-/actor, /-/permissions…). The site sets no cookie on
its pages, so visitors' requests carry none.
"""

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


class CacheHeaders:
    """The layer: Cache-Control and the ETag on the successful pages, 304 for a matching If-None-Match.
    Outside the queues, so that a 304 waits for nothing."""

    def __init__(self, app, etag: SiteEtag, max_age: int):
        self.app = app
        self.etag = etag
        self.lifetime = f"public, max-age={max_age}".encode()

    async def __call__(self, scope, receive, send):
        etag = self.etag.value
        if etag is None or not cacheable_request(scope):
            return await self.app(scope, receive, send)
        if etag_matches(scope, etag):
            await send({"type": "http.response.start", "status": 304, "headers": [
                (b"etag", etag), (b"cache-control", self.lifetime), (b"vary", b"Accept-Encoding")]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cache_headers(message):
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"set-cookie" not in present:
                    if b"cache-control" not in present:
                        headers.append((b"cache-control", self.lifetime))
                    if b"etag" not in present:
                        headers.append((b"etag", etag))
                    message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_cache_headers)
