"""``fraisec diff`` stays light: it must not import what only other commands need.

Start-up is most of a diff's wall time on a small schema (see bench/diff_bench.py); pydantic,
sqlglot, jinja2, the authoring API and the linter cost ~0.5 s together. This guards against one
of them sneaking back onto the diff path through an import at module level.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pydantic", "sqlglot", "jinja2", "fraisec.authoring", "fraisec.lint", "fraisec.ir")

_PROBE = """
import atexit, json, sys
heavy = {heavy!r}
atexit.register(lambda: sys.stderr.write("\\nLOADED " + json.dumps(
    sorted(m for m in heavy if m in sys.modules)) + "\\n"))
sys.argv = ["fraisec", *{args!r}]
from fraisec.__main__ import run
run()
"""


def _loaded_by(*args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    code = _PROBE.format(heavy=HEAVY, args=list(args))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    marker = [line for line in result.stderr.splitlines() if line.startswith("LOADED ")]
    assert marker, result.stderr
    return result, json.loads(marker[-1][len("LOADED "):])


def test_diff_between_databases_imports_nothing_heavy(make_db) -> None:
    a = make_db("CREATE TABLE t (id int PRIMARY KEY);")
    b = make_db("CREATE TABLE t (id int PRIMARY KEY, name text);")
    result, loaded = _loaded_by("diff", a, b)
    assert result.returncode == 0, result.stderr
    assert "ADD COLUMN name text" in result.stdout  # it really diffed
    assert loaded == []


def test_the_other_commands_still_load_what_they_need(tmp_path) -> None:
    (tmp_path / "schema.py").write_text("import fraisec as fq\n\n@fq.entity\nclass Thing:\n    name: str\n")
    result, loaded = _loaded_by("validate", str(tmp_path / "schema.py"))
    assert result.returncode == 0, result.stderr
    assert "fraisec.authoring" in loaded and "fraisec.ir" in loaded
