"""migrate diff writes the online forms (issue 16 item 3) on a table that exists, the plain ones
with --no-online and on a table the migration creates; the file applies through
`migrate apply` to a populated database and converges."""

from __future__ import annotations

import re
import textwrap

import pytest

from tests.helpers import run_cli
from tests.migrations.util import history, private_shadow_cache, query

BOOK = """
import fraisec as fq


@fq.entity
class Book:
    identifier: str
    title: str
    legacy: str | None = None
"""
CONSTRAINTS = """
ALTER TABLE app.tb_book ADD CONSTRAINT book_title_not_empty CHECK (title <> '');
ALTER TABLE app.tb_book ADD CONSTRAINT book_title_key UNIQUE (title);
"""


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n')
    (tmp_path / "db").mkdir()
    (tmp_path / "schema.py").write_text(textwrap.dedent(BOOK).lstrip())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _ok(*args):
    result = run_cli("--no-color", *args)
    assert result.exit_code == 0, result.output
    return result


def _change_schema(root) -> None:
    (root / "db" / "constraints.sql").write_text(CONSTRAINTS)
    (root / "schema.py").write_text(textwrap.dedent(BOOK).lstrip().replace(
        "legacy: str | None = None", "legacy: str"))


def test_online_forms_apply_to_a_populated_table_and_converge(project, make_db):
    root = project
    _ok("migrate", "diff", "init")
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    query(url, "INSERT INTO app.tb_book (identifier, title, legacy) "
               "SELECT 'b' || g, 'Title ' || g, 'x' FROM generate_series(1, 20) g")
    _change_schema(root)
    _ok("migrate", "diff", "constraints")
    text = (root / "migrations" / "0002_constraints.sql").read_text()
    header = text.split("\n\n", 1)[0]
    assert re.search(r"-- online: CHECK app.tb_book.book_title_not_empty added NOT VALID", header)
    assert re.search(r"-- online: UNIQUE app.tb_book.book_title_key built as a unique index "
                     r"CONCURRENTLY", header)
    assert re.search(r"-- online: SET NOT NULL on app.tb_book.legacy through CHECK", header)
    body = text[len(header):]
    before = [  # (earlier, later): each form's steps in order
        ("CHECK ((title <> ''::text)) NOT VALID;", "VALIDATE CONSTRAINT book_title_not_empty;"),
        ("ADD CONSTRAINT legacy_fraisec_not_null CHECK (legacy IS NOT NULL) NOT VALID;",
         "VALIDATE CONSTRAINT legacy_fraisec_not_null;"),
        ("VALIDATE CONSTRAINT legacy_fraisec_not_null;", "ALTER COLUMN legacy SET NOT NULL;"),
        ("ALTER COLUMN legacy SET NOT NULL;", "DROP CONSTRAINT legacy_fraisec_not_null;"),
        ("CREATE UNIQUE INDEX CONCURRENTLY book_title_key ON app.tb_book (title);",
         "ADD CONSTRAINT book_title_key UNIQUE USING INDEX book_title_key;")]
    for earlier, later in before:
        assert -1 < body.find(earlier) < body.find(later), (earlier, later, body)
    assert body.count("BEGIN;") >= 2  # a transaction after the statements that run on their own
    _ok("migrate", "apply", "--database", url)
    [_, (version, _name, done, total)] = history(url)
    assert version == 2 and done == total > 1
    assert query(url, "SELECT conname, convalidated FROM pg_constraint WHERE conrelid = "
                      "'app.tb_book'::regclass AND conname LIKE 'book_title%' ORDER BY 1") == [
        ("book_title_key", True), ("book_title_not_empty", True)]
    assert query(url, "SELECT count(*) FROM pg_constraint WHERE conname LIKE '%fraisec%'") == [(0,)]
    _ok("migrate", "check", "--database", url)
    _ok("migrate", "check")


def test_no_online_and_a_new_table_get_the_plain_forms(project):
    root = project
    (root / "db" / "constraints.sql").write_text(CONSTRAINTS)
    first = _ok("migrate", "diff", "init", "--dry-run").stdout  # the table is created here
    assert "NOT VALID" not in first and "CONCURRENTLY" not in first and "-- online:" not in first
    (root / "db" / "constraints.sql").unlink()
    _ok("migrate", "diff", "init")
    _change_schema(root)
    plain = _ok("migrate", "diff", "constraints", "--no-online", "--dry-run").stdout
    assert "NOT VALID" not in plain and "CONCURRENTLY" not in plain and "-- online:" not in plain
    assert "ADD CONSTRAINT book_title_key UNIQUE (title);" in plain
    assert "ALTER TABLE app.tb_book ALTER COLUMN legacy SET NOT NULL;" in plain
