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
from fraisec.plan import Plan, plan
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
    Case("unique with include", "ALTER TABLE public.t ADD CONSTRAINT u UNIQUE (code) INCLUDE (note);",
         ("CREATE UNIQUE INDEX CONCURRENTLY u ON public.t (code) INCLUDE (note)",
          "ALTER TABLE public.t ADD CONSTRAINT u UNIQUE USING INDEX u"), None),
    Case("unique nulls not distinct", "ALTER TABLE public.t ADD CONSTRAINT u UNIQUE NULLS NOT DISTINCT (code);",
         ("CREATE UNIQUE INDEX CONCURRENTLY u ON public.t (code) NULLS NOT DISTINCT",
          "ALTER TABLE public.t ADD CONSTRAINT u UNIQUE USING INDEX u"), None),
    Case("unique deferrable",
         "ALTER TABLE public.t ADD CONSTRAINT u UNIQUE (code, note) DEFERRABLE INITIALLY DEFERRED;",
         ("CREATE UNIQUE INDEX CONCURRENTLY u ON public.t (code, note)",
          "ALTER TABLE public.t ADD CONSTRAINT u UNIQUE USING INDEX u DEFERRABLE INITIALLY DEFERRED"), None),
    Case("primary key with include, deferrable",
         "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id) INCLUDE (code) DEFERRABLE;",
         ("CREATE UNIQUE INDEX CONCURRENTLY t_pkey ON public.t (id) INCLUDE (code)",
          "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey DEFERRABLE"), None),
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


def _indexes(url: str, table: str = "public.t") -> list[tuple]:
    """Each index on the table as PostgreSQL defines it (key, INCLUDE, NULLS NOT DISTINCT,
    deferrability: indimmediate), with the constraint that owns it."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT pg_get_indexdef(i.indexrelid), i.indisvalid, i.indimmediate, i.indisprimary, "
            "c.conname, c.condeferrable, c.condeferred FROM pg_index i LEFT JOIN pg_constraint c "
            "ON c.conindid = i.indexrelid WHERE i.indrelid = %s::regclass ORDER BY 1",
            [table]).fetchall()


def _rows(url: str, table: str = "public.t") -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()


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
    assert _indexes(online_db) == _indexes(plain_db)
    assert _not_null(online_db) == _not_null(plain_db)
    assert _rows(online_db) == _rows(plain_db) and len(_rows(online_db)) == 50


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


PARTITIONED = """
CREATE TABLE public.p (id int NOT NULL, code int) PARTITION BY RANGE (id);
CREATE TABLE public.p1 PARTITION OF public.p FOR VALUES FROM (0) TO (100);
CREATE TABLE public.p2 PARTITION OF public.p FOR VALUES FROM (100) TO (200);
"""
PARTITION_ROWS = "INSERT INTO public.p SELECT g, g FROM generate_series(1, 150) g;"


def _index_oids(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT indexrelid::regclass::text, indexrelid::int FROM pg_index "
                                 "WHERE indrelid IN ('public.p1'::regclass, 'public.p2'::regclass)"
                                 ).fetchall())


@pytest.mark.parametrize("change, children", [
    ("ALTER TABLE public.p ADD CONSTRAINT p_pkey PRIMARY KEY (id);", ("p1_pkey", "p2_pkey")),
    ("ALTER TABLE public.p ADD CONSTRAINT p_code_key UNIQUE (code, id) DEFERRABLE;",
     ("p1_code_id_key", "p2_code_id_key")),
], ids=["primary key", "unique deferrable"])
def test_a_key_on_a_partitioned_table_is_built_on_each_partition(change: str, children: tuple[str, ...],
                                                                 pg_server, make_db) -> None:
    """Each partition's index CONCURRENTLY and its constraint USING INDEX; the parent's ADD
    CONSTRAINT then attaches those indexes (the same index oids afterwards: nothing rebuilt
    under the parent's lock) and ends like the plain form."""
    online_db, plain_db = make_db(PARTITIONED + PARTITION_ROWS), make_db(PARTITIONED + PARTITION_ROWS)
    current = introspect_url(online_db)
    desired = catalog_from_sql([("desired.sql", PARTITIONED + change)], base_url=pg_server.url())
    online = plan(diff(current, desired), current, desired, online=True)
    plain = plan(diff(current, desired), current, desired)
    statements = _statements(online)
    assert [s.split(" ON ")[0] for s in statements if "CONCURRENTLY" in s] == [
        "CREATE UNIQUE INDEX CONCURRENTLY " + n for n in children]
    assert statements[-1] == change.rstrip(";")  # the parent's plain form, last
    last = max(i for i, op in enumerate(online.ops) if op.statements)
    _apply(online_db, Plan(online.ops[:last]))
    before_parent = _index_oids(online_db)  # the partitions' indexes, before the parent's step
    _apply(online_db, Plan(online.ops[last:]))
    _apply(plain_db, plain)
    after = introspect_url(online_db)
    assert not plan(diff(after, desired), after, desired), "the online form did not converge"
    for table in ("public.p", "public.p1", "public.p2"):
        assert _indexes(online_db, table) == _indexes(plain_db, table), table
        assert _rows(online_db, table) == _rows(plain_db, table)
    assert len(_rows(online_db, "public.p")) == 150
    assert before_parent == _index_oids(online_db)
    with psycopg.connect(online_db) as conn:
        inherited = conn.execute("SELECT conrelid::regclass::text, conislocal, coninhcount FROM "
                                 "pg_constraint WHERE conparentid <> 0 ORDER BY 1").fetchall()
    assert inherited == [("p1", False, 1), ("p2", False, 1)]


def _unique_indexes(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'public.t'::regclass "
        "AND indisunique AND indisvalid ORDER BY 1").fetchall()]


