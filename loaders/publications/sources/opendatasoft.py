"""OpenDataSoft catalogues (data.ofgl.fr, data.economie.gouv.fr…): Explore API v2.1
`catalog/datasets`, page after page, incremental by the datasets' `modified` date.

    {portail}/api/explore/v2.1/catalog/datasets?limit=100&offset=0&order_by=modified&where=…

Each dataset becomes a publication of type « Jeu de données » pointing at its portal page
{portail}/explore/dataset/{dataset_id}/.
"""

import json

from ...common import http
from .. import classify
from ...common.errors import SourceError
from ..store import Harvest

PAGE_SIZE = 100
MAX_OFFSET = 10_000
DEFAULT_INCREMENTAL = "modified > date'{depuis}'"


def api_url(portal: str) -> str:
    return portal.rstrip("/") + "/api/explore/v2.1/catalog/datasets"


def parse_page(content: bytes, portal: str, url: str = "") -> tuple[list[dict], int]:
    """One catalog answer → (entries, total_count)."""
    if not content or not content.strip():
        raise SourceError("réponse vide du catalogue", url)
    try:
        document = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        head = content[:512].lower()
        kind = "une page HTML" if b"<html" in head or b"<!doctype" in head else "du JSON illisible"
        raise SourceError(f"le catalogue a renvoyé {kind} ({type(e).__name__})", url) from None
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise SourceError("réponse inattendue : pas de liste « results » (API Explore v2.1)", url)
    entries = []
    for dataset in document["results"]:
        if not isinstance(dataset, dict) or not dataset.get("dataset_id"):
            continue
        meta = (dataset.get("metas") or {}).get("default") or {}
        keywords = [k for k in (meta.get("keyword") or []) if isinstance(k, str)]
        themes = [t for t in (meta.get("theme") or []) if isinstance(t, str)]
        entries.append({
            "url": f"{portal.rstrip('/')}/explore/dataset/{dataset['dataset_id']}/",
            "guid": dataset.get("dataset_uid") or dataset["dataset_id"],
            "titre": meta.get("title") or dataset["dataset_id"],
            "resume": meta.get("description"),
            "date_publication": meta.get("created") or meta.get("data_processed") or meta.get("modified"),
            "date_mise_a_jour": meta.get("modified"),
            "categories": [*themes, *keywords, *[t for t in (meta.get("territory") or []) if isinstance(t, str)]],
            "modified": meta.get("modified"),
        })
    return entries, int(document.get("total_count") or 0)


def harvest(source: dict, state: dict, options: dict) -> Harvest:
    portal = source["url"]
    cursor = state.get("curseur")
    params = {"limit": PAGE_SIZE, "order_by": "modified"}
    if cursor:
        params["where"] = source.get("incremental", DEFAULT_INCREMENTAL).format(depuis=cursor)
    result = Harvest(cursor=cursor)
    offset = 0
    while offset < MAX_OFFSET:
        fetched = http.fetch(api_url(portal), params={**params, "offset": offset}, **options)
        entries, total = parse_page(fetched.content, portal, api_url(portal))
        for entry in entries:
            modified = classify.parse_date(entry.pop("modified"))
            stamp = modified.isoformat() if modified else None
            if cursor and stamp and stamp <= cursor:
                continue  # already harvested (the portal ignored or widened the filter)
            if stamp and (result.cursor is None or stamp > result.cursor):
                result.cursor = stamp
            result.entries.append(entry)
        offset += len(entries)
        if not entries or offset >= total:
            break
    return result
