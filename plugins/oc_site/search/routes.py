"""Site search over every territory: /recherche (HTML, paginated, filtered by level) and /recherche.json (ranked);
/niveaux.json, the levels' names that the search script shows (static/recherche.js).

/recherche.json keeps its contract (brief §5: a JSON array, best match first) and is paginated around it:
`page` (from 1) and `limit` (the page's size, 1 to MAX_RESULTS) choose the slice of the same ranking as the
HTML search; the total goes in the `X-Total-Count` header, the other pages in a `Link` header (first, prev,
next, last; RFC 8288), so that a client reading the array alone sees no change."""

import json
import math
from urllib.parse import urlencode

from datasette.utils.asgi import Response

from oc_site.levels import LEVELS, names_for_scripts
from oc_site.search.index import count_territories, search_territories

MAX_RESULTS = 50  # per page of /recherche.json
DEFAULT_JSON_LIMIT = 10
PAGE_SIZE = 20  # of /recherche


def parse_limit(request, default):
    try:
        return max(1, min(MAX_RESULTS, int(request.args.get("limit", default))))
    except ValueError:
        return default


def parse_level(request) -> str:
    """The level filter (?niveau=commune…), or '' for every level."""
    level = request.args.get("niveau", "")
    return level if level in LEVELS else ""


def parse_page(request) -> int:
    try:
        return max(1, int(request.args.get("page") or 1))
    except ValueError:
        return 1


def total_of(counts: dict[str, int], level: str) -> int:
    """How many territories match, of one level or of all."""
    return counts.get(level, 0) if level else sum(counts.values())


def search_url(q: str, level: str = "", page: int = 1) -> str:
    params = {"q": q, **({"niveau": level} if level else {}), **({"page": page} if page > 1 else {})}
    return "/recherche?" + urlencode(params)


def pagination(q: str, level: str, page: int, pages: int) -> dict | None:
    """Links of the DSFR pagination: first, previous, a window around the page, next, last."""
    if pages <= 1:
        return None
    window = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    return {
        "page": page, "pages": pages,
        "first": search_url(q, level), "last": search_url(q, level, pages),
        "previous": search_url(q, level, page - 1) if page > 1 else None,
        "next": search_url(q, level, page + 1) if page < pages else None,
        "links": [{"number": n, "url": search_url(q, level, n)} for n in window],
    }


def json_url(q: str, level: str, limit: int, page: int) -> str:
    params = {"q": q, **({"niveau": level} if level else {}), "limit": limit, "page": page}
    return "/recherche.json?" + urlencode(params)


def link_header(q: str, level: str, limit: int, page: int, pages: int) -> str:
    """The other pages of a JSON search (RFC 8288): first, prev, next, last."""
    links = {"first": 1, "prev": min(page - 1, pages) if page > 1 else None, "next": page + 1 if page < pages else None,
             "last": pages}
    return ", ".join(f'<{json_url(q, level, limit, n)}>; rel="{rel}"' for rel, n in links.items() if n)


async def recherche_json(datasette, request):
    query = request.args.get("q", "").strip()
    level, limit, page = parse_level(request), parse_limit(request, DEFAULT_JSON_LIMIT), parse_page(request)
    results = await search_territories(datasette, query, limit, level, (page - 1) * limit)
    if page == 1 and len(results) < limit:  # all of them (the suggestions of a name typed, mostly): no count
        total = len(results)
    else:
        total = total_of(await count_territories(datasette, query), level)
    headers = {"X-Total-Count": str(total)}
    if total:
        headers["Link"] = link_header(query, level, limit, page, math.ceil(total / limit))
    return Response(json.dumps(results, ensure_ascii=False), content_type="application/json; charset=utf-8",
                    headers=headers)


async def recherche_html(datasette, request):
    query = request.args.get("q", "").strip()
    level = parse_level(request)
    counts = await count_territories(datasette, query) if query else {}
    total = total_of(counts, level)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(parse_page(request), pages)
    results = await search_territories(datasette, query, PAGE_SIZE, level, (page - 1) * PAGE_SIZE) if total else []
    filters = [{"niveau": "", "libelle": "Tous les niveaux", "nombre": sum(counts.values()),
                "url": search_url(query)}] + [
        {"niveau": level, "libelle": spec.group_title, "nombre": counts[level], "url": search_url(query, level)}
        for level, spec in reversed(LEVELS.items()) if counts.get(level)
    ]
    return Response.html(
        await datasette.render_template(
            "recherche.html",
            {"q": query, "niveau": level, "resultats": results, "total": total, "page": page,
             "premier": (page - 1) * PAGE_SIZE + 1, "filtres": filters if len(counts) > 1 else [],
             "pagination": pagination(query, level, page, pages)},
            request=request,
        )
    )


async def niveaux_json(datasette, request):
    return Response(json.dumps(names_for_scripts(), ensure_ascii=False), content_type="application/json; charset=utf-8")


ROUTES = [
    (r"^/recherche\.json$", recherche_json),
    (r"^/niveaux\.json$", niveaux_json),
    (r"^/recherche$", recherche_html),
]
