"""The site's own CSS and the search autocomplete script, on every page."""

from datasette import hookimpl


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.path("/static/oc.css")]


@hookimpl
def extra_js_urls(datasette):
    # as a module the script is deferred: it no longer holds up the first paint (it waits for the page anyway)
    return [{"url": datasette.urls.path("/static/recherche.js"), "module": True}]
