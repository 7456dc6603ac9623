"""Tenant isolation, part 2: the classes an outside attack battery found, each closed.

* shadowing through pg_temp: with TEMP granted back, temporary domains, types, functions and
  operators named like everything the generated bodies use never run inside them;
* the outbox and the activity log are written by the observer triggers only;
* the API role holds exactly the privileges the declared API needs;
* a request's identity comes from its own settings only.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.sqlgen.conftest import ACME, ALICE, ANNA, BOB, CAROL, EXAMPLE, GLOBEX, Saas

# -- shadowing through pg_temp ----------------------------------------------------------------

# Types the bodies name unqualified, and that must resolve to pg_catalog's. Every other base
# type of pg_catalog gets a domain too; these must exist or the test proves nothing.
NEEDED_TYPES = ("uuid", "jsonb", "json", "text", "int8", "int4", "bool", "timestamptz", "xid8", "varchar")

SPY = """
CREATE FUNCTION pg_temp.spy(anyelement) RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'spy ran as %', current_user;
END $$;
CREATE FUNCTION pg_temp.spy_eq(pg_catalog.uuid, pg_catalog.uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'spy operator ran as %', current_user;
END $$;
CREATE FUNCTION pg_temp.spy_get(pg_catalog.jsonb, pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'spy operator ran as %', current_user;
END $$;
DO $$
DECLARE t pg_catalog.text;
BEGIN
    FOR t IN SELECT typname FROM pg_catalog.pg_type
             WHERE typnamespace = 'pg_catalog'::pg_catalog.regnamespace AND typtype = 'b'
               AND typcategory <> 'A' AND typname !~ '^_'
    LOOP
        BEGIN
            EXECUTE pg_catalog.format('CREATE DOMAIN pg_temp.%I AS pg_catalog.%I CHECK (pg_temp.spy(VALUE))', t, t);
        EXCEPTION WHEN OTHERS THEN NULL;  -- a few base types cannot carry a domain
        END;
    END LOOP;
END $$;
-- Composite and enum types named like the ones the bodies use.
CREATE TYPE pg_temp.mutation_response AS (x pg_catalog.int4);
CREATE TYPE pg_temp.mutation_error_class AS ENUM ('validation');
-- Functions and operators named like the ones the bodies call: pg_temp is never searched for
-- them unless named, which these prove on every call.
CREATE OPERATOR pg_temp.= (LEFTARG = pg_catalog.uuid, RIGHTARG = pg_catalog.uuid, FUNCTION = pg_temp.spy_eq);
CREATE OPERATOR pg_temp.->> (LEFTARG = pg_catalog.jsonb, RIGHTARG = pg_catalog.text, FUNCTION = pg_temp.spy_get);
"""
SPY_FUNCTIONS = [
    ("gen_random_uuid()", "pg_catalog.uuid"), ("now()", "pg_catalog.timestamptz"),
    ("current_setting(pg_catalog.text, pg_catalog.bool)", "pg_catalog.text"),
    ("nullif(pg_catalog.text, pg_catalog.text)", "pg_catalog.text"),
    ("to_jsonb(anyelement)", "pg_catalog.jsonb"), ("pg_notify(pg_catalog.text, pg_catalog.text)", "void"),
    ("json_build_object(pg_catalog.text, anyelement)", "pg_catalog.json"),
    ("jsonb_build_object(pg_catalog.text, anyelement)", "pg_catalog.jsonb"),
    ("array_remove(anyarray, anyelement)", "anyarray"), ("array_position(anyarray, anyelement)", "pg_catalog.int4"),
    ("lower(pg_catalog.text)", "pg_catalog.text"), ("pg_trigger_depth()", "pg_catalog.int4"),
    ("fn_current_tenant_pk()", "pg_catalog.int8"), ("fn_mutation_failure(pg_catalog.text)", "pg_catalog.text"),
]


def _plant(conn: psycopg.Connection) -> None:
    conn.execute(SPY)
    for signature, returns in SPY_FUNCTIONS:
        conn.execute(f"CREATE FUNCTION pg_temp.{signature} RETURNS {returns} LANGUAGE plpgsql AS $$ "
                     "BEGIN RAISE EXCEPTION 'spy function ran as %', current_user; END $$")
    planted = {r["typname"] for r in conn.execute(
        "SELECT typname FROM pg_type WHERE typnamespace = pg_my_temp_schema()").fetchall()}
    assert set(NEEDED_TYPES) <= planted, set(NEEDED_TYPES) - planted


def _grant_temp(saas: Saas) -> None:
    """What a database made from a template of an applied one, or a restore without ACLs, has."""
    saas.admin("DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database()); END $$")


def _exercise(saas: Saas, conn: psycopg.Connection, user: str, tenant: str) -> None:
    """One request of every generated kind: views (policies call the definer helpers), every
    helper, every mutation (whose observers append as the observer role), and the hand-written
    invitation."""
    for view in ("v_organization", "v_user", "v_membership", "v_project", "v_task", "v_activity", "v_invitation"):
        conn.execute(f"SELECT id, data FROM app.{view}").fetchall()
    for helper in ("fn_current_user_pk", "fn_current_user_id", "fn_current_tenant_pk", "fn_current_tenant_id",
                   "fn_current_tenant_role"):
        assert conn.execute(f"SELECT app_private.{helper}() AS v").fetchone()["v"] is not None, helper
    conn.execute("SELECT * FROM app_private.fn_current_user_tenant_pks()").fetchall()
    conn.execute("SELECT * FROM app_private.fn_current_tenant_user_pks()").fetchall()
    created = saas.call(conn, "fn_create_project", "Shadow", f"shadow-{user[-2:]}", tenant, "d")
    assert created["succeeded"], created
    updated = saas.call(conn, "fn_update_project", created["entity_id"], "Renamed", None, "archived")
    assert updated["succeeded"], updated
    task = saas.call(conn, "fn_create_task", created["entity_id"], f"shadow-t-{user[-2:]}", "t")
    assert task["succeeded"], task
    invited = saas.call(conn, "fn_invite_member", tenant, f"new-{user[-2:]}@x.test")
    assert invited["succeeded"], invited
    other = saas.call(conn, "fn_create_project", "Gone", f"gone-{user[-2:]}", tenant)
    deleted = saas.call(conn, "fn_delete_project", other["entity_id"])
    assert deleted["succeeded"], deleted


@pytest.fixture
def saas_with_temp(saas_fresh: Saas) -> Saas:
    with psycopg.connect(saas_fresh.url) as conn:
        for name in ("v_member.sql", "fn_invite_member.sql"):
            conn.execute((EXAMPLE / "db" / name).read_text())
    _grant_temp(saas_fresh)
    return saas_fresh


def test_the_attack_is_real_on_this_server(saas_with_temp):
    """Negative control: a definer function with search_path = '' and an unqualified type name
    does run the member's temporary domain, as its owner."""
    saas = saas_with_temp
    saas.admin("""
        CREATE FUNCTION app_private.fn_unsafe() RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = '' AS $$ BEGIN RETURN '00000000-0000-0000-0000-000000000001'::uuid; END $$;
        GRANT EXECUTE ON FUNCTION app_private.fn_unsafe() TO app_user""")
    with saas.request(ALICE, ACME) as conn:
        _plant(conn)
        with pytest.raises(psycopg.errors.RaiseException, match="spy ran as postgres"):
            conn.execute("SELECT app_private.fn_unsafe()")


def test_temporary_types_functions_and_operators_never_run_inside_generated_functions(saas_with_temp):
    saas = saas_with_temp
    with psycopg.connect(saas.url, row_factory=psycopg.rows.dict_row) as conn:
        # The attacker's request plants everything, then the same pooled connection serves her
        # own requests and the next tenant's: nothing planted runs anywhere.
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                     (ALICE, ACME))
        conn.execute("SET LOCAL ROLE app_user")
        _plant(conn)
        conn.commit()
        for user, tenant in ((ALICE, ACME), (BOB, GLOBEX), (CAROL, GLOBEX)):
            conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                         (user, tenant))
            conn.execute("SET LOCAL ROLE app_user")
            _exercise(saas, conn, user, tenant)
            conn.commit()
        # Still planted: the functions ran beside them, not through them.
        assert conn.execute("SELECT count(*) AS n FROM pg_type WHERE typnamespace = pg_my_temp_schema() "
                            "AND typname = 'uuid'").fetchone()["n"] == 1
    events = saas.admin("SELECT tenant_id::text, count(*) FROM app_private.tb_outbox_event GROUP BY 1 ORDER BY 1")
    assert events == sorted([(ACME, 4), (GLOBEX, 8)])


