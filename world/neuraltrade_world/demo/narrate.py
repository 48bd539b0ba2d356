"""Where the demo's story goes: stdout, one flushed line at a time, from two threads.

Three voices, told apart by their indent: headings at the margin, the demo's own
words two spaces in (`>>` when the demo itself changes the world), and the CLI's
lines behind a `|`. Styles show only on a terminal (click strips them otherwise).
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

import click

CLI_PREFIX = "    | "


class Narrator:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._lock = threading.Lock()

    def _echo(self, text: str) -> None:
        with self._lock:
            click.echo(text, file=self.out)
            self.out.flush()

    def title(self, text: str) -> None:
        self._echo(click.style(text, bold=True))

    def heading(self, text: str) -> None:
        self._echo("")
        self._echo(click.style(text, bold=True))

    def say(self, text: str = "") -> None:
        self._echo(f"  {text}" if text else "")

    def field(self, name: str, text: str) -> None:
        """`  name        text`: the setup's facts, aligned."""
        self._echo(f"  {name:<13}{text}")

    def command(self, shown: str) -> None:
        self._echo(click.style(f"  $ {shown}", fg="cyan"))

    def cli(self, text: str) -> None:
        self._echo(f"{CLI_PREFIX}{text}")

    def act(self, text: str) -> None:
        """The demo itself changes the world (an alarm): stands out from the CLI's lines."""
        self._echo(click.style(f"  >> demo: {text}", fg="yellow", bold=True))

    def good(self, text: str) -> None:
        self._echo(click.style(f"  {text}", fg="green"))

    def bad(self, text: str) -> None:
        self._echo(click.style(f"  {text}", fg="red", bold=True))
