"""Notices about territories with a special status (Paris, Lyon, Corse, Mayotte, Guyane, Martinique, Alsace,
TAAF), written with their sources in data/notices.yml rather than in code."""

from pathlib import Path

import yaml

from oc_site.paths import DATA

NOTICES_FILE = DATA / "notices.yml"


def load_notices(path: Path = NOTICES_FILE) -> dict[tuple[str, str], list[dict]]:
    """(level, code) → the notices about that territory, in file order: {texte, sources: [{titre, url}]}."""
    found: dict[tuple[str, str], list[dict]] = {}
    for notice in yaml.safe_load(path.read_text(encoding="utf-8"))["notices"]:
        for territory in notice["territoires"]:
            level, code = territory.split("/")
            found.setdefault((level, code), []).append(
                {"texte": " ".join(notice["texte"].split()), "sources": notice.get("sources", [])})
    return found
