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


def test_one_degree_square_at_equator():
    # a 1°×1° cell at the equator is 12,364 km² on the sphere of mean radius
    area = abs(ring_area_m2(square(0, 0, 1))) / 1e6
    assert area == pytest.approx(12_364, rel=1e-3)


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
