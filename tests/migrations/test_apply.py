"""migrate apply / status / baseline / repair against a real PostgreSQL."""

from __future__ import annotations

import json

import psycopg

from fraisec.migrations.lock import lock_key
from tests.helpers import run_cli
from tests.migrations.util import history, query, rehash, table_exists, write_migrations

INIT = """
CREATE TABLE tb_org (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO tb_org VALUES (1, 'acme');
"""
ADD = """
BEGIN;
ALTER TABLE tb_org ADD COLUMN plan text NOT NULL DEFAULT 'free';
COMMIT;
CREATE INDEX CONCURRENTLY ix_org_plan ON tb_org (plan);
"""


def _apply(url, d, *extra):
    return run_cli("--no-color", "migrate", "apply", "--database", url, "--dir", str(d), *extra)


def test_applies_in_order_records_history_and_is_idempotent(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT, "0002_add_plan.sql": ADD})
    result = _apply(url, d)
    assert result.exit_code == 0, result.output
    assert "applied 0001_init.sql" in result.output and "applied 2 files" in result.output
    assert history(url) == [(1, "0001_init.sql", 1, 1), (2, "0002_add_plan.sql", 2, 2)]
    assert query(url, "SELECT name, plan FROM tb_org") == [("acme", "free")]
    # the index was built outside a transaction (CONCURRENTLY) and is valid
    assert query(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_org_plan'::regclass") == [(True,)]
    row = query(url, "SELECT checksum, applied_by, kind, client FROM fraisec_history.migrations WHERE version = 1")[0]
    assert len(row[0]) == 64 and row[1] == "postgres" and row[2] == "apply" and "fraisec" in row[3]
    again = _apply(url, d)
    assert again.exit_code == 0 and "nothing to apply" in again.output


def test_failing_file_rolls_back_entirely_and_names_file_statement_and_error(make_db, tmp_path):
    url = make_db()
    bad = "CREATE TABLE tb_user (id int);\nINSERT INTO tb_user VALUES (1);\nALTER TABLE tb_user\n  ADD CONSTRAINT fk FOREIGN KEY (org) REFERENCES tb_org (id);\n"
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT, "0002_user.sql": bad,
                                          "0003_more.sql": "CREATE TABLE tb_more (id int);\n"})
    result = run_cli("--format", "json", "migrate", "apply", "--database", url, "--dir", str(d))
    assert result.exit_code == 1
    [diag] = json.loads(result.stdout)["diagnostics"]
    assert diag["code"] == "FSC507"
    assert "0002_user.sql failed" in diag["message"] and 'column "org"' in diag["message"]
    assert "42703" in diag["message"] and "ALTER TABLE tb_user ADD CONSTRAINT fk" in diag["message"]
    assert diag["location"]["file"].endswith("0002_user.sql") and diag["location"]["line"] in (3, 4)
    assert "rolled back entirely" in diag["hint"]
    assert not table_exists(url, "tb_user") and not table_exists(url, "tb_more")
    assert history(url) == [(1, "0001_init.sql", 1, 1)]


def test_tampered_file_is_caught_before_anything_runs(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT, "0002_add_plan.sql": ADD})
    (d / "0002_add_plan.sql").write_text(ADD.replace("'free'", "'pro'"))
    result = _apply(url, d)
    assert result.exit_code == 1 and "FSC503" in result.output
    assert not table_exists(url, "tb_org") and history(url) == []
    assert query(url, "SELECT count(*) FROM pg_namespace WHERE nspname = 'fraisec_history'") == [(0,)]


def test_edited_applied_file_is_an_error_until_repaired(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    assert _apply(url, d).exit_code == 0
    (d / "0001_init.sql").write_text("-- a harmless comment\n" + INIT)
    (d / "0002_add_plan.sql").write_text(ADD)
    rehash(d)
    result = _apply(url, d)
    assert result.exit_code == 1 and "FSC505" in result.output and "edited after it was applied" in result.output
    assert history(url) == [(1, "0001_init.sql", 1, 1)]  # 0002 did not run either
    status = run_cli("migrate", "status", "--database", url, "--dir", str(d))
    assert status.exit_code == 1 and "edited    0001_init.sql" in status.stdout
    repaired = run_cli("migrate", "repair", "--database", url, "--dir", str(d))
    assert repaired.exit_code == 0 and "repaired 0001_init.sql" in repaired.output
    assert query(url, "SELECT repaired_at IS NOT NULL FROM fraisec_history.migrations") == [(True,)]
    assert _apply(url, d).exit_code == 0
    assert [r[1] for r in history(url)] == ["0001_init.sql", "0002_add_plan.sql"]


def test_dry_run_and_to(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT, "0002_add_plan.sql": ADD,
                                          "0003_t.sql": "CREATE TABLE t (id int);\n"})
    dry = run_cli("-v", "migrate", "apply", "--database", url, "--dir", str(d), "--dry-run")
    assert dry.exit_code == 0
    assert "-- would apply 0002_add_plan.sql (safety: unknown, 1 statement(s) outside a transaction)" in dry.stdout
    assert "CREATE INDEX CONCURRENTLY" in dry.stdout
    assert history(url) == [] and not table_exists(url, "tb_org")
    to = _apply(url, d, "--to", "0002")
    assert to.exit_code == 0 and [r[0] for r in history(url)] == [1, 2]
    assert _apply(url, d, "--to", "0099").exit_code == 1
    status = run_cli("--format", "json", "migrate", "status", "--database", url, "--dir", str(d))
    states = {m["name"]: m["state"] for m in json.loads(status.stdout)["migrations"]}
    assert states == {"0001_init.sql": "applied", "0002_add_plan.sql": "applied", "0003_t.sql": "pending"}


