"""schema.sql applies with psql -1 to an empty database; compiling is deterministic."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import psycopg

from fraisec.pg.server import find_bindir
from tests.sqlgen.conftest import EXAMPLE


def test_schema_sql_applies_with_psql_in_one_transaction(make_db, saas_sql, tmp_path):
    url = make_db()
    script = tmp_path / "schema.sql"
    script.write_text(saas_sql)
    script.chmod(0o644)
    tmp_path.chmod(0o755)
    psql = str(find_bindir() / "psql")
    done = subprocess.run([psql, "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(script)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "ERROR" not in done.stderr and "WARNING" not in done.stderr, done.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'tb\\_%'").fetchone()[0] == 8


def test_schema_sql_applies_again_to_a_second_database_on_the_same_cluster(make_db, saas_sql):
    """Roles are cluster-wide: a second application must not fail on them."""
    for _ in range(2):
        url = make_db()
        with psycopg.connect(url) as conn:
            conn.execute(saas_sql)


def _compile(out: Path, seed: str) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    fraisec = shutil.which("fraisec") or sys.executable
    command = [fraisec] if fraisec != sys.executable else [sys.executable, "-m", "fraisec"]
    done = subprocess.run([*command, "compile", str(EXAMPLE / "schema.py"), "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=EXAMPLE)
    assert done.returncode == 0, done.stderr
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_compiling_twice_gives_byte_identical_output(tmp_path):
    first = _compile(tmp_path / "a", "1")
    second = _compile(tmp_path / "b", "2")
    assert set(first) >= {"schema.json", "schema.sql", "fraiseql.toml"}
    assert first == second
    assert first["schema.sql"].endswith(b"\n") and not first["schema.sql"].endswith(b"\n\n")


def test_runtime_toml_maps_claims_to_the_settings_the_policies_read(saas_sql):
    from fraisec.api import load_ir
    from fraisec.render import render_runtime_toml

    schema, _ = load_ir(str(EXAMPLE / "schema.py"))
    data = tomllib.loads(render_runtime_toml(schema))
    variables = {v["name"]: v for v in data["session_variables"]["variables"]}
    assert variables["app.tenant_id"] == {"name": "app.tenant_id", "source": "jwt", "claim": "org_id"}
    assert variables["app.user_id"]["claim"] == "sub"
    for name in variables:  # every mapped setting is one the generated SQL reads
        assert f"current_setting('{name}', true)" in saas_sql
    assert [(o["table"], o["event"], o["subject"]) for o in data["observers"]] == [
        ("app.tb_project", "INSERT", "saas.project.created"),
        ("app.tb_project", "DELETE", "saas.project.deleted"),
        ("app.tb_invitation", "INSERT", "saas.member.invited"),
    ]


def test_generated_and_hand_written_sql_pass_fraisec_lint(saas_sql, tmp_path):
    """What fraisec generates must pass its own security linter (seed 000's SQL fails it)."""
    script = tmp_path / "schema.sql"
    script.write_text(saas_sql)
    fraisec = shutil.which("fraisec")
    command = [fraisec] if fraisec else [sys.executable, "-m", "fraisec"]
    files = [str(script), *sorted(str(p) for p in (EXAMPLE / "db").glob("*.sql"))]
    done = subprocess.run([*command, "lint", *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
