"""Tenants: the registry (tenants.toml), `tenant create`, and `migrate apply|status|check` over
tenants on two PostgreSQL servers started by the suite (database per tenant) and over tenant
schemas (schema per tenant)."""

from __future__ import annotations

import itertools
import json
import os
import tomllib
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from fraisec.pg.server import EmbeddedServer
from tests.conftest import drop_databases
from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, query, spawn_cli, write_migrations

SECRET = "s3cr3t-Pa55/word"
INIT = """
CREATE TABLE tb_note (id int PRIMARY KEY, body text);
CREATE TABLE tb_log (step text);
INSERT INTO tb_log VALUES ('0001');
"""
TAG = """
ALTER TABLE tb_note ADD COLUMN tag text;
CREATE TABLE tb_tag (name text PRIMARY KEY);
INSERT INTO tb_log VALUES ('0002');
"""
_ids = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


@pytest.fixture
def servers(pg_server, second_server, monkeypatch):
    """The two servers, a unique tenant prefix, the password variable; the tenant databases
    are dropped afterwards."""
    monkeypatch.setenv("TENANCY_TEST_PASSWORD", SECRET)
    prefix = f"p{os.getpid()}x{next(_ids)}"
    yield pg_server, second_server, prefix
    drop_databases((pg_server, second_server), f"tenant_{prefix}%")


def _template(server: EmbeddedServer) -> str:
    return f"postgresql://postgres@/{{database}}?host={server.sockdir}&port=5432"


def _registry(path: Path, one: EmbeddedServer, two: EmbeddedServer) -> Path:
    path.write_text(
        "# tenants of the test: two servers, the password comes from the environment\n"
        f'[servers.one]\nurl = "{_template(one)}"\npassword_env = "TENANCY_TEST_PASSWORD"\n\n'
        f'[servers.two]\nurl = "{_template(two)}"\npassword_env = "TENANCY_TEST_PASSWORD"\n')
    return path


def _cli(*args: str):
    return run_cli("--no-color", *args)


def _json(*args: str):
    result = run_cli("--format", "json", *args)
    return result, json.loads(result.stdout)


def _db(server: EmbeddedServer, prefix: str, tenant: str) -> str:
    return server.url(f"tenant_{prefix}{tenant}")


def test_create_tenants_on_two_servers_then_fan_out_resumes_after_a_failure(servers, tmp_path):
    one, two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, two)
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    common = ["--registry", str(reg), "--dir", str(d)]
    placement = {"a": one, "b": one, "c": two, "d": two}
    for tenant, server in placement.items():
        name = "one" if server is one else "two"
        created = _cli("tenant", "create", f"{p}{tenant}", "--server", name, *common)
        assert created.exit_code == 0, created.output
        assert f"created database tenant_{p}{tenant}" in created.output
        assert "applied 1 migration: 0001_init.sql" in created.output
    for tenant, server in placement.items():  # each database is on its own server only
        other = two if server is one else one
        assert query(_db(server, p, tenant), "SELECT step FROM tb_log") == [("0001",)]
        assert not query(other.url(), "SELECT 1 FROM pg_database WHERE datname = %s",
                         [f"tenant_{p}{tenant}"])
    text = reg.read_text()
    assert text.startswith("# tenants of the test") and text.count("[[tenants]]") == 4
    assert SECRET not in text and f'name = "{p}c"\nserver = "two"' in text

    # 0002 fails on tenant c only (it has a tb_tag of its own); the others get it
    query(_db(two, p, "c"), "CREATE TABLE tb_tag (other int)")
    write_migrations(d, {"0002_tag.sql": TAG})
    first, data = _json("migrate", "apply", "--all", "--jobs", "3", *common)
    assert first.exit_code == 1
    rows = {t["tenant"][len(p):]: t for t in data["targets"]}
    assert [t["tenant"] for t in data["targets"]] == [f"{p}{x}" for x in "abcd"]
    assert data["summary"] == {"targets": 4, "ok": 3, "failed": 1}
    assert not rows["c"]["ok"] and rows["c"]["diagnostics"][0]["code"] == "FSC507"
    assert "0002_tag.sql failed" in rows["c"]["state"]
    for tenant in "abd":
        assert rows[tenant]["ok"] and rows[tenant]["applied"] == ["0002_tag.sql"]
    assert SECRET not in first.stdout and SECRET not in first.output
    assert "***" in rows["a"]["database"]  # the URL is shown redacted
    assert query(_db(two, p, "c"), "SELECT step FROM tb_log") == [("0001",)]

    # status over every tenant says where each one is; exit 0 (pending is not an error)
    status, sdata = _json("migrate", "status", "--all", *common)
    assert status.exit_code == 0, status.output
    assert [t["pending"] for t in sdata["targets"]] == [[], [], ["0002_tag.sql"], []]

    # fix c and run again: only c's missing file runs, nothing is applied twice
    query(_db(two, p, "c"), "DROP TABLE tb_tag")
    again = _cli("migrate", "apply", "--all", *common)
    assert again.exit_code == 0, again.output
    lines = again.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["ok"] * 4
    assert lines[2].endswith("applied 1: 0002_tag.sql")
    assert all(lines[i].endswith("applied 0 (up to date)") for i in (0, 1, 3))
    assert "4 of 4 databases ok" in again.output
    for tenant, server in placement.items():
        url = _db(server, p, tenant)
        assert query(url, "SELECT step FROM tb_log ORDER BY step") == [("0001",), ("0002",)]
        assert query(url, "SELECT version FROM fraisec_history.migrations ORDER BY 1") == [(1,), (2,)]

    # a selection: --tenant, in the order given
    chosen, cdata = _json("migrate", "status", "--tenant", f"{p}d", "--tenant", f"{p}a", *common)
    assert chosen.exit_code == 0
    assert [(t["tenant"], t["state"]) for t in cdata["targets"]] == [
        (f"{p}d", "2 applied, up to date"), (f"{p}a", "2 applied, up to date")]


