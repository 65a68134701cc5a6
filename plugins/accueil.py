"""Home page: the list of régions, for templates/index.html."""

from datasette import hookimpl

REGIONS_SQL = "SELECT code, nom FROM regions WHERE zone != 'com' ORDER BY nom"


@hookimpl
def extra_template_vars(view_name, datasette):
    if view_name != "index":
        return {}

    async def inner():
        try:
            db = datasette.get_database("oc")
        except KeyError:
            return {"regions": []}
        results = await db.execute(REGIONS_SQL)
        return {"regions": [dict(zip(results.columns, row)) for row in results.rows]}

    return inner
