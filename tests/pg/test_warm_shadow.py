"""The warm shadow: a cached server outlives the command that started it, replayed histories are
kept as template databases, and none of it changes a result.

Each test uses a cache directory of its own (under /tmp: the server may run as the postgres OS
user), so its server and its watcher are its own to observe; every one is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

import fraisec.catalog.shadow as shadow
from fraisec.catalog.shadow import catalog_from_sql
from fraisec.migrations.replay import history_catalog
from fraisec.pg import pool
from fraisec.pg.server import KEEPALIVE_ENV, EmbeddedServer, stop_idle_servers
from tests.migrations.util import write_migrations

HISTORY = {
    "0001_accounts.sql": """
        CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL);
        CREATE INDEX account_email ON account (email);
    """,
    "0002_plans.sql": """
        CREATE TYPE plan AS ENUM ('free', 'pro');
        ALTER TABLE account ADD COLUMN plan plan NOT NULL DEFAULT 'free';
    """,
    "0003_view.sql": """
        CREATE VIEW v_account AS SELECT id, email, plan FROM account;
        COMMENT ON VIEW v_account IS 'accounts';
    """,
}


def _processes_under(root: Path) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(root) in cmdline:
            found.append(f"{pid}: {cmdline[:120]}")
    return found


def _wait_until_gone(root: Path, seconds: float = 20.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := _processes_under(root)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache of its own for this process (in-process shadow) and its subprocesses."""
    path = Path(tempfile.mkdtemp(prefix="fsc-warm-"))
    path.chmod(0o755)
    if shadow._server is not None:
        shadow._server.stop()
    monkeypatch.setattr(shadow, "_server", None)
    monkeypatch.setenv("FRAISEC_CACHE_DIR", str(path))
    monkeypatch.setenv(KEEPALIVE_ENV, "600")
    try:
        yield path
    finally:
        if shadow._server is not None:
            shadow._server.stop(linger=False)
        stop_idle_servers(path)
        left = _wait_until_gone(path)
        shutil.rmtree(path, ignore_errors=True)
        assert left == [], left


def _fraisec(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fraisec", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "CI": "1", **env})


def _databases(server_url: str, prefix: str) -> list[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s) "
                            "ORDER BY datname", (prefix,)).fetchall()
    return [r[0] for r in rows]


