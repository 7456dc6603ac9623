"""rls.md section 5: the catalog checks to run after applying the generated schema."""

from __future__ import annotations

import re

import pytest

EXPOSED = ("app", "app_private")
# Read and deleted by the relay as the owner; the API role has no privilege on it at all.
OUTBOX = "tb_outbox_event"
# SECURITY DEFINER is allowed only in app_private (the context helpers and observers).
DEFINER_SCHEMA = "app_private"


@pytest.fixture
def catalog(saas_fresh):
    return saas_fresh.admin


def test_1_every_table_has_rls_and_a_policy_and_is_forced(catalog):
    """The identity tables too: the definer helpers read them as a narrow role with its own
    policy, not as the owner, so nothing needs the owner's exemption from RLS."""
    rows = catalog("""
        SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (%s)""", (list(EXPOSED),))
    assert len(rows) == 8
    for schema, table, enabled, forced, policies in rows:
        assert enabled, table
        assert policies >= 1, table
        assert forced or table == OUTBOX, table


def test_2_views_are_security_invoker_and_no_matview_is_granted(catalog):
    rows = catalog("""
        SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'v' AND n.nspname = ANY (%s)""", (list(EXPOSED),))
    assert {r[0] for r in rows} == {"v_organization", "v_user", "v_membership", "v_project", "v_task", "v_activity",
                                    "v_invitation"}
    for name, options in rows:
        assert "security_invoker=true" in (options or []), name
    assert catalog("""
        SELECT count(*) FROM pg_class c WHERE c.relkind = 'm'
          AND has_table_privilege('app_user', c.oid, 'SELECT')""")[0][0] == 0


def test_3_functions_pin_search_path_and_are_not_executable_by_public(catalog):
    rows = catalog("""
        SELECT n.nspname, p.proname, p.proconfig, p.prosecdef,
               has_function_privilege('public', p.oid, 'EXECUTE')
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY (%s)""", (list(EXPOSED),))
    assert len(rows) > 10
    for schema, name, config, secdef, public in rows:
        assert any(c.startswith("search_path=") for c in config or []), name
        assert public is False, name
        if secdef:
            assert schema == DEFINER_SCHEMA, name


def test_4_policy_expressions_have_the_safe_shape(catalog):
    rows = catalog("""
        SELECT c.relname, p.polname, p.polpermissive,
               pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
               EXISTS (SELECT FROM pg_policy g WHERE g.polrelid = p.polrelid AND NOT g.polpermissive)
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid""")
    assert rows
    for table, name, permissive, using, check in (r[:5] for r in rows):
        for text in (using, check):
            if text is None:
                continue
            assert not re.search(r"IN \( SELECT", text), (name, text)
            assert "current_setting(" not in text or "NULLIF" in text, (name, text)
            # A function call with a column argument would run once per row.
            assert not re.search(r"\w+\.\w+\((?!\))", text), (name, text)
    for table, name, permissive, using, check, guarded in rows:
        if permissive and check == "true" and table != "tb_activity":  # the observer's own insert
            assert guarded, f"{table}.{name}: permissive WITH CHECK (true) without a restrictive guard"


def test_4b_policies_read_context_once_per_statement(catalog):
    """Every helper call in a policy is wrapped, so PostgreSQL evaluates it as an InitPlan."""
    for using, check in catalog("SELECT pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid) FROM pg_policy"):
        for text in (using or "", check or ""):
            for call in re.finditer(r"app_private\.fn_\w+\(\)", text):
                before = text[: call.start()].rstrip()
                assert before.endswith("SELECT"), text


def test_5_api_role_is_powerless_outside_rls(catalog):
    assert catalog("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = 'app_user'") == [(False, False)]
    assert catalog("""
        SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'app_user'
    """)[0][0] == 0
    assert catalog("""
        SELECT count(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = 'app_user'
    """)[0][0] == 0
    for privilege in ("TRUNCATE", "REFERENCES", "TRIGGER"):
        granted = catalog("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY (%s) AND c.relkind IN ('r', 'v')
              AND has_table_privilege('app_user', c.oid, %s)""", (list(EXPOSED), privilege))
        assert granted == [], privilege
    assert catalog("SELECT has_database_privilege('public', current_database(), 'TEMPORARY')") == [(False,)]


def test_objects_are_owned_by_the_owner_role_and_definers_by_narrow_roles(catalog):
    owners = catalog("""
        SELECT DISTINCT r.rolname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = c.relowner
        WHERE n.nspname = ANY (%s)
        UNION
        SELECT DISTINCT r.rolname FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles r ON r.oid = p.proowner
        WHERE n.nspname = ANY (%s) AND NOT p.prosecdef""", (list(EXPOSED), list(EXPOSED)))
    assert owners == [("app_owner",)]
    definers = catalog("""
        SELECT p.proname, r.rolname, r.rolsuper, r.rolbypassrls, r.rolcanlogin FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles r ON r.oid = p.proowner
        WHERE n.nspname = ANY (%s) AND p.prosecdef""", (list(EXPOSED),))
    assert definers
    for name, owner, superuser, bypass, login in definers:
        expected = "app_observer" if name.startswith("fn_observe_") else "app_context"
        assert (owner, superuser, bypass, login) == (expected, False, False, False), name


def test_every_foreign_key_and_tenant_column_is_indexed(catalog):
    """A foreign key's columns lead some index (otherwise deletes of the parent scan)."""
    unindexed = catalog("""
        SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c
        JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE c.contype = 'f' AND n.nspname = 'app'
          AND NOT EXISTS (
            SELECT FROM pg_index i WHERE i.indrelid = c.conrelid
              AND (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] = c.conkey)""")
    assert unindexed == []


def test_functions_the_owner_creates_later_are_not_executable_by_public(saas_fresh):
    """Hand-written functions (db/) get no PUBLIC EXECUTE either: the owner's default privileges."""
    with __import__("psycopg").connect(saas_fresh.url) as conn:
        conn.execute("SET ROLE app_owner")
        conn.execute("CREATE FUNCTION app.fn_later() RETURNS int LANGUAGE sql SET search_path = '' AS 'SELECT 1'")
        assert conn.execute("SELECT has_function_privilege('public', 'app.fn_later()', 'EXECUTE')").fetchone()[0] is False
