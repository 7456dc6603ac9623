"""examples/teams grows from a first team app (tenants, users, memberships, projects; no
invitations, no sign-up, no service role, no counters) into the full one with `migrate diff`, on
a database holding rows, and converges: the new roles, privileged functions, policies and
grants are all carried by the migration."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, query

TEAMS = REPO / "examples" / "teams"

FIRST = '''
from enum import Enum
import fraisec as fq
from fraisec.scalars import ID, DateTime, Email

fq.tenancy(tenant="Tenant", claim="tenant_id", user="User", membership="TenantUser",
           roles=("owner", "admin", "member", "guest"))


@fq.enum
class TenantRole(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    GUEST = "guest"


@fq.entity
class Tenant:
    identifier: str = fq.field(unique=True)
    name: str = ""
    created_at: DateTime = fq.now()
    updated_at: DateTime = fq.now()


@fq.entity
class User:
    identifier: str = fq.field(unique=True)
    email: Email = fq.field(unique=True)
    display_name: str | None = None


@fq.entity(tenant=True)
class TenantUser:
    tenant: Tenant = fq.field(on_delete="CASCADE")
    user: User = fq.field(on_delete="CASCADE")
    role: TenantRole = TenantRole.MEMBER
    joined_at: DateTime = fq.now()
    __unique__ = [("tenant", "user")]


@fq.entity(tenant=True)
class Project:
    identifier: str
    tenant: Tenant = fq.field(on_delete="CASCADE")
    name: str
    owner: User
    created_at: DateTime = fq.now()


@fq.mutation(operation="CREATE", requires_role="member")
def create_project(identifier: str, name: str, owner_id: ID) -> Project: ...
'''


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


def _ok(*args):
    result = run_cli("--no-color", *args)
    assert result.exit_code == 0, result.output
    return result


def test_the_team_app_grows_its_cross_tenant_flows_on_a_populated_database(tmp_path, monkeypatch, make_db):
    root = tmp_path / "teams"
    _ok("init", str(root))
    (root / "schema.py").write_text(FIRST)
    monkeypatch.chdir(root)
    _ok("migrate", "diff", "init")
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    query(url, """
        INSERT INTO app.tb_tenant (identifier) VALUES ('acme');
        INSERT INTO app.tb_user (identifier, email) VALUES ('ada', 'ada@example.test');
        INSERT INTO app.tb_tenant_user (fk_tenant, fk_user, role) VALUES (1, 1, 'owner');
        INSERT INTO app.tb_project (fk_tenant, identifier, name, fk_owner) VALUES (1, 'p1', 'P1', 1)""")

    (root / "schema.py").write_text((TEAMS / "schema.py").read_text())
    for sql in sorted((TEAMS / "db").glob("*.sql")):
        (root / "db" / sql.name).write_text(sql.read_text())
    _ok("migrate", "diff", "cross_tenant_flows")
    _ok("migrate", "apply", "--database", url)
    _ok("migrate", "check", "--database", url)
    assert "no changes" in _ok("migrate", "diff", "nothing").output
    assert "check: ok" in _ok("check").output  # the privileged flows pass the catalog audit
    owners = dict(query(url, "SELECT p.proname::text, pg_get_userbyid(p.proowner)::text FROM pg_proc p "
                             "WHERE p.pronamespace = 'app_private'::regnamespace AND p.prosecdef"))
    assert owners["fn_accept_invitation"] == owners["fn_sign_up"] == "app_privileged"
    assert query(url, "SELECT rolbypassrls FROM pg_roles WHERE rolname IN ('app_privileged', 'app_service')") \
        == [(False,), (False,)]
    assert query(url, "SELECT identifier, name FROM app.tb_project") == [("p1", "P1")]
    # The seeded plans came with the migration (as privileged.sql's owner for fn_leave_tenant).
    assert query(url, "SELECT identifier, price::text, max_projects FROM app.tb_plan ORDER BY 1") \
        == [("free", "0.00", 3), ("pro", "49.00", 10)]
    assert owners["fn_leave_tenant"] == "app_privileged"
