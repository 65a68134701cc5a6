"""The original portal's addresses (brief §7), each answered: a permanent redirect (301) to the same page or
export here, or a French page that says what has no equivalent and links to the nearest (404, or 410 for
what existed and is gone). Its API is oc_site/pages/old_api.py.

The original was a Django site (github.com/entrepreneur-interet-general/opencollectivites, core/urls.py).
Its slugs were `<name>-<code INSEE>` for communes (rennes-35238), `<name>-<SIREN>` for EPCI
(rennes-metropole-243500139) and the name alone for départements and régions (ille-et-vilaine, bretagne);
its addresses ended with a slash; its library's filters were numeric ids of its taxonomy.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from datasette.utils.asgi import NotFound, Response

from oc_site.database import DATABASE, query_url
from oc_site.levels import LEVELS
from oc_site.text import tokens

# The original's taxonomy, from its initial data (core/fixtures/init.json): its ids → this site's codes. Its
# nine topics and five document types are the brief's (oc_site/taxonomy.py), in the same order and under the
# same names: the mapping is certain.
OLD_TOPICS = {1: "aide_dotations", 2: "culture_education", 3: "developpement_durable", 4: "emploi_fpt",
              5: "finances_fiscalite", 6: "geographie_intercommunalites", 7: "parite", 8: "sante_social",
              9: "securite"}
OLD_DOCUMENT_TYPES = {1: "publication_statistique", 2: "jeu_de_donnees", 3: "outil", 4: "site_officiel",
                      5: "plateforme_open_data"}
# Its scopes (« Type de territoire »): name, and this library's `niveau` when one level is meant (the others,
# coastal or mountain communes, « toutes », have none)
OLD_SCOPES = {1: ("Collectivités locales (toutes)", None), 2: ("Communes de littoral", None),
              3: ("Communes de montagne", None), 4: ("Communes & EPCI (toutes)", None),
              5: ("Départements (tous)", "departement"), 6: ("Régions (toutes)", "region")}
# Its library's filters of one territory, each given by the territory's slug
OLD_TERRITORY_FILTERS = ("commune", "epci", "departement", "region")
# the original library's parameters (none is a parameter of today's library: /publications?topic=5 is an old address)
OLD_LIBRARY_PARAMETERS = ("topic", "scope", "document_type", "source_org", "year", "after", "before",
                          "publication_page", *OLD_TERRITORY_FILTERS)
DATE = r"\d{4}-\d{2}-\d{2}"  # the library's dates (the original also read « 3 mars 2021 »: not here)
PAGES_GONE_TO = "/mentions-legales#donnees-personnelles"  # its pages on personal data and cookies: one section here

CODE_AT_END = {level: re.compile(rf"^.+-({LEVELS[level].code_pattern})$", re.IGNORECASE)
               for level in ("commune", "epci")}  # the slugs that end with the territory's code
SLUG_SQL = """
SELECT code FROM territoires
WHERE type = :type AND replace(recherche_nom, ' ', '') = :cle
LIMIT 2
"""
# a commune's code as it is today: its own, or for a commune déléguée or associée its commune's
CURRENT_COMMUNE_SQL = """
SELECT code_insee FROM communes WHERE code_insee = :code
UNION ALL
SELECT commune_parente FROM communes_secondaires WHERE code_insee = :code
LIMIT 1
"""
EXISTS_SQL = "SELECT 1 FROM territoires WHERE type = :type AND code = :code"


@dataclass(frozen=True)
class Slug:
    """What an original slug names at one level: a territory's code, or the words of a name several bear."""

    code: str | None = None
    words: str = ""

    @property
    def search_url(self) -> str:
        return "/recherche?" + urlencode({"q": self.words})


async def resolve(datasette, level: str, slug: str, current: bool = False) -> Slug:
    """The territory of a slug (`rennes-35238`, `rennes-metropole-243500139`, `ille-et-vilaine`, or a code);
    Slug() when none. With `current`, a commune's code is checked and an old one (commune déléguée) replaced
    by its commune's; without, a code at the end of a slug is taken as it is (its fiche says the rest)."""
    db = datasette.get_database(DATABASE)
    spec = LEVELS[level]
    match = CODE_AT_END[level].match(slug) if level in CODE_AT_END else None
    code = (match.group(1) if match else slug).upper()
    if match or re.fullmatch(spec.code_pattern, code):
        if not current:
            return Slug(code)
        if level == "commune":
            row = (await db.execute(CURRENT_COMMUNE_SQL, {"code": code})).first()
            return Slug(row[0]) if row else Slug()
        return Slug(code) if (await db.execute(EXISTS_SQL, {"type": level, "code": code})).first() else Slug()
    words = tokens(slug)
    if not words:
        return Slug()
    found = (await db.execute(SLUG_SQL, {"type": level, "cle": "".join(words)})).rows
    return Slug(found[0][0]) if len(found) == 1 else Slug(words=" ".join(words)) if found else Slug()