def test_baseline_adopts_an_existing_database(make_db, tmp_path):
    url = make_db(INIT)  # the schema exists already, created by other means
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT, "0002_add_plan.sql": ADD})
    result = run_cli("migrate", "baseline", "--database", url, "--dir", str(d), "--version", "0001")
    assert result.exit_code == 0, result.output
    assert query(url, "SELECT version, kind FROM fraisec_history.migrations") == [(1, "baseline")]
    assert _apply(url, d).exit_code == 0  # only 0002 runs: 0001 would fail (table exists)
    assert query(url, "SELECT plan FROM tb_org") == [("free",)]
    again = run_cli("migrate", "baseline", "--database", url, "--dir", str(d), "--force")
    assert again.exit_code == 1 and "FSC511" in again.output


def test_baseline_refuses_a_database_without_the_schema_it_would_adopt(make_db, tmp_path):
    url = make_db("CREATE TABLE tb_org (id int PRIMARY KEY);")  # no name column
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    refused = run_cli("migrate", "baseline", "--database", url, "--dir", str(d))
    assert refused.exit_code == 1 and "FSC517" in refused.output and "name" in refused.stdout
    assert history(url) == []
    forced = run_cli("migrate", "baseline", "--database", url, "--dir", str(d), "--force")
    assert forced.exit_code == 0 and [r[1] for r in history(url)] == ["0001_init.sql"]


def test_lock_held_by_another_session_times_out_with_exit_5(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    with psycopg.connect(url, autocommit=True, application_name="release-bot") as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", list(lock_key("fraisec_history")))
        result = _apply(url, d, "--lock-timeout", "0.5")
    assert result.exit_code == 5
    assert "FSC508" in result.output and "release-bot" in result.output
    assert not table_exists(url, "tb_org")
    assert _apply(url, d).exit_code == 0  # released with the holder's session


def test_out_of_order_pending_file_is_refused(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT, "0003_t.sql": "CREATE TABLE t (id int);\n"})
    assert _apply(url, d).exit_code == 0
    (d / "0002_late.sql").write_text("CREATE TABLE late (id int);\n")
    rehash(d)
    result = _apply(url, d)
    assert result.exit_code == 1 and "FSC510" in result.output
    assert not table_exists(url, "late")


def test_settings_do_not_leak_between_files(make_db, tmp_path):
    url = make_db("CREATE SCHEMA other;")
    d = write_migrations(tmp_path / "m", {
        "0001_path.sql": "SET search_path = other;\nCREATE TABLE in_other (id int);\n",
        "0002_next.sql": "CREATE TABLE in_public (id int);\n"})
    assert _apply(url, d).exit_code == 0
    assert table_exists(url, "other.in_other") and table_exists(url, "public.in_public")


def test_connection_failure_is_a_diagnostic(tmp_path):
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    result = _apply("postgresql://nobody@/nodb?host=/nonexistent", d)
    assert result.exit_code == 1 and "FSC902" in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)


