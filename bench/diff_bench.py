"""Benchmark: ``fraisec diff`` against migra on the same pair of N-table databases.

Not a test: it prints figures. For each N (default 500 and 2,000) it generates a base schema
(identity keys, uuid uniques, foreign keys, partial and expression indexes, CHECKs, RLS and
policies, comments, a view on every fifth table) and a changed version, builds both databases
on a throwaway embedded PostgreSQL, then times both tools on the same pair, printing wall time,
the ratio, peak memory (max RSS of the tool's process) and fraisec's number of introspection
queries (which must be the same at 10 and at 2,000 tables).

    python bench/diff_bench.py [--sizes 500 2000] [--migra /tmp/migra-venv/bin/migra] [--runs 3]

migra lives in its own venv:
``python3 -m venv /tmp/migra-venv && /tmp/migra-venv/bin/pip install migra psycopg2-binary 'sqlalchemy<2'``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from fraisec.catalog.introspect import QUERY_COUNT, introspect
from fraisec.pg.server import EmbeddedServer

_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
    "wall = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(r.returncode, wall, u.ru_maxrss, len(r.stdout), u.ru_utime + u.ru_stime)\n"
    "sys.stderr.write(r.stderr.decode(errors='replace')[-2000:])\n"
)


def schema(n: int, changed: bool) -> str:
    """N tables; the changed version alters every tenth table in several ways."""
    out = ["CREATE EXTENSION IF NOT EXISTS pgcrypto;", "CREATE SCHEMA app;"]
    for i in range(n):
        t = f"app.t{i:05d}"
        touched = changed and i % 10 == 3
        fk = f"parent_id bigint REFERENCES app.t{i - 1:05d} (id) ON DELETE CASCADE," if i else ""
        extra = "note text," if touched else ""
        check = "amount >= 1" if touched else "amount >= 0"
        out.append(f"""
CREATE TABLE {t} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pk_uuid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    org_id bigint NOT NULL,
    {fk}
    name text NOT NULL,
    amount numeric(12,2) NOT NULL DEFAULT 0 CONSTRAINT t{i:05d}_amount_check CHECK ({check}),
    {extra}
    deleted boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX t{i:05d}_org_live ON {t} (org_id) WHERE NOT deleted;
CREATE INDEX t{i:05d}_lower_name ON {t} ({'upper' if touched else 'lower'}(name));
ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
CREATE POLICY t{i:05d}_tenant ON {t} USING (org_id = current_setting('app.org_id')::bigint)
    {"WITH CHECK (NOT deleted)" if touched else ""};
COMMENT ON TABLE {t} IS '{"changed" if touched else "table"} {i}';""")
        if i % 5 == 0:
            cols = "id, name, amount" + (", org_id" if touched else "")
            out.append(f"CREATE VIEW app.v{i:05d} AS SELECT {cols} FROM {t} WHERE NOT deleted;")
    return "\n".join(out) + "\n"


def build(server: EmbeddedServer, name: str, sql_text: str) -> str:
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    url = server.url(name)
    # In chunks: one transaction over 2,000 tables runs out of lock slots.
    chunks = sql_text.split("\nCREATE TABLE ")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(chunks[0])
        for start in range(1, len(chunks), 100):
            conn.execute("".join("\nCREATE TABLE " + c for c in chunks[start:start + 100]))
    return url


def measure(cmd: list[str]) -> tuple[float, int, int, float]:
    """(wall seconds, peak RSS in MiB, output bytes, CPU seconds) of one run of ``cmd``.

    CPU time (user + system of the tool's process) is reported beside wall time because it is
    far less sensitive to other load on a shared machine."""
    r = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True)
    code, wall, rss, size, cpu = r.stdout.split()
    if int(code) not in (0, 2, 3):  # migra exits 2 when there are differences
        raise SystemExit(f"{cmd[0]} failed ({code}):\n{r.stderr}")
    return float(wall), int(rss) // 1024, int(size), float(cpu)


def import_seconds(cmd: list[str]) -> float:
    """Seconds one run of ``cmd`` (a ``python -m …`` command) spends importing modules, from
    ``python -X importtime`` (the sum of every module's own time): the fixed start-up cost."""
    r = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True)
    total = 0
    for line in r.stderr.splitlines():
        if line.startswith("import time:"):
            own = line.split(":", 1)[1].split("|")[0].strip()
            total += int(own) if own.isdigit() else 0
    return total / 1e6


def count_queries(url: str) -> int:
    seen = 0
    original = psycopg.Cursor.execute

    def counting(self, *args, **kwargs):
        nonlocal seen
        seen += 1
        return original(self, *args, **kwargs)

    psycopg.Cursor.execute = counting  # type: ignore[method-assign]
    try:
        with psycopg.connect(url) as conn:
            introspect(conn)
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]
    return seen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    ap.add_argument("--migra", default="/tmp/migra-venv/bin/migra")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool; the median is reported")
    args = ap.parse_args()
    fraisec = [sys.executable, "-m", "fraisec", "diff"]
    migra = args.migra if Path(args.migra).exists() else shutil.which("migra")

    server = EmbeddedServer.ephemeral().start()
    try:
        small = build(server, "bench_small", schema(10, False))
        print(f"introspection statements at 10 tables: {count_queries(small)} "
              f"(QUERY_COUNT {QUERY_COUNT} + transaction control)")
        for n in args.sizes:
            t0 = time.perf_counter()
            a = build(server, f"bench_a_{n}", schema(n, False))
            b = build(server, f"bench_b_{n}", schema(n, True))
            print(f"\n== {n} tables (built in {time.perf_counter() - t0:.1f}s); "
                  f"introspection statements: {count_queries(a)}")
            # Interleaved runs, so that load from elsewhere hits both tools alike.
            f_runs, m_runs = [], []
            for _ in range(args.runs):
                f_runs.append(measure([*fraisec, a, b, "--unsafe"]))
                if migra:
                    m_runs.append(measure([migra, "--unsafe", a, b]))
            f_wall = statistics.median(r[0] for r in f_runs)
            f_rss = max(r[1] for r in f_runs)
            f_cpu = statistics.median(r[3] for r in f_runs)
            print(f"fraisec diff: {f_wall:6.2f}s wall  {f_cpu:5.2f}s cpu  peak {f_rss} MiB  "
                  f"({f_runs[0][2]} bytes of SQL); of which imports "
                  f"{import_seconds([*fraisec, a, b, '--unsafe']):.2f}s")
            if not migra:
                print("migra: not installed (see the module docstring)")
                continue
            m_wall = statistics.median(r[0] for r in m_runs)
            m_rss = max(r[1] for r in m_runs)
            m_cpu = statistics.median(r[3] for r in m_runs)
            print(f"migra:        {m_wall:6.2f}s wall  {m_cpu:5.2f}s cpu  peak {m_rss} MiB  "
                  f"({m_runs[0][2]} bytes of SQL)")
            print(f"ratio fraisec/migra: wall {f_wall / m_wall:.2f}x (target <= 0.5x), "
                  f"cpu {f_cpu / m_cpu:.2f}x, memory {f_rss / m_rss:.2f}x (target <= 1x)")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
