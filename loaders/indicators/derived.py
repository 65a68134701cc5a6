"""What a commune-level mapping derives from the values it has just read, declared in its YAML.

- Communes merged since the file's year (their old code is in `communes.anciens_codes` of a current
  commune): the values of an additive indicator (`agregation: somme`) are added to the current
  commune, so that every value describes today's perimeter; its other values for that year (ratios,
  zonages) are left out, since they described a smaller territory.
- `agregation: somme` also gives the indicator `<code>_communes` for the EPCI, départements and
  régions: the sum over their current member communes (« total des communes membres »).
- `calculs`: an indicator computed as the ratio of two others (`rapport: [numérateur, dénominateur]`),
  for the communes, and for the other levels when both terms are summed there.

Everything is plain SQL over `valeurs`, run for the years just loaded; the sums and ratios carry a
source of their own (« calcul Open Collectivités »).
"""

from collections import defaultdict

from oc_site.levels import LEVELS, SMALLEST_FIRST

from . import catalogue

SUFFIX = "_communes"  # code of the sum over the member communes
TOTAL_LABEL = " (total des communes membres)"
RATIO_LABEL = " (ensemble des communes membres)"
PARENT_LEVELS = LEVELS["commune"].parents  # columns of `communes` naming the territories above


def additive(mapping) -> dict[str, dict]:
    return {i["code"]: i for i in mapping.indicateurs if i.get("agregation") == "somme"}


def folds(mapping) -> bool:
    """Does the mapping move the values of merged communes onto their current commune?"""
    return mapping.niveau == "commune" and bool(additive(mapping))


def successors(conn) -> dict[str, str]:
    """Old commune code → the current commune that absorbed it."""
    found = {}
    for code, former in conn.execute("SELECT code_insee, anciens_codes FROM communes WHERE anciens_codes IS NOT NULL"):
        for old in former.split(","):
            if old.strip() and old.strip() != code:
                found.setdefault(old.strip(), code)
    return found


def fold_predecessors(conn, mapping, extracted):
    """Move the values of communes merged since the file's year onto their current commune."""
    if not folds(mapping) or not extracted.unknown_rows:
        return
    successor_of = successors(conn)
    sums = additive(mapping)
    changed, extra, folded = set(), defaultdict(int), set()
    for indicator, _, code, year, value, _ in extracted.unknown_rows:
        target = successor_of.get(code)
        if target is None:
            continue
        folded.add(code)
        changed.add((target, year))
        if indicator in sums and value is not None:
            extra[indicator, target, year] += value
    if not folded:
        return
    rows, dropped = [], 0
    for row in extracted.rows:
        indicator, level, code, year, value, text = row
        if (code, year) in changed:
            if indicator not in sums:
                dropped += 1
                continue
            row = (indicator, level, code, year, value + extra.pop((indicator, code, year), 0), text)
        rows.append(row)
    rows.extend((indicator, "commune", code, year, value, None) for (indicator, code, year), value in extra.items())
    extracted.rows = rows
    for code in folded:
        extracted.unknown.pop(code, None)
    examples = ", ".join(sorted(folded)[:10])
    extracted.notes.append(
        f"{len(folded)} anciennes communes fusionnées depuis (par exemple {examples}) : montants ajoutés à "
        f"leur commune actuelle ({len(changed)} commune(s)-année(s)), {dropped} autres valeurs de ces communes "
        "écartées (périmètre modifié)")


def catalogue_entries(mapping) -> list[dict]:
    """Catalogue entries of the sums over member communes and of the ratios."""
    levels = ",".join(lvl for lvl in SMALLEST_FIRST if lvl in PARENT_LEVELS)
    common = {"source": f"{mapping.producteur} — {mapping.titre} ; calcul Open Collectivités",
              "source_url": mapping.url, "licence": mapping.licence}
    entries = []
    for code, indicator in additive(mapping).items():
        entries.append({
            **common, "code": code + SUFFIX, "libelle": indicator["libelle"] + TOTAL_LABEL,
            "unite": indicator.get("unite"), "niveaux": levels, "type": "nombre",
            "decimales": indicator.get("decimales"), "theme": indicator.get("theme"),
            "ordre": indicator.get("ordre"),
            "description": f"Somme des valeurs des communes membres (périmètre actuel). {indicator.get('description') or ''}".strip(),
        })
    sums = additive(mapping)
    for calcul in mapping.calculs:
        numerator, denominator = calcul["rapport"]
        entry = {**common, "code": calcul["code"], "libelle": calcul["libelle"], "unite": calcul.get("unite"),
                 "niveaux": "commune", "type": "nombre", "decimales": calcul.get("decimales"),
                 "theme": calcul.get("theme"), "ordre": calcul.get("ordre"), "description": calcul.get("description")}
        entries.append(entry)
        if numerator in sums and denominator in sums:
            entries.append({**entry, "code": calcul["code"] + SUFFIX, "libelle": calcul["libelle"] + RATIO_LABEL,
                            "niveaux": levels,
                            "description": f"Rapport des totaux des communes membres. {calcul.get('description') or ''}".strip()})
    return entries


