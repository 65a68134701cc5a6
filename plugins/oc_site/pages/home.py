"""Home page: templates/index.html with the list of régions and the publications "À la une" (the
heaviest, then the newest: the weights are set in data/publications.yml).

Served by its own route: Datasette's index view would inspect every table of every database on each
request (about 100 ms here) for a list of databases the home page does not show; that list stays
at /oc and in /.json.
"""

from datasette.utils.asgi import Response

from oc_site import database as pages
from oc_site.publications.library import featured

REGIONS_SQL = "SELECT code, nom FROM regions WHERE zone != 'com' ORDER BY nom"


async def accueil(datasette, request):
    db = datasette.get_database(pages.DATABASE)
    regions = pages.dicts(await db.execute(REGIONS_SQL))
    html = await datasette.render_template(
        "index.html", {"regions": regions, "a_la_une": await featured(db), "metadata": datasette.metadata()},
        request=request, view_name="index"
    )
    return Response.html(html)


ROUTES = [(r"^/$", accueil)]
