import pytest

from dsfr_theme_helpers import datasette_for
from datasette_dsfr_theme import vendor
from datasette_dsfr_theme.config import VENDORED_DSFR_DIR


def fake_dist(root, version="1.15.3"):
    dist = root / "dsfr" / "dist"
    for name in vendor.FILES:
        (dist / name).parent.mkdir(parents=True, exist_ok=True)
        (dist / name).write_text("/* {} */".format(name), encoding="utf-8")
    for folder, suffixes in vendor.FOLDERS.items():
        (dist / folder / "sub").mkdir(parents=True, exist_ok=True)
        for suffix in suffixes:
            (dist / folder / "sub" / ("file" + suffix)).write_text("x", encoding="utf-8")
        (dist / folder / "sub" / "ignored.map").write_text("x", encoding="utf-8")
    (root / "dsfr" / "package.json").write_text('{"version": "%s"}' % version, encoding="utf-8")
    (root / "dsfr" / "LICENSE.md").write_text("licence", encoding="utf-8")
    return dist


def test_vendor_copies_only_needed_files(tmp_path):
    dist = fake_dist(tmp_path)
    target = tmp_path / "out"
    count = vendor.vendor(dist, target)
    assert count == len(vendor.FILES) + 3
    assert (target / "dsfr.min.css").exists()
    assert (target / "fonts" / "sub" / "file.woff2").exists()
    assert not (target / "fonts" / "sub" / "ignored.map").exists()
    assert (target / "LICENSE.md").read_text() == "licence"
    assert (target / "VERSION").read_text().strip() == "1.15.3"


def test_vendor_refuses_incomplete_dist(tmp_path):
    (tmp_path / "dist").mkdir()
    with pytest.raises(SystemExit):
        vendor.vendor(tmp_path / "dist", tmp_path / "out")


@pytest.mark.asyncio
async def test_dsfr_dist_option_serves_files(db_path, tmp_path, monkeypatch):
    dist = fake_dist(tmp_path)
    monkeypatch.setattr(
        "datasette_dsfr_theme.vendored_assets_present", lambda: False
    )
    ds = datasette_for(db_path, plugin_config={"dsfr_dist": str(dist)})
    html = (await ds.client.get("/")).text
    assert 'href="/-/dsfr-theme/dist/dsfr.min.css"' in html
    response = await ds.client.get("/-/dsfr-theme/dist/dsfr.min.css")
    assert response.status_code == 200
    assert "dsfr.min.css" in response.text
    assert (await ds.client.get("/-/dsfr-theme/dist/../../package.json")).status_code == 404


@pytest.mark.asyncio
async def test_dsfr_dist_route_absent_without_option(db_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no node_modules here
    monkeypatch.setattr("datasette_dsfr_theme.vendored_assets_present", lambda: False)
    ds = datasette_for(db_path, metadata={})
    response = await ds.client.get("/-/dsfr-theme/dist/dsfr.min.css")
    assert response.status_code == 404


def test_vendored_assets_present_for_this_checkout():
    """Not a hard requirement for the plugin, but the rest of the tests expect it."""
    if not (VENDORED_DSFR_DIR / "dsfr.min.css").exists():
        pytest.skip("DSFR non copié : python -m datasette_dsfr_theme.vendor …/dist")
    assert (VENDORED_DSFR_DIR / "fonts" / "Marianne-Regular.woff2").exists()
    assert (VENDORED_DSFR_DIR / "icons" / "system" / "search-line.svg").exists()


@pytest.mark.asyncio
async def test_node_modules_of_current_directory_as_fallback(db_path, tmp_path, monkeypatch):
    root = tmp_path / "site"
    dist = fake_dist(root / "node_modules" / "@gouvfr")
    assert dist == root / "node_modules" / "@gouvfr" / "dsfr" / "dist"
    monkeypatch.chdir(root)
    monkeypatch.setattr("datasette_dsfr_theme.vendored_assets_present", lambda: False)
    ds = datasette_for(db_path, metadata={})
    html = (await ds.client.get("/")).text
    assert 'href="/-/dsfr-theme/dist/dsfr.min.css"' in html
    assert (await ds.client.get("/-/dsfr-theme/dist/dsfr.min.css")).status_code == 200
