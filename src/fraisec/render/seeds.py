"""Seeded reference rows (``@fq.entity(seed=[…])``): the desired rows as SQL literals, and the
statements that write them. Shared by schema.sql (an upsert per row) and ``migrate diff``
(``fraisec.migrations.seeds``, which writes only what changed). Deterministic: tables and rows in
name order, columns in field order. No jinja2: the differ's path imports this."""

from __future__ import annotations

import decimal
from typing import Any

from fraisec.ir.model import Schema
from fraisec.render.quoting import qualified, quote_ident, quote_literal

__all__ = ["KEY", "SeedRows", "delete_sql", "literal", "seed_rows", "seed_statements", "update_sql", "upsert_sql"]

KEY = "identifier"

# {qualified table: {identifier: {column: SQL literal}}}
SeedRows = dict[str, dict[str, dict[str, str]]]


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, decimal.Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return quote_literal(str(value))


def seed_rows(schema: Schema) -> SeedRows:
    out: SeedRows = {}
    for entity in sorted(schema.entities, key=lambda e: e.entity.table):
        if not entity.entity.seed:
            continue
        table = qualified(schema.settings.schema_name, entity.entity.table)
        out[table] = {dict(row)[KEY]: {entity.field(name).column: literal(value) for name, value in row}
                      for row in entity.entity.seed}
    return out


def upsert_sql(table: str, row: dict[str, str]) -> str:
    """Insert the row, or (its identifier taken) set the declared columns to the declared values."""
    columns = list(row)
    others = [c for c in columns if c != KEY]
    action = ("DO UPDATE SET " + ", ".join(f"{quote_ident(c)} = EXCLUDED.{quote_ident(c)}" for c in others)
              if others else "DO NOTHING")
    return (f"INSERT INTO {table} ({', '.join(quote_ident(c) for c in columns)}) "
            f"VALUES ({', '.join(row[c] for c in columns)}) ON CONFLICT ({quote_ident(KEY)}) {action}")


def update_sql(table: str, key: str, changed: dict[str, str]) -> str:
    sets = ", ".join(f"{quote_ident(c)} = {v}" for c, v in changed.items())
    return f"UPDATE {table} SET {sets} WHERE {quote_ident(KEY)} = {key}"


def delete_sql(table: str, key: str) -> str:
    return f"DELETE FROM {table} WHERE {quote_ident(KEY)} = {key}"


def seed_statements(schema: Schema) -> list[str]:
    """schema.sql's reference data: one upsert per row."""
    return [upsert_sql(table, row) for table, rows in seed_rows(schema).items() for _key, row in sorted(rows.items())]
