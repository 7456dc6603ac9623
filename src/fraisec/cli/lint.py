"""``fraisec lint FILE.sql… [--squawk]``: the security and performance linter for SQL files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from fraisec.cli.exit_codes import ExitCode
from fraisec.cli.report import report


def register(app: typer.Typer) -> None:
    app.command("lint")(lint_command)


def lint_command(
    ctx: typer.Context,
    files: Annotated[List[Path], typer.Argument(
        help="SQL files (or directories of *.sql), linted together as one set.")],
    squawk: Annotated[bool, typer.Option(
        "--squawk", help="Also report squawk's lock-hazard findings (pip install squawk-cli).")] = False,
    tenant_column: Annotated[Optional[List[str]], typer.Option(
        "--tenant-column", help="A column that marks a table as tenant-scoped "
                                "(repeatable; replaces the defaults).")] = None,
    exposed_schema: Annotated[Optional[List[str]], typer.Option(
        "--exposed-schema", help="A schema the API exposes: SECURITY DEFINER functions there "
                                 "are reported (FSC322; repeatable).")] = None,
    api_role: Annotated[Optional[List[str]], typer.Option(
        "--api-role", help="A role API requests run as, besides the roles the policies name "
                           "(FSC319; repeatable).")] = None,
) -> None:
    """Lint hand-written SQL: RLS, views, SECURITY DEFINER functions, tenant indexes.

    Exits 1 when there is an error finding, 0 otherwise.

    Silence a finding with `-- fraisec: ignore FSC3xx` on its line (or the line before it),
    or a whole file with `-- fraisec: ignore-file FSC3xx`. See docs/lint.md.
    """
    from fraisec.lint import LintConfig, lint_files
    from fraisec.lint.squawk import squawk_lint

    out = ctx.obj
    paths = _expand(files)
    if not paths:
        out.status("fraisec lint: no .sql files given")
        raise typer.Exit(ExitCode.USAGE)
    config = LintConfig(
        tenant_columns=tuple(tenant_column) if tenant_column else LintConfig().tenant_columns,
        exposed_schemas=tuple(exposed_schema or ()), api_roles=tuple(api_role or ()))
    diagnostics = lint_files(paths, config)
    if squawk:
        diagnostics += squawk_lint(paths)
    report(out, diagnostics)
    errors = sum(d.severity.value == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    out.status(f"lint: {len(paths)} file{'s' if len(paths) != 1 else ''}, "
               f"{errors} error{'s' if errors != 1 else ''}, "
               f"{warnings} warning{'s' if warnings != 1 else ''}")
    raise typer.Exit(ExitCode.ERRORS if errors else ExitCode.OK)


def _expand(files: list[Path]) -> list[str]:
    """Directories stand for their *.sql files (sorted); names are kept as the user gave them."""
    out: list[str] = []
    for f in files:
        if f.is_dir():
            out += [str(p) for p in sorted(f.glob("*.sql"))]
        else:
            out.append(str(f))
    return out
