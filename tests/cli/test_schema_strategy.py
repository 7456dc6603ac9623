"""Schema per tenant generated from one schema module (`[tenancy] strategy = "schema"`):
compile and `migrate diff` split the SQL into a shared part and a tenant part, `tenant create`
provisions tenant schemas, and a second generated migration reaches every tenant."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, query

SCHEMA = '''
from __future__ import annotations

import fraisec as fq
from fraisec.scalars import DateTime

fq.tenancy(tenant="Organization", claim="org_id", user="User")


@fq.entity
class Organization:
    """A tenant."""

    identifier: str = fq.field(unique=True)
    name: str


@fq.entity
class User:
    """A person; shared by every tenant."""

    identifier: str = fq.field(unique=True)
    name: str
{user_extra}

@fq.entity(tenant=True{note_options})
class Note:
    """A note of one organization."""

    organization: Organization
    title: str
    author: User | None = None
    created_at: DateTime = fq.now()
{note_extra}

@fq.query
def notes(limit: int = 50) -> list[Note]:
    """The tenant's notes."""


@fq.mutation(operation="CREATE")
def create_note(title: str) -> Note:
    """Add a note."""
{tail}'''


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


def _project(root: Path, url: str, prefix: str, user_extra: str = "", note_extra: str = "",
             note_options: str = "", tail: str = "") -> None:
    (root / "schema.py").write_text(SCHEMA.format(user_extra=user_extra, note_extra=note_extra,
                                                  note_options=note_options, tail=tail))
    (root / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n\n'
                                       '[tenancy]\nstrategy = "schema"\n')
    if not (root / "tenants.toml").exists():  # tenant create appends to it
        (root / "tenants.toml").write_text(
            f'[defaults]\nstrategy = "schema"\nurl = "{url}"\n'
            f'role = "{{schema}}_api"\nmember_of = ["app_user"]\n')


def _cli(*args: str):
    result = run_cli("--no-color", *args)
    return result


def test_compile_splits_the_module_into_a_shared_and_a_tenant_part(tmp_path, monkeypatch):
    _project(tmp_path, "postgresql:///unused", "x")
    monkeypatch.chdir(tmp_path)
    result = _cli("compile")
    assert result.exit_code == 0, result.output
    shared = (tmp_path / "build/schema.sql").read_text()
    tenant = (tmp_path / "build/tenant.sql").read_text()
    assert "CREATE TABLE app.tb_user" in shared and "tb_note" not in shared
    assert "CREATE TABLE tb_note (" in tenant and "app.tb_note" not in tenant
    assert "fk_organization" not in tenant and "tenant_guard" not in tenant
    assert "REFERENCES app.tb_user (pk_user)" in tenant  # shared objects stay qualified
    assert "RETURNS app.mutation_response" in tenant
    assert "SET search_path FROM CURRENT" in tenant and "SET search_path =" not in tenant
    data = json.loads((tmp_path / "build/schema.json").read_text())
    note = next(t for t in data["types"] if t["name"] == "Note")
    assert [f["name"] for f in note["fields"]] == ["id", "title", "author", "createdAt"]
    assert note["sql_source"] == "v_note"


def test_a_shared_entity_pointing_into_a_tenant_is_diagnosed(tmp_path, monkeypatch):
    _project(tmp_path, "postgresql:///unused", "x", user_extra="    pinned: Note | None = None\n")
    monkeypatch.chdir(tmp_path)
    result = _cli("compile")
    assert result.exit_code == 1
    assert "FSC541" in result.output and "User.pinned" in result.output
    assert "Traceback" not in result.output


def test_schema_tenants_from_generated_migrations_are_isolated_and_migrate_together(
        make_db, tmp_path, monkeypatch):
    url = make_db()
    p = f"s{os.getpid()}"
    _project(tmp_path, url, p)
    monkeypatch.chdir(tmp_path)
    first = _cli("migrate", "diff", "init")
    assert first.exit_code == 0, first.output
    assert (tmp_path / "migrations/0001_init.sql").is_file()
    tenant_file = (tmp_path / "migrations/tenant/0001_init.sql").read_text()
    assert "CREATE TABLE tb_note" in tenant_file and "fraisec_tenant" not in tenant_file
    tenants = [f"{p}a", f"{p}b", f"{p}c"]
    for name in tenants:
        created = _cli("tenant", "create", name)
        assert created.exit_code == 0, created.output
    # the shared part is in the database once; each tenant schema has its own tables
    assert query(url, "SELECT version FROM fraisec_history.migrations") == [(1,)]
    a, b = f"tenant_{p}a", f"tenant_{p}b"
    query(url, f"INSERT INTO {a}.tb_note (title) VALUES ('only a')")
    assert query(url, f"SELECT count(*) FROM {b}.tb_note") == [(0,)]
    assert query(url, f"SELECT proconfig FROM pg_proc WHERE oid = '{a}.fn_create_note'::regproc"
                 ) == [([f"search_path={a}, public, pg_temp"],)]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET ROLE {a}_api")
        conn.execute(f"SET search_path TO {a}")
        assert conn.execute("SELECT data->>'title' FROM v_note").fetchall() == [("only a",)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=f"schema {b}"):
            conn.execute(f"SELECT count(*) FROM {b}.tb_note")
    # a second generated migration (a tenant column and a shared one) reaches every tenant
    _project(tmp_path, url, p, user_extra="    email: str | None = None\n",
             note_extra="    body: str | None = None\n")
    second = _cli("migrate", "diff", "add_body")
    assert second.exit_code == 0, second.output
    assert "FSC518" not in second.output
    assert (tmp_path / "migrations/0002_add_body.sql").is_file()
    assert "ADD COLUMN body" in (tmp_path / "migrations/tenant/0002_add_body.sql").read_text()
    applied = _cli("migrate", "apply", "--all")
    assert applied.exit_code == 0, applied.output
    for name in tenants:
        assert query(url, f"SELECT count(*) FROM information_schema.columns WHERE "
                          f"table_schema = 'tenant_{name}' AND column_name = 'body'") == [(1,)]
    assert query(url, "SELECT count(*) FROM information_schema.columns WHERE "
                      "table_schema = 'app' AND column_name = 'email'") == [(1,)]
    status = _cli("migrate", "status", "--all")
    assert status.exit_code == 0, status.output
    assert "(shared part)" in status.output and status.output.count("2 applied, up to date") == 4
    checked = _cli("migrate", "check", "--all")
    assert checked.exit_code == 0, checked.output
    # one tenant selected: the other tenant schemas are not differences of the shared part
    one = _cli("migrate", "check", "--tenant", f"{p}a")
    assert one.exit_code == 0, one.output
    # a change made to one tenant outside its migrations is drift of that tenant only
    query(url, f"ALTER TABLE {b}.tb_note ADD COLUMN stray int")
    drift = _cli("migrate", "check", "--all")
    assert drift.exit_code == 3, drift.output
    assert f"FAILED {p}b" in drift.output and f"ok     {p}a" in drift.output


def test_migrate_diff_json_lists_the_tenant_part(tmp_path, monkeypatch):
    _project(tmp_path, "postgresql:///unused", "x")
    monkeypatch.chdir(tmp_path)
    result = run_cli("--format", "json", "migrate", "diff", "init", "--dry-run")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "CREATE TABLE app.tb_user" in data["sql"] and "tb_note" not in data["sql"]
    tenant = data["parts"]["tenant"]
    assert tenant["file"] is None and "CREATE TABLE tb_note" in tenant["sql"]
    assert not (tmp_path / "migrations").exists()


def test_check_gates_the_tenant_part_too(tmp_path, monkeypatch):
    _project(tmp_path, "postgresql:///unused", "x")
    monkeypatch.chdir(tmp_path)
    assert _cli("migrate", "diff", "init").exit_code == 0
    ok = _cli("check")
    assert ok.exit_code == 0, ok.output
    # a tenant-only change, not yet in a tenant migration
    _project(tmp_path, "postgresql:///unused", "x", note_extra="    body: str | None = None\n")
    behind = _cli("check")
    assert behind.exit_code == 3, behind.output
    assert "FSC513" in behind.output and "tenant migrations" in behind.output
    assert "tb_note" in behind.output


# Seed 000's shape on schema per tenant: an observer, a per-user row rule, full-text search and
# the service role's reads on a tenant entity.
OBSERVED = dict(note_options=', owned_by="owner", search={"title": "A"}, service=("SELECT",)',
                note_extra="    owner: User = fq.current_user()\n",
                tail='\nfq.observer(Note, on="INSERT", subject="note.created")\n')


def _request(conn, role: str, schema: str, user: str | None, org: str | None) -> None:
    """What the runtime does per request: the tenant's role, its schema, the identity settings."""
    conn.execute("SELECT set_config('app.user_id', %s, false), set_config('app.tenant_id', %s, false)",
                 [user or "", org or ""])
    conn.execute(f"SET ROLE {role}")
    conn.execute(f"SET search_path TO {schema}")


def test_observers_and_owned_rows_in_tenant_schemas(make_db, tmp_path, monkeypatch):
    url = make_db()
    p = f"o{os.getpid()}"
    _project(tmp_path, url, p, **OBSERVED)
    monkeypatch.chdir(tmp_path)
    compiled = _cli("compile")
    assert compiled.exit_code == 0, compiled.output
    tenant_sql = (tmp_path / "build/tenant.sql").read_text()
    # the observer's trigger function is a tenant object; the outbox it appends to is shared
    assert "CREATE FUNCTION fn_observe_note_insert()" in tenant_sql
    assert "INSERT INTO app_private.tb_outbox_event" in tenant_sql
    assert "CREATE FUNCTION fn_search_note(" in tenant_sql
    assert "CREATE INDEX ix_note_search_vector ON tb_note USING gin" in tenant_sql
    shared_sql = (tmp_path / "build/schema.sql").read_text()
    assert "fn_observe" not in shared_sql and "fn_search" not in shared_sql
    first = _cli("migrate", "diff", "init")
    assert first.exit_code == 0, first.output
    for name in (f"{p}a", f"{p}b"):
        created = _cli("tenant", "create", name)
        assert created.exit_code == 0, created.output
    a, b = f"tenant_{p}a", f"tenant_{p}b"
    # the tenant's schema and objects belong to app_owner, as the shared ones do (not to the
    # role that ran tenant create); the observer trigger function to the observer role
    assert query(url, f"SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = '{a}'"
                 ) == [("app_owner",)]
    owners = query(url, f"""
        SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
        WHERE c.relnamespace = '{a}'::regnamespace AND c.relkind IN ('r', 'v', 'S')
        UNION ALL
        SELECT p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p
        WHERE p.pronamespace = '{a}'::regnamespace ORDER BY 1""")
    assert {"tb_note", "v_note", "fn_create_note", "fn_search_note"} <= {n for n, _ in owners}
    assert {(n, o) for n, o in owners if o != "app_owner"} == {("fn_observe_note_insert", "app_observer")}
    # every tenant function (the observer's too) captured the tenant's path, pg_temp last
    configs = query(url, f"SELECT proname, proconfig FROM pg_proc WHERE pronamespace = '{a}'::regnamespace")
    assert len(configs) == 3 and all(c == [f"search_path={a}, public, pg_temp"] for _, c in configs)
    alice, bob = "00000000-0000-0000-0000-00000000a11c", "00000000-0000-0000-0000-000000000b0b"
    org_a, org_b = "00000000-0000-0000-0000-0000000000aa", "00000000-0000-0000-0000-0000000000bb"
    query(url, f"INSERT INTO app.tb_user (id, identifier, name) VALUES ('{alice}', 'alice', 'Alice'), "
               f"('{bob}', 'bob', 'Bob')")
    query(url, f"INSERT INTO app.tb_organization (id, identifier, name) VALUES "
               f"('{org_a}', 'a', 'A'), ('{org_b}', 'b', 'B')")
    with psycopg.connect(url, autocommit=True) as conn:
        _request(conn, f"{a}_api", a, alice, org_a)
        assert conn.execute("SELECT succeeded, http_status FROM fn_create_note('from alice')"
                            ).fetchall() == [(True, 201)]
        # the API role (and so the tenant's role) cannot write the outbox itself, nor read it
        for statement in ("INSERT INTO app_private.tb_outbox_event (subject, entity, entity_id, "
                          "operation, tenant_schema) VALUES ('note.created', 'Note', "
                          f"gen_random_uuid(), 'INSERT', '{b}')",
                          "SELECT count(*) FROM app_private.tb_outbox_event"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(statement)
        # owned_by: another user of the same tenant schema does not see alice's note
        assert conn.execute("SELECT data->>'title' FROM v_note").fetchall() == [("from alice",)]
        # search: the tenant's own function over the tenant's own table
        assert conn.execute("SELECT data->>'title' FROM fn_search_note('alice')").fetchall() == [
            ("from alice",)]
        conn.execute("RESET ROLE")
        _request(conn, f"{a}_api", a, bob, org_a)
        assert conn.execute("SELECT count(*) FROM v_note").fetchall() == [(0,)]
        assert conn.execute("SELECT count(*) FROM tb_note").fetchall() == [(0,)]
        conn.execute("RESET ROLE")
        # tenant B's role reaches neither A's rows nor the events
        _request(conn, f"{b}_api", b, alice, org_b)
        assert conn.execute("SELECT count(*) FROM v_note").fetchall() == [(0,)]
        assert conn.execute("SELECT count(*) FROM fn_search_note('alice')").fetchall() == [(0,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=f"schema {a}"):
            conn.execute(f"SELECT count(*) FROM {a}.v_note")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute("SELECT count(*) FROM app_private.tb_outbox_event")
    # the service role (a webhook, no user, no tenant) reads the tenant it sets search_path to
    with psycopg.connect(url, autocommit=True) as conn:
        _request(conn, "app_service", a, None, None)
        assert conn.execute("SELECT title FROM tb_note").fetchall() == [("from alice",)]
        conn.execute("RESET ROLE")
        _request(conn, "app_service", b, None, None)
        assert conn.execute("SELECT count(*) FROM tb_note").fetchall() == [(0,)]
    # the event names tenant A by its schema, and carries the view's data
    assert query(url, "SELECT subject, tenant_schema, data->>'title', data->'owner'->>'name' "
                      "FROM app_private.tb_outbox_event") == [("note.created", a, "from alice", "Alice")]
    # a job (no request at all) changing B's rows still attributes the event to B
    query(url, f"INSERT INTO {b}.tb_note (title, fk_owner) SELECT 'by a job', pk_user "
               f"FROM app.tb_user WHERE id = '{bob}'")
    assert query(url, "SELECT tenant_schema, data->>'title' FROM app_private.tb_outbox_event "
                      "ORDER BY pk_outbox_event") == [(a, "from alice"), (b, "by a job")]
    checked = _cli("migrate", "check", "--all")
    assert checked.exit_code == 0, checked.output


INVITATIONS = '''
from enum import Enum

