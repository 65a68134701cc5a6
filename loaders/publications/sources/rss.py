"""RSS 2.0 and Atom feeds (Drupal sites of the producers, data.gouv.fr…), read with feedparser.

A bozo feed (malformed XML, wrong declared encoding) keeps what parses and reports the rest; a
document that is not a feed at all (an HTML page, an empty answer) is an error of that source.
"""

import feedparser

from ...common import http
from ...common.errors import SourceError
from ..store import Harvest


def bozo_note(exception) -> str:
    name = type(exception).__name__
    if name == "CharacterEncodingOverride":
        return "encodage déclaré incorrect : le flux a été relu avec un autre encodage"
    if name == "CharacterEncodingUnknown":
        return "encodage inconnu"
    message = str(getattr(exception, "getMessage", lambda: exception)())
    return f"flux mal formé ({message})"


def parse_feed(content: bytes, headers: dict | None = None, url: str = "") -> tuple[list[dict], list[str]]:
    """Feed bytes → (raw entries, notes). Raises SourceError if nothing usable is there."""
    if not content or not content.strip():
        raise SourceError("réponse vide : aucun flux à lire", url)
    parsed = feedparser.parse(content, response_headers=headers or {}, sanitize_html=False,
                              resolve_relative_uris=False)
    notes = []
    if not parsed.entries:
        version = parsed.get("version") or ""
        head = content[:2048].lower()
        if b"<html" in head or b"<!doctype html" in head:
            raise SourceError("la réponse est une page HTML, pas un flux RSS ou Atom", url)
        if parsed.bozo and not version:
            raise SourceError(f"XML illisible : {bozo_note(parsed.bozo_exception)}", url)
        if not version:
            raise SourceError("ce document n'est pas un flux RSS ou Atom", url)
        notes.append("flux vide : aucune entrée")
    elif parsed.bozo:
        notes.append(f"{bozo_note(parsed.bozo_exception)} ; {len(parsed.entries)} entrée(s) lue(s) malgré tout")
    entries = []
    for item in parsed.entries:
        link = item.get("link")
        if not link:
            link = next((l.get("href") for l in item.get("links", []) if l.get("href")), None)
        if not link and item.get("id", "").startswith(("http://", "https://")):
            link = item["id"]
        entries.append({
            "url": link,
            "guid": item.get("id"),
            "titre": item.get("title"),
            "resume": item.get("summary") or next((c.get("value") for c in item.get("content", [])), None),
            # the dates as written: feedparser's parsed dates silently roll invalid ones over
            # (2024-13-45 becomes 2025-01-01); classify.iso_date reads them strictly.
            # dict.get: feedparser's own get() maps a missing "updated" to "published", with a warning
            "date_publication": dict.get(item, "published") or dict.get(item, "updated")
            or dict.get(item, "dc_date"),
            "date_mise_a_jour": dict.get(item, "updated"),
            "categories": [t.get("term") for t in item.get("tags", []) if t.get("term")],
        })
    return entries, notes


def harvest(source: dict, state: dict, options: dict) -> Harvest:
    fetched = http.fetch(source["url"], etag=state.get("etag"), last_modified=state.get("last_modified"),
                         **options)
    result = Harvest(etag=fetched.etag, last_modified=fetched.last_modified)
    if fetched.not_modified:
        result.not_modified = True
        return result
    result.entries, result.notes = parse_feed(fetched.content, fetched.headers, source["url"])
    return result
