"""The curated list of real resources (data/ressources.yml): official sites, tools, platforms,
each with optional per-territory deep-link templates ({code} is replaced by the territory's code:
INSEE code of a commune, SIREN of an EPCI, code of a département or a région).
"""

import yaml

from ...common import http
from .. import classify
from ...common.errors import SourceError
from oc_site.levels import NAMES as LEVELS

from ..store import Harvest

REQUIRED = ("titre", "url", "type")


def parse(content: bytes, path: str = "") -> list[dict]:
    try:
        document = yaml.safe_load(content)
    except yaml.YAMLError as e:
        raise SourceError(f"YAML invalide : {e}", path) from None
    items = (document or {}).get("ressources") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise SourceError("le fichier doit contenir une liste « ressources »", path)
    entries = []
    for number, item in enumerate(items, start=1):
        where = f"ressource n° {number}"
        if not isinstance(item, dict):
            raise SourceError(f"{where} : ce n'est pas un dictionnaire", path)
        missing = [k for k in REQUIRED if not item.get(k)]
        if missing:
            raise SourceError(f"{where} ({item.get('titre', '?')}) : champ(s) manquant(s) {', '.join(missing)}", path)
        if item["type"] not in classify.TYPES:
            raise SourceError(f"{where} : type inconnu « {item['type']} » (attendu : {', '.join(classify.TYPES)})", path)
        unknown = [t for t in item.get("themes") or [] if t not in classify.THEMES]
        if unknown:
            raise SourceError(f"{where} : thème(s) inconnu(s) {', '.join(unknown)}", path)
        templates = item.get("liens_territoriaux") or {}
        for level, template in templates.items():
            if level not in LEVELS or "{code}" not in str(template) or not classify.safe_url(template):
                raise SourceError(f"{where} : lien territorial invalide pour « {level} » : {template}", path)
        entries.append({
            "url": item["url"],
            "guid": item["url"],
            "titre": item["titre"],
            "resume": item.get("resume"),
            "type": item["type"],
            "organisation": item.get("organisation"),
            "themes": item.get("themes") or [],
            "date_publication": str(item["date"]) if item.get("date") else None,
            "type_territoire": ",".join(templates) or item.get("type_territoire"),
            "liens_territoriaux": templates,
            "territoires": [str(t) for t in item.get("territoires") or []],
        })
    return entries


def harvest(source: dict, state: dict, options: dict) -> Harvest:
    fetched = http.fetch(source["url"], **options)
    return Harvest(entries=parse(fetched.content, source["url"]))
