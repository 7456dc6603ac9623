"""``fraisec check``: the CI gate.

    validation of the schema module
  + lint of the hand-written ``db/*.sql`` and of the migration files (one set)
  + the migrations directory intact (names, versions, ``fraisec.sum``, readable SQL)
  + the migration history, replayed into the embedded shadow, equals the schema

Exit codes: 0 all good, 1 error diagnostics (validation, lint, checksums, a migration that does
not replay), 3 the history and the schema differ (the missing migration is listed). With
``--format github`` every finding is a GitHub annotation on its file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from fraisec.cli.common import output, project_or_exit, schema_ref
from fraisec.cli.exit_codes import ExitCode
from fraisec.cli.report import report
from fraisec.diagnostics import Diagnostic, has_errors

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)


def check_command(
    ctx: typer.Context,
    schema: Annotated[Optional[str], typer.Argument(
        help="Schema module (default: from fraisec.toml, else schema.py).")] = None,
    shadow_url: Annotated[Optional[str], typer.Option(
        "--shadow-url", help="Server for scratch databases (default: fraisec's embedded "
                             "PostgreSQL).")] = None,
) -> None:
    """CI gate: validate + lint + checksums intact + the replayed migrations equal the schema
    + their catalog passes the lint rules."""
    from fraisec.api import load_ir
    from fraisec.catalog.shadow import CatalogError
    from fraisec.lint import lint_files
    from fraisec.migrations.apply import MigrationError, load_directory
    from fraisec.migrations.drift import check_drift

    out = output(ctx)
    project = project_or_exit(out)
    ref = schema_ref(schema, project)
    ir, diagnostics = load_ir(ref)
    files, _parsed, directory_problems = load_directory(project.migrations_dir)
    diagnostics += directory_problems
    sql_paths = _sql_files(project.db_dir) + [str(f.path) for f in files]
    config = _lint_config(ir)
    linted = lint_files(sql_paths, config) if sql_paths else []
    diagnostics += linted
    drift_found = False
    if not project.migrations_dir.is_dir():
        out.status(f"check: no {project.migrations_dir} directory: the migrations step is "
                   "skipped (create it, or run `fraisec migrate diff init`)")
    elif ir is not None and not has_errors(diagnostics):
        with out.progress("replaying the migrations into the shadow database"):
            try:
                drift = check_drift(ref, project.db_dir, project.migrations_dir,
                                    shadow_url=shadow_url, schema=ir)
                diagnostics += list(drift.diagnostics)
                drift_found = not drift.clean
                # Seeded rows are data, which the catalogs do not show: compared with the
                # seeds the migrations record.
                from fraisec.migrations.external import external_block
                from fraisec.migrations.seeds import seed_changes

                pending = seed_changes(ir, [f.text for f in files]).tables
                if external_block(ir, [f.text for f in files]):  # its check and grants
                    pending += ("the external user table's grants",)
                drift_found = drift_found or bool(pending)
                if out.format.value == "rich":
                    for what in pending:
                        out.data(f"~ {what if what.startswith('the ') else 'seeded rows of ' + what} "
                                 "differ from the migrations'\n")
                if drift.current is not None:
                    diagnostics += _audit(drift.current, sql_paths, config, linted,
                                          str(project.migrations_dir))
                if out.format.value == "rich":
                    for line in drift.differences:
                        out.data(f"{line}\n")
            except (MigrationError, CatalogError) as exc:
                diagnostics += list(exc.diagnostics)
    if project.split and ir is not None and not has_errors(diagnostics):
        found, tenant_drift = _tenant_part(ir, ref, project, shadow_url)
        diagnostics += found
        drift_found = drift_found or tenant_drift
    _finish(out, diagnostics, drift_found, len(files) if project.migrations_dir.is_dir() else None,
            len(sql_paths))


def _tenant_part(ir, ref: str, project, shadow_url: str | None) -> tuple[list[Diagnostic], bool]:
    """Schema per tenant: the tenant files are fit for every tenant schema (FSC539) and, replayed
    in a scratch tenant schema, equal the compiled tenant part (FSC513 otherwise)."""
    from fraisec.catalog.shadow import CatalogError
    from fraisec.desired import desired_sources
    from fraisec.diagnostics import error
    from fraisec.migrations.apply import MigrationError
    from fraisec.migrations.tenant_diff import tenant_diff
    from fraisec.migrations.tenant_files import tenant_file_problems
    from fraisec.render.strategy import render_parts

    directory = project.tenant_migrations_dir
    if not directory.is_dir():
        return [], False
    problems = tenant_file_problems(directory)
    parts, more = render_parts(ir, project.strategy)
    shared, found = desired_sources(ref, project.db_dir, ir, project.strategy)
    if problems or parts is None or shared is None:
        return [*problems, *more, *found], False
    try:
        outcome = tenant_diff("check", parts.tenant, shared, directory, shadow_url=shadow_url,
                              unsafe=True, write=False, verify=False)
    except (MigrationError, CatalogError) as exc:
        return list(exc.diagnostics), False
    if not outcome.changed:
        return list(outcome.diagnostics), False
    left = [f"{op.action} {op.kind} {op.key}" for op in outcome.plan.ops if op.statements]
    return [*outcome.diagnostics, error(
        "FSC513", f"the tenant migrations ({directory}) and the schema's tenant part differ in "
                  f"{len(left)} place(s): " + "; ".join(left[:5]),
        hint="Run `fraisec migrate diff NAME`: it writes the missing tenant migration.")], True


def _lint_config(ir):
    """What the schema says about the API: its role, its exposed schema, its tenant columns."""
    from fraisec.lint import DEFAULT_TENANT_COLUMNS, LintConfig

    if ir is None:
        return LintConfig()
    columns = [e.field(e.entity.tenant_field).column for e in ir.entities
               if e.entity.tenant_field and e.field(e.entity.tenant_field) is not None]
    return LintConfig(tenant_columns=tuple(dict.fromkeys([*DEFAULT_TENANT_COLUMNS, *columns])),
                      api_roles=(ir.settings.api_role,),
                      exposed_schemas=(ir.settings.schema_name,))


def _audit(catalog, sql_paths: list[str], config, linted: list[Diagnostic],
           migrations_dir: str) -> list[Diagnostic]:
    """The lint rules on the catalog the migrations build (findings the linter already made
    on the same objects are not repeated)."""
    from fraisec.lint.catalog import audit_catalog

    sources = []
    for path in sql_paths:
        try:
            sources.append((path, Path(path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue  # already an FSC300 of the linter
    return audit_catalog(catalog, sources, config, fallback_file=migrations_dir, already=linted)


def _sql_files(directory: Path) -> list[str]:
    return [str(p) for p in sorted(directory.glob("*.sql"))] if directory.is_dir() else []


def _finish(out, diagnostics: list[Diagnostic], drift_found: bool, migrations: int | None,
            sql_files: int) -> None:
    report(out, diagnostics)
    errors = [d for d in diagnostics if d.severity.value == "error" and d.code != "FSC513"]
    if errors:
        out.status(f"check: {len(errors)} error{'s' if len(errors) != 1 else ''}")
        raise typer.Exit(ExitCode.ERRORS)
    if drift_found:
        out.status("check: the migrations do not produce the schema; run "
                   "`fraisec migrate diff NAME`")
        raise typer.Exit(ExitCode.CHANGES)
    checked = ("no migrations directory" if migrations is None else
               f"{migrations} migration{'s' if migrations != 1 else ''} intact and equal to the schema")
    out.status(f"check: ok (schema valid, {sql_files} SQL file{'s' if sql_files != 1 else ''} "
               f"linted, {checked})")
