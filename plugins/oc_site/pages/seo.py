"""What a search engine, a dataset search or a shared link reads in a page's <head>: templates/_head_metadata.html
renders `tete` (the theme's base template includes it in its head_metadata block).

- A fiche: its canonical address, a description giving the territory's name and two key figures with their
  year (French numbers), the same for Open Graph and Twitter cards (the preview of a shared link), and a
  schema.org AdministrativeArea (JSON-LD): its codes as identifiers, the territories that contain it.
- Datasette's table pages and /oc: a schema.org Dataset with its distributions (CSV, JSON, the whole SQLite
  file), its licence and the date its vintage came into force.

Every address is built on the site's public address (oc_site.urls.public_url), never on the request's Host.
"""

import json
import weakref

from datasette_dsfr_theme.formatting import format_number_fr
from markupsafe import Markup

from oc_site.database import DATABASE
from oc_site.levels import LEVELS
from oc_site.pages.sitemap import vintage_date
from oc_site.urls import public_url

SITE_NAME = "Open Collectivités"
SCHEMA = "https://schema.org"
# the two key figures a shared fiche shows, in this order; else the fiche's first ones that have a value
SHARED_FIGURES = ("population_municipale", "densite")
IDENTIFIERS = {"commune": (("code INSEE", "code_insee"), ("SIREN", "siren")), "epci": (("SIREN", "siren"),),
               "departement": (("code INSEE", "code"),), "region": (("code INSEE", "code"),)}
FRANCE = {"@type": "Country", "name": "France"}
COM_LABEL = "collectivité d'outre-mer"  # a COM is listed both as a département and as a région
SQLITE = "application/vnd.sqlite3"


