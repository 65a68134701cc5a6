"""The publications pages: /publications (search, filters, pagination), /publications.atom (the newest
publications of the same search, for any combination of filters). The canned queries
publications_recherche and publications_territoire (queries/*.sql) give the same lists as CSV and JSON.

The territory filter is a search field with suggestions (static/recherche.js, /recherche.json, as the
header's search); the chosen territory travels as territoire=niveau:code. Without JavaScript the
name typed (lieu) is looked up on the server: the best match is taken.

Fiches call `publications_for(conn, niveau, code)` from oc_site.publications.library (through
`db.execute_fn`) and include templates/_publications_fiche.html.
"""

import json
import math
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from urllib.parse import urlencode

from datasette.utils.asgi import Response

from oc_site.pages import old_portal
from oc_site.publications import library as store
from oc_site.levels import LEVELS
from oc_site.database import DATABASE
from oc_site.search.index import search_territories
from oc_site.taxonomy import THEMES, TYPES
from oc_site.text import normalise, strip_controls
from oc_site.urls import public_url

PAGE_SIZE = 20
FEED_SIZE = 50
FILTER_LABELS = {"q": "Recherche", "theme": "Thème", "type": "Type", "producteur": "Producteur", "annee": "Année",
                 "niveau": "Type de territoire", "territoire": "Territoire", "du": "Depuis le", "au": "Jusqu'au"}
TERRITORY_LEVEL_LABELS = {**{level: spec.group_title for level, spec in LEVELS.items()},
                          "national": "Sans territoire précis (national)"}




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


async def chosen_territory(datasette, db, request, params: dict) -> tuple[dict, dict, str]:
    """The territory filter: territoire=niveau:code (a suggestion picked, a fiche's "voir tout"), or the
    name typed in the field (lieu) when it no longer names that territory → (params, labels, notice)."""
    typed = (request.args.get("lieu") or "").strip()[:200]
    labels = await territory_labels(db, {params["territoire"]}) if params["territoire"] else {}
    current = labels.get(params["territoire"], {}).get("libelle")
    if "lieu" in request.args and (not typed or normalise(typed) != normalise(current or "")):
        params["territoire"], labels = "", {}
        if typed:
            found = await search_territories(datasette, typed, 1)
            if not found:
                return params, labels, f"Aucun territoire ne correspond à « {typed} » : filtre ignoré."
            params["territoire"] = f"{found[0]['type']}:{found[0]['code']}"
            labels = await territory_labels(db, {params["territoire"]})
    return params, labels, ""


async def filter_options(db) -> dict:
    return {
        "themes": [dict(r) for r in await db.execute("SELECT code, libelle FROM themes ORDER BY libelle")],
        "types": [dict(r) for r in await db.execute("SELECT code, libelle FROM types_ressource ORDER BY libelle")],
        "producteurs": [dict(r) for r in await db.execute(
            """SELECT o.id, o.nom, o.sigle, count(*) AS n FROM publications p
               JOIN organisations o ON o.id = p.organisation WHERE p.masquee = 0
               GROUP BY o.id ORDER BY coalesce(o.sigle, o.nom) COLLATE NOCASE""")],
        "annees": [r[0] for r in await db.execute(
            "SELECT DISTINCT annee FROM publications WHERE annee IS NOT NULL AND masquee = 0 ORDER BY annee DESC")],
        "niveaux": [{"code": code, "libelle": label} for code, label in TERRITORY_LEVEL_LABELS.items()],
    }


def feed_url(params: dict) -> str:
    chosen = {k: params[k] for k in store.SEARCH_FILTERS if params.get(k)}
    return "/publications.atom" + (f"?{urlencode(chosen)}" if chosen else "")


