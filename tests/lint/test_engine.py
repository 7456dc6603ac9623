"""The scanner, silencing comments, the CLI and --squawk."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fraisec.lint import LintConfig, lint_files, lint_sql
from fraisec.lint.source import SourceFile, split_statements

from .conftest import RULES_DIR

UNFORCED = """CREATE TABLE tb_project (pk_project bigint PRIMARY KEY, fk_organization bigint NOT NULL,
  UNIQUE (fk_organization, pk_project));
CREATE POLICY p ON tb_project USING (fk_organization = (SELECT NULLIF(current_setting('app.tenant', true), '')::bigint));
ALTER TABLE tb_project ENABLE ROW LEVEL SECURITY;
"""


def _codes(sources: list[tuple[str, str]], **kw) -> list[tuple[str, int]]:
    return [(d.code, d.location.line) for d in lint_sql(sources, **kw)]


def test_scanner_keeps_lines_and_ignores_semicolons_in_literals_and_bodies() -> None:
    text = ("-- a; comment\nSELECT 'x;y', E'it\\'s;', \"odd;name\"\n;\n/* outer /* nested; */ ; */\n"
            "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;\n"
            "SELECT $$;$$")
    statements, unterminated = split_statements(SourceFile("t.sql", text))
    assert [s.line for s in statements] == [2, 5, 6]
    assert statements[1].raw.startswith("CREATE FUNCTION") and statements[1].raw.endswith("$body$")
    assert unterminated == []


def test_unterminated_body_is_reported_not_raised() -> None:
    found = lint_sql([("t.sql", "SELECT 1;\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1;\n")])
    assert ("FSC300", 2) in [(d.code, d.location.line) for d in found]


def test_unreadable_policy_is_reported() -> None:
    found = lint_sql([("t.sql", "CREATE POLICY ON nothing;\n")])
    assert [(d.code, d.severity.value) for d in found] == [("FSC300", "warning")]


def test_ignore_on_the_line_before_the_statement() -> None:
    assert ("FSC303", 4) in _codes([("a.sql", UNFORCED)])
    silenced = UNFORCED.replace("ALTER TABLE", "-- fraisec: ignore FSC303 (owner is a report job)\nALTER TABLE")
    assert [c for c, _ in _codes([("a.sql", silenced)])] == []


def test_ignore_on_the_same_line_names_the_code() -> None:
    other = UNFORCED.replace("SECURITY;", "SECURITY; -- fraisec: ignore FSC302")
    assert ("FSC303", 4) in _codes([("a.sql", other)])
    same = UNFORCED.replace("SECURITY;", "SECURITY; -- fraisec: ignore FSC302, FSC303")
    assert _codes([("a.sql", same)]) == []


def test_ignore_file_only_applies_to_its_file() -> None:
    policy_file = ("-- fraisec: ignore-file FSC303\n" + UNFORCED)
    assert _codes([("a.sql", policy_file)]) == []
    split = UNFORCED.split("ALTER TABLE")
    sources = [("a.sql", "-- fraisec: ignore-file FSC303\n" + split[0]), ("b.sql", "ALTER TABLE" + split[1])]
    assert _codes(sources) == [("FSC303", 1)]


def test_tenant_columns_are_configurable() -> None:
    sql = "CREATE TABLE tb_doc (pk_doc bigint PRIMARY KEY, account_id bigint NOT NULL, title text UNIQUE);\n"
    assert _codes([("a.sql", sql)]) == []
    found = _codes([("a.sql", sql)], config=LintConfig(tenant_columns=("account_id",)))
    assert sorted(found) == [("FSC305", 1), ("FSC313", 1), ("FSC314", 1)]


def test_alter_view_set_security_invoker_fixes_fsc302() -> None:
    sql = (RULES_DIR / "FSC302.sql").read_text()
    assert "FSC302" in [c for c, _ in _codes([("a.sql", sql)])]
    fixed = sql + "\nALTER VIEW v_project SET (security_invoker = on);\n"
    assert "FSC302" not in [c for c, _ in _codes([("a.sql", fixed)])]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fraisec", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_exit_codes() -> None:
    clean = RULES_DIR.parent / "clean" / "recommended.sql"
    assert _cli("lint", str(clean)).returncode == 0
    assert _cli("lint", str(RULES_DIR / "FSC313.sql")).returncode == 0  # warnings only
    assert _cli("lint", str(RULES_DIR / "FSC301.sql")).returncode == 1
    assert _cli("lint", str(RULES_DIR / "missing.sql")).returncode == 1  # FSC300: cannot read


def test_cli_github_annotations() -> None:
    proc = _cli("--format", "github", "lint", str(RULES_DIR / "FSC301.sql"))
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"::error file={RULES_DIR / 'FSC301.sql'},line=10,col=1,title=FSC301::")


def test_squawk_findings_join_the_report(tmp_path: Path) -> None:
    """squawk is optional: without it --squawk reports FSC391 and the rules still run."""
    migration = tmp_path / "0002_index.sql"
    migration.write_text("SELECT 1;\nCREATE INDEX ix_project_name ON tb_project (name);\n")
    proc = _cli("--format", "json", "lint", "--squawk", str(migration))
    if shutil.which("squawk") is None:
        assert '"code": "FSC391"' in proc.stdout and proc.returncode == 0
        return
    assert '"code": "FSC390"' in proc.stdout
    assert "require-concurrent-index-creation" in proc.stdout
    assert '"line": 2' in proc.stdout


def test_squawk_missing_is_a_warning(monkeypatch) -> None:
    from fraisec.lint import squawk

    monkeypatch.setattr(squawk.shutil, "which", lambda name: None)
    found = squawk.squawk_lint(["x.sql"])
    assert [(d.code, d.severity.value) for d in found] == [("FSC391", "warning")]


def test_lint_files_keeps_names_as_given(monkeypatch) -> None:
    monkeypatch.chdir(RULES_DIR.parent.parent.parent.parent)
    rel = Path("tests/fixtures/lint/rules/FSC313.sql")
    assert [d.location.file for d in lint_files([rel])] == [str(rel)]


def test_matview_granted_through_all_tables_in_schema() -> None:
    sql = (RULES_DIR / "FSC315.sql").read_text().replace(
        "GRANT SELECT ON mv_project TO app_user;", "GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_user;")
    assert "FSC315" in [c for c, _ in _codes([("a.sql", sql)])]


def test_policy_reading_a_definer_view_of_its_unforced_table_does_not_recurse() -> None:
    """Through a definer view the table is read as the owner, who bypasses un-FORCEd RLS."""
    sql = """CREATE TABLE tb_m (pk bigint PRIMARY KEY, fk_organization bigint, fk_user bigint,
  UNIQUE (fk_organization, fk_user));
