"""Safety classes proven on PostgreSQL, not guessed.

For each kind of operation the planner emits on an existing table, the table is populated, the
plan's operation is applied in a transaction held open while a second session reads the lock it
holds (``pg_locks``), and afterwards the test observes whether the table was rewritten
(``relfilenode``), scanned (``pg_stat_user_tables``) and whether any row changed. The class
fraisec printed must be the observed one:

* ``destructive``: a row (or a column, or the table) is lost or changed;
* ``locking``: rewritten or scanned while holding a lock that blocks writes (ShareLock or more);
* ``safe``: neither (a brief ACCESS EXCLUSIVE for a catalog-only change is still ``safe``).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pytest

from fraisec.catalog.introspect import introspect_url
from fraisec.catalog.shadow import catalog_from_sql
from fraisec.diff import diff
from fraisec.plan import plan

BASE = """
CREATE TABLE public.t (
    id int PRIMARY KEY,
    name varchar(10) NOT NULL,
    amount numeric(10,2) NOT NULL DEFAULT 0,
    note text,
    code int
);
CREATE TABLE public.parent (id int PRIMARY KEY);
INSERT INTO public.parent SELECT g FROM generate_series(1, 50) g;
CREATE TABLE public.pt (id int, code int) PARTITION BY RANGE (id);
CREATE TABLE public.pt1 PARTITION OF public.pt FOR VALUES FROM (0) TO (1000);
INSERT INTO public.pt SELECT g, g FROM generate_series(1, 50) g;
"""
ROWS = "INSERT INTO public.t SELECT g, 'n' || g, g + 0.25, 'x', g FROM generate_series(1, 50) g;"
# Locks that block INSERT/UPDATE/DELETE on the table while held.
_BLOCKS_WRITES = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}


@dataclass(frozen=True)
class Case:
    name: str
    desired: str  # appended to BASE (with the changed table definition where needed)
    expected: str  # the class fraisec must print, and the test must observe
    observed: str = "public.t"  # the table whose locks and scans are read


def _table(columns: str, extra: str = "") -> str:
    return BASE.replace("""    id int PRIMARY KEY,
    name varchar(10) NOT NULL,
    amount numeric(10,2) NOT NULL DEFAULT 0,
    note text,
    code int""", columns) + extra


_COLUMNS = """    id int PRIMARY KEY,
    name varchar(10) NOT NULL,
    amount numeric(10,2) NOT NULL DEFAULT 0,
    note text,
    code int"""

CASES = [
    Case("add column, nullable", _table(_COLUMNS + ",\n    extra text"), "safe"),
    Case("add column, constant default", _table(_COLUMNS + ",\n    extra int NOT NULL DEFAULT 7"), "safe"),
    Case("add column, volatile default", _table(_COLUMNS + ",\n    at timestamptz DEFAULT clock_timestamp()"), "locking"),
    Case("add column, identity", _table(_COLUMNS + ",\n    seq bigint GENERATED ALWAYS AS IDENTITY"), "locking"),
    Case("drop column", _table(_COLUMNS.replace(",\n    note text", "")), "destructive"),
    Case("type int -> bigint", _table(_COLUMNS.replace("code int", "code bigint")), "locking"),
    Case("type varchar(10) -> varchar(50)", _table(_COLUMNS.replace("varchar(10)", "varchar(50)")), "safe"),
    Case("type varchar(10) -> text", _table(_COLUMNS.replace("varchar(10)", "text")), "safe"),
    Case("type numeric(10,2) -> numeric(12,2)", _table(_COLUMNS.replace("numeric(10,2)", "numeric(12,2)")), "safe"),
    Case("type numeric(10,2) -> numeric(10,0)", _table(_COLUMNS.replace("numeric(10,2)", "numeric(10,0)")), "destructive"),
    Case("set not null", _table(_COLUMNS.replace("note text", "note text NOT NULL")), "locking"),
    Case("drop not null", _table(_COLUMNS.replace("name varchar(10) NOT NULL", "name varchar(10)")), "safe"),
    Case("set default", _table(_COLUMNS.replace("note text", "note text DEFAULT 'y'")), "safe"),
    Case("drop default", _table(_COLUMNS.replace(" DEFAULT 0", "")), "safe"),
    Case("add check", _table(_COLUMNS, "ALTER TABLE public.t ADD CONSTRAINT c CHECK (code > 0);"), "locking"),
    Case("add foreign key", _table(_COLUMNS, "ALTER TABLE public.t ADD CONSTRAINT fk FOREIGN KEY (code) REFERENCES public.parent (id);"), "locking"),
    Case("add unique", _table(_COLUMNS, "ALTER TABLE public.t ADD CONSTRAINT u UNIQUE (code);"), "locking"),
    Case("add check NOT VALID", _table(_COLUMNS, "ALTER TABLE public.t ADD CONSTRAINT c CHECK (code > 0) NOT VALID;"), "safe"),
    Case("add foreign key NOT VALID", _table(_COLUMNS, "ALTER TABLE public.t ADD CONSTRAINT fk FOREIGN KEY (code) REFERENCES public.parent (id) NOT VALID;"), "safe"),
    # no CONCURRENTLY on a partitioned table: each partition's index is built under SHARE
    Case("add index, partitioned table", _table(_COLUMNS, "CREATE INDEX pt_code ON public.pt (code);"), "locking",
         observed="public.pt1"),
    Case("enable row level security", _table(_COLUMNS, "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;"), "safe"),
    Case("set unlogged", _table(_COLUMNS).replace("CREATE TABLE public.t", "CREATE UNLOGGED TABLE public.t"), "locking"),
]


def _observe(url: str, statements: list[str], table: str = "public.t") -> dict:
    with psycopg.connect(url, autocommit=True) as probe, psycopg.connect(url) as conn:
        filenode = f"select pg_relation_filenode('{table}')"
        before = (probe.execute(filenode).fetchone()[0], _values(probe))
        stats = ("select coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) from pg_stat_user_tables "
                 f"where relid = '{table}'::regclass")
        probe.execute("select pg_stat_clear_snapshot()")
        read_before = probe.execute(stats).fetchone()[0]
        for st in statements:
            conn.execute(st)
        pid = conn.info.backend_pid
        locks = {row[0] for row in probe.execute(
            "select mode from pg_locks where pid = %s and relation = %s::regclass and granted",
            (pid, table)).fetchall()}
        conn.execute("select pg_stat_force_next_flush()")
        conn.commit()
        probe.execute("select pg_stat_clear_snapshot()")
        read_after = probe.execute(stats).fetchone()[0]
        exists = probe.execute("select to_regclass(%s) is not null", (table,)).fetchone()[0]
        after = (probe.execute(filenode).fetchone()[0], _values(probe)) if exists else (None, {})
    # Lost: a column that was there is gone, or one of its values reads differently.
    lost = any(after[1].get(column) != values for column, values in before[1].items())
    return {"rewrite": before[0] != after[0], "scanned": read_after > read_before, "locks": locks,
            "lost": lost}


def _values(conn: psycopg.Connection) -> dict[str, list]:
    """Each column of public.t: its values as text, by id."""
    columns = [r[0] for r in conn.execute(
        "select attname from pg_attribute where attrelid = 'public.t'::regclass and attnum > 0 "
        "and not attisdropped").fetchall()]
    return {c: [r[0] for r in conn.execute(
        f'select "{c}"::text from public.t order by id').fetchall()] for c in columns}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_class_printed_is_class_observed(case: Case, pg_server, make_db) -> None:
    url = make_db(BASE + ROWS)
    current = introspect_url(url)
    desired = catalog_from_sql([("desired.sql", case.desired)], base_url=pg_server.url())
    result = plan(diff(current, desired), current, desired)
    ops = [op for op in result.ops if op.statements and op.action != "metadata"]
    assert len(ops) == 1, [op.to_data() for op in ops]
    op = ops[0]
    seen = _observe(url, list(op.statements), case.observed)
    if seen["lost"]:
        observed = "destructive"
    elif (seen["rewrite"] or seen["scanned"]) and seen["locks"] & _BLOCKS_WRITES:
        observed = "locking"
    else:
        observed = "safe"
    assert (op.safety, observed) == (case.expected, case.expected), (op.statements, seen)
