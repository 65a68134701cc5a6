"""OpenDataSoft Explore v2.1 (data.ofgl.fr): a dataset → the address of its CSV export.

`GET {portail}/api/explore/v2.1/catalog/datasets/{id}` describes the dataset (`metas.default.title`,
`metas.default.modified`); the file is the export `…/{id}/exports/csv` with `;` as separator and the
columns' labels as header (`use_labels=true`: the layout of tests/fixtures/producteurs/), filtered
with an ODSQL `where` on the indicators' values when the rule names the field (`champ_indicateur`).
An answer of another shape (a number for `modified`, a list for the dataset) is refused in French.
"""

import re
from urllib.parse import urlencode

from ..common import http
from .resolved import Resolved
from .rules import Rule

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def catalog_url(rule: Rule) -> str:
    return f"{rule.url}/api/explore/v2.1/catalog/datasets/{rule.jeu_de_donnees}"


def odsql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def export_url(rule: Rule, values: list[str]) -> str:
    """The export of the rows the mapping reads (every exercice), as the lock records it."""
    params = {"delimiter": ";", "use_labels": "true"}
    if rule.champ_indicateur and values:
        params["where"] = f"{rule.champ_indicateur} in ({', '.join(odsql_string(v) for v in values)})"
    return f"{catalog_url(rule)}/exports/csv?{urlencode(params)}"


def describe(metadata: dict, rule: Rule, values: list[str]) -> Resolved:
    """Pure: the dataset's description → the export to download, its version date as vintage."""
    if metadata.get("dataset_id") not in (None, rule.jeu_de_donnees):
        raise ValueError(f"l'API a décrit le jeu {metadata.get('dataset_id')} au lieu de {rule.jeu_de_donnees}")
    metas = metadata.get("metas")
    metas = metas.get("default") if isinstance(metas, dict) else None
    metas = metas if isinstance(metas, dict) else {}
    modified = metas.get("modified") or metadata.get("data_processed")
    if modified is not None and not (isinstance(modified, str) and ISO_DATE.match(modified)):
        raise ValueError(f"date de modification illisible dans la réponse de l'API OpenDataSoft "
                         f"({str(modified)[:50]}) : une date ISO 8601 est attendue")
    return Resolved(
        url=export_url(rule, values), title=str(metas.get("title") or rule.jeu_de_donnees)[:500],
        vintage=f"version du {modified[:10]}" if modified else None, modified=modified,
        page=f"{rule.url}/explore/dataset/{rule.jeu_de_donnees}/",
    )


def resolve(rule: Rule, values: list[str], client, **options) -> Resolved:
    url = catalog_url(rule)
    try:
        metadata = http.json_object(http.fetch(url, client=client, **options).content)
    except http.FetchError as e:
        raise ValueError(f"API OpenDataSoft, jeu de données {rule.jeu_de_donnees} : {e} ({url})") from None
    return describe(metadata, rule, values)
