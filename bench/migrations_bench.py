"""Migration figures (prints them; not a test).

    python bench/migrations_bench.py [N]

1. `migrate apply` of N small files (a table, an index, a row each) to an empty database:
   total and per-file time (lock, per-file transaction, history row included).
2. A no-op `migrate apply` over the same N applied files (verify sum + history, take the lock).
3. `migrate check` on examples/saas with its history replayed (desired and replayed shadows,
   introspection, diff), the command CI runs in `fraisec check`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from fraisec.migrations.apply import apply  # noqa: E402
from fraisec.migrations.checksum import write_sum  # noqa: E402
from fraisec.pg.server import EmbeddedServer  # noqa: E402


def _files(directory: Path, n: int) -> None:
    directory.mkdir()
    names = []
    for i in range(1, n + 1):
        name = f"{i:04d}_t{i}.sql"
        (directory / name).write_text(
            f"CREATE TABLE t{i} (id bigint PRIMARY KEY, v text);\n"
            f"CREATE INDEX ix_t{i}_v ON t{i} (v);\nINSERT INTO t{i} VALUES (1, 'x');\n")
        names.append(name)
    write_sum(directory, [(n_, (directory / n_).read_text()) for n_ in names])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    server = EmbeddedServer.ephemeral().start()
    tmp = Path(tempfile.mkdtemp(prefix="fraisec-bench-"))
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        url = server.url("bench")
        _files(tmp / "m", n)
        started = time.perf_counter()
        result = apply(url, tmp / "m")
        total = time.perf_counter() - started
        assert len(result.applied) == n
        print(f"apply {n} files: {total:.2f} s total, {total / n * 1000:.1f} ms per file")
        started = time.perf_counter()
        assert not apply(url, tmp / "m").applied
        print(f"apply with nothing pending ({n} applied): {(time.perf_counter() - started) * 1000:.0f} ms")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    _saas_check()


def _saas_check() -> None:
    import os

    from fraisec.migrations.drift import check_drift
    from fraisec.migrations.generate import migration_diff

    tmp = Path(tempfile.mkdtemp(prefix="fraisec-bench-saas-"))
    try:
        shutil.copytree(REPO / "examples" / "saas", tmp / "saas", ignore=shutil.ignore_patterns("build", "migrations"))
        os.chdir(tmp / "saas")
        started = time.perf_counter()
        migration_diff("init", "schema.py", Path("db"), Path("migrations"))
        print(f"migrate diff init (examples/saas: desired and empty shadows, then the verifying replay): "
              f"{time.perf_counter() - started:.2f} s")
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            drift = check_drift("schema.py", Path("db"), Path("migrations"))
            timings.append(time.perf_counter() - started)
            assert drift.clean, drift.differences
        print(f"migrate check (examples/saas, history replayed): best of 3 {min(timings):.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
