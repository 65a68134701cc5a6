"""The metadata at start-up, in one place: extended with what the data say, then made read-only (`prepare`).

Descriptions generated from the data, so that metadata.yml states nothing that a new vintage or a new
mapping makes stale: the wide tables `valeurs_*_large` get their description, facets and one description per
column from the level registry and the `indicateurs` catalogue (label, unit, latest vintage, source); the
value tables (`dgcl_criteres_communes`, `populations_epci`…: loaders/indicators/store.py) theirs from their
registry (`indicateurs_tables`, `indicateurs_colonnes`) and the catalogue.

Then read-only, because Datasette 0.65.5 deep-copies the whole metadata each time it checks `view-table`
(`Datasette._table_permission_allows`, which merges table aliases): a table page checks it several
times, the database page once per table. Our metadata describes every column of every table, and
the wide views get one description per indicator: those copies alone took a quarter of a row page's
time, and made Datasette's own pages slower than on a bare Datasette. That copy protects nothing here:
`_table_permission_allows` only reads it (it works on shallow copies of the levels it changes), and the
metadata does not change once the server has started. So the top level of the metadata becomes a
read-only dict whose deep copy is itself. Datasette reads exactly the same metadata; writing to it
afterwards raises an error instead of going unnoticed.

Datasette 0.65 keeps the metadata given at start in `datasette._metadata_local`, read on every request:
this module is the only one of the site that writes it. (Datasette 1.0 keeps metadata in its internal
database, written through its API: `add_generated_metadata` uses it when it is there.)
"""


from oc_site.levels import LEVELS
from oc_site.database import DATABASE

CONTEXT_COLUMNS = {
    "departement": "Code du département (texte).",
    "region": "Code de la région (texte).",
    "epci": "SIREN de l'EPCI à fiscalité propre (texte).",
    "type": "Nature juridique de l'EPCI (CC, CA, CU, METRO, MET69).",
    "zone": "Zone : métropole, DROM ou collectivité d'outre-mer.",
}
INDICATORS_SQL = """
SELECT m.niveau, i.code, i.libelle, i.unite, i.source, m.annee
FROM indicateurs i JOIN indicateurs_millesimes m ON m.indicateur = i.code
WHERE m.dernier_millesime = 1
"""
VALUE_TABLES_SQL = """
SELECT t.nom, t.niveau, t.description, c.indicateur, c.colonne_source, i.libelle, i.unite
FROM indicateurs_tables t
JOIN indicateurs_colonnes c ON c.nom_table = t.nom
JOIN indicateurs i ON i.code = c.indicateur
ORDER BY t.nom, i.ordre, i.code
"""
KEY_COLUMNS = {"code_insee": "Code INSEE de la commune (texte).", "siren": "SIREN de l'EPCI (texte).",
               "code": "Code du territoire (texte)."}


def wide_view_metadata(indicators: list[dict]) -> dict[str, dict]:
    """Table metadata of the four wide tables, from the rows of INDICATORS_SQL."""
    tables = {}
    for name, spec in LEVELS.items():
        columns = {"code": f"{'SIREN' if spec.key == 'siren' else 'Code'} du territoire (texte).",
                   "nom": "Nom du territoire."}
        columns.update({c: CONTEXT_COLUMNS[c] for c in spec.view_context})
        for i in indicators:
            if i["niveau"] == name:
                unit = f" ({i['unite']})" if i["unite"] else ""
                columns[i["code"]] = f"{i['libelle']}{unit}, millésime {i['annee']}. Source : {i['source']}."
        tables[spec.wide_view] = {
            "description": (
                f"Indicateurs des {spec.plural} en format large : une ligne par territoire, une colonne par "
                "indicateur (nommée par son code, voir la table indicateurs) à son millésime principal, le plus "
                "récent qui couvre au moins la moitié des territoires (voir indicateurs_millesimes ; Mayotte et une "
                "partie de l'outre-mer ont d'autres années de recensement, dans les tables de valeurs : vue valeurs). "
                "Table régénérée à chaque chargement d'indicateurs ; téléchargeable en CSV."),
            "label_column": "nom",
            "sort_desc": "population_municipale",
            "facets": [c for c in spec.view_context if c != "epci"],
            "columns": columns,
        }
    return tables


def value_table_metadata(rows: list[dict]) -> dict[str, dict]:
    """Table metadata of the value tables (store.py), from the rows of VALUE_TABLES_SQL."""
    tables = {}
    for row in rows:
        key = LEVELS[row["niveau"]].key
        table = tables.setdefault(row["nom"], {
            "description": row["description"],
            "columns": {key: KEY_COLUMNS[key],
                        "annee": "Millésime des valeurs de la ligne (année de référence : voir la source)."},
            "sources": {},
        })
        unit = f" ({row['unite']})" if row["unite"] else ""
        table["columns"][row["indicateur"]] = (f"{row['libelle']}{unit} ; code de l'indicateur (table indicateurs). "
                                               f"Source : colonne {row['colonne_source']}.")
        table["sources"].setdefault(row["colonne_source"], []).append(row["indicateur"])
    for table in tables.values():
        for column, described in table.pop("sources").items():
            table["columns"][column] = (f"Source des valeurs de {', '.join(described)} sur cette ligne "
                                        "(identifiant dans sources_donnees).")
    return tables


async def add_generated_metadata(datasette):
    if DATABASE not in datasette.databases:
        return
    db = datasette.get_database(DATABASE)
    if not await db.table_exists("indicateurs_millesimes"):
        return
    indicators = [dict(row) for row in (await db.execute(INDICATORS_SQL)).rows]
    generated = wide_view_metadata(indicators)
    if await db.table_exists("indicateurs_tables"):
        generated.update(value_table_metadata([dict(row) for row in (await db.execute(VALUE_TABLES_SQL)).rows]))
    if hasattr(datasette, "set_column_metadata"):  # Datasette 1.0: metadata lives in its internal database
        for view, table in generated.items():
            await datasette.set_resource_metadata(DATABASE, view, "description", table["description"])
            for column, text in table["columns"].items():
                await datasette.set_column_metadata(DATABASE, view, column, "description", text)
        return
    # Datasette 0.65: the metadata given at start, extended once here
    tables = datasette._metadata_local.setdefault("databases", {}).setdefault(DATABASE, {}) \
        .setdefault("tables", {})
    for view, table in generated.items():
        tables[view] = {**table, **tables.get(view, {}),
                        "columns": {**table["columns"], **tables.get(view, {}).get("columns", {})}}


class ReadOnlyDict(dict):
    """A dict that refuses changes, so that copying it is pointless: copy.deepcopy returns it as is."""

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    def _read_only(self, *args, **kwargs):
        raise TypeError("métadonnées en lecture seule une fois le serveur démarré (oc_site/datasette_pages/metadata.py)")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _read_only


def freeze(datasette):
    if not isinstance(datasette._metadata_local, ReadOnlyDict):
        datasette._metadata_local = ReadOnlyDict(datasette._metadata_local or {})


async def prepare(datasette):
    """The metadata as the site serves it: generated descriptions added, then read-only. Called once at
    start-up (oc_site.hooks), after the other plugins' start-up and before anything digests the metadata
    (the ETag's site version)."""
    await add_generated_metadata(datasette)
    freeze(datasette)
