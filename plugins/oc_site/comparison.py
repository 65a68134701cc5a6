"""/comparer?niveau=…&codes=…: 2 to 10 territories of the same level side by side, as HTML, CSV or JSON.

The figures come from the canned queries comparer_<level> (the territories' rows of the level's wide table:
names, parents, every indicator at its main vintage) and comparer_indicateurs (those indicators' labels,
units, vintages and sources); this module only lays them out. The page
offers the four levels, adds a territory in one step with the site's search component filtered to
the level (static/recherche.js; without JavaScript, a search form lists the matches), and offers to
switch level when the name typed is a territory of another level.
"""

import csv
import io
import json
import math
import re

from datasette.utils.asgi import Response

from oc_site import database as pages
from oc_site.database import Canned
from oc_site.fiches.charts import bars
from oc_site.search.index import search_territories
from oc_site.levels import LEVELS, SMALLEST_FIRST, level_of_code

MIN_CODES, MAX_CODES = 2, 10
# the `codes` parameter is refused past this length before it is split: ten SIREN (9 characters)
# and their separators take about 110; 20,000 codes would otherwise be parsed for nothing
MAX_CODES_TEXT = 300
# Descriptive columns of the comparer_<level> queries shown under the indicators
DESCRIPTIONS = {"epci_nom": "EPCI d'appartenance", "type_libelle": "Nature juridique",
                "region_nom": "Région", "departement": "Département"}


class ComparisonError(Exception):
    pass


def parse_codes(raw: str) -> list[str]:
    """The distinct codes of the `codes` parameter, in order (bounded text, linear work)."""
    raw = raw or ""
    if len(raw) > MAX_CODES_TEXT:
        raise ComparisonError(f"Paramètre codes trop long : on compare au plus {MAX_CODES} territoires "
                              f"({MAX_CODES_TEXT} caractères au plus).")
    return list(dict.fromkeys(code.upper() for code in re.split(r"[,;\s]+", raw) if code))


