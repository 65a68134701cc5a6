"""Values computed from a mapping's own values, in SQL, right after it is loaded: sums and ratios.

- `agregation: somme` on a numeric indicator of a commune mapping: each EPCI, département and région
  receives the sum over its current communes (dwellings, jobs, dotations…);
- `derives`: ratios, `numerateur / denominateur × echelle` (rounded to `arrondi` decimals when given),
  wherever both terms are known for the same territory and year, from the same source, and the
  denominator is positive: at the mapping's level, and above it when both terms are summed there.

The mapping's `calculs` block chooses, once for all its sums (README of data/mappings):
- `totaux`: `meme` (default) — the sum is stored under the indicator's own code, the territory's value —
  or `communes` — under `<code>_communes`, « total des communes membres », distinct from a value of the
  group itself (a ratio of two such totals is `<code>_communes` too);
- `territoires_incomplets`: `omis` (default) — a territory one commune of which has no value gets no sum,
  a partial sum would understate it (the build report counts them) — or `inclus`;
- `communes_fusionnees`: `additionnees` — the values of communes merged since the file's year (their old
  code in `communes.anciens_codes`) are added to their current commune, and its other values of that year
  are left out (they described a smaller territory) — or `ecartees` (default: counted as unknown codes);
- `source`: `fichier` (default) — the computed values carry the loaded file's source — or `distincte` — a
  source of their own (« calcul Open Collectivités »), replacing the previous computation of those years;
- `communes_recodees`: `suivies` — the file uses the codes of 2020 (to 2022): the values of a commune of 2020
  that goes on under another code (same SIREN, table communes_recodees: Les Hauts-Talican, 60054 in the
  DGCL's files of 2020 to 2022, now 60694) go to that code — or `ignorees` (default: the file's code).
The ratios at the mapping's own level keep the file's source: a commune's ratio is the file's figures.
"""

import sqlite3
from collections import defaultdict
from dataclasses import dataclass

from oc_site.levels import LEVELS, MEMBERS_RATIO_LABEL, MEMBERS_TOTAL_LABEL, SMALLEST_FIRST

from . import catalogue, store
from .store import quote as q

SUFFIX = "_communes"  # code of a total over the member communes (`totaux: communes`)
PARENT_LEVELS = LEVELS["commune"].parents  # columns of `communes` naming the territories above
RATIO_KEYS = {"code", "libelle", "numerateur", "denominateur", "echelle", "arrondi", "unite", "decimales",
              "theme", "ordre", "description"}
OPTIONS = {"totaux": ("meme", "communes"), "territoires_incomplets": ("omis", "inclus"),
           "communes_fusionnees": ("ecartees", "additionnees"), "source": ("fichier", "distincte"),
           "communes_recodees": ("ignorees", "suivies")}


@dataclass(frozen=True)
class Options:
    """The `calculs` block of a mapping: how its sums are stored (see the module's docstring)."""

    totaux: str = "meme"
    territoires_incomplets: str = "omis"
    communes_fusionnees: str = "ecartees"
    source: str = "fichier"
    communes_recodees: str = "ignorees"

    def target(self, code: str) -> str:
        """The code a sum (or a ratio of sums) is stored under above the communes."""
        return code + SUFFIX if self.totaux == "communes" else code


def parse_options(block) -> Options:
    """Check the `calculs` block of a mapping (ValueError with a French message)."""
    if block is None:
        return Options()
    if not isinstance(block, dict):
        raise ValueError("calculs : un dictionnaire est attendu (totaux, territoires_incomplets, "
                         "communes_fusionnees, source)")
    for key, value in block.items():
        if key not in OPTIONS:
            raise ValueError(f"calculs : clé inconnue {key} ({', '.join(OPTIONS)})")
        if value not in OPTIONS[key]:
            raise ValueError(f"calculs.{key} : {' ou '.join(OPTIONS[key])} attendu (« {value} »)")
    return Options(**block)


