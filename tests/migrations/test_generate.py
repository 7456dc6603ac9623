"""The migration file layout: header, one BEGIN/COMMIT block, non-transactional steps after it,
destructive and locking steps marked; what the applier reads back from it."""

from __future__ import annotations

from pathlib import Path

from fraisec.catalog.model import Catalog
from fraisec.migrations.files import MigrationFile, read_header, segments
from fraisec.migrations.generate import FileParts, Rename, render_migration
from fraisec.plan import Op, Plan


def _plan() -> Plan:
    return Plan(ops=(
        Op("1", "table", "app.t", "drop column", ("ALTER TABLE app.t DROP COLUMN old",),
           safety="destructive", reason="column old not wanted"),
        Op("2", "table", "app.t", "add column", ("ALTER TABLE app.t ADD COLUMN n int",)),
        Op("3", "index", "app.ix_t_n", "create", ("CREATE INDEX CONCURRENTLY ix_t_n ON app.t (n)",),
           safety="locking", transactional=False),
    ))


def test_layout_and_what_the_applier_reads_back():
    renames = (Rename("column", "app.t", "a", "b", "T.b renamed_from='a'"),)
    text = render_migration(FileParts("0007_x", "migrations 0001..0006 (replayed)", renames),
                            _plan(), Catalog())
    header = read_header(text)
    assert header["safety"] == "destructive"
    assert header["outside transaction"] == "1 statement(s): 1 after COMMIT (CREATE INDEX CONCURRENTLY ix_t_n …)"
    assert header["rename"] == "column app.t.a -> b (T.b renamed_from='a')"
    lines = text.splitlines()
    assert lines.index("BEGIN;") < lines.index("ALTER TABLE app.t RENAME COLUMN a TO b;") \
        < lines.index("-- fraisec: destructive (drop column table app.t: column old not wanted)") \
        < lines.index("ALTER TABLE app.t DROP COLUMN old;") < lines.index("COMMIT;") \
        < lines.index("CREATE INDEX CONCURRENTLY ix_t_n ON app.t (n);")
    segs, problems = segments(MigrationFile(7, "x", Path("0007_x.sql"), text))
    assert problems == []
    assert [(s.transactional, len(s.statements)) for s in segs] == [(True, 4), (False, 1)]
    assert render_migration(FileParts("0007_x", "m", renames), _plan(), Catalog()) == \
        render_migration(FileParts("0007_x", "m", renames), _plan(), Catalog())


def test_a_rewrite_is_marked_with_its_duration_class() -> None:
    op = Op("column:table app.t:n", "table", "app.t", "alter column",
            ("ALTER TABLE app.t ALTER COLUMN n TYPE bigint",), "locking", rewrites=True)
    unknown = render_migration(FileParts("0002_x", "m"), Plan((op,)), Catalog())
    assert "-- rewrite: app.t (duration grows with the table's size;" in unknown
    sized = render_migration(FileParts("0002_x", "m", table_sizes={"app.t": 3 * 2**30}),
                             Plan((op,)), Catalog())
    assert "-- rewrite: app.t (3072 MB: expect minutes, reads and writes wait)" in sized
    lines = sized.splitlines()
    marker = lines.index("-- fraisec: rewrite of app.t under ACCESS EXCLUSIVE "
                         "(3072 MB: expect minutes, reads and writes wait)")
    assert lines[marker + 1] == "ALTER TABLE app.t ALTER COLUMN n TYPE bigint;"