def _applied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the SQL files the shadow applies from now on (the real apply still runs)."""
    seen: list[str] = []
    real = shadow.apply_sql_files

    def spy(url: str, sources) -> None:
        seen.extend(name for name, _text in sources)
        real(url, sources)

    monkeypatch.setattr(shadow, "apply_sql_files", spy)
    return seen


def _cold(directory: Path) -> object:
    """The history replayed the plain way: every file into a fresh database, nothing kept."""
    files = sorted(directory.glob("*.sql"))
    return catalog_from_sql([(str(p), p.read_text(encoding="utf-8")) for p in files])


def test_a_kept_history_is_read_in_place_and_equals_a_full_replay(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    migrations = write_migrations(tmp_path / "migrations", HISTORY)
    first = history_catalog(migrations)
    assert len(_databases(shadow.embedded_server().url(), "fraisec_tpl_")) == 1
    applied = _applied(monkeypatch)
    again = history_catalog(migrations)
    assert applied == []  # nothing replayed: the template was read
    assert again == first
    assert again == _cold(migrations)
    assert "public.v_account" in again.view and "public.plan" in again.enum


def test_a_grown_history_replays_only_its_new_file(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    migrations = write_migrations(tmp_path / "migrations", HISTORY)
    history_catalog(migrations)
    write_migrations(migrations, {"0004_note.sql": "ALTER TABLE account ADD COLUMN note text;"})
    applied = _applied(monkeypatch)
    grown = history_catalog(migrations)
    assert [Path(name).name for name in applied] == ["0004_note.sql"]
    assert [c.name for c in grown.table["public.account"].columns][-1] == "note"
    assert grown == _cold(migrations)


def test_an_edited_file_never_comes_from_a_stale_template(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    migrations = write_migrations(tmp_path / "migrations", HISTORY)
    before = history_catalog(migrations)
    # The second file changes: its prefix (and every longer one) has another key now.
    (migrations / "0002_plans.sql").write_text(textwrap.dedent("""
        CREATE TYPE plan AS ENUM ('free', 'team', 'pro');
        ALTER TABLE account ADD COLUMN plan plan NOT NULL DEFAULT 'team';
    """), encoding="utf-8")
    write_migrations(migrations, {}, hashed=True)
    applied = _applied(monkeypatch)
    after = history_catalog(migrations)
    assert [Path(name).name for name in applied] == ["0001_accounts.sql", "0002_plans.sql",
                                                     "0003_view.sql"]
    assert after.enum["public.plan"].labels == ("free", "team", "pro")
    assert after != before
    assert after == _cold(migrations)


def test_extra_sql_after_a_kept_history_is_applied_to_a_copy(
        cache: Path, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", HISTORY)
    plain = history_catalog(migrations)
    extra = history_catalog(migrations, extra=[("extra.sql", "CREATE TABLE audit (id int);")])
    assert "public.audit" in extra.table and "public.audit" not in plain.table
    assert history_catalog(migrations) == plain  # the template itself was not changed


def test_an_evicted_template_falls_back_to_a_full_replay(
        cache: Path, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", HISTORY)
    first = history_catalog(migrations)
    server_url = shadow.embedded_server().url()
    keys = pool.chain_keys([p.read_text(encoding="utf-8") for p in sorted(migrations.glob("*.sql"))])
    assert pool.template_name(keys[-1]) in _databases(server_url, "fraisec_tpl_")
    # Another process evicts the templates between this one's look-up and its use.
    real = pool.longest_template

    def evicted_meanwhile(conn, found_keys):
        found = real(conn, found_keys)
        for name in _databases(server_url, "fraisec_tpl_"):
            conn.execute(f'ALTER DATABASE "{name}" IS_TEMPLATE false')
            conn.execute(f'DROP DATABASE "{name}"')
        return found

    pool.longest_template = evicted_meanwhile
    try:
        assert history_catalog(migrations) == first
    finally:
        pool.longest_template = real


def test_spares_are_taken_by_rename_and_maintenance_tops_them_up(cache: Path) -> None:
    server = shadow.embedded_server()
    pool.maintain(server.url())
    spares = _databases(server.url(), "fraisec_spare_empty_")
    assert len(spares) == pool.EMPTY_SPARES
    with shadow.shadow_database() as url:
        with psycopg.connect(url) as conn:  # a real, empty database
            assert conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = "
                                "'public'::regnamespace").fetchone() == (0,)
        assert len(_databases(server.url(), "fraisec_spare_empty_")) == pool.EMPTY_SPARES - 1
    pool.maintain(server.url())
    assert len(_databases(server.url(), "fraisec_spare_empty_")) == pool.EMPTY_SPARES
    assert _databases(server.url(), "fraisec_shadow_") == []


def test_the_server_outlives_the_command_and_the_watcher_stops_it_when_idle(
        cache: Path, tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n", encoding="utf-8")
    (tmp_path / "b.sql").write_text("CREATE TABLE t (id int PRIMARY KEY, n text);\n", encoding="utf-8")
    first = _fraisec("diff", "a.sql", "b.sql", cwd=tmp_path, **{KEEPALIVE_ENV: "5"})
    assert first.returncode == 0, first.stderr
    root = next(cache.glob("pg*"))
    server = EmbeddedServer(root, remove_on_stop=False, bindir=Path("/nonexistent"))
    assert server.is_running()  # warm for the next command
    pid = server.postmaster_pid()
    second = _fraisec("diff", "a.sql", "b.sql", cwd=tmp_path, **{KEEPALIVE_ENV: "2"})
    assert second.stdout == first.stdout and "ADD COLUMN n text" in second.stdout
    assert server.postmaster_pid() == pid  # the same server: not started again
    # Idle for longer than the keep-alive the last command asked for: the watcher stops it.
    assert _wait_until_gone(cache, 30) == []
    assert not server.is_running()
    assert list(cache.rglob("postmaster.pid")) == []


def test_concurrent_commands_share_the_server(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n", encoding="utf-8")
    (tmp_path / "b.sql").write_text("CREATE TABLE t (id int PRIMARY KEY, n text);\n", encoding="utf-8")
    env = {**os.environ, "CI": "1", KEEPALIVE_ENV: "600"}
    procs = [subprocess.Popen([sys.executable, "-m", "fraisec", "diff", "a.sql", "b.sql"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outputs
    assert len({out for out, _err in outputs}) == 1
    watchers = [line for line in _processes_under(cache) if "fraisec.pg.reaper" in line]
    assert len(watchers) == 1, watchers


def test_a_removed_cache_directory_takes_its_server_down(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n", encoding="utf-8")
    result = _fraisec("diff", "empty", "a.sql", cwd=tmp_path, **{KEEPALIVE_ENV: "600"})
    assert result.returncode == 0, result.stderr
    assert _processes_under(cache)
    shutil.rmtree(cache)
    assert _wait_until_gone(cache, 20) == []


def test_keepalive_zero_stops_with_the_last_command(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n", encoding="utf-8")
    result = _fraisec("diff", "empty", "a.sql", cwd=tmp_path, **{KEEPALIVE_ENV: "0"})
    assert result.returncode == 0, result.stderr
    assert _wait_until_gone(cache, 10) == []
    assert list(cache.rglob("postmaster.pid")) == []


MIGRATE_SCHEMA = """
    import fraisec as fq

    @fq.entity
    class Account:
        identifier: str = fq.field(unique=True)
        email: str
"""


def test_migrate_diff_warm_equals_cold(cache: Path, tmp_path: Path) -> None:
    """The same command, on a fresh cache with nothing kept, and then warm (templates, spares,
    a running server): the same file, byte for byte."""
    (tmp_path / "schema.py").write_text(textwrap.dedent(MIGRATE_SCHEMA).lstrip(), encoding="utf-8")
    first = _fraisec("migrate", "diff", "init", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    (tmp_path / "schema.py").write_text(textwrap.dedent(MIGRATE_SCHEMA).lstrip()
                                        + "    name: str | None = None\n", encoding="utf-8")
    cold_cache = Path(tempfile.mkdtemp(prefix="fsc-cold-"))
    cold_cache.chmod(0o755)
    try:
        cold = _fraisec("migrate", "diff", "add_name", "--dry-run", cwd=tmp_path,
                        FRAISEC_CACHE_DIR=str(cold_cache), **{KEEPALIVE_ENV: "0"})
    finally:
        stop_idle_servers(cold_cache)
        shutil.rmtree(cold_cache, ignore_errors=True)
    warm = [_fraisec("migrate", "diff", "add_name", "--dry-run", cwd=tmp_path) for _ in range(2)]
    assert cold.returncode == 0, cold.stdout + cold.stderr
    assert "ADD COLUMN name" in cold.stdout
    assert [w.stdout for w in warm] == [cold.stdout, cold.stdout]
    assert _databases(EmbeddedServer(next(cache.glob("pg*")), remove_on_stop=False,
                                     bindir=Path("/nonexistent")).url(), "fraisec_tpl_")
