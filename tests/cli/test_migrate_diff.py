"""migrate diff / migrate check / fraisec check / `fraisec diff migrations` on a small project,
applied to real PostgreSQL."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.helpers import run_cli
from tests.migrations.util import history, private_shadow_cache, query, table_exists


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


BOOK = """
import fraisec as fq


@fq.entity
class Book:
    identifier: str
    title: str
    legacy: str | None = None
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n')
    (tmp_path / "db").mkdir()
    monkeypatch.chdir(tmp_path)

    def write(source: str) -> None:
        (tmp_path / "schema.py").write_text(textwrap.dedent(source).lstrip())

    write(BOOK)
    return tmp_path, write


def _ok(*args):
    result = run_cli("--no-color", *args)
    assert result.exit_code == 0, result.output
    return result


def test_first_migration_applies_and_converges(project, make_db):
    root, _ = project
    out = _ok("migrate", "diff", "init")
    assert "wrote migrations/0001_init.sql" in out.output
    text = (root / "migrations" / "0001_init.sql").read_text()
    assert text.startswith("-- fraisec migration 0001_init\n-- generator: fraisec ")
    assert "-- safety: safe" in text and "-- outside transaction: none" in text
    assert "0001_init.sql sha256:" in (root / "migrations" / "fraisec.sum").read_text()
    again = _ok("migrate", "diff", "again")
    assert "no changes, no file written" in again.output
    assert sorted(p.name for p in (root / "migrations").iterdir()) == ["0001_init.sql", "fraisec.sum"]
    _ok("migrate", "check")
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    assert table_exists(url, "app.tb_book") and history(url) == [(1, "0001_init.sql", 1, 1)]
    _ok("migrate", "check", "--database", url)
    # the history schema is not drift
    assert query(url, "SELECT count(*) FROM fraisec_history.migrations") == [(1,)]
    assert _ok("diff", url, "schema.py").stdout == ""  # nor a difference for `fraisec diff`


def test_output_is_deterministic(project):
    root, _ = project
    first = _ok("migrate", "diff", "init", "--dry-run").stdout
    second = _ok("migrate", "diff", "init", "--dry-run").stdout
    assert first == second and first.startswith("-- fraisec migration 0001_init")
    assert not (root / "migrations" / "0001_init.sql").exists()


def test_destructive_change_is_refused_without_unsafe_and_marked_with_it(project, make_db):
    root, write = project
    _ok("migrate", "diff", "init")
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    write(BOOK.replace("    legacy: str | None = None\n", ""))
    refused = run_cli("migrate", "diff", "drop_legacy")
    assert refused.exit_code == 4 and "FSC512" in refused.output and "legacy" in refused.output
    assert not list((root / "migrations").glob("0002_*"))
    as_json = run_cli("--format", "json", "migrate", "diff", "drop_legacy")
    assert as_json.exit_code == 4
    data = json.loads(as_json.stdout)  # one document: the plan and the refusal
    assert data["destructive"] is True and data["file"] is None
    assert [d["code"] for d in data["diagnostics"]] == ["FSC512"]
    drift = run_cli("migrate", "check")
    assert drift.exit_code == 3 and "legacy" in drift.stdout
    as_json = json.loads(run_cli("--format", "json", "migrate", "check").stdout)
    assert any("legacy" in line for line in as_json["differences"])
    assert [d["code"] for d in as_json["diagnostics"]] == ["FSC513"]
    _ok("migrate", "diff", "drop_legacy", "--unsafe")
    text = (root / "migrations" / "0002_drop_legacy.sql").read_text()
    assert "-- safety: destructive" in text
    marker = text.index("-- fraisec: destructive (drop column")
    assert text.index("DROP COLUMN legacy") > marker
    _ok("migrate", "apply", "--database", url)
    assert query(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'tb_book' "
                      "AND column_name = 'legacy'") == [(0,)]
    _ok("migrate", "check", "--database", url)


