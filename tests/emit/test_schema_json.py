"""schema.json agrees with FraiseQL SDK 2.18 on every key and value the SDK emits.

The SDK's outputs are fixtures produced once with the real SDK (see tests/fixtures/sdk/README.md:
`pip install fraiseql==2.18.0` in a scratch venv, then `fraiseql.export_schema(...)`).
"""

from __future__ import annotations

import json

import pytest

from fraisec.api import compile_schema
from fraisec.emit.schema_json import emit_schema_json
from tests.conftest import FIXTURES

CASES = [
    (FIXTURES / "seed000" / "schema.py", FIXTURES / "seed000" / "sdk-2.18.0-schema.json"),
    (FIXTURES / "sdk" / "full_schema.py", FIXTURES / "sdk" / "sdk-2.18.0-full.json"),
]

# Keys the runtime's intermediate schema accepts (deny_unknown_fields), per struct; from
# fraiseql-and-confiture.md and the SDK's own output.
ALLOWED = {
    "top": {"types", "enums", "input_types", "interfaces", "unions", "queries", "mutations",
            "subscriptions", "naming_convention"},
    "type": {"name", "sql_source", "fields", "description", "implements", "requires_role", "is_error", "relay"},
    "field": {"name", "type", "nullable", "description", "requires_scope", "on_deny", "deprecated", "default"},
    "operation": {"name", "return_type", "returns_list", "nullable", "arguments", "description",
                  "sql_source", "rest", "inject_params", "operation", "requires_role",
                  "cache_ttl_seconds", "deprecated", "jsonb_column"},
}


def _missing_or_different(sdk, ours, path=""):
    """Every value the SDK emits must be in ours, the same (ours may add keys)."""
    problems = []
    if isinstance(sdk, dict):
        for key, value in sdk.items():
            if key not in ours:
                problems.append(f"missing {path}/{key}")
            else:
                problems += _missing_or_different(value, ours[key], f"{path}/{key}")
    elif isinstance(sdk, list):
        if len(sdk) != len(ours):
            return [f"length of {path}: {len(sdk)} != {len(ours)}"]
        for i, (a, b) in enumerate(zip(sdk, ours)):
            problems += _missing_or_different(a, b, f"{path}[{i}]")
    elif sdk != ours or type(sdk) is not type(ours):
        problems.append(f"{path}: SDK {sdk!r} != ours {ours!r}")
    return problems


@pytest.mark.parametrize(("module", "expected"), CASES, ids=["seed000", "full"])
def test_agrees_with_the_sdk_on_every_sdk_value(module, expected):
    artifacts, diagnostics = compile_schema(str(module))
    assert diagnostics == []
    ours = json.loads(artifacts["schema.json"])
    assert _missing_or_different(json.loads(expected.read_text()), ours) == []


def test_seed_queries_gain_the_sql_source_the_sdk_drops():
    artifacts, _ = compile_schema(str(CASES[0][0]))
    queries = {q["name"]: q for q in json.loads(artifacts["schema.json"])["queries"]}
    assert queries["project"]["sql_source"] == "v_project"
    assert queries["members"]["sql_source"] == "v_member"


@pytest.mark.parametrize(("module", "_"), CASES, ids=["seed000", "full"])
def test_only_keys_the_runtime_accepts(module, _):
    artifacts, _ = compile_schema(str(module))
    data = json.loads(artifacts["schema.json"])
    assert set(data) <= ALLOWED["top"]
    for t in data["types"] + data["interfaces"] + data["input_types"]:
        assert set(t) - {"fields"} <= ALLOWED["type"]
        for f in t["fields"]:
            assert set(f) <= ALLOWED["field"], f
    for op in data["queries"] + data["mutations"]:
        assert set(op) <= ALLOWED["operation"], op


def test_deterministic_sorted_and_newline_terminated():
    first, _ = compile_schema(str(CASES[0][0]))
    second, _ = compile_schema(str(CASES[0][0]))
    text = first["schema.json"]
    assert text == second["schema.json"]
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "/work/" not in text and "/tmp/" not in text  # no absolute paths in artifacts


def test_jsonb_column_reaches_the_query(tmp_path):
    """The runtime's IntermediateQuery has jsonb_column (tv_* tables): passed through, not dropped."""
    module = tmp_path / "schema.py"
    module.write_text('import fraisec as fq\n\n@fq.entity\nclass Book:\n    identifier: str\n\n'
                      '@fq.query(sql_source="v_book", jsonb_column="payload")\n'
                      'def books() -> list[Book]: ...\n')
    artifacts, diagnostics = compile_schema(str(module))
    assert diagnostics == []
    (query,) = json.loads(artifacts["schema.json"])["queries"]
    assert query["jsonb_column"] == "payload"