@pytest.mark.parametrize("old, new", [
    ("ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);",
     "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id, code);"),
    ("ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);",
     "ALTER TABLE public.t ADD CONSTRAINT t_key PRIMARY KEY (code, id);"),
], ids=["same name", "new name"])
def test_replacing_a_primary_key_keeps_a_unique_index_throughout(old: str, new: str, pg_server, make_db) -> None:
    """The new key's index is built CONCURRENTLY while the old key holds; the old key is
    dropped in the transaction that attaches the new one. After every part of the file (each
    transaction, each statement outside one), the table has a valid unique index."""
    url = make_db(BASE + ROWS + old)
    plain_db = make_db(BASE + ROWS + old)
    current = introspect_url(url)
    desired = catalog_from_sql([("desired.sql", BASE + new)], base_url=pg_server.url())
    online = plan(diff(current, desired), current, desired, online=True)
    seen: list[list[str]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for transactional, ops in split_segments(online):
            statements = [s for op in ops for s in op.statements]
            if transactional:
                with conn.transaction():
                    for s in statements:
                        conn.execute(s)
            else:
                for s in statements:
                    conn.execute(s)
            seen.append(_unique_indexes(conn))
    assert len(seen) >= 2 and all(seen), seen  # never without a unique index
    _apply(plain_db, plan(diff(current, desired), current, desired))
    after = introspect_url(url)
    assert not plan(diff(after, desired), after, desired), "did not converge"
    assert _constraints(url) == _constraints(plain_db)
    assert _indexes(url) == _indexes(plain_db)
    assert _rows(url) == _rows(plain_db)


def test_an_index_on_a_partitioned_table_is_built_on_each_partition_concurrently(pg_server, make_db) -> None:
    """CREATE INDEX ON ONLY the parent, CONCURRENTLY on each partition (named as the plain form
    names them), ATTACH PARTITION each: the parent's index ends valid, like the plain form's."""
    change = "CREATE INDEX p_lower_idx ON public.p (lower(code::text)) WHERE code > 3;"
    online_db, plain_db = make_db(PARTITIONED + PARTITION_ROWS), make_db(PARTITIONED + PARTITION_ROWS)
    current = introspect_url(online_db)
    desired = catalog_from_sql([("desired.sql", PARTITIONED + change)], base_url=pg_server.url())
    online = plan(diff(current, desired), current, desired, online=True)
    statements = _statements(online)
    assert statements[0].startswith("CREATE INDEX p_lower_idx ON ONLY public.p ")
    assert [s.split(" ON ")[0] for s in statements[1:3]] == [
        "CREATE INDEX CONCURRENTLY p1_lower_idx", "CREATE INDEX CONCURRENTLY p2_lower_idx"]
    assert statements[3:] == ["ALTER INDEX public.p_lower_idx ATTACH PARTITION public.p1_lower_idx",
                              "ALTER INDEX public.p_lower_idx ATTACH PARTITION public.p2_lower_idx"]
    _apply(online_db, online)
    _apply(plain_db, plan(diff(current, desired), current, desired))
    after = introspect_url(online_db)
    assert not plan(diff(after, desired), after, desired), "the online form did not converge"
    for table in ("public.p", "public.p1", "public.p2"):
        assert _indexes(online_db, table) == _indexes(plain_db, table), table
    assert _indexes(online_db, "public.p")[0][1] is True  # valid: every partition attached
    assert _rows(online_db, "public.p") == _rows(plain_db, "public.p")


def test_a_step_without_an_online_form_is_named_in_the_header_with_its_lock(pg_server, make_db) -> None:
    """An EXCLUDE constraint (no USING INDEX form), an index on a table partitioned twice (no
    CONCURRENTLY through a partitioned partition), SET NOT NULL on a partitioned table and a
    CHECK on a partition keep their plain forms; the migration header says so for each, with the lock it takes.
    --no-online files say nothing."""
    from fraisec.catalog.model import Catalog
    from fraisec.migrations.generate import FileParts, render_migration
    from fraisec.migrations.files import read_header

    base = PARTITIONED.replace(
        "CREATE TABLE public.p2 PARTITION OF public.p FOR VALUES FROM (100) TO (200);",
        "CREATE TABLE public.p2 PARTITION OF public.p FOR VALUES FROM (100) TO (200) PARTITION BY RANGE (id);\n"
        "CREATE TABLE public.p2a PARTITION OF public.p2 FOR VALUES FROM (100) TO (200);") + BASE
    url = make_db(base + PARTITION_ROWS + ROWS)
    current = introspect_url(url)
    desired = catalog_from_sql([("desired.sql", base + """
        ALTER TABLE public.t ADD CONSTRAINT t_x EXCLUDE USING btree (code WITH =);
        ALTER TABLE public.p ALTER COLUMN code SET NOT NULL;
        ALTER TABLE public.p1 ADD CONSTRAINT p1_code CHECK (code > 0);
        ALTER TABLE public.t ADD CONSTRAINT t_code CHECK (code > 0) NOT VALID;
        CREATE INDEX p_code_idx ON public.p (code);""")], base_url=pg_server.url())
    online = plan(diff(current, desired), current, desired, online=True)
    text = render_migration(FileParts("0002_x", "m"), online, Catalog())
    lines = [line for line in text.splitlines() if line.startswith("-- online: none for ")]
    assert sorted(lines) == [  # not the NOT VALID check: it does not scan
        "-- online: none for CHECK public.p1.p1_code on a partition: plain ADD CONSTRAINT, ACCESS "
        "EXCLUSIVE while every row is checked: reads and writes wait",
        "-- online: none for EXCLUDE public.t.t_x: plain ADD CONSTRAINT, ACCESS EXCLUSIVE while the "
        "exclusion index is built: reads and writes wait",
        "-- online: none for SET NOT NULL on public.p.code on a partitioned table: plain SET NOT NULL, "
        "ACCESS EXCLUSIVE while every row is checked: reads and writes wait",
        "-- online: none for index public.p_code_idx on a partitioned table: plain CREATE INDEX, "
        "SHARE on the table and its partitions while every partition's index is built: writes wait",
    ], text
    assert read_header(text)["safety"] == "locking"
    plain = plan(diff(current, desired), current, desired)
    assert "-- online:" not in render_migration(FileParts("0002_x", "m"), plain, Catalog())
    _apply(url, online)  # the plain forms apply, on rows
    after = introspect_url(url)
    assert not plan(diff(after, desired), after, desired)
