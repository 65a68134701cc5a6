"""The `lien_web` template filter: an address rendered as a link only if it is http(s).

Addresses shown as links come from the data (publications harvested from feeds, the `url:` of an
indicator mapping, the mayor's site): checked when they are stored, and once more here, where they
are rendered, so that a `javascript:` or `data:` address coming from an older oc.db or a new loader
can never reach an href (the Content-Security-Policy allows inline scripts).
"""

from datasette import hookimpl

from oc_site.pages import web_url


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["lien_web"] = web_url
