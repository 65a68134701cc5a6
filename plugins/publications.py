"""The publications pages: /publications (search, filters, pagination), /publications.atom (new
publications, for the whole site or one territory). The canned queries publications_recherche and
publications_territoire (queries/*.sql) give the same lists as CSV and JSON.

Fiches can call `publications_for(conn, niveau, code)` from oc_site.publications (through
`db.execute_fn`) and include templates/_publications_fiche.html.
"""

import json
import math
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from oc_site import publications as store
from oc_site.levels import LEVELS
from oc_site.pages import DATABASE
from oc_site.taxonomy import THEMES

PAGE_SIZE = 20
FEED_SIZE = 50
FILTER_LABELS = {"q": "Recherche", "theme": "Thème", "type": "Type", "producteur": "Producteur", "annee": "Année",
                 "territoire": "Territoire", "du": "Depuis le", "au": "Jusqu'au"}


@hookimpl
def register_routes():
    return [
        (r"^/publications$", publications_page),
        (r"^/publications\.atom$", publications_atom),
    ]


async def has_publications(db) -> bool:
    return "publications" in await db.table_names()


async def territory_labels(db, references: set[str]) -> dict[str, dict]:
    """'commune:35238' → {"libelle": "Rennes (35)", "url": "/commune/35238", "niveau": "Commune"}."""
    pairs = [r.split(":", 1) for r in references if ":" in r]
    if not pairs:
        return {}
    clauses = " OR ".join("(type = ? AND code = ?)" for _ in pairs)
    rows = await db.execute(f"SELECT type, code, libelle, url FROM territoires WHERE {clauses}",
                            [value for pair in pairs for value in pair])
    return {f"{r['type']}:{r['code']}": {"libelle": r["libelle"], "url": r["url"],
                                         "niveau": LEVELS[r["type"]].title if r["type"] in LEVELS else r["type"]} for r in rows}


def page_url(params: dict, **changes) -> str:
    merged = {k: v for k, v in {**params, **changes}.items() if v not in ("", None) and k != "fts"}
    return "/publications" + (f"?{urlencode(merged)}" if merged else "")


async def publications_page(datasette, request):
    db = datasette.get_database(DATABASE)
    args = {key: request.args.get(key) for key in store.SEARCH_FILTERS}
    params = store.search_params(args)
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    available = await has_publications(db)
    rows, total, options = [], 0, {"themes": [], "types": [], "producteurs": [], "annees": []}
    if available:
        total = (await db.execute(store.count_sql(params), params)).first()[0]
        pages = max(1, math.ceil(min(total, store.COUNT_LIMIT) / PAGE_SIZE))
        page = min(page, pages)
        result = await db.execute(f"{store.page_search_sql(params)} LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}",
                                  params)
        rows = [dict(r) for r in result.rows]
        options = {
            "themes": [dict(r) for r in await db.execute("SELECT code, libelle FROM themes ORDER BY libelle")],
            "types": [dict(r) for r in await db.execute("SELECT code, libelle FROM types_ressource ORDER BY libelle")],
            "producteurs": [dict(r) for r in await db.execute(
                """SELECT o.id, o.nom, o.sigle, count(*) AS n FROM publications p
                   JOIN organisations o ON o.id = p.organisation GROUP BY o.id ORDER BY coalesce(o.sigle, o.nom)""")],
            "annees": [r[0] for r in await db.execute(
                "SELECT DISTINCT annee FROM publications WHERE annee IS NOT NULL ORDER BY annee DESC")],
        }
    else:
        pages = 1
    references = {params["territoire"]} if params["territoire"] else set()
    for row in rows:
        row["themes"] = [THEMES.get(t, t) for t in json.loads(row["themes"] or "[]")]
        row["territoires"] = (row["territoires"] or "").split()
        references.update(row["territoires"][:6])
    labels = await territory_labels(db, references)
    for row in rows:
        row["territoires"] = [{"ref": ref, **labels[ref]} for ref in row["territoires"][:6] if ref in labels]
    names = {
        "theme": {o["code"]: o["libelle"] for o in options["themes"]},
        "type": {o["code"]: o["libelle"] for o in options["types"]},
        "producteur": {o["id"]: o["sigle"] or o["nom"] for o in options["producteurs"]},
        "territoire": {ref: v["libelle"] for ref, v in labels.items()},
    }
    active = [
        {"name": name, "label": FILTER_LABELS[name], "value": names.get(name, {}).get(params[name], params[name]),
         "remove_url": page_url(params, **{name: ""})}
        for name in store.SEARCH_FILTERS if params[name]
    ]
    export = {k: params[k] for k in store.SEARCH_FILTERS}
    query_string = urlencode(export)
    pagination = None
    if pages > 1:
        window = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
        pagination = {
            "page": page, "pages": pages,
            "previous": page_url(params, page=page - 1) if page > 1 else None,
            "next": page_url(params, page=page + 1) if page < pages else None,
            "first": page_url(params), "last": page_url(params, page=pages),
            "links": [{"number": n, "url": page_url(params, page=n if n > 1 else "")} for n in window],
        }
    feed = "/publications.atom" + (f"?territoire={params['territoire']}" if params["territoire"] else "")
    return Response.html(await datasette.render_template("publications.html", {
        "available": available,
        "zip": zip,
        "rows": rows,
        "total": min(total, store.COUNT_LIMIT),
        "more": total > store.COUNT_LIMIT,
        "params": params,
        "page": page,
        "first_index": (page - 1) * PAGE_SIZE + 1,
        "pagination": pagination,
        "active": active,
        "options": options,
        "clear_url": page_url({}),
        "csv_url": f"/{DATABASE}/publications_recherche.csv?{query_string}&_size=max",
        "json_url": f"/{DATABASE}/publications_recherche.json?{query_string}&_shape=array",
        "feed_url": feed,
        "territory_label": names["territoire"].get(params["territoire"]),
        "suggestions": [{"label": o["libelle"], "url": page_url({}, theme=o["code"])} for o in options["themes"]],
    }, request=request))


