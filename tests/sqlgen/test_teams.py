"""examples/teams (seed 004) on a real PostgreSQL, driven as the runtime drives it: sign-up,
invitations, role ceilings, usage counters, the billing webhook and the operator's dashboard as
the service role, and tenant isolation through every path."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from fraisec.api import load_ir, schema_sql
from fraisec.render import render_privileged_sql
from tests.sqlgen.conftest import template_database

TEAMS = Path(__file__).resolve().parents[2] / "examples" / "teams"

MEMBERS = {  # user: (tenant, role)
    "ada": ("acme", "owner"), "abe": ("acme", "admin"), "max": ("acme", "member"), "gia": ("acme", "guest"),
    "gus": ("globex", "owner"), "nina": (None, None), "zoe": (None, None),
}

SEED = """
INSERT INTO app.tb_tenant (identifier, name) VALUES ('acme', 'Acme'), ('globex', 'Globex');
""" + "".join(
    f"INSERT INTO app.tb_user (identifier, email) VALUES ('{u}', '{u}@example.test');\n" for u in MEMBERS
) + "".join(
    f"INSERT INTO app.tb_tenant_user (fk_tenant, fk_user, role) SELECT t.pk_tenant, u.pk_user, '{role}' "
    f"FROM app.tb_tenant t, app.tb_user u WHERE t.identifier = '{tenant}' AND u.identifier = '{user}';\n"
    for user, (tenant, role) in MEMBERS.items() if tenant
) + "TRUNCATE app_private.tb_outbox_event;\n"


@pytest.fixture(scope="session")
def teams_template(pg_server) -> str:
    text, diagnostics = schema_sql(str(TEAMS / "schema.py"))
    assert text is not None, [str(d) for d in diagnostics]
    db_files = [p.read_text() for p in sorted((TEAMS / "db").glob("*.sql"))]
    schema, _ = load_ir(str(TEAMS / "schema.py"))
    # As the migrations do: the generated SQL, db/, then the owners of the privileged functions.
    return template_database(pg_server, "teams", text, *db_files, render_privileged_sql(schema), SEED)


class Teams:
    def __init__(self, url: str) -> None:
        self.url = url
        with psycopg.connect(url) as conn:
            self.ids = dict(conn.execute("SELECT identifier, id::text FROM app.tb_tenant UNION ALL "
                                         "SELECT identifier, id::text FROM app.tb_user UNION ALL "
                                         "SELECT identifier, id::text FROM app.tb_plan").fetchall())

    def call(self, user: str | None, tenant: str | None, function: str, *args, role: str = "app_user") -> dict:
        """One request, committed: the runtime's settings, then the role."""
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                         (self.ids[user] if user else "", self.ids[tenant] if tenant else ""))
            conn.execute(f"SET LOCAL ROLE {role}")
            placeholders = ", ".join(["%s"] * len(args))
            return conn.execute(f"SELECT * FROM app.{function}({placeholders})", args).fetchone()

    def read(self, user: str | None, tenant: str | None, query: str, role: str = "app_user") -> list[dict]:
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                         (self.ids[user] if user else "", self.ids[tenant] if tenant else ""))
            conn.execute(f"SET LOCAL ROLE {role}")
            return conn.execute(query).fetchall()

    def seats(self, user: str) -> list[tuple[str, str]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute("SELECT t.identifier, m.role FROM app.tb_tenant_user m "
                                "JOIN app.tb_tenant t ON t.pk_tenant = m.fk_tenant "
                                "JOIN app.tb_user u ON u.pk_user = m.fk_user WHERE u.identifier = %s ORDER BY 1",
                                (user,)).fetchall()


@pytest.fixture
def teams(make_db, teams_template) -> Teams:
    return Teams(make_db(template=teams_template))


def test_sign_up_creates_the_tenant_and_its_owner_atomically(teams):
    created = teams.call("nina", None, "fn_sign_up", "nina-co", "Nina & Co")
    assert (created["succeeded"], created["entity"]["identifier"]) == (True, "nina-co")
    assert teams.seats("nina") == [("nina-co", "owner")]
    teams.ids["nina-co"] = str(created["entity_id"])  # she can select it now, and sees herself there
    [tenant] = teams.read("nina", "nina-co", "SELECT data FROM app.v_tenant")
    assert tenant["data"]["member_count"] == 1
    assert teams.call("zoe", None, "fn_sign_up", "acme", "Squatter")["status_detail"] == "conflict:duplicate"
    assert teams.seats("zoe") == []


def test_an_admin_invites_and_the_invitee_accepts_once(teams):
    invited = teams.call("abe", "acme", "fn_invite_user", "zoe@example.test", "member")
    assert invited["status_detail"] == "invited"
    token = invited["metadata"]["token"]
    assert teams.call("nina", None, "fn_accept_invitation", token)["status_detail"] == "noop:not_found"
    assert teams.call("zoe", None, "fn_accept_invitation", token)["status_detail"] == "accepted"
    assert teams.call("zoe", None, "fn_accept_invitation", token)["status_detail"] == "conflict:already_accepted"
    assert teams.seats("zoe") == [("acme", "member")] and teams.seats("nina") == []
    with psycopg.connect(teams.url) as conn:
        subjects = sorted(r[0] for r in conn.execute("SELECT subject FROM app_private.tb_outbox_event"))
    assert subjects == ["teams.invitation.created", "teams.member.joined"]


def test_an_expired_invitation_and_the_wrong_inviters_are_refused(teams):
    token = teams.call("abe", "acme", "fn_invite_user", "zoe@example.test", "member")["metadata"]["token"]
    with psycopg.connect(teams.url) as conn:
        conn.execute("UPDATE app.tb_invitation SET expires_at = now() - interval '1 minute'")
    assert teams.call("zoe", None, "fn_accept_invitation", token)["status_detail"] == "failed:expired"
    assert teams.call("max", "acme", "fn_invite_user", "nina@example.test", "guest")["error_class"] == "forbidden"
    assert teams.call("abe", "acme", "fn_invite_user", "nina@example.test", "owner")["error_class"] == "forbidden"
    assert teams.seats("zoe") == []


@pytest.mark.parametrize("actor, member, role, allowed", [
    ("abe", "max", "admin", True),
    ("abe", "max", "owner", False),   # an admin cannot create an owner
    ("abe", "ada", "member", False),  # nor demote one
    ("max", "gia", "member", False),  # a member changes no role
    ("ada", "abe", "owner", True),
])
def test_roles_have_ceilings(teams, actor, member, role, allowed):
    seat = teams.read("ada", "acme", f"SELECT m.id::text AS id FROM app.tb_tenant_user m JOIN app.tb_user u "
                                     f"ON u.pk_user = m.fk_user WHERE u.identifier = '{member}'")[0]["id"]
    result = teams.call(actor, "acme", "fn_change_member_role", seat, role)
    assert result["succeeded"] is allowed, result["message"]
    assert dict(teams.seats(member))["acme"] == (role if allowed else MEMBERS[member][1])


def test_usage_adds_up_and_guests_cannot_write(teams):
    for _ in range(3):
        assert teams.call("max", "acme", "fn_record_usage", "api_calls", "2026-11", 5)["succeeded"]
    assert [r["data"]["quantity"] for r in teams.read("max", "acme", "SELECT data FROM app.v_billing_usage")] == [15]
    assert teams.call("gia", "acme", "fn_record_usage", "api_calls", "2026-11", 1)["error_class"] == "forbidden"
    assert teams.call("gia", "acme", "fn_create_project", "p1", "P")["error_class"] == "forbidden"
    created = teams.call("max", "acme", "fn_create_project", "p1", "P")
    assert created["entity"]["owner"]["id"] == teams.ids["max"]


def test_the_webhook_and_the_dashboard_run_as_the_service_role_only(teams):
    webhook = "fn_billing_webhook"
    for tenant, status in (("acme", "trial"), ("acme", "active"), ("globex", "trial"), ("globex", "active")):
        result = teams.call(None, None, webhook, teams.ids[tenant], teams.ids["pro"], f"sub_{tenant}", status,
                            role="app_service")
        assert result["succeeded"], result["message"]
    refused = teams.call(None, None, webhook, teams.ids["acme"], teams.ids["pro"], "sub_acme", "trial",
                         role="app_service")
    assert (refused["succeeded"], refused["status_detail"]) == (False, "failed:validation")  # active -> trial
    [metrics] = teams.read(None, None, "SELECT active_tenants, mrr FROM app.v_operator_metrics", role="app_service")
    assert (metrics["active_tenants"], float(metrics["mrr"])) == (2, 98.0)
    for user, tenant in (("ada", "acme"), ("max", "acme")):  # not through the API role
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            teams.read(user, tenant, "SELECT * FROM app.v_operator_metrics")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            teams.call(user, tenant, webhook, teams.ids[tenant], teams.ids["free"], "sub_x", "active")
    # A tenant reads its own subscription, and only its own.
    assert [r["data"]["status"] for r in teams.read("max", "acme", "SELECT data FROM app.v_tenant_subscription")] \
        == ["active"]


def test_a_tenant_sees_nothing_of_another_through_any_path(teams):
    teams.call("abe", "acme", "fn_invite_user", "zoe@example.test", "member")
    teams.call("max", "acme", "fn_record_usage", "api_calls", "2026-11", 5)
    teams.call("max", "acme", "fn_create_project", "secret", "Secret")
    for view in ("v_tenant_user", "v_invitation", "v_invitation_pending", "v_billing_usage", "v_project",
                 "v_tenant_subscription"):
        rows = teams.read("gus", "globex", f"SELECT data FROM app.{view}")
        assert all("acme" not in str(r["data"]) for r in rows), view
    assert [r["data"]["identifier"] for r in teams.read("gus", "globex", "SELECT data FROM app.v_tenant")] == ["globex"]
    # Claiming acme without being a member gives nothing and changes nothing.
    assert teams.read("gus", "acme", "SELECT data FROM app.v_project") == []
    assert teams.call("gus", "acme", "fn_create_project", "x", "X")["status_detail"] == "failed:unauthenticated"


def test_the_plan_quota_refuses_the_project_beyond_it(teams):
    for n in range(3):  # the free allowance: no subscription yet
        assert teams.call("max", "acme", "fn_create_project", f"p{n}", "P")["succeeded"]
    refused = teams.call("max", "acme", "fn_create_project", "p3", "P")
    assert (refused["succeeded"], refused["status_detail"], refused["http_status"]) == \
        (False, "failed:quota_exceeded", 403)
    assert teams.call("gus", "globex", "fn_create_project", "g0", "G")["succeeded"]  # per tenant
    # The seeded plans (schema.py's seed=, written by schema.sql): pro allows 10.
    assert sorted((r["data"]["identifier"], r["data"]["max_projects"])
                  for r in teams.read("max", "acme", "SELECT data FROM app.v_plan")) == [("free", 3), ("pro", 10)]
    teams.call(None, None, "fn_billing_webhook", teams.ids["acme"], teams.ids["pro"], "sub_acme", "active",
               role="app_service")
    assert teams.call("max", "acme", "fn_create_project", "p3", "P")["succeeded"]  # the pro plan's room


def test_the_last_owner_stays(teams):
    own = teams.read("ada", "acme", "SELECT m.id::text AS id FROM app.tb_tenant_user m JOIN app.tb_user u "
                                    "ON u.pk_user = m.fk_user WHERE u.identifier = 'ada'")[0]["id"]
    refused = teams.call("ada", "acme", "fn_change_member_role", own, "admin")
    assert (refused["succeeded"], refused["status_detail"]) == (False, "failed:validation")
    assert "at least one owner" in refused["message"]
    abe = teams.read("ada", "acme", "SELECT m.id::text AS id FROM app.tb_tenant_user m JOIN app.tb_user u "
                                    "ON u.pk_user = m.fk_user WHERE u.identifier = 'abe'")[0]["id"]
    assert teams.call("ada", "acme", "fn_change_member_role", abe, "owner")["succeeded"]
    assert teams.call("ada", "acme", "fn_change_member_role", own, "admin")["succeeded"]  # another owner now
    assert dict(teams.seats("ada"))["acme"] == "admin"


def _projects(teams: Teams, tenant: str) -> list[str]:
    with psycopg.connect(teams.url) as conn:
        return [r[0] for r in conn.execute("SELECT p.identifier FROM app.tb_project p JOIN app.tb_tenant t "
                                           "ON t.pk_tenant = p.fk_tenant WHERE t.identifier = %s ORDER BY 1",
                                           (tenant,)).fetchall()]


def test_a_batch_creates_every_row_in_the_callers_tenant(teams):
    items = Jsonb([{"identifier": "a", "name": "A"}, {"identifier": "b", "name": "B"}])
    created = teams.call("max", "acme", "fn_create_projects", items)
    assert (created["succeeded"], created["status_detail"], created["http_status"]) == (True, "created", 201)
    assert [p["identifier"] for p in created["entity"]] == ["a", "b"]
    assert {p["owner"]["id"] for p in created["entity"]} == {teams.ids["max"]}
    assert _projects(teams, "acme") == ["a", "b"]
    # A guest may not, and a batch cannot name another tenant's column: the key is refused.
    assert teams.call("gia", "acme", "fn_create_projects", items)["error_class"] == "forbidden"
    smuggled = teams.call("max", "acme", "fn_create_projects",
                          Jsonb([{"identifier": "c", "name": "C", "tenant_id": teams.ids["globex"]}]))
    assert (smuggled["succeeded"], smuggled["status_detail"]) == (False, "failed:validation")
    # Claiming globex without being a member writes nothing there.
    assert teams.call("max", "globex", "fn_create_projects", items)["status_detail"] == "failed:unauthenticated"
    assert _projects(teams, "globex") == [] and _projects(teams, "acme") == ["a", "b"]


@pytest.mark.parametrize("items, status", [
    ([{"identifier": "a", "name": "A"}, {"identifier": "a", "name": "again"}], "conflict:duplicate"),
    ([{"identifier": f"p{n}", "name": "P"} for n in range(4)], "failed:quota_exceeded"),  # the free plan: 3
    ([{"identifier": "a", "name": "A"}, {"identifier": "b"}], "failed:validation"),  # name is required
    ([{"identifier": "a", "name": "A"}, "b"], "failed:validation"),
    ([], "failed:validation"),
])
def test_a_batch_that_fails_anywhere_writes_nothing(teams, items, status):
    result = teams.call("max", "acme", "fn_create_projects", Jsonb(items))
    assert (result["succeeded"], result["status_detail"]) == (False, status), result["message"]
    assert _projects(teams, "acme") == []
    with psycopg.connect(teams.url) as conn:  # nor any event or maintained side effect
        assert conn.execute("SELECT count(*) FROM app_private.tb_outbox_event").fetchone()[0] == 0


def test_a_member_leaves_through_the_declared_privileged_function_and_the_last_owner_stays(teams):
    left = teams.call("max", "acme", "fn_leave_tenant")
    assert (left["succeeded"], left["status_detail"]) == (True, "deleted"), left["message"]
    assert teams.seats("max") == []
    assert teams.call("max", "acme", "fn_leave_tenant")["status_detail"] == "failed:unauthenticated"  # no member now
    refused = teams.call("ada", "acme", "fn_leave_tenant")
    assert (refused["succeeded"], refused["status_detail"]) == (False, "failed:validation")
    # Claiming another tenant leaves nothing: the tenant comes from the membership-checked helper.
    assert teams.call("abe", "globex", "fn_leave_tenant")["status_detail"] == "failed:unauthenticated"
    assert teams.seats("gus") == [("globex", "owner")] and teams.seats("abe") == [("acme", "admin")]
    with psycopg.connect(teams.url) as conn:
        owner, definer, acl = conn.execute(
            "SELECT pg_get_userbyid(proowner)::text, prosecdef, proacl::text FROM pg_proc "
            "WHERE oid = 'app_private.fn_leave_tenant'::regproc").fetchone()
    assert (owner, definer) == ("app_privileged", True)
    assert acl == "{app_privileged=X/app_privileged,app_user=X/app_privileged}"  # not PUBLIC, not the service
    assert teams.read("max", "acme", "SELECT prosecdef FROM pg_proc WHERE oid = 'app.fn_leave_tenant'::regproc") \
        == [{"prosecdef": False}]  # the entry point the runtime calls runs as the caller
    # The API role itself still cannot delete memberships.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        teams.read("ada", "acme", "DELETE FROM app.tb_tenant_user RETURNING 1")
