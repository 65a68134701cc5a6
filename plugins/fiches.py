"""Fiches: one page per territory, /commune/<code>, /epci/<siren>, /departement/<code>, /region/<code>.

Every block of a fiche is the result of a canned query of metadata.yml (the same SQL that the
"voir la requête" links open), so that the pages and the SQL interface never drift apart.
"""

import json
import re
from urllib.parse import unquote, urlencode

from datasette import hookimpl
from datasette_cluster_map import TILE_LAYER, TILE_LAYER_OPTIONS
from datasette.utils.asgi import Response

from loaders import pages
from loaders.publications import publications_for_db

DATABASE = pages.DATABASE
LIST_LIMIT = 50
CHART_LIMIT = 15
SORTS = {
    "nom": "nom",
    "population": "population",
    "superficie": "superficie_km2",
    "densite": "densite",
}

INSEE_DOSSIER = "https://www.insee.fr/fr/statistiques/2011101?geo={}"
ANNUAIRE_ENTREPRISES = "https://annuaire-entreprises.data.gouv.fr/entreprise/{}"
OBSERVATOIRE = "https://www.observatoire-des-territoires.gouv.fr/"
BANATIC = "https://www.banatic.interieur.gouv.fr/"

DROM_REGIONS = {"971": "01", "972": "02", "973": "03", "974": "04", "976": "06"}
NOTES = {
    ("commune", "75056"): "Paris est à la fois une commune et un département : la Ville de Paris est une "
    "collectivité à statut particulier. Ses 20 arrondissements municipaux sont listés plus bas.",
    ("departement", "75"): "Paris est à la fois une commune et un département : la Ville de Paris est une "
    "collectivité à statut particulier.",
    ("departement", "69"): "Le code 69 du COG couvre à la fois le département du Rhône et la Métropole de Lyon, "
    "collectivité à statut particulier qui exerce les compétences départementales sur son territoire "
    "(EPCI 200046977, listé parmi les EPCI ci-dessous).",
    ("epci", "200046977"): "La Métropole de Lyon est une collectivité territoriale à statut particulier : elle "
    "exerce aussi les compétences du département sur ses communes, détachées du département du Rhône.",
    ("region", "94"): "La Collectivité de Corse exerce les compétences de la région et des deux départements "
    "(Corse-du-Sud, 2A, et Haute-Corse, 2B).",
    ("departement", "2A"): "Depuis 2018, la Collectivité de Corse exerce les compétences des départements de "
    "Corse-du-Sud (2A) et de Haute-Corse (2B) et de la région.",
    ("departement", "2B"): "Depuis 2018, la Collectivité de Corse exerce les compétences des départements de "
    "Corse-du-Sud (2A) et de Haute-Corse (2B) et de la région.",
}


async def canned(datasette, name: str, **params) -> list[dict]:
    rows, _ = await pages.canned(datasette, name, **params)
    return rows


def query_url(datasette, name: str, **params) -> str:

    return datasette.urls.database(DATABASE) + "/" + name + "?" + urlencode(params)


def sorted_rows(rows, request, default="population"):
    """Sort a list as asked by ?tri=…&ordre=… (small lists: sorted here, not in SQL)."""
    key = request.args.get("tri", default)
    column = SORTS.get(key, SORTS[default])
    descending = request.args.get("ordre", "desc" if column != "nom" else "asc") == "desc"
    present = [r for r in rows if r.get(column) is not None]
    missing = [r for r in rows if r.get(column) is None]
    present.sort(key=lambda r: r[column], reverse=descending)
    return present + missing, key if key in SORTS else default, "desc" if descending else "asc"


def map_points(rows, kind, code_key, name_key="nom"):
    return [
        {"nom": r[name_key], "lat": r["latitude"], "lon": r["longitude"], "url": f"/{kind}/{r[code_key]}"}
        for r in rows if r.get("latitude") is not None
    ]


def chart(rows, code_key, kind, limit=CHART_LIMIT):
    """The most populated items, for a bar chart in pure HTML."""
    return pages.bars(rows, url=lambda r: f"/{kind}/{r[code_key]}", limit=limit)


def tile_config(datasette):
    """The tiles of datasette-cluster-map's configuration (or its defaults), so both maps agree."""
    config = datasette.plugin_config("datasette-cluster-map") or {}
    return {
        "url": config.get("tile_layer") or TILE_LAYER,
        "options": config.get("tile_layer_options") or TILE_LAYER_OPTIONS,
    }


