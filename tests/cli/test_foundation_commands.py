"""init, compile and validate as a user runs them: files written, exit codes, formats."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import FIXTURES
from tests.helpers import run_cli, write_schema

SEED = str(FIXTURES / "seed000" / "schema.py")


def test_compile_writes_schema_json(tmp_path):
    result = run_cli("compile", SEED, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "schema.json").read_text())
    assert [t["name"] for t in data["types"]] == ["Organization", "Project", "Member", "Activity"]


def test_compile_with_errors_writes_nothing_and_exits_1(tmp_path):
    bad = write_schema(tmp_path, "import fraiseql\n@fraiseql.type\nclass A:\n    x: set[int]\n")
    result = run_cli("compile", str(bad), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert not (tmp_path / "out").exists()


def test_validate_formats(tmp_path):
    bad = write_schema(tmp_path, "import fraiseql\nx = 1/0\n")
    as_json = run_cli("--format", "json", "validate", str(bad))
    assert as_json.exit_code == 1
    [diagnostic] = json.loads(as_json.stdout)["diagnostics"]
    assert diagnostic["code"] == "FSC103" and diagnostic["location"]["line"] == 2
    github = run_cli("--format", "github", "validate", str(bad))
    assert github.stdout.startswith("::error file=") and ",line=2,title=FSC103::" in github.stdout


def test_rich_output_shows_the_source_line(tmp_path):
    bad = write_schema(tmp_path, "import fraiseql\nimport no_such_module_q\n")
    result = run_cli("--no-color", "validate", str(bad))
    assert result.exit_code == 1
    assert "error[FSC102]" in result.output and "2 | import no_such_module_q" in result.output


def test_init_then_compile_in_the_new_project(tmp_path, monkeypatch):
    assert run_cli("init", str(tmp_path / "proj")).exit_code == 0
    assert (tmp_path / "proj" / "db").is_dir() and (tmp_path / "proj" / "migrations").is_dir()
    monkeypatch.chdir(tmp_path / "proj")
    result = run_cli("compile")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "proj" / "build" / "schema.json").is_file()
    again = run_cli("init", str(tmp_path / "proj"))
    assert again.exit_code == 1 and "FSC108" in again.output


def test_usage_error_is_exit_2():
    assert run_cli("compile", "--no-such-option").exit_code == 2


def test_both_console_scripts_run_the_same_app():
    for name in ("fraisec", "fraiseql"):
        out = subprocess.run([name, "--help"], capture_output=True, text=True)
        assert out.returncode == 0 and "compile" in out.stdout


def test_internal_errors_exit_70(tmp_path):
    code = ("import sys; from fraisec.cli import main, app\n"
            "@app.command('boom')\ndef boom():\n    raise RuntimeError('bug')\n"
            "sys.argv = ['fraisec', 'boom']; main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 70 and "internal error" in out.stderr