def test_tenant_create_is_safe_to_rerun_and_refuses_a_conflicting_entry(servers, tmp_path):
    one, two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, two)
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    common = ["--registry", str(reg), "--dir", str(d)]
    # the database exists already (a run that stopped after CREATE DATABASE): it is kept
    with psycopg.connect(two.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(f"tenant_{p}x")))
    first = _cli("tenant", "create", f"{p}x", "--server", "two", *common)
    assert first.exit_code == 0, first.output
    assert f"kept existing database tenant_{p}x" in first.output and "recorded in" in first.output
    second, data = _json("tenant", "create", f"{p}x", *common)
    assert second.exit_code == 0
    assert (data["created"], data["applied"], data["recorded"]) == (False, [], False)
    assert reg.read_text().count("[[tenants]]") == 1
    assert query(_db(two, p, "x"), "SELECT step FROM tb_log") == [("0001",)]
    conflict = _cli("tenant", "create", f"{p}x", "--server", "one", *common)
    assert conflict.exit_code == 1 and "FSC535" in conflict.output and "server" in conflict.output
    listed = _cli("tenant", "list", "--registry", str(reg))
    assert listed.exit_code == 0 and listed.stdout.startswith(f"{p}x  database")
    assert SECRET not in listed.stdout and "***" in listed.stdout


def test_a_failed_migration_leaves_the_tenant_unrecorded_until_a_rerun_finishes(servers, tmp_path):
    one, two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, two)
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT,
                                          "0002_bad.sql": "ALTER TABLE tb_missing ADD c int;\n"})
    common = ["--registry", str(reg), "--dir", str(d)]
    failed = _cli("tenant", "create", f"{p}y", "--server", "one", *common)
    assert failed.exit_code == 1 and "FSC507" in failed.output and "not finished" in failed.output
    assert "[[tenants]]" not in reg.read_text()
    assert query(_db(one, p, "y"), "SELECT step FROM tb_log") == [("0001",)]
    write_migrations(d, {"0002_bad.sql": "CREATE TABLE tb_missing (c int);\n"})
    done = _cli("tenant", "create", f"{p}y", "--server", "one", *common)
    assert done.exit_code == 0, done.output
    assert "kept existing" in done.output and "applied 1 migration: 0002_bad.sql" in done.output
    assert reg.read_text().count("[[tenants]]") == 1


