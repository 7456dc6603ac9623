"""Online forms (issue 16 item 3), on PostgreSQL with a populated table: each form applies, ends
in the same state as the plain form (nothing left to diff, same constraint definitions), and
its scanning step holds a lock that lets writes go on."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pytest

from fraisec.catalog.introspect import introspect_url
from fraisec.catalog.shadow import catalog_from_sql
from fraisec.diff import diff
from fraisec.plan import plan
from fraisec.plan.script import split_segments

BASE = """
CREATE TABLE public.parent (id int PRIMARY KEY);
CREATE TABLE public.t (id int NOT NULL, code int, note text);
INSERT INTO public.parent SELECT g FROM generate_series(1, 50) g;
"""
ROWS = "INSERT INTO public.t SELECT g, g, 'x' FROM generate_series(1, 50) g;"
_BLOCKS_WRITES = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}


@dataclass(frozen=True)
class Case:
    name: str
    desired: str  # appended to BASE
    online: tuple[str, ...]  # statement beginnings the online form has, in order
    scan: str | None  # the online form's scanning statement (its lock is observed), if any


CASES = [
    Case("check", "ALTER TABLE public.t ADD CONSTRAINT c CHECK (code > 0);",
         ("ALTER TABLE public.t ADD CONSTRAINT c CHECK ((code > 0)) NOT VALID",
          "ALTER TABLE public.t VALIDATE CONSTRAINT c"), "VALIDATE"),
    Case("foreign key",
         "ALTER TABLE public.t ADD CONSTRAINT fk FOREIGN KEY (code) REFERENCES public.parent (id);",
         ("ALTER TABLE public.t ADD CONSTRAINT fk FOREIGN KEY (code) REFERENCES public.parent(id) NOT VALID",
          "ALTER TABLE public.t VALIDATE CONSTRAINT fk"), "VALIDATE"),
    Case("unique", "ALTER TABLE public.t ADD CONSTRAINT u UNIQUE (code, note);",
         ("CREATE UNIQUE INDEX CONCURRENTLY u ON public.t (code, note)",
          "ALTER TABLE public.t ADD CONSTRAINT u UNIQUE USING INDEX u"), None),
    Case("primary key", "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);",
         ("CREATE UNIQUE INDEX CONCURRENTLY t_pkey ON public.t (id)",
          "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey"), None),
    Case("set not null", "ALTER TABLE public.t ALTER COLUMN note SET NOT NULL;",
         ("ALTER TABLE public.t ADD CONSTRAINT note_fraisec_not_null CHECK (note IS NOT NULL) NOT VALID",
          "ALTER TABLE public.t VALIDATE CONSTRAINT note_fraisec_not_null",
          "ALTER TABLE public.t ALTER COLUMN note SET NOT NULL",
          "ALTER TABLE public.t DROP CONSTRAINT note_fraisec_not_null"), "VALIDATE"),
]


def _statements(result) -> list[str]:
    return [s for op in result.ops for s in op.statements]


def _apply(url: str, result, watch: str | None = None) -> set[str] | None:
    """Run the plan as the migration file would (transactional segments in a transaction,
    the others one statement at a time); return the table locks the ``watch`` statement held."""
    seen = None
    with psycopg.connect(url, autocommit=True) as conn, psycopg.connect(url, autocommit=True) as probe:
        for transactional, ops in split_segments(result):
            statements = [s for op in ops for s in op.statements]
            if transactional:
                with conn.transaction():
                    for s in statements:
                        conn.execute(s)
                continue
            for s in statements:
                if watch and watch in s:
                    with conn.transaction():  # VALIDATE may run in a transaction: hold it open
                        conn.execute(s)
                        seen = {r[0] for r in probe.execute(
                            "SELECT mode FROM pg_locks WHERE pid = %s AND granted AND "
                            "relation = 'public.t'::regclass", [conn.info.backend_pid])}
                else:
                    conn.execute(s)
    return seen


def _constraints(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE conrelid = 'public.t'::regclass ORDER BY 1").fetchall()


def _not_null(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = "
                            "'public.t'::regclass AND attnum > 0 ORDER BY attnum").fetchall()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_online_form_applies_and_ends_like_the_plain_form(case: Case, pg_server, make_db) -> None:
    online_db, plain_db = make_db(BASE + ROWS), make_db(BASE + ROWS)
    current = introspect_url(online_db)
    desired = catalog_from_sql([("desired.sql", BASE + case.desired)], base_url=pg_server.url())
    online = plan(diff(current, desired), current, desired, online=True)
    plain = plan(diff(current, desired), current, desired)
    statements = _statements(online)
    found = [next((i for i, s in enumerate(statements) if s.startswith(prefix)), None)
             for prefix in case.online]
    assert None not in found and found == sorted(found), statements
    assert "NOT VALID" not in " ".join(_statements(plain)) and "CONCURRENTLY" not in " ".join(_statements(plain))

    locks = _apply(online_db, online, case.scan)
    _apply(plain_db, plain)
    if case.scan:  # the scan runs under a lock that lets reads and writes go on
        assert locks and not locks & _BLOCKS_WRITES, locks
    after = introspect_url(online_db)
    assert not plan(diff(after, desired), after, desired), "the online form did not converge"
    assert _constraints(online_db) == _constraints(plain_db)
    assert _not_null(online_db) == _not_null(plain_db)


def test_a_table_created_by_the_migration_gets_the_plain_form(pg_server, make_db) -> None:
    url = make_db(BASE)
    current = introspect_url(url)
    desired = catalog_from_sql([("desired.sql", BASE + """
        CREATE TABLE public.fresh (id int, code int NOT NULL);
        ALTER TABLE public.fresh ADD CONSTRAINT fresh_pkey PRIMARY KEY (id);
        ALTER TABLE public.fresh ADD CONSTRAINT fresh_code CHECK (code > 0);
    """)], base_url=pg_server.url())
    text = " ".join(_statements(plan(diff(current, desired), current, desired, online=True)))
    assert "NOT VALID" not in text and "CONCURRENTLY" not in text and "VALIDATE" not in text


def test_a_failing_validation_leaves_the_constraint_not_valid_and_rows_untouched(pg_server, make_db) -> None:
    url = make_db(BASE + ROWS + "INSERT INTO public.t VALUES (0, -1, 'bad');")
    current = introspect_url(url)
    desired = catalog_from_sql([("desired.sql", BASE + CASES[0].desired)], base_url=pg_server.url())
    online = plan(diff(current, desired), current, desired, online=True)
    with pytest.raises(psycopg.errors.CheckViolation):
        _apply(url, online)
    # The NOT VALID constraint is in place (new rows are checked), nothing else changed.
    assert _constraints(url) == [("c", "CHECK ((code > 0)) NOT VALID", False)]


@pytest.mark.parametrize("change, rewrites", [
    ("ALTER TABLE public.t ALTER COLUMN code TYPE bigint;", True),
    ("ALTER TABLE public.t ALTER COLUMN note TYPE varchar(20);", True),
    ("ALTER TABLE public.t ADD COLUMN at timestamptz DEFAULT clock_timestamp();", True),
    ("ALTER TABLE public.t ALTER COLUMN note SET DEFAULT 'y';", False),
    ("ALTER TABLE public.t ADD COLUMN flag boolean DEFAULT false;", False),
])
def test_rewrites_are_marked_as_observed(change: str, rewrites: bool, pg_server, make_db) -> None:
    """The ops marked as rewriting the table (their duration class goes into the migration
    file) are the ones that change its relfilenode."""
    url = make_db(BASE + ROWS)
    current = introspect_url(url)
    desired = catalog_from_sql([("desired.sql", BASE + change)], base_url=pg_server.url())
    result = plan(diff(current, desired), current, desired, online=True)
    ops = [op for op in result.ops if op.statements and op.action != "metadata"]
    with psycopg.connect(url, autocommit=True) as conn:
        before = conn.execute("SELECT pg_relation_filenode('public.t')").fetchone()[0]
        _apply(url, result)
        after = conn.execute("SELECT pg_relation_filenode('public.t')").fetchone()[0]
    assert (any(op.rewrites for op in ops), before != after) == (rewrites, rewrites), ops
