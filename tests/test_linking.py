"""Territory matching: unit cases on the fixture database, and the labelled evaluation set
(tests/linking_eval.yml, 100+ titles) on the full database, with precision and recall."""

import sqlite3
from pathlib import Path

import pytest
import yaml

from loaders.publications.linking import Matcher, links_for_publication

EVAL = Path(__file__).parent / "linking_eval.yml"
CONTROL = Path(__file__).parent / "linking_eval_controle.yml"


def links(matcher, title, summary=None, categories=(), declared=(), producer=(None, None)):
    return {f"{level}:{code}" for level, code, _ in
            links_for_publication(matcher, title, summary, list(categories), list(declared), producer)}


@pytest.fixture(scope="module")
def fixture_matcher(fixture_db):
    with sqlite3.connect(fixture_db) as conn:
        return Matcher.from_db(conn)


def test_fixture_cases(fixture_matcher):
    m = fixture_matcher
    assert links(m, "Rennes : la population augmente") == {"commune:35238"}
    assert links(m, "Rennes Métropole adopte son budget") == {"epci:243500139"}  # longest name wins
    assert links(m, "Saint-Denis : un plan pour le logement") == set()  # 93 or 974: homonyms
    assert links(m, "Saint-Denis (93) : un plan pour le logement") == {"commune:93066"}
    assert links(m, "Population de Saint-Denis", summary="Une commune de La Réunion.") == \
        {"commune:97411", "region:04", "departement:974"}
    assert links(m, "Y : une lettre") == set() and links(m, "EU : le budget européen") == set()
    assert links(m, "Eu : la ville", categories=["Seine-Maritime"]) == {"commune:76255", "departement:76"}
    assert links(m, "La commune de Y compte 87 habitants") == {"commune:80829"}
    assert links(m, "la somme des dépenses") == set()  # lower case: a word, not a place
    assert links(m, "Loire-Atlantique : emploi") == {"departement:44"}  # not "Loire"
    assert links(m, "Emploi", producer=("region", "53")) == {"region:53"}
    assert links(m, "Emploi", declared=["commune:35238", "commune:00000"]) == {"commune:35238"}


def test_methods_are_recorded(fixture_matcher):
    found = links_for_publication(fixture_matcher, "Rennes Métropole", "Dans l'Ille-et-Vilaine.", ["Bretagne"],
                                  ["commune:35047"], ("region", "53"))
    assert set(found) == {("epci", "243500139", "titre"), ("departement", "35", "resume"),
                          ("region", "53", "categorie"), ("commune", "35047", "curation")}


def evaluate(matcher, items):
    true_positives = predicted = expected = 0
    errors = []
    for item in items:
        want = set(item["attendu"])
        got = links(matcher, item["titre"])
        true_positives += len(want & got)
        predicted += len(got)
        expected += len(want)
        if want != got:
            errors.append((item["titre"], sorted(got - want), sorted(want - got)))
    return true_positives / predicted, true_positives / expected, errors


@pytest.fixture(scope="module")
def full_matcher(full_db):
    with sqlite3.connect(full_db) as conn:
        return Matcher.from_db(conn)


def report(name, items, matcher, capsys):
    precision, recall, errors = evaluate(matcher, items)
    with capsys.disabled():
        print(f"\n{name}, {len(items)} titres : précision {precision:.3f}, rappel {recall:.3f}")
        for title, extra, missing in errors:
            print(f"  {title!r}: en trop {extra}, manquants {missing}")
    return precision, recall


@pytest.mark.full
def test_evaluation_set_precision(full_matcher, capsys):
    items = yaml.safe_load(EVAL.read_text())
    assert len(items) >= 100
    precision, recall = report("Jeu d'évaluation (réglage)", items, full_matcher, capsys)
    assert precision >= 0.95
    assert recall >= 0.75


@pytest.mark.full
def test_control_set_precision(full_matcher, capsys):
    """Titles never used to tune the rules: the honest estimate."""
    items = yaml.safe_load(CONTROL.read_text())
    precision, recall = report("Jeu de contrôle", items, full_matcher, capsys)
    assert precision >= 0.95
