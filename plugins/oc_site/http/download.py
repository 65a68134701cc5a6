"""The database download, resumable: `/oc.db` and its compressed copy `/oc.db.gz` (oc_site/downloads.py) with
their length, byte ranges and validators.

Datasette 0.65.5 sends /oc.db in chunks, without Content-Length or Range: no progress bar, and a
download cut at 200 of 277 Mo starts again from zero. Here each file is answered with:
- `Content-Length`, `Accept-Ranges: bytes`, `Last-Modified`, and its ETag: the SHA-256 of the file
  (Datasette's own ETag for the database), `If-None-Match` → 304;
- `Range: bytes=a-b`, `bytes=a-` or `bytes=-n` → 206 Partial Content with `Content-Range` (one range;
  several are answered whole, which HTTP allows); a range that starts past the end → 416 with
  `Content-Range: bytes */<size>`; `If-Range` with another ETag or date → the whole file, since the
  file changed since the part the client holds;
- `Content-Disposition: attachment`, the database as application/octet-stream (as Datasette sends it),
  the copy as application/gzip (never `Content-Encoding`: the browser must save the .gz as it is).
The file is read in chunks by a thread and stops when the client leaves. Datasette's rules hold: no
download when `allow_download` is off, of a mutable database, or of one the anonymous visitor may not
see — those requests, and the copy of a database that has none, go on to Datasette.
"""

import asyncio
import os
import re
from email.utils import formatdate
from pathlib import Path

from oc_site.downloads import COMPRESSED_SUFFIX, DownloadFile, downloads_of
from oc_site.http.exports import watch_disconnection

CHUNK = 256 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """The (first, last) bytes asked by a Range header; None to send the whole file (no header, several
    ranges, or a syntax this does not read), "unsatisfiable" for a range outside the file."""
    if not header:
        return None
    match = RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        n = int(last)
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else "unsatisfiable"
    first = int(first)
    if first >= size:
        return "unsatisfiable"
    return first, min(int(last), size - 1) if last else size - 1


class Download:
    """The layer: /<database>.db and /<database>.db.gz of the immutable databases (see the module)."""

    def __init__(self, app, datasette, downloads: dict):
        self.app = app
        self.datasette = datasette
        self.downloads = downloads  # database name → Downloads, shared by the apps of one Datasette

    def for_path(self, path: str):
        """(Downloads, compressed?) for the address of a database file, else None."""
        name = path[1:]
        compressed = name.endswith(COMPRESSED_SUFFIX)
        if compressed:
            name = name[: -len(COMPRESSED_SUFFIX)]
        if "/" in name or not name.endswith(".db"):
            return None
        db = next((d for d in self.datasette.databases.values() if d.route == name[:-3]), None)
        if db is None or db.is_memory or db.is_mutable or not db.path:
            return None
        return downloads_of(self.downloads, db), compressed

    async def __call__(self, scope, receive, send):
        found = self.for_path(scope["path"]) if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") else None
        if found is None or not await self.allowed(found[0].db.name):
            return await self.app(scope, receive, send)
        downloads, compressed = found
        files = await downloads.files()
        if compressed and len(files) < 2:
            return await self.app(scope, receive, send)  # no copy: Datasette's 404
        await self.answer(scope, receive, send, files[1] if compressed else files[0])

    async def allowed(self, database: str) -> bool:
        if not self.datasette.setting("allow_download"):
            return False
        visible, _ = await self.datasette.check_visibility(None, permissions=[
            ("view-database-download", database), ("view-database", database), "view-instance"])
        return visible

    async def answer(self, scope, receive, send, file: DownloadFile):
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        etag = f'"{file.sha256}"'
        modified = formatdate(file.path.stat().st_mtime, usegmt=True)
        common = [(b"etag", etag.encode()), (b"last-modified", modified.encode()), (b"accept-ranges", b"bytes")]
        if etag in [tag.strip() for tag in headers.get("if-none-match", "").split(",")]:
            return await respond(send, 304, common)
        wanted = byte_range(headers.get("range"), file.size)
        if_range = headers.get("if-range")
        if wanted is not None and if_range is not None and if_range.strip() not in (etag, modified):
            wanted = None  # the file changed since the client's part: all of it again
        if wanted == "unsatisfiable":
            return await respond(send, 416, common + [(b"content-range", f"bytes */{file.size}".encode())])
        first, last = wanted or (0, file.size - 1)
        status = 206 if wanted else 200
        head = common + [
            (b"content-type", file.media_type.encode()),
            (b"content-disposition", f'attachment; filename="{file.name}"'.encode()),
            (b"content-length", str(last - first + 1).encode())]
        if wanted:
            head.append((b"content-range", f"bytes {first}-{last}/{file.size}".encode()))
        await send({"type": "http.response.start", "status": status, "headers": head})
        if scope["method"] == "HEAD":
            return await send({"type": "http.response.body", "body": b""})
        await send_bytes(send, receive, file.path, first, last + 1)


async def respond(send, status: int, headers: list):
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def send_bytes(send, receive, path: Path, start: int, end: int):
    """Bytes [start, end) of `path`, read by a thread chunk after chunk, until the client leaves."""
    loop = asyncio.get_running_loop()
    gone = asyncio.Event()
    watcher = asyncio.ensure_future(watch_disconnection(receive, gone))
    try:
        with open(path, "rb") as f:
            position = start
            while position < end and not gone.is_set():
                chunk = await loop.run_in_executor(None, os.pread, f.fileno(), min(CHUNK, end - position), position)
                if not chunk:
                    raise OSError(f"{path.name} a raccourci pendant son envoi")  # the response is aborted
                position += len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": position < end})
    finally:
        watcher.cancel()
