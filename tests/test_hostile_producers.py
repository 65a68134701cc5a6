"""Hostile producers (issue 24, findings 9–16): `oc sources --update` against answers a red team sent from a local
server impersonating data.gouv.fr, OpenDataSoft and INSEE (tests/test_producteurs.py). Every error of one
producer is one French line, the other producers are pinned all the same, and the lock and the cache always
agree; nothing outside the cache is touched, nothing internal fetched, nothing inflated without bound."""

import copy
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
import zlib

import pytest
from click.testing import CliRunner

import publications_server
from conftest import ROOT
from loaders.cli import cli
from loaders.common import http
from loaders.producers import lock
from test_producteurs import (COMPARATEUR, COMPARATEUR_FILE, DATAGOUV_ANSWER, DGCL_2024, DGCL_API, DGCL_FILE,
                              NAMES, ODS_DATASET, OFGL_API, OFGL_DATASET, datagouv_answer, leftovers, producers,
                              setup, sha256, sources)

__all__ = ["producers", "setup"]  # fixtures of test_producteurs.py, used here

OTHERS = {"dgcl_criteres_communes": ("insee_comparateur", "ofgl_comptes_communes"),
          "ofgl_comptes_communes": ("dgcl_criteres_communes", "insee_comparateur")}


def pinned(setup) -> dict:
    return json.loads(setup["lock"].read_text())["fichiers"] if setup["lock"].exists() else {}


