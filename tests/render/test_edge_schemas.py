"""Schemas off the example's beaten path render SQL that PostgreSQL accepts and that works."""

from __future__ import annotations

import textwrap
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from fraisec.api import schema_sql

HEADER = "import fraisec as fq\nfrom fraisec.scalars import ID, DateTime, Json\nfrom enum import Enum\n"

NO_TENANCY = """
@fq.enum
class Level(Enum):
    LOW = "low"
    HIGH = "high"

@fq.entity
class Category:
    identifier: str
    order: int = 0
    parent: "Category | None" = None
    level: Level = Level.LOW

@fq.entity
class Item:
    identifier: str
    select: str
    user: str | None = None
    tags: list[str] | None = None
    payload: Json | None = None
    category: Category | None = None

@fq.mutation(operation="CREATE")
def create_item(identifier: str, select: str, category_id: ID | None = None) -> Item: ...

@fq.mutation(operation="UPDATE")
def update_item(id: ID, select: str | None = None, user: str | None = None) -> Item: ...

@fq.mutation(operation="DELETE")
def delete_item(id: ID) -> Item: ...

@fq.query
def items() -> list[Item]: ...
"""

TENANCY_WITHOUT_MEMBERSHIP = """
fq.tenancy(tenant="Account", claim="account_id")

@fq.entity
class Account:
    identifier: str

@fq.entity(tenant=True, writes=["UPDATE"])  # a hand-written function edits notes
class Note:
    identifier: str
    body: str
    account: Account

@fq.mutation(operation="CREATE", inject={"account_id": "jwt:account_id"})
def create_note(identifier: str, body: str) -> Note: ...

@fq.query(inject={"account_id": "jwt:account_id"})
def notes() -> list[Note]: ...

fq.observer(Note, on="UPDATE", subject="notes.updated")
"""

WIDE = "\n@fq.entity\nclass Wide:\n" + "".join(f"    f{i}: int = {i}\n" for i in range(60))

LONG = """
@fq.entity
class AnEntityWhoseNameIsMuchLongerThanPostgresWouldEverLikeToSeeInOneIdentifier:
    identifier: str = fq.field(unique=True)
    a_field_name_that_is_also_rather_long_for_an_index_name: str = fq.field(index=True)
"""


def _sql(tmp_path: Path, body: str) -> str:
    module = tmp_path / "schema.py"
    module.write_text(HEADER + textwrap.dedent(body))
    text, diagnostics = schema_sql(str(module))
    assert text is not None, [str(d) for d in diagnostics]
    return text


@pytest.mark.parametrize("body", [NO_TENANCY, TENANCY_WITHOUT_MEMBERSHIP, WIDE, LONG],
                         ids=["no-tenancy", "tenancy-without-membership", "wide", "long-names"])
def test_schema_applies(make_db, tmp_path, body):
    make_db(_sql(tmp_path, body))


def _request(url: str, tenant: str | None = None) -> psycopg.Connection:
    conn = psycopg.connect(url, row_factory=dict_row)
    conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant or "",))
    conn.execute("SET LOCAL ROLE app_user")
    return conn


# The tenancy most cases below share: organisations, people, and seats (memberships) with a role.
ORG_PERSON_SEAT = """
fq.tenancy(tenant="Org", claim="org_id", user="Person", membership="Seat")

@fq.entity
class Org:
    identifier: str

@fq.entity
class Person:
    identifier: str

@fq.entity(tenant=True)
class Seat:
    org: Org
    person: Person
    role: str = "member"
"""


def _seed_member(conn: psycopg.Connection, role: str = "member", schema: str = "app") -> tuple[str, str]:
    """One org, one person, and the person's seat in it (as the owner); returns their uuids."""
    org = conn.execute(f"INSERT INTO {schema}.tb_org (identifier) VALUES ('o') RETURNING id::text").fetchone()[0]
    person = conn.execute(f"INSERT INTO {schema}.tb_person (identifier) VALUES ('p') RETURNING id::text").fetchone()[0]
    conn.execute(f"INSERT INTO {schema}.tb_seat (fk_org, fk_person, role) VALUES (1, 1, %s)", (role,))
    return org, person


def _as_member(conn: psycopg.Connection, person: str, tenant: str, role: str = "app_user") -> None:
    """What the runtime does at the start of a request: user, tenant, then the API role."""
    conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                 (person, tenant))
    conn.execute(f"SET LOCAL ROLE {role}")


