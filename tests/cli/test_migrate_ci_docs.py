"""docs/ci.md's GitHub Actions workflow and the pre-commit hooks, run for real.

Every `fraisec …` command the workflow lists runs, in order, in a project made by
`fraisec init`, against a real PostgreSQL standing in for the workflow's service container;
the pre-commit hooks run as pre-commit would run them (entry + matching staged files).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


WORKFLOW = REPO / "docs" / "ci" / "github-actions.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
USER_CONFIG = REPO / "docs" / "ci" / "pre-commit-config.yaml"
CI_DOC = REPO / "docs" / "ci.md"


def _fraisec(command: str, cwd, env=None) -> subprocess.CompletedProcess:
    args = shlex.split(command)
    assert args[0] == "fraisec"
    env = dict(env or os.environ)
    # This test process owns the shared cached shadow server (one owner at a time): the
    # commands get their own cache, next to the project.
    env["FRAISEC_CACHE_DIR"] = _CACHE
    return subprocess.run([sys.executable, "-m", "fraisec", *args[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


_CACHE = ""


@pytest.fixture(scope="module", autouse=True)
def _own_cache():
    """A cache directory the postgres OS user can enter (pytest's tmp_path is 0700)."""
    global _CACHE
    _CACHE = tempfile.mkdtemp(prefix="fraisec-ci-docs-cache-")
    os.chmod(_CACHE, 0o755)
    yield
    from fraisec.pg.server import stop_idle_servers

    stop_idle_servers(Path(_CACHE))  # the commands leave it warm for a while otherwise
    shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    assert run_cli("init", str(root)).exit_code == 0
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert run_cli("migrate", "diff", "init").exit_code == 0
    finally:
        os.chdir(cwd)
    return root


def _workflow_commands() -> list[tuple[str, str]]:
    """(job, command) for every `fraisec …` line of every run step, in order."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    out = []
    for job_name, job in workflow["jobs"].items():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                if line.strip().startswith("fraisec "):
                    out.append((job_name, line.strip()))
    return out


def test_docs_embed_the_files_verbatim():
    doc = CI_DOC.read_text()
    for path in (WORKFLOW, USER_CONFIG):
        assert path.read_text().strip() in doc, f"docs/ci.md must include {path.name} verbatim"


def test_workflow_commands_run_against_a_real_database(project, make_db):
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert set(workflow["jobs"]) == {"check", "apply"}
    assert workflow["jobs"]["apply"]["needs"] == "check"
    commands = _workflow_commands()
    assert ("check", "fraisec --format github check") in commands
    assert [c for j, c in commands if j == "apply"][-1] == "fraisec migrate check"
    url = make_db()
    service_env = workflow["jobs"]["apply"]["env"]
    assert set(service_env) == {"FRAISEC_DATABASE_URL"}
    env = dict(os.environ, CI="true", FRAISEC_DATABASE_URL=url)
    for job, command in commands:
        result = _fraisec(command, project, env)
        assert result.returncode == 0, f"{job}: {command}\n{result.stdout}{result.stderr}"
    assert "applied   0001_init.sql" in _fraisec("fraisec migrate status", project, env).stdout


def test_workflow_check_step_fails_with_annotations_when_a_migration_is_missing(project):
    schema = project / "schema.py"
    schema.write_text(schema.read_text().replace("    name: str\n    created_at", "    name: str\n    color: str = \"red\"\n    created_at", 1))
    result = _fraisec("fraisec --format github check", project, dict(os.environ, CI="true"))
    assert result.returncode == 3
    assert re.search(r"^::error file=.*schema\.py,title=FSC513::", result.stdout, re.M)


def _hook_command(hook: dict, root) -> list[str] | None:
    """What pre-commit would run for this hook with every project file staged."""
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
                   and "build" not in p.parts)
    if "types" in hook:
        assert hook["types"] == ["sql"]
        files = [f for f in files if f.endswith(".sql")]
    if "files" in hook:
        files = [f for f in files if re.search(hook["files"], f)]
    if not files:
        return None
    return hook["entry"] + ("" if hook.get("pass_filenames") is False else " " + " ".join(files))


def test_pre_commit_hooks_run_clean_and_catch_drift(project):
    hooks = yaml.safe_load(HOOKS.read_text())
    assert {h["id"] for h in hooks} == {"fraisec-lint", "fraisec-check"}
    user = yaml.safe_load(USER_CONFIG.read_text())
    used = [h["id"] for repo in user["repos"] for h in repo["hooks"]]
    assert set(used) <= {h["id"] for h in hooks}
    for hook in hooks:
        assert hook["language"] == "python" and hook["entry"].startswith("fraisec ")
        command = _hook_command(hook, project)
        assert command is not None, hook["id"]
        result = _fraisec(command, project)
        assert result.returncode == 0, f"{hook['id']}: {command}\n{result.stdout}{result.stderr}"
    # an edited migration is caught by the check hook
    migration = project / "migrations" / "0001_init.sql"
    migration.write_text(migration.read_text() + "\nCREATE TABLE app.sneaky (id int);\n")
    check = next(h for h in hooks if h["id"] == "fraisec-check")
    result = _fraisec(_hook_command(check, project), project)
    assert result.returncode == 1 and "FSC503" in result.stderr
