"""Datasette's own pages in French: titles, column labels, names linking to the fiches, numbers, facet labels,
canned queries with an example, the size of the database in the header (oc_site/datasette_pages/labels.py and the theme)."""

import re


async def get(ds, path, status=200):
    response = await ds.client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.text


async def test_database_page_has_a_real_title_and_queries_with_examples(fixture_ds):
    html = await get(fixture_ds, "/oc")
    assert "<title>Données et SQL – Open Collectivités</title>" in html
    assert re.search(r"<h1>Données et SQL", html)
    # each canned query is listed with its example values
    assert 'href="/oc/communes_departement?departement=35"' in html
    assert 'href="/oc/comparer_communes?codes=35238%2C44109%2C2A004"' in html


async def test_canned_query_without_parameters_is_prefilled_with_its_example(fixture_ds):
    html = await get(fixture_ds, "/oc/communes_departement")
    assert "Valeurs d’exemple pré-remplies" in html
    assert re.search(r'<input class="fr-input" type="text" id="qp1" name="departement" value="35">', html)
    assert '<table class="rows-and-columns">' not in html  # no result of an empty parameter shown
    html = await get(fixture_ds, "/oc/communes_departement?departement=35")
    assert "pré-remplies" not in html and 'href="/commune/35238"' not in html  # a query: names are not linked
    assert '<table class="rows-and-columns">' in html
    assert '<th class="col-nom" scope="col" data-column="nom" title="Colonne nom">Nom</th>' in html


async def test_table_page_in_french_name_and_population_first(fixture_ds):
    html = await get(fixture_ds, "/oc/communes?_size=5")
    headers = re.findall(r'<th [^>]*data-column="([^"]+)"', html)
    assert headers[:3] == ["code_insee", "nom", "population"]
    assert "<title>Communes (oc)" in html and ">Code INSEE<" in html and "Statut de chef-lieu" in html
    # the name links to the fiche, numbers are written the French way, codes are left alone
    assert '<td class="col-nom type-str"><a href="/commune/35238">Rennes</a></td>' in html
    assert '<td class="col-population type-int">230\u202f890</td>' in html
    assert '<td class="col-annee_population type-int">2023</td>' in html
    # lookup tables give zones and chef-lieu statuses their labels
    assert ">Préfecture de région</a>" in html and ">Métropole</a>" in html
    data = (await fixture_ds.client.get("/oc/communes.json?_shape=array&code_insee=35238")).json()
    assert data[0]["population"] == 230890  # JSON stays raw


async def test_wide_view_labels_come_from_the_indicators(fixture_ds):
    html = await get(fixture_ds, "/oc/valeurs_communes_large?_size=3&_facet=region")
    assert ">Population totale (hab.)<" in html and ">Taux de variation annuel moyen de la population (% par an)<" in html
    assert 'href="/commune/' in html  # names link to the fiches
    facet = html[html.index('id="facet-region"'):]
    assert "Bretagne" in facet  # a région's name, though the view has no foreign key


async def test_header_says_the_size_of_the_database(fixture_ds, fixture_db):
    html = await get(fixture_ds, "/")
    label = re.search(r'href="/sources#telecharger">Télécharger la base \(SQLite, ([^)]+)\)</a>', html).group(1)
    size = fixture_db.stat().st_size
    unit = "Ko" if size < 1024 * 1024 else "Mo"
    assert label.endswith(unit) and label[0].isdigit()


async def test_every_canned_query_has_an_example_that_finds_rows(fixture_ds):
    """The database page links each canned query with its example (queries/*.sql, `-- example:`): that link
    must show a result, not « Aucun résultat » (a ranking « au dernier millésime » once found nothing
    because a few overseas communes have a later census year than the main vintage)."""
    from urllib.parse import parse_qsl

    from oc_site.datasette_pages import canned_queries as oc_queries
    from oc_site.datasette_pages.canned_queries import load

    without_rows = []
    for name, query in load().items():
        assert query.get("example"), f"{name} : pas d'exemple"
        named = set(re.findall(r"(?<!:):([A-Za-z]\w*)", oc_queries.sql(name)))
        assert {key for key, _ in parse_qsl(query["example"], keep_blank_values=True)} == named, name
        response = await fixture_ds.client.get(f"/oc/{name}.json?_shape=array&{query['example']}")
        assert response.status_code == 200, name
        if not response.json():
            without_rows.append(name)
    # the two blocks whose producer files are not pinned yet (issue 12): empty while none of their files is loaded
    waiting = {"contexte_territoire": "contexte", "finances_territoire": "finances"}
    for name in without_rows:
        assert name in waiting, f"{name} : son exemple ne trouve rien"
        loaded = (await fixture_ds.client.get(
            "/oc.json?_shape=arrayfirst&sql=select+count(*)+from+fichiers_producteurs+where+bloc+%3D+:b+and+charge+%3D+1"
            f"&b={waiting[name]}")).json()
        assert loaded == [0], f"{name} : fichiers du bloc {waiting[name]} chargés, mais son exemple ne trouve rien"
