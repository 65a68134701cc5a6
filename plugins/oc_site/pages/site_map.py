"""/plan-du-site: every page of the site, with the régions and their départements (read from the database)."""

from datasette.utils.asgi import Response

from oc_site import database as pages

TERRITORIES_SQL = """
SELECT r.code AS region, r.nom AS region_nom, r.zone, d.code AS departement, d.nom AS departement_nom
FROM regions r
LEFT JOIN departements d ON d.region = r.code
ORDER BY r.zone = 'com', r.nom, d.code
"""


def group_by_region(rows) -> list[dict]:
    regions = {}
    for row in rows:
        region = regions.setdefault(row["region"], {
            "code": row["region"], "nom": row["region_nom"], "zone": row["zone"], "departements": []})
        if row["departement"] and not (row["zone"] == "com" and row["departement"] == row["region"]):
            region["departements"].append({"code": row["departement"], "nom": row["departement_nom"]})
    return list(regions.values())


async def plan_du_site(datasette, request):
    rows = pages.dicts(await datasette.get_database(pages.DATABASE).execute(TERRITORIES_SQL))
    html = await datasette.render_template("plan-du-site.html", {"regions": group_by_region(rows)}, request=request)
    return Response.html(html)


ROUTES = [(r"^/plan-du-site$", plan_du_site)]