def test_renamed_from_hints_become_renames_and_keep_data(project, make_db):
    root, write = project
    _ok("migrate", "diff", "init")
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    query(url, "INSERT INTO app.tb_book (identifier, title, legacy) VALUES ('b1', 'Dune', 'old')")
    write("""
        import fraisec as fq


        @fq.entity(renamed_from="Book")
        class Volume:
            identifier: str
            name: str = fq.field(renamed_from="title")
            legacy: str | None = None
        """)
    out = _ok("migrate", "diff", "rename")  # not destructive: no --unsafe needed
    text = (root / "migrations" / "0002_rename.sql").read_text()
    assert "ALTER TABLE app.tb_book RENAME TO tb_volume;" in text
    assert "ALTER TABLE app.tb_volume RENAME COLUMN title TO name;" in text
    assert "RENAME CONSTRAINT tb_book_pkey TO tb_volume_pkey" in text
    assert "DROP COLUMN" not in text and "DROP TABLE" not in text and "ADD CONSTRAINT" not in text
    assert "rename table app.tb_book -> tb_volume" in out.output
    _ok("migrate", "apply", "--database", url)
    assert query(url, "SELECT identifier, name, legacy FROM app.tb_volume") == [("b1", "Dune", "old")]
    _ok("migrate", "check", "--database", url)
    _ok("migrate", "check")
    # The hints stay in the schema; once applied they no longer produce anything.
    assert "no changes" in _ok("migrate", "diff", "again").output


