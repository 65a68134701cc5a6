"""Areas and centres of the EPCI, départements and régions, from the measures of their communes.

A sum of areas is published only when it is complete: when every commune of the territory is covered
by an outline (see outlines.measure_communes). A département whose communes are not all covered takes
the sum of its canton outlines instead (same IGN edition, and a canton outline has no commune
boundary to go stale), when the cantons cover it; a région is the sum of its départements.
"""

from dataclasses import dataclass

from .outlines import Measure

CANTON_TOLERANCE = 1e-4  # canton and commune outlines of one edition agree to 0.01 % on every département


def rounded(area_km2: float | None) -> float | None:
    """Areas are stored to the square metre (6 decimals of km²): never rounded further before a density."""
    return None if area_km2 is None else round(area_km2, 6)


@dataclass(frozen=True)
class Area:
    superficie_km2: float | None
    latitude: float | None = None
    longitude: float | None = None
    methode: str | None = None  # 'communes' (sum of the communes) or 'cantons' (sum of the canton outlines)


def sum_over(communes: list[dict], measures: dict[str, Measure], key: str) -> dict[str, tuple[float, bool, float | None, float | None]]:
    """Territory code → (sum of the communes' shares, complete?, centre lat, centre lon), the centre being
    the mean of the communes' centres weighted by their shares."""
    acc: dict[str, list] = {}
    for c in communes:
        code = c[key]
        if not code:
            continue
        m = measures[c["code_insee"]]
        total = acc.setdefault(code, [0.0, True, 0.0, 0.0])
        total[0] += m.share_km2
        total[1] = total[1] and m.complete
        if m.latitude is not None and m.share_km2:
            total[2] += m.latitude * m.share_km2
            total[3] += m.longitude * m.share_km2
    return {code: (area, complete, lat / area if area else None, lon / area if area else None)
            for code, (area, complete, lat, lon) in acc.items()}


def epci_areas(communes, measures) -> dict[str, Area]:
    return {code: Area(area if complete else None, lat, lon, "communes" if complete else None)
            for code, (area, complete, lat, lon) in sum_over(communes, measures, "epci").items()}


def departement_areas(communes, measures, canton_areas) -> dict[str, Area]:
    """`canton_areas(set of département codes)` → {code: sum of its canton outlines}, asked only for the
    départements whose communes are not all covered."""
    sums = sum_over(communes, measures, "departement")
    incomplete = {code for code, (area, complete, _, _) in sums.items() if not complete and area}
    cantons = canton_areas(incomplete) if incomplete else {}
    result = {}
    for code, (area, complete, lat, lon) in sums.items():
        if complete and area:
            result[code] = Area(area, lat, lon, "communes")
        elif cantons.get(code) and cantons[code] >= area * (1 - CANTON_TOLERANCE):
            result[code] = Area(cantons[code], lat, lon, "cantons")
        else:
            result[code] = Area(None, lat, lon)
    return result


def region_areas(departements: list[dict], by_departement: dict[str, Area]) -> dict[str, Area]:
    """`departements`: dicts with code and region. A région's area is the sum of its départements'."""
    members: dict[str, list[Area]] = {}
    for d in departements:
        members.setdefault(d["region"], []).append(by_departement.get(d["code"], Area(None)))
    return {region: Area(sum(a.superficie_km2 for a in areas) if all(a.superficie_km2 for a in areas) else None,
                         methode="departements")
            for region, areas in members.items()}
