"""One full-text index over every territory: names (accent- and case-free), codes, SIREN, postal codes.

`territoires` holds one row per région, département, EPCI and commune; `territoires_fts` is an
FTS5 index on it with prefix indexes, so that "renn*", "35*" or "y*" answer from the index.
"""

from .text import normalise

LEVELS = {
    "region": ("Région", "/region/"),
    "departement": ("Département", "/departement/"),
    "epci": ("EPCI", "/epci/"),
    "commune": ("Commune", "/commune/"),
}

SOURCE_SQL = """
SELECT 'region' AS type, code, nom, NULL AS departement, population, code AS codes
FROM regions
UNION ALL
SELECT 'departement', code, nom, code, population, code
FROM departements
UNION ALL
SELECT 'epci', siren, nom, departement, population, siren
FROM epci
UNION ALL
SELECT 'commune', c.code_insee, c.nom, c.departement, c.population,
       c.code_insee || ' ' || coalesce(c.siren, '') || ' ' ||
       coalesce((SELECT group_concat(code_postal, ' ') FROM codes_postaux p WHERE p.code_insee = c.code_insee), '')
FROM communes c
"""


def label(kind: str, nom: str, departement: str | None) -> str:
    if kind in ("commune", "epci") and departement:
        return f"{nom} ({departement})"
    if kind == "departement":
        return f"{nom} ({departement})"
    return nom


def territory_rows(db):
    for kind, code, nom, departement, population, codes in db.execute(SOURCE_SQL).fetchall():
        yield {
            "type": kind,
            "code": code,
            "nom": nom,
            "libelle": label(kind, nom, departement),
            "departement": departement,
            "population": population,
            "url": LEVELS[kind][1] + code,
            "recherche_nom": normalise(nom),
            "recherche_codes": " ".join(codes.lower().split()),
        }


def build(db):
    db["territoires"].insert_all(territory_rows(db), batch_size=5000)
    db.executescript(
        """
        CREATE VIRTUAL TABLE territoires_fts USING fts5(
            recherche_nom, recherche_codes,
            content='territoires', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2',
            prefix='1 2 3 4'
        );
        INSERT INTO territoires_fts(territoires_fts) VALUES ('rebuild');
        INSERT INTO territoires_fts(territoires_fts) VALUES ('optimize');
        """
    )


# --- querying the index (used by the site's search page) -------------------------------------------

SEARCH_SQL = """
SELECT t.type, t.code, t.nom, t.libelle, t.departement, t.population, t.url
FROM territoires_fts
JOIN territoires t ON t.id = territoires_fts.rowid
WHERE territoires_fts MATCH :match
ORDER BY
    t.code = :code DESC,
    t.recherche_nom = :nom DESC,
    t.recherche_nom LIKE :nom || '%' DESC,
    -- an EPCI weighs a tenth of its population, so that "renn" gives Rennes before Rennes Métropole
    coalesce(t.population, 0) / (CASE t.type WHEN 'epci' THEN 10 ELSE 1 END) DESC,
    t.type = 'commune' DESC
LIMIT :limit
"""


def is_code(token: str) -> bool:
    return any(ch.isdigit() for ch in token) or token in ("2a", "2b")


def match_expression(query: str) -> tuple[str, str, str] | None:
    """FTS5 expression, normalised name and code for a free-text query, or None if nothing to search.

    Words match name prefixes, tokens with digits match code prefixes (INSEE, SIREN, postal code):
    >>> match_expression("Ile de Bré")
    ('recherche_nom:"ile"* AND recherche_nom:"de"* AND recherche_nom:"bre"*', 'ile de bre', '')
    >>> match_expression("35000")
    ('recherche_codes:"35000"*', '', '35000')
    """
    from .text import tokens

    words = tokens(query)
    if not words:
        return None
    parts, names, codes = [], [], []
    for word in words:
        if is_code(word):
            parts.append(f'recherche_codes:"{word}"*')
            codes.append(word.upper())
        else:
            parts.append(f'recherche_nom:"{word}"*')
            names.append(word)
    return " AND ".join(parts), " ".join(names), codes[0] if len(codes) == 1 else ""
