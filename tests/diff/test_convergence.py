"""Convergence suite: ``tests/fixtures/diff/<case>/{current,desired,expected}.sql``.

For each case: build ``current`` in a real database, normalise ``desired`` through a shadow
database, plan, and check that

1. the script is exactly ``expected.sql`` (``FRAISEC_REGEN=1`` rewrites it, for review);
2. it applies to a copy of ``current`` with ``psql -v ON_ERROR_STOP=1 -f`` (as a user runs it);
3. re-diffing the result against ``desired`` gives nothing to do;
4. the migrated catalog equals the desired one, kind by kind (grants and comments included).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from fraisec.catalog.introspect import introspect_url
from fraisec.catalog.model import KINDS, Catalog
from fraisec.catalog.shadow import catalog_from_sql
from fraisec.diff import diff
from fraisec.plan import plan
from fraisec.plan.script import render_script
from fraisec.pg.server import find_bindir

CASES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "diff"
CASES = sorted(p for p in CASES_DIR.iterdir() if (p / "desired.sql").is_file())
ROLES = ("app_user", "app_admin", "app_reader")


@pytest.fixture(scope="module")
def roles(pg_server):
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        for role in ROLES:
            conn.execute(f"DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object THEN NULL; END $$")


def _dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def psql_apply(url: str, script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "migration.sql"
    path.write_text(script, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run([str(find_bindir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                           "-d", url, "-f", str(path)], capture_output=True, text=True, env=env)


def comparable(catalog: Catalog) -> dict:
    """Everything the schema is made of; not the session facts (user, version, query count)."""
    data = {kind: dict(catalog.objects(kind)) for kind in KINDS}
    # Column order is not converged (ADD COLUMN appends), as in the peer tools and the checker.
    data["table"] = {k: replace(t, columns=tuple(sorted(t.columns, key=lambda c: c.name)))
                     for k, t in catalog.table.items()}
    data["grants"] = catalog.grants
    data["comments"] = dict(catalog.comments)
    data["dependencies"] = set(catalog.dependencies)
    return data


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_case_converges(case: Path, pg_server, make_db, roles, tmp_path: Path) -> None:
    current_sql = (case / "current.sql").read_text(encoding="utf-8")
    desired_sql = (case / "desired.sql").read_text(encoding="utf-8")
    current_url = make_db(current_sql if current_sql.strip() else None)
    current = introspect_url(current_url)
    desired = catalog_from_sql([(str(case / "desired.sql"), desired_sql)], base_url=pg_server.url())

    result = plan(diff(current, desired), current, desired)
    assert not result.diagnostics, [d.message for d in result.diagnostics]
    script = render_script(result)
    expected_path = case / "expected.sql"
    if os.environ.get("FRAISEC_REGEN"):
        expected_path.write_text(script, encoding="utf-8")
    assert script == expected_path.read_text(encoding="utf-8")
    assert script, "every case changes something"

    migrated_url = make_db(template=_dbname(current_url))
    applied = psql_apply(migrated_url, script, tmp_path)
    assert applied.returncode == 0, applied.stderr

    migrated = introspect_url(migrated_url)
    again = plan(diff(migrated, desired), migrated, desired)
    assert render_script(again) == "", render_script(again)
    assert comparable(migrated) == comparable(desired)


def test_non_transactional_steps_stand_outside_begin_commit(pg_server, make_db, roles) -> None:
    case = CASES_DIR / "enum_add_value_used"
    current = introspect_url(make_db((case / "current.sql").read_text()))
    desired = catalog_from_sql([("desired.sql", (case / "desired.sql").read_text())],
                               base_url=pg_server.url())
    result = plan(diff(current, desired), current, desired)
    outside = result.non_transactional
    assert outside and all("ADD VALUE" in s for op in outside for s in op.statements)
    script = render_script(result)
    first_begin = script.index("BEGIN;")
    assert all(script.index(s) < first_begin for op in outside for s in op.statements)
