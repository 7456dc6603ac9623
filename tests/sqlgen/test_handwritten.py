"""examples/saas/db/: the hand-written Member view and inviteMember, on top of schema.sql."""

from __future__ import annotations

import psycopg
import pytest

from tests.sqlgen.conftest import ACME, ALICE, ANNA, BOB, EXAMPLE, GLOBEX, Saas


@pytest.fixture
def with_db_files(saas: Saas) -> Saas:
    with psycopg.connect(saas.url) as conn:
        for name in ("v_member.sql", "fn_invite_member.sql"):
            conn.execute((EXAMPLE / "db" / name).read_text())
    return saas


def test_members_query_reads_the_selected_tenant_only(with_db_files):
    saas = with_db_files
    with saas.request(ALICE, ACME) as conn:
        # The runtime's inject filter: WHERE org_id = <jwt org_id>.
        rows = conn.execute("SELECT data FROM app.v_member WHERE org_id = %s", (ACME,)).fetchall()
        assert sorted(r["data"]["email"] for r in rows) == ["alice@acme.test", "anna@acme.test", "carol@both.test"]
        assert {r["data"]["organization_id"] for r in rows} == {ACME}
        # A forged inject value does not widen anything: RLS already decided.
        assert conn.execute("SELECT count(*) AS n FROM app.v_member WHERE org_id = %s", (GLOBEX,)).fetchone()["n"] == 0


def _invitations(saas: Saas) -> list[tuple[str, str, str]]:
    return saas.admin("SELECT o.identifier, i.email, i.role FROM app.tb_invitation i "
                      "JOIN app.tb_organization o ON o.pk_organization = i.fk_organization ORDER BY 1, 2")


def test_an_admin_invites_and_a_member_cannot(with_db_files):
    saas = with_db_files
    with saas.request(ANNA, ACME) as conn:
        result = saas.call(conn, "fn_invite_member", ACME, "mallory@nowhere.test")
        assert (result["error_class"], result["http_status"]) == ("forbidden", 403)
        # Nor directly: the table policy is the backstop.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO app.tb_invitation (fk_organization, email) "
                         "SELECT pk_organization, 'x@y.test' FROM app.tb_organization WHERE id = %s", (ACME,))
    with saas.request(ALICE, ACME) as conn:
        assert saas.call(conn, "fn_invite_member", GLOBEX, "mallory@nowhere.test")["status_detail"] == "noop:not_found"
    with saas.request(ALICE, ACME, commit=True) as conn:
        result = saas.call(conn, "fn_invite_member", ACME, "mallory@nowhere.test")
        assert (result["succeeded"], result["status_detail"], result["entity_type"]) == (True, "invited", "Member")
    # Pending: no membership yet, so Mallory's user row stays invisible to acme.
    with saas.request(ALICE, ACME) as conn:
        assert conn.execute("SELECT count(*) AS n FROM app.tb_user WHERE email = 'mallory@nowhere.test'"
                            ).fetchone()["n"] == 0
    with saas.request(BOB, GLOBEX) as conn:  # globex does not see acme's invitation
        assert conn.execute("SELECT count(*) AS n FROM app.tb_invitation").fetchone()["n"] == 0
    assert _invitations(saas) == [("acme", "mallory@nowhere.test", "member")]
    [(subject, tenant)] = saas.admin("SELECT subject, tenant_id::text FROM app_private.tb_outbox_event")
    assert (subject, tenant) == ("saas.member.invited", ACME)


def test_inviting_reveals_nothing_about_the_address(with_db_files):
    """An existing account, a member, an unknown address, another tenant's user, a repeat:
    the same answer every time (the inviter learns nothing before the invitee accepts)."""
    saas = with_db_files
    answers = set()
    for email in ("mallory@nowhere.test", "anna@acme.test", "nobody@nowhere.test", "bob@globex.test",
                  "nobody@nowhere.test"):
        with saas.request(ALICE, ACME, commit=True) as conn:
            result = saas.call(conn, "fn_invite_member", ACME, email)
            answers.add((result["succeeded"], result["status_detail"], result["http_status"], result["message"],
                         result["entity_id"], result["entity"]))
    assert answers == {(True, "invited", 202, "Invitation recorded", None, None)}


def test_nobody_invites_above_their_own_role(with_db_files):
    saas = with_db_files
    with saas.request(ALICE, ACME) as conn:  # alice is an admin
        result = saas.call(conn, "fn_invite_member", ACME, "mallory@nowhere.test", "owner")
        assert (result["succeeded"], result["error_class"]) == (False, "forbidden")
    with saas.request(ALICE, ACME, commit=True) as conn:
        assert saas.call(conn, "fn_invite_member", ACME, "mallory@nowhere.test", "admin")["succeeded"] is True
    assert _invitations(saas) == [("acme", "mallory@nowhere.test", "admin")]
