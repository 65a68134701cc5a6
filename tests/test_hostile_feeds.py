"""Hostile feeds and faults during `oc harvest` (issue 17, findings 5, 7, 8), through a local HTTP server:
a server that never finishes, gzip bombs, control characters and impossible dates, two runs at once,
a run killed or terminated midway, and no path of the machine in oc.db."""

import gzip
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from loaders.common.atomic import database_lock, temporaries
from test_publications_harvest import Harvester, query



def rss(*items: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Flux</title>'
            '<link>https://www.collectivites-locales.gouv.fr/</link>' + "".join(items) + "</channel></rss>").encode()


def item(title: str, link: str, date: str | None = None) -> str:
    return (f"<item><title>{title}</title><link>{link}</link>"
            + (f"<pubDate>{date}</pubDate>" if date else "") + "</item>")


GOOD = rss(item("Les finances des communes en 2023",
                "https://www.collectivites-locales.gouv.fr/finances-locales/les-finances-des-communes-en-2023",
                "Tue, 12 Mar 2024 10:00:00 +0000"))


@pytest.fixture
def harvester(tmp_path, fixture_db, server):
    return Harvester(tmp_path, fixture_db, server)


def test_a_server_that_never_finishes_is_cut_at_the_source_deadline(harvester, server):
    server.add("/goutte-a-goutte", body=GOOD * 50, drip=0.02)  # ~10 s for the whole body
    harvester.source("lente", "/goutte-a-goutte", delai_total_s=1)
    server.add("/bon", body=GOOD)
    harvester.source("suivante", "/bon")
    result = harvester.run()
    assert result.exit_code == 1
    assert harvester.status("lente") == ("erreur", f"flux RSS/Atom {server.url('/goutte-a-goutte')} : "
                                                   "délai total dépassé pour cette source (le serveur répond trop lentement)")
    assert harvester.status("suivante")[0] == "ok"  # the next source still ran


def test_the_command_line_sets_the_deadline_of_every_source(harvester, server):
    server.add("/goutte-a-goutte", body=GOOD * 50, drip=0.02)
    harvester.source("lente", "/goutte-a-goutte")
    result = harvester.run("--total-timeout", "1")
    assert result.exit_code == 1 and "délai total dépassé" in result.output


def test_a_gzip_bomb_stops_at_the_size_cap(harvester, server):
    server.add("/bombe", body=gzip.compress(b" " * (20 * 1024 * 1024)), encoding="gzip")
    harvester.source("bombe", "/bombe", taille_max_mo=5)
    result = harvester.run()
    assert result.exit_code == 1
    assert "réponse trop volumineuse : plus de 5 Mo" in harvester.status("bombe")[1]


def test_control_characters_and_impossible_dates(harvester, server):
    base = "https://www.collectivites-locales.gouv.fr/finances-locales/"
    server.add("/piege", body=rss(
        item("Budget\x01 des \u202ecommunes&#x202E; 2024", base + "a", "2024-13-45"),
        item("Comptes des départements", base + "b", "0001-01-01T00:00:00Z"),
        item("Dotations 2024", base + "c", "Fri, 30 Feb 2024 10:00:00 GMT"),
        item("Finances des régions", base + "d", "Tue, 12 Mar 2024 10:00:00 +0000"),
    ))
    harvester.source("piege", "/piege")
    result = harvester.run()
    assert result.exit_code == 0, result.output
    stored = dict(query(harvester.db, "SELECT url, titre FROM publications WHERE source = 'piege'"))
    dates = dict(query(harvester.db, "SELECT url, date_publication FROM publications WHERE source = 'piege'"))
    assert stored[base + "a"] == "Budget des communes 2024"
    assert dates == {base + "a": None, base + "b": None, base + "c": None, base + "d": "2024-03-12"}  # items kept
    assert "2 date(s) illisible(s) ignorée(s) : entrée gardée, date laissée vide" in result.output
    assert "1 date(s) antérieure(s) à 1700 ignorée(s)" in result.output


def test_a_second_run_meanwhile_stops_with_a_clear_message(harvester, server):
    server.add("/bon", body=GOOD)
    harvester.source("bon", "/bon")
    harvester.run()
    before = harvester.db.read_bytes()
    with database_lock(harvester.db, "récolte"):
        result = harvester.run()
    assert result.exit_code == 1
    assert "une autre mise à jour de cette base est en cours (récolte, processus " in result.output
    assert harvester.db.read_bytes() == before


