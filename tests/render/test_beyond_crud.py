"""Mutations and rules beyond one-row CRUD, applied and driven as the runtime does: a user's own
rows (owned_by), a state field's allowed moves (transitions), and a usage counter (UPSERT with
increment)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.render.test_edge_schemas import ORG_PERSON_SEAT, _sql

SCHEMA = ORG_PERSON_SEAT + """
@fq.enum
class Status(Enum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELED = "canceled"

@fq.entity(tenant=True, owned_by="customer")
class Order:
    identifier: str
    org: Org
    customer: Person = fq.current_user()
    status: Status = fq.field(default=Status.PENDING, transitions={
        Status.PENDING: [Status.PAID, Status.CANCELED], Status.PAID: [Status.SHIPPED]})

@fq.entity(tenant=True)
class Usage:
    org: Org
    metric: str
    period: str
    quantity: int = 0
    __unique__ = [("org", "metric", "period")]

@fq.mutation(operation="CREATE")
def create_order(identifier: str) -> Order: ...

@fq.mutation(operation="UPDATE")
def update_order(id: ID, status: Status | None = None) -> Order: ...

@fq.mutation(operation="UPSERT", conflict=("metric", "period"), increment=("quantity",))
def record_usage(metric: str, period: str, quantity: int = 1) -> Usage: ...
"""


@pytest.fixture
def db(make_db, tmp_path):
    url = make_db(_sql(tmp_path, SCHEMA))
    with psycopg.connect(url) as conn:
        orgs = [conn.execute("INSERT INTO app.tb_org (identifier) VALUES (%s) RETURNING id::text", (n,)).fetchone()[0]
                for n in ("acme", "globex")]
        people = [conn.execute("INSERT INTO app.tb_person (identifier) VALUES (%s) RETURNING id::text", (n,)).fetchone()[0]
                  for n in ("ann", "bob", "gus")]
        for person, org in ((1, 1), (2, 1), (3, 2)):
            conn.execute("INSERT INTO app.tb_seat (fk_org, fk_person) VALUES (%s, %s)", (org, person))
    return {"url": url, "acme": orgs[0], "globex": orgs[1], "ann": people[0], "bob": people[1], "gus": people[2]}


def _as(db, person: str, org: str = "acme") -> psycopg.Connection:
    conn = psycopg.connect(db["url"], row_factory=dict_row)
    conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                 (db[person], db[org]))
    conn.execute("SET LOCAL ROLE app_user")
    return conn


def _call(conn, function: str, *args):
    placeholders = ", ".join(["%s"] * len(args))
    return conn.execute(f"SELECT * FROM app.{function}({placeholders})", args).fetchone()


def test_each_order_is_its_customers_alone_within_the_tenant(db):
    with _as(db, "ann") as conn:
        mine = _call(conn, "fn_create_order", "o-ann")
        assert mine["succeeded"] and mine["entity"]["customer"]["id"] == db["ann"]
        conn.commit()
    with _as(db, "bob") as conn:  # same tenant, another customer
        assert conn.execute("SELECT count(*) AS n FROM app.v_order").fetchone()["n"] == 0
        assert _call(conn, "fn_update_order", mine["entity_id"], "canceled")["status_detail"] == "noop:not_found"
        assert conn.execute("UPDATE app.tb_order SET status = 'canceled'").rowcount == 0
    with _as(db, "ann") as conn:
        assert [r["data"]["identifier"] for r in conn.execute("SELECT data FROM app.v_order")] == ["o-ann"]


@pytest.mark.parametrize("moves, final, refused", [
    (["paid", "shipped"], "shipped", None),
    (["canceled"], "canceled", None),
    (["shipped"], "pending", "shipped"),           # not from pending
    (["paid", "pending"], "paid", "pending"),      # no way back
    (["canceled", "paid"], "canceled", "paid"),    # canceled is final
])
def test_a_state_moves_only_along_its_declared_transitions(db, moves, final, refused):
    with _as(db, "ann") as conn:
        order = _call(conn, "fn_create_order", "o1")["entity_id"]
        conn.commit()
    for move in moves:
        with _as(db, "ann") as conn:
            result = _call(conn, "fn_update_order", order, move)
            if move == refused:
                assert (result["succeeded"], result["status_detail"]) == (False, "failed:validation")
                assert "cannot move" in result["message"]
            else:
                assert result["succeeded"], (result["status_detail"], result["message"])
            conn.commit()
    with psycopg.connect(db["url"]) as conn:
        assert conn.execute("SELECT status FROM app.tb_order").fetchone()[0] == final


def test_usage_increments_per_tenant_key_and_never_crosses_tenants(db):
    with _as(db, "ann") as conn:
        for _ in range(3):
            result = _call(conn, "fn_record_usage", "api_calls", "2026-11", 1)
            assert (result["succeeded"], result["status_detail"]) == (True, "upserted")
        assert _call(conn, "fn_record_usage", "api_calls", "2026-11", 10)["entity"]["quantity"] == 13
        assert _call(conn, "fn_record_usage", "api_calls", "2026-12", 2)["entity"]["quantity"] == 2
        conn.commit()
    with _as(db, "gus", "globex") as conn:  # the same key in another tenant is another row
        assert _call(conn, "fn_record_usage", "api_calls", "2026-11", 5)["entity"]["quantity"] == 5
        conn.commit()
    with psycopg.connect(db["url"]) as conn:
        rows = conn.execute("SELECT o.identifier, u.period, u.quantity FROM app.tb_usage u "
                            "JOIN app.tb_org o ON o.pk_org = u.fk_org ORDER BY 1, 2").fetchall()
    assert rows == [("acme", "2026-11", 13), ("acme", "2026-12", 2), ("globex", "2026-11", 5)]


def test_the_request_settings_are_configurable(make_db, tmp_path):
    """An auth service's own setting names (Hasura's), still read through NULLIF(…, '')."""
    source = ORG_PERSON_SEAT.replace(
        'membership="Seat")', 'membership="Seat", tenant_setting="app.current_tenant_id", '
                              'user_setting="hasura.user.id")') + """
