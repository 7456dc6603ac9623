"""`fraisec check` audits the catalog the migrations build (issue 11): a project whose
migrations make a SECURITY DEFINER function in `app` and grant TRUNCATE to app_user fails,
whether the linter can read those statements or not; examples/saas passes."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import REPO
from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, write_migrations


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


SAAS = REPO / "examples" / "saas"


@pytest.fixture
def saas(tmp_path, monkeypatch):
    root = tmp_path / "saas"
    shutil.copytree(SAAS, root, ignore=shutil.ignore_patterns("build", "migrations"))
    monkeypatch.chdir(root)
    result = run_cli("--no-color", "migrate", "diff", "init")
    assert result.exit_code == 0, result.output
    return root


def _check(*extra: str) -> tuple[int, list[dict]]:
    result = run_cli("--format", "json", "check", *extra)
    return result.exit_code, json.loads(result.stdout)["diagnostics"]


def test_examples_saas_passes_check(saas) -> None:
    exit_code, diagnostics = _check()
    assert exit_code == 0, diagnostics
    assert [d for d in diagnostics if d["severity"] == "error"] == []
    # What the linter reported (db/fn_invite_member.sql's invoker path) is not repeated.
    assert len({(d["code"], d["message"]) for d in diagnostics}) == len(diagnostics)


_VISIBLE = """
    SET ROLE app_owner;
    CREATE FUNCTION app.fn_organization_count() RETURNS bigint
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
      AS $$ SELECT count(*) FROM app.tb_organization $$;
    REVOKE ALL ON FUNCTION app.fn_organization_count() FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION app.fn_organization_count() TO app_user;
    GRANT TRUNCATE ON app.tb_project TO app_user;
    RESET ROLE;
"""

_HIDDEN = """
    -- The same, where only the catalog shows it.
    DO $$
    BEGIN
      EXECUTE 'SET ROLE app_owner';
      EXECUTE 'CREATE FUNCTION app.fn_organization_count() RETURNS bigint LANGUAGE sql STABLE '
              'SET search_path = pg_catalog, pg_temp AS $f$ SELECT count(*) FROM app.tb_organization $f$';
      EXECUTE 'ALTER FUNCTION app.fn_organization_count() SECURITY DEFINER';
      EXECUTE 'REVOKE ALL ON FUNCTION app.fn_organization_count() FROM PUBLIC';
      EXECUTE 'GRANT TRUNCATE ON app.tb_project TO app_user';
      EXECUTE 'RESET ROLE';
    END $$;
"""


def test_definer_in_app_and_truncate_fail_check(saas) -> None:
    write_migrations(saas / "migrations", {"0002_backdoor.sql": _VISIBLE})
    exit_code, diagnostics = _check()
    assert exit_code == 1
    found = {(d["code"], d["location"]["file"], d["location"].get("line")) for d in diagnostics
             if d["severity"] == "error"}
    assert found == {("FSC322", "migrations/0002_backdoor.sql", 2),
                     ("FSC319", "migrations/0002_backdoor.sql", 7)}


def test_check_finds_in_the_catalog_what_the_text_hides(saas) -> None:
    write_migrations(saas / "migrations", {"0002_backdoor.sql": _HIDDEN})
    assert run_cli("lint", "migrations").exit_code == 0  # the text looks harmless
    exit_code, diagnostics = _check()
    assert exit_code == 1
    errors = {(d["code"], d["location"]["file"]) for d in diagnostics if d["severity"] == "error"}
    assert errors == {("FSC322", "migrations"), ("FSC319", "migrations"),
                      ("FSC513", "schema.py")}  # and the history no longer equals the schema
    truncate = next(d for d in diagnostics if d["code"] == "FSC319")
    assert "TRUNCATE on the row-secured table tb_project is granted to app_user" in truncate["message"]
    assert truncate["message"].endswith("(found in the catalog the migrations build)")


def test_check_reports_each_schema_warning_once(saas) -> None:
    """The schema is loaded once: its warnings (here the Citus traps of a citus project) are
    not repeated by the replay step."""
    config = saas / "fraisec.toml"
    config.write_text(config.read_text() + '\n[distribution]\nengine = "citus"\n')
    assert run_cli("--no-color", "migrate", "diff", "citus").exit_code == 0  # the keys change
    exit_code, diagnostics = _check()
    codes = [d["code"] for d in diagnostics]
    assert exit_code == 0, diagnostics
    assert "FSC604" in codes  # the triggers to check before distributing
    assert len(codes) == len(set(codes)), codes