def permanent(location: str) -> Response:
    return Response.redirect(location, status=301)


def dispatcher(routes: list[tuple[str, object]]):
    """One route of Datasette's for many: Datasette tries every route on every request, so the original's
    addresses are one pattern there (ROUTES), and their own list is read only for the addresses it matches."""
    compiled = [(re.compile(pattern), view) for pattern, view in routes]

    async def dispatch(datasette, request):
        for regex, view in compiled:
            if match := regex.match(request.path):
                request.scope["url_route"] = {"kwargs": match.groupdict()}
                return await view(datasette, request)
        raise NotFound(f"Adresse inconnue : {request.path}")

    return dispatch


async def fiche_redirect(datasette, level: str, slug: str) -> Response | None:
    """A fiche's original address → the fiche (or the search, when several territories bear the name);
    None when the slug names no territory of that level."""
    found = await resolve(datasette, level, slug)
    if found.code:
        return permanent(LEVELS[level].url(found.code))
    if found.words:
        return Response.redirect(found.search_url + "&" + urlencode({"niveau": level}), status=302)
    return None


async def notice(datasette, request, title: str, paragraphs: list[str], links: list[tuple[str, str]],
                 status: int = 404) -> Response:
    """The French page of an original address without an equivalent here: what happened, and the nearest."""
    html = await datasette.render_template("ancienne_adresse.html", {
        "titre": title, "paragraphes": paragraphs, "liens": links, "adresse": request.full_path}, request=request)
    return Response.html(html, status=status)


def slug_name(level: str, slug: str) -> str:
    """The name in a slug, without its code: « rennes-35238 » → « rennes »."""
    match = CODE_AT_END[level].match(slug) if level in CODE_AT_END else None
    return " ".join(tokens(slug[:match.start(1)] if match else slug))


async def not_found(datasette, request, level: str, slugs: list[str],
                    others: list[tuple[str, str]] = ()) -> Response:
    spec = LEVELS[level]
    named = ", ".join(f"« {s} »" for s in slugs)
    return await notice(datasette, request, f"{spec.title} introuvable", [
        f"Elle désigne {spec.indefinite} qui n'est pas dans le Code officiel géographique en vigueur, ou dont "
        f"le nom est porté par plusieurs territoires : {named}."],
        [(f"Chercher {spec.indefinite} par son nom ou son code", "/recherche?" + urlencode(
            {"q": slug_name(level, slugs[0]), "niveau": level})), *others])


# --- fiches and their lists -----------------------------------------------------------------------------

async def old_fiche(datasette, request):
    """/commune/rennes-35238/ (the original's trailing slash) → the fiche, in one step."""
    level, slug = request.url_vars["niveau"], request.url_vars["slug"]
    return await fiche_redirect(datasette, level, slug) or permanent(LEVELS[level].url(slug))


def list_address(datasette, level: str, name: str, code: str, regions_departements: list[str]) -> str:
    """Where each list of the original is here: the block of the fiche that shows it, or the table filtered."""
    if level == "departement":
        return f"{LEVELS[level].url(code)}#{'communes' if name == 'communes' else 'epci'}"
    if name == "departements":
        return f"{LEVELS[level].url(code)}#departements"
    if name == "communes":
        return f"{datasette.urls.table(DATABASE, 'communes')}?" + urlencode({"region": code, "_sort": "nom"})
    # the EPCI of each of the région's départements (an EPCI can straddle two), as the original listed them
    return f"{datasette.urls.table(DATABASE, 'epci_departements')}?" + urlencode(
        {"departement__in": ",".join(regions_departements), "_sort": "departement"}, safe=",")


