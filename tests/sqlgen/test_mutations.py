"""Generated fn_* mutations and observers: responses, search_path hardening, outbox events."""

from __future__ import annotations

import psycopg
import pytest

from tests.sqlgen.conftest import ACME, ALICE, ANNA, GLOBEX

RESPONSE_COLUMNS = ["succeeded", "state_changed", "error_class", "status_detail", "http_status", "message",
                    "entity_id", "entity_type", "entity", "updated_fields", "cascade", "error_detail", "metadata"]


def view_data(conn, view: str, entity_id) -> dict:
    return conn.execute(f"SELECT data FROM app.{view} WHERE id = %s", (entity_id,)).fetchone()["data"]


def test_every_mutation_returns_the_entity_as_the_view_shows_it(saas):
    with saas.request(ALICE, ACME) as conn:
        created = saas.call(conn, "fn_create_project", "Launchpad", "acme-launchpad", ACME, "Pad")
        assert list(created) == RESPONSE_COLUMNS
        assert (created["succeeded"], created["state_changed"], created["status_detail"], created["http_status"]) \
            == (True, True, "created", 201)
        assert created["entity_type"] == "Project"
        assert created["entity"] == view_data(conn, "v_project", created["entity_id"])
        assert created["entity"]["status"] == "active"  # NULL argument: the column default
        assert created["updated_fields"] == ["name", "identifier", "organization", "description"]

        updated = saas.call(conn, "fn_update_project", created["entity_id"], None, None, "archived")
        assert (updated["succeeded"], updated["status_detail"]) == (True, "updated")
        assert updated["entity"] == view_data(conn, "v_project", created["entity_id"])
        assert updated["entity"]["name"] == "Launchpad"  # omitted: unchanged
        assert updated["entity"]["status"] == "archived"
        assert updated["updated_fields"] == ["status"]

        task = saas.call(conn, "fn_create_task", created["entity_id"], "pad-1", "Build it")
        assert task["entity"] == view_data(conn, "v_task", task["entity_id"])
        assert task["entity"]["project"]["identifier"] == "acme-launchpad"

        before = view_data(conn, "v_project", saas.ids("tb_project")["acme-anvils"])
        deleted = saas.call(conn, "fn_delete_project", before["id"])
        assert (deleted["succeeded"], deleted["status_detail"], deleted["entity"]) == (True, "deleted", before)


@pytest.mark.parametrize("args, status, error_class, http", [
    (("Dup", "acme-rockets", ACME), "conflict:duplicate", "conflict", 409),
    (("NoName", "nameless", "00000000-0000-0000-0000-000000000999"), "noop:not_found", "not_found", 404),
    ((None, "nameless", ACME), "failed:validation", "validation", 422),
])
def test_errors_are_statuses(saas, args, status, error_class, http):
    with saas.request(ALICE, ACME) as conn:
        result = saas.call(conn, "fn_create_project", *args)
        assert (result["succeeded"], result["state_changed"]) == (False, False)
        assert (result["status_detail"], result["error_class"], result["http_status"]) == (status, error_class, http)
        assert result["entity"] is None


def test_without_tenant_context_a_mutation_is_unauthenticated(saas):
    with saas.request(ALICE, None) as conn:
        result = saas.call(conn, "fn_create_project", "x", "x", ACME)
        assert (result["error_class"], result["status_detail"], result["http_status"]) == \
            ("unauthorized", "failed:unauthenticated", 401)


def test_functions_pin_search_path_and_run_as_invoker(saas):
    rows = saas.admin("""
        SELECT p.proname, p.prosecdef, p.proconfig
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'app' AND p.proname LIKE 'fn\\_%'""")
    assert {r[0] for r in rows} == {"fn_create_project", "fn_update_project", "fn_delete_project", "fn_create_task"}
    for name, secdef, config in rows:
        assert secdef is False, name
        assert config == ["search_path=pg_catalog, pg_temp"], name


def test_a_temp_table_cannot_shadow_a_relation_a_function_uses(saas_fresh):
    saas = saas_fresh
    # PUBLIC has no TEMP on the database: the attack cannot even start.
    with saas.request(ALICE, ACME) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="temporary"):
            conn.execute("CREATE TEMP TABLE tb_organization (pk_organization bigint, id uuid)")
    # Even when someone grants TEMP back, search_path = '' keeps functions on app.*.
    saas.admin("DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO app_user', current_database()); END $$")
    with saas.request(ALICE, ACME) as conn:
        for table in ("tb_organization", "tb_project", "tb_membership", "v_project"):
            conn.execute(f"CREATE TEMP TABLE {table} (pk_organization bigint, pk_project bigint, id uuid, data jsonb)")
        conn.execute("INSERT INTO pg_temp.tb_organization VALUES (1, 1, %s, '{}')", (GLOBEX,))
        created = saas.call(conn, "fn_create_project", "Real", "acme-real", ACME)
        assert created["succeeded"] is True
        assert created["entity"]["organization"]["id"] == ACME
        assert conn.execute("SELECT count(*) AS n FROM pg_temp.tb_project").fetchone()["n"] == 0
        # GLOBEX in the temp table did not make globex visible to the lookup.
        assert saas.call(conn, "fn_create_project", "x", "planted", GLOBEX)["status_detail"] == "noop:not_found"


