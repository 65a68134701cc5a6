import pytest

from dsfr_theme_helpers import datasette_for, make_db


@pytest.fixture(scope="session")
def db_path(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("dsfr") / "demo.db")


@pytest.fixture
def ds(db_path):
    return datasette_for(db_path)


def pytest_configure(config):
    """The theme's tests test the theme alone: a site installed in the same environment (Open Collectivités,
    whose plugin adds its routes, headers and queues to every Datasette) is set aside while they run."""
    from datasette.plugins import pm

    for plugin, dist in pm.list_plugin_distinfo():
        if dist.project_name in OTHER_SITES:
            pm.unregister(plugin)


OTHER_SITES = {"open-collectivites"}
