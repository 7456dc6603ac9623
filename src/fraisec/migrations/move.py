"""Moving a tenant to a database of its own (hybrid: schema per tenant → database per tenant,
or a tenant database to another server).

1. The destination is provisioned like ``tenant create``: its database, then every migration, so
   its tables are the tenant's tables (where the files put them: a tenant schema's unqualified
   tables land in the new database's default schema).
2. Every table of the tenant is copied (``COPY … TO STDOUT`` into ``COPY … FROM STDIN``) in one
   destination transaction, with ``session_replication_role = replica`` so that triggers (an
   outbox, say) and foreign-key checks do not fire for rows that are only moving; identity and
   serial sequences are moved past the copied values.
3. The row count of every table is compared on both sides before the transaction commits: a
   difference rolls the copy back.

The source is never changed: the caller switches the application over, updates the registry,
and drops the source when it is satisfied. A rerun after a failure starts again from an empty
destination; a rerun after success finds the counts equal and copies nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from fraisec.diagnostics import Diagnostic, error
from fraisec.migrations.apply import MigrationError

__all__ = ["MoveResult", "copy_tenant"]

_USER_SCHEMAS = """
SELECT n.nspname FROM pg_namespace n
 WHERE n.nspname NOT LIKE 'pg\\_%%' AND n.nspname <> 'information_schema' AND n.nspname <> %s
"""
_TABLES = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY(%s)
 ORDER BY n.nspname, c.relname
"""
_COLUMNS = """
SELECT a.attname FROM pg_attribute a
 WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
 ORDER BY a.attnum
"""
_SEQUENCES = """
SELECT a.attname, pg_get_serial_sequence(%s, a.attname) FROM pg_attribute a
 WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
   AND pg_get_serial_sequence(%s, a.attname) IS NOT NULL
"""


@dataclass(frozen=True)
class MoveResult:
    copied: dict[str, int] = field(default_factory=dict)  # "schema.table" (destination) -> rows
    already: bool = False  # the destination already held every row: nothing copied
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.diagnostics


def copy_tenant(source_url: str, source_schemas: list[str] | None, destination_url: str,
                history_schema: str = "fraisec_history") -> MoveResult:
    """Copy the tenant's tables (those of ``source_schemas``; None: every user schema but the
    history's) into the provisioned destination, verified by row counts."""
    try:
        with psycopg.connect(source_url, autocommit=True) as src, \
                psycopg.connect(destination_url) as dst:
            return _copy(src, dst, source_schemas, history_schema)
    except MigrationError as exc:
        return MoveResult(diagnostics=exc.diagnostics)
    except psycopg.Error as exc:
        message = (exc.diag.message_primary if getattr(exc, "diag", None) else None) \
            or str(exc).strip().splitlines()[0]
        return MoveResult(diagnostics=[_error(f"the copy failed and was rolled back: {message}")])


def _copy(src: psycopg.Connection, dst: psycopg.Connection, schemas: list[str] | None,
          history_schema: str) -> MoveResult:
    if schemas is None:
        schemas = [r[0] for r in src.execute(_USER_SCHEMAS, [history_schema]).fetchall()]
    pairs = _pairs(src, dst, schemas, history_schema)
    counts = {s: _count(src, s) for s, _ in pairs}
    existing = {d: _count(dst, d) for _, d in pairs}
    if all(existing[d] == counts[s] for s, d in pairs) and any(counts.values()):
        return MoveResult({d: existing[d] for _, d in pairs}, already=True)
    if any(existing.values()):
        full = [d for d in existing if existing[d]]
        raise MigrationError([_error(
            f"the destination already holds rows ({', '.join(full[:3])}) that are not a "
            "complete copy of the tenant", "Empty the destination database (or drop it and run "
            "again): the copy is all or nothing.")])
    try:
        dst.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        raise MigrationError([_error(
            "the destination connection may not set session_replication_role (needed so that "
            "triggers and foreign-key checks do not fire for copied rows)",
            "Give the server an admin_url (a superuser) in tenants.toml, or pass --admin-url.")]
        ) from None
    copied = {}
    for source, destination in pairs:
        copied[destination] = _copy_table(src, dst, source, destination)
    for source, destination in pairs:
        if copied[destination] != counts[source] or _count(dst, destination) != counts[source]:
            dst.rollback()
            raise MigrationError([_error(
                f"{destination}: {_count(dst, destination)} rows copied, the source has "
                f"{counts[source]}", "Were writes stopped? Stop them and run again.")])
    dst.commit()
    return MoveResult(copied)


def _pairs(src, dst, schemas: list[str], history_schema: str) -> list[tuple[str, str]]:
    """(source table, destination table), both "schema.table", quoted for SQL."""
    tables = src.execute(_TABLES, [schemas]).fetchall()
    dest_schemas = [r[0] for r in dst.execute(_USER_SCHEMAS, [history_schema]).fetchall()]
    found = dst.execute(_TABLES, [dest_schemas]).fetchall()
    pairs = []
    for schema, table in tables:
        # same schema when it exists there (database to database), else wherever the
        # migrations created a table of that name (a tenant schema's tables in one schema)
        same = [(s, t) for s, t in found if t == table and s == schema]
        named = same or [(s, t) for s, t in found if t == table]
        if len(named) != 1:
            raise MigrationError([_error(
                f"table {schema}.{table} has {'no' if not named else 'more than one'} "
                "counterpart in the destination", "The destination must be made by the same "
                "migrations (`fraisec migrate status` on both).")])
        pairs.append((_name(schema, table), _name(*named[0])))
    return pairs


def _name(schema: str, table: str) -> str:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table)).as_string(None)


def _count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(table))).fetchone()[0]


def _copy_table(src, dst, source: str, destination: str) -> int:
    columns = [r[0] for r in src.execute(_COLUMNS, [source]).fetchall()]
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    with src.cursor().copy(sql.SQL("COPY {} ({}) TO STDOUT").format(sql.SQL(source), cols)) as out, \
            dst.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.SQL(destination),
                                                                       cols)) as into:
        for chunk in out:
            into.write(chunk)
    rows = _count(dst, destination)
    for column, sequence in dst.execute(_SEQUENCES, [destination, destination, destination]):
        dst.execute(sql.SQL("SELECT setval(%s, greatest(coalesce(max({}), 0), 1), max({}) IS NOT "
                            "NULL) FROM {}").format(sql.Identifier(column), sql.Identifier(column),
                                                    sql.SQL(destination)), [sequence])
    return rows


def _error(message: str, hint: str | None = None) -> Diagnostic:
    return error("FSC538", f"tenant move: {message}", hint=hint)