def check_sums(indicators: list[dict], level: str) -> None:
    """`agregation: somme`, for numeric indicators of a commune mapping only (ValueError)."""
    for indicator in indicators:
        if indicator.get("agregation") is None:
            continue
        if indicator["agregation"] != "somme":
            raise ValueError(f"agregation de {indicator['code']} : « somme » attendu (le code et les territoires "
                             "incomplets se règlent dans le bloc calculs)")
        if level != "commune" or indicator.get("type", "nombre") != "nombre":
            raise ValueError(f"agregation de {indicator['code']} : pour un indicateur numérique d'un mapping de "
                             "communes seulement")


def parse_ratios(entries, codes: set[str]) -> list[dict]:
    """Check the `derives` list of a mapping (ValueError with a French message)."""
    if not isinstance(entries, list):
        raise ValueError("derives : une liste est attendue")
    checked = []
    for position, entry in enumerate(entries, start=1):
        where = f"derives[{position}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} : un dictionnaire est attendu")
        unknown = sorted(set(entry) - RATIO_KEYS)
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
        if not isinstance(entry.get("arrondi", 0), int):
            raise ValueError(f"{where}.arrondi : un nombre entier de décimales est attendu")
        checked.append(entry)
    return checked


def summed(mapping) -> dict[str, dict]:
    """The indicators summed over the member communes (`agregation: somme`)."""
    return {i["code"]: i for i in mapping.indicateurs if i.get("agregation") == "somme"}


def summed_ratio(mapping, entry: dict) -> bool:
    """Is a ratio computed above the communes too (both its terms are summed there)?"""
    sums = summed(mapping)
    return entry["numerateur"] in sums and entry["denominateur"] in sums


# --- communes merged since the file's year ---------------------------------------------------------

def folds(mapping) -> bool:
    """Does the mapping move the values of merged communes onto their current commune? (Without a summed
    indicator, it only leaves out the values of the communes whose perimeter changed since the file.)"""
    return mapping.niveau == "commune" and mapping.calculs.communes_fusionnees == "additionnees"


def successors(conn) -> dict[str, str]:
    """Old commune code → the current commune that absorbed it."""
    found = {}
    for code, former in conn.execute("SELECT code_insee, anciens_codes FROM communes WHERE anciens_codes IS NOT NULL"):
        for old in former.split(","):
            if old.strip() and old.strip() != code:
                found.setdefault(old.strip(), code)
    return found


def follow_recoded(conn, mapping, extracted):
    """`communes_recodees: suivies`: the rows of a commune of 2020 that goes on under another code (same SIREN,
    table communes_recodees) move to that code, all of them (it is the same commune); a code the file uses
    for a commune of its year is left alone when the current commune already has rows that year."""
    if mapping.niveau != "commune" or mapping.calculs.communes_recodees != "suivies":
        return
    recoded = dict(conn.execute("SELECT code_2020, code_insee FROM communes_recodees"))
    if not recoded:
        return
    present = {(row[2], row[3]) for row in extracted.rows}
    movable = lambda row: row[2] in recoded and (recoded[row[2]], row[3]) not in present  # noqa: E731
    moving = [row for row in extracted.rows + extracted.unknown_rows if movable(row)]
    if not moving:
        return
    moved = {row[2] for row in moving}
    extracted.rows = [row for row in extracted.rows if not movable(row)]
    extracted.unknown_rows = [row for row in extracted.unknown_rows if not movable(row)]
    extracted.rows.extend((row[0], row[1], recoded[row[2]], *row[3:]) for row in moving)
    for code in moved:
        extracted.unknown.pop(code, None)
    extracted.notes.append(
        f"{len(moved)} communes de 2020 suivies par leur SIREN sous leur code actuel : "
        + ", ".join(f"{code} → {recoded[code]}" for code in sorted(moved)))


