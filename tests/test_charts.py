"""The data of the fiches' DSFR charts (oc_site/fiches/charts.py), on real DGCL amounts (criteria of 2020 and 2022;
the cases where the figures do not add up alter one of them)."""

import pytest

from oc_site.fiches.charts import StackedParts, stacked_parts

CHART = StackedParts("Dotation globale de fonctionnement", "dgf_totale",
                     (("dotation_forfaitaire", "Dotation forfaitaire"), ("dsu", "DSU"), ("dsr", "DSR"), ("dnp", "DNP"),
                      ("dacom", "DACOM"), ("dotation_amorcage", "Dotation d'amorçage")),
                     "Écart non expliqué", optional=("dacom", "dotation_amorcage"))


def table(years, **values):
    """A table as oc_site/fiches/routes.py by_year() makes it: one line per indicator, its values per year."""
    return {"annees": years, "lignes": [
        {"code": code, "valeurs": dict(zip(years, series)), "producteur": "DGCL (ministère de l'Intérieur)",
         "source": "Critères de répartition des dotations de l'État aux communes (DGF)",
         "source_url": "http://www.dotations-dgcl.interieur.gouv.fr/consultation/criteres_repartition.php"}
        for code, series in values.items()]}


RENNES = table([2020, 2022], dgf_totale=[52794292, 54668210], dotation_forfaitaire=[38408033, 39062590],
               dsu=[11272507, 12448358], dsr=[0, 0], dnp=[3113752, 3157262])


def test_parts_that_make_the_total_in_millions_without_a_zero_part():
    chart = stacked_parts(CHART, RENNES)
    assert chart["noms"] == ["Dotation forfaitaire", "DSU", "DNP"]  # no DSR in Rennes: not in the legend
    assert chart["valeurs"] == [[38.408, 39.063], [11.273, 12.448], [3.114, 3.157]]
    assert (chart["annees"], chart["unite"], chart["en_millions"]) == (["2020", "2022"], "M€", True)
    assert chart["producteur"] == "DGCL (ministère de l'Intérieur)" and chart["source_url"].startswith("http://www.dotations")


def test_the_dacom_is_a_part_of_its_own():
    # Saint-Denis (La Réunion), 2022: a dotation forfaitaire and the DACOM of outre-mer, 20,319,813 €, which
    # make the DGF of 40,150,630 €
    chart = stacked_parts(CHART, table([2022], dgf_totale=[40150630], dotation_forfaitaire=[19830817], dsu=[0],
                                       dsr=[0], dnp=[0], dacom=[20319813], dotation_amorcage=[0]))
    assert chart["noms"] == ["Dotation forfaitaire", "DACOM"]
    assert chart["valeurs"] == [[19.831], [20.32]]


def test_the_dotation_d_amorcage_of_2020_is_not_published_and_counts_zero():
    # Culoz (01138) in the DGCL's files of 2020 and 2022; the file of 2020 has no column for the dotation d'amorçage
    chart = stacked_parts(CHART, table([2020, 2022], dgf_totale=[61648, 62276], dotation_forfaitaire=[6899, 0],
                                       dsu=[0, 0], dsr=[54749, 62276], dnp=[0, 0], dotation_amorcage=[None, 0]))
    assert chart["annees"] == ["2020", "2022"] and chart["noms"] == ["Dotation forfaitaire", "DSR"]


def test_what_the_parts_leave_is_drawn_apart():
    chart = stacked_parts(CHART, table([2022], dgf_totale=[40150630], dotation_forfaitaire=[19830817], dsu=[0],
                                       dsr=[0], dnp=[0]))
    assert chart["noms"] == ["Dotation forfaitaire", "Écart non expliqué"]
    assert chart["valeurs"] == [[19.831], [20.32]]


def test_small_amounts_stay_in_euros():
    # Acigné (35001), 2022
    chart = stacked_parts(CHART, table([2022], dgf_totale=[698915], dotation_forfaitaire=[526779], dsu=[0],
                                       dsr=[109586], dnp=[62550]))
    assert (chart["unite"], chart["en_millions"]) == ("€", False)
    assert chart["noms"] == ["Dotation forfaitaire", "DSR", "DNP"]
    assert chart["valeurs"] == [[526779], [109586], [62550]]


ACIGNE = {"dotation_forfaitaire": [526779], "dsu": [0], "dsr": [109586], "dnp": [62550]}


@pytest.mark.parametrize("lines", [
    {**ACIGNE, "dgf_totale": [600000]},  # the parts exceed the total: they do not add up
    {**ACIGNE, "dgf_totale": [698915], "dnp": [None]},  # a part not published that year
    {**ACIGNE, "dgf_totale": [None]},  # no total
    {key: value for key, value in {**ACIGNE, "dgf_totale": [698915]}.items() if key != "dsu"},  # a part not asked
])
def test_no_chart_when_the_figures_do_not_add_up(lines):
    assert stacked_parts(CHART, table([2022], **lines)) is None
