import pytest

from dsfr_theme_helpers import datasette_for, make_db


@pytest.fixture(scope="session")
def db_path(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("dsfr") / "demo.db")


@pytest.fixture
def ds(db_path):
    return datasette_for(db_path)
