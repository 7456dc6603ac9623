"""``fraisec validate [SCHEMA] [--database URL]``: every diagnostic, nothing written."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from fraisec.cli.common import db_dir_for, finish, output, project_or_exit, schema_ref
from fraisec.cli.report import emit_json
from fraisec.diagnostics import error, has_errors


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)


NOT_CHECKED = ("hand-written sql_source functions and views were not checked: no db/ directory "
               "and no --database")


def validate_command(
    ctx: typer.Context,
    schema: Annotated[Optional[str], typer.Argument(help="Schema module: a .py path or a dotted name "
                                                         "(default: from fraisec.toml, else schema.py).")] = None,
    database: Annotated[Optional[str], typer.Option("--database", help="Also check the schema's "
                                                    "hand-written sql_source functions and views in this "
                                                    "database (a postgresql:// URL).")] = None,
) -> None:
    """Load and validate the schema, cross-check hand-written SQL; report all problems at once.

    Without --database, the functions and views named as sql_source are read from the
    project's db/*.sql files; with it, from the live database's catalog.
    """
    from fraisec.api import check_sql_sources, load_ir, read_sql_dir

    out = output(ctx)
    project = project_or_exit(out)
    ir, diagnostics = load_ir(schema_ref(schema, project))
    db_dir = db_dir_for(schema, project)
    checkable = database is not None or db_dir.is_dir()
    sql_sources = "checked" if checkable else "not checked"
    if ir is not None and not has_errors(diagnostics) and checkable:
        diagnostics += _sql_sources(check_sql_sources, ir, read_sql_dir(db_dir), database)
    finish(out, diagnostics)
    if out.json:
        emit_json(out, diagnostics, types=len(ir.types) if ir else 0,
                  queries=len(ir.queries) if ir else 0, mutations=len(ir.mutations) if ir else 0,
                  sql_sources=sql_sources)
        return
    if not checkable:
        out.status(f"note: {NOT_CHECKED}")
    out.status(f"ok: {len(ir.types)} types, {len(ir.queries)} queries, {len(ir.mutations)} mutations"
               if ir else "ok")


def _sql_sources(check, ir, sources, database: str | None) -> list:
    """The cross-check; a database that cannot be read is FSC902 (never naming its password)."""
    import psycopg

    from fraisec.redact import connection_problem, redact

    try:
        return check(ir, sources, database)
    except (psycopg.OperationalError, psycopg.ProgrammingError, psycopg.InterfaceError) as exc:
        message, hint = connection_problem(database or "", exc)  # could not connect
        return [error("FSC902", message, hint=hint)]
    except psycopg.Error as exc:  # connected, but reading the catalog failed
        return [error("FSC902", f"cannot read the database: {redact(str(exc).strip())}",
                      hint="The role needs to read the system catalogs (pg_catalog) of the "
                           "schemas the sql_source objects live in.")]
