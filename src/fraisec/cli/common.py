"""Helpers shared by commands: the project, the schema reference, diagnostics → exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from fraisec.cli.console import Output
from fraisec.cli.exit_codes import ExitCode
from fraisec.cli.report import report
from fraisec.diagnostics import Diagnostic, error, has_errors
from fraisec.project import Project, ProjectError, find_project

__all__ = ["DirOpt", "HistoryOpt", "LockOpt", "RegistryOpt", "db_dir_for", "finish", "output",
           "project_or_exit", "schema_ref"]

# Options several command groups share (migrate, tenant), declared once so that they read alike.
DirOpt = Annotated[Optional[Path], typer.Option(
    "--dir", help="Migrations directory (default: from fraisec.toml, else ./migrations).")]
HistoryOpt = Annotated[str, typer.Option(
    "--history-schema", help="Schema holding the history table.")]
LockOpt = Annotated[float, typer.Option(
    "--lock-timeout", help="Seconds to wait for another applier to finish before giving up "
                           "(exit 5).")]
RegistryOpt = Annotated[Optional[Path], typer.Option(
    "--registry", help="The tenant registry (default: from fraisec.toml, else ./tenants.toml).")]


def output(ctx: typer.Context) -> Output:
    return Output.of(ctx)


def project_or_exit(out: Output) -> Project:
    try:
        return find_project()
    except ProjectError as exc:
        report(out, [error("FSC100", f"invalid fraisec.toml: {exc}", None,
                           hint="Fix the file; see docs/configuration.md.")])
        raise typer.Exit(ExitCode.ERRORS) from None


def schema_ref(given: str | None, project: Project) -> str:
    return given if given is not None else project.schema_path_or_module()


def db_dir_for(given: str | None, project: Project) -> Path:
    """Hand-written SQL lives in the db/ directory of the project that holds the schema file."""
    if given is not None and given.endswith(".py"):
        try:
            return find_project(Path(given).resolve().parent).db_dir
        except ProjectError:
            pass
    return project.db_dir


def finish(out: Output, diagnostics: list[Diagnostic]) -> None:
    """Report diagnostics; exit 1 when any is an error.

    With ``--format json`` and no error nothing is printed here: the command's success
    document (:func:`fraisec.cli.report.emit_json`) carries the warnings, one document per run."""
    if out.json:
        if has_errors(diagnostics):
            report(out, diagnostics)
            raise typer.Exit(ExitCode.ERRORS)
        return
    if diagnostics:
        report(out, diagnostics)
    if has_errors(diagnostics):
        raise typer.Exit(ExitCode.ERRORS)


def write_artifacts(out: Output, artifacts: dict[str, str], directory: Path) -> list[str]:
    """Write the files; their paths, as written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(artifacts):
        path = directory / name
        path.write_text(artifacts[name], encoding="utf-8")
        out.status(f"wrote {path}")
        written.append(str(path))
    return written