def test_no_tenancy_mutations_and_nested_optional_relations(make_db, tmp_path):
    url = make_db(_sql(tmp_path, NO_TENANCY))
    with psycopg.connect(url) as conn:  # reference data, as the superuser
        conn.execute("INSERT INTO app.tb_category (identifier, \"order\") VALUES ('root', 1)")
        conn.execute("INSERT INTO app.tb_category (identifier, fk_parent) SELECT 'child', pk_category FROM app.tb_category")
        category = conn.execute("SELECT id FROM app.tb_category WHERE identifier = 'child'").fetchone()[0]
    with _request(url) as conn:
        created = conn.execute("SELECT * FROM app.fn_create_item('i1', 'chosen', %s)", (category,)).fetchone()
        assert created["succeeded"], created
        item = created["entity"]
        assert item["select"] == "chosen" and item["user"] is None and item["tags"] is None
        assert item["category"]["identifier"] == "child"
        assert item["category"]["parent"]["identifier"] == "root"
        assert "parent" not in item["category"]["parent"]  # nesting stops at MAX_NESTING levels
        orphan = conn.execute("SELECT * FROM app.fn_create_item('i2', 'x')").fetchone()
        assert orphan["entity"]["category"] is None  # an absent optional relation is null
        updated = conn.execute("SELECT * FROM app.fn_update_item(%s, NULL, 'someone')", (orphan["entity_id"],)).fetchone()
        assert (updated["entity"]["select"], updated["entity"]["user"]) == ("x", "someone")
        assert updated["updated_fields"] == ["user"]
        assert conn.execute("SELECT * FROM app.fn_delete_item(%s)", (orphan["entity_id"],)).fetchone()["succeeded"]
        # Reference data is readable but not writable through the API.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO app.tb_category (identifier) VALUES ('nope')")


def test_enum_columns_are_checked(make_db, tmp_path):
    url = make_db(_sql(tmp_path, NO_TENANCY))
    with psycopg.connect(url) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO app.tb_category (identifier, level) VALUES ('c', 'medium')")


def test_tenancy_without_membership_trusts_the_setting_and_injects_the_tenant(make_db, tmp_path):
    url = make_db(_sql(tmp_path, TENANCY_WITHOUT_MEMBERSHIP))
    with psycopg.connect(url) as conn:
        a, b = (conn.execute("INSERT INTO app.tb_account (identifier) VALUES (%s) RETURNING id::text", (n,)).fetchone()[0]
                for n in ("a", "b"))
    with _request(url, a) as conn:
        # The injected claim (the trailing parameter) is resolved like any relation argument.
        created = conn.execute("SELECT * FROM app.fn_create_note('n1', 'hello', %s)", (a,)).fetchone()
        assert created["succeeded"], created
        planted = conn.execute("SELECT * FROM app.fn_create_note('n2', 'x', %s)", (b,)).fetchone()
        assert planted["status_detail"] in ("failed:forbidden", "noop:not_found")
        assert [r["account_id"] for r in conn.execute("SELECT account_id::text FROM app.v_note").fetchall()] == [a]
        conn.execute("UPDATE app.tb_note SET body = 'changed'")  # declared: writes=["UPDATE"]
        conn.commit()
    with _request(url, a) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute("DELETE FROM app.tb_note")  # not declared, not granted
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT subject, tenant_id::text FROM app_private.tb_outbox_event").fetchall() == [
            ("notes.updated", a)]
    with _request(url, b) as conn:
        assert conn.execute("SELECT count(*) AS n FROM app.v_note").fetchone()["n"] == 0


def test_wide_entities_split_jsonb_build_object(make_db, tmp_path):
    text = _sql(tmp_path, WIDE)
    url = make_db(text)
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO app.tb_wide DEFAULT VALUES")
        data = conn.execute("SELECT data FROM app.v_wide").fetchone()[0]
    assert len(data) == 61 and data["f59"] == 59


def test_long_names_stay_unique_within_postgres_limits(tmp_path):
    text = _sql(tmp_path, LONG)
    for line in text.splitlines():
        if "CONSTRAINT" in line or "CREATE INDEX" in line or "CREATE POLICY" in line:
            name = line.split()[1] if line.startswith("CREATE INDEX") else line.split()[2 if "POLICY" in line else 1]
            assert len(name) <= 63, line


