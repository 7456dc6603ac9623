"""External tables (``@fq.entity(external="auth.users")``) in migrations.

The table is the auth service's: no migration creates, alters or drops it, so the catalog diff
never sees it (its schema is left out of both sides). What fraisec needs there, the existence
check and the column grants, is a block of its own at the end of the migration that first
declares the table or changes its declared columns, recorded in a line
``-- fraisec: external auth.users (id uuid, email text)``. Replaying the history into a shadow,
that record becomes a stand-in table (``CREATE TABLE IF NOT EXISTS``), created there only, so
the migrations' foreign keys and views apply."""

from __future__ import annotations

import re
from typing import Iterable

from fraisec.ir.model import Schema

__all__ = ["STUB_NAME", "external_block", "external_schemas", "recorded_externals", "schema_stub", "stub_schemas",
           "stub_sql"]

STUB_NAME = "external tables (stand-ins, shadow only)"

_MARKER = re.compile(r"^-- fraisec: external (?P<table>[A-Za-z_][\w.]*) \((?P<columns>[^)]*)\)\s*$", re.MULTILINE)


def _marker(table: str, columns: tuple[tuple[str, str], ...]) -> str:
    return f"-- fraisec: external {table} ({', '.join(f'{c} {t}' for c, t in columns)})"


def recorded_externals(texts: Iterable[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """{table: ((column, type), …)} as the history last recorded it."""
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for text in texts:
        for m in _MARKER.finditer(text):
            out[m.group("table")] = tuple(tuple(part.strip().split(" ", 1)) for part in m.group("columns").split(","))
    return out


def stub_sql(tables: dict[str, tuple[tuple[str, str], ...]]) -> str | None:
    """Stand-in tables for a shadow database (never applied anywhere else)."""
    if not tables:
        return None
    lines = ["-- Stand-ins for the external tables, in the shadow database only."]
    for table, columns in sorted(tables.items()):
        schema = table.split(".", 1)[0]
        body = ", ".join(f"{c} {t}{' PRIMARY KEY' if c == 'id' else ''}" for c, t in columns)
        lines += [f"CREATE SCHEMA IF NOT EXISTS {schema};", f"CREATE TABLE IF NOT EXISTS {table} ({body});"]
    return "\n".join(lines) + "\n"


def stub_schemas(sources: Iterable[tuple[str, str]]) -> set[str]:
    """The schemas the stand-in source among ``sources`` creates."""
    return {m.group(1) for name, text in sources if name == STUB_NAME
            for m in re.finditer(r"^CREATE SCHEMA IF NOT EXISTS (\w+);$", text, re.MULTILINE)}


def schema_stub(schema: Schema) -> str | None:
    from fraisec.render.sql import external_columns

    found = external_columns(schema)
    return stub_sql(dict([found])) if found else None


def external_schemas(schema: Schema | None, texts: Iterable[str] = ()) -> set[str]:
    """The schemas the catalog diff leaves out: the external tables' (declared or recorded)."""
    tables = set(recorded_externals(texts))
    if schema is not None:
        tables |= {f"{e.entity.external[0]}.{e.entity.external[1]}" for e in schema.entities if e.entity.external}
    return {t.split(".", 1)[0] for t in tables}


def external_block(schema: Schema, history: Iterable[str]) -> str | None:
    """The migration's external block, when the declaration differs from the history's record."""
    from fraisec.render.sql import external_columns, external_setup

    found = external_columns(schema)
    if found is None or recorded_externals(history).get(found[0]) == found[1]:
        return None
    return "\n".join([_marker(*found), "BEGIN;", *external_setup(schema), "COMMIT;"]) + "\n"