import fraisec as fq
from fraisec.scalars import ID

fq.tenancy(tenant="Org", claim="org_id", user="Person", membership="Seat")


@fq.enum
class Role(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


@fq.entity
class Org:
    identifier: str


@fq.entity
class Person:
    identifier: str
    email: str = fq.field(unique=True)


@fq.entity(tenant=True)
class Seat:
    org: Org
    person: Person
    role: Role = Role.MEMBER
    __unique__ = [("org", "person")]


@fq.entity(tenant=True, invitation=True)
class Invitation:
    org: Org
    email: str
    role: Role = Role.MEMBER


@fq.mutation(operation="INVITE", requires_role="admin")
def invite(email: str, role: Role = Role.MEMBER) -> Invitation: ...
'''


def test_invitations_stay_refused_in_schema_per_tenant(tmp_path, monkeypatch):
    (tmp_path / "schema.py").write_text(INVITATIONS)
    (tmp_path / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n\n'
                                           '[tenancy]\nstrategy = "schema"\n')
    monkeypatch.chdir(tmp_path)
    result = _cli("compile")
    assert result.exit_code == 1, result.output
    assert ("error[FSC540]: Invitation is tenant-scoped and uses invitations (a token is unique "
            "across every tenant and accepted from any of them), which schema per tenant does "
            "not generate") in result.output
    assert "Traceback" not in result.output and not (tmp_path / "build").exists()
    # the same module compiles in the rls strategy
    (tmp_path / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n')
    assert _cli("compile").exit_code == 0


def test_the_saas_example_moves_to_schema_per_tenant_unchanged(make_db, tmp_path, monkeypatch):
    """examples/saas (seed 000: observers with activity rows on Project) with only the strategy
    changed: compiled, migrated and provisioned for two tenants; a project created in one
    tenant's schema gives an event naming that schema and an activity row there only."""
    import shutil

    url = make_db()
    p = f"e{os.getpid()}"
    root = tmp_path / "saas"
    shutil.copytree(Path(__file__).parents[2] / "examples" / "saas", root,
                    ignore=shutil.ignore_patterns("build", "migrations"))
    with (root / "fraisec.toml").open("a") as f:
        f.write('\n[tenancy]\nstrategy = "schema"\n')
    (root / "tenants.toml").write_text(f'[defaults]\nstrategy = "schema"\nurl = "{url}"\n'
                                       'role = "{schema}_api"\nmember_of = ["app_user"]\n')
    monkeypatch.chdir(root)
    compiled = _cli("compile")
    assert compiled.exit_code == 0, compiled.output
    # the hand-written inviteMember still writes the rls table: said, not silently broken
    assert "warning[FSC543]: db/fn_invite_member.sql names app.tb_invitation" in compiled.output
    diffed = _cli("migrate", "diff", "init")
    assert diffed.exit_code == 0, diffed.output
    # migrate diff says it too, once (the tenant part is where the object went)
    assert diffed.output.count("warning[FSC543]: db/fn_invite_member.sql names app.tb_invitation") == 1
    for name in (f"{p}a", f"{p}b"):
        created = _cli("tenant", "create", name)
        assert created.exit_code == 0, created.output
    a, b = f"tenant_{p}a", f"tenant_{p}b"
    user, org = "00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000a2"
    query(url, f"INSERT INTO app.tb_user (id, identifier, name, email) "
               f"VALUES ('{user}', 'ann', 'Ann', 'ann@example.test')")
    query(url, f"INSERT INTO app.tb_organization (id, identifier, name) VALUES ('{org}', 'acme', 'Acme')")
    query(url, "INSERT INTO app.tb_membership (fk_organization, fk_user, role) "
               "SELECT o.pk_organization, u.pk_user, 'admin' FROM app.tb_organization o, app.tb_user u")
    with psycopg.connect(url, autocommit=True) as conn:
        _request(conn, f"{a}_api", a, user, org)
        assert conn.execute("SELECT succeeded FROM fn_create_project('Apollo', 'apollo', %s)",
                            [org]).fetchall() == [(True,)]
        assert conn.execute("SELECT data->>'action' FROM v_activity").fetchall() == [("created",)]
    assert query(url, "SELECT subject, tenant_schema, data->>'name' FROM app_private.tb_outbox_event"
                 ) == [("saas.project.created", a, "Apollo")]
    assert query(url, f"SELECT count(*) FROM {a}.tb_activity") == [(1,)]
    assert query(url, f"SELECT count(*) FROM {b}.tb_activity") == [(0,)]
    checked = _cli("migrate", "check", "--all")
    assert checked.exit_code == 0, checked.output


def test_a_tenant_database_beside_tenant_schemas_gets_the_tenant_part_in_public(
        make_db, tmp_path, monkeypatch):
    """Hybrid: a database tenant of a schema-per-tenant project holds the shared part and the
    tenant part (in public, owned by app_owner); its observers append to its own outbox."""
    url, dedicated = make_db(), make_db()
    p = f"h{os.getpid()}"
    (tmp_path / "tenants.toml").write_text("")  # no schema defaults: one database tenant
    _project(tmp_path, url, p, **OBSERVED)
    monkeypatch.chdir(tmp_path)
    assert _cli("migrate", "diff", "init").exit_code == 0
    created = _cli("tenant", "create", f"{p}d", "--strategy", "database", "--url", dedicated)
    assert created.exit_code == 0, created.output
    assert query(dedicated, "SELECT pg_get_userbyid(relowner) FROM pg_class "
                            "WHERE oid = 'public.tb_note'::regclass") == [("app_owner",)]
    query(dedicated, "INSERT INTO app.tb_user (identifier, name) VALUES ('ann', 'Ann')")
    query(dedicated, "INSERT INTO tb_note (title, fk_owner) SELECT 'kept', pk_user FROM app.tb_user")
    assert query(dedicated, "SELECT tenant_schema, data->>'title' FROM app_private.tb_outbox_event"
                 ) == [("public", "kept")]
    checked = _cli("migrate", "check", "--all")
    assert checked.exit_code == 0, checked.output
