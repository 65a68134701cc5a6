"""/comparer, /comparer.csv, /comparer.json, and the canned queries behind them."""

import csv
import io

import pytest


async def test_html_side_by_side(fixture_ds):
    response = await fixture_ds.client.get("/comparer?codes=35238,44109,2A004")
    assert response.status_code == 200
    html = response.text
    for name in ("Rennes", "Nantes", "Ajaccio"):
        assert name in html
    assert "230\u202f890" in html and "Population municipale" in html and "2023" in html
    assert 'href="/comparer.csv?niveau=commune&amp;codes=35238,44109,2A004"' in html
    assert 'href="/oc/comparer_indicateurs?niveau=commune&amp;codes=35238,44109,2A004"' in html
    assert "Densité de population" in html and "Rennes Métropole" in html
    # each territory can be removed; the remaining permalink keeps the others in order
    assert 'href="/comparer?niveau=commune&amp;codes=44109,2A004"' in html


async def test_csv_and_json(fixture_ds):
    response = await fixture_ds.client.get("/comparer.csv?codes=35238,44109")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["code"], r["nom"], r["epci_nom"], r["population_municipale_2023"]) for r in rows] == [
        ("35238", "Rennes", "Rennes Métropole", "230890"), ("44109", "Nantes", "Nantes Métropole", "327734")]
    assert rows[0]["superficie_2026"] == "50.429776" and rows[0]["population_municipale_2023"].isdigit()
    data = (await fixture_ds.client.get("/comparer.json?codes=35238,44109")).json()
    assert data["niveau"] == "commune"
    assert [t["url"] for t in data["territoires"]] == ["/commune/35238", "/commune/44109"]
    population = next(i for i in data["indicateurs"] if i["code"] == "population_municipale")
    assert population["valeurs"] == {"35238": 230890, "44109": 327734} and population["annee"] == 2023
    assert population["sources"][0]["titre"].startswith("Populations légales 2023")


@pytest.mark.parametrize("url,level,codes", [
    ("/comparer.json?codes=243500139,200046977", "epci", ["243500139", "200046977"]),
    ("/comparer.json?codes=2a,2B,974", "departement", ["2A", "2B", "974"]),
    ("/comparer.json?niveau=region&codes=53,94", "region", ["53", "94"]),
])
async def test_every_level(fixture_ds, url, level, codes):
    data = (await fixture_ds.client.get(url)).json()
    assert data["niveau"] == level
    assert [t["code"] for t in data["territoires"]] == codes


@pytest.mark.parametrize("url,message", [
    ("/comparer.csv?codes=35238", "Donnez de 2 à 10 codes"),
    ("/comparer.csv?codes=35238,35", "même niveau"),
    ("/comparer.json?codes=1,2,3,4,5,6,7,8,9,10,11", "au plus 10"),
    ("/comparer.json?niveau=canton&codes=1,2", "Niveau inconnu"),
    ("/comparer.csv?codes=99998,99999", "Donnez de 2 à 10 codes"),
])
async def test_bad_requests_get_french_errors(fixture_ds, url, message):
    response = await fixture_ds.client.get(url)
    assert response.status_code == 400
    assert message in response.text


async def test_selector_adds_territories_without_javascript(fixture_ds):
    html = (await fixture_ds.client.get("/comparer?codes=35238&ajouter=nant")).text
    assert 'href="/comparer?niveau=commune&amp;codes=35238,44109"' in html
    html = (await fixture_ds.client.get("/comparer?codes=35238")).text
    assert "Ajoutez au moins deux communes" in html and 'name="ajouter"' in html
    html = (await fixture_ds.client.get("/comparer?codes=35238,99999,44109")).text
    assert "inconnu" in html and "99999" in html


async def test_canned_queries_answer_in_csv_and_json(fixture_ds):
    for path in ("/oc/comparer_communes.csv?codes=35238,44109",
                 "/oc/comparer_indicateurs.csv?niveau=epci&codes=243500139,200046977",
                 "/oc/indicateurs_territoire.json?niveau=departement&code=2A", "/oc/membres_epci.json?siren=243500139",
                 "/oc/epci_departement.csv?departement=35", "/oc/communes_departement.json?departement=35",
                 "/oc/communes_seuil_population.csv?departement=35&minimum=100000&maximum="):
        response = await fixture_ds.client.get(path)
        assert response.status_code == 200, path
    seuil = await fixture_ds.client.get(
        "/oc/communes_seuil_population.json?departement=&minimum=300000&maximum=&_shape=array")
    # the fixture's communes of 300,000 inhabitants or more, most populated first
    assert [r["code_insee"] for r in seuil.json()] == ["75056", "69123", "44109"]


@pytest.mark.full
async def test_full_comparison(full_ds):
    data = (await full_ds.client.get("/comparer.json?codes=35238,44109,33063,31555,13055,69123,06088,67482,34172,59350")).json()
    assert len(data["territoires"]) == 10