def test_status_and_check_with_several_databases_fan_out(make_db, tmp_path):
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT, "0002_tag.sql": TAG})
    full, partial = make_db(), make_db()
    assert _cli("migrate", "apply", "-d", full, "--dir", str(d)).exit_code == 0
    assert _cli("migrate", "apply", "-d", partial, "--dir", str(d), "--to", "0001").exit_code == 0
    result, data = _json("migrate", "status", "-d", full, "-d", partial, "--dir", str(d))
    assert result.exit_code == 0
    assert [(t["database"], t["pending"]) for t in data["targets"]] == [
        (full, []), (partial, ["0002_tag.sql"])]
    broken = _cli("migrate", "status", "-d", full, "-d", full.replace("@/", "@/nope_"), "--dir", str(d))
    assert broken.exit_code == 1 and broken.stdout.splitlines()[1].startswith("FAILED")



def test_database_url_variable_is_one_database_even_with_spaces(make_db, tmp_path, monkeypatch):
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    url = make_db()
    keywords = psycopg.conninfo.conninfo_to_dict(url)
    monkeypatch.setenv("FRAISEC_DATABASE_URL", " ".join(f"{k}={v}" for k, v in keywords.items()))
    assert " " in os.environ["FRAISEC_DATABASE_URL"]  # "host=… dbname=…", not a URL
    for command in ("apply", "status"):
        result = _cli("migrate", command, "--dir", str(d))
        assert result.exit_code == 0, result.output
    assert query(url, "SELECT step FROM tb_log") == [("0001",)]


def test_registry_problems_stop_before_any_target_is_touched(servers, tmp_path, monkeypatch):
    one, two, p = servers
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    reg = tmp_path / "tenants.toml"
    reg.write_text(f'[[tenants]]\nname = "{p}a"\nurl = "postgresql://app:hunter2@db/x"\n')
    result = _cli("migrate", "apply", "--all", "--registry", str(reg), "--dir", str(d))
    assert result.exit_code == 1 and "FSC531" in result.output and "hunter2" not in result.output
    _registry(reg, one, two)
    reg.write_text(reg.read_text() + f'\n[[tenants]]\nname = "{p}alpha"\nserver = "one"\n')
    unknown = _cli("migrate", "apply", "--tenant", f"{p}alpah", "--tenant", f"{p}alpha",
                   "--registry", str(reg), "--dir", str(d))
    assert unknown.exit_code == 1 and "FSC532" in unknown.output
    assert f"Did you mean '{p}alpha'" in unknown.output
    monkeypatch.delenv("TENANCY_TEST_PASSWORD")
    unset = _cli("migrate", "status", "--all", "--registry", str(reg), "--dir", str(d))
    assert unset.exit_code == 1 and "FSC533" in unset.output and "TENANCY_TEST_PASSWORD" in unset.output
    both = _cli("migrate", "apply", "--all", "-d", one.url(), "--registry", str(reg), "--dir", str(d))
    assert both.exit_code == 2
    assert not query(one.url(), "SELECT 1 FROM pg_database WHERE datname = %s", [f"tenant_{p}alpha"])


BOOK = """
import fraisec as fq


@fq.entity
class Book:
    identifier: str
    title: str
"""


