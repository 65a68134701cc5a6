"""Site search over every territory: /recherche (HTML, grouped by level) and /recherche.json (ranked)."""

import json

from datasette import hookimpl
from datasette.utils.asgi import Response

from oc_site.levels import LEVELS
from oc_site.pages import search_territories

MAX_RESULTS = 50
DEFAULT_JSON_LIMIT = 10


def parse_limit(request, default):
    try:
        return max(1, min(MAX_RESULTS, int(request.args.get("limit", default))))
    except ValueError:
        return default


async def recherche_json(datasette, request):
    query = request.args.get("q", "").strip()
    results = await search_territories(datasette, query, parse_limit(request, DEFAULT_JSON_LIMIT))
    return Response(json.dumps(results, ensure_ascii=False), content_type="application/json; charset=utf-8")


async def recherche_html(datasette, request):
    query = request.args.get("q", "").strip()
    results = await search_territories(datasette, query, MAX_RESULTS) if query else []
    groups = [
        {"type": kind, "titre": LEVELS[kind].group_title, "resultats": [r for r in results if r["type"] == kind]}
        for kind in LEVELS
    ]
    return Response.html(
        await datasette.render_template(
            "recherche.html",
            {"q": query, "nb_resultats": len(results), "groupes": [g for g in groups if g["resultats"]],
             "limite": MAX_RESULTS},
            request=request,
        )
    )


@hookimpl
def register_routes():
    return [
        (r"^/recherche\.json$", recherche_json),
        (r"^/recherche$", recherche_html),
    ]
