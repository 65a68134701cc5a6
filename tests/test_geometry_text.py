import struct

import pytest

from loaders.territories.geometry import WKBError, measure, measure_hex, parse_wkb, ring_area_m2
from oc_site.text import normalise, tokens


def square(lon, lat, side):
    return [(lon, lat), (lon + side, lat), (lon + side, lat + side), (lon, lat + side), (lon, lat)]


def wkb_multipolygon(polygons):
    out = struct.pack("<BII", 1, 6, len(polygons))
    for rings in polygons:
        out += struct.pack("<BII", 1, 3, len(rings))
        for ring in rings:
            out += struct.pack("<I", len(ring))
            for x, y in ring:
                out += struct.pack("<2d", x, y)
    return out


def test_one_degree_cell_at_the_equator_on_wgs84():
    # between the equator and the parallel 1° N, over 1° of longitude: 12,308.46 km² on WGS 84 (a²·Δλ·q(1°)/2,
    # Snyder eq. 3-12; GeographicLib 2.1 gives 12,308,463,894 m² for the cell with sides of 1,000 geodesic
    # edges), not the 12,364 km² of the sphere of mean radius
    area = abs(ring_area_m2(square(0, 0, 1))) / 1e6
    assert area == pytest.approx(12_308.464, abs=0.001)


def test_whole_ellipsoid_area():
    # the band between the poles over 360° of longitude is the surface of WGS 84: 510,065,621.724 km²
    # (the value of GeographicLib, Karney 2013: 4π·c² with c the authalic radius, 6,371,007.181 m)
    band = [(-180, -90), (180, -90), (180, 90), (-180, 90), (-180, -90)]
    assert abs(ring_area_m2(band)) / 1e6 == pytest.approx(510_065_621.724, abs=0.001)


@pytest.mark.parametrize("lon,lat,geodesic_m2", [
    # squares of 0.1° whose sides are cut into 100 edges (as in a commune outline), and their area
    # as a geodesic polygon by GeographicLib 2.1 (Geodesic.WGS84.Polygon), to the square metre
    (-1.7, 48, 82_896_676), (-1.7, 0, 123_090_660), (55.4, -21, 115_150_540),
])
def test_areas_agree_with_geodesic_polygons(lon, lat, geodesic_m2):
    corners = square(lon, lat, 0.1)
    ring = [(x1 + (x2 - x1) * k / 100, y1 + (y2 - y1) * k / 100)
            for (x1, y1), (x2, y2) in zip(corners, corners[1:]) for k in range(100)] + [corners[0]]
    assert abs(ring_area_m2(ring)) == pytest.approx(geodesic_m2, abs=1.0)


def test_measure_holes_and_parts_from_wkb():
    outer = square(2, 48, 0.1)
    hole = square(2.025, 48.025, 0.05)
    other = square(3, 48, 0.1)
    polygons = parse_wkb(wkb_multipolygon([[outer, hole], [other]]))
    assert len(polygons) == 2 and len(polygons[0]) == 2
    area, lon, lat = measure(polygons)
    full = abs(ring_area_m2(outer)) / 1e6
    assert area == pytest.approx(full * 2 - abs(ring_area_m2(hole)) / 1e6)
    # planar weights: first square 0.01 - 0.0025 (hole) at x = 2.05, second 0.01 at x = 3.05
    assert lon == pytest.approx((0.0075 * 2.05 + 0.01 * 3.05) / 0.0175, abs=1e-9)
    assert lat == pytest.approx(48.05, abs=1e-6)


def test_measure_hex_errors_are_reported():
    with pytest.raises(WKBError):
        measure_hex("zz")
    with pytest.raises(WKBError):
        measure_hex(wkb_multipolygon([[square(0, 0, 1)]])[:30].hex())


@pytest.mark.parametrize("text,expected", [
    ("Île-de-Bréhat", "ile de brehat"),
    ("L'Haÿ-les-Roses", "l hay les roses"),
    ("St-Malo", "saint malo"),
    ("Ste Foy lès Lyon", "sainte foy les lyon"),
    ("Œuilly", "oeuilly"),
    ("  Y  ", "y"),
])
def test_normalise(text, expected):
    assert normalise(text) == expected


def test_tokens_keep_codes():
    assert tokens("2A004 35000") == ["2a004", "35000"]
    assert tokens("") == []
    assert tokens("--") == []