def test_check_with_several_databases_reports_each_and_exits_3_on_drift(make_db, tmp_path,
                                                                        monkeypatch):
    (tmp_path / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n')
    (tmp_path / "db").mkdir()
    (tmp_path / "schema.py").write_text(BOOK.lstrip())
    monkeypatch.chdir(tmp_path)
    assert _cli("migrate", "diff", "init").exit_code == 0
    same, drifted = make_db(), make_db()
    for url in (same, drifted):
        assert _cli("migrate", "apply", "-d", url).exit_code == 0
    query(drifted, "ALTER TABLE app.tb_book ADD COLUMN extra int")
    result, data = _json("migrate", "check", "-d", same, "-d", drifted)
    assert result.exit_code == 3, result.output
    assert [(t["database"], t["ok"]) for t in data["targets"]] == [(same, True), (drifted, False)]
    assert data["targets"][0]["state"] == "matches the schema"
    assert any("extra" in line for line in data["targets"][1]["differences"])
    query(drifted, "ALTER TABLE app.tb_book DROP COLUMN extra")
    clean = _cli("migrate", "check", "-d", same, "-d", drifted)
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.count("matches the schema") == 2


# -- schema per tenant ---------------------------------------------------------------------------

NOTES = """
CREATE TABLE tb_note (id int PRIMARY KEY, body text);
CREATE VIEW v_note AS SELECT id, body FROM tb_note;
CREATE FUNCTION fn_note_count() RETURNS bigint LANGUAGE sql STABLE
    SET search_path FROM CURRENT AS $$ SELECT count(*) FROM tb_note $$;
GRANT SELECT ON tb_note, v_note TO notes_api;
"""
NOTE_TAGS = """
BEGIN;
ALTER TABLE tb_note ADD COLUMN tag text;
CREATE TABLE tb_tag (name text PRIMARY KEY);
COMMIT;
"""


def test_schema_per_tenant_applies_the_same_files_to_each_schema_with_its_own_history(
        make_db, tmp_path):
    url = make_db()
    reg = tmp_path / "tenants.toml"
    reg.write_text(f'[defaults]\nstrategy = "schema"\nurl = "{url}"\nrole = "{{schema}}_api"\n'
                   'member_of = ["notes_api"]\n')
    d = write_migrations(tmp_path / "m", {"0001_notes.sql": NOTES})
    common = ["--registry", str(reg), "--dir", str(d)]
    for tenant in ("acme", "globex", "initech"):
        created = _cli("tenant", "create", tenant, *common)
        assert created.exit_code == 0, created.output
        assert f"created schema tenant_{tenant}" in created.output
    assert reg.read_text().count("[[tenants]]") == 3
    # each schema has its own objects, bound to its own tables; nothing went to public
    query(url, "INSERT INTO tenant_acme.tb_note VALUES (1, 'a'), (2, 'b')")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET search_path TO tenant_globex")
        assert conn.execute("SELECT tenant_acme.fn_note_count(), fn_note_count()").fetchone() == (2, 0)
        assert conn.execute("SELECT count(*) FROM tenant_acme.v_note").fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM v_note").fetchone() == (0,)
    assert query(url, "SELECT to_regclass('public.tb_note')") == [(None,)]
    assert query(url, "SELECT proconfig FROM pg_proc WHERE oid = 'tenant_acme.fn_note_count'::regproc"
                 ) == [(["search_path=tenant_acme, public, pg_temp"],)]
    # isolation by grants: a tenant's role reaches its own schema and no other
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET ROLE tenant_acme_api")
        assert conn.execute("SELECT count(*) FROM tenant_acme.v_note").fetchone() == (2,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema tenant_globex"):
            conn.execute("SELECT count(*) FROM tenant_globex.tb_note")
        conn.execute("RESET ROLE; SET ROLE notes_api")  # the common role: no tenant at all
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema tenant_acme"):
            conn.execute("SELECT count(*) FROM tenant_acme.tb_note")
    assert query(url, "SELECT to_regclass('fraisec_history.migrations')") == [(None,)]
    for tenant in ("acme", "globex", "initech"):
        assert query(url, f"SELECT version, name FROM fraisec_history.tenant_{tenant}") == [
            (1, "0001_notes.sql")]

    # 0002 fails in globex only; the others get it; the rerun after the fix completes it
    query(url, "CREATE TABLE tenant_globex.tb_tag (other int)")
    write_migrations(d, {"0002_note_tags.sql": NOTE_TAGS})
    first, data = _json("migrate", "apply", "--all", "-j", "2", *common)
    assert first.exit_code == 1
    assert [(t["tenant"], t["schema"], t["ok"]) for t in data["targets"]] == [
        ("acme", "tenant_acme", True), ("globex", "tenant_globex", False),
        ("initech", "tenant_initech", True)]
    assert data["targets"][1]["diagnostics"][0]["code"] == "FSC507"
    assert query(url, "SELECT count(*) FROM fraisec_history.tenant_globex") == [(1,)]
    query(url, "DROP TABLE tenant_globex.tb_tag")
    again = _cli("migrate", "apply", "--all", *common)
    assert again.exit_code == 0, again.output
    assert [line.split("  ")[-1] for line in again.stdout.splitlines()] == [
        "applied 0 (up to date)", "applied 1: 0002_note_tags.sql", "applied 0 (up to date)"]
    assert "3 of 3 targets ok" in again.output
    for tenant in ("acme", "globex", "initech"):
        assert query(url, f"SELECT version FROM fraisec_history.tenant_{tenant} ORDER BY 1") == [
            (1,), (2,)]
        assert query(url, "SELECT count(*) FROM information_schema.columns WHERE "
                          "table_schema = %s AND table_name = 'tb_note' AND column_name = 'tag'",
                     [f"tenant_{tenant}"]) == [(1,)]
    status, sdata = _json("migrate", "status", "--all", *common)
    assert status.exit_code == 0
    assert {t["state"] for t in sdata["targets"]} == {"2 applied, up to date"}
    # drift: each tenant schema against what its migrations make of it
    check, cdata = _json("migrate", "check", "--all", *common)
    assert check.exit_code == 0, check.output
    assert {t["state"] for t in cdata["targets"]} == {"matches the schema"}
    query(url, "ALTER TABLE tenant_initech.tb_note ADD COLUMN extra int")
    check, cdata = _json("migrate", "check", "--all", *common)
    assert check.exit_code == 3
    assert [t["ok"] for t in cdata["targets"]] == [True, True, False]
    assert [d for d in cdata["targets"][2]["differences"] if "extra" in d]
    assert cdata["targets"][2]["diagnostics"][0]["code"] == "FSC513"


def test_a_tenant_schema_that_was_never_created_is_refused(make_db, tmp_path):
    url = make_db()
    reg = tmp_path / "tenants.toml"
    reg.write_text(f'[[tenants]]\nname = "ghost"\nstrategy = "schema"\nurl = "{url}"\n')
    d = write_migrations(tmp_path / "m", {"0001_notes.sql": NOTES})
    result, data = _json("migrate", "apply", "--all", "--registry", str(reg), "--dir", str(d))
    assert result.exit_code == 1
    assert data["targets"][0]["diagnostics"][0]["code"] == "FSC537"
    assert query(url, "SELECT to_regclass('public.tb_note'), to_regnamespace('fraisec_history')") \
        == [(None, None)]
    status, sdata = _json("migrate", "status", "--all", "--registry", str(reg), "--dir", str(d))
    assert status.exit_code == 1 and sdata["targets"][0]["diagnostics"][0]["code"] == "FSC537"
    assert sdata["targets"][0]["state"].startswith("failed: schema tenant_ghost does not exist")


def test_tenant_create_refuses_a_password_on_the_command_line_and_writes_nothing(tmp_path):
    reg = tmp_path / "tenants.toml"
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    result = _cli("tenant", "create", "zed", "--url", "postgresql://app:hunter2@nowhere/x",
                  "--registry", str(reg), "--dir", str(d))
    assert result.exit_code == 1 and "FSC531" in result.output and "hunter2" not in result.output
    assert not reg.exists()


def test_jobs_bounds_the_targets_migrated_at_once(servers, tmp_path):
    one, _two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, _two)
    names = [f"{p}j{i}" for i in range(6)]
    reg.write_text(reg.read_text() + "".join(
        f'\n[[tenants]]\nname = "{n}"\nserver = "one"\n' for n in names))
    for n in names:
        query(one.url(), f'CREATE DATABASE "tenant_{n}"')
    # each target records how many fraisec appliers are connected to the server meanwhile
    d = write_migrations(tmp_path / "m", {"0001_seen.sql": """
        CREATE TABLE seen AS SELECT count(*) AS appliers, pg_sleep(0.3) IS NULL AS slept
          FROM pg_stat_activity WHERE application_name LIKE 'fraisec migrate%';
        """})
    result = _cli("migrate", "apply", "--all", "--jobs", "2", "--registry", str(reg), "--dir", str(d))
    assert result.exit_code == 0, result.output
    seen = [query(one.url(f"tenant_{n}"), "SELECT appliers FROM seen")[0][0] for n in names]
    assert 1 <= max(seen) <= 2, seen


def test_hybrid_registry_migrates_dedicated_shared_and_schema_tenants_in_one_run(servers, tmp_path):
    one, two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, two)
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    common = ["--registry", str(reg), "--dir", str(d)]
    shared = f"tenant_{p}shared"
    for args in ([f"{p}big", "--server", "one"],
                 [f"{p}s1", "--strategy", "shared", "--server", "two", "--database-name", shared],
                 [f"{p}s2", "--strategy", "shared", "--server", "two", "--database-name", shared],
                 [f"{p}t1", "--strategy", "schema", "--server", "two", "--database-name", shared]):
        created = _cli("tenant", "create", *args, *common)
        assert created.exit_code == 0, created.output
    assert "kept existing database" in created.output or "created schema" in created.output
    write_migrations(d, {"0002_tag.sql": TAG})
    result, data = _json("migrate", "apply", "--all", *common)
    assert result.exit_code == 0, result.output
    # the two shared tenants are one target, migrated once
    assert [(t["tenant"], t["schema"], t["applied"]) for t in data["targets"]] == [
        (f"{p}big", None, ["0002_tag.sql"]), (f"{p}s1,{p}s2", None, ["0002_tag.sql"]),
        (f"{p}t1", f"tenant_{p}t1", ["0002_tag.sql"])]
    shared_url = two.url(shared)
    assert query(shared_url, "SELECT step FROM public.tb_log ORDER BY 1") == [("0001",), ("0002",)]
    assert query(shared_url, f"SELECT step FROM tenant_{p}t1.tb_log ORDER BY 1") == [
        ("0001",), ("0002",)]
    assert query(one.url(f"tenant_{p}big"), "SELECT step FROM tb_log ORDER BY 1") == [
        ("0001",), ("0002",)]