def test_every_generated_function_pins_pg_temp_last(saas):
    rows = saas.admin("""
        SELECT p.oid::regprocedure::text, p.proconfig FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('app', 'app_private')""")
    assert rows
    for name, config in rows:
        assert config == ["search_path=pg_catalog, pg_temp"], name


# -- events come from the triggers only -------------------------------------------------------

@pytest.mark.parametrize("user, tenant", [(ALICE, ACME), (ANNA, ACME), (None, None)])
def test_the_api_role_cannot_write_events_or_activity(saas, user, tenant):
    doomsday = saas.ids("tb_project")["globex-doomsday"]
    acme = saas.admin("SELECT pk_organization FROM app.tb_organization WHERE id = %s", (ACME,))[0][0]
    statements = [
        ("INSERT INTO app_private.tb_outbox_event (subject, entity, entity_id, operation) "
         "VALUES ('saas.project.deleted', 'Project', %s, 'DELETE')", (doomsday,)),
        ("INSERT INTO app.tb_activity (fk_organization, actor_id, entity_type, entity_id, action) "
         "VALUES (%s, %s, 'Project', %s, 'deleted')", (acme, BOB, doomsday)),
        ("UPDATE app.tb_activity SET action = 'x'", None),
        ("DELETE FROM app.tb_activity", None),
    ]
    for statement, params in statements:
        with saas.request(user, tenant) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(statement, params)


