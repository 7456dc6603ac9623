"""``fraisec diff`` as a user runs it: real processes, real databases, documented exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.diff.test_convergence import psql_apply


def fraisec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fraisec", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def shadow_databases(pg_server) -> list[str]:
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        rows = conn.execute("select datname from pg_database where datname like 'fraisec_shadow%'")
        return [r[0] for r in rows]


def test_between_two_databases_prints_a_script_that_converges(make_db, tmp_path) -> None:
    a = make_db("CREATE TABLE t (id int PRIMARY KEY);")
    b = make_db("CREATE TABLE t (id int PRIMARY KEY, name text);"
                "CREATE INDEX t_name_idx ON t (name);")
    result = fraisec("diff", a, b)
    assert result.returncode == 0, result.stderr
    assert "ALTER TABLE public.t ADD COLUMN name text;" in result.stdout
    assert "CREATE INDEX CONCURRENTLY t_name_idx" in result.stdout
    assert psql_apply(a, result.stdout, tmp_path).returncode == 0
    again = fraisec("diff", a, b, "--exit-code")
    assert (again.returncode, again.stdout) == (0, "")


def test_exit_code_3_when_there_are_changes(make_db) -> None:
    a = make_db()
    b = make_db("CREATE TABLE t (id int);")
    result = fraisec("diff", a, b, "--exit-code")
    assert result.returncode == 3
    assert "CREATE TABLE public.t" in result.stdout


def test_destructive_plan_is_refused_without_unsafe(make_db) -> None:
    a = make_db("CREATE TABLE t (id int, old text);")
    b = make_db("CREATE TABLE t (id int);")
    refused = fraisec("diff", a, b)
    assert refused.returncode == 4
    assert refused.stdout == ""
    assert "FSC407" in refused.stderr and "drop column" in refused.stderr
    allowed = fraisec("diff", a, b, "--unsafe")
    assert allowed.returncode == 0
    assert "DROP COLUMN old" in allowed.stdout


def test_sql_directory_against_a_database(pg_server, make_db, tmp_path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "010_org.sql").write_text("CREATE TABLE org (id int PRIMARY KEY);\n")
    (tmp_path / "db" / "020_view.sql").write_text("CREATE VIEW v_org AS SELECT id FROM org;\n")
    live = make_db()
    result = fraisec("diff", live, "db", "--shadow-url", pg_server.url(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.index("CREATE TABLE public.org") < result.stdout.index("CREATE VIEW public.v_org")
    assert psql_apply(live, result.stdout, tmp_path).returncode == 0
    assert fraisec("diff", live, "db", "--shadow-url", pg_server.url(), cwd=tmp_path).stdout == ""
    assert shadow_databases(pg_server) == []


def test_from_empty_with_the_embedded_shadow(pg_server, tmp_path) -> None:
    # pg_server sets FRAISEC_CACHE_DIR: the CLI's embedded shadow stays out of the user's cache.
    (tmp_path / "schema.sql").write_text("CREATE SCHEMA app;\nCREATE TABLE app.t (id int);\n")
    result = fraisec("diff", "empty", "schema.sql", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "CREATE SCHEMA app;" in result.stdout
    assert fraisec("diff", "empty", "empty").stdout == ""


def test_failing_sql_names_file_and_line_and_leaves_no_shadow(pg_server, tmp_path) -> None:
    (tmp_path / "bad.sql").write_text("CREATE TABLE x (id int);\n\nCREATE VIEW y AS SELECT nope FROM x;\n")
    result = fraisec("diff", "empty", "bad.sql", "--shadow-url", pg_server.url(), cwd=tmp_path)
    assert result.returncode == 1
    assert "FSC401" in result.stderr and "bad.sql:3" in result.stderr
    assert 'column "nope" does not exist' in result.stderr
    assert "Traceback" not in result.stderr
    assert shadow_databases(pg_server) == []


def test_sql_that_creates_its_roles_diffs_on_both_sides_and_again(pg_server, make_db, tmp_path) -> None:
    # Roles are cluster-wide: both sides (and every later run) see the role the first one made.
    owner = "app_owner_shadow_test"
    base = (f"CREATE ROLE {owner} NOLOGIN;\nCREATE USER \"odd; user\" WITH PASSWORD 'a;b';\n"
            "CREATE TABLE t (id int, name varchar(10));\n"
            f"CREATE VIEW v AS SELECT id, name FROM t;\nALTER VIEW v OWNER TO {owner};\n")
    (tmp_path / "a.sql").write_text(base)
    (tmp_path / "b.sql").write_text(base.replace("varchar(10)", "text"))
    for _run in range(2):
        result = fraisec("diff", "a.sql", "b.sql", "--unsafe", "--shadow-url", pg_server.url(),
                         cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "ALTER COLUMN name TYPE text" in result.stdout
        assert f"ALTER VIEW public.v OWNER TO {owner};" in result.stdout  # recreated, owner kept
    # The rewrite adds no line: an error after a CREATE ROLE is still reported at its own line.
    (tmp_path / "c.sql").write_text(f"CREATE ROLE {owner};\nSELECT 1/0;\n")
    failed = fraisec("diff", "empty", "c.sql", "--shadow-url", pg_server.url(), cwd=tmp_path)
    assert failed.returncode == 1 and "c.sql:2" in failed.stderr, failed.stderr
    assert shadow_databases(pg_server) == []


def test_both_sides_creating_the_same_new_role_at_once_is_not_an_error(pg_server, tmp_path) -> None:
    # The two sides are applied at the same moment: an IF NOT EXISTS cannot see the other's
    # uncommitted role, so one of them fails on the unique index, or on "already exists". In
    # about one run in four without the retry; several fresh roles make a miss unlikely.
    for attempt in range(10):
        role = f"race_role_{os.getpid()}_{attempt}"
        for side, extra in (("a", ""), ("b", ", n text")):
            (tmp_path / f"{side}.sql").write_text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
                f"CREATE ROLE {role} NOLOGIN; END IF; END $$;\n"
                f"CREATE SCHEMA s AUTHORIZATION {role};\nSET ROLE {role};\n"
                f"CREATE TABLE s.t (id int{extra});\nRESET ROLE;\n")
        result = fraisec("diff", "a.sql", "b.sql", "--shadow-url", pg_server.url(), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "ALTER TABLE s.t ADD COLUMN n text;" in result.stdout


def test_owners_the_desired_sql_chooses_are_applied_and_others_left_alone(pg_server, make_db, tmp_path) -> None:
    roles = ("DO $$ BEGIN CREATE ROLE owner_a_test; CREATE ROLE owner_b_test; "
             "EXCEPTION WHEN duplicate_object THEN NULL; END $$;")
    live = make_db(roles + "CREATE TABLE t (id int); ALTER TABLE t OWNER TO owner_a_test;"
                          "CREATE TABLE u (id int); ALTER TABLE u OWNER TO owner_a_test;")
    # t is given away explicitly; u and the new table w get no owner from the SQL.
    (tmp_path / "desired.sql").write_text(
        roles + "\nCREATE TABLE t (id int);\nALTER TABLE t OWNER TO owner_b_test;\n"
                "CREATE TABLE u (id int);\nCREATE TABLE w (id int);\nALTER TABLE w OWNER TO owner_b_test;\n")
    result = fraisec("diff", live, "desired.sql", "--shadow-url", pg_server.url(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ALTER TABLE public.t OWNER TO owner_b_test;" in result.stdout
    assert "ALTER TABLE public.w OWNER TO owner_b_test;" in result.stdout
    assert "public.u OWNER" not in result.stdout  # the shadow's superuser owning it means nothing
    assert psql_apply(live, result.stdout, tmp_path).returncode == 0
    with psycopg.connect(live) as conn:
        owners = conn.execute("SELECT relname::text, relowner::regrole::text FROM pg_class "
                              "WHERE relname IN ('t', 'u', 'w') ORDER BY 1").fetchall()
    assert owners == [("t", "owner_b_test"), ("u", "owner_a_test"), ("w", "owner_b_test")]
    again = fraisec("diff", live, "desired.sql", "--shadow-url", pg_server.url(), cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, "")


def test_unreachable_database_and_wrong_credentials(pg_server, make_db) -> None:
    result = fraisec("diff", "postgresql://nobody:hunter2@127.0.0.1:1/x", "empty")
    assert result.returncode == 1
    assert "FSC902" in result.stderr and "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr
    wrong_user = pg_server.url(user="no_such_user")
    result = fraisec("diff", wrong_user, make_db())
    assert result.returncode == 1 and "FSC902" in result.stderr


def test_unknown_side(pg_server, tmp_path) -> None:
    result = fraisec("diff", "empty", "nothing.txt", cwd=tmp_path)
    assert result.returncode == 1 and "FSC405" in result.stderr


def test_json_format_lists_typed_operations(make_db) -> None:
    a = make_db("CREATE TABLE t (id int, old text);")
    b = make_db("CREATE TABLE t (id int); CREATE INDEX t_id ON t (id);")
    result = fraisec("--format", "json", "diff", a, b, "--unsafe")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["destructive"] is True
    by_action = {op["action"]: op for op in data["ops"]}
    assert by_action["drop column"]["safety"] == "destructive"
    assert by_action["create"]["transactional"] is False
    assert "CONCURRENTLY" in data["script"]


def test_unsupported_object_kind_is_named_not_skipped(make_db) -> None:
    a = make_db()
    b = make_db("CREATE OPERATOR public.=== (leftarg = int, rightarg = int, function = int4eq);")
    result = fraisec("diff", a, b)
    assert result.returncode == 1
    assert "FSC402" in result.stderr and "===" in result.stderr


@pytest.mark.parametrize("env_var", ["NO_COLOR"])
def test_no_changes_prints_nothing(make_db, env_var) -> None:
    a = make_db("CREATE TABLE t (id int);")
    b = make_db("CREATE TABLE t (id int);")
    result = subprocess.run([sys.executable, "-m", "fraisec", "diff", a, b], capture_output=True,
                            text=True, env={**os.environ, env_var: "1"})
    assert (result.returncode, result.stdout) == (0, "")


def test_schema_module_side_converges(pg_server, make_db, tmp_path) -> None:
    """The bundled example, compiled by fraisec.api.schema_sql, applied, then re-diffed."""
    schema = Path(__file__).resolve().parents[2] / "examples" / "saas" / "schema.py"
    live = make_db()
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE app_user; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    first = fraisec("diff", live, str(schema), "--shadow-url", pg_server.url())
    assert first.returncode == 0, first.stderr
    assert "CREATE SCHEMA app;" in first.stdout
    assert psql_apply(live, first.stdout, tmp_path).returncode == 0
    again = fraisec("diff", live, str(schema), "--shadow-url", pg_server.url(), "--exit-code")
    assert (again.returncode, again.stdout) == (0, "")
