"""The site's own CSS and scripts on every page: search autocomplete, skip link to the search and
wide tables (static/oc.js), French labels of the table pages' map (static/carte-fr.js); and the
DSFR charts (npm @gouvfr/dsfr-chart, pinned in package.json) served from node_modules under
/-/dsfr-chart/, for the fiches' charts."""

from datasette.utils.asgi import asgi_static

from oc_site.paths import NODE_MODULES

DSFR_CHART = NODE_MODULES / "@gouvfr" / "dsfr-chart" / "dist"


def css_urls(datasette) -> list[str]:
    return [datasette.urls.path("/static/oc.css")]


def js_urls(datasette, view_name) -> list[dict]:
    scripts = ["/static/recherche.js", "/static/oc.js"]
    if view_name in ("table", "database", "query", "row"):
        scripts.append("/static/carte-fr.js")
    # as modules, the site's own scripts are deferred: they no longer hold up the first paint (they wait
    # for the page anyway); carte-fr.js stays a classic script, in order with the map plugin's
    return [{"url": datasette.urls.path(path), "module": path != "/static/carte-fr.js"} for path in scripts]


ROUTES = [(r"^/-/dsfr-chart/(?P<path>.*)$", asgi_static(str(DSFR_CHART)))]
