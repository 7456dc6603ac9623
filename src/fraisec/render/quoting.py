"""The one place SQL identifiers and literals are quoted.

Every piece of generated SQL that embeds a name or a string goes through these two functions,
so the rules (PostgreSQL's own ``quote_ident``/``quote_literal`` rules) live in one module.
"""

from __future__ import annotations

import re

__all__ = ["quote_ident", "quote_literal", "qualified"]

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")

# PostgreSQL's reserved keywords (and the type/function-name ones) must be quoted as identifiers.
_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric authorization binary both case cast check
collate collation column concurrently constraint create cross current_catalog current_date
current_role current_schema current_time current_timestamp current_user default deferrable desc
distinct do else end except false fetch for foreign freeze from full grant group having ilike in
initially inner intersect into is isnull join lateral leading left like limit localtime
localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
references returning right select session_user similar some symmetric system_user table
tablesample then to trailing true union unique user using variadic verbose when where window with
between bigint bit boolean char character coalesce dec decimal exists extract float greatest
grouping inout int integer interval least national nchar none normalize nullif numeric out
overlay position precision real row setof smallint substring time timestamp treat trim values
varchar xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi
xmlroot xmlserialize xmltable
""".split())


def quote_ident(name: str) -> str:
    """Quote an identifier only when PostgreSQL needs it (as ``quote_ident()`` does)."""
    if _PLAIN.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: object) -> str:
    """A SQL literal: NULL, a number, a boolean, or a string with quotes doubled (E'' if needed)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    body = text.replace("'", "''")
    if "\\" in body:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def qualified(schema: str, name: str) -> str:
    """``schema.name`` with each part quoted as needed."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def in_current_schema(statement: str) -> str:
    """``statement`` (naming a schema as ``%I``) for the schema it is run in: a DO block that
    names ``current_schema()``, so one text applies to every tenant schema (schema per tenant),
    whose name a tenant file never writes."""
    return ("DO $schema$ BEGIN EXECUTE format(" + quote_literal(statement)
            + ", current_schema()); END $schema$")
