"""One full-text index over every territory: names (accent- and case-free), codes, SIREN, postal codes.

Codes (INSEE, département, région, postal codes) and SIREN are two columns: a query of up to five characters
is a code, one of six to nine digits a SIREN (oc_site/search/index.py), so that « 20000 », the postal code of
Ajaccio, does not list the communes of Mayotte whose SIREN begins with 20000.

`territoires` holds one row per région, département, EPCI and commune, and one per arrondissement
municipal of Paris, Lyon and Marseille (type commune, leading to its row on the city's fiche: it has a
COG code but is not a commune); `territoires_fts` is an FTS5 index on it with prefix indexes, so that
"renn*", "35*" or "y*" answer from the index.
"""

from oc_site.levels import LEVELS, category, secondary_url
from oc_site.text import normalise

SOURCE_SQL = """
SELECT 'region' AS type, code, nom, NULL AS departement, population, zone, code AS codes, '' AS siren
FROM regions
UNION ALL
SELECT 'departement', code, nom, code, population, zone, code, ''
FROM departements
UNION ALL
SELECT 'epci', siren, nom, departement, population, NULL, '', siren
FROM epci
UNION ALL
SELECT 'commune', c.code_insee, c.nom, c.departement, c.population, c.zone,
       c.code_insee || ' ' ||
       coalesce((SELECT group_concat(code_postal, ' ') FROM codes_postaux p WHERE p.code_insee = c.code_insee), ''),
       coalesce(c.siren, '')
FROM communes c
UNION ALL
SELECT 'commune', s.code_insee, s.nom, s.departement, s.population, NULL, s.code_insee, ''
FROM communes_secondaires s
WHERE s.type = 'arrondissement-municipal'
"""
SECONDARY_URL = """SELECT code_insee, commune_parente FROM communes_secondaires WHERE type = 'arrondissement-municipal'"""


def label(kind: str, nom: str, departement: str | None) -> str:
    if kind in ("commune", "epci") and departement:
        return f"{nom} ({departement})"
    if kind == "departement":
        return f"{nom} ({departement})"
    return nom


def numbered_words(nom: str) -> list[str]:
    """Words of a name that hold digits (« 15e » of « Paris 15e Arrondissement »): a query token with a digit is
    looked up among the codes, so they are indexed there too."""
    return [word for word in normalise(nom).split() if any(ch.isdigit() for ch in word)]


def territory_rows(db):
    parents = dict(db.execute(SECONDARY_URL).fetchall())
    for kind, code, nom, departement, population, zone, codes, siren in db.execute(SOURCE_SQL).fetchall():
        url = secondary_url(parents[code], code) if code in parents else LEVELS[kind].url(code)
        yield {
            "type": kind,
            "code": code,
            "nom": nom,
            "libelle": label(kind, nom, departement),
            "categorie": category(kind, zone),
            "departement": departement,
            "population": population,
            "url": url,
            "recherche_nom": normalise(nom),
            "recherche_codes": " ".join([*codes.lower().split(), *numbered_words(nom)]),
            "recherche_siren": siren,
        }


def build(db):
    db["territoires"].insert_all(territory_rows(db), batch_size=5000)
    db.executescript(
        """
        CREATE VIRTUAL TABLE territoires_fts USING fts5(
            recherche_nom, recherche_codes, recherche_siren,
            content='territoires', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2',
            prefix='1 2 3 4'
        );
        INSERT INTO territoires_fts(territoires_fts) VALUES ('rebuild');
        INSERT INTO territoires_fts(territoires_fts) VALUES ('optimize');
        """
    )
