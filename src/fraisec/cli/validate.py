"""``fraisec validate [SCHEMA]``: every diagnostic, nothing written."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from fraisec.cli.common import finish, output, project_or_exit, schema_ref


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)


def validate_command(
    ctx: typer.Context,
    schema: Annotated[Optional[str], typer.Argument(help="Schema module: a .py path or a dotted name "
                                                         "(default: from fraisec.toml, else schema.py).")] = None,
) -> None:
    """Load and validate the schema; report all problems at once."""
    from fraisec.api import load_ir

    out = output(ctx)
    project = project_or_exit(out)
    ir, diagnostics = load_ir(schema_ref(schema, project))
    finish(out, diagnostics)
    out.status(f"ok: {len(ir.types)} types, {len(ir.queries)} queries, "
               f"{len(ir.mutations)} mutations" if ir else "ok")