async def old_list(datasette, request):
    """/departement/<slug>/liste-communes/, liste-epcis/; /region/<slug>/liste-communes/, liste-epcis/,
    liste-departements/."""
    level, slug, name = (request.url_vars[k] for k in ("niveau", "slug", "liste"))
    if level == "departement" and name == "departements":
        return await notice(datasette, request, "Liste introuvable", [
            "Un département n'a pas de liste de départements."],
            [("La fiche du département", f"/departement/{slug}")])
    found = await resolve(datasette, level, slug, current=True)
    if not found.code:
        return await not_found(datasette, request, level, [slug])
    departements = []
    if level == "region" and name == "epcis":
        rows = await datasette.get_database(DATABASE).execute(
            "SELECT code FROM departements WHERE region = ? ORDER BY code", [found.code])
        departements = [r[0] for r in rows]
    return permanent(list_address(datasette, level, name, found.code, departements))


# --- comparisons and CSV exports ------------------------------------------------------------------------

async def communes_of(datasette, request, slugs: str) -> tuple[list[str], Response | None]:
    """The communes of a comparison's slugs (`rennes-35238/nantes-44109/`), or the page naming those not found."""
    names = [s for s in slugs.split("/") if s]
    codes, missing = [], []
    for slug in names:
        found = await resolve(datasette, "commune", slug, current=True)
        if found.code:
            codes.append(found.code)
        else:
            missing.append(slug)
    if missing or not names:
        others = [("Comparer les autres communes de l'adresse", "/comparer?" + urlencode(
            {"niveau": "commune", "codes": ",".join(codes)}, safe=","))] if codes else []
        return [], await not_found(datasette, request, "commune", missing or [slugs], others)
    return list(dict.fromkeys(codes)), None


async def old_comparison(datasette, request):
    """/compare/commune/<s1>/<s2>[/<s3>[/<s4>]] → /comparer."""
    codes, error = await communes_of(datasette, request, request.url_vars["slugs"])
    return error or permanent("/comparer?" + urlencode({"niveau": "commune", "codes": ",".join(codes)}, safe=","))


async def old_other_comparison(datasette, request):
    """The original announced comparisons of other levels (/compare/…) without ever publishing them."""
    return await notice(datasette, request, "Comparaison introuvable", [
        "Cette comparaison de l'ancien portail n'a jamais été publiée. La page « Comparer » met côte à côte de "
        "2 à 10 communes, EPCI, départements ou régions."], [("Comparer des territoires", "/comparer")])


def wide_csv(datasette, **filters) -> str:
    """The CSV of the communes' wide view (one row per commune, one column per indicator), filtered."""
    return query_url(datasette, LEVELS["commune"].wide_view, ".csv", **filters, _size="max")


async def old_commune_export(datasette, request):
    """/export/commune/<slug>: the original's CSV of one commune's figures → its row of the wide view."""
    found = await resolve(datasette, "commune", request.url_vars["slug"], current=True)
    if not found.code:
        return await not_found(datasette, request, "commune", [request.url_vars["slug"]])
    return permanent(wide_csv(datasette, code=found.code))


async def old_comparison_export(datasette, request):
    """/compare_export/commune/<s1>/<s2>[…] → the comparison's CSV."""
    codes, error = await communes_of(datasette, request, request.url_vars["slugs"])
    if error:
        return error
    if len(codes) < 2:
        return permanent(wide_csv(datasette, code=codes[0]))
    return permanent("/comparer.csv?" + urlencode({"niveau": "commune", "codes": ",".join(codes)}, safe=","))


async def old_members_export(datasette, request):
    """/compare_export/epci/membres/<slug>, /compare_export/departement/membres/<slug>: the original's CSV of
    every commune of an EPCI or a département → the wide view of those communes."""
    level, slug = request.url_vars["niveau"], request.url_vars["slug"]
    found = await resolve(datasette, level, slug, current=True)
    if not found.code:
        return await not_found(datasette, request, level, [slug])
    return permanent(wide_csv(datasette, **{level: found.code}))


# --- the library ------------------------------------------------------------------------------------------

@dataclass
class LibraryFilters:
    """The original library's parameters read: this library's filters, and what could not be carried over."""

    params: dict
    unknown: list[str]  # values that the original never had (404)
    gone: list[str]  # filters of the original without an equivalent here (410)


