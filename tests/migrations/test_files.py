"""Migration file naming, headers and the split into transactional segments."""

from __future__ import annotations

from pathlib import Path

from fraisec.migrations.files import (
    MigrationFile, discover, file_name, next_version, read_header, segments, slugify,
)


def _file(text: str, name: str = "0001_x.sql") -> MigrationFile:
    return MigrationFile(int(name[:4]), name[5:-4], Path(name), text)


def _shape(text: str) -> list[tuple[bool, list[str]]]:
    segs, diagnostics = segments(_file(text))
    assert diagnostics == []
    return [(s.transactional, [st.keywords.split(" ")[0] for st in s.statements]) for s in segs]


def test_names_and_versions(tmp_path):
    assert slugify("Add status to Project!") == "add_status_to_project"
    assert slugify("***") == "migration"
    assert file_name(7, "add_index") == "0007_add_index.sql"
    for name in ("0002_b.sql", "0001_a.sql", "0010_c.sql"):
        (tmp_path / name).write_text("SELECT 1;\n")
    files, diagnostics = discover(tmp_path)
    assert diagnostics == []
    assert [f.name for f in files] == ["0001_a.sql", "0002_b.sql", "0010_c.sql"]
    assert next_version(files) == 11


def test_stray_and_duplicate_files_are_errors(tmp_path):
    for name in ("0001_a.sql", "0001_b.sql", "add-index.sql"):
        (tmp_path / name).write_text("SELECT 1;\n")
    files, diagnostics = discover(tmp_path)
    assert sorted(d.code for d in diagnostics) == ["FSC500", "FSC501"]
    assert "0001_a.sql and 0001_b.sql" in next(d.message for d in diagnostics if d.code == "FSC501")


def test_crlf_is_normalised(tmp_path):
    (tmp_path / "0001_a.sql").write_bytes(b"SELECT 1;\r\n")
    (tmp_path / "0002_b.sql").write_bytes(b"SELECT 1;\n")
    a, b = discover(tmp_path)[0]
    assert a.checksum == b.checksum


def test_header():
    text = "-- fraisec migration 0003_add\n-- generator: fraisec 0.1.0\n-- safety: destructive\n\nBEGIN;\n"
    assert read_header(text) == {"generator": "fraisec 0.1.0", "safety": "destructive"}


def test_file_without_begin_is_one_transaction_with_concurrent_index_split_off():
    text = """
    CREATE TABLE a (id int);
    CREATE INDEX CONCURRENTLY ix ON a (id);
    INSERT INTO a VALUES (1);
    CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN; RETURN 1; COMMIT; END $$;
    """
    assert _shape(text) == [(True, ["CREATE"]), (False, ["CREATE"]), (True, ["INSERT", "CREATE"])]


def test_explicit_block_follows_psql_semantics():
    text = """
    -- header
    SET lock_timeout = '1s';
    BEGIN;
    CREATE TABLE a (id int);
    ALTER TABLE a ADD COLUMN b int;
    COMMIT;
    CREATE INDEX CONCURRENTLY ix ON a (b);
    """
    assert _shape(text) == [(True, ["SET", "CREATE", "ALTER"]), (False, ["CREATE"])]


def test_session_settings_join_the_next_segment():
    text = "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nSET maintenance_work_mem = '1GB';\n" \
           "CREATE INDEX CONCURRENTLY ix ON a (id);\nRESET maintenance_work_mem;\n"
    assert _shape(text) == [(True, ["CREATE"]), (False, ["SET", "CREATE"]), (False, ["RESET"])]


def test_misplaced_transaction_control_is_reported_with_its_line():
    bad = {
        "BEGIN;\nCREATE INDEX CONCURRENTLY ix ON a (b);\nCOMMIT;\n": 2,
        "CREATE TABLE a (id int);\nROLLBACK;\n": 2,
        "CREATE TABLE a (id int);\nCOMMIT;\n": 2,
        "BEGIN;\nCREATE TABLE a (id int);\n": None,
        "SELECT 'unterminated;\n": 1,
    }
    for text, line in bad.items():
        _, diagnostics = segments(_file(text))
        assert [d.code for d in diagnostics] == ["FSC509"], text
        assert diagnostics[0].location.line == line, text
