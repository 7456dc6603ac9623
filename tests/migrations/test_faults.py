"""Fault tests on real PostgreSQL: a SIGKILLed applier, and two appliers at once."""

from __future__ import annotations

import os
import signal
import time

from tests.migrations.util import history, query, spawn_cli, table_exists, write_migrations

# Sleeps only when the session says so, so the same file completes quickly on the next run.
SLOW = "SELECT pg_sleep(CASE WHEN current_setting('fraisec_test.slow', true) = 'on' THEN 60 ELSE 0 END);\n"


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def _sleeping(url: str) -> int:
    return query(url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")[0][0]


def _apply_killed_while_sleeping(url: str, directory) -> int:
    """Start an applier in slow mode, SIGKILL it while a file sleeps; its exit status."""
    proc = spawn_cli("migrate", "apply", "--database", url, "--dir", str(directory),
                     env_extra={"PGOPTIONS": "-c fraisec_test.slow=on"})
    try:
        _wait_for(lambda: _sleeping(url) == 1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode


def _apply_again(url: str, directory) -> None:
    rerun = spawn_cli("migrate", "apply", "--database", url, "--dir", str(directory),
                      "--lock-timeout", "20")
    _, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err


def test_sigkill_mid_file_leaves_the_database_as_before_that_file(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {
        "0001_init.sql": "CREATE TABLE tb_org (id int PRIMARY KEY);\nINSERT INTO tb_org VALUES (1);\n",
        "0002_user.sql": "CREATE TABLE tb_user (id int);\nINSERT INTO tb_org VALUES (2);\n" + SLOW
                         + "ALTER TABLE tb_org ADD COLUMN plan text;\n",
        "0003_more.sql": "CREATE TABLE tb_more (id int);\n",
    })
    # Killed while 0002 is mid-file: its first statements ran, the sleep is running.
    assert _apply_killed_while_sleeping(url, d) == -signal.SIGKILL
    # The orphaned backend notices the closed socket (client_connection_check_interval) and its
    # transaction rolls back: the database is exactly as 0001 left it.
    _wait_for(lambda: _sleeping(url) == 0, timeout=20)
    assert history(url) == [(1, "0001_init.sql", 1, 1)]
    assert not table_exists(url, "tb_user")
    assert query(url, "SELECT id FROM tb_org") == [(1,)]
    # The next apply completes.
    _apply_again(url, d)
    assert [r[1] for r in history(url)] == ["0001_init.sql", "0002_user.sql", "0003_more.sql"]
    assert query(url, "SELECT id FROM tb_org ORDER BY id") == [(1,), (2,)]
    assert table_exists(url, "tb_user") and table_exists(url, "tb_more")


def test_sigkill_in_the_non_transactional_part_resumes_there(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {
        "0001_init.sql": "BEGIN;\nCREATE TABLE tb_org (id int, plan text);\nCOMMIT;\n" + SLOW
                         + "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_org_plan ON tb_org (plan);\n",
    })
    _apply_killed_while_sleeping(url, d)
    # The transactional part committed with its row, which says the file is unfinished.
    assert history(url) == [(1, "0001_init.sql", 1, 3)]
    _wait_for(lambda: _sleeping(url) == 0, timeout=20)
    _apply_again(url, d)
    assert history(url) == [(1, "0001_init.sql", 3, 3)]
    assert table_exists(url, "ix_org_plan")


def test_two_appliers_started_at_once_apply_each_file_exactly_once(make_db, tmp_path):
    url = make_db()
    files = {"0001_log.sql": "CREATE TABLE applied_log (file text);\n"
                             "INSERT INTO applied_log VALUES ('0001');\nSELECT pg_sleep(0.3);\n"}
    for n in range(2, 6):
        files[f"{n:04d}_step{n}.sql"] = (f"INSERT INTO applied_log VALUES ('{n:04d}');\n"
                                         "SELECT pg_sleep(0.2);\n")
    d = write_migrations(tmp_path / "m", files)
    procs = [spawn_cli("migrate", "apply", "--database", url, "--dir", str(d), "--lock-timeout", "30")
             for _ in range(2)]
    results = [p.communicate(timeout=90) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert query(url, "SELECT file, count(*) FROM applied_log GROUP BY file ORDER BY file") == [
        (f"{n:04d}", 1) for n in range(1, 6)]
    assert [r[0] for r in history(url)] == [1, 2, 3, 4, 5]
    # One of them did the work; the other waited for the lock and found nothing pending.
    stderr = sorted(err for _, err in results)
    assert any("nothing to apply" in e for e in stderr) and any("applied 5 files" in e for e in stderr)
