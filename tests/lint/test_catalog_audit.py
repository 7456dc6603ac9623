"""The catalog audit (``fraisec.lint.catalog``): the lint rules run on what PostgreSQL built.

Each rule's fixture is applied to a real PostgreSQL 15 and introspected; the audit of that
catalog must find what the linter finds in the text, located at the same file:line."""

from __future__ import annotations

import pytest

from fraisec.catalog.introspect import introspect_url
from fraisec.lint import LintConfig, lint_files
from fraisec.lint.catalog import audit_catalog

from .conftest import CLEAN_DIR, RULES_DIR
from .test_fixtures import CONFIG, FIXTURES


@pytest.mark.parametrize("name", FIXTURES)
def test_catalog_audit_finds_what_the_linter_finds(name: str, tenant_db) -> None:
    path = RULES_DIR / f"{name}.sql"
    text = path.read_text()
    db = tenant_db(text)
    catalog = introspect_url(db.url)
    found = audit_catalog(catalog, [(str(path), text)], CONFIG, fallback_file="migrations")
    linted = lint_files([path], CONFIG)
    expected = {(d.code, d.severity.value) for d in linted}
    assert {(d.code, d.severity.value) for d in found} == expected
    # Located in the fixture, where the linter put them (not on the catalog's own text).
    assert all(d.location.file == str(path) for d in found), [str(d.location) for d in found]
    # Given the linter's findings, the audit repeats none of them.
    assert audit_catalog(catalog, [(str(path), text)], CONFIG, fallback_file="migrations",
                         already=linted) == []


def test_recommended_shape_audits_clean(tenant_db) -> None:
    path = CLEAN_DIR / "recommended.sql"
    db = tenant_db(path.read_text())
    found = audit_catalog(introspect_url(db.url), [(str(path), path.read_text())], CONFIG,
                          fallback_file="migrations")
    assert [(d.code, d.message) for d in found] == []


_HIDDEN = """
CREATE TABLE tb_project (
  pk_project bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  fk_organization bigint NOT NULL,
  identifier text NOT NULL,
  UNIQUE (fk_organization, identifier)
);
ALTER TABLE tb_project ENABLE ROW LEVEL SECURITY;
ALTER TABLE tb_project FORCE ROW LEVEL SECURITY;
CREATE POLICY tb_project_tenant ON tb_project TO app_user
  USING (fk_organization = (SELECT NULLIF(current_setting('app.tenant', true), '')::bigint));
GRANT SELECT ON tb_project TO app_user;
CREATE FUNCTION fn_project_count() RETURNS bigint LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp AS $$ SELECT count(*) FROM public.tb_project $$;
REVOKE ALL ON FUNCTION fn_project_count() FROM PUBLIC;
-- What the text does not show: dynamic SQL.
DO $$ BEGIN
  EXECUTE 'GRANT TRUNCATE ON tb_project TO app_user';
  EXECUTE 'ALTER FUNCTION fn_project_count() SECURITY DEFINER';
  EXECUTE 'CREATE POLICY tb_project_all ON tb_project TO app_user USING (true)';
END $$;
"""


def test_catalog_audit_sees_what_dynamic_sql_did(tenant_db) -> None:
    db = tenant_db(_HIDDEN)
    assert lint_files_text(_HIDDEN) == set()  # the text looks clean
    found = audit_catalog(introspect_url(db.url), [("0001.sql", _HIDDEN)], CONFIG,
                          fallback_file="migrations")
    assert {(d.code, str(d.location)) for d in found} == {
        ("FSC319", "migrations"),  # the GRANT exists in no file
        ("FSC309", "0001.sql:2:1"),  # the hidden policy: reported on its table
    }
    assert all("found in the catalog the migrations build" in d.message for d in found)
    # The function became a definer; in the exposed schema (public here) it is reported.
    exposed = audit_catalog(introspect_url(db.url), [("0001.sql", _HIDDEN)],
                            LintConfig(exposed_schemas=("public",)), fallback_file="migrations")
    assert ("FSC322", "0001.sql:13:1") in {(d.code, str(d.location)) for d in exposed}


def lint_files_text(text: str) -> set[str]:
    from fraisec.lint import lint_sql

    return {d.code for d in lint_sql([("0001.sql", text)], CONFIG)}


_FOREIGN = """
CREATE EXTENSION postgres_fdw;
CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.example', dbname 'app');
CREATE FOREIGN TABLE remote_project (
  pk_project bigint NOT NULL,
  fk_organization bigint NOT NULL,
  identifier text NOT NULL
) SERVER remote OPTIONS (table_name 'tb_project');
GRANT SELECT ON remote_project TO app_user;
"""


def test_a_foreign_table_is_not_audited_as_a_table(make_db, lint_roles) -> None:
    """A foreign table cannot have row-level security (PostgreSQL refuses ENABLE ROW LEVEL
    SECURITY on it: its rows live on the remote server, which enforces its own access), so
    neither the linter nor the audit report it as a tenant table without RLS (FSC305)."""
    import os

    import psycopg

    url = make_db()
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgres_fdw'").fetchone():
            (pytest.fail if os.environ.get("CI") else pytest.skip)("postgres_fdw is not installed on this server")
        conn.execute(_FOREIGN)
        with pytest.raises(psycopg.errors.WrongObjectType):  # what the RLS findings would ask for
            conn.execute("ALTER TABLE remote_project ENABLE ROW LEVEL SECURITY")
    catalog = introspect_url(url)
    assert catalog.table["public.remote_project"].is_foreign
    assert lint_files_text(_FOREIGN) == set()
    found = audit_catalog(catalog, [("0001.sql", _FOREIGN)], CONFIG, fallback_file="migrations")
    assert [(d.code, d.message) for d in found] == []
    # The same columns in an ordinary table are a tenant table without RLS: the rule is on.
    ordinary = _FOREIGN.split("CREATE FOREIGN TABLE")[1].split(" SERVER")[0]
    plain_url = make_db("CREATE TABLE" + ordinary + ";")
    plain = audit_catalog(introspect_url(plain_url), [("0001.sql", "CREATE TABLE" + ordinary + ";")],
                          CONFIG, fallback_file="migrations")
    assert "FSC305" in {d.code for d in plain}
