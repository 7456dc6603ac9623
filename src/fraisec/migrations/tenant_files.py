"""What a migration applied to tenant schemas must not do (schema per tenant, docs/tenancy.md).

The applier runs each file with the tenant schema first in ``search_path``, so the file's
unqualified names land in the tenant's schema. A file that creates a schema-qualified object
would create it once, outside every tenant (the second tenant then fails, or worse, they all
share it); a file that creates a schema or sets ``search_path`` takes the placement away from
the applier. Such files are refused for schema targets before anything runs (FSC539).

This reads statements by their leading keywords, after comments, literals and bodies are
masked: references to shared objects inside a statement (``REFERENCES app.tb_user``) are fine.
"""

from __future__ import annotations

import re
from pathlib import Path

from fraisec.diagnostics import Diagnostic, Location, error

__all__ = ["tenant_file_problems"]

_CREATE = re.compile(
    r"^CREATE (?:OR REPLACE )?(?:UNIQUE )?(?:(?:TEMP|TEMPORARY|UNLOGGED|RECURSIVE) )?"
    r"(?P<kind>TABLE|VIEW|MATERIALIZED VIEW|FUNCTION|PROCEDURE|TYPE|SEQUENCE|DOMAIN|AGGREGATE|"
    r"COLLATION|OPERATOR|TEXT SEARCH \w+) (?:IF NOT EXISTS )?(?P<name>[^\s(]+)", re.IGNORECASE)
_PLACEMENT = re.compile(r"^(?:CREATE SCHEMA\b|SET (?:LOCAL |SESSION )?SEARCH_PATH\b)",
                        re.IGNORECASE)


def tenant_file_problems(directory: Path) -> list[Diagnostic]:
    """FSC539 for each statement that would escape the tenant schema."""
    from fraisec.migrations.files import discover, segments

    files, _ = discover(directory)
    problems: list[Diagnostic] = []
    for f in files:
        parsed, _ = segments(f)
        for seg in parsed:
            for stmt in seg.statements:
                problem = _problem(" ".join(stmt.masked.split()))
                if problem:
                    problems.append(error(
                        "FSC539", f"{f.name}: {problem}; it cannot be applied to tenant schemas",
                        Location(file=str(f.path), line=stmt.line),
                        hint="A tenant file names tenant objects without a schema (the applier "
                             "sets search_path to each tenant's schema) and leaves schemas and "
                             "search_path alone; shared objects belong to the database's own "
                             "migrations. See docs/tenancy.md, \"What the migration files must "
                             "look like\"."))
    return problems


def _problem(text: str) -> str | None:
    """``text``: the statement, masked, whitespace collapsed (identifiers as written)."""
    if _PLACEMENT.match(text):
        what = "CREATE SCHEMA" if text[:6].upper() == "CREATE" else "SET search_path"
        return f"{what} (the applier places each tenant's objects)"
    match = _CREATE.match(text)
    if match and "." in match["name"]:
        return f"CREATE {match['kind'].upper()} with a schema-qualified name ({match['name']})"
    return None
