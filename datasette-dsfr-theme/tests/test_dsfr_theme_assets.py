import pytest

from dsfr_theme_helpers import datasette_for
from datasette_dsfr_theme import vendor
from datasette_dsfr_theme.config import VENDORED_DSFR_DIR


BANNER = "/*!\n * DSFR v1.15.3 | licence\n */"


def fake_dist(root, version="1.15.3"):
    """A miniature DSFR dist folder: core, scheme, icons, two components (one used by the theme)."""
    dist = root / "dsfr" / "dist"
    files = {name: "/* {} */".format(name) for name in vendor.FILES}
    files.update({
        "dsfr.min.css": "/* dsfr.min.css */",
        "core/core.main.min.css": BANNER + "@font-face{src:url(../fonts/sub/file.woff2)}.fr-container{}",
        "scheme/scheme.min.css": BANNER + ".fr-scheme{}",
        "core/core.module.min.js": BANNER + "const core=1;",
        "scheme/scheme.module.min.js": BANNER + "const scheme=1;",
        "utility/icons/icons.main.min.css": BANNER
        + ".fr-icon-download-line:after,.fr-icon-download-line:before{mask-image:url(../../icons/sub/file.svg)}"
        + ".fr-icon-unused:after{mask-image:url(../../icons/sub/other.svg)}",
        "component/button/button.main.min.css": BANNER + ".fr-btn{background:url(../../icons/sub/btn.svg)}",
        "component/button/button.module.min.js": BANNER + "const button=1;",
        "component/button/README.md": '<link href="css/core/core.min.css"><link href="css/button/button.min.css">',
        "component/tile/tile.main.min.css": BANNER + ".fr-tile-unused{}",
        "icons/sub/file.svg": "<svg/>", "icons/sub/other.svg": "<svg/>", "icons/sub/btn.svg": "<svg/>",
    })
    for name, text in files.items():
        (dist / name).parent.mkdir(parents=True, exist_ok=True)
        (dist / name).write_text(text, encoding="utf-8")
    (dist / "fonts" / "sub").mkdir(parents=True, exist_ok=True)
    for name in ("file.woff2", "unreferenced.woff2", "ignored.map"):
        (dist / "fonts" / "sub" / name).write_text("x", encoding="utf-8")
    (root / "dsfr" / "package.json").write_text('{"version": "%s"}' % version, encoding="utf-8")
    (root / "dsfr" / "LICENSE.md").write_text("licence", encoding="utf-8")
    return dist


def test_vendor_keeps_only_the_parts_in_use(tmp_path):
    dist = fake_dist(tmp_path)
    target = tmp_path / "out"
    site = tmp_path / "site.html"
    site.write_text('<a class="fr-link fr-icon-download-line">', encoding="utf-8")
    vendor.vendor(dist, target, scan=[site])
    css = (target / "dsfr.min.css").read_text()
    # core, scheme, the used component; urls rewritten for the root; one licence banner
    assert ".fr-container" in css and ".fr-scheme" in css and ".fr-btn" in css and "fr-tile" not in css
    # the icons written into the stylesheets, the fonts loaded from their files
    assert "url(fonts/sub/file.woff2)" in css and 'url("data:image/svg+xml,%3Csvg/%3E")' in css
    assert "icons/sub" not in css
    assert css.count("DSFR v1.15.3") == 1
    assert "const core=1" in (target / "dsfr.module.min.js").read_text()
    assert "const button=1" in (target / "dsfr.module.min.js").read_text()
    assert "const scheme=1" in (target / "dsfr.module.min.js").read_text()
    icons = (target / "utility/icons/icons.min.css").read_text()
    assert "fr-icon-download-line" in icons and "fr-icon-unused" not in icons
    assert 'mask-image:url("data:image/svg+xml,%3Csvg/%3E")' in icons
    assert not (target / "icons").exists()  # no request for an icon
    assert (target / "fonts" / "sub" / "file.woff2").exists()
    assert not (target / "fonts" / "sub" / "ignored.map").exists()
    assert not (target / "fonts" / "sub" / "unreferenced.woff2").exists()  # only the fonts the CSS names
    assert (target / "LICENSE.md").read_text() == "licence"
    assert (target / "VERSION").read_text().strip() == "1.15.3"
    assert (target / "COMPONENTS").read_text().split() == ["button"]


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
    css = (VENDORED_DSFR_DIR / "dsfr.min.css").read_text(encoding="utf-8")
    assert "data:image/svg+xml," in css and "url(icons/" not in css  # the search button's icon, written in


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


def test_the_medium_marianne_face_is_left_out_of_the_bundle():
    from datasette_dsfr_theme.vendor import without_font_faces

    css = ("@font-face{font-display:swap;font-family:Marianne;font-style:normal;font-weight:500;"
           "src:url(fonts/Marianne-Medium.woff2) format(\"woff2\")}"
           "@font-face{font-display:swap;font-family:Marianne;font-style:normal;font-weight:400;"
           "src:url(fonts/Marianne-Regular.woff2) format(\"woff2\")}"
           "@font-face{font-family:Spectral;font-weight:500;src:url(fonts/Spectral.woff2)}.fr-btn{font-weight:500}")
    kept = without_font_faces(css)
    assert "Marianne-Medium" not in kept
    assert "Marianne-Regular.woff2" in kept and "Spectral.woff2" in kept and ".fr-btn{font-weight:500}" in kept


def test_the_vendored_fonts_are_those_the_stylesheet_names():
    if not (VENDORED_DSFR_DIR / "dsfr.min.css").exists():
        pytest.skip("DSFR non copié : python -m datasette_dsfr_theme.vendor …/dist")
    css = (VENDORED_DSFR_DIR / "dsfr.min.css").read_text(encoding="utf-8")
    assert "Marianne-Medium" not in css
    assert not list((VENDORED_DSFR_DIR / "fonts").glob("Marianne-Medium*"))
    assert (VENDORED_DSFR_DIR / "fonts" / "Marianne-Bold.woff2").exists()
