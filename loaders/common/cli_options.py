"""What every `oc` command shares: the --db option and the French failure message."""

from pathlib import Path

import click

from . import click_fr

click_fr.install()  # before any command is declared: Click computes some help texts at declaration

DEFAULT_DB = "oc.db"
SUBCOMMAND_METAVAR = "COMMANDE [ARGUMENTS]..."


def db_option(help_text: str, exists: bool = False):
    """The --db option of a command, with its own help sentence."""
    return click.option("--db", "db_path", type=click.Path(dir_okay=False, exists=exists, path_type=Path),
                        default=DEFAULT_DB, show_default=True, help=help_text)


def fail(message: str, db: Path | None = None):
    """Stop the command with a French message (exit code 1), saying that an existing oc.db is untouched."""
    if db is not None and Path(db).exists():
        message += f"\nLa base existante {db} n'a pas été modifiée."
    raise click.ClickException(message)