def test_create_database_refused_is_reported_and_nothing_is_recorded(servers, tmp_path):
    one, two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, two)
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    query(one.url(), "DO $$ BEGIN CREATE ROLE fraisec_no_createdb LOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    weak = one.url(user="fraisec_no_createdb")
    result = _cli("tenant", "create", f"{p}w", "--server", "one", "--admin-url", weak,
                  "--registry", str(reg), "--dir", str(d))
    assert result.exit_code == 1
    assert "FSC536" in result.output and "permission denied to create database" in result.output
    assert "kept existing" not in result.output and "[[tenants]]" not in reg.read_text()


# -- moving a tenant -----------------------------------------------------------------------------

ORGS = """
CREATE TABLE tb_org (pk_org bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE tb_project (pk_project bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                         fk_org bigint NOT NULL REFERENCES tb_org, title text);
CREATE TABLE tb_outbox (event text);
CREATE FUNCTION fn_outbox() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT
    AS $$ BEGIN INSERT INTO tb_outbox VALUES ('project ' || NEW.title); RETURN NEW; END $$;
CREATE TRIGGER tr_project_outbox AFTER INSERT ON tb_project
    FOR EACH ROW EXECUTE FUNCTION fn_outbox();
"""


def test_move_a_schema_tenant_to_its_own_database_on_another_server(servers, tmp_path):
    one, two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, two)
    shared = f"tenant_{p}shared"
    query(one.url(), f'CREATE DATABASE "{shared}"')
    d = write_migrations(tmp_path / "m", {"0001_orgs.sql": ORGS})
    common = ["--registry", str(reg), "--dir", str(d)]
    for tenant in ("mv", "stay"):
        created = _cli("tenant", "create", f"{p}{tenant}", "--strategy", "schema", "--server",
                       "one", "--database-name", shared, *common)
        assert created.exit_code == 0, created.output
    source = one.url(shared)
    query(source, f"""SET search_path TO tenant_{p}mv;
        INSERT INTO tb_org (name) VALUES ('a'), ('b');
        INSERT INTO tb_project (fk_org, title) VALUES (1, 'x'), (2, 'y'), (2, 'z')""")
    moved, data = _json("tenant", "move", f"{p}mv", "--server", "two", *common)
    assert moved.exit_code == 0, moved.output
    assert data["rows"] == {'"public"."tb_org"': 2, '"public"."tb_outbox"': 3,
                            '"public"."tb_project"': 3}
    dest = two.url(f"tenant_{p}mv")
    # the rows moved as they were: the outbox trigger did not fire again, keys kept
    assert query(dest, "SELECT event FROM tb_outbox ORDER BY 1") == [
        ("project x",), ("project y",), ("project z",)]
    assert query(dest, "SELECT o.name, p.title FROM tb_project p JOIN tb_org o ON o.pk_org = p.fk_org"
                       " ORDER BY p.pk_project") == [("a", "x"), ("b", "y"), ("b", "z")]
    # identity sequences continue after the copied keys, and the trigger works for new rows
    assert query(dest, "INSERT INTO tb_project (fk_org, title) VALUES (1, 'new') "
                       "RETURNING pk_project") == [(4,)]
    assert query(dest, "SELECT count(*) FROM tb_outbox") == [(4,)]
    # the source is unchanged; the registry points at the new database; migrations reach it
    assert query(source, f"SELECT count(*) FROM tenant_{p}mv.tb_project") == [(3,)]
    entry = tomllib.loads(reg.read_text())["tenants"][0]
    assert entry == {"name": f"{p}mv", "strategy": "database", "server": "two"}
    write_migrations(d, {"0002_tag.sql": "ALTER TABLE tb_project ADD COLUMN tag text;\n"})
    applied, adata = _json("migrate", "apply", "--all", *common)
    assert applied.exit_code == 0, applied.output
    assert [(t["tenant"], t["schema"]) for t in adata["targets"]] == [
        (f"{p}mv", None), (f"{p}stay", f"tenant_{p}stay")]
    # moving again: it is there already, nothing to do
    again = _cli("tenant", "move", f"{p}mv", "--server", "two", *common)
    assert again.exit_code == 0 and "already in" in again.output
    assert query(dest, "SELECT count(*) FROM tb_project") == [(4,)]


