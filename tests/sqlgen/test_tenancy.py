"""Tenant isolation of the generated SQL: reads, writes, moves, references, context, roles."""

from __future__ import annotations

import psycopg
import pytest

from tests.sqlgen.conftest import ACME, ALICE, ANNA, BOB, CAROL, GLOBEX, MALLORY


def identifiers(conn, query: str, *params) -> list[str]:
    return sorted(r["i"] for r in conn.execute(query, params).fetchall())


# -- reads ----------------------------------------------------------------------------------

def test_a_tenant_reads_only_its_own_rows(saas):
    with saas.request(ALICE, ACME) as conn:
        assert identifiers(conn, "SELECT data->>'identifier' AS i FROM app.v_project") == ["acme-anvils", "acme-rockets"]
        assert identifiers(conn, "SELECT identifier AS i FROM app.tb_project") == ["acme-anvils", "acme-rockets"]
        assert identifiers(conn, "SELECT data->>'identifier' AS i FROM app.v_task") == ["acme-rockets-t1"]
        # Looking a globex row up by its id finds nothing.
        doomsday = saas.ids("tb_project")["globex-doomsday"]
        assert conn.execute("SELECT count(*) AS n FROM app.v_project WHERE id = %s", (doomsday,)).fetchone()["n"] == 0
    with saas.request(BOB, GLOBEX) as conn:
        assert identifiers(conn, "SELECT data->>'identifier' AS i FROM app.v_project") == ["globex-doomsday", "globex-hammock"]


def test_view_carries_nested_objects_and_the_inject_column(saas):
    with saas.request(ALICE, ACME) as conn:
        row = conn.execute("SELECT data, org_id::text FROM app.v_project WHERE data->>'identifier' = 'acme-rockets'").fetchone()
    assert row["org_id"] == ACME
    data = row["data"]
    assert set(data) == {"id", "identifier", "name", "description", "status", "organization", "created_at"}
    assert data["organization"]["id"] == ACME and data["organization"]["identifier"] == "acme"
    assert data["organization"]["member_count"] == 3  # alice, anna, carol
    assert data["status"] == "active" and data["description"] is None


def test_members_of_several_tenants_see_only_the_selected_one(saas):
    with saas.request(CAROL, ACME) as conn:
        assert identifiers(conn, "SELECT data->>'identifier' AS i FROM app.v_project") == ["acme-anvils", "acme-rockets"]
        # Memberships and users: the selected tenant's only.
        users = identifiers(conn, "SELECT data->'user'->>'identifier' AS i FROM app.v_membership")
        assert users == ["alice", "anna", "carol"]
        assert "bob" not in identifiers(conn, "SELECT identifier AS i FROM app.tb_user")
    with saas.request(CAROL, GLOBEX) as conn:
        assert identifiers(conn, "SELECT data->>'identifier' AS i FROM app.v_project") == ["globex-doomsday", "globex-hammock"]


@pytest.mark.parametrize("context", [
    {"set_context": False},                      # fresh connection: settings never set
    {"user": None, "tenant": None},              # pooled connection: settings are ''
    {"user": ALICE, "tenant": None},             # a user, no tenant selected
    {"user": None, "tenant": ACME},              # a tenant, no user
    {"user": MALLORY, "tenant": ACME},           # not a member of the tenant it claims
    {"user": ANNA, "tenant": GLOBEX},            # a member of acme claiming globex
    {"user": "00000000-0000-0000-0000-000000000999", "tenant": ACME},  # unknown user
])
def test_missing_or_foreign_context_sees_nothing(saas, context):
    with saas.request(**context) as conn:
        for view in ("v_project", "v_task", "v_activity", "v_membership"):
            assert conn.execute(f"SELECT count(*) AS n FROM app.{view}").fetchone()["n"] == 0, view
        assert conn.execute("SELECT count(*) AS n FROM app.tb_project").fetchone()["n"] == 0
        # Organizations: only the ones the user belongs to (to choose a tenant from), whatever
        # tenant is claimed.
        own = {ALICE: ["acme"], ANNA: ["acme"]}.get(context.get("user"), [])
        assert identifiers(conn, "SELECT data->>'identifier' AS i FROM app.v_organization") == own


@pytest.mark.parametrize("context", [
    {"user": ALICE, "tenant": "not-a-uuid"},
    {"user": "not-a-uuid", "tenant": ACME},
])
def test_garbage_context_is_a_clean_error_not_a_leak(saas, context):
    with saas.request(**context) as conn:
        with pytest.raises(psycopg.errors.DataError):  # invalid input syntax, never rows
            conn.execute("SELECT data FROM app.v_project").fetchall()


