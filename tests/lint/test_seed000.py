"""Done-when of issue 6 (lint part): seed 000's migrations, kept verbatim, fail the linter at
the right lines, and its two worst mistakes really happen on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from fraisec.lint import lint_files

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed000" / "migrations"
FILES = sorted(SEED.glob("*.sql"))
RLS = str(SEED / "002_rls.sql")
VIEWS = str(SEED / "003_views.sql")


def _found(code: str) -> list[tuple[str, int]]:
    return [(d.location.file, d.location.line) for d in lint_files(FILES) if d.code == code]


def test_seed_files_are_the_four_migrations() -> None:
    assert [f.name for f in FILES] == ["001_tables.sql", "002_rls.sql", "003_views.sql",
                                       "004_functions.sql"]


def test_self_referencing_membership_policy() -> None:
    assert _found("FSC301") == [(RLS, 16)]
    lines = (SEED / "002_rls.sql").read_text().splitlines()
    assert lines[15].startswith("CREATE POLICY membership_tenant_isolation ON tb_membership")


def test_each_of_the_four_definer_views() -> None:
    assert _found("FSC302") == [(VIEWS, 2), (VIEWS, 15), (VIEWS, 33), (VIEWS, 48)]
    messages = [d.message for d in lint_files(FILES) if d.code == "FSC302"]
    for view in ("v_organization", "v_project", "v_member", "v_activity"):
        assert any(f"view {view} " in m for m in messages)


def test_missing_force() -> None:
    assert _found("FSC303") == [(RLS, 1), (RLS, 2), (RLS, 3)]


def test_in_subselect_policies() -> None:
    assert _found("FSC307") == [(RLS, 7), (RLS, 18), (RLS, 29)]
    lines = (SEED / "002_rls.sql").read_text().splitlines()
    assert all(lines[n - 1] == "fk_organization IN (" for n in (7, 18, 29))


def test_cli_exits_1_and_reports_as_json() -> None:
    proc = subprocess.run([sys.executable, "-m", "fraisec", "--format", "json", "lint",
                           *map(str, FILES)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)["diagnostics"]
    codes = {d["code"] for d in report}
    assert {"FSC301", "FSC302", "FSC303", "FSC307"} <= codes
    assert all(d["location"]["file"] in map(str, FILES) and d["location"]["line"] for d in report)
    assert all(d["hint"] for d in report)


_SEED_DATA = """
INSERT INTO tb_organization (identifier, name) VALUES ('acme', 'Acme'), ('globex', 'Globex');
INSERT INTO tb_user (id, identifier, name, email) VALUES
  ('00000000-0000-0000-0000-0000000000a1', 'alice', 'Alice', 'alice@acme.test'),
  ('00000000-0000-0000-0000-0000000000b2', 'bob', 'Bob', 'bob@globex.test');
INSERT INTO tb_membership (fk_organization, fk_user, role) VALUES (1, 1, 'admin'), (2, 2, 'admin');
INSERT INTO tb_project (identifier, fk_organization, name) VALUES
  ('acme-rockets', 1, 'Rockets'), ('globex-doomsday', 2, 'Doomsday');
GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_user;
"""
_ALICE = {"request.jwt.claims": '{"sub": "00000000-0000-0000-0000-0000000000a1"}'}


def test_seed000_fails_on_postgres_as_the_linter_says(tenant_db) -> None:
    db = tenant_db("\n".join(f.read_text() for f in FILES), seed=_SEED_DATA)
    # FSC301: the membership policy recurses, and so does every policy that reads tb_membership.
    for table in ("tb_membership", "tb_project"):
        with pytest.raises(psycopg.errors.InvalidObjectDefinition,
                           match='infinite recursion detected in policy for relation "tb_membership"'):
            db.as_role(f"SELECT count(*) FROM {table}", settings=_ALICE)
    # FSC302: the definer view returns the other tenant's project.
    rows = db.as_role("SELECT data->>'identifier' FROM v_project ORDER BY 1", settings=_ALICE)
    assert rows == [("acme-rockets",), ("globex-doomsday",)]
