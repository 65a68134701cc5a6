"""The same CORS headers on every response when the site runs with --cors (scripts/serve.sh).

Datasette adds them to its own pages and exports; the site's routes (/comparer.json and .csv,
/recherche.json, /publications.atom, the fiches) are plain Response objects that do not. This
wrapper completes any response that lacks them, so that every machine-readable address can be read
from another site's JavaScript, exactly like Datasette's JSON.
"""

from datasette.utils import add_cors_headers


def cors_headers() -> list[tuple[bytes, bytes]]:
    headers = {}
    add_cors_headers(headers)
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


def layer(datasette):
    def wrap(app):
        if not datasette.cors:
            return app
        extra = cors_headers()

        async def with_cors(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)

            async def send_with_cors(message):
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    present = {name.lower() for name, _ in headers}
                    if b"access-control-allow-origin" not in present:
                        message = {**message, "headers": headers + extra}
                await send(message)

            return await app(scope, receive, send_with_cors)

        return with_cors

    return wrap