async def shared_blocks(datasette, niveau: str, code: str) -> dict:
    """The blocks every fiche has: indicators at their latest vintage, and publications."""
    db = datasette.get_database(DATABASE)
    return {
        "indicateurs": await canned(datasette, "indicateurs_territoire", niveau=niveau, code=code),
        "requete_indicateurs": query_url(datasette, "indicateurs_territoire", niveau=niveau, code=code),
        "historique_indicateurs": query_url(datasette, "indicateurs_d_un_territoire", niveau=niveau, code=code),
        "publications": await publications_for_db(db, niveau, code),
        "code": code,
    }


async def render(datasette, request, template, context, status=200):
    if status == 200:
        code = context["t"]["siren" if context["niveau"] == "epci" else
                            "code_insee" if context["niveau"] == "commune" else "code"]
        context.update(await shared_blocks(datasette, context["niveau"], code))
    context = {
        **context,
        "carte_json": json.dumps(
            {"points": context.get("points", []), "tuiles": tile_config(datasette)}, ensure_ascii=False
        ).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"),
    }
    html = await datasette.render_template(template, context, request=request)
    return Response.html(html, status=status)


async def not_found(datasette, request, level_label: str, code: str):
    return await render(datasette, request, "fiche_introuvable.html",
                        {"niveau": level_label, "code": code, "q": code}, status=404)


CODE_PATTERNS = {
    "commune": re.compile(r"^(\d[\dab]\d{3})$", re.IGNORECASE),
    "departement": re.compile(r"^(\d{2,3}|2[ab])$", re.IGNORECASE),
}


def redirect_if_needed(kind, code):
    """Lower-case Corsican codes (2a004, 2b) redirect to their canonical upper-case form."""
    pattern = CODE_PATTERNS.get(kind)
    if pattern and pattern.match(code) and code != code.upper():
        return Response.redirect(f"/{kind}/{code.upper()}", status=301)
    return None


LEVEL_LABELS = {"commune": "commune", "epci": "EPCI", "departement": "département", "region": "région"}
URL_PARAMETERS = {"epci": "siren"}  # the name of the code in the URL and in the fiche_* canned query


async def territory(datasette, request, kind):
    """(row of the fiche_<kind> canned query, code, None), or (None, code, the redirect or 404 to send)."""
    parameter = URL_PARAMETERS.get(kind, "code")
    code = unquote(request.url_vars[parameter]).strip()
    if (redirect := redirect_if_needed(kind, code)):
        return None, code, redirect
    rows = await canned(datasette, f"fiche_{kind}", **{parameter: code})
    if not rows:
        return None, code, await not_found(datasette, request, LEVEL_LABELS[kind], code)
    return rows[0], code, None


async def fiche_commune(datasette, request):
    commune, code, response = await territory(datasette, request, "commune")
    if response:
        return response
    secondaires = await canned(datasette, "communes_secondaires_commune", code=code)
    links = [
        ("Dossier complet de l'INSEE", INSEE_DOSSIER.format(f"COM-{code}")),
        ("Observatoire des territoires (ANCT)", OBSERVATOIRE),
    ]
    if commune["siren"]:
        links.append(("Annuaire des entreprises (SIREN de la commune)", ANNUAIRE_ENTREPRISES.format(commune["siren"])))
    if (commune["mairie_site"] or "").startswith(("https://", "http://")):  # never javascript: or data:
        links.append(("Site de la commune", commune["mairie_site"]))
    note = NOTES.get(("commune", code))
    if commune["epci"] is None:
        note = (note + " " if note else "") + (
            "Collectivité d'outre-mer : pas d'EPCI à fiscalité propre."
            if commune["zone"] == "com"
            else "Cette commune n'appartient à aucun EPCI à fiscalité propre (commune insulaire "
            "mono-communale, dérogation prévue par la loi)."
        )
    return await render(datasette, request, "fiche_commune.html", {
        "niveau": "commune",
        "t": commune,
        "secondaires": secondaires,
        "note": note,
        "liens": links,
        "points": map_points([commune], "commune", "code_insee"),
        "requetes": {
            "fiche": query_url(datasette, "fiche_commune", code=code),
            "secondaires": query_url(datasette, "communes_secondaires_commune", code=code),
        },
        "ligne_url": datasette.urls.row(DATABASE, "communes", code),
        "comparer_codes": code,
    })


