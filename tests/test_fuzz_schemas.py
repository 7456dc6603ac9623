"""Generated schema modules (random names, scalars, optionality, relations, decorator arguments):
fraisec reports diagnostics or succeeds, and never ends in an internal error (exit 70)."""

from __future__ import annotations

import keyword
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import run_cli

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n) and n not in {"None", "True", "False"})
scalars = st.sampled_from(["str", "int", "float", "bool", "ID", "DateTime", "Email", "Json",
                           "set[int]", "dict[str, int]", "Nope", "list[str]", "tuple"])
decorators = st.sampled_from(["fq.entity", "fq.type", "fq.input", "fq.entity(tenant=True)",
                              "fq.type(sql_source='v_x')", "fq.entity(bogus=1)", "fq.interface"])
op_kwargs = st.sampled_from(["", "operation='CREATE'", "operaton='CREATE'", "inject={'org_id': 'jwt:org_id'}",
                             "inject={'x': 'nope'}", "sql_source='fn x'", "operation='DELETE'",
                             "requires_role='admin'", "inject=3"])


@st.composite
def schema_modules(draw):
    class_names = draw(st.lists(names.map(str.capitalize), min_size=1, max_size=4))
    lines = ["from __future__ import annotations", "import fraisec as fq",
             "from fraisec.scalars import ID, DateTime, Email, Json"]
    if draw(st.booleans()):
        lines.append(f"fq.tenancy(tenant={class_names[0]!r}, claim='org_id')")
    for cls in class_names:
        lines += ["", f"@{draw(decorators)}", f"class {cls}:"]
        fields = draw(st.lists(names.map(str.lower), min_size=0, max_size=5, unique=True))
        for field in fields:
            kind = draw(st.one_of(scalars, st.sampled_from(class_names)))
            optional = " | None" if draw(st.booleans()) else ""
            default = draw(st.sampled_from(["", " = None", " = 'x'", " = fq.now()", " = fq.field(unique=True)",
                                            " = fq.field(unique=True, oops=1)"]))
            lines.append(f"    {field}: {kind}{optional}{default}")
        lines.append("    pass")
    for i in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(class_names))
        returns = draw(st.sampled_from([target, f"list[{target}]", f"{target} | None", "int"]))
        kind = draw(st.sampled_from(["query", "mutation"]))
        args = ", ".join(f"{a}: {draw(scalars)}" for a in draw(st.lists(names.map(str.lower), max_size=3, unique=True)))
        lines += ["", f"@fq.{kind}({draw(op_kwargs)})", f"def op_{i}({args}) -> {returns}:", "    ..."]
    if draw(st.booleans()):
        lines.append(f"fq.observer({class_names[-1]}, on={draw(st.sampled_from(['INSERT', 'x']))!r}, subject='s')")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema_modules())
def test_generated_schemas_never_crash(source):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "schema.py"
        path.write_text(source)
        result = run_cli("--format", "json", "compile", str(path), "--out", str(Path(tmp) / "out"))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{result.exception!r}\n--- schema ---\n{source}")
    assert result.exit_code in (0, 1), f"exit {result.exit_code}\n{result.output}\n{source}"
