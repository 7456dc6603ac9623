"""The only code that prints. Data goes to stdout, status and diagnostics to stderr."""

from __future__ import annotations

import os
import sys
from enum import Enum

from rich.console import Console

from fraisec.redact import RedactingStream

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
        self.command = ""  # "validate", "migrate apply", …: named in JSON documents
        # What a Ctrl-C now would leave behind, said in the one line printed for it.
        self.on_interrupt = "nothing was changed"
        no_color = not color or "NO_COLOR" in os.environ
        # Every message passes fraisec.redact on its way out: a password given on the command
        # line never reaches the terminal, whatever quoted it (libpq included).
        self.err = Console(file=RedactingStream(lambda: sys.stderr), no_color=no_color,
                           highlight=False,
                           force_terminal=False if no_color else None, soft_wrap=True)

    @classmethod
    def of(cls, ctx) -> "Output":
        """The global options of ``ctx``'s run, naming the command that is running."""
        out = ctx.obj if isinstance(ctx.obj, Output) else cls()
        names = []
        while ctx is not None and ctx.parent is not None:
            names.append(ctx.info_name or "")
            ctx = ctx.parent
        out.command = " ".join(reversed(names))
        return out

    @property
    def json(self) -> bool:
        return self.format is OutputFormat.json

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    @property
    def interactive(self) -> bool:
        """Progress displays only on a terminal, never in CI or with -q."""
        return (not self.quiet and self.err.is_terminal and not os.environ.get("CI")
                and self.format is OutputFormat.rich)

    def data(self, text: str) -> None:
        """Write data (SQL, JSON) to stdout exactly as given.

        Never redacted (it could rewrite SQL): diagnostics in it are, by report/emit_json."""
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
