"""French formatting helpers, registered as Jinja filters and globals."""

import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Optional

from markupsafe import Markup, escape

NARROW_NBSP = "\u202f"


def format_number_fr(value: Any, decimals: Optional[int] = None) -> str:
    """Format a number the French way: ``1234567.5`` -> ``1 234 567,5``.

    The thousands separator is a narrow no-break space (U+202F) and the decimal
    separator a comma. Non-numeric values are returned unchanged (as text).
    """
    if value.__class__ is int and decimals is None:  # the common case (every integer cell of a table)
        return "{:,}".format(value).replace(",", NARROW_NBSP)
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return value
    elif isinstance(value, (int, float, Decimal)):
        number = value
    else:
        return str(value)
    if isinstance(number, float) and not math.isfinite(number):  # SQLite returns inf for 1e999
        return "NaN" if number != number else ("−∞" if number < 0 else "∞")
    if decimals is not None:
        text = "{:,.{}f}".format(number, int(decimals))
    elif isinstance(number, int) or (
        isinstance(number, (Decimal, float)) and number == int(number)
    ):
        text = "{:,}".format(int(number))
    else:
        text = "{:,}".format(number)
        if "e" in text.lower():
            return text.replace(".", ",")
    return text.replace(",", NARROW_NBSP).replace(".", ",")


def plural_fr(count: Any, singular: str, plural: Optional[str] = None) -> str:
    """``1 ligne``, ``0 ligne``, ``1 234 lignes`` (French: 0 and 1 are singular)."""
    plural = plural or singular + "s"
    try:
        many = abs(float(count)) >= 2
    except (TypeError, ValueError):
        many = True
    return "{} {}".format(format_number_fr(count), plural if many else singular)


LOOKUPS_FR = {
    "exact": "=",
    "not": "≠",
    "contains": "contient",
    "endswith": "se termine par",
    "startswith": "commence par",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "like": "like",
    "notlike": "not like",
    "glob": "glob",
    "in": "parmi",
    "notin": "hors de",
    "arraycontains": "le tableau contient",
    "arraynotcontains": "le tableau ne contient pas",
    "date": "date",
    "isnull": "est nul",
    "notnull": "n’est pas nul",
    "isblank": "est vide",
    "notblank": "n’est pas vide",
}

FACET_TYPES_FR = {"array": "tableau", "date": "date", "column": "colonne"}


def lookup_label_fr(key: str, default: str = "") -> str:
    return LOOKUPS_FR.get(key, default or key)


def facet_type_label_fr(facet_type: str) -> str:
    return FACET_TYPES_FR.get(facet_type, facet_type)


def _quote(value: str) -> str:
    return value if value.isdigit() else "« {} »".format(value)


def _split(value: str) -> list:
    try:
        parsed = json.loads(value)
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    except ValueError:
        pass
    return value.split(",")


def _clause_fr(column: str, lookup: str, value: str) -> str:
    if lookup in ("isnull", "notnull", "isblank", "notblank"):
        return "{} {}".format(column, LOOKUPS_FR[lookup])
    if lookup in ("in", "notin"):
        values = ", ".join(_quote(v) for v in _split(value))
        return "{} {} ({})".format(column, LOOKUPS_FR[lookup], values)
    if lookup == "date":
        return "{} est à la date {}".format(column, value)
    return "{} {} {}".format(column, LOOKUPS_FR.get(lookup, lookup), _quote(value))


def join_fr(bits: Iterable[str]) -> str:
    bits = [b for b in bits if b]
    if len(bits) <= 1:
        return "".join(bits)
    return "{} et {}".format(", ".join(bits[:-1]), bits[-1])


def describe_filters_fr(
    filters=None,
    search: Optional[str] = None,
    sort: Optional[str] = None,
    sort_desc: Optional[str] = None,
    extra_wheres: Optional[Iterable[Any]] = None,
) -> str:
    """French counterpart of Datasette's ``human_description_en``."""
    bits = []
    if search:
        bits.append("la recherche correspond à « {} »".format(search))
    for extra in extra_wheres or []:
        text = extra.get("text") if isinstance(extra, dict) else None
        if text:
            bits.append(text)
    if filters is not None:
        for column, lookup, value in filters.selections():
            bits.append(_clause_fr(column, lookup, value))
    text = ""
    if bits:
        text = "où " + join_fr(bits)
    if sort or sort_desc:
        sorted_by = "triées par {}{}".format(
            sort or sort_desc, " (ordre décroissant)" if sort_desc else ""
        )
        text = " ".join(t for t in (text, sorted_by) if t)
    return text


