"""Values computed from a mapping's own values, in SQL, right after it is loaded.

- `agregation: territoires` on an indicator of a commune mapping: the territory's own value is the sum
  over its communes (dwellings, jobs, inhabitants…), written under the same code for each EPCI,
  département and région — only where every commune of the territory has a value (a partial sum
  would understate it; the build report counts the territories left out);
- `derives`: ratios, `numerateur / denominateur × echelle`, at every level and year where both are
  known and the denominator is positive (a rate per inhabitant, a share, a number of years of savings).
  Both come from the same file (same source), so a ratio never mixes vintages or producers.
The computed values carry the mapping's source; their catalogue entries are the mapping's.
"""

import sqlite3
from dataclasses import dataclass

from oc_site.levels import LEVELS, SMALLEST_FIRST

from . import catalogue

DERIVED_KEYS = {"code", "libelle", "numerateur", "denominateur", "echelle", "unite", "decimales", "theme",
                "ordre", "description"}


def parse(entries: list, codes: set[str]) -> list[dict]:
    """Check the `derives` list of a mapping (ValueError with a French message)."""
    if not isinstance(entries, list):
        raise ValueError("derives : une liste est attendue")
    checked = []
    for position, entry in enumerate(entries, start=1):
        where = f"derives[{position}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} : un dictionnaire est attendu")
        unknown = sorted(set(entry) - DERIVED_KEYS)
        if unknown:
            raise ValueError(f"{where} : clé(s) inconnue(s) {', '.join(unknown)}")
        for key in ("code", "libelle", "numerateur", "denominateur"):
            if not isinstance(entry.get(key), str):
                raise ValueError(f"{where}.{key} manquant")
        for key in ("numerateur", "denominateur"):
            if entry[key] not in codes:
                raise ValueError(f"{where}.{key} : « {entry[key]} » n'est pas un indicateur de ce mapping")
        if entry["code"] in codes:
            raise ValueError(f"{where} : le code {entry['code']} est déjà celui d'un indicateur lu")
        if not isinstance(entry.get("echelle", 1), (int, float)):
            raise ValueError(f"{where}.echelle : un nombre est attendu")
        checked.append(entry)
    return checked


@dataclass
class Computed:
    aggregated: int = 0  # values summed up to the EPCI, départements, régions
    incomplete: int = 0  # (territory, indicator, year) left out: a commune without a value
    ratios: int = 0


def aggregate(conn: sqlite3.Connection, indicator: str, source_id: int) -> tuple[int, int]:
    """Sum an indicator's commune values (of this source) up to each parent level, complete territories only."""
    inserted = skipped = 0
    for parent in LEVELS["commune"].parents:
        groups = f"""
            SELECT c.{parent} AS code, v.annee, sum(v.valeur) AS total, count(v.valeur) AS presentes,
                   (SELECT count(*) FROM communes m WHERE m.{parent} = c.{parent}) AS membres
            FROM valeurs v JOIN communes c ON c.code_insee = v.code
            WHERE v.niveau = 'commune' AND v.indicateur = :indicateur AND v.source = :source
              AND c.{parent} IS NOT NULL
            GROUP BY c.{parent}, v.annee"""
        params = {"indicateur": indicator, "source": source_id, "niveau": parent}
        skipped += conn.execute(f"SELECT count(*) FROM ({groups}) WHERE presentes < membres", params).fetchone()[0]
        inserted += catalogue.insert_values(conn, conn.execute(
            f"SELECT :indicateur, :niveau, code, annee, total, NULL FROM ({groups}) WHERE presentes = membres",
            params).fetchall(), source_id)
    return inserted, skipped


def ratio(conn: sqlite3.Connection, entry: dict, source_id: int) -> int:
    rows = conn.execute(
        """SELECT :code, n.niveau, n.code, n.annee, 1.0 * n.valeur * :echelle / d.valeur, NULL
           FROM valeurs n
           JOIN valeurs d ON d.niveau = n.niveau AND d.code = n.code AND d.annee = n.annee
                         AND d.indicateur = :denominateur AND d.source = n.source
           WHERE n.indicateur = :numerateur AND n.source = :source AND n.valeur IS NOT NULL AND d.valeur > 0""",
        {"code": entry["code"], "echelle": entry.get("echelle", 1), "numerateur": entry["numerateur"],
         "denominateur": entry["denominateur"], "source": source_id},
    ).fetchall()
    return catalogue.insert_values(conn, rows, source_id)


def apply(conn: sqlite3.Connection, mapping, source_id: int) -> Computed:
    """Aggregates first (ratios of EPCI, départements and régions need their sums), then the ratios."""
    computed = Computed()
    for indicator in mapping.indicateurs:
        if indicator.get("agregation") == "territoires":
            inserted, skipped = aggregate(conn, indicator["code"], source_id)
            computed.aggregated += inserted
            computed.incomplete += skipped
    for entry in mapping.derives:
        computed.ratios += ratio(conn, entry, source_id)
    return computed


def levels_with_values(conn: sqlite3.Connection, code: str) -> list[str]:
    present = {row[0] for row in conn.execute("SELECT DISTINCT niveau FROM valeurs WHERE indicateur = ?", (code,))}
    return [level for level in SMALLEST_FIRST if level in present]
