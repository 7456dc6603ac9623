"""The policy shape of ``[distribution] engine = "citus"`` keeps tenants apart as the rls shape does.

On Citus the generated policies hold no subquery and no RESTRICTIVE guard (docs/scale-out.md,
"Row-level security"): each permissive policy is split by command and role and carries the
guards AND'ed in (render.policy_fold), the helpers are called directly, the set-valued ones
return arrays. Citus is not installable here; what can be proven on PostgreSQL is that this
shape admits exactly what the rls shape admits. So the tenancy and isolation tests of the rls
shape run again below against examples/saas compiled for Citus, and the behaviour tests of
examples/blog (roles, soft delete, audit, search, counts) against the blog compiled for Citus
(their functions are imported, the ``saas`` and ``blog`` fixtures overridden), plus checks of
the shape itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fraisec.api import schema_sql
from tests.sqlgen import test_blog, test_isolation, test_tenancy
from tests.sqlgen.conftest import ACME, CAROL, EXAMPLE, SEED, Saas, template_database
from tests.sqlgen.test_isolation import saas_with_temp  # noqa: F401  (a fixture the tests use)

# Tests about the rls shape itself (its RESTRICTIVE guard), or about every example.
_RLS_SHAPE_ONLY = {"test_without_each_protection_the_read_test_would_fail",
                   "test_every_function_of_every_example_pins_pg_temp_last"}
for _module in (test_tenancy, test_isolation, test_blog):
    for _name, _test in vars(_module).items():
        if _name.startswith("test_") and callable(_test) and _name not in _RLS_SHAPE_ONLY:
            globals()[_name] = _test


def _compiled_for_citus(example: Path, tmp: Path) -> str:
    """schema.sql of an example whose fraisec.toml says ``[distribution] engine = "citus"``."""
    root = tmp / example.name
    shutil.copytree(example, root, ignore=shutil.ignore_patterns("build", "migrations"))
    with (root / "fraisec.toml").open("a", encoding="utf-8") as config:
        config.write('\n[distribution]\nengine = "citus"\n')
    text, diagnostics = schema_sql(str(root / "schema.py"))
    assert text is not None, diagnostics
    return text


@pytest.fixture(scope="module")
def citus_sql(tmp_path_factory) -> str:
    return _compiled_for_citus(EXAMPLE, tmp_path_factory.mktemp("citus"))


@pytest.fixture(scope="module")
def citus_template(pg_server, citus_sql) -> str:
    return template_database(pg_server, "saas_citus", citus_sql, SEED)


@pytest.fixture(scope="module")
def blog_template(pg_server, tmp_path_factory) -> str:
    text = _compiled_for_citus(test_blog.BLOG, tmp_path_factory.mktemp("citus_blog"))
    return template_database(pg_server, "blog_citus", text, test_blog.SEED)


@pytest.fixture
def blog(make_db, blog_template) -> Saas:
    return Saas(make_db(template=blog_template))


@pytest.fixture
def saas(make_db, citus_template) -> Saas:
    return Saas(make_db(template=citus_template))


@pytest.fixture
def saas_fresh(make_db, citus_sql) -> Saas:
    return Saas(make_db(citus_sql + SEED))


@pytest.mark.parametrize("example", ["saas", "blog"])
def test_no_policy_holds_a_subquery_or_is_restrictive(request, example):
    """What Citus requires of a table's policies (commands/policy.c), on the applied catalog."""
    rows = request.getfixturevalue(example).admin("SELECT polrelid::regclass::text, polname, polpermissive, "
                      "coalesce(polqual::text, '') || coalesce(polwithcheck::text, '') "
                      "FROM pg_policy ORDER BY 1, 2")
    assert len(rows) > 20
    assert [r[:2] for r in rows if not r[2]] == []
    assert [r[:2] for r in rows if "{SUBLINK " in r[3]] == []


def test_every_api_policy_carries_the_guard_of_its_table(saas):
    """Each permissive policy of the API role on a tenant table names the tenant column: a
    later permissive policy cannot widen another (there is no RESTRICTIVE guard to cross)."""
    rows = saas.admin("SELECT c.relname, p.polname, pg_get_expr(coalesce(p.polqual, p.polwithcheck), p.polrelid) "
                      "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
                      "WHERE 'app_user'::regrole = ANY (p.polroles) AND EXISTS ("
                      "  SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'fk_organization') "
                      "ORDER BY 1, 2")
    assert rows and all("fk_organization" in rule for _, _, rule in rows), rows


def test_without_the_folded_guard_the_read_test_would_fail(saas):
    """Negative control: a permissive SELECT policy without the guard lets Carol, a member of
    both organizations who selected acme, read globex's projects."""
    saas.admin("DROP POLICY rls_project_select_app_user ON app.tb_project")
    saas.admin("CREATE POLICY rls_project_select_app_user ON app.tb_project FOR SELECT TO app_user USING (true)")
    with saas.request(CAROL, ACME) as conn:
        seen = {r["i"] for r in conn.execute("SELECT data->>'identifier' AS i FROM app.v_project")}
    assert "globex-doomsday" in seen


def test_the_citus_settings_of_the_helpers_are_not_schema_drift(saas, make_db, citus_template):
    """distribution.sql sets citus.allow_nested_distributed_execution on the context helpers
    (they read the identity tables inside shard queries); fraisec diff ignores Citus's own
    settings, so a cluster with them has no drift against the schema."""
    from tests.helpers import run_cli

    saas.admin("ALTER FUNCTION app_private.fn_current_tenant_pk() "
               "SET citus.allow_nested_distributed_execution = on")
    config = saas.admin("SELECT proconfig FROM pg_proc WHERE proname = 'fn_current_tenant_pk'")[0][0]
    assert "citus.allow_nested_distributed_execution=on" in config
    result = run_cli("--no-color", "diff", "--exit-code", make_db(template=citus_template), saas.url)
    assert result.exit_code == 0, result.output
    # and a real difference in the same function is still one
    saas.admin("ALTER FUNCTION app_private.fn_current_tenant_pk() SET work_mem = '1MB'")
    result = run_cli("--no-color", "diff", "--exit-code", make_db(template=citus_template), saas.url)
    assert result.exit_code == 3 and "fn_current_tenant_pk" in result.output, result.output