async def test_every_level_can_be_chosen(fixture_ds):
    html = (await fixture_ds.client.get("/comparer?niveau=departement")).text
    for level in ("commune", "epci", "departement", "region"):
        assert f'href="/comparer?niveau={level}"' in html
    assert 'href="/comparer?niveau=departement" aria-current="page"' in html
    assert "Comparer des départements" in html and "Ajoutez au moins deux départements" in html
    # the add field is the site's search component, filtered to the level, in comparison mode
    assert 'data-oc-niveau="departement"' in html and 'data-oc-comparer=""' in html


async def test_a_name_of_another_level_offers_to_switch(fixture_ds):
    html = (await fixture_ds.client.get("/comparer?niveau=commune&codes=35238&ajouter=Finistère")).text
    assert "Aucune commune ne correspond à « Finistère »" in html
    assert 'href="/comparer?niveau=departement&amp;codes=29"' in html and "Comparer des départements" in html
    html = (await fixture_ds.client.get("/comparer?niveau=departement&codes=35&ajouter=finis")).text
    assert 'href="/comparer?niveau=departement&amp;codes=35,29"' in html


async def test_numbers_right_aligned_and_first_column_fixed(fixture_ds):
    html = (await fixture_ds.client.get("/comparer?codes=35238,44109")).text
    assert '<th scope="row" role="rowheader" class="fr-cell--fixed">Population municipale (hab.), 2023</th>' in html
    # each value carries its territory's name for the cards of a phone, hidden from screen readers (column headers)
    assert ('<td role="cell" class="fr-cell--right oc-nombre"><span class="oc-comparaison__nom" aria-hidden="true">'
            'Rennes</span>230\u202f890</td>') in html


async def test_each_group_of_rows_opens_with_its_source(fixture_ds):
    html = (await fixture_ds.client.get("/comparer?codes=35238,44109")).text
    assert html.count('class="oc-comparaison__source"') >= 3
    population = html.index("Population municipale (hab.), 2023")
    source = html.rindex('class="oc-comparaison__source"', 0, population)
    assert "Populations légales 2023" in html[source:population]
    assert ('colspan="3"><span class="oc-comparaison__source-texte">Source : '
            '<a href="https://www.insee.fr/fr/information/2560452"') in html  # the COG's rows


@pytest.mark.parametrize("label,expected", [
    ("Dotation globale de fonctionnement (DGF)", ("DGF", "Dotation globale de fonctionnement", False)),
    ("Dotation nationale de péréquation (DNP) (total des communes membres)",
     ("DNP", "Dotation nationale de péréquation", True)),
    ("DGF par habitant (ensemble des communes membres)", ("DGF par habitant", None, True)),
    ("Superficie (DGCL)", ("Superficie (DGCL)", None, False)),  # a bracket that is not the words' acronym
    ("Commune en zone de revitalisation rurale (ZRR)", ("Commune en zone de revitalisation rurale (ZRR)", None, False)),
    ("Population municipale", ("Population municipale", None, False)),
])
def test_short_labels(label, expected):
    from oc_site.comparison import short_label

    assert short_label(label) == expected


async def test_short_labels_keep_the_full_label_at_hand(fixture_ds):
    html = (await fixture_ds.client.get("/comparer?codes=35238,44109")).text
    assert '<abbr title="Dotation globale de fonctionnement">DGF</abbr> (€), 2022' in html
    assert "Sigles : " in html and "<abbr>DGF</abbr> : dotation globale de fonctionnement" in html
    html = (await fixture_ds.client.get("/comparer?codes=243500139,200046977")).text
    assert "(total des communes membres)" not in html and "le total de ses communes membres" in html


@pytest.mark.parametrize("url,level,codes", [
    ("/comparer?codes=35238,44109,35047", "epci", "243500139,244400404"),  # Bruz is in Rennes Métropole
    ("/comparer?codes=35238,44109,35047", "departement", "35,44"),
    ("/comparer?codes=35238,2A004", "region", "53,94"),
    ("/comparer?niveau=epci&codes=243500139,244400404", "commune", "35238,44109"),  # most populated members
    ("/comparer?niveau=departement&codes=35,2A", "commune", "35238,2A004"),  # chefs-lieux
    ("/comparer?niveau=region&codes=53,94", "departement", "35,2A"),  # the départements of their chefs-lieux
    ("/comparer?niveau=departement&codes=35,2A", "departement", "35,2A"),
])
async def test_switching_level_keeps_the_selection(fixture_ds, url, level, codes):
    html = (await fixture_ds.client.get(url)).text
    assert f'href="/comparer?niveau={level}&amp;codes={codes}"' in html


@pytest.mark.parametrize("codes,level", [
    (["35238", "2A004"], "commune"), (["243500139", "200046977"], "epci"), (["35", "2A", "974"], "departement"),
    (["53", "94"], "departement"),  # a région's code is also a département's: two digits are a département's
    ([], "commune"), (["FOO", "BAR"], "commune"),  # no code of any level: the default level, the codes unknown
    (["35238", "FOO"], "commune"),
])
def test_the_level_of_the_codes_is_read_from_the_registrys_code_patterns(codes, level):
    from oc_site.comparison import guess_level

    assert guess_level(codes, None) == level
