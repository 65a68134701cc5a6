"""Progress reporting: bars and timed steps on a terminal, nothing but errors otherwise."""

import contextlib
import sys
import time

import click


class Reporter:
    def __init__(self, interactive: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive

    def echo(self, message: str):
        click.echo(message, file=self.stream)

    @contextlib.contextmanager
    def step(self, label: str):
        started = time.monotonic()
        if self.interactive:
            click.echo(f"{label}…", file=self.stream, nl=False)
        yield
        if self.interactive:
            click.echo(f" {time.monotonic() - started:.1f} s", file=self.stream)

    @contextlib.contextmanager
    def bar(self, label: str, length: int):
        """Yield a function advance(n) that moves a progress bar (no-op off a terminal)."""
        if not self.interactive:
            yield lambda n=1: None
            return
        with click.progressbar(length=length, label=label, file=self.stream, show_pos=True) as bar:
            yield bar.update
