"""The /sources page (templates/pages/sources.html) lists the sources recorded by the build in oc.db,
so that no version or vintage is typed in the template."""


from oc_site.database import DATABASE, dicts

SOURCES_SQL = "SELECT titre, producteur, url, millesime, fichier, note FROM sources_donnees ORDER BY id"


def template_vars(template, datasette) -> dict:
    if template != "pages/sources.html" or DATABASE not in datasette.databases:
        return {}

    async def sources_donnees():
        return dicts(await datasette.get_database(DATABASE).execute(SOURCES_SQL))

    return {"sources_donnees": sources_donnees}