def one_producer_failed(setup, result, name: str, message: str):
    """`name` failed with `message` in French, no traceback; the others were pinned and cached."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a raw traceback of this program
    line = next(line for line in result.output.splitlines() if line.startswith(f"ERREUR {name} : "))
    assert message in line, line
    entries = pinned(setup)
    assert name not in entries
    for other in OTHERS[name]:
        assert other in entries and (setup["cache"] / entries[other]["fichier"]).exists(), result.output
    assert leftovers(setup["cache"]) == []


def datagouv_resources(setup, **changes) -> bytes:
    """The real answer's shape for the 2024 file, one of its resource's fields changed."""
    answer = json.loads(datagouv_answer(setup["server"], [("criteres_repartition_2024.csv", DGCL_FILE, "csv",
                                                            DGCL_2024)]))
    answer["resources"][0].update(changes)
    return json.dumps(answer).encode()


# --- 9: hostile API answers, one French error per producer, the others pinned ---------------------

def hostile_answer(case: str, setup):
    server = setup["server"]
    if case == "redirection vers file://":
        server.add(DGCL_FILE, status=302, location="file:///etc/passwd")
        return "dgcl_criteres_communes", "adresse refusée (seuls http et https sont acceptés) : file:///etc/passwd"
    if case == "adresse numérique":
        server.add(DGCL_API, body=datagouv_resources(setup, url=12345), content_type="application/json")
        return "dgcl_criteres_communes", "a une adresse invalide (12345) : une adresse http(s) est attendue"
    if case == "jeu de données en liste":
        server.add(DGCL_API, body=json.dumps([DATAGOUV_ANSWER]).encode(), content_type="application/json")
        return "dgcl_criteres_communes", "réponse JSON inattendue : un objet est attendu, pas une liste"
    if case == "300 000 crochets":
        server.add(DGCL_API, body=b"[" * 300_000, content_type="application/json")
        return "dgcl_criteres_communes", "réponse JSON illisible (imbriquée trop profondément)"
    if case == "modified numérique":
        ods = copy.deepcopy(ODS_DATASET)
        ods["dataset_id"] = OFGL_DATASET
        ods["metas"]["default"]["modified"] = 20240620
        server.add(OFGL_API, body=json.dumps(ods).encode(), content_type="application/json")
        return "ofgl_comptes_communes", "date de modification illisible dans la réponse de l'API OpenDataSoft (20240620)"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["redirection vers file://", "adresse numérique", "jeu de données en liste",
                                  "300 000 crochets", "modified numérique"])
def test_9_a_hostile_api_answer_is_one_french_error_and_the_others_go_on(setup, case):
    name, message = hostile_answer(case, setup)
    one_producer_failed(setup, sources(setup, "--update", *NAMES), name, message)


def test_9_an_unexpected_error_is_still_one_line(setup, monkeypatch):
    from loaders.producers import datagouv

    def broken(rule, client, **options):
        raise ZeroDivisionError("division par zéro")

    monkeypatch.setattr(datagouv, "resolve", broken)
    one_producer_failed(setup, sources(setup, "--update", *NAMES), "dgcl_criteres_communes",
                        "réponse inattendue du producteur, fichier non épinglé (ZeroDivisionError : division par zéro)")


# --- 10: the lock is rewritten before the old file goes ----------------------------------------------------

def test_10_one_pinned_one_failing_leaves_a_lock_and_a_cache_that_agree(setup):
    assert sources(setup, "--update", *NAMES).exit_code == 0
    old = pinned(setup)["dgcl_criteres_communes"]["fichier"]
    newer = DGCL_2024 + b"\n"
    setup["producers"].dgcl(newer)  # the DGCL publishes a new file; OpenDataSoft then answers nonsense
    hostile_answer("modified numérique", setup)
    result = sources(setup, "--update", *NAMES)
    assert result.exit_code == 1 and "dgcl_criteres_communes : épinglé" in result.output
    entry = pinned(setup)["dgcl_criteres_communes"]
    assert entry["sha256"] == sha256(newer) and (setup["cache"] / entry["fichier"]).exists()
    assert not (setup["cache"] / old).exists()
    check = sources(setup, *NAMES)
    assert check.exit_code == 0 and check.output.count("présent dans le cache, SHA-256 vérifiée") == 3, check.output


def test_10_the_old_file_is_removed_only_after_the_lock_names_the_new_one(setup, monkeypatch):
    assert sources(setup, "--update", *NAMES).exit_code == 0
    old = setup["cache"] / pinned(setup)["dgcl_criteres_communes"]["fichier"]
    setup["producers"].dgcl(DGCL_2024 + b"\n")
    seen = []
    write = lock.write

    def watching_write(entries, path=None):
        seen.append(old.exists())  # the old file is still there when the lock is rewritten
        write(entries, path)

    monkeypatch.setattr(lock, "write", watching_write)
    assert sources(setup, "--update", "dgcl_criteres_communes").exit_code == 0
    assert seen == [True] and not old.exists()


# --- 11: a deadline for each producer, nothing partial left -----------------------------------------------

def test_11_a_download_dripping_a_byte_every_two_seconds_is_stopped(setup):
    setup["server"].add(DGCL_FILE, body=DGCL_2024, content_type="text/csv", drip=2.0)
    started = time.monotonic()
    result = sources(setup, "--update", "--timeout", "5", "--total-timeout", "4", *NAMES)
    assert time.monotonic() - started < 60  # the drip alone would take days
    one_producer_failed(setup, result, "dgcl_criteres_communes", "délai total dépassé")


def test_11_a_terminated_run_leaves_no_partial_download(setup):
    setup["server"].add(DGCL_FILE, body=DGCL_2024, content_type="text/csv", drip=0.5)
    process = subprocess.Popen(
        [sys.executable, "-m", "loaders.cli", "sources", "--update", "--mappings", str(setup["mappings"]),
         "--retries", "0", "dgcl_criteres_communes"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ})
    deadline = time.monotonic() + 60
    while not leftovers(setup["cache"]) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert leftovers(setup["cache"]), "le téléchargement n'a pas commencé"
    process.send_signal(signal.SIGTERM)
    process.wait(30)
    assert leftovers(setup["cache"]) == []


def test_11_partial_downloads_of_a_killed_run_are_removed_by_the_next(setup):
    setup["cache"].mkdir(parents=True)
    (setup["cache"] / ".dgcl_criteres_communes.telechargement.part").write_bytes(b"moitie")
    assert sources(setup, "--update", *NAMES).exit_code == 0
    assert leftovers(setup["cache"]) == []


# --- 12: one run at a time on the lock --------------------------------------------------------------

def test_12_a_second_run_meanwhile_is_refused_and_loses_nothing(setup):
    assert sources(setup, "--update", "insee_comparateur").exit_code == 0
    before = setup["lock"].read_bytes()
    with lock.held(setup["lock"], "oc sources --update"):
        result = sources(setup, "--update", "dgcl_criteres_communes")
    assert result.exit_code == 1
    assert "un autre `oc sources` met à jour le verrou des producteurs (oc sources --update, processus" in result.output
    assert setup["lock"].read_bytes() == before
    assert sources(setup, "--update", "dgcl_criteres_communes").exit_code == 0
    assert sorted(pinned(setup)) == ["dgcl_criteres_communes", "insee_comparateur"]


# --- 13: the lock names files inside the cache only ----------------------------------------------------------

@pytest.mark.parametrize("name", ["../victime.txt", "/tmp/victime.txt", "..", ".cache-cache", "a/b.csv"])
def test_13_a_lock_naming_a_file_outside_the_cache_is_refused(setup, name):
    assert sources(setup, "--update", *NAMES).exit_code == 0
    victim = setup["tmp"] / "victime.txt"
    victim.write_text("à garder")
    data = json.loads(setup["lock"].read_text())
    data["fichiers"]["dgcl_criteres_communes"]["fichier"] = name
    setup["lock"].write_text(json.dumps(data))
    for args in (("--update",), ()):
        result = sources(setup, *args, *NAMES)
        assert result.exit_code == 1
        assert "l'entrée dgcl_criteres_communes nomme un fichier hors du cache" in result.output
    assert victim.read_text() == "à garder"


# --- 14: redirects and announced addresses go to the same server or a public one ----------------------------

@pytest.fixture
def internal():
    """Another local server: this machine's internal services, that no producer may send us to."""
    state, httpd = publications_server.start()
    state.add("/secret.csv", body=DGCL_2024, content_type="text/csv")
    yield state
    httpd.shutdown()
    httpd.server_close()