# -- observers ------------------------------------------------------------------------------

def events(saas, entity_id=None) -> list[tuple]:
    query = ("SELECT subject, entity, entity_id::text, operation, tenant_id::text, data, transaction_id::text "
             "FROM app_private.tb_outbox_event")
    if entity_id is not None:
        return saas.admin(query + " WHERE entity_id = %s", (entity_id,))
    return saas.admin(query)


def test_creating_a_project_writes_one_event_and_one_activity_row_in_the_same_transaction(saas):
    with saas.request(ALICE, ACME) as conn:
        created = saas.call(conn, "fn_create_project", "Launchpad", "acme-launchpad", ACME)
        xid = conn.execute("SELECT pg_current_xact_id()::text AS x").fetchone()["x"]
        activity = conn.execute("SELECT data FROM app.v_activity").fetchall()
        conn.commit()
    project_id = str(created["entity_id"])
    [event] = events(saas, project_id)
    subject, entity, entity_id, operation, tenant, data, transaction_id = event
    assert (subject, entity, entity_id, operation, tenant) == ("saas.project.created", "Project", project_id, "INSERT", ACME)
    assert data == created["entity"]  # the view's data, as the API shows it
    assert transaction_id == xid
    [row] = [a["data"] for a in activity]
    assert (row["entity_type"], row["entity_id"], row["action"], row["actor_id"]) == ("Project", project_id, "created", ALICE)
    assert row["organization"]["id"] == ACME
    # Visible in the activity feed to acme only.
    with saas.request(ANNA, ACME) as conn:
        assert conn.execute("SELECT count(*) AS n FROM app.v_activity").fetchone()["n"] == 1
    from tests.sqlgen.conftest import BOB
    with saas.request(BOB, GLOBEX) as conn:
        assert conn.execute("SELECT count(*) AS n FROM app.v_activity").fetchone()["n"] == 0


def test_each_observed_change_writes_exactly_one_event(saas):
    with saas.request(ALICE, ACME, commit=True) as conn:
        ids = [saas.call(conn, "fn_create_project", f"P{i}", f"acme-p{i}", ACME)["entity_id"] for i in range(3)]
        saas.call(conn, "fn_update_project", ids[0], "renamed")  # UPDATE is not observed
        saas.call(conn, "fn_delete_project", ids[1])
    assert sorted(e[0] for e in events(saas, str(ids[0]))) == ["saas.project.created"]
    deleted = events(saas, str(ids[1]))
    assert sorted(e[0] for e in deleted) == ["saas.project.created", "saas.project.deleted"]
    assert [e[5]["identifier"] for e in deleted if e[3] == "DELETE"] == ["acme-p1"]  # data from before the delete
    assert len(events(saas)) == 4


def test_failed_or_rolled_back_changes_write_no_event(saas):
    with saas.request(ALICE, ACME, commit=True) as conn:
        assert saas.call(conn, "fn_create_project", "Dup", "acme-rockets", ACME)["succeeded"] is False
    with saas.request(ALICE, ACME, commit=False) as conn:
        assert saas.call(conn, "fn_create_project", "Gone", "acme-gone", ACME)["succeeded"] is True
    assert events(saas) == []
    assert saas.admin("SELECT count(*) FROM app.tb_activity")[0][0] == 0


def test_the_api_role_cannot_read_or_forge_foreign_events(saas):
    with saas.request(ALICE, ACME, commit=True) as conn:
        saas.call(conn, "fn_create_project", "P", "acme-p", ACME)
    with saas.request(ALICE, ACME) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM app_private.tb_outbox_event").fetchall()
    with saas.request(ALICE, ACME) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO app_private.tb_outbox_event (subject, entity, entity_id, operation, tenant_id) "
                         "VALUES ('x', 'Project', gen_random_uuid(), 'INSERT', %s)", (GLOBEX,))


def test_observers_notify_on_commit(saas):
    with psycopg.connect(saas.url, autocommit=True) as listener:
        listener.execute("LISTEN fraisec_outbox")
        with saas.request(ALICE, ACME, commit=True) as conn:
            saas.call(conn, "fn_create_project", "P", "acme-p", ACME)
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert len(notes) == 1 and '"saas.project.created"' in notes[0].payload
