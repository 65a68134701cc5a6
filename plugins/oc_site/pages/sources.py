"""The /sources page (templates/pages/sources.html) lists the sources recorded by the build in oc.db,
so that no version or vintage is typed in the template."""


from oc_site.database import DATABASE, dicts

SOURCES_SQL = "SELECT titre, producteur, url, millesime, fichier, note FROM sources_donnees ORDER BY id"
# the producers' files the mappings read, loaded or not and why: the operators' view (the fiches say nothing
# technical, only where a reader finds what is missing)
PRODUCER_FILES_SQL = """SELECT mapping, producteur, titre, page, charge, motif, url, millesime, date_recuperation,
  date_chargement FROM fichiers_producteurs ORDER BY charge, mapping"""


def template_vars(template, datasette) -> dict:
    if template != "pages/sources.html" or DATABASE not in datasette.databases:
        return {}

    async def sources_donnees():
        return dicts(await datasette.get_database(DATABASE).execute(SOURCES_SQL))

    async def fichiers_producteurs():
        db = datasette.get_database(DATABASE)
        if not await db.table_exists("fichiers_producteurs"):
            return []
        return dicts(await db.execute(PRODUCER_FILES_SQL))

    return {"sources_donnees": sources_donnees, "fichiers_producteurs": fichiers_producteurs}