def test_14_a_redirect_to_an_internal_address_is_refused(setup, internal):
    setup["server"].add(DGCL_FILE, status=302, location=internal.url("/secret.csv"))
    one_producer_failed(setup, sources(setup, "--update", *NAMES), "dgcl_criteres_communes",
                        "127.0.0.1 n'est pas une adresse publique")
    assert internal.requests == []


def test_14_an_api_naming_an_internal_file_is_refused(setup, internal):
    setup["server"].add(DGCL_API, body=datagouv_resources(setup, url=internal.url("/secret.csv")),
                        content_type="application/json")
    one_producer_failed(setup, sources(setup, "--update", *NAMES), "dgcl_criteres_communes",
                        "n'est pas une adresse publique")
    assert internal.requests == []


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x",
                                    "http://[::1]:8080/x", "http://192.168.1.1/", "http://localhost/x",
                                    "gopher://example.org/x"])
def test_14_private_addresses_are_never_followed(target):
    with pytest.raises(http.FetchError, match="adresse refusée"):
        http.check_address("https://www.data.gouv.fr/api/1", target)
    http.check_address("https://www.data.gouv.fr/api/1", "https://static.data.gouv.fr/resources/x.csv")
    http.check_address("http://127.0.0.1:8000/api", "http://127.0.0.1:8000/fichier.csv")  # its own server


# --- 15: decompressed size capped ----------------------------------------------------------------------

def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes gzipped (about a thousandth of it), made without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    return b"".join([*(compressor.compress(block) for _ in range(size >> 20)), compressor.flush()])


def test_15_a_gzip_bomb_is_refused_early(setup):
    bomb = gzip_bomb(200 * 1024 * 1024)
    setup["server"].add(DGCL_FILE, body=bomb, content_type="text/csv", encoding="gzip")
    setup["producers"].server.add(DGCL_API, body=datagouv_answer(setup["server"], [
        ("criteres_repartition_2024.csv", DGCL_FILE, "csv", bomb)]), content_type="application/json")
    one_producer_failed(setup, sources(setup, "--update", *NAMES), "dgcl_criteres_communes",
                        "réponse compressée démesurée")


def test_15_an_archive_member_that_inflates_is_refused(setup):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("base_cc_comparateur.csv")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            member.write(COMPARATEUR)
            for _ in range(64):
                member.write(b"\n" * (1 << 20))
    setup["server"].add(COMPARATEUR_FILE, body=buffer.getvalue(), content_type="application/zip")
    result = sources(setup, "--update", *NAMES)
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if line.startswith("ERREUR insee_comparateur : "))
    assert "archive refusée : le fichier « base_cc_comparateur.csv »" in line and "fois sa taille compressée" in line
    assert "insee_comparateur" not in pinned(setup) and leftovers(setup["cache"]) == []


# --- 16: any announced checksum is verified, or the file refused --------------------------------------------

@pytest.mark.parametrize("algorithm", ["sha512", "SHA-256", "md5", "sha3-256"])
def test_16_an_announced_checksum_is_verified_whatever_its_algorithm(setup, algorithm):
    name = algorithm.lower().replace("-", "_").replace("sha_256", "sha256")
    wrong = hashlib.new(name, b"autre chose").hexdigest()
    setup["server"].add(DGCL_API, body=datagouv_resources(setup, checksum={"type": algorithm, "value": wrong}),
                        content_type="application/json")
    one_producer_failed(setup, sources(setup, "--update", *NAMES), "dgcl_criteres_communes",
                        f"somme de contrôle {algorithm} différente de celle annoncée par le producteur")
    right = hashlib.new(name, DGCL_2024).hexdigest()
    setup["server"].add(DGCL_API, body=datagouv_resources(setup, checksum={"type": algorithm, "value": right}),
                        content_type="application/json")
    assert sources(setup, "--update", "dgcl_criteres_communes").exit_code == 0


def test_16_a_checksum_in_an_unknown_algorithm_refuses_the_file(setup):
    setup["server"].add(DGCL_API, body=datagouv_resources(setup, checksum={"type": "crc", "value": "1234abcd"}),
                        content_type="application/json")
    one_producer_failed(setup, sources(setup, "--update", *NAMES), "dgcl_criteres_communes",
                        "somme de contrôle annoncée par le producteur dans un algorithme inconnu (« crc »)")
