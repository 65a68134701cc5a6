"""Every Datasette hook of the site, in one place: each hands the work to the wing that does it.

This module is the site's one plugin (pyproject.toml, `[project.entry-points.datasette]`). Where the order
matters it is written here: the HTTP layers (http/stack.py), the start-up tasks (below).
"""

from datasette import hookimpl

from oc_site import comparison
from oc_site.datasette_pages import canned_queries as queries
from oc_site.datasette_pages import client_errors, labels, metadata, sqlite_limits, templates
from oc_site.fiches import routes as fiches
from oc_site.http import stack
from oc_site.pages import assets, home, old_api, old_portal, operator, seo, site_map, sitemap, sources
from oc_site.publications import routes as publications
from oc_site.search import routes as search


@hookimpl
def register_routes():
    return [*search.ROUTES, *home.ROUTES, *fiches.ROUTES, *comparison.ROUTES, *site_map.ROUTES, *sitemap.ROUTES,
            *publications.ROUTES, *queries.ROUTES, *old_api.ROUTES,
            *old_portal.ROUTES]  # last: its addresses with a trailing slash are those no other route answers


@hookimpl(trylast=True)  # the outermost wrapper: around every other plugin's (the theme's versioned assets)
def asgi_wrapper(datasette):
    return lambda app: stack.wrap(datasette, app)  # called for each app Datasette builds


@hookimpl(trylast=True)  # after the other plugins' start-up (the theme's)
def startup(datasette):
    async def start():
        await labels.read_labels(datasette)  # French labels of columns and coded values, from the data
        await metadata.prepare(datasette)  # descriptions of the wide views from the catalogue, then read-only
        await stack.shared_state(datasette).etag.compute(datasette)  # content hash + site version (of the metadata)

    return start


@hookimpl
def prepare_jinja2_environment(env, datasette):
    templates.prepare_environment(env)
    operator.add_to_environment(env, datasette)


@hookimpl
def extra_template_vars(template, datasette, database, table):
    async def template_vars():
        return {**sources.template_vars(template, datasette), **publications.template_vars(),
                **await seo.template_vars(datasette, template, database, table)}

    return template_vars


@hookimpl
def extra_css_urls(datasette):
    return assets.css_urls(datasette)


@hookimpl(tryfirst=True)  # before the map plugin's script: carte-fr.js sets its French labels
def extra_js_urls(datasette, view_name):
    return assets.js_urls(datasette, view_name)


@hookimpl
def canned_queries(database):
    return queries.for_database(database)


@hookimpl
def prepare_connection(conn):
    sqlite_limits.prepare_connection(conn)


@hookimpl(tryfirst=True)  # before Datasette's own error page
def handle_exception(datasette, request, exception):
    return client_errors.handle_exception(datasette, request, exception)
