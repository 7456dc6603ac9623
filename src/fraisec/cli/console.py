"""The only code that prints. Data goes to stdout, status and diagnostics to stderr."""

from __future__ import annotations

import os
import sys
from enum import Enum

from rich.console import Console

__all__ = ["Output", "OutputFormat"]


class OutputFormat(str, Enum):
    rich = "rich"
    json = "json"
    github = "github"


class Output:
    """Holds the global options (-v/-q, --no-color, --format) and the two consoles."""

    def __init__(self, fmt: OutputFormat = OutputFormat.rich, verbosity: int = 0,
                 color: bool = True) -> None:
        self.format = fmt
        self.verbosity = verbosity
        no_color = not color or "NO_COLOR" in os.environ
        self.err = Console(stderr=True, no_color=no_color, highlight=False,
                           force_terminal=False if no_color else None, soft_wrap=True)

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    @property
    def interactive(self) -> bool:
        """Progress displays only on a terminal, never in CI or with -q."""
        return (not self.quiet and self.err.is_terminal and not os.environ.get("CI")
                and self.format is OutputFormat.rich)

    def data(self, text: str) -> None:
        """Write data (SQL, JSON) to stdout exactly as given."""
        sys.stdout.write(text)
        sys.stdout.flush()

    def status(self, message: str) -> None:
        """A status line on stderr, silenced by -q. Never interprets markup in user text."""
        if not self.quiet:
            self.err.print(message, markup=False)

    def detail(self, message: str) -> None:
        """Extra information shown with -v."""
        if self.verbosity > 0:
            self.err.print(message, markup=False, style="dim")

    def progress(self, description: str):
        """A spinner on a terminal; a no-op context manager elsewhere."""
        if self.interactive:
            return self.err.status(description)
        import contextlib

        return contextlib.nullcontext()
