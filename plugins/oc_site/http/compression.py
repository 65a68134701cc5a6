"""gzip compression of text responses, with asgi-gzip (the middleware that datasette-gzip wraps).

HTML, JSON, CSV, CSS, JavaScript, SVG and Atom shrink four to ten times: a fiche's HTML from about
60 KB to 10 KB, the DSFR stylesheet from 200 KB to 30 KB. We do not install datasette-gzip itself
because it compresses every response at level 9 on the server's event loop, including the 60 MB
database download (seconds of CPU during which no other request is served) and the fonts and images
that are already compressed. Here the same middleware runs at level 6 (nearly the same size, several
times less CPU) and is skipped for the paths whose content is binary. Behind a CDN, compressed answers
are cached like any other (the middleware adds `Vary: Accept-Encoding`).
"""

from asgi_gzip import GZipMiddleware

BINARY_SUFFIXES = (".db", ".sqlite", ".woff2", ".woff", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".webp",
                   ".gz", ".zip", ".blob")
COMPRESSION_LEVEL = 6
MINIMUM_SIZE = 500


class Compression:
    """The layer: gzip for what every layer inside it sends, but for the BINARY_SUFFIXES paths."""

    def __init__(self, app, minimum_size: int = MINIMUM_SIZE, compresslevel: int = COMPRESSION_LEVEL):
        self.app = app
        self.compressed = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope["path"].lower().endswith(BINARY_SUFFIXES):
            return await self.compressed(scope, receive, send)
        return await self.app(scope, receive, send)
