"""Generated membership mutations: who may be named, and which roles may be handed out.

An admin's write access to memberships must not reach users of other tenants (a bigint
``fk_person`` is guessable, and the new row would make that person visible), and nobody hands
out a role above their own. Checked on a schema whose memberships are written by generated
mutations, so the API role does hold INSERT and UPDATE on the table.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.render.test_edge_schemas import ORG_PERSON_SEAT, _sql

SEAT_MUTATIONS = ORG_PERSON_SEAT + """
@fq.mutation(operation="CREATE", requires_role="admin")
def add_seat(person_id: ID, role: str = "member") -> Seat: ...

@fq.mutation(operation="UPDATE", requires_role="admin")
def update_seat(id: ID, role: str | None = None) -> Seat: ...
"""


@pytest.fixture
def db(make_db, tmp_path) -> dict[str, object]:
    url = make_db(_sql(tmp_path, SEAT_MUTATIONS))
    with psycopg.connect(url) as conn:
        ids = {}
        for name in ("acme", "globex"):
            ids[name] = conn.execute("INSERT INTO app.tb_org (identifier) VALUES (%s) RETURNING id::text",
                                     (name,)).fetchone()[0]
        for name in ("owner", "admin", "member", "outsider", "stranger"):
            ids[name] = conn.execute("INSERT INTO app.tb_person (identifier) VALUES (%s) RETURNING id::text",
                                     (name,)).fetchone()[0]
        for person, org, role in (("owner", "acme", "owner"), ("admin", "acme", "admin"),
                                  ("member", "acme", "member"), ("outsider", "globex", "admin")):
            conn.execute("INSERT INTO app.tb_seat (fk_org, fk_person, role) SELECT o.pk_org, p.pk_person, %s "
                         "FROM app.tb_org o, app.tb_person p WHERE o.id = %s AND p.id = %s",
                         (role, ids[org], ids[person]))
    return {"url": url, **ids}


def _request(db, person: str) -> psycopg.Connection:
    conn = psycopg.connect(db["url"], row_factory=dict_row)
    conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                 (db[person], db["acme"]))
    conn.execute("SET LOCAL ROLE app_user")
    return conn


def _pk(db, person: str) -> int:
    with psycopg.connect(db["url"]) as conn:
        return conn.execute("SELECT pk_person FROM app.tb_person WHERE id = %s", (db[person],)).fetchone()[0]


def _seat(db, person: str) -> str:
    with psycopg.connect(db["url"]) as conn:
        return conn.execute("SELECT s.id::text FROM app.tb_seat s JOIN app.tb_person p ON p.pk_person = s.fk_person "
                            "JOIN app.tb_org o ON o.pk_org = s.fk_org WHERE p.id = %s AND o.id = %s",
                            (db[person], db["acme"])).fetchone()[0]


@pytest.mark.parametrize("target", ["outsider", "stranger"])
def test_an_admin_cannot_seat_someone_she_cannot_see(db, target):
    with _request(db, "admin") as conn:
        # Through the mutation: the person is resolved under RLS, so "not found".
        result = conn.execute("SELECT * FROM app.fn_add_seat(%s)", (db[target],)).fetchone()
        assert (result["succeeded"], result["status_detail"]) == (False, "noop:not_found")
    with _request(db, "admin") as conn:
        # Directly, with the guessed bigint: refused by RLS before the foreign key is checked,
        # so the error says nothing about whether the person exists.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO app.tb_seat (fk_org, fk_person, role) SELECT pk_org, %s, 'member' "
                         "FROM app.tb_org WHERE id = %s", (_pk(db, target), db["acme"]))
    with _request(db, "admin") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO app.tb_seat (fk_org, fk_person, role) SELECT pk_org, 987654, 'member' "
                         "FROM app.tb_org WHERE id = %s", (db["acme"],))
    with _request(db, "admin") as conn:
        assert conn.execute("SELECT count(*) AS n FROM app.tb_person WHERE id = %s", (db[target],)).fetchone()["n"] == 0


def test_seat_writes_never_move_a_person(db):
    """fk_person is written only when a seat is created: no mutation updates it."""
    with _request(db, "admin") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute("UPDATE app.tb_seat SET fk_person = %s", (_pk(db, "stranger"),))


@pytest.mark.parametrize("actor, seat, role, allowed", [
    ("admin", "member", "admin", True),    # up to her own role
    ("admin", "member", "owner", False),   # above it
    ("admin", "admin", "owner", False),    # promoting herself
    ("admin", "owner", "member", False),   # demoting someone stronger
    ("owner", "admin", "owner", True),
    ("member", "member", "admin", False),  # not an admin at all
])
def test_nobody_grants_a_role_above_their_own(db, actor, seat, role, allowed):
    with _request(db, actor) as conn:
        result = conn.execute("SELECT * FROM app.fn_update_seat(%s, %s)", (_seat(db, seat), role)).fetchone()
        assert result["succeeded"] is allowed, result
        if not allowed:
            assert result["status_detail"] in ("failed:forbidden", "noop:not_found")
    with _request(db, actor) as conn:  # and directly, where the role ceiling is a policy
        updated = 0
        try:
            updated = conn.execute("UPDATE app.tb_seat SET role = %s WHERE id = %s", (role, _seat(db, seat))).rowcount
        except psycopg.errors.InsufficientPrivilege:
            pass
        assert (updated == 1) is allowed


def test_a_new_seat_gets_no_role_above_the_callers(db):
    with psycopg.connect(db["url"]) as conn:  # the member leaves acme
        conn.execute("DELETE FROM app.tb_seat WHERE fk_person = (SELECT pk_person FROM app.tb_person "
                     "WHERE identifier = 'member')")
    # She is no co-member any more, so the admin cannot see or seat her at all.
    with _request(db, "admin") as conn:
        result = conn.execute("SELECT * FROM app.fn_add_seat(%s, 'member')", (db["member"],)).fetchone()
        assert result["status_detail"] == "noop:not_found"
    # Seating oneself again (visible: it is the caller) cannot raise one's role either.
    with _request(db, "admin") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO app.tb_seat (fk_org, fk_person, role) SELECT o.pk_org, p.pk_person, 'owner' "
                         "FROM app.tb_org o, app.tb_person p WHERE o.id = %s AND p.id = %s", (db["acme"], db["admin"]))
