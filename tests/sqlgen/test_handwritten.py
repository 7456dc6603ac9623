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


def test_an_admin_invites_and_a_member_cannot(with_db_files):
    saas = with_db_files
    with saas.request(ANNA, ACME) as conn:
        result = saas.call(conn, "fn_invite_member", ACME, "mallory@nowhere.test")
        assert (result["error_class"], result["http_status"]) == ("forbidden", 403)
    with saas.request(ALICE, ACME) as conn:
        assert saas.call(conn, "fn_invite_member", GLOBEX, "mallory@nowhere.test")["status_detail"] == "noop:not_found"
        assert saas.call(conn, "fn_invite_member", ACME, "nobody@nowhere.test")["status_detail"] == "noop:not_found"
    with saas.request(ALICE, ACME, commit=True) as conn:
        result = saas.call(conn, "fn_invite_member", ACME, "mallory@nowhere.test")
        assert (result["succeeded"], result["entity_type"]) == (True, "Member")
        assert result["entity"]["email"] == "mallory@nowhere.test" and result["entity"]["role"] == "member"
    with saas.request(BOB, GLOBEX) as conn:  # globex does not see acme's new member
        assert conn.execute("SELECT count(*) AS n FROM app.v_member WHERE data->>'email' = 'mallory@nowhere.test'"
                            ).fetchone()["n"] == 0
    [(subject, tenant)] = saas.admin("SELECT subject, tenant_id::text FROM app_private.tb_outbox_event")
    assert (subject, tenant) == ("saas.member.invited", ACME)