# Datasette's own error messages (titles and bodies), translated.
ERROR_TITLES_FR = {
    "SQL Interrupted": "Requête SQL interrompue",
    "Invalid SQL": "Requête SQL invalide",
    "Forbidden": "Accès refusé",
    "Not Found": "Page introuvable",
}

_ERROR_PATTERNS = [
    (
        re.compile(r"^Database not found: (?P<x>.*)$"),
        "Base de données introuvable : {x}",
    ),
    (re.compile(r"^Table not found: (?P<x>.*)$"), "Table introuvable : {x}"),
    (re.compile(r"^Record not found: (?P<x>.*)$"), "Enregistrement introuvable : {x}"),
    (re.compile(r"^Row not found: (?P<x>.*)$"), "Ligne introuvable : {x}"),
    (re.compile(r"^Query not found: (?P<x>.*)$"), "Requête introuvable : {x}"),
    (re.compile(r"^Not found: (?P<x>.*)$"), "Introuvable : {x}"),
    (re.compile(r"^Database not found$"), "Aucune page ni base de données à cette adresse"),
    (re.compile(r"^Table not found$"), "Table introuvable"),
    (re.compile(r"^Record not found$"), "Enregistrement introuvable"),
    (re.compile(r"^No data$"), "Aucune donnée"),
    (re.compile(r"^404$"), "Page introuvable"),
    (re.compile(r"^Not found$"), "Page introuvable"),
    (re.compile(r"^Invalid SQL: (?P<x>.*)$", re.S), "SQL invalide : {x}"),
    (re.compile(r"^no such table: (?P<x>.*)$"), "Table inexistante : {x}"),
    (re.compile(r"^no such column: (?P<x>.*)$"), "Colonne inexistante : {x}"),
    (re.compile(r"^near \"(?P<x>.*)\": syntax error$"), "Erreur de syntaxe près de « {x} »"),
    (re.compile(r"^incomplete input$"), "Requête SQL incomplète"),
    (re.compile(r"^interrupted$"), "Requête interrompue : délai dépassé"),
    (
        re.compile(r"^Statement must be a SELECT$"),
        "La requête doit être une instruction SELECT (lecture seule)",
    ),
    (re.compile(r"^Permission denied$"), "Accès refusé"),
    (re.compile(r"^Forbidden$"), "Accès refusé"),
    (
        re.compile(r"^Cannot use _sort and _sort_desc at the same time$"),
        "Impossible d’utiliser _sort et _sort_desc en même temps",
    ),
    (re.compile(r"^Cannot sort table by (?P<x>.*)$"), "Impossible de trier la table par {x}"),
    (
        re.compile(r"^Invalid _facet_size$|^_facet_size must be a positive integer$"),
        "Valeur de _facet_size invalide",
    ),
    (
        re.compile(r"^Statement contained a disallowed PRAGMA\. Allowed pragma functions are (?P<x>.*)$"),
        "La requête contient un PRAGMA interdit. PRAGMA autorisés : {x}",
    ),
    (
        re.compile(r"^You did not supply a value for binding parameter :?(?P<x>[^.]*)\.?$"),
        "Aucune valeur fournie pour le paramètre :{x}",
    ),
    (re.compile(r"^attempt to write a readonly database$"), "La base de données est en lecture seule"),
    (re.compile(r"^CSV streaming is disabled$"), "L’export CSV complet est désactivé"),
    (re.compile(r"^Cannot download database$"), "Cette base de données ne peut pas être téléchargée"),
    (re.compile(r"^Cannot download in-memory databases$"), "Les bases en mémoire ne peuvent pas être téléchargées"),
    (re.compile(r"^Invalid database$"), "Base de données invalide"),
    (re.compile(r"^Cannot search by that column$"), "Impossible de rechercher sur cette colonne"),
    (re.compile(r"^_facet= is not allowed$"), "Le paramètre _facet n’est pas autorisé"),
    (re.compile(r"^_where= is not allowed$"), "Le paramètre _where n’est pas autorisé"),
    (re.compile(r"^_next not allowed for CSV streaming$"), "_next n’est pas autorisé pour l’export CSV complet"),
    (re.compile(r"^(?P<x>.*) is not a valid column$"), "{x} n’est pas une colonne valide"),
    (re.compile(r"^no such function: (?P<x>.*)$"), "Fonction inexistante : {x}"),
    (re.compile(r"^ambiguous column name: (?P<x>.*)$"), "Nom de colonne ambigu : {x}"),
    (re.compile(r"^_size must be a positive integer$"), "_size doit être un entier positif"),
    (re.compile(r"^_size must be <= (?P<x>.*)$"), "_size doit être inférieur ou égal à {x}"),
    # SQLite's limits (sqlite3_limit, sqlite3_hard_heap_limit64) and authorizer
    (
        re.compile(r"^string or blob too big$"),
        "Valeur trop longue : une chaîne ou un blob dépasse la taille maximale permise par ce site",
    ),
    (re.compile(r"^LIKE or GLOB pattern too complex$"), "Motif LIKE ou GLOB trop long"),
    (re.compile(r"^too many columns in result set$"), "Trop de colonnes dans le résultat"),
    (re.compile(r"^out of memory$"), "Mémoire insuffisante pour cette requête"),
    (re.compile(r"^not authorized to use function: (?P<x>.*)$"), "Fonction désactivée sur ce site : {x}"),
    (re.compile(r"^not authorized$"), "Opération non autorisée sur ce site"),
]

