"""/recherche and /recherche.json: names, prefixes, codes, homonyms, short names."""

import math
import re

import pytest


async def search(ds, q, **params):
    response = await ds.client.get("/recherche.json", params={"q": q, **params})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


async def test_json_items_have_the_contract_fields(fixture_ds):
    results = await search(fixture_ds, "rennes")
    assert results, "aucun résultat"
    for item in results:
        assert {"type", "code", "nom", "url"} <= set(item)
    assert results[0] == {**results[0], "type": "commune", "code": "35238", "nom": "Rennes", "url": "/commune/35238"}


@pytest.mark.parametrize("q,expected_first", [
    ("renn", "35238"),
    ("RENNES", "35238"),
    ("35000", "35238"),
    ("35238", "35238"),
    ("243500139", "243500139"),
    ("ile de brehat", "22016"),
    ("Île-de-Bréhat", "22016"),
    ("ile-de-bre", "22016"),
    ("2A004", "2A004"),
    ("2a004", "2A004"),
    ("y", "80829"),
    ("eu", "76255"),
    ("st malo", "35288"),
    ("Saint-Malo", "35288"),
    ("ajac", "2A004"),
])
async def test_first_result(fixture_ds, q, expected_first):
    results = await search(fixture_ds, q)
    assert results and results[0]["code"] == expected_first, results[:3]


async def test_homonyms_are_told_apart(fixture_ds):
    results = await search(fixture_ds, "saint denis")
    labels = {r["code"]: r["libelle"] for r in results if r["type"] == "commune"}
    assert labels["93066"] == "Saint-Denis (93)"
    assert labels["97411"] == "Saint-Denis (974)"


async def test_codes_of_every_level(fixture_ds):
    assert [(r["type"], r["code"]) for r in await search(fixture_ds, "35")][:1] == [("departement", "35")]
    assert ("region", "53") in [(r["type"], r["code"]) for r in await search(fixture_ds, "53")]
    assert (await search(fixture_ds, "2B"))[0]["code"] in ("2B", "2B033")


async def test_empty_odd_and_hostile_queries(fixture_ds):
    assert await search(fixture_ds, "") == []
    assert await search(fixture_ds, "   ") == []
    assert await search(fixture_ds, "zzzzzzzz") == []
    # FTS syntax in the query is data, never syntax
    assert await search(fixture_ds, '" OR * NEAR(') == []
    assert isinstance(await search(fixture_ds, "rennes AND OR NOT"), list)
    assert len(await search(fixture_ds, "s", limit="3")) <= 3
    assert isinstance(await search(fixture_ds, "s", limit="beaucoup"), list)


async def test_html_lists_every_level_with_counts(fixture_ds):
    response = await fixture_ds.client.get("/recherche", params={"q": "rennes"})
    assert response.status_code == 200
    html = response.text
    # a total, one filter per level found, each result linking to its fiche with its level
    assert "2 territoires pour « rennes »" in html
    assert 'href="/recherche?q=rennes&amp;niveau=commune"' in html and "Communes (1)" in html
    assert 'href="/recherche?q=rennes&amp;niveau=epci"' in html and "Intercommunalités (EPCI) (1)" in html
    assert 'href="/commune/35238"' in html and 'href="/epci/243500139"' in html
    only = (await fixture_ds.client.get("/recherche", params={"q": "rennes", "niveau": "epci"})).text
    assert 'href="/epci/243500139"' in only and 'href="/commune/35238"' not in only
    assert "1 territoire (EPCI)" in only
    empty = await fixture_ds.client.get("/recherche", params={"q": "zzzzzz"})
    assert empty.status_code == 200 and "Aucun territoire ne correspond" in empty.text
    form = await fixture_ds.client.get("/recherche")
    assert 'action="/recherche"' in form.text and 'name="q"' in form.text


async def test_html_is_paginated_with_a_total(fixture_ds):
    """Every match is reachable: 20 a page, a total, the DSFR pagination."""
    first = (await fixture_ds.client.get("/recherche", params={"q": "a"})).text
    found = re.search(r"(\d+) territoires pour « a » — résultats 1 à 20, page 1 sur (\d+)", first)
    assert found, "un total et une première page de 20 résultats"
    total, pages = int(found.group(1)), int(found.group(2))
    assert pages == math.ceil(total / 20) >= 2
    assert total == len(await search(fixture_ds, "a", limit="50")) or total > 50  # the same matches as the JSON
    assert 'href="/recherche?q=a&amp;page=2"' in first and 'aria-current="page">1<' in first
    last = (await fixture_ds.client.get("/recherche", params={"q": "a", "page": str(pages)})).text
    start = 20 * (pages - 1) + 1
    assert f"résultats {start} à {total}, page {pages} sur {pages}" in last
    assert f'<ol class="oc-resultats" start="{start}">' in last
    # a page out of range shows the last one; a bad page number the first one
    assert f"page {pages} sur {pages}" in (await fixture_ds.client.get("/recherche", params={"q": "a", "page": "99"})).text
    assert f"page 1 sur {pages}" in (await fixture_ds.client.get("/recherche", params={"q": "a", "page": "x"})).text


def html_urls(html: str) -> list[str]:
    """The addresses of an HTML results page, in order (each result is a link to its fiche)."""
    results = html[html.index('<ol class="oc-resultats"'):]
    return re.findall(r'<li>\s*<a href="([^"]+)"', results[:results.index("</ol>")])


