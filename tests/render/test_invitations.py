"""The flows that cross the tenant boundary on purpose, generated. Invitations: an admin invites
by e-mail (a random token, stored hashed, an expiry), the signed-in invitee whose e-mail matches
accepts it once before it expires and becomes a member, an admin revokes a pending one.
Sign-up: a signed-in user creates an organization and becomes its owner. Both run as a narrow
privileged role; everything else stays the API role's."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.render.test_edge_schemas import _sql

SCHEMA = """
fq.tenancy(tenant="Org", claim="org_id", user="Person", membership="Seat", roles=("owner", "admin", "member"))

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

@fq.entity(tenant=True, invitation=True,
           views={"pending": "{row}.accepted_at IS NULL AND {row}.revoked_at IS NULL AND {row}.expires_at > now()"})
class Invitation:
    org: Org
    email: str
    role: Role = Role.MEMBER

@fq.mutation(operation="INVITE", requires_role="admin")
def invite(email: str, role: Role = Role.MEMBER) -> Invitation: ...

@fq.mutation(operation="ACCEPT")
def accept_invitation(token: str) -> Invitation: ...

@fq.mutation(operation="REVOKE", requires_role="admin")
def revoke_invitation(id: ID) -> Invitation: ...

@fq.mutation(operation="SIGNUP")
def sign_up(identifier: str) -> Org: ...
"""

PEOPLE = {"ada": ("acme", "admin"), "max": ("acme", "member"), "gus": ("globex", "owner"),
          "nina": (None, None), "zoe": (None, None)}


@pytest.fixture
def db(make_db, tmp_path):
    url = make_db(_sql(tmp_path, SCHEMA))
    ids = {}
    with psycopg.connect(url) as conn:
        for org in ("acme", "globex"):
            ids[org] = conn.execute("INSERT INTO app.tb_org (identifier) VALUES (%s) RETURNING id::text",
                                    (org,)).fetchone()[0]
        for person, (org, role) in PEOPLE.items():
            ids[person] = conn.execute("INSERT INTO app.tb_person (identifier, email) VALUES (%s, %s) RETURNING id::text",
                                       (person, f"{person.upper()}@example.test")).fetchone()[0]
            if org:
                conn.execute("INSERT INTO app.tb_seat (fk_org, fk_person, role) SELECT o.pk_org, p.pk_person, %s "
                             "FROM app.tb_org o, app.tb_person p WHERE o.identifier = %s AND p.identifier = %s",
                             (role, org, person))
    return {"url": url, **ids}


def _call(db, person: str | None, org: str | None, function: str, *args, commit: bool = True) -> dict:
    with psycopg.connect(db["url"], row_factory=dict_row) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                     (db[person] if person else "", db[org] if org else ""))
        conn.execute("SET LOCAL ROLE app_user")
        placeholders = ", ".join(["%s"] * len(args))
        result = conn.execute(f"SELECT * FROM app.{function}({placeholders})", args).fetchone()
        if commit:
            conn.commit()
        return result


def _invite(db, email: str, role: str = "member", by: str = "ada") -> str:
    result = _call(db, by, "acme", "fn_invite", email, role)
    assert (result["succeeded"], result["status_detail"]) == (True, "invited"), result
    return result["metadata"]["token"]


def _seats(db, person: str) -> list[tuple[str, str]]:
    with psycopg.connect(db["url"]) as conn:
        return conn.execute("SELECT o.identifier, s.role FROM app.tb_seat s JOIN app.tb_org o ON o.pk_org = s.fk_org "
                            "JOIN app.tb_person p ON p.pk_person = s.fk_person WHERE p.identifier = %s", (person,)).fetchall()


def test_the_invitee_accepts_once_and_becomes_a_member(db):
    token = _invite(db, "nina@example.test", "admin")
    with psycopg.connect(db["url"]) as conn:  # only the hash is stored
        stored = conn.execute("SELECT token_hash FROM app.tb_invitation").fetchone()[0]
    assert token not in stored and len(token) == 64
    accepted = _call(db, "nina", None, "fn_accept_invitation", token)  # no tenant selected: not a member yet
    assert (accepted["succeeded"], accepted["status_detail"]) == (True, "accepted")
    assert accepted["entity"]["tenant_id"] == db["acme"] and accepted["entity"]["role"] == "admin"
    assert _seats(db, "nina") == [("acme", "admin")]
    again = _call(db, "nina", None, "fn_accept_invitation", token)
    assert (again["succeeded"], again["status_detail"]) == (False, "conflict:already_accepted")
    # And now she is a member: acme's data is hers to read.
    with psycopg.connect(db["url"]) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                     (db["nina"], db["acme"]))
        conn.execute("SET LOCAL ROLE app_user")
        assert conn.execute("SELECT count(*) FROM app.v_seat").fetchone()[0] == 3


@pytest.mark.parametrize("who, token_of, status", [
    ("zoe", "nina", "noop:not_found"),       # another user's token: the same answer as no token
    (None, "nina", "failed:unauthenticated"),
    ("nina", None, "noop:not_found"),        # a made-up token
])
def test_only_the_invitee_accepts(db, who, token_of, status):
    token = _invite(db, "nina@example.test") if token_of else "0" * 64
    result = _call(db, who, None, "fn_accept_invitation", token)
    assert (result["succeeded"], result["status_detail"]) == (False, status)
    assert _seats(db, "zoe") == [] and _seats(db, "nina") == []


def test_an_expired_or_revoked_invitation_is_refused(db):
    expired = _invite(db, "nina@example.test")
    with psycopg.connect(db["url"]) as conn:
        conn.execute("UPDATE app.tb_invitation SET expires_at = now() - interval '1 second'")
    assert _call(db, "nina", None, "fn_accept_invitation", expired)["status_detail"] == "failed:expired"
    revoked = _invite(db, "zoe@example.test")
    with psycopg.connect(db["url"]) as conn:
        zoe_invitation = conn.execute("SELECT id::text FROM app.tb_invitation WHERE email = 'zoe@example.test'").fetchone()[0]
    assert _call(db, "max", "acme", "fn_revoke_invitation", zoe_invitation)["error_class"] == "forbidden"
    assert _call(db, "ada", "acme", "fn_revoke_invitation", zoe_invitation)["status_detail"] == "revoked"
    assert _call(db, "ada", "acme", "fn_revoke_invitation", zoe_invitation)["status_detail"] == "noop:not_found"
    assert _call(db, "zoe", None, "fn_accept_invitation", revoked)["status_detail"] == "noop:not_found"
    assert _seats(db, "nina") == [] and _seats(db, "zoe") == []


def test_inviting_needs_an_admin_a_role_no_higher_and_reveals_nothing(db):
    assert _call(db, "max", "acme", "fn_invite", "nina@example.test", "member")["error_class"] == "forbidden"
    assert _call(db, "ada", "acme", "fn_invite", "nina@example.test", "owner")["error_class"] == "forbidden"
    # An existing account, another tenant's owner, an unknown address: the same answer.
    answers = {(_call(db, "ada", "acme", "fn_invite", email, "member")["status_detail"])
               for email in ("zoe@example.test", "gus@example.test", "nobody@example.test")}
    assert answers == {"invited"}


def test_pending_invitations_are_the_tenants_own_and_the_api_role_cannot_touch_tokens(db):
    _invite(db, "nina@example.test")
    with psycopg.connect(db["url"], row_factory=dict_row) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                     (db["ada"], db["acme"]))
        conn.execute("SET LOCAL ROLE app_user")
        pending = conn.execute("SELECT data FROM app.v_invitation_pending").fetchall()
        assert [p["data"]["email"] for p in pending] == ["nina@example.test"]
        assert "token_hash" not in pending[0]["data"]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute("UPDATE app.tb_invitation SET accepted_at = now()")
    with psycopg.connect(db["url"]) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                     (db["gus"], db["globex"]))
        conn.execute("SET LOCAL ROLE app_user")
        assert conn.execute("SELECT count(*) FROM app.v_invitation_pending").fetchone()[0] == 0


def test_the_privileged_role_is_narrow(db):
    with psycopg.connect(db["url"]) as conn:
        role = conn.execute("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles "
                            "WHERE rolname = 'app_privileged'").fetchone()
        owned = conn.execute("SELECT p.oid::regprocedure::text, p.prosecdef FROM pg_proc p "
                             "WHERE p.proowner = 'app_privileged'::regrole").fetchall()
        writes = conn.execute("""
            SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'r'
              AND has_table_privilege('app_privileged', c.oid, 'DELETE, TRUNCATE, REFERENCES, TRIGGER')""").fetchall()
        public_callable = conn.execute("SELECT has_function_privilege('public', "
                                       "'app_private.fn_accept_invitation(text)', 'EXECUTE')").fetchone()[0]
    assert role == (False, False, False)
    assert sorted(owned) == [("app_private.fn_accept_invitation(text)", True), ("app_private.fn_sign_up(text)", True)]
    assert writes == [] and public_callable is False


def test_sign_up_creates_the_organization_and_its_owner_in_one_transaction(db):
    created = _call(db, "nina", None, "fn_sign_up", "nina-co")
    assert (created["succeeded"], created["status_detail"], created["http_status"]) == (True, "created", 201)
    assert created["entity"]["identifier"] == "nina-co"  # read back through v_org, as its owner
    assert _seats(db, "nina") == [("nina-co", "owner")]
    # Taken names are a conflict; nobody signed in creates nothing; nothing half-made is left.
    assert _call(db, "zoe", None, "fn_sign_up", "nina-co")["status_detail"] == "conflict:duplicate"
    assert _call(db, None, None, "fn_sign_up", "anon-co")["status_detail"] == "failed:unauthenticated"
    with psycopg.connect(db["url"]) as conn:
        assert conn.execute("SELECT count(*) FROM app.tb_org").fetchone()[0] == 3
    assert _seats(db, "zoe") == []
    # The owner can now work in it, like any owner: select it and invite someone.
    db["nina-co"] = str(created["entity_id"])
    invited = _call(db, "nina", "nina-co", "fn_invite", "zoe@example.test", "admin")
    assert (invited["succeeded"], invited["status_detail"]) == (True, "invited")
