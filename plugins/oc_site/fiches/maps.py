"""The fiches' maps: which indicators colour the communes, their colours and how their classes are made.

The outlines come from oc.db (table contours_communes, canned query contours_communes); the page
only carries this configuration and the addresses of that query's JSON; static/carte.js draws.

The classes are computed by static/carte.js for the territory shown, from the values of its communes
(national classes made Seine-Saint-Denis, dense everywhere, one colour): classes of about equal
numbers of communes (quantiles, limits rounded to two significant figures), or for a change, classes
symmetric around zero (decline in red, growth in blue, the limits from the spread of the territory's
values). The legend says so, with the number of communes.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from oc_site.levels import LEVELS

NO_DATA_COLOUR = "#d9d9d9"
# ColorBrewer Blues (sequential) and RdBu (diverging: decline in red, growth in blue), safe for the
# common colour-vision deficiencies
SEQUENTIAL = ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
DIVERGING = ("#ca0020", "#f4a582", "#f7f7f7", "#92c5de", "#0571b0")


@dataclass(frozen=True)
class Layer:
    """An indicator that colours the communes of a map, by classes of its values in the territory shown."""

    indicator: str  # code in the indicateurs table, at the commune level
    colours: tuple[str, ...]  # one per class, from the lowest (at most this many classes)
    diverging: bool = False  # a change: classes symmetric around zero, values shown with their sign (+1,2 %)


LAYERS = (
    Layer("densite", SEQUENTIAL),
    Layer("evolution_population_pct", DIVERGING, diverging=True),
    Layer("dgf_par_habitant", SEQUENTIAL),
)


def script_config(layer: Layer) -> dict:
    """What static/carte.js needs to class and colour a layer's communes."""
    return {"couleurs": layer.colours, "divergente": layer.diverging, "sans_donnee": NO_DATA_COLOUR}


def fiche_address() -> str:
    """The address of a commune's fiche with `{code}` for its code (the level registry's), for the map's popups."""
    return LEVELS["commune"].url("{code}")


def data_urls(database_url: str, level: str, codes: list[tuple[str, str]]) -> list[str]:
    """Addresses of the canned query contours_communes for a map: one per (level, code) — a région
    asks one per département, each answer staying under Datasette's row limit."""
    indicators = ",".join(layer.indicator for layer in LAYERS)  # (pages.query_url gives the HTML page)
    return [
        f"{database_url}/contours_communes.json?" + urlencode(
            {"niveau": level, "code": code, "indicateurs": indicators, "_shape": "array"}
        ) + "&_json=contour&_json=valeurs"
        for level, code in codes
    ]
