"""examples/teams with its tenancy role enum declared native (@fq.enum(native=True)): the
flows that write the role column from text (invitations accepted, sign-up, a role change with
its ceiling, the last-owner trigger) work on the PostgreSQL enum type as on text + CHECK."""

from __future__ import annotations

import psycopg
import pytest

from fraisec.api import schema_sql
from tests.sqlgen.conftest import template_database
from tests.sqlgen.test_teams import SEED, TEAMS, Teams

NATIVE_FLAG = "@fq.enum\nclass TenantRole(Enum):"


@pytest.fixture(scope="module")
def native_template(pg_server, tmp_path_factory) -> str:
    text = (TEAMS / "schema.py").read_text()
    assert text.count(NATIVE_FLAG) == 1
    module = tmp_path_factory.mktemp("teams_native") / "schema.py"
    module.write_text(text.replace(NATIVE_FLAG, "@fq.enum(native=True)\nclass TenantRole(Enum):"))
    sql, diagnostics = schema_sql(str(module))
    assert sql is not None, [str(d) for d in diagnostics]
    assert "CREATE TYPE app.tenant_role AS ENUM ('owner', 'admin', 'member', 'guest');" in sql
    db_files = [p.read_text() for p in sorted((TEAMS / "db").glob("*.sql"))]
    return template_database(pg_server, "teams_native", sql, *db_files, SEED)


@pytest.fixture
def teams(make_db, native_template) -> Teams:
    return Teams(make_db(template=native_template))


def test_the_role_column_is_the_enum_type(teams):
    with psycopg.connect(teams.url) as conn:
        assert conn.execute("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = "
                            "'app.tb_tenant_user'::regclass AND attname = 'role'").fetchone() == ("app.tenant_role",)


def test_invite_accept_sign_up_and_role_changes(teams):
    invited = teams.call("abe", "acme", "fn_invite_user", "zoe@example.test", "member")
    assert invited["status_detail"] == "invited"
    assert teams.call("zoe", None, "fn_accept_invitation", invited["metadata"]["token"])["status_detail"] == "accepted"
    assert teams.seats("zoe") == [("acme", "member")]
    assert teams.call("abe", "acme", "fn_invite_user", "nina@example.test", "owner")["error_class"] == "forbidden"
    assert teams.call("abe", "acme", "fn_invite_user", "nina@example.test", "boss")["status_detail"] == \
        "failed:validation"  # not a value of the type
    created = teams.call("nina", None, "fn_sign_up", "nina-co", "Nina & Co")
    assert created["succeeded"] and teams.seats("nina") == [("nina-co", "owner")]
    seat = teams.read("ada", "acme", "SELECT m.id::text AS id FROM app.tb_tenant_user m JOIN app.tb_user u "
                                     "ON u.pk_user = m.fk_user WHERE u.identifier = 'max'")[0]["id"]
    assert teams.call("abe", "acme", "fn_change_member_role", seat, "admin")["succeeded"]
    assert not teams.call("abe", "acme", "fn_change_member_role", seat, "owner")["succeeded"]  # the ceiling
    assert dict(teams.seats("max"))["acme"] == "admin"