def atom_feed(title: str, self_url: str, site_url: str, rows: list[dict]) -> bytes:
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    feed = ET.Element(f"{{{ns}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "fr"})

    def add(parent, tag, text=None, **attributes):
        element = ET.SubElement(parent, f"{{{ns}}}{tag}", attributes)
        if text is not None:
            element.text = text
        return element

    add(feed, "title", title)
    add(feed, "id", self_url)
    add(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    add(feed, "link", rel="alternate", href=site_url, type="text/html")
    updated = max((r["premiere_vue"] for r in rows), default=None) or \
        datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    add(feed, "updated", updated)
    author = add(feed, "author")
    add(author, "name", "Open Collectivités")
    for row in rows:
        entry = add(feed, "entry")
        add(entry, "title", row["titre"])
        add(entry, "id", row["url"])
        add(entry, "link", rel="alternate", href=row["url"])
        add(entry, "updated", row["premiere_vue"])
        if row.get("date_publication"):
            add(entry, "published", f"{row['date_publication']}T00:00:00Z")
        if row.get("producteur_nom"):
            add(add(entry, "author"), "name", row["producteur_nom"])
        if row.get("type_libelle"):
            add(entry, "category", term=row["type_libelle"])
        if row.get("resume"):
            add(entry, "summary", row["resume"], type="text")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


async def publications_atom(datasette, request):
    db = datasette.get_database(DATABASE)
    territory = store.search_params({"territoire": request.args.get("territoire")})["territoire"]
    if request.args.get("territoire") and not territory:
        return Response.text("Paramètre territoire invalide : attendu niveau:code, par exemple commune:35238.",
                             status=400)
    base = request.url.split("/publications.atom")[0]
    self_url = request.url
    rows = []
    title = "Open Collectivités — nouvelles publications"
    site_url = f"{base}/publications"
    if await has_publications(db):
        if territory:
            niveau, code = territory.split(":", 1)
            labels = await territory_labels(db, {territory})
            if territory not in labels:
                return Response.text(f"Territoire inconnu : {territory}", status=404)
            title = f"Open Collectivités — publications concernant {labels[territory]['libelle']}"
            site_url = f"{base}/publications?territoire={territory}"
            result = await db.execute(store.TERRITORY_NEW_SQL, {"niveau": niveau, "code": code, "limite": FEED_SIZE})
        else:
            result = await db.execute(store.ALL_NEW_SQL, {"limite": FEED_SIZE})
        rows = [dict(r) for r in result.rows]
    return Response(atom_feed(title, self_url, site_url, rows), status=200,
                    content_type="application/atom+xml; charset=utf-8")


@hookimpl
def extra_template_vars():
    return {"publication_level_labels": {name: level.every for name, level in LEVELS.items()}}