def finite(value):
    """A figure for the JSON and CSV exports: never Infinity or NaN (invalid JSON)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def guess_level(codes: list[str], asked: str | None) -> str:
    """The level asked for, else the level of the codes (levels.level_of_code: two digits are a
    département's), else the commune's; codes of no level are left to be reported as unknown."""
    if asked:
        if asked not in LEVELS:
            raise ComparisonError(f"Niveau inconnu : « {asked} ». Niveaux possibles : {', '.join(SMALLEST_FIRST)}.")
        return asked
    levels = {level for level in map(level_of_code, codes) if level}
    if len(levels) > 1:
        raise ComparisonError("Les territoires comparés doivent être du même niveau (par exemple uniquement des communes).")
    return levels.pop() if levels else "commune"


# The sources of a territory's values (the view valeurs, read by level and code): a comparison cites, for each
# indicator, the sources of the values it shows, not every source of that vintage
SOURCES_SQL = "SELECT indicateur, annee, source FROM valeurs WHERE niveau = :niveau AND code = :code"


def sources_of(level: str, code: str):
    return lambda conn: conn.execute(SOURCES_SQL, {"niveau": level, "code": code}).fetchall()


async def compare(datasette, codes: list[str], level: str) -> dict:
    found = await pages.together(datasette, {
        "territoires": Canned(LEVELS[level].compare_query, {"codes": ",".join(codes)}),
        "indicateurs": Canned("comparer_indicateurs", {"niveau": level}),
        **{f"sources {code}": sources_of(level, code) for code in codes},
    })
    rows = {row["code"]: row for row in found["territoires"]}
    columns = list(found["territoires"][0]) if found["territoires"] else []
    territories = [rows[c] for c in codes if c in rows]
    cited = {(indicator, year, source) for t in territories for indicator, year, source in found[f"sources {t['code']}"]
             if t.get(indicator) is not None}
    indicators = {}
    for entry in found["indicateurs"]:
        indicator = indicators.setdefault(entry["indicateur"], {
            "code": entry["indicateur"], "libelle": entry["libelle"], "unite": entry["unite"], "annee": entry["annee"],
            "decimales": entry["decimales"] if entry["decimales"] is not None else 2, "sources": {},
            "valeurs": {t["code"]: finite(t.get(entry["indicateur"])) for t in territories},
        })
        if (entry["indicateur"], entry["annee"], entry["source_id"]) in cited:
            indicator["sources"].setdefault(entry["source"], entry["source_url"])
    descriptions = [
        {"code": column, "libelle": label, "valeurs": {t["code"]: t.get(column) for t in territories}}
        for column, label in DESCRIPTIONS.items() if column in columns
    ]
    population = indicators.get("population_municipale", {}).get("valeurs", {})
    return {
        "niveau": level, "territoires": territories, "inconnus": [c for c in codes if c not in rows],
        # an indicator none of these territories has is left out
        "indicateurs": [i for i in indicators.values() if any(v is not None for v in i["valeurs"].values())],
        "descriptions": descriptions,
        "graphique": bars([{**t, "population": population.get(t["code"])} for t in territories],
                                url=lambda t: LEVELS[level].url(t["code"])),
    }


async def candidates(datasette, query: str, level: str, exclude: list[str]) -> tuple[list[dict], list[dict]]:
    """Territories of the level matching a query; when there are none, the matches at other levels
    (the page then offers to switch level: « Finistère » is a département, not a commune)."""
    found = await search_territories(datasette, query, limit=10 + len(exclude), level=level)
    found = [r for r in found if r["code"] not in exclude][:10]
    if found:
        return found, []
    return [], await search_territories(datasette, query, limit=5)


def as_csv(comparison) -> str:
    """One row per territory, one column per indicator named with its vintage (population_municipale_2023)."""
    out = io.StringIO()
    writer = csv.writer(out)
    indicators = comparison["indicateurs"]
    descriptions = comparison["descriptions"]
    writer.writerow(["niveau", "code", "nom", *[d["code"] for d in descriptions],
                     *[f"{i['code']}_{i['annee']}" for i in indicators]])
    for t in comparison["territoires"]:
        writer.writerow([comparison["niveau"], t["code"], t["nom"], *[d["valeurs"][t["code"]] for d in descriptions],
                         *[i["valeurs"][t["code"]] for i in indicators]])
    return out.getvalue()


def as_json(comparison) -> str:
    return json.dumps({
        "niveau": comparison["niveau"],
        "territoires": [{"code": t["code"], "nom": t["nom"], "url": LEVELS[comparison["niveau"]].url(t["code"])}
                        for t in comparison["territoires"]],
        "codes_inconnus": comparison["inconnus"],
        "indicateurs": [{**{k: i[k] for k in ("code", "libelle", "unite", "annee", "valeurs")},
                         "sources": [{"titre": titre, "url": url} for titre, url in i["sources"].items()]}
                        for i in comparison["indicateurs"]],
        "descriptions": comparison["descriptions"],
    }, ensure_ascii=False, allow_nan=False)


def error_response(fmt, message, status=400):
    if fmt == ".json":
        return Response(json.dumps({"erreur": message}, ensure_ascii=False), status=status,
                        content_type="application/json; charset=utf-8")
    return Response.text(f"Erreur : {message}\n", status=status)


async def comparer(datasette, request):
    fmt = request.url_vars.get("format") or ""
    codes = []
    try:
        codes = parse_codes(request.args.get("codes", ""))
        level = guess_level(codes, request.args.get("niveau") or None)
        if len(codes) > MAX_CODES:
            raise ComparisonError(f"On compare au plus {MAX_CODES} territoires à la fois ({len(codes)} demandés).")
    except ComparisonError as e:
        if fmt:
            return error_response(fmt, str(e))
        return await render(datasette, request, {"erreur": str(e), "codes": codes, "niveau": None}, status=400)

    comparison = await compare(datasette, codes, level) if codes else {
        "niveau": level, "territoires": [], "inconnus": [], "indicateurs": [], "descriptions": [], "graphique": []}
    if fmt:
        if len(comparison["territoires"]) < MIN_CODES:
            return error_response(fmt, f"Donnez de {MIN_CODES} à {MAX_CODES} codes de territoires connus du même niveau "
                                       f"(paramètre codes, séparés par des virgules).")
        if fmt == ".csv":
            return Response(as_csv(comparison), content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="comparaison.csv"'})
        return Response(as_json(comparison), content_type="application/json; charset=utf-8")

    ajout = request.args.get("ajouter", "").strip()
    proposals, elsewhere = await candidates(datasette, ajout, level, codes) if ajout else ([], [])
    known = [t["code"] for t in comparison["territoires"]]
    return await render(datasette, request, {
        "comparaison": comparison,
        "niveau": level,
        "niveau_libelle": LEVELS[level].plural,
        "autres_niveaux": elsewhere,
        "codes": known,
        "ajouter": ajout,
        "propositions": proposals,
        "max_codes": MAX_CODES,
        "requete_url": pages.query_url(datasette, LEVELS[level].compare_query, codes=",".join(known)),
    })


# the year of the COG the territories' descriptions come from (the vintage of the COG counts)
COG_YEAR_SQL = "SELECT max(annee) FROM indicateurs_millesimes WHERE indicateur = 'nb_communes'"


async def render(datasette, request, context, status=200):
    year = (await datasette.get_database(pages.DATABASE).execute(COG_YEAR_SQL)).first()[0]
    context["source_cog"] = f"INSEE, COG {year}" if year else "INSEE, COG"
    html = await datasette.render_template("comparer.html", context, request=request)
    return Response.html(html, status=status)


ROUTES = [(r"^/comparer(?P<format>\.csv|\.json)?$", comparer)]