async def publications_page(datasette, request):
    if any(name in request.args for name in old_portal.OLD_LIBRARY_PARAMETERS):
        return await old_portal.old_library(datasette, request)  # /publications?topic=5: the original's filters
    db = datasette.get_database(DATABASE)
    args = {key: request.args.get(key) for key in store.SEARCH_FILTERS}
    params = store.search_params(args)
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    available = await has_publications(db)
    rows, total, options = [], 0, {"themes": [], "types": [], "producteurs": [], "annees": [], "niveaux": []}
    params, labels, notice = await chosen_territory(datasette, db, request, params)
    if available:
        total = (await db.execute(store.count_sql(params), store.sql_params(params))).first()[0]
        pages = max(1, math.ceil(min(total, store.COUNT_LIMIT) / PAGE_SIZE))
        page = min(page, pages)
        result = await db.execute(f"{store.page_search_sql(params)} LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}",
                                  store.sql_params(params))
        rows = [dict(r) for r in result.rows]
        options = await filter_options(db)
    else:
        pages = 1
    references = set()
    for row in rows:
        row["themes"] = [THEMES.get(t, t) for t in json.loads(row["themes"] or "[]")]
        row["territoires"] = (row["territoires"] or "").split()
        references.update(row["territoires"][:6])
    labels.update(await territory_labels(db, references - set(labels)))
    for row in rows:
        row["territoires"] = [{"ref": ref, **labels[ref]} for ref in row["territoires"][:6] if ref in labels]
    names = {
        "theme": {o["code"]: o["libelle"] for o in options["themes"]},
        "type": {o["code"]: o["libelle"] for o in options["types"]},
        "producteur": {o["id"]: o["sigle"] or o["nom"] for o in options["producteurs"]},
        "niveau": TERRITORY_LEVEL_LABELS,
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
        "notice": notice,
        "clear_url": page_url({}),
        "csv_url": f"/{DATABASE}/publications_recherche.csv?{query_string}&_size=max",
        "json_url": f"/{DATABASE}/publications_recherche.json?{query_string}&_shape=array",
        "feed_url": feed_url(params),
        "territory_label": names["territoire"].get(params["territoire"]),
        "suggestions": [{"label": o["libelle"], "url": page_url({}, theme=o["code"])} for o in options["themes"]],
    }, request=request))


def atom_feed(title: str, self_url: str, site_url: str, rows: list[dict]) -> bytes:
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    feed = ET.Element(f"{{{ns}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "fr"})

    def add(parent, tag, text=None, **attributes):
        # control characters cannot be written in XML: stripped at harvest, and here for older rows
        element = ET.SubElement(parent, f"{{{ns}}}{tag}", {k: strip_controls(v) for k, v in attributes.items()})
        if text is not None:
            element.text = strip_controls(text)
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


def feed_title(territory: str | None, params: dict) -> str:
    """« Open Collectivités — publications concernant Rennes (35) (thème : Parité) »."""
    values = {"theme": THEMES, "type": TYPES, "niveau": TERRITORY_LEVEL_LABELS}
    others = [f"{FILTER_LABELS[name].lower()} : {values.get(name, {}).get(params[name], params[name])}"
              for name in store.SEARCH_FILTERS if params[name] and name != "territoire"]
    title = "Open Collectivités — " + (f"publications concernant {territory}" if territory else "nouvelles publications")
    return title + (f" ({' ; '.join(others)})" if others else "")


async def publications_atom(datasette, request):
    """The newest publications of a library search: every filter of /publications applies."""
    db = datasette.get_database(DATABASE)
    params = store.search_params({key: request.args.get(key) for key in store.SEARCH_FILTERS})
    if request.args.get("territoire") and not params["territoire"]:
        return Response.text("Paramètre territoire invalide : attendu niveau:code, par exemple commune:35238.",
                             status=400)
    territory = None
    if params["territoire"]:
        labels = await territory_labels(db, {params["territoire"]})
        if params["territoire"] not in labels:
            return Response.text(f"Territoire inconnu : {params['territoire']}", status=404)
        territory = labels[params["territoire"]]["libelle"]
    # links from the configured public address, never from the request's Host header
    base = public_url(datasette)
    self_url = base + page_url(params).replace("/publications", "/publications.atom", 1)
    rows = []
    if await has_publications(db):
        rows = [dict(r) for r in (await db.execute(store.feed_sql(params),
                                                   {**store.sql_params(params), "limite": FEED_SIZE})).rows]
    site_url = base + page_url(params)
    return Response(atom_feed(feed_title(territory, params), self_url, site_url, rows), status=200,
                    content_type="application/atom+xml; charset=utf-8")


def template_vars() -> dict:
    return {"publication_level_labels": {level: spec.every for level, spec in LEVELS.items()}}


ROUTES = [
    (r"^/publications$", publications_page),
    (r"^/publications\.atom$", publications_atom),
]
