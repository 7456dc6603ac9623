"""Users living in an existing table (an auth service's ``auth.users``): created here by hand,
as the auth service would, then the generated schema applied on top and driven as the runtime
drives it. fraisec references the table's uuid key, resolves the current user by it, reads the
declared columns through views (column SELECT only), and never writes or alters the table."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.rows import dict_row

from fraisec.api import load_ir, schema_sql
from tests.conftest import FIXTURES
from tests.helpers import codes, write_schema
from tests.sqlgen.conftest import template_database

SCHEMA = FIXTURES / "external" / "schema.py"
USERS = {name: str(uuid.UUID(int=n + 1)) for n, name in enumerate(("ada", "bob", "eve"))}

AUTH = """
CREATE SCHEMA auth;
CREATE TABLE auth.users (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    display_name text,
    encrypted_password text NOT NULL DEFAULT 'secret',  -- the auth service's own, never granted
    last_sign_in_at timestamptz
);
""" + "".join(f"INSERT INTO auth.users (id, email, display_name) VALUES ('{i}', '{n}@example.test', '{n.title()}');\n"
              for n, i in USERS.items())

SEED = """
INSERT INTO app.tb_org (identifier) VALUES ('acme'), ('globex');
INSERT INTO app.tb_member (fk_org, fk_user, role)
SELECT o.pk_org, u.id, 'owner' FROM app.tb_org o, auth.users u
WHERE (o.identifier, u.email) IN (('acme', 'ada@example.test'), ('acme', 'bob@example.test'),
                                 ('globex', 'eve@example.test'));
"""


@pytest.fixture(scope="session")
def external_template(pg_server) -> str:
    text, diagnostics = schema_sql(str(SCHEMA))
    assert text is not None, [str(d) for d in diagnostics]
    return template_database(pg_server, "external", AUTH, text, SEED)


class Runtime:
    def __init__(self, url: str) -> None:
        self.url = url
        with psycopg.connect(url) as conn:
            self.orgs = dict(conn.execute("SELECT identifier, id::text FROM app.tb_org").fetchall())

    def run(self, user: str, org: str, query: str, *args) -> list[dict]:
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                         (USERS[user], self.orgs[org]))
            conn.execute("SET LOCAL ROLE app_user")
            return conn.execute(query, args).fetchall()


@pytest.fixture
def runtime(make_db, external_template) -> Runtime:
    return Runtime(make_db(template=external_template))


def test_the_current_user_is_resolved_by_the_external_key(runtime):
    [created] = runtime.run("ada", "acme", "SELECT * FROM app.fn_create_note(%s)", "hello")
    assert created["succeeded"], created["message"]
    assert created["entity"]["author"] == {"id": USERS["ada"], "email": "ada@example.test", "display_name": "Ada"}
    with psycopg.connect(runtime.url) as conn:
        assert conn.execute("SELECT fk_author::text FROM app.tb_note").fetchall() == [(USERS["ada"],)]


def test_users_are_read_through_the_view_only_within_the_tenant(runtime):
    seen = runtime.run("ada", "acme", "SELECT data FROM app.v_user ORDER BY data->>'email'")
    assert [r["data"]["email"] for r in seen] == ["ada@example.test", "bob@example.test"]
    assert [r["data"]["email"] for r in runtime.run("eve", "globex", "SELECT data FROM app.v_user")] \
        == ["eve@example.test"]
    # Claiming acme without being a member: only herself.
    assert [r["data"]["email"] for r in runtime.run("eve", "acme", "SELECT data FROM app.v_user")] \
        == ["eve@example.test"]
    # No grant on the table itself: not the auth service's other columns, not the declared
    # ones of users outside the tenant (an admin reading every user was leak L6), nothing writable.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        runtime.run("ada", "acme", "SELECT encrypted_password FROM auth.users")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        runtime.run("ada", "acme", "SELECT email FROM auth.users")
    # The helper the views read through answers the same users as the view.
    assert sorted(r["email"] for r in runtime.run("ada", "acme", "SELECT email FROM app_private.fn_visible_users()")) \
        == ["ada@example.test", "bob@example.test"]
    assert [r["email"] for r in runtime.run("eve", "acme", "SELECT email FROM app_private.fn_visible_users()")] \
        == ["eve@example.test"]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        runtime.run("ada", "acme", "UPDATE auth.users SET display_name = 'x'")


def test_references_to_external_users_are_uuid_keys_and_checked(runtime):
    with psycopg.connect(runtime.url) as conn:
        types = dict(conn.execute("SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute "
                                  "WHERE attrelid = 'app.tb_member'::regclass AND attname = 'fk_user'").fetchall())
        assert types == {"fk_user": "uuid"}
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO app.tb_member (fk_org, fk_user) SELECT pk_org, gen_random_uuid() "
                         "FROM app.tb_org LIMIT 1")


def test_fraisec_never_owns_alters_or_polices_the_external_table(runtime):
    with psycopg.connect(runtime.url) as conn:
        owner, rls = conn.execute("SELECT pg_get_userbyid(relowner)::text, relrowsecurity FROM pg_class "
                                  "WHERE oid = 'auth.users'::regclass").fetchone()
        columns = [r[0] for r in conn.execute("SELECT attname::text FROM pg_attribute WHERE attrelid = "
                                              "'auth.users'::regclass AND attnum > 0 ORDER BY attnum")]
    assert owner != "app_owner" and rls is False
    assert columns == ["id", "email", "display_name", "encrypted_password", "last_sign_in_at"]


def test_schema_sql_refuses_a_missing_external_table(make_db):
    text, _ = schema_sql(str(SCHEMA))
    with psycopg.connect(make_db()) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="auth.users"):
            conn.execute(text)


@pytest.mark.parametrize("old, new", [
    ('external="auth.users", key="id"', 'external="auth.users", key="uid"'),
    ('external="auth.users", key="id"', 'external="users"'),
    ('external="auth.users", key="id"', 'external="app.users"'),
    ("    display_name: str | None\n", "    display_name: str | None = fq.field(unique=True)\n"),
    ('@fq.entity(tenant=True)\nclass Note:', '@fq.entity(tenant=True, key="id")\nclass Note:'),
])
def test_external_misdeclarations(tmp_path, old, new):
    text = SCHEMA.read_text()
    assert old in text
    _schema, diagnostics = load_ir(str(write_schema(tmp_path, text.replace(old, new))))
    assert codes(diagnostics) == ["FSC255"], [str(d) for d in diagnostics]
