"""``fraisec validate [SCHEMA] [--database URL]``: every diagnostic, nothing written."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from fraisec.cli.common import db_dir_for, finish, output, project_or_exit, schema_ref
from fraisec.diagnostics import Location, error, has_errors


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)


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

    # psycopg (~0.1 s to import) only when there is a database to read; `except ()` catches nothing.
    db_errors: tuple = (__import__("psycopg").Error,) if database is not None else ()

    out = output(ctx)
    project = project_or_exit(out)
    ir, diagnostics = load_ir(schema_ref(schema, project))
    db_dir = db_dir_for(schema, project)
    checkable = database is not None or db_dir.is_dir()
    if ir is not None and not has_errors(diagnostics) and not checkable:
        out.detail("hand-written sql_source objects not checked: no db/ directory and no --database")
    if ir is not None and not has_errors(diagnostics) and checkable:
        try:
            diagnostics += check_sql_sources(ir, read_sql_dir(db_dir), database)
        except db_errors as exc:
            diagnostics.append(error("FSC902", f"cannot read the database: {str(exc).strip()}",
                                     Location(file=database or ""), hint="Check the URL, that the "
                                     "server is running and the credentials."))
    finish(out, diagnostics)
    out.status(f"ok: {len(ir.types)} types, {len(ir.queries)} queries, {len(ir.mutations)} mutations"
               if ir else "ok")
