"""The catalogues of real publications about territories (data/publications.yml, and the second one,
data/publications-2.yml, for the largest communes and their EPCI; one source each in data/sources.yml): YAML
lists of publications, datasets, tools and official sites, each with its producer, type, topics (by label)
and the territories it is about ({niveau, code, nom}).

The file's structure is checked here (a wrong type or topic stops the build with a French message
naming the entry); its territory codes are checked against the COG when the entries are stored
(store.check_declared), where a code the COG does not know is set aside and reported.
"""

from datetime import date

import yaml

from ...common import http
from ...common.errors import SourceError
from oc_site.levels import NAMES as LEVELS
from oc_site.taxonomy import THEME_CODES, THEMES, TYPES

from ..store import Harvest

REQUIRED = ("url", "titre", "producteur", "type")


def entry_error(number: int, item: dict, message: str, path: str) -> SourceError:
    title = item.get("titre") if isinstance(item, dict) else None
    where = f"entrée n° {number}" + (f" ({str(title)[:60]})" if title else "")
    return SourceError(f"{where} : {message}", path)


def theme_code(value) -> str | None:
    """A topic given by its label (« Finances & Fiscalité ») or its code → its code."""
    return THEME_CODES.get(value) or (value if value in THEMES else None)


def territories(item: dict, fail) -> list[dict]:
    found = item.get("territoires") or []
    if not isinstance(found, list):
        raise fail("« territoires » doit être une liste (vide pour une publication nationale)")
    declared = []
    for territory in found:
        if not isinstance(territory, dict) or not territory.get("niveau") or territory.get("code") in (None, ""):
            raise fail(f"territoire mal formé {territory!r} : attendu {{niveau, code, nom}}")
        if territory["niveau"] not in LEVELS:
            raise fail(f"niveau de territoire inconnu « {territory['niveau']} » (attendu : {', '.join(LEVELS)})")
        declared.append({"niveau": territory["niveau"], "code": str(territory["code"]),
                         "nom": str(territory.get("nom") or "")})
    return declared


def entry(number: int, item, path: str) -> dict:
    """One catalogue item → a raw publication entry (store.clean_entry finishes the cleaning)."""
    def fail(message):
        return entry_error(number, item, message, path)

    if not isinstance(item, dict):
        raise fail("ce n'est pas un dictionnaire")
    missing = [k for k in REQUIRED if not item.get(k)]
    if missing:
        raise fail(f"champ(s) manquant(s) : {', '.join(missing)}")
    if item["type"] not in TYPES:
        raise fail(f"type inconnu « {item['type']} » (attendu : {', '.join(TYPES)})")
    themes = item.get("themes") or []
    unknown = [t for t in themes if theme_code(t) is None]
    if unknown:
        raise fail(f"thème(s) inconnu(s) : {', '.join(map(str, unknown))} (attendu : {', '.join(THEME_CODES)})")
    published = item.get("date")
    if published is not None and not isinstance(published, date):
        raise fail(f"date invalide « {published} » (attendu : AAAA-MM-JJ)")
    year = item.get("annee")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise fail(f"année invalide « {year} »")
    weight = item.get("poids", 0)
    if not isinstance(weight, int) or isinstance(weight, bool):
        raise fail(f"« poids » doit être un entier, pas « {weight} »")
    hidden = item.get("masquee", False)
    if not isinstance(hidden, bool):
        raise fail(f"« masquee » vaut true ou false, pas « {hidden} »")
    return {
        "url": item["url"],
        "guid": item["url"],
        "titre": item["titre"],
        "resume": item.get("resume"),
        "type": item["type"],
        "producteur": str(item["producteur"]),
        "themes": [theme_code(t) for t in themes],
        "date_publication": published.isoformat() if published else None,
        "annee": year if year is not None else (published.year if published else None),
        "territoires": territories(item, fail),
        "poids": weight,
        "masquee": hidden,
    }


def parse(content: bytes, path: str = "") -> list[dict]:
    """The catalogue's bytes → raw entries; a structural error names the entry and stops."""
    try:
        document = yaml.safe_load(content)
    except yaml.YAMLError as e:
        raise SourceError(f"YAML invalide : {e}", path) from None
    if not isinstance(document, list):
        raise SourceError("le catalogue doit être une liste d'entrées (« - url: … »)", path)
    entries, seen = [], {}
    for number, item in enumerate(document, start=1):
        parsed = entry(number, item, path)
        if parsed["url"] in seen:
            raise entry_error(number, item, f"adresse déjà donnée par l'entrée n° {seen[parsed['url']]} : "
                                            f"{parsed['url']}", path)
        seen[parsed["url"]] = number
        entries.append(parsed)
    return entries


def harvest(source: dict, state: dict, options: dict) -> Harvest:
    fetched = http.fetch(source["url"], **options)
    return Harvest(entries=parse(fetched.content, source["url"]))
