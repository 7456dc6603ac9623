"""The desired state: the compiled schema's SQL, then the project's hand-written ``db/*.sql``
in dependency order (``fraisec.sqlfiles``), then the owners of the hand-written privileged
functions (``privileged.sql``, when the schema declares any)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fraisec.diagnostics import Diagnostic, has_errors
from fraisec.sqlfiles import order_sql_files

if TYPE_CHECKING:
    from fraisec.ir.model import Schema

__all__ = ["desired_sources", "order_sql_files"]

GENERATED_NAME = "schema.sql"
SHARED_DATABASE_NAME = "shared_database.sql"


def desired_sources(ref: str, db_dir: Path | None = None, schema: Schema | None = None,
                    strategy: str | None = None, part: str | None = None
                    ) -> tuple[list[tuple[str, str]] | None, list[Diagnostic]]:
    """``[(name, sql), …]`` to apply in order to an empty database; None when the schema has errors.

    ``db_dir`` defaults to the ``db`` directory of the project that holds the schema module.
    ``schema``: ``ref`` already loaded and validated without errors (not loaded again).
    ``strategy``: the project's ``[tenancy] strategy`` (read from the project when None); in
    schema or database per tenant the compiled SQL is the SHARED part only
    (:mod:`fraisec.render.strategy`), the tenant part has migrations of its own.
    ``part="shared_database"``: database per tenant's shared database (its entities only; the
    hand-written ``db/*.sql`` belong to the tenant databases).
    """
    from fraisec.api import load_ir
    from fraisec.sqlfiles import read_sql_dir
    from fraisec.project import find_project
    from fraisec.render import render_privileged_sql, render_schema_sql
    from fraisec.render.sql import PRIVILEGED_NAME

    diagnostics: list[Diagnostic] = []
    if schema is None:
        schema, diagnostics = load_ir(ref)
    if schema is None or has_errors(diagnostics):
        return None, diagnostics
    if db_dir is None or strategy is None:
        # Without db_dir: the project holding the schema module (``fraisec diff schema.py``).
        # With it, the caller read the working directory's project (the CLI), whose
        # fraisec.toml may name a schema module elsewhere (``schema = "../schema.py"``).
        start = Path(ref).parent if ref.endswith(".py") and db_dir is None else Path(".")
        project = find_project(start)
        db_dir = project.db_dir if db_dir is None else db_dir
        strategy = project.strategy if strategy is None else strategy
    if strategy == "rls":
        generated = render_schema_sql(schema)
    else:
        from fraisec.render.strategy import render_parts

        parts, problems = render_parts(schema, strategy)
        if parts is None:
            return None, [*diagnostics, *problems]
        if part == "shared_database":
            return [(SHARED_DATABASE_NAME, parts.shared_database)], diagnostics
        generated = parts.shared
    from fraisec.migrations.external import STUB_NAME, schema_stub

    privileged = render_privileged_sql(schema)
    trailer = [(PRIVILEGED_NAME, privileged)] if privileged else []
    stub = schema_stub(schema)  # an external table's stand-in: these sources go to a shadow only
    prelude = [(STUB_NAME, stub)] if stub else []
    return [*prelude, (GENERATED_NAME, generated), *order_sql_files(read_sql_dir(db_dir)), *trailer], diagnostics
