"""The fiches' maps: which indicators colour the communes, their classes, colours and legends.

The outlines come from oc.db (table contours_communes, canned query contours_communes, which reads the
layers' values in the wide table valeurs_communes_large: LAYERS and that query name the same indicators);
the page only carries this configuration and the addresses of that query's JSON; static/carte.js draws.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from datasette_dsfr_theme.formatting import format_number_fr

NO_DATA_COLOUR = "#d9d9d9"
# ColorBrewer Blues (sequential) and RdBu (diverging: decline in red, growth in blue), safe for the
# common colour-vision deficiencies
SEQUENTIAL = ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
DIVERGING = ("#ca0020", "#f4a582", "#f7f7f7", "#92c5de", "#0571b0")


@dataclass(frozen=True)
class Layer:
    """An indicator that colours the communes of a map, by classes of its values."""

    indicator: str  # code in the indicateurs table, at the commune level
    thresholds: tuple[float, ...]  # class limits, increasing
    colours: tuple[str, ...]  # one more colour than thresholds
    signed: bool = False  # values shown with their sign (+1,2 %)


LAYERS = (
    Layer("densite", (25, 100, 300, 1000, 3000), SEQUENTIAL),
    Layer("evolution_population_pct", (-5, -1, 1, 5), DIVERGING, signed=True),
    # DGF per inhabitant of the 34,948 communes in 2022 (DGCL): 1st decile 47 €, quintiles 79, 122, 165 and
    # 218 €, 9th decile 270 €, median 143 €, 535 communes at 0 and a long tail up to 3,193 €. Steps of 50 €
    # read at once and keep every class between 11 % and 24 % of the communes (3,710 under 50 €, 4,579 at
    # 250 € or more); the 2020 and 2021 distributions are the same within 2 € (means 154.2, 154.7, 155.4).
    Layer("dgf_par_habitant", (50, 100, 150, 200, 250), SEQUENTIAL),
)


def legend(layer: Layer) -> list[dict]:
    """The legend's classes, from the lowest: [{couleur, libelle}], then « sans donnée » (the unit is
    in the legend's title)."""
    def text(value):
        sign = "+" if layer.signed and value > 0 else ""
        return (sign + format_number_fr(value)).replace("-", "\u2212")

    limits = layer.thresholds
    labels = [f"moins de {text(limits[0])}"]
    labels += [f"{text(low)} à {text(high)}" for low, high in zip(limits, limits[1:])]
    labels.append(f"{text(limits[-1])} ou plus")
    return [{"couleur": c, "libelle": label} for c, label in zip(layer.colours, labels)] + [
        {"couleur": NO_DATA_COLOUR, "libelle": "sans donnée"}]


def data_urls(database_url: str, level: str, codes: list[tuple[str, str]]) -> list[str]:
    """Addresses of the canned query contours_communes for a map: one per (level, code) — a région
    asks one per département, each answer staying under Datasette's row limit."""
    return [  # (pages.query_url gives the HTML page)
        f"{database_url}/contours_communes.json?" + urlencode({"niveau": level, "code": code, "_shape": "array"})
        + "&_json=contour&_json=valeurs"
        for level, code in codes
    ]
