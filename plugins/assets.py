"""The site's own CSS and the search autocomplete script, on every page."""

from datasette import hookimpl


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.path("/static/oc.css")]


@hookimpl
def extra_js_urls(datasette):
    return [{"url": datasette.urls.path("/static/recherche.js"), "module": False}]
