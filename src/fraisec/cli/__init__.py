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
COMMAND_MODULES: list[str] = ["init", "compile", "validate", "lint", "diff", "check", "migrate",
                              "explain", "tenant"]


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
    if param is not None and getattr(param, "count", False):
        param.display_type_rich = _counter  # -v, -vv: not an <int> to type
    elif param is not None and getattr(param, "is_flag", False):
        param.display_type_rich = _no_type  # a flag takes no value: no "<bool>" after it
    return param


def _no_type(ctx: Any = None) -> None:
    return None


def _counter(ctx: Any = None) -> str:
    return "<counter>"


# The group's options, also accepted after the command (`fraisec diff A B --format json`).
_GLOBAL_FLAGS = frozenset({"-q", "--quiet", "-v", "--verbose", "--no-color"})
_GLOBAL_WITH_VALUE = "--format"


def _is_global(arg: str) -> bool:
    return (arg in _GLOBAL_FLAGS or arg.startswith(_GLOBAL_WITH_VALUE + "=")
            or (len(arg) > 1 and arg[0] == "-" and arg[1] != "-" and set(arg[1:]) <= {"v", "q"}))


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the global options found after the command moved in front of it.

    Nothing after ``--`` moves, and no command has an option of the same name, so a
    command's own arguments are never taken."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] == _GLOBAL_WITH_VALUE else 1
    if i >= len(args) or args[i] == "--":
        return list(args)
    moved: list[str] = []
    kept: list[str] = []
    rest = args[i + 1:]
    j = 0
    while j < len(rest):
        arg = rest[j]
        if arg == "--":
            kept += rest[j:]
            break
        if arg == _GLOBAL_WITH_VALUE and j + 1 < len(rest):
            moved += [arg, rest[j + 1]]
            j += 2
            continue
        (moved if _is_global(arg) else kept).append(arg)
        j += 1
    return [*args[:i], *moved, args[i], *kept]


def _plain_values(command: Any, ctx: Any = None) -> Any:
    """``command`` (and its subcommands) with :class:`_PlainValue` coercion where it fits.

    With ``ctx``, also its ``--help`` option, which click creates on demand for a context."""
    params = list(getattr(command, "params", ()))
    if ctx is not None and hasattr(command, "get_help_option"):
        params.append(command.get_help_option(ctx))
    for param in params:
        _plain(param)
    if hasattr(command, "get_help_option") and not isinstance(command, _LazyCommands):
        # Each context makes its own --help option: tidy it as it is made (no "<bool>").
        made = command.get_help_option
        command.get_help_option = lambda c, _made=made: _plain(_made(c))
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

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        # Every password on the command line (or in FRAISEC_DATABASE_URL) is known before any
        # command runs, so that no output, however it quotes one, can show it.
        from fraisec.redact import register_environment, register_secrets

        register_secrets(args)
        register_environment()
        return super().parse_args(ctx, hoist_global_options(args))

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(dict.fromkeys([*COMMAND_MODULES, *super().list_commands(ctx)]))

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            self.add_command(_plain_values(_load_command(cmd_name), ctx), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # One line saying what the interruption left, then the shell's 130 (Typer would
            # exit 130 silently).
            note = ctx.obj.on_interrupt if isinstance(ctx.obj, Output) else "nothing was changed"
            sys.stderr.write(f"fraisec: interrupted: {note}\n")
            raise typer.Exit(130) from None

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


def _print_version(value: bool) -> None:
    if value:
        from fraisec import __version__

        sys.stdout.write(f"fraisec {__version__}\n")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _global_options(
    ctx: typer.Context,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Diagnostics format.")] = OutputFormat.rich,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, show_default=False,
                                         help="More output; repeat for more (-vv).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and data.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also NO_COLOR).")] = False,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="Print fraisec's version and exit.")] = False,
) -> None:
    """Global options go before the command or after it (``fraisec check --format json``)."""
    ctx.obj = Output(fmt=fmt, verbosity=-1 if quiet else verbose, color=not no_color)
    # Named in JSON documents; commands that call Output.of(ctx) refine it ("migrate apply").
    ctx.obj.command = ctx.invoked_subcommand or ""


def main() -> None:
    """Entry point: user errors exit with documented codes; anything else is a bug (70)."""
    from fraisec.redact import RedactingStream, register_environment, register_secrets

    # Before click parses anything: its usage errors quote arguments (on stderr), and
    # tracebacks quote whatever they quote. stdout is data, left as it is (see RedactingStream).
    register_secrets(sys.argv[1:])
    register_environment()
    err = sys.stderr
    sys.stderr = RedactingStream(lambda: err)  # type: ignore[assignment]
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:  # while Typer itself was starting or ending
        sys.stderr.write("fraisec: interrupted: nothing was changed\n")
        sys.exit(130)
    except Exception:  # noqa: BLE001 - the last line of defence
        sys.stderr.write(
            "fraisec: internal error (this is a bug in fraisec, not in your schema).\n"
            "Please report it with the traceback below at "
            "https://github.com/fraisec/fraisec/issues\n\n"
        )
        traceback.print_exc()
        sys.exit(ExitCode.INTERNAL)
