"""Versioned asset URLs, cached for a year by browsers and CDNs.

The theme writes every stylesheet, script, icon and font URL of a page: the DSFR files, its own, the
``extra_css_urls`` / ``extra_js_urls`` of the other plugins, Datasette's own scripts. Each static
URL gets a version segment in front::

    /-/static-plugins/datasette-dsfr-theme/dsfr/dsfr.min.css
    /-/v/3f9a0c1b2d4e/-/static-plugins/datasette-dsfr-theme/dsfr/dsfr.min.css

where the version is a digest of every static file Datasette can serve (its own, each plugin's, the
``--static`` mounts). The fonts and icons that the DSFR stylesheet loads by relative URL inherit the
segment. A request for such a URL is routed as if the segment were absent, and answered with
``Cache-Control: public, max-age=31536000, immutable``: a changed file changes every URL, so a
browser or a CDN never keeps a stale one. A URL with another version (a page cached before a
deployment) still gets the file, with no such promise.

Datasette's own ``datasette-hashed-urls`` does something else: it puts the hash in the *database*
URLs (``/db`` becomes ``/db-3f9a0c1``) and leaves static files alone.
"""

import hashlib
import re
from pathlib import Path

import datasette as datasette_package

PREFIX = "-/v/"
IMMUTABLE = b"public, max-age=31536000, immutable"
VERSIONED_PATH = re.compile(r"^-/v/(?P<version>[0-9a-f]{6,40})/(?P<rest>.*)$")
SKIPPED_SUFFIXES = {".pyc", ".map"}


def digest_folders(folders, digest=None):
    """Feed the relative path and bytes of every file under `folders` (sorted) into a SHA-256."""
    digest = digest or hashlib.sha256()
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        digest.update("\x00{}\x00".format(folder.name).encode())
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix not in SKIPPED_SUFFIXES
                       and "__pycache__" not in p.parts)
        for path in files:
            digest.update(str(path.relative_to(folder)).encode() + b"\x00")
            digest.update(path.read_bytes())
    return digest


def static_folders(datasette):
    from datasette.plugins import get_plugins  # not at import time: Datasette imports this plugin from there

    folders = [Path(datasette_package.__file__).parent / "static"]
    folders += [Path(p["static_path"]) for p in get_plugins() if p.get("static_path")]
    folders += [Path(folder) for _, folder in datasette.static_mounts]
    return folders


def asset_version(datasette) -> str:
    """Twelve hex digits that change whenever any static file changes (computed once per server)."""
    version = getattr(datasette, "_dsfr_theme_asset_version", None)
    if version is None:
        version = digest_folders(static_folders(datasette)).hexdigest()[:12]
        datasette._dsfr_theme_asset_version = version
    return version


def static_prefixes(datasette):
    base = datasette.setting("base_url") or "/"
    mounts = ["{}{}/".format(base, mount.strip("/")) for mount, _ in datasette.static_mounts]
    return tuple([base + "-/static/", base + "-/static-plugins/", *mounts])


def versioned_url(datasette, url) -> str:
    """`url` with the version segment when it is one of the server's static files, else unchanged."""
    url = str(url)
    base = datasette.setting("base_url") or "/"
    if url.startswith(static_prefixes(datasette)):
        return "{}{}{}/{}".format(base, PREFIX, asset_version(datasette), url[len(base):])
    return url


def versioned_asgi(datasette, app):
    """ASGI app: /-/v/<version>/<path> is served as /<path>, immutable when the version is current."""

    async def serve(scope, receive, send):
        base = datasette.setting("base_url") or "/"
        path = scope.get("path", "")
        match = None
        if scope["type"] == "http" and path.startswith(base):
            match = VERSIONED_PATH.match(path[len(base):])
        if not match:
            return await app(scope, receive, send)
        segment = "{}{}/".format(PREFIX, match["version"]).encode()
        raw_path = scope.get("raw_path") or path.encode()
        inner = dict(scope, path=base + match["rest"], raw_path=raw_path.replace(segment, b"", 1))
        current = match["version"] == asset_version(datasette)

        async def send_with_lifetime(message):
            if current and message["type"] == "http.response.start" and message["status"] == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = dict(message, headers=headers + [(b"cache-control", IMMUTABLE)])
            await send(message)

        return await app(inner, receive, send_with_lifetime)

    return serve