def test_move_rerun_after_an_interrupted_run_finds_the_copy_complete(servers, tmp_path):
    """The copy committed but the registry was not updated (the process died between the two):
    the rerun sees equal counts, copies nothing and updates the registry."""
    from fraisec.migrations.move import copy_tenant

    one, two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, two)
    query(one.url(), f'CREATE DATABASE "tenant_{p}src"')
    d = write_migrations(tmp_path / "m", {"0001_orgs.sql": ORGS})
    common = ["--registry", str(reg), "--dir", str(d)]
    assert _cli("tenant", "create", f"{p}src", "--server", "one", *common).exit_code == 0
    query(one.url(f"tenant_{p}src"), "INSERT INTO tb_org (name) VALUES ('a')")
    assert _cli("tenant", "create", f"{p}dst", "--server", "two", *common).exit_code == 0
    first = copy_tenant(one.url(f"tenant_{p}src"), None, two.url(f"tenant_{p}dst"))
    assert first.ok and first.copied['"public"."tb_org"'] == 1 and not first.already
    again, data = _json("tenant", "move", f"{p}src", "--server", "two", "--database-name",
                        f"tenant_{p}dst", *common)
    assert again.exit_code == 0, again.output
    assert data["already"] is True and data["rows"]['"public"."tb_org"'] == 1
    assert query(two.url(f"tenant_{p}dst"), "SELECT name FROM tb_org") == [("a",)]
    # a destination holding other rows is refused, not merged into
    query(two.url(f"tenant_{p}dst"), "INSERT INTO tb_org (name) VALUES ('other')")
    refused = copy_tenant(one.url(f"tenant_{p}src"), None, two.url(f"tenant_{p}dst"))
    assert [d.code for d in refused.diagnostics] == ["FSC538"]
    assert "not a complete copy" in refused.diagnostics[0].message
    assert query(two.url(f"tenant_{p}dst"), "SELECT name FROM tb_org ORDER BY 1") == [
        ("a",), ("other",)]


