"""The /sources page (templates/pages/sources.html) lists the sources recorded by the build in oc.db,
so that no version or vintage is typed in the template; and the files to download (the database and its
compressed copy, oc_site/downloads.py), with their sizes and SHA-256, which the header's download link
also gives (their sizes, `{telechargement}` in the theme's header_links of metadata.yml)."""

import asyncio

from datasette_dsfr_theme.formatting import file_size_fr

from oc_site.database import DATABASE, dicts
from oc_site.downloads import Downloads, downloads_of
from oc_site.http.stack import shared_state

SOURCES_SQL = "SELECT titre, producteur, url, millesime, fichier, note FROM sources_donnees ORDER BY id"


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
        return dicts(await datasette.get_database(DATABASE).execute(SOURCES_SQL))

    async def telechargements():
        files = downloads(datasette)
        return await files.files() if files else []

    return {"sources_donnees": sources_donnees, "telechargements": telechargements}