def test_events_carry_the_changed_rows_tenant_even_without_a_request(saas):
    """A job (no user, no tenant) changing rows as the owner still attributes events by row."""
    saas.admin("INSERT INTO app.tb_project (fk_organization, identifier, name) "
               "SELECT pk_organization, 'job-made', 'Job' FROM app.tb_organization WHERE id = %s", (GLOBEX,))
    [(subject, tenant, name)] = saas.admin(
        "SELECT subject, tenant_id::text, data->>'name' FROM app_private.tb_outbox_event")
    assert (subject, tenant, name) == ("saas.project.created", GLOBEX, "Job")
    assert saas.admin("SELECT count(*) FROM app.tb_activity") == [(0,)]  # no user, no activity row


# -- least privilege ----------------------------------------------------------------------------

# What the declared API needs, written out by hand: the SELECTs of the views, and the writes
# of createProject/updateProject/deleteProject/createTask and of the hand-written inviteMember
# (writes={"INSERT": "admin"} on Invitation). Nothing else.
EXPECTED_TABLE_PRIVILEGES = {
    "tb_organization": {"SELECT"},
    "tb_user": {"SELECT"},
    "tb_membership": {"SELECT"},
    "tb_invitation": {"SELECT", "INSERT"},
    "tb_project": {"SELECT", "DELETE"},
    "tb_activity": {"SELECT"},
    "tb_task": {"SELECT"},
}
EXPECTED_COLUMN_WRITES = {
    ("tb_project", "INSERT"): {"name", "identifier", "fk_organization", "description"},
    ("tb_project", "UPDATE"): {"name", "description", "status"},
    ("tb_task", "INSERT"): {"fk_organization", "fk_project", "identifier", "title"},
}
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def test_the_api_role_holds_exactly_what_the_declared_api_needs(saas):
    tables = [r[0] for r in saas.admin("SELECT relname FROM pg_class WHERE relnamespace = 'app'::regnamespace "
                                       "AND relkind = 'r' ORDER BY 1")]
    assert set(tables) == set(EXPECTED_TABLE_PRIVILEGES)
    for table in tables:
        held = {p for p in PRIVILEGES
                if saas.admin("SELECT has_table_privilege('app_user', %s, %s)", (f"app.{table}", p))[0][0]}
        assert held == EXPECTED_TABLE_PRIVILEGES[table], table
        for command in ("INSERT", "UPDATE"):
            columns = {r[0] for r in saas.admin(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                "AND has_column_privilege('app_user', attrelid, attnum, %s)", (f"app.{table}", command))}
            expected = EXPECTED_COLUMN_WRITES.get((table, command), set())
            if command in EXPECTED_TABLE_PRIVILEGES[table]:
                continue  # a table-level grant (a writes= declaration): every column
            assert columns == expected, (table, command)
    private = saas.admin("SELECT relname FROM pg_class WHERE relnamespace = 'app_private'::regnamespace "
                         "AND relkind = 'r' AND has_any_column_privilege('app_user', oid, 'SELECT, INSERT, UPDATE')")
    assert private == []


