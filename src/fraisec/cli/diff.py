"""``fraisec diff FROM TO [--unsafe] [--exit-code]``: print the SQL that turns FROM into TO.

Data (the script, or JSON with ``--format json``) goes to stdout; diagnostics to stderr. Exit
codes: 0 (no changes, or changes printed), 1 (errors), 3 (changes, with ``--exit-code``),
4 (destructive changes refused without ``--unsafe``).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from fraisec.cli.console import Output, OutputFormat
from fraisec.cli.exit_codes import ExitCode
from fraisec.cli.report import emit_json, report
from fraisec.diagnostics import error, has_errors

__all__ = ["register"]


def _read_sides(source: str, target: str, shadow_url: str | None):
    """Both sides at once: each is mostly waiting on PostgreSQL."""
    from concurrent.futures import ThreadPoolExecutor

    from fraisec.catalog.shadow import embedded_server
    from fraisec.diff.sides import catalog_for, is_url

    if shadow_url is None and not (is_url(source) and is_url(target)):
        # Started here, in the main thread: it installs signal handlers and owns the cache lock.
        embedded_server()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(catalog_for, spec, shadow_url=shadow_url) for spec in (source, target)]
        # While PostgreSQL works on the catalogs, load what comes after them.
        import fraisec.diff
        import fraisec.plan
        import fraisec.plan.script  # noqa: F401
        return futures[0].result(), futures[1].result()


def _describe(op) -> str:
    """``drop column public.t.a`` (a column step's key is its table; the id ends with the
    column), ``drop table public.u``."""
    if op.id.startswith("column:") and ":" in op.id[len("column:"):]:
        return f"{op.action} {op.key}.{op.id.rsplit(':', 1)[1]}"
    return f"{op.action} {op.kind} {op.key}"


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)


def diff_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help="Current state: URL, .sql file, directory, schema module or 'empty'.")],
    target: Annotated[str, typer.Argument(metavar="TO", help="Desired state, same forms as FROM.")],
    unsafe: Annotated[bool, typer.Option("--unsafe", help="Allow destructive changes (drops, narrowing type changes).")] = False,
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 3 when there are changes.")] = False,
    shadow_url: Annotated[Optional[str], typer.Option("--shadow-url", help="Server for shadow databases (default: fraisec's embedded PostgreSQL).")] = None,
) -> None:
    """Print the SQL that turns FROM into TO (runs as is with psql -v ON_ERROR_STOP=1 -f)."""
    out = Output.of(ctx)
    import gc

    # A short-lived process building ~10^5 small frozen objects: the cyclic collector would
    # rescan them over and over (it more than doubled the time at 2,000 tables) and frees nothing.
    gc.disable()
    from fraisec.catalog.shadow import CatalogError

    try:
        with out.progress("Reading schemas…"):
            current, desired = _read_sides(source, target, shadow_url)
    except CatalogError as exc:
        report(out, exc.diagnostics)
        raise typer.Exit(ExitCode.ERRORS) from None
    from fraisec.diff import diff  # already loaded by _read_sides, while it waited
    from fraisec.plan import plan
    from fraisec.plan.script import render_script

    result = plan(diff(current, desired), current, desired)
    if has_errors(result.diagnostics):
        report(out, result.diagnostics)
        raise typer.Exit(ExitCode.ERRORS)
    if result.diagnostics and out.format is OutputFormat.rich:
        # Warnings (FSC408) on stderr; JSON carries them in its document, and GitHub
        # annotations would land in the script on stdout.
        report(out, result.diagnostics)
    if result.destructive and not unsafe:
        ops = result.destructive_ops
        listing = "; ".join(_describe(op) for op in ops[:10])
        more = f" (and {len(ops) - 10} more)" if len(ops) > 10 else ""
        report(out, [error("FSC407", f"the changes are destructive: {listing}{more}",
                           hint="Review them, then run again with --unsafe.")])
        raise typer.Exit(ExitCode.DESTRUCTIVE)
    script = render_script(result, markers=True)
    if out.format is OutputFormat.json:
        data = result.to_data()
        data.pop("diagnostics", None)  # the envelope's, redacted
        emit_json(out, result.diagnostics, **data, script=script)
    else:
        out.data(script)
    if exit_code and script:
        raise typer.Exit(ExitCode.CHANGES)
