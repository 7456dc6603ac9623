"""The split strategies (schema and database per tenant) on generated schema modules: every
module that compiles in the rls strategy is either split or refused with diagnostics; the
renderer never crashes on an entity without its tenant column."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraisec.api import load_ir
from fraisec.diagnostics import has_errors
from fraisec.render.strategy import render_parts
from tests.test_fuzz_schemas import schema_modules


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema_modules(), st.booleans())
def test_split_strategies_split_or_diagnose(source, shared):
    if shared:  # some entities in database per tenant's shared database
        source = source.replace("@fq.entity\n", '@fq.entity(database="shared")\n', 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "schema.py"
        path.write_text(source)
        schema, diagnostics = load_ir(str(path))
        if schema is None or has_errors(diagnostics):
            return
        for strategy in ("schema", "database"):
            parts, problems = render_parts(schema, strategy)
            if parts is None:
                assert problems and all(p.code.startswith("FSC54") for p in problems), problems
                continue
            assert problems == []
            if strategy == "schema":
                assert "SET search_path = ''" not in parts.tenant
            if not shared:
                assert parts.shared_database == ""
