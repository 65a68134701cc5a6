"""The same CORS headers on every response when the site runs with --cors (scripts/serve.sh).

Datasette adds them to its own pages and exports; the site's routes (/comparer.json and .csv,
/recherche.json, /publications.atom, the fiches) are plain Response objects that do not. This
layer completes any response that lacks them, so that every machine-readable address can be read
from another site's JavaScript, exactly like Datasette's JSON.
"""

from datasette.utils import add_cors_headers


def cors_headers() -> list[tuple[bytes, bytes]]:
    headers = {}
    add_cors_headers(headers)
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


class Cors:
    """The layer: Datasette's CORS headers (cors_headers) on every response that has no
    Access-Control-Allow-Origin, when `enabled` (Datasette's --cors); else it passes everything through."""

    def __init__(self, app, enabled: bool):
        self.app = app
        self.headers = cors_headers() if enabled else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.headers is None:
            return await self.app(scope, receive, send)

        async def send_with_cors(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"access-control-allow-origin" not in present:
                    message = {**message, "headers": headers + self.headers}
            await send(message)

        return await self.app(scope, receive, send_with_cors)