def test_move_refuses_a_shared_tenant(servers, tmp_path):
    one, two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, two)
    reg.write_text(reg.read_text() + f'\n[[tenants]]\nname = "{p}sh"\nstrategy = "shared"\n'
                                      f'server = "one"\ndatabase = "app"\n')
    result = _cli("tenant", "move", f"{p}sh", "--server", "two", "--registry", str(reg))
    assert result.exit_code == 1 and "FSC538" in result.output and "shared tables" in result.output


def test_a_file_that_would_escape_the_tenant_schema_is_refused_for_schema_targets(make_db, tmp_path):
    url = make_db()
    reg = tmp_path / "tenants.toml"
    reg.write_text(f'[defaults]\nstrategy = "schema"\nurl = "{url}"\n')
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    common = ["--registry", str(reg), "--dir", str(d)]
    for tenant in ("acme", "globex"):
        created = _cli("tenant", "create", tenant, *common)
        assert created.exit_code == 0, created.output
    query(url, "CREATE SCHEMA app; CREATE TABLE app.tb_user (id int PRIMARY KEY)")
    write_migrations(d, {"0002_shared.sql": """
        CREATE TABLE tb_assignee (fk_user int REFERENCES app.tb_user);
        CREATE TABLE app.tb_plan (id int);
        """})
    result, data = _json("migrate", "apply", "--all", *common)
    assert result.exit_code == 1
    for target in data["targets"]:
        [diag] = target["diagnostics"]
        assert diag["code"] == "FSC539" and "(app.tb_plan)" in diag["message"]
        assert diag["location"]["line"] == 2
    assert query(url, "SELECT to_regclass('app.tb_plan'), to_regclass('tenant_acme.tb_assignee')") \
        == [(None, None)]
    # a plain database target of the same directory is not concerned
    plain = make_db("CREATE SCHEMA app; CREATE TABLE app.tb_user (id int PRIMARY KEY)")
    assert _cli("migrate", "apply", "-d", plain, "-d", plain, "--dir", str(d)).exit_code == 0


