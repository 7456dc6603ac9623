"""A NOT NULL column without a default added to a table that already has rows.

``ALTER TABLE t ADD COLUMN c text NOT NULL`` fails on a table with rows (PostgreSQL has no value
to give them). ``migrate diff`` finds such columns in the plan and, where the table has rows (the
current side is a database: one ``SELECT EXISTS`` per such table) or when asked (``--backfill``),
writes the three-step form instead, in one transaction::

    ALTER TABLE t ADD COLUMN c text;                -- nullable
    DO $backfill$ … RAISE EXCEPTION … $backfill$;   -- the placeholder: replace it with an UPDATE
    ALTER TABLE t ALTER COLUMN c SET NOT NULL;

The placeholder makes the file refuse to apply (and the replayed history fail) until it is
replaced by the backfill, so a forgotten backfill never reaches a database half done.

Interface::

    required_columns(plan, current, desired) -> list[RequiredColumn]
    populated(url, columns, current) -> set[str]     # table keys with at least one row
    three_step(plan, columns, desired) -> Plan
    without_placeholders(text) -> str                # for replaying a file before it is edited
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import replace as dc_replace

from fraisec.catalog.model import Catalog, Column, ObjRef
from fraisec.diagnostics import Diagnostic, Location, warning
from fraisec.render.quoting import quote_ident, quote_literal

__all__ = ["PLACEHOLDER", "RequiredColumn", "diagnostics", "populated", "required_columns",
           "three_step", "without_placeholders"]

# In every placeholder statement: what finds it again (verification replays the file without it).
PLACEHOLDER = "fraisec-backfill-placeholder"
_PLACEHOLDER_STATEMENT = re.compile(
    r"^DO \$" + PLACEHOLDER.replace("-", "_") + r"\$.*?\$" + PLACEHOLDER.replace("-", "_")
    + r"\$;\n", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class RequiredColumn:
    """A column added NOT NULL, without a default, to a table that exists already."""

    table: str  # the table's key
    column: str
    op_id: str

    @property
    def label(self) -> str:
        return f"{self.table}.{quote_ident(self.column)}"


def required_columns(plan, current: Catalog, desired: Catalog) -> list[RequiredColumn]:
    found = []
    for op in plan.ops:
        if op.action != "add column" or op.key not in current.table:
            continue
        name = op.id[len(f"column:{ObjRef('table', op.key)}:"):]
        col = desired.table[op.key].column(name)
        if col is not None and _needs_a_value(col):
            found.append(RequiredColumn(op.key, name, op.id))
    return found


def _needs_a_value(col: Column) -> bool:
    return col.not_null and col.default is None and not col.identity and col.generated is None


def populated(url: str, columns: list[RequiredColumn]) -> set[str]:
    """The tables (keys) among ``columns``' that have at least one row in the database. A table
    the database does not have under that name (renamed by this migration) counts as having
    rows: nothing says it is empty."""
    import psycopg

    from fraisec.catalog.shadow import connect_error

    tables = sorted({c.table for c in columns})
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET default_transaction_read_only = on")
            return {t for t in tables if _has_rows(conn, t)}
    except psycopg.OperationalError as exc:
        raise connect_error(url, exc) from None


def _has_rows(conn, table_key: str) -> bool:
    # The key is the catalog's quoted, qualified name; to_regclass checks it names a table here.
    if conn.execute("SELECT to_regclass(%s)", [table_key]).fetchone()[0] is None:
        return True
    return bool(conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table_key})").fetchone()[0])


def three_step(plan, columns: list[RequiredColumn], desired: Catalog):
    """The plan with each of ``columns``' ADD COLUMN replaced by the three-step form."""
    from fraisec.plan import Plan

    by_op = {c.op_id: c for c in columns}
    ops = []
    for op in plan.ops:
        c = by_op.get(op.id)
        if c is None:
            ops.append(op)
            continue
        col = desired.table[c.table].column(c.column)
        ops.append(dc_replace(op, statements=_statements(c, col), safety="locking",
                              reason=f"column {c.column} needs a value in existing rows"))
    return Plan(ops=tuple(ops), diagnostics=plan.diagnostics)


def _statements(c: RequiredColumn, col: Column) -> tuple[str, ...]:
    from fraisec.render import ops as sql

    tag = PLACEHOLDER.replace("-", "_")
    name = quote_ident(c.column)
    message = (f"fraisec: write the backfill of {c.label} here: replace this DO statement with "
               f"UPDATE {c.table} SET {name} = ... WHERE {name} IS NULL; then run "
               f"fraisec migrate hash")
    return (f"ALTER TABLE {c.table} ADD COLUMN {sql.column_definition(dc_replace(col, not_null=False))}",
            f"DO ${tag}$ BEGIN RAISE EXCEPTION {quote_literal(message)}; END ${tag}$",
            f"ALTER TABLE {c.table} ALTER COLUMN {name} SET NOT NULL")


def without_placeholders(text: str) -> str:
    """The file as it will be once edited, as far as the schema goes (the backfill changes rows)."""
    return _PLACEHOLDER_STATEMENT.sub("", text)


def diagnostics(written: list[RequiredColumn], maybe: list[RequiredColumn], fname: str,
                text: str, path: str | None, *, forced: bool = False) -> list[Diagnostic]:
    """FSC409 for each column written in three steps (the table has rows, or ``forced`` by
    --backfill), FSC410 for each written plain although the table may have rows where the file
    is applied."""
    out = []
    where = "an existing table (--backfill)" if forced else "a table that has rows"
    for c in written:
        out.append(warning(
            "FSC409", f"column {c.label} is added NOT NULL without a default to {where}: "
            f"{fname} adds it in three steps (nullable, a backfill you write, SET NOT NULL) "
            "and refuses to apply until the backfill is written",
            Location(file=path or fname, line=_line_of(text, c)),
            hint=f"Replace the DO statement that follows ADD COLUMN {quote_ident(c.column)} with "
                 f"an UPDATE that gives every row a value, then run `fraisec migrate hash`. "
                 "Or give the field a default (existing rows take it) and write the migration "
                 "again."))
    for c in maybe:
        out.append(warning(
            "FSC410", f"column {c.label} is added NOT NULL without a default to a table that "
            f"exists already: {fname} fails on a database where the table has rows",
            Location(file=path or fname, line=_line_of(text, c)),
            hint="Give the field a default, or write the migration again with --backfill (or "
                 "--database URL, which checks the table for rows): the column is then added "
                 "nullable, backfilled by an UPDATE you write, and set NOT NULL."))
    return out


def _line_of(text: str, c: RequiredColumn) -> int | None:
    needle = f"ALTER TABLE {c.table} ADD COLUMN {quote_ident(c.column)} "
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(needle):
            return number
    return None
