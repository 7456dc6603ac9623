"""Seeded reference rows through the migrations: the first migration writes them, a changed
value is an UPDATE of that column, a removed row a DELETE that needs --unsafe, rows an operator
added are never touched, and the history converges (`migrate check`, `migrate diff` finds
nothing)."""

from __future__ import annotations

import pytest

from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, query

SCHEMA = '''
import fraisec as fq
from fraisec.scalars import Decimal


@fq.entity(seed=[
    {"identifier": "free", "name": "Free", "price": 0},
    {"identifier": "pro", "name": "Pro", "price": 49},
    {"identifier": "team", "name": "Team's", "price": 99, "seats": 10},
])
class Plan:
    identifier: str = fq.field(unique=True)
    name: str
    price: Decimal = fq.field(sql_type="numeric(10, 2)", default=0)
    seats: int | None = None


@fq.query
def plans() -> list[Plan]: ...
'''


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


def _cli(*args, code: int = 0):
    result = run_cli("--no-color", *args)
    assert result.exit_code == code, result.output
    return result


def _plans(url):
    return query(url, "SELECT identifier, name, price::text, seats FROM app.tb_plan ORDER BY 1")


def test_seeded_rows_are_written_updated_and_deleted_by_the_migrations(tmp_path, monkeypatch, make_db):
    root = tmp_path / "plans"
    _cli("init", str(root))
    (root / "schema.py").write_text(SCHEMA.replace('\n    {"identifier": "team", "name": "Team\'s", "price": 99, "seats": 10},', ""))
    monkeypatch.chdir(root)
    _cli("migrate", "diff", "init")
    url = make_db()
    _cli("migrate", "apply", "--database", url)
    assert _plans(url) == [("free", "Free", "0.00", None), ("pro", "Pro", "49.00", None)]
    query(url, "INSERT INTO app.tb_plan (identifier, name) VALUES ('legacy', 'Operator''s own')")

    assert "check: ok" in _cli("check").output
    (root / "schema.py").write_text(SCHEMA.replace('"price": 49}', '"price": 59}'))
    assert "seeded rows of app.tb_plan differ" in _cli("check", code=3).output  # no migration yet
    _cli("migrate", "diff", "reprice")
    [second] = sorted((root / "migrations").glob("0002_*.sql"))
    text = second.read_text()
    assert "UPDATE app.tb_plan SET price = 59 WHERE identifier = 'pro';" in text
    assert "INSERT INTO app.tb_plan (identifier, name, price, seats) VALUES ('team', 'Team''s', 99, 10)" in text
    assert "-- safety: safe" in text and "DELETE" not in text
    _cli("migrate", "apply", "--database", url)
    assert _plans(url) == [("free", "Free", "0.00", None), ("legacy", "Operator's own", "0.00", None),
                           ("pro", "Pro", "59.00", None), ("team", "Team's", "99.00", 10)]
    _cli("migrate", "check", "--database", url)
    assert "no changes" in _cli("migrate", "diff", "nothing").output

    # Removing a seeded row is destructive: refused without --unsafe, then marked.
    (root / "schema.py").write_text(SCHEMA.replace('"price": 49}', '"price": 59}')
                                    .replace('\n    {"identifier": "free", "name": "Free", "price": 0},', ""))
    refused = _cli("migrate", "diff", "drop_free", code=4)
    assert "FSC512" in refused.output and "app.tb_plan 'free'" in refused.output
    assert not list((root / "migrations").glob("0003_*.sql"))
    _cli("migrate", "diff", "drop_free", "--unsafe")
    [third] = sorted((root / "migrations").glob("0003_*.sql"))
    text = third.read_text()
    assert "-- safety: destructive" in text
    assert "-- fraisec: destructive (delete seeded row app.tb_plan 'free': removed from seed=)\n" \
           "DELETE FROM app.tb_plan WHERE identifier = 'free';" in text
    _cli("migrate", "apply", "--database", url)
    assert [r[0] for r in _plans(url)] == ["legacy", "pro", "team"]  # the operator's row stays
    assert "no changes" in _cli("migrate", "diff", "nothing").output
    assert "check: ok" in _cli("check").output
