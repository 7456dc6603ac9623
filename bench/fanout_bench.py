"""Fan-out figures (prints them; not a test).

    python bench/fanout_bench.py [SCHEMAS [DATABASES [JOBS]]]      # default 200 50 4

A 3-migration set (tables, an index, a view, a function with ``SET search_path FROM CURRENT``,
written with unqualified names so it serves both strategies) is applied:

1. to SCHEMAS tenant schemas of one database (schema per tenant), and
2. to DATABASES tenant databases (database per tenant):

   three targets alone, then once more with nothing pending (the baseline: the files' own cost
   against the fixed cost of a target: connect, session settings, advisory lock, history read);
   half the others one job at a time, the other half JOBS at a time; then a rerun over every
   target with nothing pending (the resumable rerun).

The per-target time (one job) is compared with one target alone: the overhead per target should
be close to the connection and lock cost, not to the cost of the files.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from fraisec.migrations.checksum import write_sum  # noqa: E402
from fraisec.migrations.fanout import Target, apply_many  # noqa: E402
from fraisec.pg.server import EmbeddedServer  # noqa: E402

FILES = {
    "0001_project.sql": """
CREATE TABLE tb_project (pk_project bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                         id uuid NOT NULL UNIQUE, identifier text NOT NULL UNIQUE, name text NOT NULL);
CREATE VIEW v_project AS SELECT id, jsonb_build_object('id', id, 'name', name) AS data FROM tb_project;
""",
    "0002_task.sql": """
CREATE TABLE tb_task (pk_task bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                      fk_project bigint NOT NULL REFERENCES tb_project, title text NOT NULL);
CREATE INDEX ix_task_project ON tb_task (fk_project);
""",
    "0003_counts.sql": """
BEGIN;
ALTER TABLE tb_project ADD COLUMN status text NOT NULL DEFAULT 'active';
CREATE FUNCTION fn_task_count(project uuid) RETURNS bigint LANGUAGE sql STABLE
    SET search_path FROM CURRENT
    AS $$ SELECT count(*) FROM tb_task t JOIN tb_project p ON p.pk_project = t.fk_project
          WHERE p.id = project $$;
COMMIT;
""",
}


def _directory(root: Path) -> Path:
    directory = root / "m"
    directory.mkdir()
    for name, text in FILES.items():
        (directory / name).write_text(text.lstrip())
    write_sum(directory, [(n, t.lstrip()) for n, t in FILES.items()])
    return directory


def _timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _create_databases(admin: str, names: list[str]) -> float:
    seconds, _ = _timed(lambda: [_execute(admin, sql.SQL("CREATE DATABASE {}").format(
        sql.Identifier(n))) for n in names])
    return seconds


def _execute(url: str, statement) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def _fan_out(label: str, targets: list[Target], directory: Path, jobs: int) -> None:
    """The first 3 targets alone (median: the baseline), half the rest one at a time, the
    other half ``jobs`` at a time, then a rerun over all of them with nothing pending."""
    alone = [_timed(lambda t=t: apply_many([t], directory, jobs=1))[0] for t in targets[:3]]
    noops = [_timed(lambda t=t: apply_many([t], directory, jobs=1))[0] for t in targets[:3]]
    one, noop = statistics.median(alone), statistics.median(noops)
    files = one - noop
    rest = targets[3:]
    half = len(rest) // 2
    serial, results = _timed(lambda: apply_many(rest[:half], directory, jobs=1))
    assert all(r.ok and len(r.applied) == 3 for r in results), [r.diagnostics for r in results]
    per_target = serial / half
    wall, results = _timed(lambda: apply_many(rest[half:], directory, jobs=jobs))
    assert all(r.ok and len(r.applied) == 3 for r in results)
    rerun, results = _timed(lambda: apply_many(targets, directory, jobs=jobs))
    assert all(r.ok and not r.applied for r in results)
    print(f"{label}: one target alone (median of 3): {one * 1000:.1f} ms; with nothing pending "
          f"(connect, lock, history): {noop * 1000:.1f} ms; the files themselves: "
          f"{files * 1000:.1f} ms")
    print(f"{label}: {half} targets with 1 job: {serial:.2f} s, {per_target * 1000:.1f} ms per "
          f"target ({per_target / one:.2f}x one target alone; "
          f"{(per_target - files) * 1000:.1f} ms beyond the files)")
    print(f"{label}: {len(rest) - half} targets with {jobs} jobs: {wall:.2f} s wall, "
          f"{wall / (len(rest) - half) * 1000:.1f} ms per target")
    print(f"{label}: rerun over all {len(targets)}, nothing pending, {jobs} jobs: {rerun:.2f} s "
          f"wall, {rerun / len(targets) * 1000:.1f} ms per target")


def main() -> None:
    schemas = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    databases = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    server = EmbeddedServer.ephemeral().start()
    tmp = Path(tempfile.mkdtemp(prefix="fraisec-fanout-bench-"))
    try:
        directory = _directory(tmp)
        admin = server.url()
        _create_databases(admin, ["shared"])
        shared = server.url("shared")
        names = [f"tenant_{i:04d}" for i in range(schemas)]
        created, _ = _timed(lambda: [_execute(shared, sql.SQL("CREATE SCHEMA {}").format(
            sql.Identifier(n))) for n in names])
        print(f"schema per tenant: CREATE SCHEMA x {schemas}: {created:.2f} s")
        _fan_out("schema per tenant", [Target(shared, n, n) for n in names], directory, jobs)

        dbs = [f"tenant_db_{i:03d}" for i in range(databases)]
        created = _create_databases(admin, dbs)
        print(f"database per tenant: CREATE DATABASE x {databases}: {created:.2f} s "
              f"({created / databases * 1000:.0f} ms each)")
        _fan_out("database per tenant", [Target(server.url(n), n) for n in dbs], directory, jobs)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
