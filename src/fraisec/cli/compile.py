"""``fraisec compile [SCHEMA] [--out DIR]``: schema.json, schema.sql and fraiseql.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from fraisec.cli.common import db_dir_for, finish, output, project_or_exit, schema_ref, write_artifacts


def register(app: typer.Typer) -> None:
    app.command("compile")(compile_command)


def compile_command(
    ctx: typer.Context,
    schema: Annotated[Optional[str], typer.Argument(help="Schema module: a .py path or a dotted name "
                                                         "(default: from fraisec.toml, else schema.py).")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output directory "
                                                    "(default: from fraisec.toml, else build/).")] = None,
) -> None:
    """Validate the schema and write its artifacts (nothing is written when there are errors)."""
    from fraisec.api import compile_schema

    out = output(ctx)
    project = project_or_exit(out)
    artifacts, diagnostics = compile_schema(schema_ref(schema, project), db_dir_for(schema, project),
                                               project.strategy)
    finish(out, diagnostics)
    assert artifacts is not None
    written = write_artifacts(out, artifacts, out_dir if out_dir is not None else project.out_dir)
    if out.json:
        from fraisec.cli.report import emit_json

        emit_json(out, diagnostics, files=written)
