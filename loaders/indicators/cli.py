"""`oc indicators …`: load a producer file through its declarative mapping into an existing oc.db."""

import click

from ..common.cli_options import SUBCOMMAND_METAVAR, db_option, fail
from ..common.errors import SourceError
from . import mappings


@click.group(name="indicators", subcommand_metavar=SUBCOMMAND_METAVAR)
def indicators_group():
    """Indicateurs : chargement de fichiers de producteurs par mapping déclaratif."""


@indicators_group.command(name="load")
@click.argument("mapping")
@click.argument("source", required=False)
@db_option("Base oc.db existante à compléter (remplacée seulement en cas de succès).")
def load(mapping, source, db_path):
    """Charge SOURCE (fichier local ou URL http(s)) selon MAPPING (fichier YAML ou nom dans data/mappings).

    Sans SOURCE : le fichier_local du mapping s'il est présent, sinon son adresse de téléchargement.

    \b
    Exemple :
        oc indicators load ofgl_comptes_communes ofgl-base-communes.csv --db oc.db
    """
    try:
        parsed = mappings.parse_mapping(mappings.mapping_path(mapping))
        report = mappings.load_into_db(db_path, parsed, source)
    except SourceError as e:
        fail(f"Erreur : {e}", db_path)
    for line in report.lines():
        click.echo(line)


@indicators_group.command(name="mappings")
def list_mappings():
    """Liste les mappings de data/mappings et l'état de leur fichier local.

    \b
    Exemple :
        oc indicators mappings
    """
    for path in sorted(mappings.DEFAULT_DIR.glob("*.yml")):
        try:
            mapping = mappings.parse_mapping(path)
        except SourceError as e:
            click.echo(f"{path.name} : invalide — {e}")
            continue
        local = mapping.local_file()
        state = "présent" if local and local.exists() else "absent"
        click.echo(f"{path.stem} : {mapping.producteur} — {mapping.titre} (fichier local {state})")