UNSCOPED_MEMBERSHIP = """
fq.tenancy(tenant="Team", claim="team_id", user="Person", membership="Seat")

@fq.entity
class Team:
    identifier: str

@fq.entity
class Person:
    identifier: str

@fq.entity
class Seat:
    team: Team
    person: Person
    role: str = "member"

@fq.entity(tenant=True)
class Doc:
    identifier: str
    team: Team

@fq.mutation(operation="CREATE")
def create_doc(id: ID, identifier: str) -> Doc: ...
"""


def test_membership_without_tenant_scope_is_still_guarded(make_db, tmp_path):
    url = make_db(_sql(tmp_path, UNSCOPED_MEMBERSHIP))
    ids = {}
    with psycopg.connect(url) as conn:
        for team in ("red", "blue"):
            ids[team] = conn.execute("INSERT INTO app.tb_team (identifier) VALUES (%s) RETURNING id::text", (team,)).fetchone()[0]
        for person in ("ann", "ben"):
            ids[person] = conn.execute("INSERT INTO app.tb_person (identifier) VALUES (%s) RETURNING id::text", (person,)).fetchone()[0]
        conn.execute("""INSERT INTO app.tb_seat (fk_team, fk_person, role)
                        SELECT t.pk_team, p.pk_person, 'admin' FROM app.tb_team t, app.tb_person p
                        WHERE (t.identifier, p.identifier) IN (('red', 'ann'), ('blue', 'ben'))""")
    with psycopg.connect(url, row_factory=dict_row) as conn:
        _as_member(conn, ids["ann"], ids["red"])
        seats = conn.execute("SELECT data->'team'->>'identifier' AS t FROM app.v_seat").fetchall()
        assert [s["t"] for s in seats] == ["red"]  # not blue's seat
        chosen = "11111111-1111-1111-1111-111111111111"
        created = conn.execute("SELECT * FROM app.fn_create_doc(%s, 'd1')", (chosen,)).fetchone()
        assert (created["succeeded"], str(created["entity_id"])) == (True, chosen)


ON_DELETE = """
fq.tenancy(tenant="Org", claim="org_id")

@fq.entity
class Org:
    identifier: str

@fq.entity(tenant=True)
class Board:
    identifier: str
    org: Org

@fq.entity(tenant=True)
class Card:
    identifier: str
    org: Org
    board: Board | None = fq.field(on_delete="set null")
"""


def test_unknown_on_delete_action_is_refused_not_spliced(tmp_path):
    module = tmp_path / "schema.py"
    module.write_text(HEADER + textwrap.dedent(ON_DELETE) +
                      '    pinned: Board | None = fq.field(on_delete="cascade; DROP TABLE app.tb_org")\n')
    text, diagnostics = schema_sql(str(module))
    assert text is None and [d.code for d in diagnostics] == ["FSC209"]


def test_on_delete_set_null_keeps_the_tenant_column(make_db, tmp_path):
    text = _sql(tmp_path, ON_DELETE)
    url = make_db(text)
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO app.tb_org (identifier) VALUES ('o')")
        conn.execute("INSERT INTO app.tb_board (fk_org, identifier) VALUES (1, 'b')")
        conn.execute("INSERT INTO app.tb_card (fk_org, identifier, fk_board) VALUES (1, 'c', 1)")
        conn.execute("DELETE FROM app.tb_board")
        assert conn.execute("SELECT fk_org, fk_board FROM app.tb_card").fetchall() == [(1, None)]


ROLE_GATED = ORG_PERSON_SEAT + """

@fq.entity(tenant=True, requires_role="admin")
class Invoice:
    identifier: str
    org: Org
"""


@pytest.mark.parametrize("role, visible", [("member", 0), ("admin", 1), ("owner", 1)])
def test_entity_requires_role_restricts_reads(make_db, tmp_path, role, visible):
    url = make_db(_sql(tmp_path, ROLE_GATED))
    with psycopg.connect(url) as conn:
        org, person = _seed_member(conn, role)
        conn.execute("INSERT INTO app.tb_invoice (fk_org, identifier) VALUES (1, 'inv-1')")
    with psycopg.connect(url) as conn:
        _as_member(conn, person, org)
        assert conn.execute("SELECT count(*) FROM app.v_invoice").fetchone()[0] == visible