CREATE VIEW v_m AS SELECT fk_organization, fk_user FROM tb_m;  -- fraisec: ignore FSC302
ALTER TABLE tb_m ENABLE ROW LEVEL SECURITY;  -- fraisec: ignore FSC303
CREATE POLICY p ON tb_m USING (fk_organization = ANY (ARRAY(SELECT v.fk_organization FROM v_m v)));
"""
    assert _codes([("a.sql", sql)]) == []
    forced = sql + "ALTER TABLE tb_m FORCE ROW LEVEL SECURITY;\n"
    assert [c for c, _ in _codes([("a.sql", forced)])] == ["FSC301"]


def test_write_only_outbox_needs_neither_force_nor_tenant_index() -> None:
    sql = """CREATE TABLE tb_outbox (pk bigint PRIMARY KEY, tenant_id uuid, data jsonb);
ALTER TABLE tb_outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY outbox_insert ON tb_outbox FOR INSERT TO app_user
  WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));
"""
    assert _codes([("a.sql", sql)]) == []
    readable = sql + "CREATE POLICY outbox_read ON tb_outbox FOR SELECT TO app_user USING (true);\n"
    assert sorted(c for c, _ in _codes([("a.sql", readable)])) == ["FSC303", "FSC313"]


def test_trigger_functions_need_no_execute_revoke() -> None:
    sql = """CREATE FUNCTION fn_touch() RETURNS trigger LANGUAGE plpgsql SET search_path = ''
AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE FUNCTION fn_answer() RETURNS int LANGUAGE sql SET search_path = '' AS $$ SELECT 42 $$;
"""
    assert _codes([("a.sql", sql)]) == [("FSC312", 3)]


def test_later_migrations_replace_and_drop_what_earlier_ones_created() -> None:
    """The linted set is a history: the state after the last file is what is checked."""
    first = (RULES_DIR / "FSC302.sql").read_text()
    assert "FSC302" in {c for c, _ in _codes([("001.sql", first)])}
    replaced = ("CREATE OR REPLACE VIEW v_project WITH (security_invoker = true) AS\n"
                "SELECT p.pk_project, p.fk_organization, p.identifier FROM tb_project p;\n")
    assert "FSC302" not in {c for c, _ in _codes([("001.sql", first), ("002.sql", replaced)])}
    dropped = "DROP VIEW IF EXISTS v_project CASCADE;\nDROP POLICY tb_project_tenant ON tb_project;\n"
    codes = {c for c, _ in _codes([("001.sql", first), ("002.sql", dropped)])}
    assert "FSC302" not in codes and "FSC304" in codes


def test_current_setting_compared_as_text_is_safe_but_casts_are_not() -> None:
    def found(expr: str) -> list[str]:
        return [c for c, _ in _codes([("a.sql", f"SELECT {expr};\n")])]

    assert found("current_setting('app.role', true) = 'admin'") == []
    assert found("NULLIF(current_setting('app.t', true), '')::uuid") == []
    assert found("current_setting('app.t', true)::uuid") == ["FSC306"]
    assert found("(current_setting('app.t', true))::uuid") == ["FSC306"]
    assert found("CAST(current_setting('app.t', true) AS uuid)") == ["FSC306"]
    assert found("current_setting('app.role') = 'admin'") == ["FSC306"]  # no missing_ok


def test_squawk_findings_can_be_silenced(tmp_path: Path) -> None:
    from fraisec.lint.squawk import squawk_lint

    migration = tmp_path / "0003_index.sql"
    migration.write_text("-- fraisec: ignore-file FSC390\nCREATE INDEX ix ON tb_project (name);\n")
    expected = [] if shutil.which("squawk") else ["FSC391"]
    assert [d.code for d in squawk_lint([str(migration)])] == expected


def test_bom_and_crlf_files_are_read() -> None:
    text = "\ufeff" + (RULES_DIR / "FSC301.sql").read_text().replace("\n", "\r\n")
    assert _codes([("a.sql", text)]) == [("FSC301", 10)]


_HELPER_OWNED_BY = """
CREATE TABLE tb_membership (pk bigint PRIMARY KEY, fk_organization bigint NOT NULL, fk_user bigint NOT NULL,
  UNIQUE (fk_organization, fk_user));
ALTER TABLE tb_membership ENABLE ROW LEVEL SECURITY;
CREATE POLICY m_read ON tb_membership FOR SELECT TO app_user
  USING (fk_organization = ANY (ARRAY(SELECT app_private.fn_orgs())));
CREATE FUNCTION app_private.fn_orgs() RETURNS SETOF bigint LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp AS $$ SELECT m.fk_organization FROM public.tb_membership m $$;
REVOKE ALL ON FUNCTION app_private.fn_orgs() FROM PUBLIC;
"""


def test_fsc303_exempts_tables_read_by_a_helper_only_when_the_table_owner_owns_it() -> None:
    """Not FORCEing is a reason only for the table owner's own helpers (FSC301); a helper
    owned by another role is subject to RLS whatever FORCE says."""
    assert "FSC303" not in {d.code for d in lint_sql([("a.sql", _HELPER_OWNED_BY)])}
    narrow = _HELPER_OWNED_BY + "ALTER FUNCTION app_private.fn_orgs() OWNER TO app_helper;"
    assert "FSC303" in {d.code for d in lint_sql([("a.sql", narrow)])}