@fq.entity(tenant=True)
class Note:
    org: Org
    body: str
"""
    text = _sql(tmp_path, source)
    assert "app.user_id" not in text and "NULLIF(current_setting('hasura.user.id', true), '')" in text
    url = make_db(text)
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO app.tb_org (identifier) VALUES ('o'); INSERT INTO app.tb_person (identifier) "
                     "VALUES ('p'); INSERT INTO app.tb_seat (fk_org, fk_person) VALUES (1, 1); "
                     "INSERT INTO app.tb_note (fk_org, body) VALUES (1, 'hi')")
        org, person = conn.execute("SELECT o.id::text, p.id::text FROM app.tb_org o, app.tb_person p").fetchone()
    for names, visible in ((("hasura.user.id", "app.current_tenant_id"), 1), (("app.user_id", "app.tenant_id"), 0)):
        with psycopg.connect(url) as conn:
            conn.execute(f"SELECT set_config('{names[0]}', %s, true), set_config('{names[1]}', %s, true)",
                         (person, org))
            conn.execute("SET LOCAL ROLE app_user")
            assert conn.execute("SELECT count(*) FROM app.v_note").fetchone()[0] == visible
    from fraisec.api import load_ir
    from fraisec.render import render_runtime_toml
    schema, _ = load_ir(str(tmp_path / "schema.py"))
    assert 'name = "hasura.user.id"' in render_runtime_toml(schema)


SERVICE = ORG_PERSON_SEAT.replace("@fq.entity\nclass Org:", '@fq.entity(service=("SELECT",))\nclass Org:') + """
@fq.entity(service=("SELECT",))
class Plan:
    identifier: str = fq.field(unique=True)
    price: int = 0

@fq.entity(tenant=True, service=("SELECT", "INSERT", "UPDATE"))
class Subscription:
    org: Org
    plan: Plan
    billing_id: str
    status: str = "active"
    __unique__ = [("org", "billing_id")]