GLOBAL_WRITES = ORG_PERSON_SEAT + """

@fq.entity
class Country:
    identifier: str

@fq.mutation(operation="CREATE")
def create_country(identifier: str) -> Country: ...
"""


def test_global_writes_need_a_verified_context(make_db, tmp_path):
    url = make_db(_sql(tmp_path, GLOBAL_WRITES))
    with psycopg.connect(url) as conn:
        org, person = _seed_member(conn)
        conn.execute("INSERT INTO app.tb_country (identifier) VALUES ('fr')")
    for user, tenant, succeeded in ((person, org, True), ("", "", False)):
        with psycopg.connect(url, row_factory=dict_row) as conn:
            conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                         (user, tenant))
            conn.execute("SET LOCAL ROLE app_user")
            assert conn.execute("SELECT count(*) AS n FROM app.v_country").fetchone()["n"] == 1  # reads stay open
            result = conn.execute("SELECT * FROM app.fn_create_country('de')").fetchone()
            assert result["succeeded"] is succeeded, result
            conn.rollback()


CUSTOM_NAMES = ORG_PERSON_SEAT.replace(
    'claim="org_id", user="Person", membership="Seat")',
    'claim="tenant", user="Person", membership="Seat", schema="api",\n'
    '           private_schema="api_internal", api_role="web_user", owner_role="web_owner")') + """

@fq.entity(tenant=True)
class Note:
    identifier: str
    org: Org

@fq.mutation(operation="CREATE")
def create_note(identifier: str) -> Note: ...

fq.observer(Note, on="INSERT", subject="notes.created")
"""


def test_custom_schema_and_role_names_are_used_everywhere(make_db, tmp_path):
    text = _sql(tmp_path, CUSTOM_NAMES)
    # (app.tenant_id and app.user_id are setting names, not the schema)
    for default in ("app.tb_", "app.v_", "app.fn_", "app.mutation", "app_private", "app_user", "app_owner"):
        assert default not in text, default
    url = make_db(text)
    with psycopg.connect(url) as conn:
        org, person = _seed_member(conn, schema="api")
    with psycopg.connect(url, row_factory=dict_row) as conn:
        _as_member(conn, person, org, role="web_user")
        assert conn.execute("SELECT * FROM api.fn_create_note('n')").fetchone()["succeeded"]
        conn.commit()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT subject FROM api_internal.tb_outbox_event").fetchall() == [("notes.created",)]
        owners = conn.execute("SELECT DISTINCT relowner::regrole::text FROM pg_class WHERE relnamespace = 'api'::regnamespace").fetchall()
        assert owners == [("web_owner",)]


CASCADE_OBSERVED = ORG_PERSON_SEAT + """

@fq.entity(tenant=True)
class Board:
    identifier: str
    org: Org

@fq.entity(tenant=True)
class Card:
    identifier: str
    org: Org
    board: Board = fq.field(on_delete="cascade")

@fq.entity(tenant=True, activity_log=True)
class Activity:
    org: Org
    actor_id: ID
    entity_type: str
    entity_id: ID
    action: str

@fq.mutation(operation="DELETE")
def delete_board(id: ID) -> Board: ...

fq.observer(Card, on="DELETE", subject="cards.deleted", activity=True)
"""


def test_an_observer_fired_by_a_cascaded_delete_still_writes_its_event(make_db, tmp_path):
    url = make_db(_sql(tmp_path, CASCADE_OBSERVED))
    with psycopg.connect(url) as conn:
        org, person = _seed_member(conn)
        board = conn.execute("INSERT INTO app.tb_board (fk_org, identifier) VALUES (1, 'b') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO app.tb_card (fk_org, fk_board, identifier) VALUES (1, 1, 'c1'), (1, 1, 'c2')")
    with psycopg.connect(url, row_factory=dict_row) as conn:
        _as_member(conn, person, org)
        result = conn.execute("SELECT * FROM app.fn_delete_board(%s)", (board,)).fetchone()
        assert result["succeeded"], result
        conn.commit()
    with psycopg.connect(url) as conn:
        events = conn.execute("SELECT subject, tenant_id::text, data->>'identifier' FROM app_private.tb_outbox_event "
                              "ORDER BY 3").fetchall()
        assert events == [("cards.deleted", org, "c1"), ("cards.deleted", org, "c2")]
        assert conn.execute("SELECT count(*) FROM app.tb_activity").fetchone()[0] == 2
