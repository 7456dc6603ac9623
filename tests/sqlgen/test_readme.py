"""examples/saas/README.md shows the generated SQL: its excerpts must be the real output."""

from __future__ import annotations

import re

from fraisec.api import load_ir
from fraisec.render import render_runtime_toml
from tests.sqlgen.conftest import EXAMPLE

BLOCK = re.compile(r"```(sql|toml)\n(.*?)```", re.S)


def test_readme_excerpts_are_verbatim_generated_output(saas_sql):
    readme = (EXAMPLE / "README.md").read_text()
    schema, _ = load_ir(str(EXAMPLE / "schema.py"))
    toml = render_runtime_toml(schema)
    checked = 0
    for kind, body in BLOCK.findall(readme):
        if kind == "sql" and body.lstrip().startswith(("CREATE", "ALTER")):
            assert body.strip() in saas_sql, body[:200]
            checked += 1
        elif kind == "toml":
            for part in body.strip().split("\n\n"):
                assert part.strip() in toml, part
            checked += 1
    assert checked >= 7
