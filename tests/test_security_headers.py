"""Security headers (plugins/oc_site/http/security_headers.py) and a Content-Security-Policy that the pages obey.

Every resource a page loads (scripts, style sheets, images, fonts referenced by the CSS, forms) is
checked against the policy the same response carries, so a page or theme that starts loading an
asset from elsewhere — or a policy that forgets one — fails here rather than in a browser.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from datasette.app import Datasette

from conftest import ROOT

# Pages whose HTML is checked against the policy; extend with new HTML pages (fiches…).
HTML_PAGES = [
    "/",
    "/oc",
    "/oc/communes",
    "/oc/communes/35238",
    "/oc/epci/243500139",
    "/oc?sql=select+code_insee,+nom+from+communes+limit+3",
    "/-/metadata",
    "/commune/35238",
    "/epci/243500139",
    "/departement/35",
    "/region/53",
    "/recherche?q=rennes",
    "/comparer?codes=35238,44109",
    "/publications",
    "/sources",
]
OTHER_RESPONSES = ["/oc/communes.json", "/oc/communes.csv?_stream=on", "/oc.db", "/-/static/app.css"]


def parse_csp(value: str) -> dict[str, list[str]]:
    directives = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def allowed(directives: dict, directive: str, url: str, page_url: str) -> bool:
    """Does this CSP source list allow `url`, fetched from `page_url`? (CSP level 3 matching, simplified)"""
    sources = directives.get(directive, directives.get("default-src", []))
    absolute = urlsplit(urljoin(page_url, url))
    page = urlsplit(page_url)
    if absolute.scheme == "data":
        return "data:" in sources
    for source in sources:
        if source == "'self'" and (absolute.scheme, absolute.netloc) == (page.scheme, page.netloc):
            return True
        if "://" in source:
            scheme, host = source.split("://", 1)
            host = host.split("/")[0]
            if scheme != absolute.scheme:
                continue
            if host == absolute.hostname or (
                host.startswith("*.") and (absolute.hostname or "").endswith(host[1:])
            ):
                return True
    return False


class Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.loads = []  # (directive, url)
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("style"):
            self.inline_styles += 1
        if tag == "script":
            if attrs.get("src"):
                self.loads.append(("script-src", attrs["src"]))
            else:
                self._in_script = True
        elif tag == "link" and attrs.get("href"):
            rel = (attrs.get("rel") or "").lower()
            if "stylesheet" in rel:
                self.loads.append(("style-src", attrs["href"]))
            elif "icon" in rel:
                self.loads.append(("img-src", attrs["href"]))
            elif "manifest" in rel:
                self.loads.append(("manifest-src", attrs["href"]))
        elif tag in ("img", "source") and attrs.get("src"):
            self.loads.append(("img-src", attrs["src"]))
        elif tag == "style":
            self.inline_styles += 1
        elif tag in ("iframe", "frame") and attrs.get("src"):
            self.loads.append(("frame-src", attrs["src"]))
        elif tag in ("object", "embed"):
            self.loads.append(("object-src", attrs.get("data") or attrs.get("src") or ""))
        elif tag == "form" and attrs.get("action"):
            self.loads.append(("form-action", attrs["action"]))

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1
        self._in_script = False

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


@pytest.mark.parametrize("path", HTML_PAGES + OTHER_RESPONSES)
async def test_every_response_carries_the_security_headers(fixture_ds, path):
    response = await fixture_ds.client.get(path)
    assert response.status_code == 200, path
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] in ("no-referrer", "strict-origin-when-cross-origin")
    assert "camera=()" in headers["permissions-policy"] and "geolocation=()" in headers["permissions-policy"]
    csp = parse_csp(headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-eval'" not in " ".join(sum(csp.values(), []))
    assert "strict-transport-security" not in headers  # only over HTTPS


async def test_hsts_only_behind_https(fixture_ds):
    response = await fixture_ds.client.get("/oc", headers={"x-forwarded-proto": "https"})
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


@pytest.mark.parametrize("path", HTML_PAGES)
async def test_pages_load_only_what_the_policy_allows(fixture_ds, path):
    response = await fixture_ds.client.get(path)
    assert response.status_code == 200
    page_url = str(response.url)
    csp = parse_csp(response.headers["content-security-policy"])
    resources = Resources()
    resources.feed(response.text)
    assert resources.loads, "page without any resource: the parser saw nothing"
    for directive, url in resources.loads:
        assert allowed(csp, directive, url, page_url), f"{path}: {directive} bloquerait {url}"
    if resources.inline_scripts:
        assert "'unsafe-inline'" in csp["script-src"], f"{path}: scripts en ligne bloqués"
    if resources.inline_styles:
        assert "'unsafe-inline'" in csp["style-src"]
    # fonts and images referenced by the site's own style sheets
    for directive, url in resources.loads:
        if directive != "style-src" or urlsplit(urljoin(page_url, url)).netloc != urlsplit(page_url).netloc:
            continue
        css = await fixture_ds.client.get(urlsplit(urljoin(page_url, url)).path)
        assert css.status_code == 200, url
        for reference in CSS_URL.findall(css.text):
            target = urljoin(urljoin(page_url, url), reference)
            kind = "font-src" if re.search(r"\.(woff2?|ttf|otf|eot)(\?|$)", reference) else "img-src"
            assert allowed(csp, kind, target, page_url), f"{url} : {kind} bloquerait {reference}"


async def test_map_tiles_host_is_allowed_and_configurable(fixture_db, fixture_ds):
    csp = parse_csp((await fixture_ds.client.get("/oc/communes")).headers["content-security-policy"])
    page = "http://localhost/oc/communes"
    assert allowed(csp, "img-src", "https://a.tile.openstreetmap.org/5/15/11.png", page)
    assert not allowed(csp, "img-src", "https://tiles.example.org/5/15/11.png", page)
    assert not allowed(csp, "script-src", "https://cdn.example.org/x.js", page)

    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    plugins = metadata.setdefault("plugins", {})
    plugins["datasette-cluster-map"] = {"tile_layer": "https://{s}.tuiles.example.fr/{z}/{x}/{y}.png"}
    plugins["security-headers"] = {"img_src": ["https://ortho.example.fr"]}
    ds = Datasette([], immutables=[str(fixture_db)], metadata=metadata)
    csp = parse_csp((await ds.client.get("/oc/communes")).headers["content-security-policy"])
    assert allowed(csp, "img-src", "https://b.tuiles.example.fr/5/15/11.png", page)
    assert allowed(csp, "img-src", "https://ortho.example.fr/wmts?x=1", page)
    assert not allowed(csp, "img-src", "https://a.tile.openstreetmap.org/5/15/11.png", page)


def test_tile_template_to_csp_source():
    from oc_site.http.security_headers import source_of

    assert source_of("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://*.tile.openstreetmap.org"
    assert source_of("https://tiles.example.fr/{z}/{x}/{y}.png") == "https://tiles.example.fr"
    assert source_of("https://tiles-{s}.example.fr/{z}.png") == "https://*.example.fr"
    assert source_of("/local/{z}/{x}/{y}.png") is None
