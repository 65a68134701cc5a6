"""Gallica SRU 1.2 (the BNSP, Bibliothèque numérique de la statistique publique, is on Gallica):
Dublin Core records → publications, page after page, incremental by indexation date.

    https://gallica.bnf.fr/SRU?operation=searchRetrieve&version=1.2&query=…&startRecord=1&maximumRecords=50

The configured CQL query is extended, after a first successful run, with the date of that run
(`incremental` template of the source, by default `indexationdate >= "{depuis}"`).
"""

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from ...common import http
from ...common.errors import SourceError
from ..store import Harvest

NS = {
    "srw": "http://www.loc.gov/zing/srw/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
}
PAGE_SIZE = 50
MAX_PAGES = 20
DEFAULT_INCREMENTAL = 'indexationdate >= "{depuis}"'


def texts(element, tag: str) -> list[str]:
    return [e.text.strip() for e in element.findall(tag, NS) if e.text and e.text.strip()]


def record_entry(record) -> dict | None:
    dc = record.find("srw:recordData/oai_dc:dc", NS)
    if dc is None:
        return None
    identifiers = [i for i in texts(dc, "dc:identifier") if i.startswith(("http://", "https://"))]
    link = record.findtext("srw:extraRecordData/link", default="", namespaces=NS).strip()
    titles = texts(dc, "dc:title")
    dates = texts(dc, "dc:date")
    date = dates[0] if dates else None
    if date and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", date):
        year = re.match(r"\d{4}", date)
        date = year.group(0) if year else None
    parts = texts(dc, "dc:description")
    publishers = texts(dc, "dc:publisher")
    creators = texts(dc, "dc:creator")
    if creators:
        parts.append("Auteur : " + " ; ".join(creators))
    if publishers:
        parts.append("Éditeur : " + " ; ".join(publishers))
    return {
        "url": identifiers[0] if identifiers else link or None,
        "guid": identifiers[0] if identifiers else link or None,
        "titre": titles[0] if titles else None,
        "resume": " — ".join(parts) or None,
        "date_publication": date,
        "categories": texts(dc, "dc:subject"),
    }


def parse_page(content: bytes, url: str = "") -> tuple[list[dict], int, int | None]:
    """One SRU answer → (entries, numberOfRecords, nextRecordPosition or None)."""
    if not content or not content.strip():
        raise SourceError("réponse SRU vide", url)
    try:
        root = ET.fromstring(content)
    except ET.ParseError as e:
        raise SourceError(f"réponse SRU illisible (XML mal formé : {e})", url) from None
    if root.tag != f"{{{NS['srw']}}}searchRetrieveResponse":
        raise SourceError("ce document n'est pas une réponse SRU (searchRetrieveResponse)", url)
    diagnostic = root.find(".//{http://www.loc.gov/zing/srw/diagnostic/}message")
    if diagnostic is not None and diagnostic.text:
        raise SourceError(f"le serveur SRU signale une erreur : {diagnostic.text.strip()}", url)
    total = int(root.findtext("srw:numberOfRecords", default="0", namespaces=NS) or 0)
    following = root.findtext("srw:nextRecordPosition", default="", namespaces=NS).strip()
    entries = [e for e in (record_entry(r) for r in root.findall("srw:records/srw:record", NS)) if e]
    return entries, total, int(following) if following.isdigit() else None


def query_for(source: dict, state: dict) -> str:
    query = source["requete"]
    cursor = state.get("curseur")
    if cursor:
        template = source.get("incremental", DEFAULT_INCREMENTAL)
        query = f"({query}) and {template.format(depuis=cursor)}"
    return query


def harvest(source: dict, state: dict, options: dict) -> Harvest:
    query = query_for(source, state)
    result = Harvest()
    start, pages = 1, 0
    max_pages = int(source.get("pages_max", MAX_PAGES))
    while pages < max_pages:
        fetched = http.fetch(source["url"], params={
            "operation": "searchRetrieve", "version": "1.2", "query": query,
            "startRecord": start, "maximumRecords": PAGE_SIZE,
        }, **options)
        entries, total, following = parse_page(fetched.content, source["url"])
        result.entries.extend(entries)
        pages += 1
        if not entries or following is None or following <= start or following > total:
            break
        start = following
    else:
        result.notes.append(f"arrêt après {max_pages} pages (pages_max)")
    result.cursor = datetime.now(timezone.utc).strftime("%Y/%m/%d")
    return result