def test_each_tenant_schema_has_its_own_lock(make_db, tmp_path):
    from fraisec.migrations.lock import lock_key

    url = make_db()
    reg = tmp_path / "tenants.toml"
    reg.write_text(f'[defaults]\nstrategy = "schema"\nurl = "{url}"\n')
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    common = ["--registry", str(reg), "--dir", str(d)]
    for tenant in ("busy", "free"):
        assert _cli("tenant", "create", tenant, *common).exit_code == 0
    write_migrations(d, {"0002_tag.sql": TAG})
    with psycopg.connect(url, autocommit=True) as holder:  # another applier of tenant "busy"
        holder.execute("SELECT pg_advisory_lock(%s, %s)", lock_key("fraisec_history.tenant_busy"))
        result, data = _json("migrate", "apply", "--all", "--lock-timeout", "0.5", *common)
    assert result.exit_code == 5, result.output
    assert [(t["tenant"], t["ok"], t["locked"], t["applied"]) for t in data["targets"]] == [
        ("busy", False, True, []), ("free", True, False, ["0002_tag.sql"])]
    again = _cli("migrate", "apply", "--all", *common)
    assert again.exit_code == 0 and "applied 1: 0002_tag.sql" in again.stdout.splitlines()[0]


def test_concurrent_tenant_creates_each_record_their_tenant(servers, tmp_path):
    one, two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, two)
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    procs = [spawn_cli("tenant", "create", f"{p}c{i}", "--server", "one" if i % 2 else "two",
                       "--registry", str(reg), "--dir", str(d)) for i in range(4)]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    names = sorted(t["name"] for t in tomllib.loads(reg.read_text())["tenants"])
    assert names == [f"{p}c{i}" for i in range(4)]


def test_the_first_schema_tenant_creates_the_shared_database(servers, tmp_path):
    one, two, p = servers
    reg = _registry(tmp_path / "tenants.toml", one, two)
    d = write_migrations(tmp_path / "m", {"0001_init.sql": INIT})
    shared = f"tenant_{p}pool"
    created = _cli("tenant", "create", f"{p}first", "--strategy", "schema", "--server", "two",
                   "--database-name", shared, "--registry", str(reg), "--dir", str(d))
    assert created.exit_code == 0, created.output
    assert query(two.url(shared), f"SELECT step FROM tenant_{p}first.tb_log") == [("0001",)]