@fq.mutation(operation="UPSERT", conflict=("billing_id",), service=True)
def billing_webhook(org_id: ID, plan_id: ID, billing_id: str, status: str) -> Subscription: ...
"""


def test_a_webhook_writes_across_tenants_as_the_service_role_only(make_db, tmp_path):
    url = make_db(_sql(tmp_path, SERVICE))
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO app.tb_org (identifier) VALUES ('acme'), ('globex'); "
                     "INSERT INTO app.tb_plan (identifier, price) VALUES ('pro', 49); "
                     "INSERT INTO app.tb_person (identifier) VALUES ('ann'); "
                     "INSERT INTO app.tb_seat (fk_org, fk_person) VALUES (1, 1)")
        acme, globex, pro, ann = conn.execute(
            "SELECT (SELECT id::text FROM app.tb_org WHERE identifier = 'acme'), "
            "(SELECT id::text FROM app.tb_org WHERE identifier = 'globex'), "
            "(SELECT id::text FROM app.tb_plan), (SELECT id::text FROM app.tb_person)").fetchone()
    call = "SELECT * FROM app.fn_billing_webhook(%s, %s, %s, %s)"
    with psycopg.connect(url, row_factory=dict_row) as conn:  # a webhook: no user, no tenant
        conn.execute("SET LOCAL ROLE app_service")
        for org, status in ((acme, "active"), (globex, "trialing"), (acme, "past_due")):
            result = conn.execute(call, (org, pro, f"sub_{org[-4:]}", status)).fetchone()
            assert result["succeeded"], (result["status_detail"], result["message"])
        rows = conn.execute("SELECT data->'org'->>'identifier' AS org, data->>'status' AS status "
                            "FROM app.v_subscription ORDER BY 1").fetchall()
        assert [(r["org"], r["status"]) for r in rows] == [("acme", "past_due"), ("globex", "trialing")]
        conn.commit()
    with psycopg.connect(url) as conn:  # a member cannot call the webhook, nor write subscriptions
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)", (ann, acme))
        conn.execute("SET LOCAL ROLE app_user")
        assert conn.execute("SELECT count(*) FROM app.v_subscription").fetchone()[0] == 1  # its own only
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute(call, (acme, pro, "sub_x", "active"))
    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)", (ann, acme))
        conn.execute("SET LOCAL ROLE app_user")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute("UPDATE app.tb_subscription SET status = 'active'")
    with psycopg.connect(url) as conn:  # the service role holds exactly the declared commands
        held = conn.execute("""
            SELECT c.relname, p FROM pg_class c, unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p
            WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'r'
              AND has_table_privilege('app_service', c.oid, p) ORDER BY 1, 2""").fetchall()
    assert held == [("tb_org", "SELECT"), ("tb_plan", "SELECT"), ("tb_subscription", "INSERT"), ("tb_subscription", "SELECT"),
                    ("tb_subscription", "UPDATE")]


PERMISSIONS = ORG_PERSON_SEAT.replace(
    'membership="Seat")',
    'membership="Seat", roles=("owner", "admin", "member"), '
    'permissions={"billing.manage": ("owner",), "notes.archive": ("owner", "member")})') + """
@fq.entity(tenant=True)
class Note:
    org: Org
    body: str
    archived: bool = False

@fq.mutation(operation="CREATE")
def create_note(body: str) -> Note: ...

@fq.mutation(operation="UPDATE", requires_permission="notes.archive")
def archive_note(id: ID, archived: bool | None = None) -> Note: ...
"""


@pytest.mark.parametrize("role, allowed", [("owner", True), ("admin", False), ("member", True)])
def test_a_permission_names_its_roles_whatever_their_order(make_db, tmp_path, role, allowed):
    url = make_db(_sql(tmp_path, PERMISSIONS))
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO app.tb_org (identifier) VALUES ('o'); INSERT INTO app.tb_person (identifier) "
                     "VALUES ('p'); INSERT INTO app.tb_note (fk_org, body) VALUES (1, 'hi')")
        conn.execute("INSERT INTO app.tb_seat (fk_org, fk_person, role) VALUES (1, 1, %s)", (role,))
        org, person, note = conn.execute("SELECT o.id::text, p.id::text, n.id::text FROM app.tb_org o, "
                                         "app.tb_person p, app.tb_note n").fetchone()
    with psycopg.connect(url, row_factory=dict_row) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)", (person, org))
        conn.execute("SET LOCAL ROLE app_user")
        result = conn.execute("SELECT * FROM app.fn_archive_note(%s, true)", (note,)).fetchone()
        assert result["succeeded"] is allowed, result["message"]
        if not allowed:
            assert result["message"] == "requires permission notes.archive"
            # The table policy holds the same list: a direct update matches no row.
            assert conn.execute("UPDATE app.tb_note SET archived = true").rowcount == 0