@pytest.mark.parametrize("statement", [
    "DELETE FROM app.tb_task",                                  # no mutation deletes tasks
    "UPDATE app.tb_task SET done = true",                       # nor updates them
    "UPDATE app.tb_project SET created_at = now()",             # a column no mutation writes
    "UPDATE app.tb_project SET id = gen_random_uuid()",
    "LOCK TABLE app.tb_organization IN ACCESS EXCLUSIVE MODE",  # stalling every tenant
    "LOCK TABLE app.tb_user IN ACCESS EXCLUSIVE MODE",
    "LOCK TABLE app.tb_task IN ACCESS EXCLUSIVE MODE",
    "TRUNCATE app.tb_invitation",
])
def test_undeclared_writes_and_locks_are_refused(saas, statement):
    with saas.request(ALICE, ACME) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute(statement)


def test_the_narrow_roles_hold_only_their_part(saas):
    """The context role reads the identity columns; neither it nor the observer role writes
    any tenant table, and neither can log in or bypass RLS."""
    assert saas.admin("SELECT rolname, rolcanlogin, rolsuper, rolbypassrls FROM pg_roles "
                      "WHERE rolname IN ('app_context', 'app_observer') ORDER BY 1") == [
        ("app_context", False, False, False), ("app_observer", False, False, False)]
    context = {(r[0], r[1]) for r in saas.admin("""
        SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
          AND has_column_privilege('app_context', c.oid, a.attnum, 'SELECT')""")}
    assert context == {("tb_organization", "pk_organization"), ("tb_organization", "id"),
                       ("tb_user", "pk_user"), ("tb_user", "id"),
                       ("tb_membership", "fk_organization"), ("tb_membership", "fk_user"),
                       ("tb_membership", "role")}
    writes = saas.admin("""
        SELECT r.rolname, c.relname FROM pg_class c CROSS JOIN (VALUES ('app_context'), ('app_observer')) r(rolname)
        WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'r'
          AND has_table_privilege(r.rolname, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')""")
    assert writes == [("app_observer", "tb_activity")]  # INSERT only, for the activity log


# -- identity: one source per request ------------------------------------------------------------

def test_a_leftover_session_setting_does_not_outlive_the_next_request(saas):
    with psycopg.connect(saas.url) as conn:
        # A request leaves session-level (not LOCAL) settings behind on a pooled connection.
        conn.execute("SELECT set_config('app.user_id', %s, false), set_config('app.tenant_id', %s, false), "
                     "set_config('request.jwt.claims', %s, false)", (BOB, GLOBEX, f'{{"sub": "{BOB}"}}'))
        conn.commit()
        # The next request sets its own, as the runtime always does: it is Anna, in acme.
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                     (ANNA, ACME))
        conn.execute("SET LOCAL ROLE app_user")
        assert conn.execute("SELECT app_private.fn_current_user_id()::text").fetchone()[0] == ANNA
        assert sorted(r[0] for r in conn.execute("SELECT data->>'identifier' FROM app.v_project")) == [
            "acme-anvils", "acme-rockets"]
        conn.rollback()


def test_the_claims_json_is_not_a_second_source_of_identity(saas):
    with psycopg.connect(saas.url) as conn:
        conn.execute("SELECT set_config('request.jwt.claims', %s, true), set_config('app.tenant_id', %s, true)",
                     (f'{{"sub": "{ALICE}"}}', ACME))
        conn.execute("SET LOCAL ROLE app_user")
        assert conn.execute("SELECT app_private.fn_current_user_id()").fetchone()[0] is None
        assert conn.execute("SELECT count(*) FROM app.v_project").fetchone()[0] == 0


@pytest.mark.parametrize("example", ["saas", "blog", "teams"])
def test_every_function_of_every_example_pins_pg_temp_last(example):
    """Every generated function (helpers, mutations, observers, maintenance and last-owner
    triggers, search, the privileged flows) has the same pinned search_path."""
    import re

    from fraisec.api import schema_sql

    text, _ = schema_sql(str(EXAMPLE.parent / example / "schema.py"))
    functions = re.findall(r"CREATE FUNCTION ([\w.]+)\(", text)
    paths = re.findall(r"SET search_path = ([^\n]+)", text)
    assert len(functions) > 10 and len(paths) == len(functions), example
    assert set(paths) == {"pg_catalog, pg_temp"}, example
