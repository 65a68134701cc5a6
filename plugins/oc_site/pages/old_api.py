"""The original portal's public API (/api/, v1: brief §7), each address answered with its equivalent JSON or a
pointer to it.

- The taxonomy (/api/core/scopes, topics, document_types, filters) is answered here, in the original's shape
  (`id`, `name`) with this site's code and library address added: its clients keep working.
- Lists and searches redirect (301) to the Datasette JSON (`_shape=array`: a list of objects, as the original
  gave) or to /recherche.json of the same data.
- What has no equivalent answers a JSON body naming the nearest address: `{"erreur": …, "nouvelle_adresse": …}`,
  404 for what the original did not have either, 410 for what it had and is gone.

The original (github.com/entrepreneur-interet-general/opencollectivites, config/api.py, core/api.py, and the
django-francedata package's francedata/api.py) named every territory by its SIREN; this site names communes by
their INSEE code and finds them by SIREN, EPCI by SIREN, départements and régions by their INSEE code (their
SIREN is in none of the sources: an INSEE code is accepted in its place).
"""

import json
from urllib.parse import urlencode

from datasette.utils.asgi import Response

from oc_site.database import DATABASE, query_url
from oc_site.levels import LEVELS, is_code_of
from oc_site.pages.old_portal import OLD_DOCUMENT_TYPES, OLD_SCOPES, OLD_TOPICS, dispatcher, old_id, permanent
from oc_site.taxonomy import THEMES, TYPES

HELP = "/faq#adresses"
# the original's names of the levels in its addresses (/api/france/epcis, /api/france/epcidata/…)
OLD_LEVELS = {"regions": "region", "departements": "departement", "epcis": "epci", "communes": "commune"}
COMMUNE_BY_SIREN_SQL = "SELECT code_insee FROM communes WHERE siren = :siren"


def json_response(data, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status,
                    content_type="application/json; charset=utf-8")


def pointer(message: str, new_address: str, status: int = 404) -> Response:
    """No equivalent: what to use instead."""
    return json_response({"erreur": message, "nouvelle_adresse": new_address, "aide": HELP}, status)


# --- /api/core: the publications' taxonomy and documents ---------------------------------------------------

def topic(old: int) -> dict:
    code = OLD_TOPICS[old]
    return {"id": old, "name": THEMES[code], "code": code, "publications": f"/publications?theme={code}"}


def document_type(old: int) -> dict:
    code = OLD_DOCUMENT_TYPES[old]
    return {"id": old, "name": TYPES[code], "code": code, "publications": f"/publications?type={code}"}


def scope(old: int) -> dict:
    name, level = OLD_SCOPES[old]
    return {"id": old, "name": name, "niveau": level,
            "publications": f"/publications?niveau={level}" if level else None}


TAXONOMY = {"topics": (OLD_TOPICS, topic), "document_types": (OLD_DOCUMENT_TYPES, document_type),
            "scopes": (OLD_SCOPES, scope)}


async def taxonomy(datasette, request):
    """/api/core/topics, /api/core/topics/5 (and scopes, document_types)."""
    ids, describe = TAXONOMY[request.url_vars["liste"]]
    if (value := request.url_vars.get("id")) is None:
        return json_response([describe(old) for old in ids])
    if old_id(value) not in ids:
        return pointer(f"Identifiant inconnu de l'ancien portail : {value}.", f"/api/core/{request.url_vars['liste']}")
    return json_response(describe(old_id(value)))


async def filters(datasette, request):
    return json_response({name: [describe(old) for old in ids] for name, (ids, describe) in TAXONOMY.items()})


async def documents(datasette, request):
    """/api/core/documents?topic&scope&document_type → the library's canned query in JSON, same filters. The
    original's `page` (a type of page, not a page number), `limit` and `offset` have no equivalent there."""
    params = {}
    for name, target, ids in (("topic", "theme", OLD_TOPICS), ("document_type", "type", OLD_DOCUMENT_TYPES)):
        if value := request.args.get(name):
            if old_id(value) not in ids:
                return pointer(f"Valeur inconnue de l'ancien portail : {name}={value}.", "/api/core/filters")
            params[target] = ids[old_id(value)]
    if value := request.args.get("scope"):
        if old_id(value) not in OLD_SCOPES:
            return pointer(f"Valeur inconnue de l'ancien portail : scope={value}.", "/api/core/filters")
        name, level = OLD_SCOPES[old_id(value)]
        if level is None:
            return pointer(f"Le type de territoire « {name} » de l'ancien portail n'a pas d'équivalent.",
                           query_url(datasette, "publications_recherche", ".json", **params, _shape="array"), 410)
        params["niveau"] = level
    return permanent(query_url(datasette, "publications_recherche", ".json", **params, _shape="array"))


async def document(datasette, request):
    """/api/core/documents/12: the original's numbering of its documents is not kept (they are named by address)."""
    return pointer("Les publications ne sont plus désignées par le numéro de l'ancien portail, mais par leur "
                   "adresse : cherchez-les dans la table des publications ou dans la bibliothèque.",
                   f"{datasette.urls.table(DATABASE, 'publications')}.json?_shape=array", 410)