def fold_predecessors(conn, mapping, extracted):
    """Move the values of communes merged since the file's year onto their current commune."""
    if not folds(mapping) or not extracted.unknown_rows:
        return
    successor_of = successors(conn)
    sums = summed(mapping)
    changed, extra, folded = defaultdict(set), defaultdict(int), set()
    for indicator, _, code, year, value, _ in extracted.unknown_rows:
        target = successor_of.get(code)
        if target is None:
            continue
        folded.add(code)
        changed[target, year].add(code)
        if indicator in sums and value is not None:
            extra[indicator, target, year] += value
    if not folded:
        return
    rows, dropped = [], 0
    for row in extracted.rows:
        indicator, level, code, year, value, text = row
        if (code, year) in changed:
            changed[code, year].add(code)  # the file's own row of the current code is in the sum too
            if indicator not in sums:
                dropped += 1
                continue
            row = (indicator, level, code, year, value + extra.pop((indicator, code, year), 0), text)
        rows.append(row)
    rows.extend((indicator, "commune", code, year, value, None) for (indicator, code, year), value in extra.items())
    extracted.rows = rows
    for code in folded:
        extracted.unknown.pop(code, None)
    if sums:  # (without a summed indicator, nothing was added up: the values were left out)
        record_folds(conn, mapping, changed)
    examples = ", ".join(sorted(folded)[:10])
    extracted.notes.append(
        f"{len(folded)} anciennes communes fusionnées depuis (par exemple {examples}) : "
        + (f"montants ajoutés à leur commune actuelle ({len(changed)} commune(s)-année(s)), {dropped} autres "
           "valeurs de ces communes écartées (périmètre modifié)" if sums else
           f"{dropped} valeurs de leur commune actuelle écartées ({len(changed)} commune(s)-année(s) : périmètre "
           "modifié depuis)"))


FOLDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS sommes_anciennes_communes (
    mapping TEXT NOT NULL,
    code_insee TEXT NOT NULL,
    annee INTEGER NOT NULL,
    anciens_codes TEXT NOT NULL,
    PRIMARY KEY (mapping, code_insee, annee)
);
"""


def record_folds(conn, mapping, changed: dict[tuple[str, int], set[str]]):
    """Table sommes_anciennes_communes: which current commune received, for which year of a mapping's file, the
    amounts of which communes of that year (their codes, its own when the file has a row under it) — the fiches
    say that those amounts are sums (Culoz-Béon 01138: Culoz 01138 and Béon 01039 in the DGCL's files of 2020
    to 2022)."""
    conn.executescript(FOLDS_SCHEMA)
    conn.executemany("INSERT OR REPLACE INTO sommes_anciennes_communes VALUES (?, ?, ?, ?)",
                     [(mapping.name, code, year, ",".join(sorted(old)))
                      for (code, year), old in sorted(changed.items())])


# --- catalogue -------------------------------------------------------------------------------------

def catalogue_entries(mapping) -> list[dict]:
    """Catalogue entries of the ratios, and of the totals and ratios stored under `<code>_communes`."""
    common = {"source": f"{mapping.producteur} — {mapping.titre} ; calcul Open Collectivités",
              "source_url": mapping.url, "licence": mapping.licence, "type": "nombre"}
    apart = mapping.calculs.totaux == "communes"
    above = ",".join(lvl for lvl in SMALLEST_FIRST if lvl in PARENT_LEVELS)
    entries = []
    if apart:
        for code, indicator in summed(mapping).items():
            entries.append({
                **common, "code": code + SUFFIX, "libelle": indicator["libelle"] + MEMBERS_TOTAL_LABEL,
                "unite": indicator.get("unite"), "niveaux": above, "decimales": indicator.get("decimales"),
                "theme": indicator.get("theme"), "ordre": indicator.get("ordre"),
                "description": f"Somme des valeurs des communes membres (périmètre actuel). "
                               f"{indicator.get('description') or ''}".strip(),
            })
    for order, ratio in enumerate(mapping.derives, start=len(mapping.indicateurs) + 1):
        entry = {**common, "code": ratio["code"], "libelle": ratio["libelle"], "unite": ratio.get("unite"),
                 "niveaux": mapping.niveau, "decimales": ratio.get("decimales"), "theme": ratio.get("theme"),
                 "ordre": ratio.get("ordre", 1000 + order), "description": ratio.get("description"),
                 "bloc": mapping.bloc}
        entries.append(entry)
        if apart and summed_ratio(mapping, ratio):
            entries.append({**entry, "code": ratio["code"] + SUFFIX, "libelle": ratio["libelle"] + MEMBERS_RATIO_LABEL,
                            "niveaux": above, "description": f"Rapport des totaux des communes membres. "
                                                             f"{ratio.get('description') or ''}".strip()})
    return entries


# --- values ----------------------------------------------------------------------------------------

@dataclass
class Computed:
    aggregated: int = 0  # sums written for the EPCI, départements, régions
    incomplete: int = 0  # (territory, indicator, year) left out: a commune without a value
    ratios: int = 0


def _table_of(conn, code: str, level: str) -> store.Column:
    return store.registry(conn)[code, level]


def aggregate(conn: sqlite3.Connection, mapping, source_id: int, target_source: int,
              years: list[int]) -> tuple[int, int]:
    """Sum the summed indicators' commune values (of this load: its source and years) up to each parent
    level: one pass over each value table per parent level."""
    where = store.registry(conn)
    by_table = defaultdict(list)
    for code in summed(mapping):
        by_table[where[code, "commune"].table].append(where[code, "commune"])
    options = mapping.calculs
    inserted = skipped = 0
    for parent in PARENT_LEVELS:
        members = dict(conn.execute(f"SELECT {parent}, count(*) FROM communes GROUP BY {parent}"))
        rows = []
        for table, columns in by_table.items():
            # only the cells of this load: its source in the column's source column
            terms = ", ".join(f"sum(CASE WHEN t.{q(c.source)} = :source THEN t.{q(c.indicator)} END), "
                              f"count(CASE WHEN t.{q(c.source)} = :source THEN t.{q(c.indicator)} END)"
                              for c in columns)
            for code, year, *figures in conn.execute(f"""
                    SELECT c.{parent}, t.annee, {terms}
                    FROM {q(table)} t JOIN communes c ON c.code_insee = t.code_insee
                    WHERE t.annee IN ({_years(years)}) AND c.{parent} IS NOT NULL
                    GROUP BY c.{parent}, t.annee""", {"source": source_id}):
                for column, total, present in zip(columns, figures[0::2], figures[1::2]):
                    if not present:
                        continue
                    if present < members[code] and options.territoires_incomplets == "omis":
                        skipped += 1
                    elif total is not None:
                        rows.append((options.target(column.indicator), parent, code, year, total, None))
        inserted += store.write(conn, rows, target_source)
    return inserted, skipped


def rounding(entry: dict) -> int | None:
    """The decimals a ratio keeps: its `arrondi`, else all those of the division (store.clean keeps 15
    significant digits: no float artefact, and no precision an analyst would miss)."""
    return entry.get("arrondi")


def ratio(conn: sqlite3.Connection, mapping, entry: dict, source_id: int, target_source: int,
          years: list[int]) -> int:
    """One ratio at the mapping's level (under the file's source: a commune's ratio is the file's figures), and
    above it when both terms are summed there; both terms of the same territory, year and source, the
    denominator positive."""
    # (level, code, numerator, denominator, source of the terms, source of the ratio)
    plans = [(mapping.niveau, entry["code"], entry["numerateur"], entry["denominateur"], source_id, source_id)]
    if summed_ratio(mapping, entry):
        target = mapping.calculs.target
        plans += [(level, target(entry["code"]), target(entry["numerateur"]), target(entry["denominateur"]),
                   target_source, target_source) for level in PARENT_LEVELS]
    written = 0
    for level, code, numerator, denominator, terms_source, ratio_source in plans:
        n, d = _table_of(conn, numerator, level), _table_of(conn, denominator, level)
        value = f"1.0 * n.{q(n.indicator)} * :echelle / d.{q(d.indicator)}"
        if rounding(entry) is not None:
            value = f"round({value}, {int(rounding(entry))})"
        rows = conn.execute(
            f"""SELECT :code, :niveau, n.{n.key}, n.annee, {value}, NULL
                FROM {q(n.table)} n
                JOIN {q(d.table)} d ON d.{d.key} = n.{n.key} AND d.annee = n.annee AND d.{q(d.source)} = n.{q(n.source)}
                WHERE n.{q(n.source)} = :source AND n.annee IN ({_years(years)})
                  AND n.{q(n.indicator)} IS NOT NULL AND d.{q(d.indicator)} > 0""",
            {"code": code, "echelle": entry.get("echelle", 1), "niveau": level, "source": terms_source}).fetchall()
        written += store.write(conn, rows, ratio_source)
    return written


def _years(years) -> str:
    return ", ".join(str(int(y)) for y in years)


def own_source(conn, mapping, years: list[int]) -> int:
    """`source: distincte`: a source for the computed values of `years`, replacing their previous computation."""
    source = catalogue.add_source(
        conn, producteur=f"{mapping.producteur}, calcul Open Collectivités",
        titre=f"{mapping.titre} : totaux des communes membres et rapports", url=mapping.url,
        fichier=None, millesime=_years(years), mapping=mapping.name, nb_valeurs=0, note=None)
    codes = {e["code"] for e in catalogue_entries(mapping)}
    above = {mapping.calculs.target(code) for code in summed(mapping)}
    store.clear(conn, [c for (code, level), c in store.registry(conn).items()
                       if code in codes or (level != "commune" and code in above)], years)
    return source


def apply(conn: sqlite3.Connection, mapping, source_id: int, years: list[int]) -> Computed:
    """Sums first (ratios of EPCI, départements and régions need them), then the ratios."""
    computed = Computed()
    if not years or not (summed(mapping) or mapping.derives):
        return computed
    target_source = source_id
    if mapping.calculs.source == "distincte":
        target_source = own_source(conn, mapping, years)
    if summed(mapping):
        computed.aggregated, computed.incomplete = aggregate(conn, mapping, source_id, target_source, years)
    for entry in mapping.derives:
        computed.ratios += ratio(conn, mapping, entry, source_id, target_source, years)
    if target_source != source_id:
        catalogue.update_source(conn, target_source, nb_valeurs=computed.aggregated + computed.ratios)
    return computed


def levels_with_values(conn: sqlite3.Connection, code: str) -> list[str]:
    present = store.levels_of(conn, code)
    return [level for level in SMALLEST_FIRST if level in present]


# --- where the values are stored -------------------------------------------------------------------

def columns(mapping) -> list[store.Column]:
    """The columns of the values computed for a mapping (store.py): its ratios in its own table, beside the
    file's values and under their source (ratio), the sums and the ratios of sums in its tables of the levels
    above (under the source of the computation, or the file's: `calculs.source`)."""
    own = store.table_name(mapping.stem, mapping.niveau)
    found = [store.Column(r["code"], mapping.niveau, own, store.SOURCE) for r in mapping.derives]
    above = [code for code in summed(mapping)] + [r["code"] for r in mapping.derives if summed_ratio(mapping, r)]
    for level in PARENT_LEVELS if above else ():
        found += [store.Column(mapping.calculs.target(code), level, store.table_name(mapping.stem, level),
                               store.SOURCE) for code in above]
    return found


def column_titles(mapping) -> dict[str, tuple[str, str]]:
    """Title and description of the tables of a mapping's sums, level by level."""
    return {store.table_name(mapping.stem, level): (
        f"{mapping.titre} : totaux des communes membres",
        f"{mapping.producteur} — {mapping.titre} : pour chaque {LEVELS[level].label} et chaque année, sommes des "
        "valeurs de ses communes membres (périmètre actuel) et rapports de ces sommes ; une colonne par "
        "indicateur (table indicateurs).") for level in PARENT_LEVELS}
