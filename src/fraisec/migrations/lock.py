"""The migration lock: a session-level PostgreSQL advisory lock, waited for up to a timeout.

Session-level so that it is held across the per-file transactions of one run and released by
the server when the applier's connection ends, however it ends (a SIGKILLed applier cannot
leave it behind). The key is fixed for fraisec and the history schema, so every applier of the
same history in the same database serialises on it, and ``migrate status`` can tell who holds
it: the holder's ``application_name`` names the process (confiture #147: contention with no
holder identity).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import psycopg
from psycopg import errors

__all__ = ["LockHolder", "LockTimeout", "acquire", "holder", "lock_key"]

_CLASS_ID = int.from_bytes(hashlib.sha256(b"fraisec migrate").digest()[:4], "big") & 0x7FFFFFFF


class LockTimeout(Exception):
    """Another applier held the lock for longer than the timeout."""

    def __init__(self, seconds: float, holder: "LockHolder | None") -> None:
        self.seconds = seconds
        self.holder = holder
        super().__init__(f"lock not acquired within {seconds:g}s")


@dataclass(frozen=True)
class LockHolder:
    pid: int
    role: str | None
    application: str | None
    since: str | None

    def describe(self) -> str:
        who = self.application or "another session"
        return f"{who} (backend pid {self.pid}, role {self.role}, connected since {self.since})"


def lock_key(history_schema: str) -> tuple[int, int]:
    objid = int.from_bytes(hashlib.sha256(history_schema.encode()).digest()[:4], "big") & 0x7FFFFFFF
    return _CLASS_ID, objid


def acquire(conn: psycopg.Connection, history_schema: str, timeout_s: float) -> None:
    """Take the lock on an autocommit connection, or raise LockTimeout.

    ``lock_timeout`` bounds the wait (advisory locks are ordinary heavyweight locks), so the
    wait is a server-side sleep, not a polling loop.
    """
    classid, objid = lock_key(history_schema)
    previous = conn.execute("SELECT current_setting('lock_timeout')").fetchone()[0]
    conn.execute(f"SET lock_timeout = '{max(int(timeout_s * 1000), 1)}ms'")
    try:
        conn.execute("SELECT pg_advisory_lock(%s, %s)", [classid, objid])
    except errors.LockNotAvailable:
        raise LockTimeout(timeout_s, holder(conn, history_schema)) from None
    finally:
        # back to the session's own lock_timeout (the per-statement limit, when one is set)
        conn.execute("SELECT set_config('lock_timeout', %s, false)", [previous])


def release(conn: psycopg.Connection, history_schema: str) -> None:
    classid, objid = lock_key(history_schema)
    conn.execute("SELECT pg_advisory_unlock(%s, %s)", [classid, objid])


def holder(conn: psycopg.Connection, history_schema: str) -> LockHolder | None:
    """Who holds the lock now (None when nobody, or when it is not visible to this role)."""
    classid, objid = lock_key(history_schema)
    row = conn.execute(
        "SELECT a.pid, a.usename::text, a.application_name, a.backend_start::text"
        "  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.database = ("
        "       SELECT oid FROM pg_database WHERE datname = current_database())"
        "   AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 2",
        [classid, objid]).fetchone()
    return LockHolder(*row) if row else None
