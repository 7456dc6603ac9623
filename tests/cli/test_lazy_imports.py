"""Each command imports what it uses, and what it imports never changes what it writes.

Start-up is most of the time of ``compile``, ``validate`` and ``--help`` (bench/loop_bench.py),
so the heavy libraries load only on the paths that need them: sqlglot when there is hand-written
SQL to read, psycopg when there is a database, the linter's rules when linting, pydantic not for
fraisec.toml nor for Typer's option values. Registration by import (validation rules, lint
rules) must still happen whenever it is needed: the artifacts of a run that imported every
fraisec module first are compared byte for byte with a normal run's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

_PROBE = """
import atexit, json, sys
watch = {watch!r}
atexit.register(lambda: sys.stderr.write("\\nLOADED " + json.dumps(
    sorted(m for m in watch if m in sys.modules)) + "\\n"))
if {eager!r}:
    import importlib, pkgutil, fraisec
    for info in pkgutil.walk_packages(fraisec.__path__, "fraisec."):
        if not info.name.endswith(("__main__", ".reaper")):
            importlib.import_module(info.name)
sys.argv = ["fraisec", *{args!r}]
from fraisec.__main__ import run
run()
"""

WATCH = ("sqlglot", "psycopg", "pydantic", "jinja2", "fraisec.lint.rules", "fraisec.lint.parse",
         "typer._adapters", "fraisec.catalog.shadow")


def _run(args: list[str], cwd: Path, eager: bool = False) -> tuple[subprocess.CompletedProcess, list[str]]:
    code = _PROBE.format(watch=WATCH, args=args, eager=eager)
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                            timeout=300)
    marker = [line for line in result.stderr.splitlines() if line.startswith("LOADED ")]
    assert marker, result.stderr
    return result, json.loads(marker[-1][len("LOADED "):])


def _seed_project(tmp_path: Path) -> Path:
    project = tmp_path / "seed"
    project.mkdir()
    shutil.copy(REPO / "tests" / "fixtures" / "seed000" / "schema.py", project / "schema.py")
    return project


def test_compile_without_db_loads_no_sql_reader_nor_database_driver(tmp_path: Path) -> None:
    project = _seed_project(tmp_path)
    result, loaded = _run(["compile", "schema.py", "--out", "out"], project)
    assert result.returncode == 0, result.stderr
    assert json.loads((project / "out" / "schema.json").read_text())["types"]  # it compiled
    assert not {"sqlglot", "psycopg", "fraisec.lint.rules", "fraisec.lint.parse",
                "fraisec.catalog.shadow", "typer._adapters"} & set(loaded), loaded


def test_help_and_validate_stay_light(tmp_path: Path) -> None:
    result, _ = _run(["init"], tmp_path)  # its db/ is empty: nothing to read with sqlglot
    assert result.returncode == 0, result.stderr
    result, loaded = _run(["--help"], tmp_path)
    assert result.returncode == 0 and "compile" in result.stdout
    assert loaded == [], loaded
    result, loaded = _run(["validate"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ok: 4 types" in result.stdout + result.stderr
    assert not {"sqlglot", "fraisec.lint.rules", "typer._adapters"} & set(loaded), loaded


def test_a_migrations_command_does_not_load_the_linter(tmp_path: Path) -> None:
    project = _seed_project(tmp_path)
    result, loaded = _run(["migrate", "status"], project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not {"fraisec.lint.rules", "fraisec.lint.parse", "sqlglot"} & set(loaded), loaded


def test_artifacts_do_not_depend_on_what_was_imported(tmp_path: Path) -> None:
    """examples/saas (hand-written db/ SQL, checked in the shadow) compiled by a run that
    imports only what it needs and by one that imported all of fraisec first."""
    outputs = {}
    for eager in (False, True):
        project = tmp_path / f"saas-{eager}"
        shutil.copytree(REPO / "examples" / "saas", project,
                        ignore=shutil.ignore_patterns("build", "migrations"))
        result, loaded = _run(["compile"], project, eager=eager)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "fraisec.catalog.shadow" in loaded  # the db/ files went through the shadow
        outputs[eager] = {p.name: p.read_bytes() for p in sorted((project / "build").iterdir())}
        outputs[eager]["stdout"] = result.stdout.replace(str(project), "<project>").encode()
    assert sorted(outputs[False]) == ["fraiseql.toml", "schema.json", "schema.sql", "stdout"]
    assert outputs[False] == outputs[True]


def test_migrate_diff_loads_neither_pydantic_nor_the_linter(tmp_path: Path) -> None:
    result, _ = _run(["init"], tmp_path)
    assert result.returncode == 0, result.stderr
    result, loaded = _run(["migrate", "diff", "init", "--dry-run"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CREATE TABLE app.tb_project" in result.stdout  # it diffed, through the shadow
    assert not {"pydantic", "typer._adapters", "fraisec.lint.rules", "fraisec.lint.parse"} \
        & set(loaded), loaded
