"""French labels on Datasette's own pages, read from the database rather than typed twice.

- Columns named after an indicator (the wide views valeurs_*_large) are labelled with the indicator's
  label and unit from the `indicateurs` table, and their numbers shown with its decimals; other columns'
  labels and decimals are in metadata.yml (datasette-dsfr-theme: column_labels, decimals).
- Values that are codes are shown with their names, in the facets and in the cells of table and row
  pages (« Métropole metro », « Bretagne 53 »): régions, départements, zones, chefs-lieux, levels, EPCI
  natures, from the lookup tables and the level registry.
- On the territory tables and the wide views, a territory's name links to its fiche (written by the
  theme's templates: add_cell_links).
"""


from oc_site.levels import LEVELS
from oc_site.database import DATABASE

# table or view → (level, column holding the territory's code)
TERRITORY_TABLES = {
    **{spec.table: (spec.name, spec.key) for spec in LEVELS.values()},
    **{spec.wide_view: (spec.name, "code") for spec in LEVELS.values()},
}

VALUE_LABELS_SQL = {
    "region": "SELECT code, nom FROM regions",
    "departement": "SELECT code, nom || ' (' || code || ')' FROM departements",
    "zone": "SELECT code, libelle FROM zones",
    "chef_lieu": "SELECT code, libelle FROM chefs_lieux_types",
    "type": "SELECT DISTINCT type, type_libelle FROM epci",
    "epci": "SELECT siren, nom FROM epci",
    "arrondissement": "SELECT code, nom FROM arrondissements",
}


async def rows(db, sql):
    try:
        return (await db.execute(sql)).rows
    except Exception:  # a database without that table (another instance, a test database)
        return []


async def read_labels(datasette):
    if DATABASE not in datasette.databases:
        return
    theme = datasette.jinja_env.globals.get("dsfr_theme")
    if theme is None or not hasattr(theme, "add_column_labels"):
        return
    db = datasette.get_database(DATABASE)
    indicators = await rows(db, "SELECT code, libelle, unite, decimales FROM indicateurs")
    theme.add_column_labels({code: f"{libelle} ({unite})" if unite else libelle for code, libelle, unite, _ in indicators})
    if hasattr(theme, "add_column_decimals"):
        theme.add_column_decimals({code: decimales for code, _, _, decimales in indicators})
    for column, sql in VALUE_LABELS_SQL.items():
        theme.add_value_labels(column, dict(await rows(db, sql)))
    levels = {spec.name: spec.title for spec in LEVELS.values()}
    theme.add_value_labels("type", levels)
    theme.add_value_labels("niveau", levels)
    for table, (level, key) in TERRITORY_TABLES.items():
        theme.add_cell_links(DATABASE, table, "nom", key, LEVELS[level].url)
