"""Helpers shared by the datasette-dsfr-theme tests (a uniquely named module, so
that it never clashes with another conftest when the whole repository is tested)."""

import re
import sqlite3
from html import unescape
from html.parser import HTMLParser

from datasette.app import Datasette

METADATA = {
    "title": "Démo des collectivités",
    "plugins": {
        "datasette-dsfr-theme": {
            "service_name": "Service de démonstration",
            "tagline": "Devise configurée du service",
            "ministry": "Ministère\nde l’Exemple",
            "search_url": "/chercher",
            "search_param": "texte",
            "navigation": [
                {"label": "Accueil", "href": "/"},
                {"label": "Données brutes", "href": "/demo"},
            ],
            "footer_links": [
                {"label": "Sources des données", "href": "/sources"},
                {"label": "Accessibilité : partiellement conforme", "href": "/accessibilite"},
                {"label": "Mentions légales", "href": "/mentions-legales"},
            ],
            "licence_text": "Texte de licence configuré",
        }
    },
    "databases": {
        "demo": {
            "tables": {
                "communes": {
                    "description": "Quelques communes",
                    "columns": {"population": "Population municipale"},
                }
            },
            "queries": {
                "par_region": {
                    "title": "Communes d’une région",
                    "sql": "select nom, population from communes where region = :region",
                }
            },
        }
    },
}


def make_db(path):
    conn = sqlite3.connect(str(path))
    conn.executescript(
        """
        create table regions (code text primary key, nom text not null);
        insert into regions values ('11', 'Île-de-France'), ('84', 'Auvergne-Rhône-Alpes'),
            ('93', 'Provence-Alpes-Côte d''Azur');
        create table communes (
            code_insee text primary key, nom text, region text references regions(code),
            population integer, superficie real
        );
        create index communes_region on communes(region);
        create view grandes_communes as select * from communes where population > 500000;
        """
    )
    rows = [
        ("75056", "Paris", "11", 2133111, 105.4),
        ("69123", "Lyon", "84", 522250, 47.87),
        ("13055", "Marseille", "93", 873076, 240.62),
        ("38185", "Grenoble", "84", 156389, 18.13),
        ("01001", "L’Abergement-Clémenciat", "84", 859, 15.95),
    ]
    # Enough rows for a second page with _size=2
    conn.executemany("insert into communes values (?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return path


def datasette_for(db_path, metadata=None, plugin_config=None, **kwargs):
    metadata = dict(metadata if metadata is not None else METADATA)
    if plugin_config is not None:
        metadata["plugins"] = {"datasette-dsfr-theme": plugin_config}
    return Datasette([str(db_path)], metadata=metadata, **kwargs)


class VisibleText(HTMLParser):
    """Collect what a user can read or hear: text outside <script>/<style> and
    outside SQL (<textarea>, <pre>, <code>) and data cells (<td>), and
    title / aria-label / placeholder / alt / value attributes."""

    ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

    def __init__(self):
        super().__init__()
        self.parts = []
        self.skip = 0
        self.in_data_cell = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "textarea", "pre", "code"):
            self.skip += 1
        if tag == "td":
            self.in_data_cell += 1
        attrs = dict(attrs)
        for name in self.ATTRIBUTES:
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "textarea", "pre", "code") and self.skip:
            self.skip -= 1
        if tag == "td" and self.in_data_cell:
            self.in_data_cell -= 1

    def handle_data(self, data):
        if not self.skip and not self.in_data_cell:
            self.parts.append(data)


def visible_text(html):
    parser = VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", unescape(" ".join(parser.parts)))