_TIMEOUT_RE = re.compile(
    r"<p>SQL query took too long\..*?</p>\s*<textarea[^>]*>(?P<sql>.*?)</textarea>", re.S
)


def error_title_fr(title: Optional[str], status: Any = None) -> str:
    if title:
        return ERROR_TITLES_FR.get(str(title), str(title))
    return {
        400: "Requête incorrecte",
        403: "Accès refusé",
        404: "Page introuvable",
        405: "Méthode non autorisée",
        500: "Erreur interne du serveur",
    }.get(_int(status), "Erreur {}".format(status or ""))


def error_message_fr(message: Any) -> Markup:
    """Translate Datasette's known error messages; keep anything else as is."""
    if message is None:
        return Markup("")
    if isinstance(message, Markup):
        match = _TIMEOUT_RE.search(str(message))
        if match:
            return Markup(
                "<p>La requête SQL a pris trop de temps et a été interrompue. "
                "Le délai maximal est fixé par le paramètre "
                "<code>sql_time_limit_ms</code> de Datasette. Simplifiez la "
                "requête ou ajoutez une clause <code>limit</code>.</p>"
                '<pre class="wrapped-sql"><code>{}</code></pre>'
            ).format(Markup(match.group("sql")))
        return message
    text = str(message)
    for pattern, template in _ERROR_PATTERNS:
        match = pattern.match(text)
        if match:
            return escape(template.format(**match.groupdict()))
    return escape(text)


def _int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


JSON_PAGES_FR = {
    "metadata.json": "Métadonnées",
    "versions.json": "Versions des logiciels",
    "plugins.json": "Extensions installées",
    "settings.json": "Paramètres",
    "config.json": "Paramètres",
    "databases.json": "Bases de données attachées",
    "actor.json": "Utilisateur connecté",
    "threads.json": "Fils d’exécution",
}


def json_page_title_fr(filename: str) -> str:
    return JSON_PAGES_FR.get(filename, filename)


def file_size_fr(size: Any) -> str:
    try:
        size = float(size)
    except (TypeError, ValueError):
        return ""
    for unit in ("octets", "Ko", "Mo", "Go"):
        if size < 1024 or unit == "Go":
            if unit == "octets":
                return "{} octets".format(format_number_fr(int(size)))
            return "{} {}".format(format_number_fr(round(size, 1)), unit)
        size /= 1024
    return ""
