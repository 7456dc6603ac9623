"""A NOT NULL column without a default added to a table with rows (issue 16 item 4): the plain
form fails on real PostgreSQL, the three-step form refuses to apply until its backfill is
written, then applies and converges."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, query, rehash

BOOK = """
import fraisec as fq


@fq.entity
class Book:
    identifier: str
    title: str
"""
WITH_SLUG = BOOK + "    slug: str\n"


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


@pytest.fixture
def populated(tmp_path, monkeypatch, make_db):
    """A project whose first migration is applied to a database holding two books; then the
    schema gains ``slug: str`` (NOT NULL, no default)."""
    (tmp_path / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n')
    (tmp_path / "db").mkdir()
    monkeypatch.chdir(tmp_path)
    schema = tmp_path / "schema.py"
    schema.write_text(textwrap.dedent(BOOK).lstrip())
    _ok("migrate", "diff", "init")
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    query(url, "INSERT INTO app.tb_book (identifier, title) VALUES ('b1', 'Dune'), ('b2', 'Emma')")
    schema.write_text(textwrap.dedent(WITH_SLUG).lstrip())
    return tmp_path, url


def _ok(*args):
    result = run_cli("--no-color", *args)
    assert result.exit_code == 0, result.output
    return result


def _codes(*args) -> list[str]:
    data = json.loads(run_cli("--format", "json", *args).stdout)
    return [d["code"] for d in data["diagnostics"]]


def _slug_column(url: str) -> list[tuple]:
    return query(url, "SELECT is_nullable FROM information_schema.columns "
                      "WHERE table_schema = 'app' AND table_name = 'tb_book' AND column_name = 'slug'")


def test_plain_form_is_flagged_and_fails_on_a_table_with_rows(populated):
    root, url = populated
    assert _codes("migrate", "diff", "add_slug", "--dry-run") == ["FSC410"]
    out = _ok("migrate", "diff", "add_slug")
    assert "FSC410" in out.output and "--backfill" in out.output
    text = (root / "migrations" / "0002_add_slug.sql").read_text()
    assert "ADD COLUMN slug text NOT NULL;" in text
    failed = run_cli("migrate", "apply", "--database", url)
    assert failed.exit_code == 1 and "FSC507" in failed.output and "23502" in failed.output
    assert _slug_column(url) == []  # rolled back


def test_database_with_rows_gets_the_three_step_form(populated):
    root, url = populated
    assert _codes("migrate", "diff", "add_slug", "--database", url, "--dry-run") == ["FSC409"]
    out = _ok("migrate", "diff", "add_slug", "--database", url)
    assert "FSC409" in out.output and "migrate hash" in out.output
    path = root / "migrations" / "0002_add_slug.sql"
    text = path.read_text()
    assert "-- note: backfill app.tb_book.slug" in text and "-- safety: locking" in text
    add = text.index("ALTER TABLE app.tb_book ADD COLUMN slug text;")
    placeholder = text.index("DO $fraisec_backfill_placeholder$")
    assert add < placeholder < text.index("ALTER TABLE app.tb_book ALTER COLUMN slug SET NOT NULL;")

    # Not edited: the file refuses to apply, and nothing of it stays.
    refused = run_cli("migrate", "apply", "--database", url)
    assert refused.exit_code == 1 and "write the backfill of app.tb_book.slug" in refused.output
    assert _slug_column(url) == []
    assert run_cli("migrate", "check").exit_code != 0  # the replayed history refuses it too

    # The backfill written in its place: it applies, every row has a value, all converges.
    edited = re.sub(r"DO \$fraisec_backfill_placeholder\$.*?\$fraisec_backfill_placeholder\$;",
                    "UPDATE app.tb_book SET slug = lower(title) WHERE slug IS NULL;", text,
                    flags=re.DOTALL)
    assert edited != text
    path.write_text(edited)
    rehash(root / "migrations")  # what `fraisec migrate hash` does
    _ok("migrate", "apply", "--database", url)
    assert _slug_column(url) == [("NO",)]
    assert query(url, "SELECT identifier, slug FROM app.tb_book ORDER BY 1") == [
        ("b1", "dune"), ("b2", "emma")]
    _ok("migrate", "check", "--database", url)
    _ok("migrate", "check")


def test_empty_table_in_the_database_keeps_the_plain_form(populated):
    _root, url = populated
    query(url, "DELETE FROM app.tb_book")
    assert _codes("migrate", "diff", "add_slug", "--database", url, "--dry-run") == []
    text = _ok("migrate", "diff", "add_slug", "--database", url, "--dry-run").stdout
    assert "ADD COLUMN slug text NOT NULL;" in text and "fraisec_backfill" not in text


def test_backfill_flag_forces_the_form_and_no_backfill_silences_the_warning(populated):
    text = _ok("migrate", "diff", "add_slug", "--backfill", "--dry-run").stdout
    assert "ADD COLUMN slug text;" in text and "DO $fraisec_backfill_placeholder$" in text
    assert _codes("migrate", "diff", "add_slug", "--no-backfill", "--dry-run") == []
