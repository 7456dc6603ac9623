"""The ``fraisec`` (and ``fraiseql``) command line: a thin shell over the pipeline stages.

Each command lives in its own module and registers itself on ``app``. Nothing outside this
package imports typer or prints.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer

from fraisec.cli.console import Output, OutputFormat
from fraisec.cli.exit_codes import ExitCode

__all__ = ["app", "main"]

app = typer.Typer(
    name="fraisec",
    help="Schema compiler for PostgreSQL-first API backends (FraiseQL style).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Diagnostics format.")] = OutputFormat.rich,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More output.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and data.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also NO_COLOR).")] = False,
) -> None:
    ctx.obj = Output(fmt=fmt, verbosity=-1 if quiet else verbose, color=not no_color)


COMMAND_MODULES: list[str] = ["init", "compile", "validate", "lint", "diff", "migrate", "check"]


def _register_commands() -> None:
    import importlib

    # One module per command; each has register(app). Add new commands to this list.
    for name in COMMAND_MODULES:
        importlib.import_module(f"fraisec.cli.{name}").register(app)


_register_commands()


def main() -> None:
    """Entry point: user errors exit with documented codes; anything else is a bug (70)."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception:  # noqa: BLE001 - the last line of defence
        sys.stderr.write(
            "fraisec: internal error (this is a bug in fraisec, not in your schema).\n"
            "Please report it with the traceback below at "
            "https://github.com/fraisec/fraisec/issues\n\n"
        )
        traceback.print_exc()
        sys.exit(ExitCode.INTERNAL)
