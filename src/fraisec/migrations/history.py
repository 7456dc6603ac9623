"""The history table: which migration files a database has applied.

It lives in its own schema (``fraisec_history`` by default) and is always named with its schema,
so no ``search_path`` can hide it or make a second copy (confiture's ledger-name pain points).
One row per applied file::

    version      the file's number (primary key)
    name         the file name, e.g. 0003_add_status.sql
    checksum     SHA-256 of the file as applied (or as adopted by ``migrate baseline``)
    applied_at   when the run finished the file
    duration_ms  how long it took
    applied_by   the database role that applied it (current_user)
    client       OS user, host and fraisec version of the process that applied it
    kind         'apply' or 'baseline' (adopted without running)
    steps_done / steps_total
                 segments finished; fewer than total means the non-transactional part of the
                 file was interrupted and the next ``migrate apply`` resumes it
    repaired_at  set by ``migrate repair`` when the checksum was re-recorded on purpose

A purely transactional file inserts its row in the same transaction as its statements, so the
row exists exactly when the file's effects do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

__all__ = ["DEFAULT_SCHEMA", "HistoryRow", "ensure_table", "read_history", "record", "table"]

DEFAULT_SCHEMA = "fraisec_history"
TABLE = "migrations"


@dataclass(frozen=True)
class HistoryRow:
    version: int
    name: str
    checksum: str
    applied_at: datetime
    duration_ms: int
    applied_by: str
    client: str | None
    kind: str
    steps_done: int
    steps_total: int
    repaired_at: datetime | None

    @property
    def complete(self) -> bool:
        return self.steps_done >= self.steps_total


def table(schema: str, name: str = TABLE) -> sql.Composed:
    """The history table: ``<schema>.migrations``, or ``<schema>.<tenant schema>`` for a tenant
    schema (schema per tenant keeps one history per tenant schema, keyed by its name)."""
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


_DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {table} (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL DEFAULT 0,
    applied_by  text NOT NULL DEFAULT current_user,
    client      text,
    kind        text NOT NULL DEFAULT 'apply' CHECK (kind IN ('apply', 'baseline')),
    steps_done  integer NOT NULL DEFAULT 1,
    steps_total integer NOT NULL DEFAULT 1,
    repaired_at timestamptz
);
COMMENT ON TABLE {table} IS 'Migration files applied by fraisec (fraisec migrate status).';
"""


def ensure_table(conn: psycopg.Connection, schema: str, name: str = TABLE) -> None:
    """Create the schema and table when missing (callers hold the migration lock)."""
    with conn.transaction():
        for stmt in _DDL.split(";\n"):
            if stmt.strip():
                conn.execute(sql.SQL(stmt).format(schema=sql.Identifier(schema),
                                                  table=table(schema, name)))


def exists(conn: psycopg.Connection, schema: str, name: str = TABLE) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                       [table(schema, name).as_string(conn)]).fetchone()
    return bool(row and row[0])


_COLUMNS = ("version, name, checksum, applied_at, duration_ms, applied_by, client, kind, "
            "steps_done, steps_total, repaired_at")


def read_history(conn: psycopg.Connection, schema: str, name: str = TABLE) -> list[HistoryRow]:
    """Applied rows in version order; [] when the table does not exist yet."""
    if not exists(conn, schema, name):
        return []
    query = sql.SQL("SELECT " + _COLUMNS + " FROM {} ORDER BY version").format(table(schema, name))
    return [HistoryRow(*row) for row in conn.execute(query).fetchall()]


def record(conn: psycopg.Connection, schema: str, *, version: int, name: str, checksum: str,
           duration_ms: int, client: str, kind: str, steps_done: int, steps_total: int,
           table_name: str = TABLE) -> None:
    """Insert or advance a file's row (an interrupted file's row is updated when resumed)."""
    query = sql.SQL(
        "INSERT INTO {} (version, name, checksum, duration_ms, client, kind, steps_done, steps_total)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (version) DO UPDATE SET steps_done = EXCLUDED.steps_done,"
        " duration_ms = {t}.duration_ms + EXCLUDED.duration_ms, applied_at = now()"
    ).format(table(schema, table_name), t=table(schema, table_name))
    conn.execute(query, [version, name, checksum, duration_ms, client, kind, steps_done, steps_total])


def repair(conn: psycopg.Connection, schema: str, version: int, checksum: str,
           name: str = TABLE) -> None:
    query = sql.SQL("UPDATE {} SET checksum = %s, repaired_at = now() WHERE version = %s"
                    ).format(table(schema, name))
    conn.execute(query, [checksum, version])
