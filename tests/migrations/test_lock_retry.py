"""A part of a migration that hits its lock_timeout is run again, a bounded number of times
(issue 16 item 3), on real PostgreSQL with a second session holding the table."""

from __future__ import annotations

import psycopg
import pytest

from fraisec.migrations.apply import MigrationError, Settings, apply
from tests.migrations.util import history, query, write_migrations

INIT = "CREATE TABLE tb_org (id int PRIMARY KEY); INSERT INTO tb_org VALUES (1);"
ADD = """
SET lock_timeout = '100ms';

BEGIN;
ALTER TABLE tb_org ADD COLUMN note text;
COMMIT;
"""


def _columns(url: str) -> list[tuple]:
    return query(url, "SELECT attname FROM pg_attribute WHERE attrelid = 'tb_org'::regclass "
                      "AND attnum > 0 ORDER BY attnum")


def _setup(make_db, tmp_path):
    url = make_db(INIT)
    return url, write_migrations(tmp_path / "m", {"0001_add_note.sql": ADD})


def test_a_lock_timeout_is_run_again_once_the_lock_is_free(make_db, tmp_path):
    url, d = _setup(make_db, tmp_path)
    messages: list[str] = []
    with psycopg.connect(url) as blocker:
        blocker.execute("LOCK TABLE tb_org IN ACCESS SHARE MODE")  # held until commit

        def notify(message: str) -> None:
            messages.append(message)
            if "trying again" in message:
                blocker.commit()  # the long transaction ends while the applier waits

        apply(url, d, Settings(lock_retries=3), notify=notify)
    retries = [m for m in messages if "trying again" in m]
    assert len(retries) == 1 and "0001_add_note.sql" in retries[0], messages
    assert _columns(url) == [("id",), ("note",)]
    assert history(url) == [(1, "0001_add_note.sql", 1, 1)]


def test_retries_are_bounded_and_the_file_rolls_back(make_db, tmp_path):
    url, d = _setup(make_db, tmp_path)
    messages: list[str] = []
    with psycopg.connect(url) as blocker:
        blocker.execute("LOCK TABLE tb_org IN ACCESS SHARE MODE")
        with pytest.raises(MigrationError) as failed:
            apply(url, d, Settings(lock_retries=1), notify=messages.append)
        blocker.rollback()
    [diagnostic] = failed.value.diagnostics
    assert diagnostic.code == "FSC507" and "55P03" in diagnostic.message
    assert len([m for m in messages if "trying again" in m]) == 1
    assert _columns(url) == [("id",)] and history(url) == []
