"""data.gouv.fr API v1: a dataset's `resources[]` → the resource a rule selects.

`GET {api}/datasets/{id or slug}/` answers the dataset with its resources, each with `title`, `url`,
`format`, `filesize`, `checksum` ({type, value}) and `last_modified` (see the real answer in
tests/fixtures/producteurs/). `select` is pure; `resolve` asks the API through the shared client. An answer
of another shape (a list for a dataset, a number for an address) is refused with a French message.
"""

import re

from ..common import http
from .resolved import Resolved
from .rules import Rule

LISTED = 12


def dataset_url(rule: Rule) -> str:
    return f"{rule.url}/datasets/{rule.jeu_de_donnees}/"


def _year(rule: Rule, title: str) -> int | None:
    match = re.search(rule.annee, title) if rule.annee else None
    return int(match.group(1)) if match else None


def _describe(rule: Rule) -> str:
    parts = []
    if rule.titre:
        parts.append(f"titre « {rule.titre} »")
    if rule.format:
        parts.append(f"format {rule.format}")
    if rule.annee:
        parts.append(f"année « {rule.annee} »" + (f" ≥ {rule.annee_min}" if rule.annee_min else ""))
    return ", ".join(parts) or "aucun critère"


def select(dataset: dict, rule: Rule) -> Resolved:
    """The resource the rule selects: matching title and format, the latest year (then the latest change)."""
    resources = dataset.get("resources")
    if not isinstance(resources, list):
        raise ValueError("réponse de l'API data.gouv.fr sans liste « resources »")
    resources = [r for r in resources if isinstance(r, dict)]
    candidates = []
    for resource in resources:
        title, fmt = str(resource.get("title") or ""), str(resource.get("format") or "").lower()
        if rule.titre and not re.search(rule.titre, title):
            continue
        if rule.format and fmt != rule.format:
            continue
        year = _year(rule, title)
        if rule.annee and (year is None or (rule.annee_min and year < rule.annee_min)):
            continue
        candidates.append((year or 0, str(resource.get("last_modified") or ""), resource))
    if not candidates:
        listed = "; ".join(f"« {r.get('title')} » ({r.get('format')})" for r in resources[:LISTED]) or "aucune"
        more = f" et {len(resources) - LISTED} autres" if len(resources) > LISTED else ""
        raise ValueError(f"aucune ressource ne correspond à la règle ({_describe(rule)}) ; "
                         f"ressources du jeu de données : {listed}{more}")
    year, modified, chosen = max(candidates, key=lambda c: (c[0], c[1]))
    checksum = chosen.get("checksum") or None
    size = chosen.get("filesize")
    address = chosen.get("url")
    if not address:
        raise ValueError(f"la ressource « {chosen.get('title')} » n'a pas d'adresse")
    if not http.is_web_url(address):
        raise ValueError(f"la ressource « {chosen.get('title')} » a une adresse invalide ({str(address)[:200]}) : "
                         "une adresse http(s) est attendue")
    return Resolved(
        url=address, title=str(chosen.get("title")), vintage=str(year) if year else None,
        size=size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None,
        checksum=announced_checksum(checksum),
        modified=modified or None, page=dataset.get("page") if isinstance(dataset.get("page"), str) else None,
    )


def announced_checksum(checksum) -> tuple[str, str] | None:
    """data.gouv.fr's `checksum` ({"type": "sha1", "value": "…"}) as (algorithm, value); None when absent."""
    if not isinstance(checksum, dict) or not checksum.get("value"):
        return None
    return str(checksum.get("type") or ""), str(checksum["value"])


def resolve(rule: Rule, client, **options) -> Resolved:
    url = dataset_url(rule)
    try:
        dataset = http.json_object(http.fetch(url, client=client, **options).content)
    except http.FetchError as e:
        raise ValueError(f"API data.gouv.fr, jeu de données {rule.jeu_de_donnees} : {e} ({url})") from None
    return select(dataset, rule)
