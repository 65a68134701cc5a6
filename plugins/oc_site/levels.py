"""The four territory levels, described once.

Every module, template and query generator reads this registry: the loaders (tables, wide views,
aggregates), the search index, the fiches, the comparison and the publications library; the templates
through `fiche_url(level, code)` and `niveaux` (datasette_pages/templates.py), the search script through
/niveaux.json (names_for_scripts). Levels are listed from the largest to the smallest.

In the site's code a level's name (« commune ») is called `level`, its entry here (a Level) `spec`.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    name: str  # the level's identifier: in URLs, in `valeurs.niveau`, in `territoires.type`
    table: str  # the territory table
    key: str  # its primary key (TEXT)
    label: str  # French, singular, lower case: « commune »
    plural: str  # French, plural, lower case: « communes »
    title: str  # French, capitalised singular: « Commune »
    group_title: str  # heading of the search results of this level
    every: str  # « toutes les communes »
    wide_view: str  # the generated view of the latest values, one column per indicator
    view_context: tuple[str, ...]  # columns of the territory table repeated in the wide view
    parents: tuple[str, ...]  # the levels above, nearest first
    url_parameter: str = "code"  # name of the code in the fiche URL and in the fiche_<level> canned query
    code_pattern: str = r"[0-9A-Z]+"
    feminine: bool = False  # « une commune », « aucune région », « communes comparées »
    search_help: str = "nom ou code"  # what a search field of this level accepts (« nom ou SIREN »)
    insee_prefix: str = ""  # before the code in the INSEE's addresses (« COM-35238 »: its dossier complet)
    code_width: int = 2  # digits of a numeric code, leading zeros included (a file that lost them: 1001 → 01001)

    @property
    def indefinite(self) -> str:
        """« une commune », « un EPCI »."""
        return f"{'une' if self.feminine else 'un'} {self.label}"

    @property
    def plural_title(self) -> str:
        """« Communes », « EPCI »."""
        return self.plural[:1].upper() + self.plural[1:]

    def url(self, code: str) -> str:
        """The address of a territory's fiche."""
        return f"/{self.name}/{code}"

    @property
    def fiche_query(self) -> str:
        return f"fiche_{self.name}"

    @property
    def compare_query(self) -> str:
        return f"comparer_{self.table}"

    @property
    def rank(self) -> int:
        """0 for the région, 3 for the commune."""
        return tuple(LEVELS).index(self.name)


LEVELS: dict[str, Level] = {
    spec.name: spec
    for spec in (
        Level("region", "regions", "code", "région", "régions", "Région", "Régions", "toutes les régions",
              "valeurs_regions_large", ("zone",), (), code_pattern=r"\d{2}", feminine=True, insee_prefix="REG"),
        Level("departement", "departements", "code", "département", "départements", "Département",
              "Départements", "tous les départements", "valeurs_departements_large", ("region", "zone"),
              ("region",), code_pattern=r"\d{2,3}|2[AB]", insee_prefix="DEP"),
        Level("epci", "epci", "siren", "EPCI", "EPCI", "EPCI", "Intercommunalités (EPCI)", "tous les EPCI",
              "valeurs_epci_large", ("type", "departement", "region"), ("departement", "region"),
              url_parameter="siren", code_pattern=r"\d{9}", code_width=9, search_help="nom ou SIREN", insee_prefix="EPCI"),
        Level("commune", "communes", "code_insee", "commune", "communes", "Commune", "Communes",
              "toutes les communes", "valeurs_communes_large", ("departement", "region", "epci"),
              ("epci", "departement", "region"), code_pattern=r"\d[\dAB]\d{3}", code_width=5, feminine=True,
              search_help="nom, code INSEE ou code postal", insee_prefix="COM"),
    )
}
NAMES = tuple(LEVELS)  # ("region", "departement", "epci", "commune")
SMALLEST_FIRST = tuple(reversed(NAMES))  # ("commune", "epci", "departement", "region")


def secondary_url(commune: str, code: str) -> str:
    """Where a commune déléguée, associée or arrondissement municipal is shown: its row on its commune's fiche
    (it has a COG code, but no fiche of its own)."""
    return f"{LEVELS['commune'].url(commune)}#secondaire-{code}"


def is_code_of(name: str, code: str) -> bool:
    return re.fullmatch(LEVELS[name].code_pattern, code or "") is not None


def level_of_code(code: str) -> str | None:
    """The level of a territory's code: the smallest level whose code pattern it matches (35238 and 2A004:
    commune; 243500139: epci; 35, 2A, 974: departement), None for no level. A région's code (53) is a
    département's as well: it is read as a département's, the smaller level."""
    return next((name for name in SMALLEST_FIRST if is_code_of(name, code)), None)


OVERSEAS_COLLECTIVITY = "collectivité d'outre-mer"  # a « région » of zone com (Saint-Martin, Polynésie française…)


def category(level: str, zone: str | None = None) -> str:
    """What a territory is called, lower case: its level's label, but « collectivité d'outre-mer » for a région of
    zone com (the fiche's tag and the search results say the same)."""
    return OVERSEAS_COLLECTIVITY if level == "region" and zone == "com" else LEVELS[level].label


def names_for_scripts() -> dict[str, dict[str, str]]:
    """The levels' names as the site's scripts show them (static/recherche.js, from /niveaux.json)."""
    return {name: {"libelle": spec.label, "pluriel": spec.plural} for name, spec in LEVELS.items()}


# The end of the label of an indicator summed over a territory's member communes, and of a ratio of such
# sums (loaders/indicators/computed.py writes them into the catalogue; a fiche's table of member totals
# says it once, above the table, instead of on every row)
MEMBERS_TOTAL_LABEL = " (total des communes membres)"
MEMBERS_RATIO_LABEL = " (ensemble des communes membres)"
