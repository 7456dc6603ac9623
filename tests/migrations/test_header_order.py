"""The header's ``outside transaction`` line says where each non-transactional statement runs,
as the file's statement order (what ``migrate apply`` and psql run, in order) really has it:
an ``ALTER TYPE … ADD VALUE`` before the first ``BEGIN``, a ``CREATE INDEX CONCURRENTLY`` after
a given ``COMMIT``. Checked by parsing a generated file's header against its segments, and by
applying the file."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from fraisec.catalog.introspect import introspect_url
from fraisec.catalog.shadow import catalog_from_sql
from fraisec.diff import diff
from fraisec.migrations.files import MigrationFile, read_header, segments
from fraisec.migrations.generate import FileParts, Rename, render_migration
from fraisec.plan import plan

BASE = """
CREATE TYPE public.status AS ENUM ('draft', 'live');
CREATE TABLE public.t (id int NOT NULL, code int, status public.status DEFAULT 'draft');
"""
ROWS = "INSERT INTO public.t SELECT g, g FROM generate_series(1, 50) g;"
DESIRED = """
CREATE TYPE public.status AS ENUM ('draft', 'live', 'archived');
CREATE TABLE public.t (id int NOT NULL, code int, status public.status DEFAULT 'archived');
ALTER TABLE public.t ADD CONSTRAINT t_code_key UNIQUE (code);
ALTER TABLE public.t ADD CONSTRAINT t_code_check CHECK (code > 0);
"""
_GROUP = re.compile(r"^(?P<n>\d+) (?P<where>before the first BEGIN|after COMMIT"
                    r"(?: of transaction (?P<k>\d+) of (?P<total>\d+))?) \((?P<first>.*)\)$")


def _claimed(line: str) -> list[tuple[int, int, str]]:
    """(transactions committed before, statements, first words) per group of the header line."""
    count, _, rest = line.partition(" statement(s): ")
    out = []
    for group in rest.split("; "):
        m = _GROUP.match(group)
        assert m, group
        k = 0 if m["where"].startswith("before") else int(m["k"] or 1)
        out.append((k, int(m["n"]), m["first"].rstrip(" …")))
    assert sum(n for _k, n, _f in out) == int(count)
    return out


def _actual(text: str) -> tuple[list[tuple[int, int, str]], int]:
    """The same, read from the file's segments as the applier splits them; and the number of
    transactions."""
    segs, problems = segments(MigrationFile(2, "x", Path("0002_x.sql"), text))
    assert problems == []
    out: list[tuple[int, int, str]] = []
    committed = 0
    for seg in segs:
        if seg.transactional:
            committed += 1
            continue
        raw = [s.raw.strip() for s in seg.statements if not s.raw.strip().upper().startswith("SET ")]
        if out and out[-1][0] == committed:
            out[-1] = (committed, out[-1][1] + len(raw), out[-1][2])
        else:
            out.append((committed, len(raw), " ".join(raw[0].split())))
    return out, committed


@pytest.mark.parametrize("renames", [(), (Rename("column", "public.t", "a", "b", "hint"),)],
                         ids=["no prelude", "a rename first"])
def test_the_header_says_where_each_statement_outside_a_transaction_runs(renames, pg_server, make_db) -> None:
    url = make_db(BASE + ROWS)
    current = introspect_url(url)
    desired = catalog_from_sql([("desired.sql", DESIRED)], base_url=pg_server.url())
    result = plan(diff(current, desired), current, desired, online=True)
    text = render_migration(FileParts("0002_x", "m", renames, lock_timeout="5s"), result, desired)
    claimed = _claimed(read_header(text)["outside transaction"])
    actual, transactions = _actual(text)
    assert [(k, n) for k, n, _f in claimed] == [(k, n) for k, n, _f in actual], text
    assert all(full.startswith(first) for (_k, _n, first), (_k2, _n2, full) in zip(claimed, actual))
    # ADD VALUE runs first of all without a prelude, after the prelude's COMMIT with one
    assert claimed[0][2].startswith("ALTER TYPE public.status ADD")
    assert claimed[0][0] == (1 if renames else 0)
    header = read_header(text)["outside transaction"]
    assert ("before the first BEGIN" in header) == (not renames)
    assert {int(t) for t in re.findall(r"of (\d+) \(", header)} == {transactions}
    if not renames:  # the file as written applies, in that order
        with psycopg.connect(url, autocommit=True) as conn:
            for seg in segments(MigrationFile(2, "x", Path("0002_x.sql"), text))[0]:
                if seg.transactional:
                    with conn.transaction():
                        for s in seg.statements:
                            conn.execute(s.raw)
                else:
                    for s in seg.statements:
                        conn.execute(s.raw)
        after = introspect_url(url)
        assert not plan(diff(after, desired), after, desired)
