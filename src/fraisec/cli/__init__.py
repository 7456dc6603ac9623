"""The ``fraisec`` (and ``fraiseql``) command line: a thin shell over the pipeline stages.

Each command lives in its own module and registers itself on ``app``. Nothing outside this
package imports typer or prints.
"""

from __future__ import annotations

import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from fraisec.cli.console import Output, OutputFormat
from fraisec.cli.exit_codes import ExitCode

__all__ = ["app", "main"]

# One module per command (``cli/<name>.py`` with ``register(app)``, registering the command
# ``<name>``). Add new commands to this list.
COMMAND_MODULES: list[str] = ["init", "compile", "validate", "lint", "diff", "check", "migrate"]


class _PlainValue:
    """Coercion of one parameter whose value is already what its plain annotation says.

    Typer coerces every parameter value through a pydantic ``TypeAdapter``; importing pydantic
    and building the adapters costs ~0.2 s on every run, more than the rest of fraisec's start-up
    together, to turn a ``str`` into the same ``str``. A value that already has the annotated
    type (a ``str`` for ``str``, a ``bool`` for ``bool``, an ``int`` for an unconstrained
    ``int``, a member for an Enum) is passed through; anything else goes to Typer's own
    coercion, so errors are unchanged. Installed through Typer's private ``_runtime_param``
    hook; a parameter that does not look as expected is left to Typer. A ``Path`` is made from
    the ``str`` given, as Typer does."""

    def __init__(self, param: Any) -> None:
        self.param = param
        self.annotation = param.type_descriptor.annotation

    @classmethod
    def fits(cls, param: Any) -> bool:
        info = getattr(param, "parameter_info", None) or getattr(
            getattr(param, "type_descriptor", None), "parameter_info", None)
        if info is None or getattr(param, "_runtime_param", False) is not None:
            return False  # not a Typer parameter as we know it: leave it alone
        annotation = param.type_descriptor.annotation
        if getattr(info, "parser", None) is not None or param.multiple or param.nargs != 1:
            return False
        if annotation is int:
            return getattr(info, "min", None) is None and getattr(info, "max", None) is None
        return annotation in (str, bool, Path) or (isinstance(annotation, type) and issubclass(annotation, Enum))

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return None  # as Typer does; a missing required value is reported after this
        ann = self.annotation
        if type(value) is ann or (issubclass(ann, (Enum, Path)) and isinstance(value, ann)):
            return value
        if ann is Path and isinstance(value, str):
            return Path(value)  # what Typer's coercion makes of it
        from typer._coercion import build_runtime_param

        return build_runtime_param(param.type_descriptor).coerce(value, param=param, ctx=ctx)


def _plain(param: Any) -> Any:
    if param is not None and _PlainValue.fits(param):
        param._runtime_param = _PlainValue(param)
    return param


def _plain_values(command: Any, ctx: Any = None) -> Any:
    """``command`` (and its subcommands) with :class:`_PlainValue` coercion where it fits.

    With ``ctx``, also its ``--help`` option, which click creates on demand for a context."""
    params = list(getattr(command, "params", ()))
    if ctx is not None and hasattr(command, "get_help_option"):
        params.append(command.get_help_option(ctx))
    for param in params:
        _plain(param)
    for sub in getattr(command, "commands", {}).values():
        _plain_values(sub, ctx)  # a subcommand's --help too (click caches it per command)
    return command


class _LazyCommands(TyperGroup):
    """The top-level group: a command's module is imported only when that command is looked up.

    Importing every command module at start cost each run the imports of all the others (the
    project loader pulls in pydantic, for one); ``fraisec diff`` should pay only for itself.
    ``--help`` still lists every command (it looks each one up)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _plain_values(self)

    def get_help_option(self, ctx: typer.Context) -> Any:
        return _plain(super().get_help_option(ctx))

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(dict.fromkeys([*COMMAND_MODULES, *super().list_commands(ctx)]))

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            self.add_command(_plain_values(_load_command(cmd_name), ctx), cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in COMMAND_MODULES:
            # An unknown name: the "Did you mean …?" suggestion looks at the loaded commands.
            for name in COMMAND_MODULES:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


def _load_command(name: str) -> Any:
    import importlib

    # Registered on a Typer of its own, then converted the way Typer converts ``app``'s commands.
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    importlib.import_module(f"fraisec.cli.{name}").register(holder)
    return typer.main.get_group(holder).commands[name]


app = typer.Typer(
    cls=_LazyCommands,
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
