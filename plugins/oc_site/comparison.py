"""/comparer?niveau=…&codes=…: 2 to 10 territories of the same level side by side, as HTML, CSV or JSON.

The figures come from the canned queries comparer_<level> (names, parents) and comparer_indicateurs
(every indicator of the level at its latest vintage); this module only lays them out. The page
offers the four levels, adds a territory in one step with the site's search component filtered to
the level (static/recherche.js; without JavaScript, a search form lists the matches), and offers to
switch level when the name typed is a territory of another level. Switching level keeps the selection:
the chosen communes' EPCI, départements or régions going up; going down, the commune that stands for each
territory (its chef-lieu, the most populated member of an EPCI) or the territory of the smaller level that
holds it (switched_codes).

Presentation: the indicators are grouped by source (consecutive rows of the same sources under one
« Source » line, visible at every width); a label that ends with its acronym is shown as that acronym
(« DSU »), the full label given as its expansion and in the list of acronyms under the table; the member
totals of a group of communes lose their « (total des communes membres) », said once above the table.
On a phone each indicator is a card with the territories' values stacked (static/oc.css).
"""

import csv
import io
import json
import math
import re

from datasette.utils.asgi import Response

from oc_site import database as pages
from oc_site.fiches.charts import bars
from oc_site.search.index import search_territories
from oc_site.levels import LEVELS, MEMBERS_RATIO_LABEL, MEMBERS_TOTAL_LABEL, SMALLEST_FIRST, level_of_code

MIN_CODES, MAX_CODES = 2, 10
# the `codes` parameter is refused past this length before it is split: ten SIREN (9 characters)
# and their separators take about 110; 20,000 codes would otherwise be parsed for nothing
MAX_CODES_TEXT = 300
# Descriptive columns of the comparer_<level> queries shown under the indicators
DESCRIPTIONS = {"epci_nom": "EPCI d'appartenance", "type_libelle": "Nature juridique",
                "region_nom": "Région", "departement": "Département"}


# « Dotation globale de fonctionnement (DGF) »: the words, then the acronym in brackets
ACRONYM = re.compile(r"(?P<words>.+) \((?P<acronym>[A-Z]{2,6})\)")
MINOR_WORDS = {"de", "des", "du", "d", "la", "le", "les", "l", "et", "à", "au", "aux", "en", "sur"}


class ComparisonError(Exception):
    pass


def short_label(label: str) -> tuple[str, str | None, bool]:
    """(the label shown, the expansion of its acronym or None, whether a member total's suffix was removed).

    A label that ends with the acronym of its own first words is shown as the acronym; a bracket that is not
    such an acronym stays (« Superficie (DGCL) », « Population des quartiers prioritaires (QPV) »).

    >>> short_label("Dotation de solidarité urbaine et de cohésion sociale (DSU) (total des communes membres)")
    ('DSU', 'Dotation de solidarité urbaine et de cohésion sociale', True)
    >>> short_label("Population des quartiers prioritaires (QPV)")
    ('Population des quartiers prioritaires (QPV)', None, False)
    """
    members = label.endswith((MEMBERS_TOTAL_LABEL, MEMBERS_RATIO_LABEL))
    label = label.removesuffix(MEMBERS_TOTAL_LABEL).removesuffix(MEMBERS_RATIO_LABEL)
    match = ACRONYM.fullmatch(label)
    if match:
        words = [w for w in re.split(r"[\s'’-]+", match["words"]) if w and w.lower() not in MINOR_WORDS]
        acronym = match["acronym"]
        if "".join(w[0] for w in words[:len(acronym)]).upper() == acronym:
            return acronym, match["words"], members
    return label, None, members


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


async def compare(datasette, codes: list[str], level: str) -> dict:
    joined = ",".join(codes)
    found, columns = await pages.canned(datasette, LEVELS[level].compare_query, codes=joined)
    rows = {row["code"]: row for row in found}
    territories = [rows[c] for c in codes if c in rows]
    values, _ = await pages.canned(datasette, "comparer_indicateurs", niveau=level, codes=joined)
    indicators = {}
    for v in values:
        shown, expansion, members = short_label(v["libelle"])
        indicator = indicators.setdefault(v["indicateur"], {
            "code": v["indicateur"], "libelle": v["libelle"], "unite": v["unite"], "annee": v["annee"],
            "libelle_court": shown, "sigle_developpe": expansion, "total_membres": members,
            "decimales": v["decimales"] if v["decimales"] is not None else 2,
            "sources": {}, "valeurs": {t["code"]: None for t in territories},
        })
        indicator["valeurs"][v["code"]] = finite(v["valeur"]) if v["valeur"] is not None else v["valeur_texte"]
        indicator["sources"].setdefault(v["source"], v["source_url"])
    descriptions = [
        {"code": column, "libelle": label, "valeurs": {t["code"]: t.get(column) for t in territories}}
        for column, label in DESCRIPTIONS.items() if column in columns
    ]
    population = indicators.get("population_municipale", {}).get("valeurs", {})
    return {
        "niveau": level, "territoires": territories, "inconnus": [c for c in codes if c not in rows],
        "indicateurs": list(indicators.values()), "descriptions": descriptions,
        "groupes": by_source(list(indicators.values())),
        "graphique": bars([{**t, "population": population.get(t["code"])} for t in territories],
                                url=lambda t: LEVELS[level].url(t["code"])),
    }