# --- /api/france: territories and their data ------------------------------------------------------------

async def territory_code(datasette, level: str, identifier: str) -> str | None:
    """The code of a territory named as the original named it: a commune by SIREN (or INSEE code), an EPCI by
    SIREN; a département or a région by INSEE code (their SIREN is not in the data). None if unknown."""
    db = datasette.get_database(DATABASE)
    if level == "commune" and is_code_of("epci", identifier):  # nine digits: a SIREN
        row = (await db.execute(COMMUNE_BY_SIREN_SQL, {"siren": identifier})).first()
        return row[0] if row else None
    spec = LEVELS[level]
    code = identifier.upper()
    if not is_code_of(level, code):
        return None
    row = (await db.execute(f"SELECT 1 FROM {spec.table} WHERE {spec.key} = ?", [code])).first()
    return code if row else None


def unknown_territory(datasette, level: str, identifier: str) -> Response:
    spec = LEVELS[level]
    name = "SIREN ou code INSEE" if level == "commune" else "SIREN" if level == "epci" else "code INSEE"
    note = "" if level in ("commune", "epci") else f" Les {spec.plural} sont désignés ici par leur code INSEE, " \
        "leur SIREN n'étant dans aucune des sources."
    return pointer(f"Aucun territoire de niveau « {spec.label} » n'a ce {name} : {identifier}.{note}",
                   f"{datasette.urls.table(DATABASE, spec.table)}.json?_shape=array")


async def subdivisions(datasette, request):
    """/api/france/subdivisions/renn?category=communes → /recherche.json (one COG here: `year` is not read)."""
    params = {"q": request.url_vars["q"]}
    if (category := request.args.get("category")) in OLD_LEVELS:
        params["niveau"] = OLD_LEVELS[category]
    return permanent("/recherche.json?" + urlencode(params))


async def territories(datasette, request):
    """/api/france/regions, /api/france/regions/<id> (and departements, epcis, communes, communes/siren/<siren>,
    communes/insee/<insee>)."""
    level = OLD_LEVELS[request.url_vars["liste"]]
    spec = LEVELS[level]
    identifier = request.url_vars.get("id")
    if identifier is None:
        return permanent(f"{datasette.urls.table(DATABASE, spec.table)}.json?_shape=array")
    kind = request.url_vars.get("par")
    if kind and not is_code_of("epci" if kind == "siren" else "commune", identifier.upper()):
        return unknown_territory(datasette, level, identifier)
    code = await territory_code(datasette, level, identifier)
    if code is None:
        return unknown_territory(datasette, level, identifier)
    return permanent(f"{datasette.urls.row(DATABASE, spec.table, code)}.json?_shape=array")


async def territory_data(datasette, request):
    """/api/france/communedata/<siren>[/latest|/<year>] (and regiondata, departementdata, epcidata): every value
    of every indicator, the latest ones, or one year's."""
    level, identifier, year = (request.url_vars.get(k) for k in ("niveau", "id", "annee"))
    code = await territory_code(datasette, level, identifier)
    if code is None:
        return unknown_territory(datasette, level, identifier)
    if year == "latest":
        return permanent(query_url(datasette, "indicateurs_territoire", ".json", niveau=level, code=code,
                                   _shape="array"))
    if year:
        return permanent(f"{datasette.urls.table(DATABASE, 'valeurs')}.json?" + urlencode(
            {"niveau": level, "code": code, "annee": year, "_shape": "array"}))
    return permanent(query_url(datasette, "indicateurs_d_un_territoire", ".json", niveau=level, code=code,
                               _shape="array"))


async def unknown(datasette, request):
    return pointer(f"Adresse inconnue de l'ancienne API : {request.path}. Les données sont servies en JSON par "
                   "chaque table et chaque requête de la base.", f"/{DATABASE}.json")


LISTS = "|".join(TAXONOMY)
OLD_API = [
    (rf"^/api/core/(?P<liste>{LISTS})/?$", taxonomy),
    (rf"^/api/core/(?P<liste>{LISTS})/(?P<id>[^/]+)/?$", taxonomy),
    (r"^/api/core/filters/?$", filters),
    (r"^/api/core/documents/?$", documents),
    (r"^/api/core/documents/(?P<id>[^/]+)/?$", document),
    (r"^/api/france/subdivisions/(?P<q>[^/]+)/?$", subdivisions),
    (r"^/api/france/(?P<liste>regions|departements|epcis|communes)/?$", territories),
    (r"^/api/france/(?P<liste>communes)/(?P<par>siren|insee)/(?P<id>[^/]+)/?$", territories),
    (r"^/api/france/(?P<liste>regions|departements|epcis|communes)/(?P<id>[^/]+)/?$", territories),
    (rf"^/api/france/(?P<niveau>{'|'.join(LEVELS)})data/(?P<id>[^/]+)(?:/(?P<annee>latest|\d{{4}}))?/?$",
     territory_data),
    (r"^/api(?:/.*)?$", unknown),
]
ROUTES = [(r"^/api(?:/.*)?$", dispatcher(OLD_API))]
