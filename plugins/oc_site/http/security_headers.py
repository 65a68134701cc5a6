"""Security headers on every response (HTML, JSON, CSV, static files, downloads).

The Content-Security-Policy allows only what the site really uses:
- scripts, styles, fonts, fetches from the site itself ('self'): Datasette, its plugins and the DSFR
  theme serve all their assets themselves, nothing comes from a CDN;
- inline <script> blocks ('unsafe-inline' in script-src): Datasette's own templates (CodeMirror
  set-up, query pages), the plugins' `extra_body_script` (the map of datasette-cluster-map, whose
  configuration is written into the page) and the theme's colour-scheme initialisation are inline
  and their content varies with the configuration, so hashes cannot list them. Injected markup is
  neutralised by escaping instead (tested with XSS payloads in the data);
- map tiles from the tile server configured for datasette-cluster-map (`tile_layer`), plus any
  host listed under `plugins: security-headers: img_src` in metadata.yml;
- no plugins (<object>), no <base> hijacking, forms posting only to the site, and no framing by
  another site (frame-ancestors 'none', X-Frame-Options DENY for old browsers).
Headers already set by a view are kept as they are.
"""

import re
from urllib.parse import urlsplit

from datasette_cluster_map import TILE_LAYER  # the map plugin's default tile server


PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"


def source_of(url_template: str) -> str | None:
    """The CSP source expression of a URL template: https://{s}.tile.example.org/… → https://*.tile.example.org"""
    parts = urlsplit(url_template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    if "*" in host and not host.startswith("*."):
        # CSP wildcards are only allowed as the leftmost label: widen to the parent domain
        host = "*." + host.split("*", 1)[1].lstrip(".-")
    return f"{parts.scheme}://{host}"


def tile_sources(datasette) -> list[str]:
    sources = []
    map_config = datasette.plugin_config("datasette-cluster-map") or {}
    source = source_of(map_config.get("tile_layer") or TILE_LAYER)
    if source:
        sources.append(source)
    own = datasette.plugin_config("security-headers") or {}
    for extra in own.get("img_src", []):
        if extra not in sources:
            sources.append(extra)
    return sources


def content_security_policy(datasette) -> str:
    own = datasette.plugin_config("security-headers") or {}
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *tile_sources(datasette)],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *own.get("connect_src", [])],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(datasette) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", content_security_policy(datasette).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]


def is_https(scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-proto":
            return value.split(b",")[0].strip() == b"https"
    return False


class SecurityHeaders:
    """The layer: `headers` (security_headers(datasette): the configuration of an immutable instance does not
    change while it runs), plus HSTS over HTTPS, on every response that lacks them. The outermost layer: it
    also completes the 304s and the /oc page replayed by the layers inside it."""

    def __init__(self, app, headers: list[tuple[bytes, bytes]]):
        self.app = app
        self.headers_http = headers
        self.headers_https = headers + [(b"strict-transport-security", HSTS.encode())]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = self.headers_https if is_https(scope) else self.headers_http

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)
