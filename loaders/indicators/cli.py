"""`oc indicators …`: load a producer file through its declarative mapping into an existing oc.db."""

import click

from ..common.cli_options import SUBCOMMAND_METAVAR, db_option, fail
from ..common.errors import SourceError
from ..producers import lock as producer_lock
from .mappings.load import load_into_db
from .mappings.locate import Located, locate
from .mappings.spec import DEFAULT_DIR, mapping_path, parse_mapping


@click.group(name="indicators", subcommand_metavar=SUBCOMMAND_METAVAR)
def indicators_group():
    """Indicateurs : chargement de fichiers de producteurs par mapping déclaratif."""


@indicators_group.command(name="load")
@click.argument("mapping")
@click.argument("source", required=False)
@db_option("Base oc.db existante à compléter (remplacée seulement en cas de succès).")
@click.option("--year", type=click.IntRange(1800, 2100),
              help="Année des valeurs, pour un mapping qui la tient du fichier épinglé (annee: millesime) "
                   "quand SOURCE est donné.")
def load(mapping, source, db_path, year):
    """Charge SOURCE (fichier local ou URL http(s)) selon MAPPING (fichier YAML ou nom dans data/mappings).

    Sans SOURCE : le fichier_local du mapping s'il est présent, sinon les fichiers de son archive épinglée
    (critères de la DGCL 2020-2022), sinon son fichier épinglé en cache (oc sources), sinon son adresse de
    téléchargement.

    \b
    Exemple :
        oc indicators load ofgl_comptes_communes ofgl-base-communes.csv --db oc.db
        oc indicators load dgcl_criteres_dgf criteres_repartition_2022.csv
        oc indicators load dgcl_criteres_communes criteres_repartition_2024.csv --year 2024
    """
    try:
        parsed = parse_mapping(mapping_path(mapping))
        reports = load_into_db(db_path, parsed, source, vintage=str(year) if year else None)
    except SourceError as e:
        fail(f"Erreur : {e}", db_path)
    for report in reports:
        for line in report.lines():
            click.echo(line)


@indicators_group.command(name="mappings")
def list_mappings():
    """Liste les mappings de data/mappings et l'état de leur fichier (local, ou épinglé et en cache).

    \b
    Exemple :
        oc indicators mappings
    """
    entries, cache = producer_lock.read(), producer_lock.cache_dir()
    for path in sorted(DEFAULT_DIR.glob("*.yml")):
        try:
            mapping = parse_mapping(path)
        except SourceError as e:
            click.echo(f"{path.name} : invalide — {e}")
            continue
        local = mapping.local_file()
        if mapping.archive and not (local and local.exists()):
            state = f"archive épinglée {mapping.archive['paquet']}"
        else:
            found = locate(mapping, entries, cache, verify=False)
            state = f"fichier {found.origin}" if isinstance(found, Located) else found
        click.echo(f"{path.stem} : {mapping.producteur} — {mapping.titre} ({state})")
