"""Each rule's fixture: the linter reports exactly the expected findings, and PostgreSQL
accepts the fixture (so the finding is about SQL that really runs). The behaviour each
finding predicts is shown in test_proofs.py."""

from __future__ import annotations

import psycopg
import pytest

from fraisec.diagnostics import CODES
from fraisec.lint import LintConfig, lint_files, lint_sql

from .conftest import CLEAN_DIR, RULES_DIR

FIXTURES = sorted(p.stem for p in RULES_DIR.glob("*.sql"))
# What `fraisec check` tells the linter from the schema's settings (FSC322 needs it).
CONFIG = LintConfig(exposed_schemas=("app",), api_roles=("app_user",))
RULE_CODES = sorted(c for c in CODES if c.startswith("FSC3") and c not in ("FSC300", "FSC390", "FSC391"))


def _expected(name: str) -> list[tuple[str, str, int]]:
    """``<name>.expected``: one finding a line, ``CODE severity line``."""
    out = []
    for line in (RULES_DIR / f"{name}.expected").read_text().splitlines():
        if line.strip():
            code, severity, lineno = line.split()
            out.append((code, severity, int(lineno)))
    return out


def test_every_rule_has_a_fixture() -> None:
    covered = {name.split("_")[0] for name in FIXTURES}
    assert covered == set(RULE_CODES)


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_findings(name: str) -> None:
    path = RULES_DIR / f"{name}.sql"
    found = [(d.code, d.severity.value, d.location.line) for d in lint_files([path], CONFIG)]
    assert found == _expected(name)
    assert all(d.location.file == str(path) for d in lint_files([path], CONFIG))


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_applies_to_postgres(name: str, tenant_db) -> None:
    db = tenant_db((RULES_DIR / f"{name}.sql").read_text())
    assert db.superuser("SELECT 1") == [(1,)]


def test_recommended_shape_lints_clean() -> None:
    assert lint_files(sorted(CLEAN_DIR.glob("*.sql")), CONFIG) == []


def test_recommended_shape_lints_clean_split_across_files() -> None:
    """RLS, policies and views in different files are linted as one set."""
    text = (CLEAN_DIR / "recommended.sql").read_text()
    marker = "-- Identity tables"
    head, tail = text.split(marker)
    assert lint_sql([("001_tables.sql", head), ("002_rls.sql", marker + tail)]) == []


_ALICE = {"request.jwt.claims": '{"sub": "00000000-0000-0000-0000-0000000000a1"}',
          "app.tenant_id": "00000000-0000-0000-0000-00000000000a"}
_SEED = """
INSERT INTO app.tb_organization (pk_organization, id, identifier, name) OVERRIDING SYSTEM VALUE VALUES
  (1, '00000000-0000-0000-0000-00000000000a', 'acme', 'Acme'),
  (2, '00000000-0000-0000-0000-00000000000b', 'globex', 'Globex');
INSERT INTO app.tb_user (pk_user, id, identifier, name, email) OVERRIDING SYSTEM VALUE VALUES
  (1, '00000000-0000-0000-0000-0000000000a1', 'alice', 'Alice', 'alice@acme.test'),
  (2, '00000000-0000-0000-0000-0000000000b2', 'bob', 'Bob', 'bob@globex.test');
INSERT INTO app.tb_membership (fk_organization, fk_user, role) VALUES (1, 1, 'admin'), (2, 2, 'admin');
INSERT INTO app.tb_project (fk_organization, identifier, name) VALUES
  (1, 'acme-rockets', 'Rockets'), (2, 'globex-doomsday', 'Doomsday');
"""


def test_recommended_shape_isolates_tenants(tenant_db) -> None:
    """The clean shape is not clean by accident: it runs, isolates and does not recurse."""
    db = tenant_db((CLEAN_DIR / "recommended.sql").read_text(), seed=_SEED)
    rows = db.as_role("SELECT data->>'identifier' FROM app.v_project ORDER BY 1", settings=_ALICE)
    assert rows == [("acme-rockets",)]
    assert db.as_role("SELECT count(*) FROM app.tb_membership", settings=_ALICE) == [(1,)]
    assert db.as_role("SELECT count(*) FROM app.v_project") == [(0,)]  # no context: 0 rows
    created = db.as_role("SELECT status FROM app.fn_create_project('acme-anvils', 'Anvils')",
                         settings=_ALICE)
    assert created == [("success",)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        db.as_role("INSERT INTO app.tb_project (fk_organization, identifier, name) "
                   "VALUES (2, 'planted', 'x')", settings=_ALICE)