def start_harvest(harvester) -> subprocess.Popen:
    harvester.run("--help")  # writes the configuration
    return subprocess.Popen([sys.executable, "-m", "loaders.cli", "harvest", "--db", str(harvester.db), "--sources", str(harvester.config),
                             "--archive", str(harvester.archive)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def wait_for_copy(harvester, process) -> list[Path]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        found = [p for p in temporaries(harvester.db) if ".harvest-" in p.name]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("la copie de travail n'est pas apparue")


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_a_terminated_harvest_leaves_no_temporary_file(harvester, server, how):
    server.add("/lent", body=GOOD * 50, drip=0.02)
    harvester.source("lent", "/lent")
    before = harvester.db.read_bytes()
    process = start_harvest(harvester)
    wait_for_copy(harvester, process)
    process.send_signal(getattr(signal, how))
    assert process.wait(30) != 0
    assert temporaries(harvester.db) == [] and harvester.db.read_bytes() == before


def test_a_killed_harvest_is_cleaned_up_by_the_next_run(harvester, server):
    server.add("/lent", body=GOOD * 50, drip=0.02)
    harvester.source("lent", "/lent")
    process = start_harvest(harvester)
    left = wait_for_copy(harvester, process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    assert all(p.exists() for p in left)  # SIGKILL cannot be caught
    harvester.sources = []
    server.add("/bon", body=GOOD)
    harvester.source("bon", "/bon")
    assert harvester.run().exit_code == 0
    assert temporaries(harvester.db) == []


def test_no_path_of_this_machine_in_the_database(harvester, server, tmp_path):
    local = tmp_path / "flux-local.rss"
    local.write_bytes(GOOD)
    harvester.source("absent", f"file://{tmp_path / 'absent.rss'}")
    harvester.run(str(local), "absent")
    with sqlite3.connect(harvester.db) as conn:
        text = " ".join(str(v) for row in conn.execute("SELECT * FROM sources") for v in row)
        files = " ".join(str(v) for (v,) in conn.execute("SELECT fichier FROM sources_donnees"))
    for machine_path in (str(tmp_path), str(ROOT)):
        assert machine_path not in text and machine_path not in files
    assert "flux-local.rss" in text and "data/ressources.yml" in text


# --- issue 24, findings 8 and 14, and harvested links -----------------------------------------------------

def test_8_a_megabyte_of_nested_tags_costs_no_more_than_a_page(harvester, server):
    """200,000 nested <div> in one entry: 4.5 min of the sanitiser's CPU, past every deadline."""
    nested = "<div>" * 200_000 + "Texte enfoui" + "</div>" * 200_000
    body = rss(item("Budget des communes en 2024",
                    "https://www.collectivites-locales.gouv.fr/finances-locales/budget-2024").replace(
        "</item>", f"<description><![CDATA[{nested}]]></description></item>"))
    assert len(body) > 2_000_000
    server.add("/profond", body=body)
    harvester.source("profond", "/profond", delai_total_s=20, taille_max_mo=5)
    started = time.monotonic()
    result = harvester.run()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 60  # before: minutes
    (title,), = query(harvester.db, "SELECT titre FROM publications WHERE source = 'profond'")
    assert title == "Budget des communes en 2024"


def test_8_the_sanitiser_reads_a_bounded_input(monkeypatch):
    from loaders.publications import classify

    seen = []
    clean = classify.nh3.clean
    monkeypatch.setattr(classify.nh3, "clean", lambda text, **kw: seen.append(text) or clean(text, **kw))
    assert classify.plain_text("<div>" * 200_000 + "x", 2000) == ""
    assert max(len(t) for t in seen) <= 2000 * classify.INPUT_PER_OUTPUT and "<div>" not in seen[0]
    seen.clear()
    assert classify.plain_text("<p>Les <b>finances</b><script>alert(1)</script> des communes</p>", 200) == \
        "Les finances des communes"
    assert "<script>" in seen[0]  # a small text still goes through nh3 whole, scripts dropped with their content


def test_harvested_links_lose_their_control_characters_and_keep_a_bounded_length(harvester, server):
    base = "https://www.collectivites-locales.gouv.fr/finances-locales/"
    server.add("/liens", body=rss(item("Budget des communes", base + "bud\x01get\u202e-2024"),
                                  item("Comptes des régions", base + "x" * 200_000)))
    harvester.source("liens", "/liens")
    result = harvester.run()
    assert result.exit_code == 0, result.output
    assert query(harvester.db, "SELECT url FROM publications WHERE source = 'liens'") == [(base + "budget-2024",)]
    assert "1 entrée(s) écartée(s) : adresse de plus de 2000 caractères" in result.output


@pytest.fixture
def internal():
    """Another local server: this machine's internal pages, that no feed may send the harvest to."""
    import publications_server

    state, httpd = publications_server.start()
    state.add("/interne.atom", body=GOOD)
    yield state
    httpd.shutdown()
    httpd.server_close()


def test_14_a_feed_redirecting_to_an_internal_address_is_refused(harvester, server, internal):
    server.add("/flux.rss", status=302, location=internal.url("/interne.atom"))
    harvester.source("redirigee", "/flux.rss")
    server.add("/bon", body=GOOD)
    harvester.source("suivante", "/bon")
    result = harvester.run()
    assert result.exit_code == 1
    status, message = harvester.status("redirigee")
    assert status == "erreur" and "127.0.0.1 n'est pas une adresse publique" in message
    assert internal.requests == [] and harvester.status("suivante")[0] == "ok"
    server.add("/meta.rss", status=302, location="http://169.254.169.254/latest/meta-data/")
    harvester.sources = []
    harvester.source("metadonnees", "/meta.rss")
    assert harvester.run().exit_code == 1
    assert "169.254.169.254 n'est pas une adresse publique" in harvester.status("metadonnees")[1]
