"""Each rule's fixture, applied to real PostgreSQL, shows the problem the rule reports.

Tenants are organisations 1 (acme) and 2 (globex); the API role is app_user; a request sets
``app.tenant`` / ``app.user`` with set_config(…, true), as the runtime does.
"""

from __future__ import annotations

import psycopg
import pytest

from .conftest import fixture_sql, run_request

ACME = {"app.tenant": "1", "app.user": "1"}
PROJECTS = ("INSERT INTO tb_project (fk_organization, identifier) VALUES "
            "(1, 'acme-rockets'), (1, 'acme-anvils'), (2, 'globex-doomsday'), (2, 'globex-hammock')")
ORGANIZATIONS = "INSERT INTO tb_organization (pk_organization, plan) VALUES (1, 'pro'), (2, 'pro')"
MEMBERSHIPS = "INSERT INTO tb_membership (fk_organization, fk_user) VALUES (1, 1), (1, 3), (2, 2)"


def test_fsc301_self_referencing_policy_recurses(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC301"), seed=MEMBERSHIPS)
    with pytest.raises(psycopg.errors.InvalidObjectDefinition,
                       match='infinite recursion detected in policy for relation "tb_membership"'):
        db.as_role("SELECT * FROM tb_membership", settings=ACME)


def test_fsc301_forced_helper_overflows_the_stack(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC301_forced_helper"), seed=MEMBERSHIPS)
    with pytest.raises(psycopg.errors.StatementTooComplex, match="stack depth limit exceeded"):
        db.as_role("SELECT * FROM tb_membership", settings=ACME)
    # Without FORCE the owner-run helper is not subject to the policy, and it works.
    db.superuser("ALTER TABLE tb_membership NO FORCE ROW LEVEL SECURITY")
    rows = db.as_role("SELECT fk_organization, fk_user FROM tb_membership ORDER BY 2", settings=ACME)
    assert rows == [(1, 1), (1, 3)]


def test_fsc302_definer_view_returns_other_tenants_rows(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC302"), seed=PROJECTS)
    assert db.as_role("SELECT count(*) FROM tb_project", settings=ACME) == [(2,)]
    leaked = db.as_role("SELECT identifier FROM v_project WHERE fk_organization = 2 ORDER BY 1",
                        settings=ACME)
    assert leaked == [("globex-doomsday",), ("globex-hammock",)]
    db.superuser("ALTER VIEW v_project SET (security_invoker = true)")
    assert db.as_role("SELECT count(*) FROM v_project WHERE fk_organization = 2", settings=ACME) == [(0,)]


def test_fsc303_owner_bypasses_unforced_rls(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC303"), seed=PROJECTS)
    assert db.as_role("SELECT count(*) FROM tb_project", settings=ACME) == [(2,)]
    assert db.as_role("SELECT count(*) FROM tb_project", role="app_owner", settings=ACME) == [(4,)]
    db.superuser("ALTER TABLE tb_project FORCE ROW LEVEL SECURITY")
    assert db.as_role("SELECT count(*) FROM tb_project", role="app_owner", settings=ACME) == [(2,)]


def test_fsc304_rls_without_policy_denies_everything(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC304"), seed=PROJECTS)
    assert db.as_role("SELECT count(*) FROM tb_project", settings=ACME) == [(0,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege,
                       match='new row violates row-level security policy for table "tb_project"'):
        db.as_role("INSERT INTO tb_project (fk_organization, identifier) VALUES (1, 'x')",
                   settings=ACME)


def test_fsc305_policy_without_rls_is_ignored(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC305"), seed=PROJECTS)
    assert db.as_role("SELECT count(*) FROM tb_project", settings=ACME) == [(4,)]
    db.superuser("ALTER TABLE tb_project ENABLE ROW LEVEL SECURITY")
    assert db.as_role("SELECT count(*) FROM tb_project", settings=ACME) == [(2,)]


def test_fsc306_current_setting_errors_on_pooled_and_fresh_connections(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC306"), seed=PROJECTS)
    with psycopg.connect(db.url) as conn:
        assert run_request(conn, "SELECT count(*) FROM tb_project", role="app_user",
                           settings=ACME) == [(2,)]
        # The next request on the same (pooled) connection sets no tenant: '' not NULL.
        with pytest.raises(psycopg.errors.InvalidTextRepresentation,
                           match='invalid input syntax for type bigint: ""'):
            run_request(conn, "SELECT count(*) FROM tb_project", role="app_user")
    with pytest.raises(psycopg.errors.UndefinedObject,
                       match='unrecognized configuration parameter "app.tenant"'):
        db.as_role("SELECT fn_current_tenant()")
    # The NULLIF form fails closed instead: 0 rows, no error.
    db.superuser("DROP POLICY tb_project_tenant ON tb_project; CREATE POLICY tb_project_tenant "
                 "ON tb_project TO app_user USING (fk_organization = "
                 "(SELECT NULLIF(current_setting('app.tenant', true), '')::bigint))")
    with psycopg.connect(db.url) as conn:
        run_request(conn, "SELECT 1", role="app_user", settings=ACME)
        assert run_request(conn, "SELECT count(*) FROM tb_project", role="app_user") == [(0,)]


_MANY_PROJECTS = """
INSERT INTO tb_project (fk_organization, identifier)
SELECT (i % 200) + 1, 'project-' || i FROM generate_series(1, 20000) AS i;
"""


def _plan(db, query: str, settings: dict[str, str]) -> str:
    rows = db.as_role(f"EXPLAIN (COSTS OFF) {query}", settings=settings)
    return "\n".join(r[0] for r in rows)


def test_fsc307_in_subselect_policy_is_a_hashed_subplan(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC307"), seed=MEMBERSHIPS + ";" + _MANY_PROJECTS +
                   "; ANALYZE tb_project; ANALYZE tb_membership")
    query = "SELECT count(*) FROM tb_project"
    assert db.as_role(query, settings=ACME) == [(100,)]
    plan = _plan(db, query, ACME)
    assert "hashed SubPlan" in plan and "Index Cond" not in plan, plan
    # The same rule as = ANY (ARRAY(SELECT …)) is an InitPlan and an index condition.
    db.superuser("DROP POLICY tb_project_member ON tb_project; CREATE POLICY tb_project_member "
                 "ON tb_project TO app_user USING (fk_organization = ANY (ARRAY("
                 "SELECT m.fk_organization FROM tb_membership m)))")
    assert db.as_role(query, settings=ACME) == [(100,)]
    plan = _plan(db, query, ACME)
    assert "Index Cond: (fk_organization = ANY" in plan and "hashed SubPlan" not in plan, plan


def test_fsc308_row_function_runs_per_row(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC308"), seed=_MANY_PROJECTS + "; ANALYZE tb_project")
    query = "SELECT count(*) FROM tb_project"
    assert db.as_role(query, settings=ACME) == [(100,)]
    rows = db.as_role(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {query}", settings=ACME)
    plan = "\n".join(r[0] for r in rows)
    assert "Index Cond" not in plan, plan
    assert "loops=20000" in plan, plan  # the wrapped call still runs once per row


def test_fsc309_insert_with_check_true_plants_rows_in_another_tenant(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC309"), seed=PROJECTS)
    db.as_role("INSERT INTO tb_project (fk_organization, identifier) VALUES (2, 'planted-by-acme')",
               settings=ACME)
    assert db.superuser("SELECT fk_organization FROM tb_project WHERE identifier = 'planted-by-acme'") == [(2,)]
    db.superuser("CREATE POLICY tb_project_tenant_guard ON tb_project AS RESTRICTIVE FOR ALL "
                 "TO app_user USING (fk_organization = (SELECT NULLIF(current_setting("
                 "'app.tenant', true), '')::bigint)) WITH CHECK (fk_organization = (SELECT "
                 "NULLIF(current_setting('app.tenant', true), '')::bigint))")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="tb_project_tenant_guard"):
        db.as_role("INSERT INTO tb_project (fk_organization, identifier) VALUES (2, 'again')",
                   settings=ACME)


_HIJACK = """
CREATE TEMP TABLE tb_membership (fk_organization bigint, fk_user bigint);
INSERT INTO tb_membership VALUES (2, 1);
GRANT SELECT ON tb_membership TO PUBLIC;
"""


def _hijack(db) -> tuple[bool, bool]:
    """(honest answer, answer after the caller shadows tb_membership with a TEMP table)."""
    db.superuser("GRANT TEMPORARY ON DATABASE " + db.superuser("SELECT current_database()")[0][0]
                 + " TO app_user")
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("SELECT set_config('app.user', '1', false)")
        conn.execute("SET ROLE app_user")
        honest = conn.execute("SELECT fn_is_member_of(2)").fetchone()[0]
        conn.execute(_HIJACK)
        hijacked = conn.execute("SELECT fn_is_member_of(2)").fetchone()[0]
    return honest, hijacked


def test_fsc310_unpinned_definer_trusts_the_callers_tables(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC310"), seed=MEMBERSHIPS)
    assert _hijack(db) == (False, True)


def test_fsc311_definer_with_unqualified_names_is_shadowed_by_pg_temp(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC311"), seed=MEMBERSHIPS)
    assert _hijack(db) == (False, True)
    db.superuser("ALTER FUNCTION fn_is_member_of(bigint) SET search_path = public, pg_temp")
    assert _hijack(db) == (False, False)


def test_fsc312_public_execute_lets_the_api_role_run_a_definer(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC312"), seed=ORGANIZATIONS)
    assert db.superuser("SELECT has_function_privilege('app_user', 'fn_set_plan(bigint, text)', "
                        "'EXECUTE')") == [(True,)]
    db.as_role("SELECT fn_set_plan(2, 'free-forever')", settings=ACME)
    assert db.superuser("SELECT plan FROM tb_organization WHERE pk_organization = 2") == [("free-forever",)]
    db.superuser("REVOKE ALL ON FUNCTION fn_set_plan(bigint, text) FROM PUBLIC")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for function"):
        db.as_role("SELECT fn_set_plan(2, 'free')", settings=ACME)


def test_fsc313_unindexed_tenant_column_scans_the_table(tenant_db) -> None:
    seed = ("INSERT INTO tb_activity (fk_organization, action) SELECT (i % 200) + 1, 'x' "
            "FROM generate_series(1, 20000) AS i; ANALYZE tb_activity")
    db = tenant_db(fixture_sql("FSC313"), seed=seed)
    query = "SELECT count(*) FROM tb_activity"
    plan = _plan(db, query, ACME)
    assert "Seq Scan on tb_activity" in plan and "Index Cond" not in plan, plan
    db.superuser("CREATE INDEX ON tb_activity (fk_organization); ANALYZE tb_activity")
    assert "Index Cond: (fk_organization = $0)" in _plan(db, query, ACME)


def test_fsc314_global_unique_is_an_existence_oracle(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC314"), seed=PROJECTS)
    assert db.as_role("SELECT count(*) FROM tb_project WHERE identifier = 'globex-doomsday'",
                      settings=ACME) == [(0,)]
    with pytest.raises(psycopg.errors.UniqueViolation, match="uq_project_identifier_global"):
        db.as_role("INSERT INTO tb_project (fk_organization, identifier) VALUES (1, 'globex-doomsday')",
                   settings=ACME)


# Matviews are often created or refreshed by the migrations superuser, who bypasses RLS.
_REFRESH_AS_SUPERUSER = "; ALTER MATERIALIZED VIEW mv_project OWNER TO postgres; REFRESH MATERIALIZED VIEW mv_project"


def test_fsc315_granted_matview_returns_every_tenant(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC315"), seed=PROJECTS + _REFRESH_AS_SUPERUSER)
    assert db.as_role("SELECT count(*) FROM tb_project", settings=ACME) == [(2,)]
    assert db.as_role("SELECT count(*) FROM mv_project", settings=ACME) == [(4,)]
    with pytest.raises(psycopg.errors.WrongObjectType):
        db.superuser("ALTER TABLE mv_project ENABLE ROW LEVEL SECURITY")


_VIEW_IN_POLICY = """
CREATE TABLE tb_m (pk bigint PRIMARY KEY, fk_organization bigint, fk_user bigint,
  UNIQUE (fk_organization, fk_user));
CREATE VIEW v_m AS SELECT fk_organization, fk_user FROM tb_m;
ALTER TABLE tb_m ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON tb_m USING (fk_organization = ANY (ARRAY(SELECT v.fk_organization FROM v_m v
  WHERE v.fk_user = (SELECT NULLIF(current_setting('app.user', true), '')::bigint))));
GRANT SELECT ON tb_m, v_m TO app_user;
"""


def test_fsc301_definer_view_in_a_policy_recurses_only_when_forced(tenant_db) -> None:
    """What FSC301 assumes about views read by a policy (see rules/policies.py)."""
    db = tenant_db(_VIEW_IN_POLICY, seed="INSERT INTO tb_m VALUES (1, 1, 1), (2, 1, 3), (3, 2, 2)")
    assert db.as_role("SELECT count(*) FROM tb_m", settings=ACME) == [(2,)]
    db.superuser("ALTER TABLE tb_m FORCE ROW LEVEL SECURITY")
    with pytest.raises(psycopg.errors.InvalidObjectDefinition, match="infinite recursion"):
        db.as_role("SELECT count(*) FROM tb_m", settings=ACME)


# -- issue 11: the classes an outside attack battery found -------------------------------------

POSTS = ("INSERT INTO tb_post (fk_organization, identifier) VALUES "
         "(1, 'acme-hello'), (1, 'acme-news'), (2, 'globex-plans'), (2, 'globex-secrets')")


def test_fsc316_extra_permissive_policy_reads_every_tenant(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC316"), seed=POSTS)
    leaked = db.as_role("SELECT identifier FROM tb_post ORDER BY 1", settings=ACME)
    assert leaked == [("acme-hello",), ("acme-news",), ("globex-plans",), ("globex-secrets",)]
    # The same rule as a RESTRICTIVE policy is AND'ed: acme's live posts only.
    db.superuser("DROP POLICY tb_post_exclude_deleted ON tb_post; CREATE POLICY "
                 "tb_post_exclude_deleted ON tb_post AS RESTRICTIVE TO app_user "
                 "USING (deleted_at IS NULL)")
    assert db.as_role("SELECT identifier FROM tb_post ORDER BY 1", settings=ACME) == [
        ("acme-hello",), ("acme-news",)]


def test_fsc317_single_column_fk_references_another_tenant(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC317"), seed=PROJECTS)
    globex_project = db.superuser("SELECT pk_project FROM tb_project "
                                  "WHERE identifier = 'globex-doomsday'")[0][0]
    assert db.as_role("SELECT count(*) FROM tb_project WHERE pk_project = %s", [globex_project],
                      settings=ACME) == [(0,)]  # acme cannot see it...
    db.as_role("INSERT INTO tb_task (fk_organization, fk_project, title) VALUES (1, %s, 'spy')",
               [globex_project], settings=ACME)  # ...but may point at it
    assert db.superuser("SELECT p.fk_organization FROM tb_task t JOIN tb_project p "
                        "ON p.pk_project = t.fk_project WHERE t.title = 'spy'") == [(2,)]
    with pytest.raises(psycopg.errors.ForeignKeyViolation):  # and the error is an oracle
        db.as_role("INSERT INTO tb_task (fk_organization, fk_project, title) VALUES (1, 999, 'x')",
                   settings=ACME)
    db.superuser("DELETE FROM tb_task; ALTER TABLE tb_task DROP CONSTRAINT tb_task_fk_project_fkey; "
                 "ALTER TABLE tb_task ADD FOREIGN KEY (fk_organization, fk_project) "
                 "REFERENCES tb_project (fk_organization, pk_project)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        db.as_role("INSERT INTO tb_task (fk_organization, fk_project, title) VALUES (1, %s, 'spy')",
                   [globex_project], settings=ACME)


def test_fsc318_definer_plants_rows_in_the_tenant_it_is_given(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC318"), seed=PROJECTS)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.as_role("INSERT INTO tb_project (fk_organization, identifier) VALUES (2, 'direct')",
                   settings=ACME)
    db.as_role("SELECT fn_create_project(2, 'planted-by-acme')", settings=ACME)
    assert db.superuser("SELECT fk_organization FROM tb_project "
                        "WHERE identifier = 'planted-by-acme'") == [(2,)]


def test_fsc319_truncate_and_references_bypass_rls(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC319"), seed=PROJECTS)
    # REFERENCES (plus somewhere to create a table): a foreign key probes every tenant's keys.
    db.superuser("GRANT CREATE ON SCHEMA public TO app_user")
    globex_project = db.superuser("SELECT pk_project FROM tb_project "
                                  "WHERE identifier = 'globex-doomsday'")[0][0]
    db.as_role("CREATE TABLE probe (x bigint REFERENCES tb_project (pk_project))", settings=ACME)
    db.as_role("INSERT INTO probe VALUES (%s)", [globex_project], settings=ACME)  # exists
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        db.as_role("INSERT INTO probe VALUES (999)", settings=ACME)  # does not
    # TRUNCATE is not filtered: acme empties globex too.
    db.superuser("DROP TABLE probe")
    assert db.as_role("SELECT count(*) FROM tb_project", settings=ACME) == [(2,)]
    db.as_role("TRUNCATE tb_project", settings=ACME)
    assert db.superuser("SELECT count(*) FROM tb_project") == [(0,)]


def test_fsc320_view_where_is_no_tenant_boundary(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC320"), seed=PROJECTS)
    assert db.as_role("SELECT identifier FROM v_project ORDER BY 1", settings=ACME) == [
        ("acme-anvils",), ("acme-rockets",)]  # reads look isolated...
    db.as_role("INSERT INTO v_project (fk_organization, identifier) VALUES (2, 'planted')",
               settings=ACME)
    db.as_role("UPDATE v_project SET fk_organization = 2 WHERE identifier = 'acme-rockets'",
               settings=ACME)
    assert db.superuser("SELECT identifier FROM tb_project WHERE fk_organization = 2 "
                        "ORDER BY 1") == [("acme-rockets",), ("globex-doomsday",),
                                          ("globex-hammock",), ("planted",)]
    # RLS on the table and an invoker view: the same insert is refused.
    db.superuser("ALTER TABLE tb_project ENABLE ROW LEVEL SECURITY; CREATE POLICY t ON tb_project "
                 "TO app_user USING (fk_organization = (SELECT NULLIF(current_setting("
                 "'app.tenant', true), '')::bigint)); ALTER VIEW v_project SET "
                 "(security_invoker = true); GRANT SELECT, INSERT, UPDATE ON tb_project TO app_user")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        db.as_role("INSERT INTO v_project (fk_organization, identifier) VALUES (2, 'again')",
                   settings=ACME)


_SPY = """
CREATE FUNCTION pg_temp.spy(x pg_catalog.uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.set_config('spy.loot', current_user || ':' ||
    (SELECT pg_catalog.string_agg(email, ',' ORDER BY email) FROM public.tb_user), false);
  RETURN true;
END $$;
CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid CHECK (pg_temp.spy(VALUE));
"""


def _shadowed_call(db) -> str | None:
    """As app_user with TEMP: plant a temp domain named uuid, call the definer, read the loot."""
    db.superuser("DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO app_user', "
                 "current_database()); END $$")
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("SET ROLE app_user")
        conn.execute("SELECT set_config('app.user_id', '00000000-0000-0000-0000-0000000000a1', false)")
        conn.execute(_SPY)
        assert conn.execute("SELECT fn_current_user_pk()").fetchone() == (1,)
        return conn.execute("SELECT current_setting('spy.loot', true)").fetchone()[0]


_USERS = ("INSERT INTO tb_user (id, email) VALUES ('00000000-0000-0000-0000-0000000000a1', "
          "'alice@acme.test'), ('00000000-0000-0000-0000-0000000000b2', 'bob@globex.test')")


def test_fsc321_temp_domain_runs_as_the_definer(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC321"), seed=_USERS)
    assert db.superuser("SELECT has_table_privilege('app_user', 'tb_user', 'SELECT')") == [(False,)]
    assert _shadowed_call(db) == "app_owner:alice@acme.test,bob@globex.test"
    db.superuser("ALTER FUNCTION fn_current_user_pk() SET search_path = pg_catalog, pg_temp")
    assert _shadowed_call(db) in (None, "")


def test_fsc321_grammar_types_and_functions_are_not_shadowed(tenant_db) -> None:
    """What FSC321 leaves out: bigint (gram.y maps it to pg_catalog.int8) and function names."""
    db = tenant_db(fixture_sql("FSC321") + """
        CREATE FUNCTION fn_plain(p text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER
          SET search_path = '' AS $$ BEGIN RETURN lower(p) || (p::bigint)::text; END $$;
        GRANT EXECUTE ON FUNCTION fn_plain(text) TO app_user;""")
    from fraisec.lint import lint_sql

    codes = {d.code for d in lint_sql([("x.sql", "CREATE FUNCTION fn_plain(p text) RETURNS text "
                                       "LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' "
                                       "AS $$ BEGIN RETURN lower(p) || (p::bigint)::pg_catalog.text; "
                                       "END $$;")])}
    assert "FSC321" not in codes
    db.superuser("DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO app_user', "
                 "current_database()); END $$")
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("SET ROLE app_user")
        conn.execute("CREATE FUNCTION pg_temp.lower(x text) RETURNS text LANGUAGE sql "
                      "AS $$ SELECT 'hijacked' $$")
        conn.execute("CREATE FUNCTION pg_temp.spy8(x pg_catalog.int8) RETURNS boolean "
                     "LANGUAGE sql AS $$ SELECT pg_catalog.set_config('spy.loot', 'ran', false) "
                     "IS NOT NULL $$")
        conn.execute("CREATE DOMAIN pg_temp.bigint AS pg_catalog.int8 CHECK (pg_temp.spy8(VALUE))")
        conn.execute("CREATE DOMAIN pg_temp.int8 AS pg_catalog.int8 CHECK (pg_temp.spy8(VALUE))")
        assert conn.execute("SELECT fn_plain('7')").fetchone() == ("77",)
        assert conn.execute("SELECT current_setting('spy.loot', true)").fetchone()[0] in (None, "")


def test_fsc322_exposed_definer_reads_past_the_grants(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC322"),
                   seed="INSERT INTO app.tb_organization (plan) VALUES ('pro'), ('free')")
    assert db.superuser("SELECT has_table_privilege('app_user', 'app.tb_organization', "
                        "'SELECT')") == [(False,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.as_role("SELECT count(*) FROM app.tb_organization", settings=ACME)
    assert db.as_role("SELECT app.fn_organization_count()", settings=ACME) == [(2,)]


_NARROW_HELPER = """
CREATE SCHEMA app_private;
GRANT USAGE ON SCHEMA app_private TO app_user, app_helper;
CREATE TABLE tb_membership (pk bigint PRIMARY KEY, fk_organization bigint NOT NULL,
  fk_user bigint NOT NULL, UNIQUE (fk_organization, fk_user));
GRANT SELECT ON tb_membership TO app_user, app_helper;
ALTER TABLE tb_membership ENABLE ROW LEVEL SECURITY;
ALTER TABLE tb_membership FORCE ROW LEVEL SECURITY;
CREATE FUNCTION app_private.fn_orgs() RETURNS SETOF bigint LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT m.fk_organization FROM public.tb_membership m
        WHERE m.fk_user = NULLIF(current_setting('app.user', true), '')::bigint $$;
REVOKE ALL ON FUNCTION app_private.fn_orgs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_private.fn_orgs() TO app_user;
CREATE POLICY m_read ON tb_membership FOR SELECT TO app_user
  USING (fk_organization = ANY (ARRAY(SELECT app_private.fn_orgs())));
CREATE POLICY m_helper ON tb_membership FOR SELECT TO app_helper USING (true);
"""


def test_fsc301_forced_table_read_by_a_narrow_helper_role_does_not_recurse(tenant_db) -> None:
    """What FSC301 assumes about a helper owned by a role with its own policy (issue 11's
    "own the helpers by a dedicated role so that every table can be FORCEd")."""
    from fraisec.lint import lint_sql

    db = tenant_db("SELECT 1")
    db.superuser("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_helper') "
                 "THEN CREATE ROLE app_helper NOLOGIN; END IF; END $$")
    db.superuser(_NARROW_HELPER + "ALTER FUNCTION app_private.fn_orgs() OWNER TO app_helper;"
                 + MEMBERSHIPS.replace("(fk_organization, fk_user) VALUES (1, 1), (1, 3), (2, 2)",
                                       "VALUES (1, 1, 1), (2, 1, 3), (3, 2, 2)"))
    text = _NARROW_HELPER + "ALTER FUNCTION app_private.fn_orgs() OWNER TO app_helper;"
    assert "FSC301" not in {d.code for d in lint_sql([("m.sql", text)])}
    assert db.as_role("SELECT fk_user FROM tb_membership ORDER BY 1", settings=ACME) == [(1,), (3,)]
    # When the helper role's own policy calls the helper, it recurses, and FSC301 says so.
    looping = ("DROP POLICY m_helper ON tb_membership; CREATE POLICY m_helper ON tb_membership "
               "FOR SELECT TO app_helper USING (fk_organization = ANY (ARRAY(SELECT "
               "app_private.fn_orgs())));")
    db.superuser(looping + "GRANT EXECUTE ON FUNCTION app_private.fn_orgs() TO app_helper")
    relooped = text.replace("CREATE POLICY m_helper ON tb_membership FOR SELECT TO app_helper "
                            "USING (true);", looping.split("; ", 1)[1])
    assert relooped != text
    assert "FSC301" in {d.code for d in lint_sql([("m.sql", relooped)])}
    with pytest.raises(psycopg.errors.StatementTooComplex, match="stack depth limit exceeded"):
        db.as_role("SELECT fk_user FROM tb_membership", settings=ACME)


def test_fsc318_definer_deletes_in_the_tenant_it_is_given(tenant_db) -> None:
    db = tenant_db(fixture_sql("FSC318_delete"), seed=PROJECTS)
    db.as_role("SELECT fn_archive_own_project('globex-doomsday')", settings=ACME)  # scoped: nothing
    assert db.superuser("SELECT count(*) FROM tb_project WHERE fk_organization = 2") == [(2,)]
    db.as_role("SELECT fn_archive_projects(2, 'globex-doomsday')", settings=ACME)
    assert db.superuser("SELECT identifier FROM tb_project WHERE fk_organization = 2") == [
        ("globex-hammock",)]


def test_fsc319_owner_role_granted_to_the_api_role_disables_rls(tenant_db) -> None:
    """GRANT <owner> TO app_user: app_user inherits ownership and turns RLS off. (A role of its
    own, granted and revoked here: role membership is cluster-wide.)"""
    from fraisec.lint import lint_sql

    sql = fixture_sql("FSC319").replace("TRUNCATE", "SELECT").replace("GRANT REFERENCES", "GRANT SELECT")
    assert "FSC319" not in {d.code for d in lint_sql([("a.sql", sql)])}
    grant = "GRANT fsc319_owner TO app_user"
    assert "FSC319" in {d.code for d in lint_sql([("a.sql", sql + grant + ";")])}
    db = tenant_db(sql, seed=PROJECTS)
    db.superuser("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fsc319_owner') "
                 "THEN CREATE ROLE fsc319_owner NOLOGIN; END IF; END $$")
    db.superuser("ALTER TABLE tb_project OWNER TO fsc319_owner")
    assert db.as_role("SELECT count(*) FROM tb_project", settings=ACME) == [(2,)]
    try:
        db.superuser(grant)
        db.as_role("ALTER TABLE tb_project DISABLE ROW LEVEL SECURITY", settings=ACME)
        assert db.as_role("SELECT count(*) FROM tb_project", settings=ACME) == [(4,)]
    finally:
        db.superuser("REVOKE fsc319_owner FROM app_user")
