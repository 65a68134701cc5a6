"""The site's own CSS and scripts on every page: search autocomplete, skip link to the search and
wide tables (static/oc.js), French labels and the map on request of the table pages (static/carte-fr.js).
The fiches' charts (static/graphiques.js) and map (static/carte.js) are linked by templates/fiche.html."""


def css_urls(datasette) -> list[str]:
    return [datasette.urls.path("/static/oc.css")]


def js_urls(datasette, view_name) -> list[dict]:
    scripts = ["/static/recherche.js", "/static/oc.js"]
    if view_name in ("table", "database", "query", "row"):
        scripts.append("/static/carte-fr.js")
    # as modules, the site's own scripts are deferred: they no longer hold up the first paint (they wait
    # for the page anyway); carte-fr.js stays a classic script, in order with the map plugin's
    return [{"url": datasette.urls.path(path), "module": path != "/static/carte-fr.js"} for path in scripts]