@pytest.mark.parametrize("level", ["", "commune"])
async def test_json_pages_follow_the_html_ranking_with_total_and_links(fixture_ds, level):
    """Every match is reachable in JSON too: the array stays the body (its contract), page and limit choose the
    slice, X-Total-Count counts them all, Link names the other pages; the order is the HTML search's."""
    params = {"q": "a", **({"niveau": level} if level else {})}
    html = (await fixture_ds.client.get("/recherche", params=params)).text
    total = int(re.search(r"(\d+) territoires (?:\(communes\) )?pour", html).group(1))
    pages = math.ceil(total / 20)
    ranked = [url for n in range(1, pages + 1)
              for url in html_urls((await fixture_ds.client.get("/recherche", params={**params, "page": n})).text)]
    assert len(ranked) == total > 7
    found, page, links = [], 1, {}
    while True:
        response = await fixture_ds.client.get("/recherche.json", params={**params, "limit": 7, "page": page})
        body = response.json()
        assert isinstance(body, list) and int(response.headers["x-total-count"]) == total
        links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers["link"]))
        assert links["first"].endswith("page=1") and links["last"].endswith(f"page={math.ceil(total / 7)}")
        found += [r["url"] for r in body]
        if "next" not in links:
            break
        assert links["next"] == f"/recherche.json?q=a{'&niveau=' + level if level else ''}&limit=7&page={page + 1}"
        page += 1
    assert found == ranked and page == math.ceil(total / 7) and "prev" in links
    beyond = await fixture_ds.client.get("/recherche.json", params={**params, "limit": 7, "page": page + 5})
    assert beyond.json() == [] and int(beyond.headers["x-total-count"]) == total


async def test_json_without_pages_is_todays_contract(fixture_ds):
    """No parameter: the first ten, best first, the same as the suggestions always had."""
    response = await fixture_ds.client.get("/recherche.json", params={"q": "a"})
    assert [r["code"] for r in response.json()] == [r["code"] for r in await search(fixture_ds, "a", limit="10", page="1")]
    assert len(response.json()) == 10
    few = await fixture_ds.client.get("/recherche.json", params={"q": "rennes"})
    assert int(few.headers["x-total-count"]) == len(few.json()) and 'rel="next"' not in few.headers["link"]
    none = await fixture_ds.client.get("/recherche.json", params={"q": ""})
    assert none.json() == [] and none.headers["x-total-count"] == "0" and "link" not in none.headers


async def test_json_filters_by_level(fixture_ds):
    assert {r["type"] for r in await search(fixture_ds, "rennes", niveau="epci")} == {"epci"}
    assert [r["code"] for r in await search(fixture_ds, "finistere", niveau="commune")] == []
    assert [r["code"] for r in await search(fixture_ds, "finistere", niveau="departement")] == ["29"]
    assert await search(fixture_ds, "rennes", niveau="canton") == await search(fixture_ds, "rennes")


async def test_html_escapes_the_query(fixture_ds):
    response = await fixture_ds.client.get("/recherche", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


@pytest.mark.full
@pytest.mark.parametrize("q,expected_first", [
    ("renn", "35238"),
    ("35000", "35238"),
    ("243500139", "243500139"),
    ("ile de brehat", "22016"),
    ("y", "80829"),
    ("eu", "76255"),
    ("oz", "38289"),
    ("paris", "75056"),
    ("st etienne", "42218"),
    ("ille", "35"),
])
async def test_full_first_result(full_ds, q, expected_first):
    results = await search(full_ds, q)
    assert results[0]["code"] == expected_first, results[:3]


async def test_arrondissements_municipaux_are_found(fixture_ds):
    results = await search(fixture_ds, "paris 1er")
    found = {r["code"]: r for r in results}
    assert found["75101"]["url"] == "/commune/75056#secondaire-75101"
    assert found["75101"]["nom"] == "Paris 1er Arrondissement"
    assert (await search(fixture_ds, "75116"))[0]["code"] == "75116"


async def test_the_levels_names_for_the_search_script_come_from_the_registry(fixture_ds):
    """static/recherche.js shows the level of each suggestion with these names (no list of its own)."""
    response = await fixture_ds.client.get("/niveaux.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert response.json() == {"region": {"libelle": "région", "pluriel": "régions"},
                               "departement": {"libelle": "département", "pluriel": "départements"},
                               "epci": {"libelle": "EPCI", "pluriel": "EPCI"},
                               "commune": {"libelle": "commune", "pluriel": "communes"}}


@pytest.mark.parametrize("token,column", [
    ("35000", "recherche_codes"), ("20000", "recherche_codes"), ("2a004", "recherche_codes"), ("35", "recherche_codes"),
    ("200008", "recherche_siren"), ("243500139", "recherche_siren"), ("2435001390", "recherche_codes"),
])
def test_a_postal_code_is_never_the_start_of_a_siren(token, column):
    """Up to five characters: a code (INSEE, postal, département, région); six to nine digits: a SIREN."""
    from oc_site.search.index import code_column

    assert code_column(token) == column


async def test_siren_of_a_commune_from_six_digits_only(fixture_ds):
    rennes_siren = "213502388"
    assert (await search(fixture_ds, rennes_siren))[0]["code"] == "35238"
    assert (await search(fixture_ds, rennes_siren[:6]))[0]["code"] == "35238"
    assert all(r["code"] != "35238" for r in await search(fixture_ds, rennes_siren[:5]))  # « 21350 » is a code


async def test_each_result_says_what_the_territory_is(fixture_ds):
    for item in await search(fixture_ds, "rennes"):
        assert item["categorie"] == {"commune": "commune", "epci": "EPCI"}[item["type"]]