def check(mapping) -> str | None:
    """What is wrong with the `agregation` and `calculs` keys of a mapping (None when nothing)."""
    codes = {i["code"] for i in mapping.indicateurs}
    for indicator in mapping.indicateurs:
        if indicator.get("agregation") == "somme" and (indicator.get("type", "nombre") != "nombre"
                                                       or mapping.niveau != "commune"):
            return f"agregation : pour un indicateur numérique d'un mapping de communes seulement ({indicator['code']})"
    for position, calcul in enumerate(mapping.calculs, start=1):
        if not isinstance(calcul, dict) or not all(isinstance(calcul.get(k), str) for k in ("code", "libelle")):
            return f"calculs[{position}] : code et libelle attendus"
        terms = calcul.get("rapport")
        if not (isinstance(terms, list) and len(terms) == 2 and set(terms) <= codes):
            return (f"calculs[{position}].rapport : deux codes d'indicateurs de ce mapping attendus "
                    f"({calcul['code']})")
        if calcul["code"] in codes:
            return f"calculs[{position}] : le code {calcul['code']} est déjà celui d'un indicateur lu"
    return None


def _years(years) -> str:
    return ", ".join(str(int(y)) for y in years)


def compute(conn, mapping, years: list[int], note: str | None = None) -> int:
    """Write the sums over member communes and the ratios of `years`; returns how many values."""
    entries = catalogue_entries(mapping)
    if not entries or not years:
        return 0
    catalogue.upsert_indicators(conn, entries)
    source = catalogue.add_source(
        conn, producteur=f"{mapping.producteur}, calcul Open Collectivités",
        titre=f"{mapping.titre} : totaux des communes membres et rapports", url=mapping.url,
        fichier=None, millesime=_years(years), mapping=mapping.name, nb_valeurs=0, note=note)
    codes = [e["code"] for e in entries]
    marks = ", ".join("?" for _ in codes)
    conn.execute(f"DELETE FROM valeurs WHERE indicateur IN ({marks}) AND annee IN ({_years(years)})", codes)
    written = 0
    sums = list(additive(mapping))
    if sums:
        # one pass over the communes' values, summed for each level above (a CTE read three times)
        selects = " UNION ALL ".join(
            f"SELECT indicateur || '{SUFFIX}', '{level}', {level}, annee, sum(valeur), :source FROM membres "
            f"WHERE {level} IS NOT NULL GROUP BY indicateur, {level}, annee" for level in PARENT_LEVELS)
        marks = ", ".join(f":i{n}" for n in range(len(sums)))
        written += conn.execute(f"""
            WITH membres AS MATERIALIZED (
                SELECT v.indicateur, v.annee, v.valeur, {", ".join(f"c.{level}" for level in PARENT_LEVELS)}
                FROM valeurs v JOIN communes c ON c.code_insee = v.code
                WHERE v.niveau = 'commune' AND v.indicateur IN ({marks}) AND v.annee IN ({_years(years)})
                  AND v.valeur IS NOT NULL)
            INSERT INTO valeurs (indicateur, niveau, code, annee, valeur, source) {selects}""",
            {"source": source, **{f"i{n}": code for n, code in enumerate(sums)}}).rowcount
    sums = additive(mapping)
    for calcul in mapping.calculs:
        numerator, denominator = calcul["rapport"]
        plans = [("commune", calcul["code"], numerator, denominator)]
        if numerator in sums and denominator in sums:
            plans += [(level, calcul["code"] + SUFFIX, numerator + SUFFIX, denominator + SUFFIX)
                      for level in PARENT_LEVELS]
        for level, code, top, bottom in plans:
            written += conn.execute(f"""
                INSERT INTO valeurs (indicateur, niveau, code, annee, valeur, source)
                SELECT ?, n.niveau, n.code, n.annee, round(n.valeur * 1.0 / d.valeur, 4), ?
                FROM valeurs n JOIN valeurs d
                  ON d.niveau = n.niveau AND d.code = n.code AND d.annee = n.annee AND d.indicateur = ?
                WHERE n.niveau = ? AND n.indicateur = ? AND n.annee IN ({_years(years)})
                  AND n.valeur IS NOT NULL AND d.valeur > 0""", (code, source, bottom, level, top)).rowcount
    catalogue.update_source(conn, source, nb_valeurs=written)
    return written
