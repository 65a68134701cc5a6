"""`oc indicateurs …`: load a producer file through its declarative mapping into an existing oc.db."""

from pathlib import Path

import click

from . import mappings
from ..common.errors import SourceError


@click.group(name="indicateurs")
def indicateurs_group():
    """Indicateurs : chargement de fichiers de producteurs par mapping déclaratif."""


@indicateurs_group.command(name="charger")
@click.argument("mapping")
@click.argument("source", required=False)
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default="oc.db",
              show_default=True, help="Base oc.db existante à compléter (remplacée seulement en cas de succès).")
def charger(mapping, source, db_path):
    """Charge SOURCE (fichier local ou URL http(s)) selon MAPPING (fichier YAML ou nom dans data/mappings).

    Sans SOURCE : le fichier_local du mapping s'il est présent, sinon les fichiers de son archive épinglée
    (critères de la DGCL), sinon son adresse de téléchargement.

    Exemple : oc indicateurs charger dgcl_criteres_dgf criteres_repartition_2022.csv
    """
    try:
        parsed = mappings.parse_mapping(mappings.mapping_path(mapping))
        reports = mappings.load_into_db(db_path, parsed, source)
    except SourceError as e:
        message = f"Erreur : {e}"
        if Path(db_path).exists():
            message += f"\nLa base existante {db_path} n'a pas été modifiée."
        raise click.ClickException(message) from e
    for report in reports:
        for line in report.lines():
            click.echo(line)


@indicateurs_group.command(name="mappings")
def list_mappings():
    """Liste les mappings de data/mappings et l'état de leur fichier local."""
    for path in sorted(mappings.DEFAULT_DIR.glob("*.yml")):
        try:
            mapping = mappings.parse_mapping(path)
        except SourceError as e:
            click.echo(f"{path.name} : invalide — {e}")
            continue
        local = mapping.local_file()
        state = "fichier local " + ("présent" if local and local.exists() else "absent")
        if mapping.archive and not (local and local.exists()):
            state = f"archive épinglée {mapping.archive['paquet']}"
        click.echo(f"{path.stem} : {mapping.producteur} — {mapping.titre} ({state})")
