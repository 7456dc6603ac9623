"""Seed 002's shape: database per tenant plus a shared database holding other entities of the
same module (`fq.entity(database="shared")`), each with its own migrations directory and
history; references across databases are plain uuid columns; events leave through the outbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, query

SCHEMA = '"""Seed 002\'s shape."""\nfrom __future__ import annotations\n\nimport fraisec as fq\nfrom fraisec.scalars import ID, DateTime\n\nfq.tenancy(tenant="Organization", claim="org_id")\n\n\n@fq.entity(database="shared")\nclass Plan:\n    """A subscription plan: one list for every tenant, in the shared database."""\n\n    identifier: str = fq.field(unique=True)\n    name: str\n    max_projects: int = 10\n\n\n@fq.entity\nclass Organization:\n    """The tenant, in its own database."""\n\n    identifier: str = fq.field(unique=True)\n    name: str\n    plan_id: ID | None = None\n\n\n@fq.entity(tenant=True)\nclass Project:\n    """A project of the organization."""\n\n    organization: Organization\n    name: str\n    created_at: DateTime = fq.now()\n\n\n@fq.observer(Project, "INSERT", subject="project.created")\ndef project_created(): ...\n\n\n@fq.mutation(operation="CREATE")\ndef create_project(name: str) -> Project:\n    """Add a project."""\n\n\n@fq.mutation(operation="CREATE")\ndef create_plan(identifier: str, name: str) -> Plan:\n    """Add a plan."""\n'


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


def _project(root: Path, text: str = SCHEMA) -> None:
    (root / "schema.py").write_text(text)
    (root / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n\n'
                                       '[tenancy]\nstrategy = "database"\n')


def _cli(*args: str):
    return run_cli("--no-color", *args)


def test_compile_puts_shared_entities_in_the_shared_database(tmp_path, monkeypatch):
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = _cli("compile")
    assert result.exit_code == 0, result.output
    shared = (tmp_path / "build/shared_database.sql").read_text()
    tenant = (tmp_path / "build/schema.sql").read_text()
    assert "CREATE TABLE app.tb_plan" in shared and "tb_project" not in shared
    assert "tb_plan" not in tenant and "CREATE TABLE app.tb_project" in tenant
    assert "plan_id uuid" in tenant  # the cross-database reference: a plain uuid column
    assert "fk_organization" not in tenant  # the database is the tenant: no tenant column
    assert "fn_observe_project_insert" in tenant  # events leave through the outbox as today
    assert not (tmp_path / "build/tenant.sql").exists()


def test_a_relation_across_databases_is_diagnosed_with_a_hint(tmp_path, monkeypatch):
    _project(tmp_path, SCHEMA.replace("    plan_id: ID | None = None\n",
                                      "    plan: Plan | None = None\n"))
    monkeypatch.chdir(tmp_path)
    result = _cli("compile")
    assert result.exit_code == 1
    assert "FSC542" in result.output and "Organization.plan refers to Plan" in result.output
    assert "plan_id: ID" in result.output and "Traceback" not in result.output


def test_tenant_databases_and_the_shared_database_migrate_separately(servers, tmp_path,
                                                                      monkeypatch):
    one, two, p = servers
    shared_url = one.url(f"shared_{p}")
    query(one.url(), f"CREATE DATABASE shared_{p}")
    _project(tmp_path)
    template = "postgresql://postgres@/{{database}}?host={}&port=5432"
    (tmp_path / "tenants.toml").write_text(
        f'[servers.one]\nurl = "{template.format(one.sockdir)}"\n\n'
        f'[servers.two]\nurl = "{template.format(two.sockdir)}"\n')
    monkeypatch.chdir(tmp_path)
    first = _cli("migrate", "diff", "init")
    assert first.exit_code == 0, first.output
    assert (tmp_path / "migrations/0001_init.sql").is_file()
    assert (tmp_path / "migrations/shared/0001_init.sql").is_file()
    for name, server in ((f"{p}a", "one"), (f"{p}b", "two")):
        created = _cli("tenant", "create", name, "--server", server)
        assert created.exit_code == 0, created.output
    applied = _cli("migrate", "apply", "--dir", "migrations/shared", "-d", shared_url)
    assert applied.exit_code == 0, applied.output
    a, b = one.url(f"tenant_{p}a"), two.url(f"tenant_{p}b")
    # each database has its own history and its own entities
    assert query(shared_url, "SELECT to_regclass('app.tb_plan') IS NOT NULL, "
                             "to_regclass('app.tb_project') IS NULL") == [(True, True)]
    assert query(a, "SELECT to_regclass('app.tb_plan') IS NULL") == [(True,)]
    (plan,) = query(shared_url, "INSERT INTO app.tb_plan (identifier, name) VALUES "
                                "('pro', 'Pro') RETURNING id")[0]
    query(a, f"INSERT INTO app.tb_organization (identifier, name, plan_id) VALUES "
             f"('acme', 'Acme', '{plan}'); INSERT INTO app.tb_project (name) VALUES ('x')")
    assert query(b, "SELECT count(*) FROM app.tb_project") == [(0,)]
    assert query(a, "SELECT count(*) FROM app_private.tb_outbox_event") == [(1,)]
    # a second generated migration: one change in each database kind
    _project(tmp_path, SCHEMA.replace("    max_projects: int = 10\n",
                                      "    max_projects: int = 10\n    price: int | None = None\n")
             .replace("    name: str\n    created_at", "    name: str\n    description: str | None = None\n    created_at"))
    second = _cli("migrate", "diff", "more")
    assert second.exit_code == 0, second.output
    assert "ADD COLUMN description" in (tmp_path / "migrations/0002_more.sql").read_text()
    assert "ADD COLUMN price" in (tmp_path / "migrations/shared/0002_more.sql").read_text()
    assert _cli("migrate", "apply", "--all").exit_code == 0
    assert _cli("migrate", "apply", "--dir", "migrations/shared", "-d", shared_url).exit_code == 0
    assert query(b, "SELECT count(*) FROM information_schema.columns WHERE "
                    "table_name = 'tb_project' AND column_name = 'description'") == [(1,)]
    checked = _cli("migrate", "check", "--all")
    assert checked.exit_code == 0, checked.output
    checked = _cli("migrate", "check", "--dir", "migrations/shared", "-d", shared_url)
    assert checked.exit_code == 0, checked.output


def test_an_unknown_database_declaration_is_diagnosed(tmp_path, monkeypatch):
    _project(tmp_path, SCHEMA.replace('@fq.entity(database="shared")', '@fq.entity(database="master")'))
    monkeypatch.chdir(tmp_path)
    result = _cli("compile")
    assert result.exit_code == 1
    assert "FSC245" in result.output and "'master'" in result.output


@pytest.mark.parametrize("strategy", ["schema", "database"])
@pytest.mark.parametrize("example", ["blog", "teams"])
def test_examples_using_the_tenant_column_are_refused_not_crashed(example, strategy, tmp_path,
                                                                  monkeypatch):
    """The examples' counts over the tenant relation, sign-up flows and quotas need the tenant
    column that the split strategies drop: diagnosed, each with its declaration."""
    source = Path(__file__).resolve().parents[2] / "examples" / example
    root = tmp_path / example
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("build", "migrations"))
    with (root / "fraisec.toml").open("a") as f:
        f.write(f'\n[tenancy]\nstrategy = "{strategy}"\n')
    monkeypatch.chdir(root)
    result = _cli("compile")
    assert result.exit_code == 1, result.output
    assert "FSC540" in result.output and "Traceback" not in result.output
    assert not (root / "build" / "schema.sql").exists()
