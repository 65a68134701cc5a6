"""Plugin configuration: defaults merged with ``plugins: datasette-dsfr-theme``."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

PLUGIN_NAME = "datasette-dsfr-theme"
THEMES = ("dsfr", "neutre")
STATIC_DIR = Path(__file__).parent / "static"
VENDORED_DSFR_DIR = STATIC_DIR / "dsfr"
DIST_ROUTE_PREFIX = "/-/dsfr-theme/dist/"

DEFAULT_FOOTER_LINKS = [
    {"label": "Accessibilité : non conforme", "href": "/accessibilite"},
    {"label": "Mentions légales", "href": "/mentions-legales"},
]

# Integer columns that are identifiers or years, never "1 234"-formatted.
DEFAULT_FORMAT_NUMBERS_EXCLUDE = [
    "id", "rowid", "code", "annee", "année", "year", "millesime", "millésime",
    "siren", "siret", "code_insee", "code_postal",
]


def is_identifier_column(column: str, exclude: List[str]) -> bool:
    name = (column or "").lower()
    return (
        name in {e.lower() for e in exclude}
        or name.startswith(("code_", "id_", "annee_", "siren"))
        or name.endswith(("_id", "_code", "_annee", "_year"))
    )


@dataclass
class ThemeConfig:
    theme: str = "dsfr"
    service_name: str = "Datasette"
    tagline: str = ""
    ministry: str = "République\nFrançaise"
    home_url: str = "/"
    search_url: Optional[str] = "/recherche"
    search_param: str = "q"
    search_label: str = "Rechercher"
    search_placeholder: str = "Rechercher"
    navigation: List[Dict[str, Any]] = field(default_factory=list)
    header_links: List[Dict[str, Any]] = field(default_factory=list)
    footer_links: List[Dict[str, Any]] = field(
        default_factory=lambda: [dict(link) for link in DEFAULT_FOOTER_LINKS]
    )
    footer_description: str = ""
    licence_text: str = (
        "Sauf mention contraire, les contenus de ce site sont proposés sous "
        "licence etalab-2.0"
    )
    licence_url: Optional[str] = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    colors: Dict[str, str] = field(default_factory=dict)
    dsfr_dist: Optional[str] = None
    show_display_settings: bool = True
    format_numbers: bool = False
    format_numbers_exclude: List[str] = field(
        default_factory=lambda: list(DEFAULT_FORMAT_NUMBERS_EXCLUDE)
    )
    column_labels: Dict[str, str] = field(default_factory=dict)
    # codes → labels of a column's values, shown in its facets and in the cells of table and row pages
    value_labels: Dict[str, Dict[str, str]] = field(default_factory=dict)
    # decimals of a column's numbers in the HTML cells (format_numbers)
    decimals: Dict[str, int] = field(default_factory=dict)
    # French labels of canned queries' parameters, by name (a query's own ``param_labels`` win)
    parameter_labels: Dict[str, str] = field(default_factory=dict)

    @property
    def is_dsfr(self) -> bool:
        return self.theme == "dsfr"

    @property
    def ministry_lines(self) -> List[str]:
        return [line for line in str(self.ministry).split("\n") if line.strip()]


def load_config(raw: Optional[Dict[str, Any]]) -> ThemeConfig:
    raw = dict(raw or {})
    known = set(ThemeConfig.__dataclass_fields__)
    values = {key: value for key, value in raw.items() if key in known}
    config = ThemeConfig(**values)
    if config.theme not in THEMES:
        raise ValueError(
            "datasette-dsfr-theme : theme doit valoir {} (reçu {!r})".format(
                " ou ".join(THEMES), config.theme
            )
        )
    config.navigation = [_link(item) for item in config.navigation or []]
    config.header_links = [_link(item) for item in config.header_links or []]
    config.footer_links = [_link(item) for item in config.footer_links or []]
    config.column_labels = {str(k): str(v) for k, v in (config.column_labels or {}).items()}
    config.value_labels = {str(column): {str(k): str(v) for k, v in (labels or {}).items()}
                           for column, labels in (config.value_labels or {}).items()}
    config.decimals = {str(k): int(v) for k, v in (config.decimals or {}).items()}
    config.parameter_labels = {str(k): str(v) for k, v in (config.parameter_labels or {}).items()}
    config.colors = {
        str(key): str(value)
        for key, value in (config.colors or {}).items()
        if _safe_css_value(str(value))
    }
    return config


def _link(item: Any) -> Dict[str, Any]:
    if isinstance(item, str):
        return {"label": item, "href": item}
    link = dict(item)
    link.setdefault("label", link.get("href", ""))
    link.setdefault("href", "#")
    return link


def _safe_css_value(value: str) -> bool:
    """Colours are injected in a <style> element: refuse anything but a plain value."""
    return all(char.isalnum() or char in "#(),.% -" for char in value)


def vendored_assets_present() -> bool:
    return (VENDORED_DSFR_DIR / "dsfr.min.css").exists()


def dist_folder(config: "ThemeConfig") -> Optional[Path]:
    """The DSFR ``dist`` folder served under /-/dsfr-theme/dist/, if any: the
    ``dsfr_dist`` option, else ``node_modules/@gouvfr/dsfr/dist`` of the current
    directory (only used when the files were not copied into the plugin)."""
    if config.dsfr_dist:
        return Path(config.dsfr_dist)
    default = Path.cwd() / "node_modules" / "@gouvfr" / "dsfr" / "dist"
    if (default / "dsfr.min.css").exists():
        return default
    return None