def test_unset_context_after_an_earlier_request_on_the_same_connection(saas):
    """A pooled connection holds '' after any SET LOCAL: still zero rows, no error."""
    with psycopg.connect(saas.url) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (ACME,))
        conn.commit()
        conn.execute("SET LOCAL ROLE app_user")
        assert conn.execute("SELECT count(*) FROM app.v_project").fetchone()[0] == 0


# -- writes ---------------------------------------------------------------------------------

def _pk(saas, table: str, identifier: str) -> int:
    return saas.admin(f"SELECT pk_{table} FROM app.tb_{table} WHERE identifier = %s", (identifier,))[0][0]


def test_cannot_insert_into_another_tenant(saas):
    globex = saas.admin("SELECT pk_organization FROM app.tb_organization WHERE id = %s", (GLOBEX,))[0][0]
    with saas.request(ALICE, ACME) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO app.tb_project (fk_organization, identifier, name) VALUES (%s, 'planted', 'x')",
                         (globex,))
    # Through the mutation: alice is not a globex member, so globex is "not found".
    with saas.request(ALICE, ACME) as conn:
        result = saas.call(conn, "fn_create_project", "x", "planted", GLOBEX)
        assert (result["succeeded"], result["status_detail"]) == (False, "noop:not_found")
    # Carol is a member of both, acting in acme: globex is visible but not the selected tenant.
    with saas.request(CAROL, ACME) as conn:
        result = saas.call(conn, "fn_create_project", "x", "planted", GLOBEX)
        assert (result["error_class"], result["status_detail"]) == ("forbidden", "failed:forbidden")
    assert saas.admin("SELECT count(*) FROM app.tb_project WHERE identifier = 'planted'")[0][0] == 0


def test_cannot_update_or_delete_another_tenants_rows(saas):
    doomsday = saas.ids("tb_project")["globex-doomsday"]
    with saas.request(ALICE, ACME) as conn:
        assert conn.execute("UPDATE app.tb_project SET name = 'pwned' WHERE id = %s", (doomsday,)).rowcount == 0
        assert saas.call(conn, "fn_update_project", doomsday, "pwned")["status_detail"] == "noop:not_found"
        assert saas.call(conn, "fn_delete_project", doomsday)["status_detail"] == "noop:not_found"
        conn.commit()
    assert saas.admin("SELECT name FROM app.tb_project WHERE id = %s", (doomsday,)) == [("Doomsday",)]


@pytest.mark.parametrize("statement", [
    "UPDATE app.tb_project SET fk_organization = %(globex)s WHERE identifier = 'acme-rockets'",
    "UPDATE app.tb_project SET fk_organization = %(globex)s",  # no WHERE, no RETURNING
    "UPDATE app.tb_task SET fk_organization = %(globex)s",
])
def test_cannot_move_rows_into_another_tenant(saas, statement):
    globex = saas.admin("SELECT pk_organization FROM app.tb_organization WHERE id = %s", (GLOBEX,))[0][0]
    with saas.request(CAROL, ACME) as conn:
        # The tenant column is not even updatable (no mutation writes it); the guard would refuse.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security|permission denied"):
            conn.execute(statement, {"globex": globex})
    assert saas.admin("SELECT count(*) FROM app.tb_project p JOIN app.tb_organization o "
                      "ON o.pk_organization = p.fk_organization WHERE o.id = %s", (ACME,))[0][0] == 2


def test_cannot_reference_another_tenants_row(saas):
    """Foreign keys are checked without RLS, so they include the tenant column."""
    acme = saas.admin("SELECT pk_organization FROM app.tb_organization WHERE id = %s", (ACME,))[0][0]
    doomsday_pk = _pk(saas, "project", "globex-doomsday")
    with saas.request(CAROL, ACME) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO app.tb_task (fk_organization, fk_project, identifier, title) "
                         "VALUES (%s, %s, 'sneaky', 'x')", (acme, doomsday_pk))
    with saas.request(CAROL, ACME) as conn:  # no mutation updates tasks: not granted at all
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute("UPDATE app.tb_task SET fk_project = %s", (doomsday_pk,))
    # Through the mutation, another tenant's project is simply not found.
    doomsday = saas.ids("tb_project")["globex-doomsday"]
    with saas.request(CAROL, ACME) as conn:
        assert saas.call(conn, "fn_create_task", doomsday, "sneaky", "x")["status_detail"] == "noop:not_found"
    # A unique key is per tenant, so another tenant's key is no existence oracle.
    with saas.request(ALICE, ACME) as conn:
        assert saas.call(conn, "fn_create_project", "Mine", "globex-doomsday", ACME)["succeeded"] is True


