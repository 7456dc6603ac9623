"""examples/strategies: one schema module under rls, schema per tenant and database per tenant,
selected by configuration. Under each: three tenants provisioned on two PostgreSQL servers
started by the suite, a second generated migration applied to all of them, and one tenant
unable to reach another's data."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from fraisec.pg.server import EmbeddedServer
from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, query

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "strategies"


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


def _template(server: EmbeddedServer) -> str:
    return f"postgresql://postgres@/{{database}}?host={server.sockdir}&port=5432"


def _copy(tmp_path: Path, strategy: str, one, two, p: str) -> Path:
    shutil.copy(EXAMPLE / "schema.py", tmp_path / "schema.py")
    root = tmp_path / strategy
    shutil.copytree(EXAMPLE / strategy, root)
    (root / "tenants.toml").write_text(
        f'[servers.one]\nurl = "{_template(one)}"\n\n[servers.two]\nurl = "{_template(two)}"\n\n'
        '[defaults]\nserver = "one"\n'
        # schema per tenant: isolation by grants, one role per tenant
        + ('role = "{schema}_api"\nmember_of = ["app_user"]\n' if strategy == "schema" else ""))
    return root


def _cli(*args: str):
    return run_cli("--no-color", *args)


def _second_version(tmp_path: Path) -> None:
    text = (tmp_path / "schema.py").read_text()
    text = text.replace("    created_at: DateTime = fq.now()\n",
                        "    created_at: DateTime = fq.now()\n    body: str | None = None\n")
    (tmp_path / "schema.py").write_text(text)


# strategy -> (tenant create arguments for tenant i, where tenant i's notes table is)
def _layout(strategy: str, p: str, one, two):
    shared_db = f"app_{p}"
    if strategy == "rls":
        return ([["--strategy", "shared", "--database-name", shared_db] for _ in range(3)],
                lambda i: (one.url(shared_db), "app.tb_note"))
    if strategy == "schema":
        servers = ["one", "two", "one"]
        return ([["--strategy", "schema", "--server", servers[i], "--database-name", shared_db]
                 for i in range(3)],
                lambda i: ((one if servers[i] == "one" else two).url(shared_db),
                           f"tenant_{p}{i}.tb_note"))
    servers = ["one", "two", "two"]
    return ([["--server", servers[i]] for i in range(3)],
            lambda i: ((one if servers[i] == "one" else two).url(f"tenant_{p}{i}"),
                       "app.tb_note"))


@pytest.mark.parametrize("strategy", ["rls", "schema", "database"])
def test_one_module_three_strategies(strategy, servers, tmp_path, monkeypatch):
    one, two, p = servers
    root = _copy(tmp_path, strategy, one, two, p)
    monkeypatch.chdir(root)
    first = _cli("migrate", "diff", "init")
    assert first.exit_code == 0, first.output
    assert (root / "migrations/tenant").is_dir() == (strategy == "schema")
    main = (root / "migrations/0001_init.sql").read_text()
    # rls: a tenant column; schema: the notes are the tenant part's; database: no tenant column
    assert ("fk_organization" in main) == (strategy == "rls")
    assert ("tb_note" in main) == (strategy != "schema")
    create_args, where = _layout(strategy, p, one, two)
    for i, args in enumerate(create_args):
        created = _cli("tenant", "create", f"{p}{i}", *args)
        assert created.exit_code == 0, created.output
    _second_version(tmp_path)
    second = _cli("migrate", "diff", "add_body")
    assert second.exit_code == 0, second.output
    applied = _cli("migrate", "apply", "--all")
    assert applied.exit_code == 0, applied.output
    for i in range(3):
        url, table = where(i)
        assert query(url, f"SELECT count(*) FROM {table} WHERE body IS NULL") == [(0,)]
    checked = _cli("migrate", "check", "--all")
    assert checked.exit_code == 0, checked.output
    _isolation(strategy, p, where)


def _isolation(strategy: str, p: str, where) -> None:
    """Tenant 0's note is out of tenant 1's reach."""
    url0, table0 = where(0)
    url1, table1 = where(1)
    if strategy == "rls":
        query(url0, "INSERT INTO app.tb_organization (identifier, name) VALUES ('a', 'A'), ('b', 'B');"
                    "INSERT INTO app.tb_note (fk_organization, title) VALUES (1, 'only a')")
        (b_id,) = query(url0, "SELECT id FROM app.tb_organization WHERE identifier = 'b'")[0]
        with psycopg.connect(url0, autocommit=True) as conn:
            conn.execute("SELECT set_config('app.tenant_id', %s, false)", [str(b_id)])
            conn.execute("SET ROLE app_user")
            assert conn.execute("SELECT count(*) FROM app.v_note").fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM app.tb_note").fetchone() == (0,)
        return
    query(url0, f"INSERT INTO {table0} (title) VALUES ('only a')")
    assert query(url1, f"SELECT count(*) FROM {table1}") == [(0,)]
    if strategy == "schema":
        assert url0 != url1  # tenants 0 and 1 are on different servers here; 0 and 2 share one
        url2, _table2 = where(2)
        with psycopg.connect(url2, autocommit=True) as conn:
            conn.execute(f"SET ROLE tenant_{p}2_api")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match=f"schema tenant_{p}0"):
                conn.execute(f"SELECT count(*) FROM {table0}")