def old_id(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


async def library_filters(datasette, args) -> LibraryFilters:
    params, unknown, gone = {}, [], []
    for name, table, target in (("topic", OLD_TOPICS, "theme"), ("document_type", OLD_DOCUMENT_TYPES, "type")):
        if value := args.get(name):
            if (code := table.get(old_id(value))) is None:
                unknown.append(f"{name}={value}")
            else:
                params[target] = code
    if value := args.get("scope"):
        scope = OLD_SCOPES.get(old_id(value))
        if scope is None:
            unknown.append(f"scope={value}")
        elif scope[1] is None:
            gone.append(f"le type de territoire « {scope[0]} »")
        else:
            params["niveau"] = scope[1]
    for name, target, pattern in (("year", "annee", r"\d{4}"), ("after", "du", DATE), ("before", "au", DATE)):
        if value := args.get(name):
            if re.fullmatch(pattern, value):
                params[target] = value
            else:
                unknown.append(f"{name}={value}")
    territories = [(level, args[level]) for level in OLD_TERRITORY_FILTERS if args.get(level)]
    if len(territories) > 1:
        gone.append("plusieurs territoires à la fois (la bibliothèque en filtre un)")
    elif territories:
        level, slug = territories[0]
        found = await resolve(datasette, level, slug, current=True)
        if found.code:
            params["territoire"] = f"{level}:{found.code}"
        else:
            unknown.append(f"{level}={slug}")
    if args.get("source_org"):
        gone.append("le producteur désigné par son numéro dans l'ancien portail")
    if args.get("publication_page"):
        gone.append("le type de page où l'ancien portail montrait la publication")
    return LibraryFilters(params, unknown, gone)


async def old_library(datasette, request):
    """/publications/?topic=5&… → /publications?theme=finances_fiscalite&… (its `page` is left: the pages
    have another size here)."""
    found = await library_filters(datasette, request.args)
    nearest = "/publications" + (f"?{urlencode(found.params)}" if found.params else "")
    if not found.unknown and not found.gone:
        return permanent(nearest)
    paragraphs = []
    if found.unknown:
        paragraphs.append("L'ancien portail n'avait pas ces valeurs de filtre : " + ", ".join(found.unknown) + ".")
    if found.gone:
        paragraphs.append("La bibliothèque n'a pas d'équivalent pour " + " ; ".join(found.gone) + ".")
    paragraphs.append("Le lien ci-dessous ouvre la bibliothèque avec les autres filtres de l'adresse.")
    return await notice(datasette, request, "Filtre de l'ancienne bibliothèque sans équivalent", paragraphs,
                        [("La bibliothèque" + (" avec les filtres repris" if found.params else ""), nearest)],
                        status=404 if found.unknown else 410)


# --- other pages and slashes ----------------------------------------------------------------------------

async def without_trailing_slash(datasette, request):
    """/faq/, /oc/communes/…: the original's addresses ended with a slash, this site's do not (Datasette
    redirects them too, temporarily: here permanently, the query string kept)."""
    path = "/" + request.url_vars["chemin"].rstrip("/")
    return permanent(path + (f"?{request.query_string}" if request.query_string else ""))


async def plan(datasette, request):
    return permanent("/plan-du-site")


async def personal_data(datasette, request):
    return permanent(PAGES_GONE_TO)


OLD_ADDRESSES = [
    (r"^/(?P<niveau>departement|region)/(?P<slug>[^/]+)/liste-(?P<liste>communes|epcis|departements)/?$", old_list),
    (r"^/(?P<niveau>commune|epci|departement|region)/(?P<slug>[^/]+)/$", old_fiche),
    (r"^/compare/commune/(?P<slugs>[^?]+)$", old_comparison),
    (r"^/compare/", old_other_comparison),
    (r"^/export/commune/(?P<slug>[^/]+)/?$", old_commune_export),
    (r"^/compare_export/commune/(?P<slugs>[^?]+)$", old_comparison_export),
    (r"^/compare_export/(?P<niveau>epci|departement)/membres/(?P<slug>[^/]+)/?$", old_members_export),
    (r"^/publications/$", old_library),
    (r"^/plan/?$", plan),
    (r"^/(?:donnees-personnelles|cookies)/?$", personal_data),
    (r"^/(?P<chemin>.+)/$", without_trailing_slash),  # last: only what no address above matched
]
# what can be one of them: the original's own words, or a trailing slash
ROUTES = [(r"^/(?:compare/|compare_export/|export/|plan/?$|donnees-personnelles|cookies|[a-z]+/[^/]+/liste-"
           r"|.+/$)", dispatcher(OLD_ADDRESSES))]
