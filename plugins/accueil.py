"""Home page: templates/index.html with the list of régions.

Served by its own route: Datasette's index view would inspect every table of every database on each
request (about 100 ms here) for a list of databases the home page does not show; that list stays
at /oc and in /.json.
"""

from datasette import hookimpl
from datasette.utils.asgi import Response

from oc_site import pages

REGIONS_SQL = "SELECT code, nom FROM regions WHERE zone != 'com' ORDER BY nom"


async def accueil(datasette, request):
    results = await datasette.get_database(pages.DATABASE).execute(REGIONS_SQL)
    regions = pages.dicts(results)
    html = await datasette.render_template(
        "index.html", {"regions": regions, "metadata": datasette.metadata()}, request=request, view_name="index"
    )
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/$", accueil)]
