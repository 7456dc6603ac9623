"""Property: whatever valid schema a module declares, its schema.sql applies to PostgreSQL and
its generated CREATE mutations run as the API role."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import psycopg
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from fraisec.api import load_ir
from fraisec.render import render_schema_sql

# Reserved words and odd-but-valid names on purpose: the renderer must quote them.
FIELD_NAMES = ["name", "order", "user", "select", "group", "value", "data", "status", "limit", "when",
               "title", "count", "check", "to", "end"]
SCALARS = {"str": "'x'", "int": "1", "float": "1.5", "bool": "True", "DateTime": "fq.now()",
           "Json": None, "ID": None, "list[str]": None}


@st.composite
def modules(draw):
    tenancy = draw(st.booleans())
    n_entities = draw(st.integers(1, 4))
    names = [f"E{i}" for i in range(n_entities)]
    lines = ["import fraisec as fq", "from fraisec.scalars import ID, DateTime, Json", ""]
    if tenancy:
        lines += ["fq.tenancy(tenant='Org', claim='org_id', user='Person', membership='Seat')",
                  "@fq.entity", "class Org:", "    identifier: str",
                  "@fq.entity", "class Person:", "    identifier: str",
                  "@fq.entity(tenant=True)", "class Seat:", "    org: Org", "    person: Person",
                  "    role: str = 'member'", ""]
    creates = []
    for index, name in enumerate(names):
        scoped = tenancy and draw(st.booleans())
        lines.append("@fq.entity(tenant=True)" if scoped else "@fq.entity")
        lines.append(f"class {name}:")
        fields = draw(st.lists(st.sampled_from(FIELD_NAMES), max_size=5, unique=True))
        required = []
        for field in fields:
            scalar = draw(st.sampled_from(sorted(SCALARS)))
            optional = draw(st.booleans())
            default = SCALARS[scalar] if draw(st.booleans()) else None
            unique = draw(st.booleans()) and scalar in ("str", "int")
            annotation = f"{scalar} | None" if optional else scalar
            value = " = None" if optional else (f" = {default}" if default else "")
            if unique:
                value = " = fq.field(unique=True)" if not optional else " = fq.field(unique=True, default=None)"
            lines.append(f"    {field}: {annotation}{value}")
            if not optional and not default:
                required.append(field)
        if scoped:
            lines.append("    org: Org")
        earlier = [n for n in names[:index]]
        ref = draw(st.sampled_from(earlier)) if earlier and draw(st.booleans()) else None
        if ref:
            lines.append(f"    parent: {ref} | None = None")
        if not fields and not scoped and not ref:
            lines.append("    identifier: str")
            required.append("identifier")
        lines.append("")
        creates.append((name, required, scoped))
    for name, required, scoped in creates:
        args = ", ".join(f"{f}: {_arg_type(lines, name, f)}" for f in required)
        lines += [f"@fq.mutation(operation='CREATE')", f"def create_{name.lower()}({args}) -> {name}: ...", ""]
        updatable = ", ".join(f"{f}: {_arg_type(lines, name, f).split(' | ')[0]} | None = None" for f in required)
        lines += [f"@fq.mutation(operation='UPDATE')",
                  f"def update_{name.lower()}(id: ID{', ' + updatable if updatable else ''}) -> {name}: ...",
                  f"@fq.mutation(operation='DELETE')", f"def delete_{name.lower()}(id: ID) -> {name}: ...", ""]
    return "\n".join(lines), creates, tenancy


def _arg_type(lines: list[str], entity: str, field: str) -> str:
    start = lines.index(f"class {entity}:")
    for line in lines[start + 1:]:
        if line.strip().startswith(f"{field}:"):
            return line.split(":", 1)[1].split("=")[0].strip()
    return "str"


VALUES = {"str": "v", "int": 7, "float": 2.5, "bool": True, "DateTime": "2026-01-01T00:00:00Z",
          "Json": json.dumps({"k": 1}), "ID": "22222222-2222-2222-2222-222222222222", "list[str]": ["a", "b"]}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(modules())
def test_generated_sql_applies_and_create_mutations_run(make_db, generated):
    text, creates, tenancy = generated
    with tempfile.TemporaryDirectory() as tmp:
        module = Path(tmp) / "schema.py"
        module.write_text(text)
        schema, diagnostics = load_ir(str(module))
    assume(schema is not None and not any(d.severity.value == "error" for d in diagnostics))
    url = make_db(render_schema_sql(schema))
    with psycopg.connect(url) as conn:  # rls.md section 5, check 4 (without tenancy there is no guard)
        loose = conn.execute("""
            SELECT c.relname, p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
            WHERE p.polpermissive AND pg_get_expr(p.polwithcheck, p.polrelid) = 'true'
              AND NOT EXISTS (SELECT FROM pg_policy g WHERE g.polrelid = p.polrelid AND NOT g.polpermissive)
        """).fetchall()
        assert loose == [] or not tenancy, (text, loose)
    context = ("", "")
    if tenancy:
        with psycopg.connect(url) as conn:
            org = conn.execute("INSERT INTO app.tb_org (identifier) VALUES ('o') RETURNING id::text").fetchone()[0]
            person = conn.execute("INSERT INTO app.tb_person (identifier) VALUES ('p') RETURNING id::text").fetchone()[0]
            conn.execute("INSERT INTO app.tb_seat (fk_org, fk_person, role) VALUES (1, 1, 'admin')")
        context = (person, org)
    for name, required, scoped in creates:
        mutation = next(m for m in schema.mutations if m.name == f"create_{name.lower()}")
        args = [VALUES[_scalar_of(a.type)] for a in mutation.arguments]
        with psycopg.connect(url, row_factory=dict_row) as conn:
            conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                         context)
            conn.execute("SET LOCAL ROLE app_user")
            placeholders = ", ".join(["%s"] * len(args))
            result = conn.execute(f"SELECT * FROM app.fn_create_{name.lower()}({placeholders})", args).fetchone()
            if scoped or not tenancy:
                assert result["succeeded"], (text, result)
                view = f"SELECT data FROM app.v_{name.lower()} WHERE id = %s"
                assert result["entity"] == conn.execute(view, (result["entity_id"],)).fetchone()["data"]
                update = next(m for m in schema.mutations if m.name == f"update_{name.lower()}")
                changed = [result["entity_id"]] + [VALUES[_scalar_of(a.type)] for a in update.arguments[1:]]
                marks = ", ".join(["%s"] * len(changed))
                updated = conn.execute(f"SELECT * FROM app.fn_update_{name.lower()}({marks})", changed).fetchone()
                assert updated["succeeded"], (text, updated)
                assert updated["entity"] == conn.execute(view, (result["entity_id"],)).fetchone()["data"]
                deleted = conn.execute(f"SELECT * FROM app.fn_delete_{name.lower()}(%s)", (result["entity_id"],)).fetchone()
                assert (deleted["succeeded"], deleted["entity"]) == (True, updated["entity"]), (text, deleted)
                assert conn.execute(view, (result["entity_id"],)).fetchone() is None
            else:  # a global table in a tenancy schema: read-only unless a mutation writes it
                assert result["succeeded"] or result["error_class"] == "forbidden", (text, result)


def _scalar_of(ref) -> str:
    if ref.is_list:
        return "list[str]"
    return {"String": "str", "Int": "int", "Float": "float", "Boolean": "bool"}.get(ref.name, ref.name)