def by_source(indicators: list[dict]) -> list[dict]:
    """Consecutive indicators of the same sources, as groups: [{sources, indicateurs}] (the catalogue's order
    is kept; the page says each group's source once, above its rows)."""
    groups = []
    for indicator in indicators:
        if groups and groups[-1]["sources"] == indicator["sources"]:
            groups[-1]["indicateurs"].append(indicator)
        else:
            groups.append({"sources": indicator["sources"], "indicateurs": [indicator]})
    return groups


# The commune that stands for a territory when the comparison goes down a level: its chef-lieu (préfecture),
# or for an EPCI, which has none in the COG, its most populated member commune. `:codes` is a JSON array.
REPRESENTATIVE_SQL = {
    "region": "SELECT code, chef_lieu FROM regions WHERE code IN (SELECT value FROM json_each(:codes))",
    "departement": "SELECT code, chef_lieu FROM departements WHERE code IN (SELECT value FROM json_each(:codes))",
    "epci": """SELECT e.siren, (SELECT c.code_insee FROM communes c WHERE c.epci = e.siren
                                ORDER BY c.population DESC, c.code_insee LIMIT 1)
               FROM epci e WHERE e.siren IN (SELECT value FROM json_each(:codes))""",
}


async def containing(db, level: str, codes: list[str], target: str) -> dict[str, str]:
    """{code: the code of the territory of level `target` that holds it}: a column of the level's table
    named after the target level (communes.epci, epci.departement — its main one —, departements.region)."""
    spec = LEVELS[level]
    if target == level:
        return {code: code for code in codes}
    sql = (f"SELECT {spec.key}, {target} FROM {spec.table} "
           f"WHERE {spec.key} IN (SELECT value FROM json_each(:codes))")
    return {code: parent for code, parent in (await db.execute(sql, {"codes": json.dumps(codes)})).rows}


async def switched_codes(datasette, codes: list[str], level: str, target: str) -> list[str]:
    """The selection carried over to another level, in the order of `codes`, without repeats: going up, the
    territories that hold the chosen ones; going down, those that hold the commune standing for each."""
    if not codes or target == level:
        return codes
    db = datasette.get_database(pages.DATABASE)
    if target in LEVELS[level].parents:
        found = await containing(db, level, codes, target)
    else:
        communes = dict((await db.execute(REPRESENTATIVE_SQL[level], {"codes": json.dumps(codes)})).rows)
        held = await containing(db, "commune", [c for c in communes.values() if c], target)
        found = {code: held.get(commune) for code, commune in communes.items()}
    return list(dict.fromkeys(found[c] for c in codes if found.get(c)))[:MAX_CODES]


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
        "niveau": level, "territoires": [], "inconnus": [], "indicateurs": [], "descriptions": [], "groupes": [],
        "graphique": []}
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
        "bascules": {target: await switched_codes(datasette, known, level, target) for target in LEVELS},
        "comparaison": comparison,
        "niveau": level,
        "niveau_libelle": LEVELS[level].plural,
        "autres_niveaux": elsewhere,
        "codes": known,
        "ajouter": ajout,
        "propositions": proposals,
        "max_codes": MAX_CODES,
        "requete_url": pages.query_url(datasette, "comparer_indicateurs", niveau=level, codes=",".join(known)),
    })


# the year of the COG the territories' descriptions come from (the vintage of the COG counts)
COG_YEAR_SQL = "SELECT max(annee) FROM indicateurs_millesimes WHERE indicateur = 'nb_communes'"


async def render(datasette, request, context, status=200):
    year = (await datasette.get_database(pages.DATABASE).execute(COG_YEAR_SQL)).first()[0]
    context["source_cog"] = f"INSEE, COG {year}" if year else "INSEE, COG"
    html = await datasette.render_template("comparer.html", context, request=request)
    return Response.html(html, status=status)


ROUTES = [(r"^/comparer(?P<format>\.csv|\.json)?$", comparer)]
