"""Every address of the original portal (brief §7) answers: a 301 to the same page or export here, or a French
page (404, 410) saying what has no equivalent and linking to the nearest; its API answers JSON or a pointer."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

# The original's routes, in the brief's order, each with an address of the fixture's territories and where it
# leads: (address, status, location — a path and its parameters —, or None for a page that answers itself)
ORIGINAL = [
    # fiches: /commune/<slug>/, /epci/<slug>/, /departement/<slug>/, /region/<slug>/
    ("/commune/rennes-35238/", 301, "/commune/35238"),
    ("/commune/ajaccio-2a004/", 301, "/commune/2A004"),
    ("/epci/rennes-metropole-243500139/", 301, "/epci/243500139"),
    ("/departement/ille-et-vilaine/", 301, "/departement/35"),
    ("/region/bretagne/", 301, "/region/53"),
    # lists
    ("/departement/ille-et-vilaine/liste-communes/", 301, "/departement/35#communes"),
    ("/departement/ille-et-vilaine/liste-epcis/", 301, "/departement/35#epci"),
    ("/region/bretagne/liste-communes/", 301, "/oc/communes?region=53&_sort=nom"),
    ("/region/bretagne/liste-epcis/", 301, "/oc/epci_departements?departement__in=22,29,35&_sort=departement"),
    ("/region/bretagne/liste-departements/", 301, "/region/53#departements"),
    # comparison of 2, 3 or 4 communes
    ("/compare/commune/rennes-35238/nantes-44109", 301, "/comparer?niveau=commune&codes=35238,44109"),
    ("/compare/commune/rennes-35238/nantes-44109/brest-29019/", 301,
     "/comparer?niveau=commune&codes=35238,44109,29019"),
    ("/compare/commune/rennes-35238/nantes-44109/brest-29019/quimper-29232/", 301,
     "/comparer?niveau=commune&codes=35238,44109,29019,29232"),
    # CSV
    ("/export/commune/rennes-35238", 301, "/oc/valeurs_communes_large.csv?code=35238&_size=max"),
    ("/compare_export/commune/rennes-35238/nantes-44109/", 301, "/comparer.csv?niveau=commune&codes=35238,44109"),
    ("/compare_export/commune/rennes-35238/nantes-44109/brest-29019/quimper-29232", 301,
     "/comparer.csv?niveau=commune&codes=35238,44109,29019,29232"),
    ("/compare_export/epci/membres/rennes-metropole-243500139", 301,
     "/oc/valeurs_communes_large.csv?epci=243500139&_size=max"),
    ("/compare_export/departement/membres/ille-et-vilaine", 301,
     "/oc/valeurs_communes_large.csv?departement=35&_size=max"),
    # the library and each of its parameters
    ("/publications/", 301, "/publications"),
    ("/publications/?topic=5", 301, "/publications?theme=finances_fiscalite"),
    ("/publications/?scope=6", 301, "/publications?niveau=region"),
    ("/publications/?document_type=2", 301, "/publications?type=jeu_de_donnees"),
    ("/publications/?source_org=3", 410, None),
    ("/publications/?year=2021", 301, "/publications?annee=2021"),
    ("/publications/?region=bretagne", 301, "/publications?territoire=region:53"),
    ("/publications/?departement=ille-et-vilaine", 301, "/publications?territoire=departement:35"),
    ("/publications/?after=2020-01-01&before=2021-12-31", 301, "/publications?du=2020-01-01&au=2021-12-31"),
    ("/publications/?publication_page=1", 410, None),
    ("/publications/?commune=rennes-35238", 301, "/publications?territoire=commune:35238"),
    ("/publications/?epci=rennes-metropole-243500139", 301, "/publications?territoire=epci:243500139"),
    ("/publications/?topic=5&scope=5&page=3", 301, "/publications?theme=finances_fiscalite&niveau=departement"),
    ("/publications?topic=5", 301, "/publications?theme=finances_fiscalite"),  # without the slash, never all 225
    ("/publications?document_type=2&year=2021", 301, "/publications?type=jeu_de_donnees&annee=2021"),
    # site map and pages
    ("/plan/", 301, "/plan-du-site"),
    ("/mentions-legales/", 301, "/mentions-legales"),
    ("/accessibilite/", 301, "/accessibilite"),
    ("/contact/", 301, "/contact"),
    ("/faq/", 301, "/faq"),
    ("/donnees-personnelles/", 301, "/mentions-legales#donnees-personnelles"),
    ("/cookies/", 301, "/mentions-legales#donnees-personnelles"),
    # API v1: the taxonomy in the original's shape, the rest redirected to the same data in JSON
    ("/api/core/scopes", 200, None),
    ("/api/core/scopes/5", 200, None),
    ("/api/core/topics", 200, None),
    ("/api/core/topics/5", 200, None),
    ("/api/core/document_types", 200, None),
    ("/api/core/document_types/2", 200, None),
    ("/api/core/filters", 200, None),
    ("/api/core/documents", 301, "/oc/publications_recherche.json?_shape=array"),
    ("/api/core/documents?topic=5&scope=6&document_type=2&page=1&limit=10&offset=0", 301,
     "/oc/publications_recherche.json?theme=finances_fiscalite&type=jeu_de_donnees&niveau=region&_shape=array"),
    ("/api/core/documents/12", 410, None),
    ("/api/france/subdivisions/renn", 301, "/recherche.json?q=renn"),
    ("/api/france/subdivisions/renn?category=epcis&year=2021", 301, "/recherche.json?q=renn&niveau=epci"),
    ("/api/france/regions", 301, "/oc/regions.json?_shape=array"),
    ("/api/france/regions/53", 301, "/oc/regions/53.json?_shape=array"),
    ("/api/france/departements", 301, "/oc/departements.json?_shape=array"),
    ("/api/france/departements/2A", 301, "/oc/departements/2A.json?_shape=array"),
    ("/api/france/epcis", 301, "/oc/epci.json?_shape=array"),
    ("/api/france/epcis/243500139", 301, "/oc/epci/243500139.json?_shape=array"),
    ("/api/france/communes/35238", 301, "/oc/communes/35238.json?_shape=array"),
    ("/api/france/communes/213502388", 301, "/oc/communes/35238.json?_shape=array"),
    ("/api/france/communes/siren/213502388", 301, "/oc/communes/35238.json?_shape=array"),
    ("/api/france/communes/insee/35238", 301, "/oc/communes/35238.json?_shape=array"),
    ("/api/france/regiondata/53", 301, "/oc/indicateurs_d_un_territoire.json?niveau=region&code=53&_shape=array"),
    ("/api/france/departementdata/35/latest", 301,
     "/oc/indicateurs_territoire.json?niveau=departement&code=35&_shape=array"),
    ("/api/france/epcidata/243500139/2021", 301,
     "/oc/valeurs.json?niveau=epci&code=243500139&annee=2021&_shape=array"),
    ("/api/france/communedata/213502388/latest", 301,
     "/oc/indicateurs_territoire.json?niveau=commune&code=35238&_shape=array"),
]


def parts(address: str) -> tuple[str, dict, str]:
    split = urlsplit(address)
    return split.path, parse_qs(split.query), split.fragment


@pytest.mark.parametrize("address,status,location", ORIGINAL)
async def test_every_address_of_the_original_answers(fixture_ds, address, status, location):
    response = await fixture_ds.client.get(address)
    assert response.status_code == status, (address, response.status_code)
    if status == 301:
        assert parts(response.headers["location"]) == parts(location)
        target = await fixture_ds.client.get(response.headers["location"].split("#")[0])
        assert target.status_code == 200, (location, target.status_code)
        if location.split("?")[0].endswith(".csv"):
            assert target.text.count("\n") >= 2  # a header and rows
        if ".json" in location:
            assert isinstance(target.json(), list)
    elif address.startswith("/api/"):
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        if status == 200:
            assert body and all(set(item) >= {"id", "name"} for item in (body if isinstance(body, list) else
                                                                           body.get("topics", [body])))
        else:
            assert body["erreur"] and (await fixture_ds.client.get(body["nouvelle_adresse"])).status_code == 200
    else:
        french_page(response.text)


def french_page(html: str):
    assert '<html lang="fr"' in html and "ancien portail" in html
    nearest = [href for href in html.split('href="')[1:] if href.startswith("/publications")]
    assert nearest, "aucun lien vers la page la plus proche"


async def test_the_old_taxonomy_gives_this_sites_codes(fixture_ds):
    topic = (await fixture_ds.client.get("/api/core/topics/5")).json()
    assert topic == {"id": 5, "name": "Finances & Fiscalité", "code": "finances_fiscalite",
                     "publications": "/publications?theme=finances_fiscalite"}
    filters = (await fixture_ds.client.get("/api/core/filters")).json()
    assert [t["id"] for t in filters["topics"]] == list(range(1, 10))
    assert [t["id"] for t in filters["document_types"]] == list(range(1, 6))
    assert {s["id"]: s["niveau"] for s in filters["scopes"]} == {
        1: None, 2: None, 3: None, 4: None, 5: "departement", 6: "region"}
    rows = (await fixture_ds.client.get("/oc/themes.json?_shape=array")).json()
    assert {t["code"]: t["name"] for t in filters["topics"]} == {r["code"]: r["libelle"] for r in rows}


@pytest.mark.parametrize("address,status,says", [
    ("/publications/?topic=42", 404, "topic=42"),
    ("/publications/?scope=2&topic=5", 410, "Communes de littoral"),
    ("/publications/?region=atlantide", 404, "region=atlantide"),
    ("/publications/?commune=rennes-35238&region=bretagne", 410, "plusieurs territoires"),
    ("/publications/?after=3 mars 2021", 404, "after=3 mars 2021"),
])
async def test_a_library_filter_without_equivalent_is_said_with_the_nearest_library(fixture_ds, address, status, says):
    response = await fixture_ds.client.get(address)
    assert response.status_code == status
    assert says in response.text and "noindex" in response.text
    french_page(response.text)
    if "topic=5" in address:  # the filters that do translate are kept in the link
        assert 'href="/publications?theme=finances_fiscalite"' in response.text


@pytest.mark.parametrize("address,status", [
    ("/compare/commune/rennes-35238/atlantide-99999/", 404),
    ("/compare_export/commune/rennes-35238/atlantide/", 404),
    ("/compare/epci/rennes-metropole-243500139/nantes-metropole-244400404", 404),
    ("/export/commune/atlantide-99999", 404),
    ("/compare_export/epci/membres/atlantide", 404),
    ("/departement/atlantide/liste-communes/", 404),
    ("/departement/ille-et-vilaine/liste-departements/", 404),
])
async def test_an_address_naming_nothing_known_is_a_french_page(fixture_ds, address, status):
    response = await fixture_ds.client.get(address)
    assert response.status_code == status
    html = response.text
    assert '<html lang="fr"' in html and "ancien portail" in html and 'href="/plan-du-site"' in html


@pytest.mark.parametrize("address,location", [
    ("/commune/saint-denis/", "/recherche?q=saint+denis&niveau=commune"),  # a name several bear: the search
    ("/commune/saint-denis", "/recherche?q=saint+denis&niveau=commune"),
])
async def test_a_name_several_territories_bear_leads_to_the_search(fixture_ds, address, location):
    response = await fixture_ds.client.get(address)
    assert response.status_code == 302 and response.headers["location"] == location
    assert (await fixture_ds.client.get("/region/atlantide")).status_code == 404


async def test_a_commune_deleguee_in_an_export_is_its_commune(fixture_ds):
    response = await fixture_ds.client.get("/compare_export/commune/lyon-1er-arrondissement-69381/rennes-35238")
    assert parts(response.headers["location"]) == parts("/comparer.csv?niveau=commune&codes=69123,35238")


@pytest.mark.parametrize("address,location", [
    # a fiche's slug without the original's slash, the name alone, a lower-case Corsican code
    ("/commune/paris-75056", "/commune/75056"),
    ("/commune/ajaccio-2a004", "/commune/2A004"),
    ("/commune/rennes", "/commune/35238"),
    ("/epci/rennes-metropole", "/epci/243500139"),
    ("/departement/ille-et-vilaine", "/departement/35"),
    ("/departement/corse-du-sud", "/departement/2A"),
    ("/region/bretagne", "/region/53"),
    ("/commune/lyon-1er-arrondissement-69381/", "/commune/69381"),  # its fiche says where it is
    # any address with a trailing slash, its parameters kept
    ("/oc/communes/?departement=35", "/oc/communes?departement=35"),
    ("/recherche/?q=rennes", "/recherche?q=rennes"),
    ("/commune/35238/", "/commune/35238"),
])
async def test_short_and_slashed_addresses_are_redirected_permanently(fixture_ds, address, location):
    response = await fixture_ds.client.get(address)
    assert response.status_code == 301 and response.headers["location"] == location


@pytest.mark.parametrize("address,says", [
    ("/api/core/topics/42", "Identifiant inconnu"),
    ("/api/core/documents?topic=42", "topic=42"),
    ("/api/core/documents?scope=3", "Communes de montagne"),
    ("/api/france/regions/200053767", "code INSEE"),
    ("/api/france/communes/insee/123", "123"),
    ("/api/france/communedata/999999999/latest", "999999999"),
    ("/api/docs", "/api/docs"),
])
async def test_the_old_api_points_to_the_nearest_json(fixture_ds, address, says):
    response = await fixture_ds.client.get(address)
    assert response.status_code in (404, 410)
    body = json.loads(response.text)
    assert says in body["erreur"]
    assert (await fixture_ds.client.get(body["nouvelle_adresse"])).status_code == 200
