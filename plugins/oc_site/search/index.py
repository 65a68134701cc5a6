"""Querying the territories' full-text index (built by loaders/territories/search_index.py)."""

from oc_site.database import DATABASE, dicts
from oc_site.text import tokens

# what is read of a free-text query, before any work: the longest commune name has 45 characters
MAX_QUERY_LENGTH = 200
MAX_WORDS = 10

SEARCH_SQL = """
SELECT t.type, t.code, t.nom, t.libelle, t.categorie, t.departement, t.population, t.url
FROM territoires_fts
JOIN territoires t ON t.id = territoires_fts.rowid
WHERE territoires_fts MATCH :match
  AND (:niveau = '' OR t.type = :niveau)
ORDER BY
    t.code = :code DESC,
    t.recherche_nom = :nom DESC,
    t.recherche_nom LIKE :nom || '%' DESC,
    -- an EPCI weighs a tenth of its population, so that "renn" gives Rennes before Rennes Métropole
    coalesce(t.population, 0) / (CASE t.type WHEN 'epci' THEN 10 ELSE 1 END) DESC,
    t.type = 'commune' DESC
LIMIT :limit OFFSET :offset
"""

# How many territories of each level match (the counts of the search page's level filters)
COUNT_SQL = """
SELECT t.type, count(*) AS nombre
FROM territoires_fts
JOIN territoires t ON t.id = territoires_fts.rowid
WHERE territoires_fts MATCH :match
GROUP BY t.type
"""


def is_code(token: str) -> bool:
    return any(ch.isdigit() for ch in token) or token in ("2a", "2b")


def code_column(token: str) -> str:
    """Where a token with digits is looked up: six to nine digits are (the start of) a SIREN, anything shorter
    an INSEE code, a postal code, a département's or a région's code. A postal code never matches the start
    of a SIREN (« 20000 », Ajaccio, and the communes of Mayotte whose SIREN begins with 20000)."""
    return "recherche_siren" if token.isdigit() and 6 <= len(token) <= 9 else "recherche_codes"


def match_expression(query: str) -> tuple[str, str, str] | None:
    """FTS5 expression, normalised name and code for a free-text query, or None if nothing to search.

    Words match name prefixes, tokens with digits match code prefixes (code_column: INSEE code or postal
    code; SIREN from six digits). Only the first MAX_QUERY_LENGTH characters and MAX_WORDS words count:
    >>> match_expression("Ile de Bré")
    ('recherche_nom:"ile"* AND recherche_nom:"de"* AND recherche_nom:"bre"*', 'ile de bre', '')
    >>> match_expression("35000")
    ('recherche_codes:"35000"*', '', '35000')
    >>> match_expression("243500139")
    ('recherche_siren:"243500139"*', '', '243500139')
    """
    words = tokens(query[:MAX_QUERY_LENGTH])[:MAX_WORDS]
    if not words:
        return None
    parts, names, codes = [], [], []
    for word in words:
        if is_code(word):
            parts.append(f'{code_column(word)}:"{word}"*')
            codes.append(word.upper())
        else:
            parts.append(f'recherche_nom:"{word}"*')
            names.append(word)
    return " AND ".join(parts), " ".join(names), codes[0] if len(codes) == 1 else ""


async def search_territories(datasette, query: str, limit: int, level: str = "", offset: int = 0) -> list[dict]:
    """Territories matching a free-text query, best first (the site search and the comparison selector),
    of one level when `level` is given."""
    expression = match_expression(query)
    if expression is None:
        return []
    match, nom, code = expression
    results = await datasette.get_database(DATABASE).execute(SEARCH_SQL, {
        "match": match, "nom": nom, "code": code, "niveau": level or "", "limit": limit, "offset": offset})
    return dicts(results)


async def count_territories(datasette, query: str) -> dict[str, int]:
    """How many territories of each level match a free-text query."""
    expression = match_expression(query)
    if expression is None:
        return {}
    results = await datasette.get_database(DATABASE).execute(COUNT_SQL, {"match": expression[0]})
    return {level: count for level, count in results.rows}