def test_database_errors_outside_a_file_are_diagnostics(make_db, tmp_path):
    url = make_db()
    query(url, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lowly') "
               "THEN CREATE ROLE lowly LOGIN; END IF; END $$")
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    result = _apply(url.replace("postgres@", "lowly@", 1), d)
    assert result.exit_code == 1, result.output
    assert "FSC516" in result.output and "permission denied" in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_quiet_apply_prints_nothing_and_status_works_offline(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    quiet = run_cli("-q", "migrate", "apply", "--database", url, "--dir", str(d))
    assert quiet.exit_code == 0 and quiet.output == ""
    offline = run_cli("migrate", "status", "--dir", str(d))
    assert offline.exit_code == 0 and offline.stdout == "unknown   0001_init.sql\n"
    (d / "0001_init.sql").write_text(INIT + "-- edited\n")
    assert run_cli("migrate", "status", "--dir", str(d)).exit_code == 1


def test_create_a_hand_written_migration_and_the_fraiseql_names(make_db, tmp_path):
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    created = run_cli("migrate", "create", "Backfill plans", "--dir", str(d))
    assert created.exit_code == 0, created.output
    path = d / "0002_backfill_plans.sql"
    assert "-- generator: hand-written" in path.read_text()
    path.write_text(path.read_text().replace("BEGIN;\n\nCOMMIT;", "BEGIN;\nUPDATE tb_org SET name = upper(name);\nCOMMIT;"))
    assert run_cli("migrate", "hash", "--dir", str(d)).exit_code == 0
    url = make_db()
    up = run_cli("migrate", "up", "--database", url, "--dir", str(d))  # `fraiseql migrate up`
    assert up.exit_code == 0, up.output
    assert query(url, "SELECT name FROM tb_org") == [("ACME",)]
    assert [r[1] for r in history(url)] == ["0001_init.sql", "0002_backfill_plans.sql"]


def test_set_role_in_a_file_neither_blocks_the_history_nor_leaks(make_db, tmp_path):
    url = make_db("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'owner_x') "
                  "THEN CREATE ROLE owner_x NOLOGIN; END IF; END $$;"
                  "GRANT CREATE ON SCHEMA public TO owner_x;")
    d = write_migrations(tmp_path / "m", {
        "0001_owned.sql": "SET ROLE owner_x;\nCREATE TABLE owned (id int);\n",
        "0002_next.sql": "CREATE TABLE after_it (id int);\n"})
    result = _apply(url, d)
    assert result.exit_code == 0, result.output
    owners = dict(query(url, "SELECT relname::text, pg_get_userbyid(relowner)::text FROM pg_class "
                             "WHERE relname IN ('owned', 'after_it')"))
    assert owners == {"owned": "owner_x", "after_it": "postgres"}
    assert query(url, "SELECT applied_by FROM fraisec_history.migrations ORDER BY version") == [
        ("postgres",), ("postgres",)]


def test_statement_lock_timeout_fails_the_file_instead_of_queueing(make_db, tmp_path):
    url = make_db(INIT)
    d = write_migrations(tmp_path / "m", {"0001_plan.sql": "ALTER TABLE tb_org ADD COLUMN plan text;\n"})
    with psycopg.connect(url) as reader:  # a long transaction holding a lock on the table
        reader.execute("SELECT * FROM tb_org")
        result = _apply(url, d, "--statement-lock-timeout", "0.3", "--lock-timeout", "5",
                        "--lock-retries", "0")
        assert result.exit_code == 1
        assert "FSC507" in result.output and "55P03" in result.output  # lock_not_available
    assert history(url) == []
    assert _apply(url, d, "--statement-lock-timeout", "5").exit_code == 0  # the reader is gone
    assert query(url, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'plan'") == [(1,)]


def test_a_failed_concurrent_index_is_rebuilt_on_the_next_run(make_db, tmp_path):
    url = make_db("CREATE TABLE tb_user (email text); INSERT INTO tb_user VALUES ('a'), ('a');")
    d = write_migrations(tmp_path / "m", {"0001_unique_email.sql":
        "BEGIN;\nALTER TABLE tb_user ADD COLUMN name text;\nCOMMIT;\n"
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ux_user_email ON public.tb_user (email);\n"})
    failed = _apply(url, d)
    assert failed.exit_code == 1 and "FSC507" in failed.output and "23505" in failed.output
    assert "next run resumes at this statement" in failed.output
    assert history(url) == [(1, "0001_unique_email.sql", 1, 2)]  # the transactional part is in
    assert query(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ux_user_email'::regclass") == [(False,)]
    query(url, "DELETE FROM tb_user WHERE ctid <> (SELECT min(ctid) FROM tb_user)")
    assert _apply(url, d).exit_code == 0
    assert history(url) == [(1, "0001_unique_email.sql", 2, 2)]
    assert query(url, "SELECT indisvalid, indisunique FROM pg_index WHERE indexrelid = 'ux_user_email'::regclass") == [(True, True)]


def test_two_branches_merged_are_refused_before_anything_runs(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT,
                                          "0002_ours.sql": "CREATE TABLE ours (id int);\n",
                                          "0002_theirs.sql": "CREATE TABLE theirs (id int);\n"})
    result = run_cli("--format", "json", "migrate", "apply", "--database", url, "--dir", str(d))
    assert result.exit_code == 1
    assert [x["code"] for x in json.loads(result.stdout)["diagnostics"]] == ["FSC501"]
    assert history(url) == [] and not table_exists(url, "tb_org")


def test_a_missing_directory_is_an_error_not_nothing_to_apply(make_db, tmp_path):
    result = _apply(make_db(), tmp_path / "migratons")
    assert result.exit_code == 1 and "FSC519" in result.output