async def fiche_epci(datasette, request):
    epci, siren, response = await territory(datasette, request, "epci")
    if response:
        return response
    membres = await canned(datasette, "membres_epci", siren=siren)
    membres_tries, tri, ordre = sorted_rows(membres, request)
    return await render(datasette, request, "fiche_epci.html", {
        "niveau": "epci",
        "t": epci,
        "membres": membres_tries,
        "tri": tri,
        "ordre": ordre,
        "graphique": chart(membres, "code_insee", "commune"),
        "note": NOTES.get(("epci", siren)),
        "liens": [
            ("Dossier complet de l'INSEE", INSEE_DOSSIER.format(f"EPCI-{siren}")),
            ("BANATIC, base nationale sur l'intercommunalité (DGCL)", BANATIC),
            ("Annuaire des entreprises (SIREN de l'EPCI)", ANNUAIRE_ENTREPRISES.format(siren)),
            ("Observatoire des territoires (ANCT)", OBSERVATOIRE),
        ],
        "points": map_points(membres, "commune", "code_insee"),
        "requetes": {
            "fiche": query_url(datasette, "fiche_epci", siren=siren),
            "membres": query_url(datasette, "membres_epci", siren=siren),
        },
        "csv_membres": datasette.urls.database(DATABASE) + f"/membres_epci.csv?siren={siren}",
        "ligne_url": datasette.urls.row(DATABASE, "epci", siren),
    })


async def fiche_departement(datasette, request):
    departement, code, response = await territory(datasette, request, "departement")
    if response:
        return response
    epci = await canned(datasette, "epci_departement", departement=code)
    communes = await canned(datasette, "communes_departement", departement=code)
    communes_tries, tri, ordre = sorted_rows(communes, request)
    links = [("Dossier complet de l'INSEE", INSEE_DOSSIER.format(f"DEP-{code}")),
             ("Observatoire des territoires (ANCT)", OBSERVATOIRE)]
    return await render(datasette, request, "fiche_departement.html", {
        "niveau": "departement",
        "t": departement,
        "epci": epci,
        "communes": communes_tries[:LIST_LIMIT],
        "nb_communes_liste": len(communes),
        "tri": tri,
        "ordre": ordre,
        "graphique": chart(communes, "code_insee", "commune"),
        "note": NOTES.get(("departement", code)),
        "region_drom": DROM_REGIONS.get(code),
        "liens": links,
        "points": map_points(communes, "commune", "code_insee"),
        "requetes": {
            "fiche": query_url(datasette, "fiche_departement", code=code),
            "epci": query_url(datasette, "epci_departement", departement=code),
            "communes": query_url(datasette, "communes_departement", departement=code),
        },
        "csv_communes": datasette.urls.database(DATABASE) + f"/communes_departement.csv?departement={code}&_size=max",
        "csv_epci": datasette.urls.database(DATABASE) + f"/epci_departement.csv?departement={code}",
        "ligne_url": datasette.urls.row(DATABASE, "departements", code),
    })


async def fiche_region(datasette, request):
    region, code, response = await territory(datasette, request, "region")
    if response:
        return response
    departements = await canned(datasette, "departements_region", region=code)
    departements_tries, tri, ordre = sorted_rows(departements, request, default="nom")
    drom_departement = {v: k for k, v in DROM_REGIONS.items()}.get(code)
    return await render(datasette, request, "fiche_region.html", {
        "niveau": "region",
        "t": region,
        "departements": departements_tries,
        "tri": tri,
        "ordre": ordre,
        "graphique": chart(departements, "code", "departement"),
        "note": NOTES.get(("region", code)),
        "departement_drom": drom_departement,
        "liens": [("Dossier complet de l'INSEE", INSEE_DOSSIER.format(f"REG-{code}")),
                  ("Observatoire des territoires (ANCT)", OBSERVATOIRE)],
        "points": map_points(departements, "departement", "code"),
        "requetes": {
            "fiche": query_url(datasette, "fiche_region", code=code),
            "departements": query_url(datasette, "departements_region", region=code),
        },
        "csv_departements": datasette.urls.database(DATABASE) + f"/departements_region.csv?region={code}",
        "ligne_url": datasette.urls.row(DATABASE, "regions", code),
    })


@hookimpl
def register_routes():
    return [
        (r"^/commune/(?P<code>[^/]+)$", fiche_commune),
        (r"^/epci/(?P<siren>[^/]+)$", fiche_epci),
        (r"^/departement/(?P<code>[^/]+)$", fiche_departement),
        (r"^/region/(?P<code>[^/]+)$", fiche_region),
    ]
