"""An external user table through the migrations: no migration creates, alters or drops
auth.users (the auth service's, made here by hand), the first one checks it and grants the
declared columns, a newly declared column is one more grant, and the history converges, also
when the current state is the live database with the auth service's other columns."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, query
from tests.sqlgen.test_external_users import AUTH

SCHEMA = (FIXTURES / "external" / "schema.py").read_text()


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


def _cli(*args, code: int = 0):
    result = run_cli("--no-color", *args)
    assert result.exit_code == code, result.output
    return result


def test_the_migrations_never_touch_the_external_table(tmp_path, monkeypatch, make_db):
    root = tmp_path / "ext"
    _cli("init", str(root))
    (root / "schema.py").write_text(SCHEMA)
    monkeypatch.chdir(root)
    _cli("migrate", "diff", "init")
    [first] = sorted((root / "migrations").glob("0001_*.sql"))
    text = first.read_text()
    assert "-- fraisec: external auth.users (id uuid, email text, display_name text)" in text
    assert "GRANT SELECT (id, email, display_name) ON auth.users TO app_context;" in text
    assert "TO app_user" not in text.split("-- fraisec: external", 1)[1]  # requests read through fn_visible_users()
    assert "CREATE TABLE auth" not in text and "ALTER TABLE auth" not in text and "DROP" not in text
    assert "CREATE SCHEMA auth" not in text and "CREATE SCHEMA IF NOT EXISTS auth" not in text

    url = make_db()
    query(url, AUTH)
    _cli("migrate", "apply", "--database", url)
    _cli("migrate", "check", "--database", url)
    assert "no changes" in _cli("migrate", "diff", "nothing").output
    assert "no changes" in _cli("migrate", "diff", "nothing", "--database", url).output
    assert "check: ok" in _cli("check").output

    # One more declared column: one more grant, and still nothing else on auth.users.
    (root / "schema.py").write_text(SCHEMA.replace("    display_name: str | None\n",
                                                   "    display_name: str | None\n    last_sign_in_at: DateTime | None\n"))
    _cli("migrate", "diff", "last_sign_in")
    [second] = sorted((root / "migrations").glob("0002_*.sql"))
    text = second.read_text()
    assert "GRANT SELECT (id, email, display_name, last_sign_in_at) ON auth.users TO app_context;" in text
    assert "ALTER TABLE auth" not in text and "DROP TABLE" not in text and "DROP SCHEMA" not in text  # views: yes
    _cli("migrate", "apply", "--database", url)
    _cli("migrate", "check", "--database", url)
    assert "no changes" in _cli("migrate", "diff", "nothing").output
    columns = [r[0] for r in query(url, "SELECT attname::text FROM pg_attribute WHERE attrelid = "
                                        "'auth.users'::regclass AND attnum > 0 ORDER BY attnum")]
    assert columns == ["id", "email", "display_name", "encrypted_password", "last_sign_in_at"]
    assert query(url, "SELECT count(*) FROM auth.users") == [(3,)]


def test_applying_to_a_database_without_the_external_table_fails_clearly(tmp_path, monkeypatch, make_db):
    root = tmp_path / "ext"
    _cli("init", str(root))
    (root / "schema.py").write_text(SCHEMA)
    monkeypatch.chdir(root)
    _cli("migrate", "diff", "init")
    result = _cli("migrate", "apply", "--database", make_db(), code=1)
    assert "auth.users" in result.output
