"""Helpers for migration tests: write a migrations directory with its fraisec.sum."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg

from fraisec.migrations.checksum import write_sum


def write_migrations(directory: Path, files: dict[str, str], *, hashed: bool = True) -> Path:
    """Write ``{name: sql}`` into ``directory`` (created) and, by default, fraisec.sum."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    if hashed:
        rehash(directory)
    return directory


def rehash(directory: Path) -> None:
    names = sorted(p.name for p in directory.glob("*.sql"))
    write_sum(directory, [(n, (directory / n).read_text(encoding="utf-8")) for n in names])


def query(url: str, sql: str, params=None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def history(url: str) -> list[tuple]:
    """(version, name, steps_done, steps_total) rows; [] when there is no history table."""
    if not query(url, "SELECT to_regclass('fraisec_history.migrations')")[0][0]:
        return []
    return query(url, "SELECT version, name, steps_done, steps_total FROM "
                      "fraisec_history.migrations ORDER BY version")


def table_exists(url: str, name: str) -> bool:
    return query(url, "SELECT to_regclass(%s) IS NOT NULL", [name])[0][0]


def spawn_cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen:
    """The CLI in a separate process (to be killed, or run concurrently)."""
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.Popen([sys.executable, "-m", "fraisec", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def private_shadow_cache():
    """Module fixture body: in-process commands get their own cached shadow server, stopped
    (and its lock released) when the module ends.

    The embedded server is one per process and holds its cache directory's lock for as long as
    it runs; without this, a later test's `fraisec` subprocess using the suite's shared cache
    would wait for this pytest process to exit.
    """
    import shutil
    import tempfile

    import fraisec.catalog.shadow as shadow

    _stop_in_process_server(shadow)
    previous = os.environ.get("FRAISEC_CACHE_DIR")
    cache = tempfile.mkdtemp(prefix="fraisec-test-shadow-")
    os.chmod(cache, 0o755)  # the postgres OS user must enter it
    os.environ["FRAISEC_CACHE_DIR"] = cache
    try:
        yield cache
    finally:
        _stop_in_process_server(shadow)
        from fraisec.pg.server import stop_idle_servers

        stop_idle_servers(Path(cache))  # the subprocesses' server stays warm otherwise
        if previous is None:
            os.environ.pop("FRAISEC_CACHE_DIR", None)
        else:
            os.environ["FRAISEC_CACHE_DIR"] = previous
        shutil.rmtree(cache, ignore_errors=True)


def _stop_in_process_server(shadow) -> None:
    if getattr(shadow, "_server", None) is not None:
        shadow._server.stop()
        shadow._server = None