def test_truncate_is_not_granted(saas):
    with saas.request(ALICE, ACME) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("TRUNCATE app.tb_project")


# -- roles ----------------------------------------------------------------------------------

def test_a_member_cannot_run_an_admin_only_mutation(saas):
    rockets = saas.ids("tb_project")["acme-anvils"]
    with saas.request(ANNA, ACME) as conn:
        result = saas.call(conn, "fn_delete_project", rockets)
        assert (result["succeeded"], result["error_class"], result["http_status"]) == (False, "forbidden", 403)
        # The table policy is the backstop: a direct DELETE matches nothing.
        assert conn.execute("DELETE FROM app.tb_project WHERE id = %s", (rockets,)).rowcount == 0
        conn.commit()
    assert saas.admin("SELECT count(*) FROM app.tb_project WHERE id = %s", (rockets,))[0][0] == 1
    with saas.request(ALICE, ACME, commit=True) as conn:
        result = saas.call(conn, "fn_delete_project", rockets)
        assert (result["succeeded"], result["status_detail"]) == (True, "deleted")
    assert saas.admin("SELECT count(*) FROM app.tb_project WHERE id = %s", (rockets,))[0][0] == 0
    # A project that still has tasks is a conflict, not an exception.
    with saas.request(ALICE, ACME) as conn:
        result = saas.call(conn, "fn_delete_project", saas.ids("tb_project")["acme-rockets"])
        assert (result["error_class"], result["status_detail"]) == ("conflict", "conflict:referenced")


def test_nobody_writes_memberships_directly(saas):
    """No mutation writes memberships, so the API role may not: not a member, not an admin
    (who could otherwise add any fk_user, a guessable bigint, and read that user's e-mail)."""
    mallory = saas.admin("SELECT pk_user FROM app.tb_user WHERE id = %s", (MALLORY,))[0][0]
    acme = saas.admin("SELECT pk_organization FROM app.tb_organization WHERE id = %s", (ACME,))[0][0]
    for user in (ANNA, ALICE):
        with saas.request(user, ACME) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute("INSERT INTO app.tb_membership (fk_organization, fk_user) VALUES (%s, %s)", (acme, mallory))
        for statement in ("UPDATE app.tb_membership SET role = 'owner'", "DELETE FROM app.tb_membership"):
            with saas.request(user, ACME) as conn:
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                    conn.execute(statement)


def test_the_runtime_toml_settings_alone_are_enough(saas):
    """fraiseql.toml maps sub -> app.user_id and org_id -> app.tenant_id; no claims JSON needed."""
    with psycopg.connect(saas.url) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                     (ALICE, ACME))
        conn.execute("SET LOCAL ROLE app_user")
        rows = conn.execute("SELECT data->>'identifier' FROM app.v_project ORDER BY 1").fetchall()
        assert [r[0] for r in rows] == ["acme-anvils", "acme-rockets"]
    with psycopg.connect(saas.url) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                     (ALICE, GLOBEX))
        conn.execute("SET LOCAL ROLE app_user")
        assert conn.execute("SELECT count(*) FROM app.v_project").fetchone()[0] == 0


# -- negative controls: what the tests above would see without the generated protections ----

@pytest.mark.parametrize("sabotage", [
    "ALTER VIEW app.v_project RESET (security_invoker)",          # a default (definer) view
    "DROP POLICY rls_project_tenant_guard ON app.tb_project",     # no restrictive guard
])
def test_without_each_protection_the_read_test_would_fail(saas, sabotage):
    saas.admin("ALTER VIEW app.v_project OWNER TO postgres" if "VIEW" in sabotage else "SELECT 1")
    saas.admin(sabotage)
    # Carol belongs to both organizations and selected acme: only the guard keeps globex out
    # (for a single-organization user the join to the RLS-filtered organization would, too).
    with saas.request(CAROL, ACME) as conn:
        seen = identifiers(conn, "SELECT data->>'identifier' AS i FROM app.v_project")
    assert "globex-doomsday" in seen  # the leak test_members_of_several_tenants… guards against