def test_diff_against_a_database_with_a_rename_copies_its_schema(project, make_db):
    root, write = project
    _ok("migrate", "diff", "init")
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    write(BOOK.replace("    title: str\n", '    heading: str = fq.field(renamed_from="title")\n'))
    _ok("migrate", "diff", "rename_title", "--database", url)
    text = (root / "migrations" / "0002_rename_title.sql").read_text()
    assert "-- from: a database (--database)\n" in text and "postgresql://" not in text
    assert "RENAME COLUMN title TO heading" in text and "DROP COLUMN" not in text
    # the live database was only read
    assert query(url, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'title'") == [(1,)]
    _ok("migrate", "apply", "--database", url)
    _ok("migrate", "check", "--database", url)


def test_fraisec_diff_accepts_the_migrations_side(project):
    _ok("migrate", "diff", "init")
    assert _ok("diff", "migrations", "empty", "--unsafe").stdout.count("DROP TABLE app.tb_book") == 1
    assert _ok("diff", "empty", "migrations").stdout.count("CREATE TABLE app.tb_book") == 1
    assert _ok("diff", "migrations", "schema.py").stdout == ""  # the history equals the schema


@pytest.fixture
def init_project(tmp_path, monkeypatch):
    """A project exactly as `fraisec init` makes it (tenancy, RLS: it lints clean)."""
    _ok("init", str(tmp_path / "proj"))
    monkeypatch.chdir(tmp_path / "proj")
    return tmp_path / "proj"


def test_fraisec_check_gate(init_project):
    root = init_project
    _ok("migrate", "diff", "init")
    assert "check: ok" in _ok("check").output
    schema = root / "schema.py"
    original = schema.read_text()
    anchor = '    __unique__ = [("organization", "identifier")]'
    assert original.count(anchor) == 1
    schema.write_text(original.replace(anchor, "    pages: int = 0\n" + anchor))
    drift = run_cli("check")
    assert drift.exit_code == 3 and "pages" in drift.output
    github = run_cli("--format", "github", "check")
    assert github.exit_code == 3
    assert github.stdout.startswith("::error file=") and "title=FSC513::" in github.stdout
    _ok("migrate", "diff", "add_pages")
    _ok("check")
    # a tampered migration fails the gate with exit 1, before anything is replayed
    path = root / "migrations" / "0002_add_pages.sql"
    path.write_text(path.read_text().replace("DEFAULT 0", "DEFAULT 1"))
    tampered = run_cli("--format", "json", "check")
    assert tampered.exit_code == 1
    assert [d["code"] for d in json.loads(tampered.stdout)["diagnostics"]] == ["FSC503"]


def test_check_reports_schema_errors_and_lint(init_project):
    root = init_project
    schema = root / "schema.py"
    original = schema.read_text()
    schema.write_text(original + "\n\n@fq.entity\nclass Broken:\n    x: set[int]\n")
    assert run_cli("check").exit_code == 1
    schema.write_text(original)
    (root / "db" / "t_secret.sql").write_text(
        "CREATE TABLE app.tb_secret (org_id uuid);\nALTER TABLE app.tb_secret ENABLE ROW LEVEL SECURITY;\n")
    lint = run_cli("--format", "json", "check")
    assert lint.exit_code == 1
    assert any(d["code"].startswith("FSC3") for d in json.loads(lint.stdout)["diagnostics"])


def test_generated_files_apply_with_plain_psql(project, make_db):
    import shutil
    import subprocess

    from fraisec.pg.server import find_bindir

    root, write = project
    _ok("migrate", "diff", "init")
    write(BOOK.replace("    title: str\n", '    heading: str = fq.field(renamed_from="title")\n    pages: int = 0\n'))
    _ok("migrate", "diff", "second")
    url = make_db()
    psql = shutil.which("psql") or str(find_bindir() / "psql")
    for path in sorted((root / "migrations").glob("*.sql")):
        done = subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    _ok("migrate", "check", "--database", url)  # psql's result equals the schema too


def test_a_migration_that_does_not_replay_is_reported(project):
    root, _ = project
    _ok("migrate", "diff", "init")
    (root / "migrations" / "0002_broken.sql").write_text("ALTER TABLE app.tb_nothing ADD COLUMN x int;\n")
    _ok("migrate", "hash")
    result = run_cli("--format", "json", "migrate", "check")
    assert result.exit_code == 1
    [d] = json.loads(result.stdout)["diagnostics"]
    assert d["code"] == "FSC514" and "0002_broken.sql" in d["message"] and "tb_nothing" in d["message"]


def test_fraiseql_command_names(project):
    root, _ = project
    assert "wrote migrations/0001_first.sql" in _ok("migrate", "generate", "first").output
    assert "match the schema" in _ok("migrate", "validate").output
    down = run_cli("migrate", "down")
    assert down.exit_code == 2 and "forward-only" in down.output


def test_renames_carry_keys_and_indexes_named_after_them(project, make_db):
    root, write = project
    write("""
        import fraisec as fq


        @fq.entity
        class Author:
            identifier: str


        @fq.entity
        class Book:
            identifier: str
            title: str = fq.field(unique=True)
            author: Author = fq.field(index=True)
        """)
    _ok("migrate", "diff", "init")
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    write("""
        import fraisec as fq


        @fq.entity
        class Author:
            identifier: str


        @fq.entity(renamed_from="Book")
        class Volume:
            identifier: str
            heading: str = fq.field(unique=True, renamed_from="title")
            writer: Author = fq.field(index=True, renamed_from="author")
        """)
    _ok("migrate", "diff", "renames")
    text = (root / "migrations" / "0002_renames.sql").read_text()
    for statement in ("RENAME COLUMN fk_author TO fk_writer",
                      "RENAME CONSTRAINT uq_book_title TO uq_volume_heading",
                      "RENAME CONSTRAINT fk_book_fk_author TO fk_volume_fk_writer",
                      "ALTER INDEX app.ix_book_fk_author RENAME TO ix_volume_fk_writer"):
        assert statement in text
    assert "ADD CONSTRAINT" not in text and "CREATE INDEX" not in text and "DROP COLUMN" not in text
    _ok("migrate", "apply", "--database", url)
    _ok("migrate", "check", "--database", url)


def test_a_file_that_does_not_converge_is_flagged(project):
    from pathlib import Path

    from fraisec.migrations.generate import _verify
    from fraisec.migrations.replay import desired_catalog

    desired, _ = desired_catalog("schema.py", Path("db"))
    [warning] = _verify(Path("migrations"), 1, "0001_incomplete.sql", "CREATE SCHEMA app;\n",
                        None, desired)
    assert warning.code == "FSC518" and warning.severity.value == "warning"
    assert "app.tb_book" in warning.message
    # and a generated file is verified clean (no FSC518 reported)
    out = _ok("migrate", "diff", "init")
    assert "FSC518" not in out.output
