"""Hand-written privileged mutations: declared (privileged=True), narrow (the entity's
privileged=(…) commands only), and checked like every db/ function: SECURITY DEFINER with a
pinned search_path, the tenant from the context helpers, owned by the privileged role once
applied; a definer function nobody declared is refused."""

from __future__ import annotations

import pytest

from fraisec.api import check_in_shadow, check_sql_sources, load_ir
from fraisec.render import render_privileged_sql, render_schema_sql
from tests.helpers import codes, write_schema
from tests.validate.test_lifecycle_declarations import BASE

SCHEMA = BASE + '''
@fq.entity(tenant=True, privileged=("SELECT", "DELETE"))
class Doc:
    org: Org
    title: str


@fq.mutation(sql_source="fn_drop_docs", privileged=True)
def drop_docs(title: str) -> Doc: ...
'''

GOOD = """
CREATE FUNCTION app_private.fn_drop_docs(p_title text) RETURNS app.mutation_response
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant bigint := (SELECT app_private.fn_current_tenant_pk());
BEGIN
    DELETE FROM app.tb_doc d WHERE d.fk_org = v_tenant AND d.title = p_title;
    RETURN app_private.fn_mutation_success('deleted', 200, 'ok', NULL, 'Doc', NULL, NULL);
END
$$;
"""


def _schema(tmp_path, text: str = SCHEMA):
    schema, diagnostics = load_ir(str(write_schema(tmp_path, text)))
    return schema, diagnostics


@pytest.mark.parametrize("sql, code", [
    (GOOD, None),
    (GOOD.replace("SECURITY DEFINER ", ""), "FSC251"),
    (GOOD.replace(" SET search_path = pg_catalog, pg_temp", ""), "FSC251"),
    (GOOD.replace("pg_catalog, pg_temp", "app, pg_catalog, pg_temp"), "FSC251"),
    (GOOD.replace("pg_catalog, pg_temp", "pg_catalog, pg_temp, app"), "FSC251"),
    # the tenant from an argument, or nowhere: the helper is mentioned only in a comment
    (GOOD.replace("(SELECT app_private.fn_current_tenant_pk())", "NULL -- fn_current_tenant_pk()"), "FSC252"),
    # in the API schema, where the runtime could call it directly: fraisec's entry point goes there
    (GOOD.replace("app_private.fn_drop_docs", "app.fn_drop_docs"), "FSC214"),
])
def test_the_contract_check_reads_the_privileged_body(tmp_path, sql, code):
    schema, diagnostics = _schema(tmp_path)
    assert codes(diagnostics) == []
    found = check_sql_sources(schema, [("db/fn_drop_docs.sql", sql)])
    assert codes(found) == ([code] if code else []), [str(d) for d in found]


def test_an_undeclared_definer_function_is_refused(tmp_path):
    schema, _ = _schema(tmp_path, SCHEMA.replace(", privileged=True", ""))
    assert codes(check_sql_sources(schema, [("db/fn_drop_docs.sql", GOOD)])) == ["FSC253"]
    assert codes(check_sql_sources(schema, [("db/fn_drop_docs.sql", GOOD.replace("DEFINER", "INVOKER"))])) == []


@pytest.mark.parametrize("text", [
    SCHEMA.replace("def drop_docs(title: str)", "def drop_docs(org_id: ID)"),  # the tenant as an argument
    SCHEMA.replace('privileged=True)', 'privileged=True, inject={"org_id": "jwt:org_id"})'),
])
def test_a_privileged_mutation_never_takes_its_tenant_as_an_argument(tmp_path, text):
    assert codes(_schema(tmp_path, text)[1]) == ["FSC252"]


@pytest.mark.parametrize("text", [
    SCHEMA.replace('sql_source="fn_drop_docs", ', ""),  # not hand-written
    SCHEMA.replace('privileged=("SELECT", "DELETE")', 'privileged=("TRUNCATE",)'),
])
def test_privileged_misdeclarations(tmp_path, text):
    assert codes(_schema(tmp_path, text)[1]) == ["FSC251"]


def test_applied_it_is_owned_by_the_privileged_role_and_checked_in_the_shadow(tmp_path):
    schema, _ = _schema(tmp_path)
    assert check_in_shadow(schema, [("schema.sql", render_schema_sql(schema)), ("db/fn_drop_docs.sql", GOOD)]) == []
    assert "OWNER TO app_privileged" in render_privileged_sql(schema)
    # Without privileged.sql the function stays the owner's: a database read says so.
    from fraisec.catalog.shadow import catalog_from_sql
    from fraisec.validate import sql_sources

    catalog = catalog_from_sql([("schema.sql", render_schema_sql(schema)), ("db/fn_drop_docs.sql", GOOD)])
    found = sql_sources.check_sql_sources(schema, sql_sources.from_catalog(catalog, {"fn_drop_docs"}))
    assert codes(found) == ["FSC251"] and "not app_privileged" in found[0].message


def test_the_teams_example_passes_the_static_contract_check():
    """Its privileged leave_tenant, and its filtered view v_invitation_pending (generated, not
    looked for in db/)."""
    from fraisec.sqlfiles import read_sql_dir
    from tests.conftest import REPO

    schema, diagnostics = load_ir(str(REPO / "examples" / "teams" / "schema.py"))
    assert codes(diagnostics) == []
    assert check_sql_sources(schema, read_sql_dir(REPO / "examples" / "teams" / "db")) == []
