"""The `oc` command speaks French and documents itself: every command has help text and an example."""

import click
import pytest
from click.testing import CliRunner

from loaders.cli import cli

ENGLISH = ("Usage:", "Show this message", "Show the version", "Error:", "Try '", "No such option", "Missing argument",
           "Invalid value", "default:", "does not exist")


def commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in commands(cli)], ids=" ".join)
def test_every_command_has_french_help_with_an_example(path):
    command = cli
    for name in path:
        command = command.commands[name]
    assert command.help and command.help.strip(), f"oc {' '.join(path)} n'a pas d'aide"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Utilisation :" in result.output
    if not isinstance(command, click.Group):
        assert "Exemple" in result.output, f"oc {' '.join(path)} : pas d'exemple dans l'aide"
    assert not [word for word in ENGLISH if word in result.output], result.output


@pytest.mark.parametrize("args, french", [
    (["build", "--option-inconnue"], "Option inconnue"),
    (["commande-inconnue"], "Commande inconnue"),
    (["harvest", "--timeout", "x"], "n'est pas un nombre valide"),
    (["hash", "--db", "/chemin/absent.db"], "n'existe pas"),
    (["indicators", "load"], "Argument manquant"),
    (["--version"], "oc "),
])
def test_errors_and_version_are_french(args, french):
    result = CliRunner().invoke(cli, args)
    assert french in result.output
    assert not [word for word in ENGLISH if word in result.output], result.output