def script_json(data) -> Markup:
    """JSON for a <script type="application/ld+json">, safe from </script>."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


# --- fiches -------------------------------------------------------------------------------------------------

def figure_text(row: dict) -> str:
    """« population municipale 230 890 hab. (2023) »."""
    value = format_number_fr(row["valeur"], row["decimales"] if row["decimales"] is not None else 2)
    sign = "+" if row["evolution"] and row["valeur"] > 0 else ""
    unit = f"\u00a0{row['unite']}" if row["unite"] else ""
    return f"{row['libelle'][:1].lower()}{row['libelle'][1:]} {sign}{value}{unit} ({row['periode']})"


def shared_figures(key_figures: list[dict]) -> list[dict]:
    known = [r for r in key_figures if r["valeur"] is not None]
    preferred = [r for code in SHARED_FIGURES for r in known if r["indicateur"] == code]
    return (preferred + [r for r in known if r not in preferred])[:2]


def parents(level: str, t: dict) -> list[tuple[str, str, str]]:
    """The territories that contain this one, nearest first: (level, code, name). An EPCI over several
    départements is inside none of them (nor inside a région, when it straddles two)."""
    found = []
    if level == "commune" and t.get("epci"):
        found.append(("epci", t["epci"], t["epci_nom"]))
    if level == "commune" or (level == "epci" and t.get("departement") and "," not in (t.get("departements") or "")):
        found.append(("departement", t["departement"], t["departement_nom"]))
    if level != "region" and t.get("region") and "|" not in (t.get("regions") or ""):
        found.append(("region", t["region"], t["region_nom"]))
    return [(lv, code, name) for lv, code, name in found if name and name != t["nom"]]  # a COM is its own région


def place(base: str, level: str, code: str, name: str) -> dict:
    return {"@type": "AdministrativeArea", "name": name, "url": base + LEVELS[level].url(code)}


def fiche_head(datasette, level: str, code: str, t: dict, key_figures: list[dict]) -> dict:
    """The head metadata of a fiche (`tete`)."""
    base = public_url(datasette)
    spec = LEVELS[level]
    url = base + spec.url(code)
    label = COM_LABEL if level in ("departement", "region") and t.get("zone") == "com" else spec.label
    within = parents(level, t)
    where = ", ".join(name for lv, _, name in within if lv != "epci")
    figures = " ; ".join(figure_text(r) for r in shared_figures(key_figures))
    description = (f"{t['nom']}, {label}{f' ({where})' if where else ''}"
                   f"{f' : {figures}' if figures else ''}. Chiffres clés, dotations, publications et données "
                   f"téléchargeables, avec leur année et leur source.")
    area = {
        "@context": SCHEMA, "@type": "AdministrativeArea", "name": t["nom"], "url": url, "description": description,
        "identifier": [{"@type": "PropertyValue", "propertyID": scheme, "value": t[column]}
                       for scheme, column in IDENTIFIERS[level] if t.get(column)],
        "containedInPlace": [place(base, *p) for p in within] or [FRANCE],
    }
    if t.get("latitude") is not None and t.get("longitude") is not None:
        area["geo"] = {"@type": "GeoCoordinates", "latitude": t["latitude"], "longitude": t["longitude"]}
    return {"titre": f"{t['nom']} ({label})", "description": description, "canonique": url,
            "json_ld": script_json(area)}


# --- Datasette's data pages -------------------------------------------------------------------------------

def distribution(encoding: str, url: str, description: str) -> dict:
    return {"@type": "DataDownload", "encodingFormat": encoding, "contentUrl": url, "description": description}


def whole_database(base: str, size: int) -> dict:
    return distribution(SQLITE, f"{base}/{DATABASE}.db",
                        f"Toute la base SQLite d'Open Collectivités ({format_number_fr(round(size / 1e6))} Mo).")


def dataset(base: str, metadata: dict, name: str, description: str, url: str, vintage: str | None) -> dict:
    found = {"@context": SCHEMA, "@type": "Dataset", "name": name, "description": description, "url": url,
             "inLanguage": "fr", "isAccessibleForFree": True,
             "creator": {"@type": "Organization", "name": SITE_NAME, "url": base + "/"},
             "includedInDataCatalog": {"@type": "DataCatalog", "name": SITE_NAME, "url": f"{base}/{DATABASE}"},
             "spatialCoverage": FRANCE}
    if metadata.get("license_url"):
        found["license"] = metadata["license_url"]
    if vintage:
        found["dateModified"] = vintage
    return found


async def table_dataset(datasette, table: str) -> dict:
    """A table or view of /oc as a schema.org Dataset: its CSV (streamed, every row), JSON (by pages of
    `_size=max` rows, `next_url` to the following one) and the whole SQLite file."""
    base = public_url(datasette)
    db = datasette.get_database(DATABASE)
    meta = datasette.table_metadata(DATABASE, table) or {}
    url = base + datasette.urls.table(DATABASE, table)
    title = meta.get("title") or table
    description = meta.get("description") or f"Table {table} de la base Open Collectivités."
    found = dataset(base, datasette.metadata() or {}, title, description, url, await vintage_date(db))
    found["variableMeasured"] = list((meta.get("columns") or {}).keys()) or None
    found["isPartOf"] = {"@type": "Dataset", "name": f"{SITE_NAME} : toute la base", "url": f"{base}/{DATABASE}"}
    found["distribution"] = [
        distribution("text/csv", f"{url}.csv?_stream=on", "Toutes les lignes en CSV (UTF-8)."),
        distribution("application/json", f"{url}.json?_shape=array&_size=max",
                     "Les lignes en JSON, par pages : l'en-tête Link donne la page suivante."),
        whole_database(base, db.size),
    ]
    return {k: v for k, v in found.items() if v is not None}


async def database_dataset(datasette) -> dict:
    """/oc as a schema.org Dataset: the whole SQLite file, and each table as a part."""
    base = public_url(datasette)
    db = datasette.get_database(DATABASE)
    meta = (datasette.metadata("databases") or {}).get(DATABASE, {})
    found = dataset(base, datasette.metadata() or {}, f"{SITE_NAME} : toute la base",
                    meta.get("description") or "", f"{base}/{DATABASE}", await vintage_date(db))
    found["distribution"] = [whole_database(base, db.size)]
    hidden = set(await db.hidden_table_names())
    tables = sorted(set(await db.table_names()) - hidden) + sorted(await db.view_names())
    parts = []
    for table in tables:
        meta = datasette.table_metadata(DATABASE, table) or {}
        parts.append({"@type": "Dataset", "name": meta.get("title") or table, "description": meta.get("description"),
                      "url": base + datasette.urls.table(DATABASE, table)})
    found["hasPart"] = [{k: v for k, v in part.items() if v} for part in parts]
    return found


# Database → {table or None: its JSON-LD}: the data and their metadata change only with a new process
DATASETS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


# Datasette's pages that describe a Dataset: a table's (or a view's) and the database's, not a query's
DATA_TEMPLATES = ("table.html", "database.html")


async def template_vars(datasette, template: str, database: str | None, table: str | None) -> dict:
    """`tete` of Datasette's table pages and of /oc (the fiches set theirs: fiche_head)."""
    if database != DATABASE or template not in DATA_TEMPLATES or (template == "table.html" and not table):
        return {}
    known = DATASETS.setdefault(datasette.get_database(DATABASE), {})
    key = table if template == "table.html" else None
    if key not in known:
        data = await table_dataset(datasette, table) if key else await database_dataset(datasette)
        known[key] = script_json(data)
    return {"tete": {"json_ld": known[key]}}
