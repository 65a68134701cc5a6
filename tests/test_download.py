"""The whole-database download (plugins/oc_site/http/download.py, oc_site/downloads.py): `oc compress` at build
time, /oc.db and /oc.db.gz with Content-Length, byte ranges (resume), validators, through the real server; their
sizes and SHA-256 on /sources and in the header."""

import gzip
import hashlib
import re
import shutil
import sqlite3

import httpx
import pytest
from click.testing import CliRunner

from bench.harness import Server
from bench.site import make_datasette
from conftest import release
from loaders.cli import cli


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def served(tmp_path, fixture_db):
    """A copy of the fixture database with its compressed copy made by `oc compress`."""
    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    result = CliRunner().invoke(cli, ["compress", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def test_oc_compress_writes_the_copy_and_the_sums_beside_the_database(served):
    data, copy = served.read_bytes(), served.with_name("oc.db.gz").read_bytes()
    assert gzip.decompress(copy) == data
    assert served.with_name("oc.db.sha256").read_text() == f"{sha256(data)}  oc.db\n{sha256(copy)}  oc.db.gz\n"
    assert sorted(p.name for p in served.parent.iterdir()) == ["oc.db", "oc.db.gz", "oc.db.sha256"]  # no temporary
    CliRunner().invoke(cli, ["compress", "--db", str(served)])
    assert served.with_name("oc.db.gz").read_bytes() == copy  # no date inside: the same database, the same copy


def test_the_database_and_its_copy_resume_where_they_stopped(served):
    data, copy = served.read_bytes(), served.with_name("oc.db.gz").read_bytes()
    with Server(served) as server:
        for path, body, media_type in (("/oc.db", data, "application/octet-stream"), ("/oc.db.gz", copy, "application/gzip")):
            url, size, etag = server.url + path, len(body), f'"{sha256(body)}"'
            whole = httpx.get(url, headers={"Accept-Encoding": "gzip"})
            assert whole.status_code == 200 and whole.content == body
            assert whole.headers["content-length"] == str(size) and whole.headers["accept-ranges"] == "bytes"
            assert whole.headers["etag"] == etag and whole.headers["content-type"] == media_type
            assert "content-encoding" not in whole.headers  # the .gz is saved as it is
            assert whole.headers["content-disposition"] == f'attachment; filename="{path[1:]}"'
            head = httpx.head(url)
            assert head.headers["content-length"] == str(size) and head.content == b""
            # a download cut half-way, then resumed (what curl -C - and browsers send)
            half = size // 2
            rest = httpx.get(url, headers={"Range": f"bytes={half}-", "If-Range": etag})
            assert rest.status_code == 206 and rest.headers["content-range"] == f"bytes {half}-{size - 1}/{size}"
            assert rest.headers["content-length"] == str(size - half) and body[:half] + rest.content == body
            part = httpx.get(url, headers={"Range": "bytes=10-19"})
            assert part.status_code == 206 and part.content == body[10:20]
            assert httpx.get(url, headers={"Range": "bytes=-7"}).content == body[-7:]
            assert httpx.get(url, headers={"Range": "bytes=0-4,10-14"}).status_code == 200  # several: all of it
            changed = httpx.get(url, headers={"Range": "bytes=10-19", "If-Range": '"autre"'})
            assert changed.status_code == 200 and changed.content == body  # another version: the whole file
            too_far = httpx.get(url, headers={"Range": f"bytes={size}-"})
            assert too_far.status_code == 416 and too_far.headers["content-range"] == f"bytes */{size}"
            assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_sources_and_the_header_give_both_files_with_their_sizes_and_sums(served):
    data, copy = served.read_bytes(), served.with_name("oc.db.gz").read_bytes()
    with Server(served) as server:
        html = httpx.get(server.url + "/sources").text
        for name, body in (("oc.db", data), ("oc.db.gz", copy)):
            assert f'href="/{name}">{name}</a>' in html and sha256(body) in html
        assert re.search(r'href="/sources#telecharger">Télécharger la base \(SQLite, [\d,\u202f]+ [KM]o ; gzip, '
                         r'[\d,\u202f]+ [KM]o\)</a>', html)
        assert 'id="telecharger"' in html


async def test_a_copy_of_another_database_is_not_offered(served, tmp_path):
    with sqlite3.connect(served) as conn:  # the database changes after its copy was made
        conn.execute("CREATE TABLE ajout (x)")
    ds = make_datasette(served)
    await ds.invoke_startup()
    assert (await ds.client.get("/oc.db.gz")).status_code == 404
    html = (await ds.client.get("/sources")).text
    assert 'href="/oc.db">oc.db</a>' in html and "oc.db.gz" not in html
    assert sha256(served.read_bytes()) in html
    release(ds)
