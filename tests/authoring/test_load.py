"""Loading schema modules: fresh registries, the fraiseql alias, and bad input as diagnostics."""

from __future__ import annotations

import sys

from fraisec.api import load_ir
from fraisec.load import load_schema
from tests.conftest import FIXTURES
from tests.helpers import codes, write_schema

SEED = str(FIXTURES / "seed000" / "schema.py")


def test_seed_000_schema_loads_unchanged():
    schema, diagnostics = load_ir(SEED)
    assert diagnostics == []
    assert [t.name for t in schema.types] == ["Organization", "Project", "Member", "Activity"]
    # `return fraiseql.config(sql_source=...)` in a query body is read, not dropped.
    assert {q.name: q.sql_source for q in schema.queries} == {
        "projects": "v_project", "members": "v_member", "activity": "v_activity", "project": "v_project",
    }


def test_loading_twice_gives_the_same_result_and_leaks_nothing():
    first, _ = load_ir(SEED)
    second, _ = load_ir(SEED)
    assert first == second
    assert "fraiseql" not in sys.modules or not hasattr(sys.modules["fraiseql"], "entity")


def test_module_level_state_does_not_survive_between_loads(tmp_path):
    path = write_schema(tmp_path, """
        import fraiseql
        from fraiseql.scalars import ID
        @fraiseql.type(sql_source="v_a")
        class A:
            id: ID
    """)
    assert len(load_schema(str(path)).raw.classes) == 1
    assert len(load_schema(str(path)).raw.classes) == 1


def test_dotted_module_name(tmp_path, monkeypatch):
    package = tmp_path / "myapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    write_schema(package, """
        import fraisec as fq
        @fq.type(sql_source="v_thing")
        class Thing:
            name: str
    """)
    monkeypatch.chdir(tmp_path)
    schema, diagnostics = load_ir("myapp.schema")
    assert diagnostics == [] and schema.types[0].name == "Thing"


def test_forward_references_and_future_annotations(tmp_path):
    path = write_schema(tmp_path, """
        from __future__ import annotations
        import fraisec as fq

        @fq.entity
        class Project:
            owner: User
            tags: list[str]
            parent: Project | None = None

        @fq.entity
        class User:
            name: str
    """)
    schema, diagnostics = load_ir(str(path))
    assert diagnostics == []
    project = schema.type("Project")
    assert project.field("owner").relation == "User"
    assert project.field("owner").column == "fk_owner"
    assert project.field("parent").type.nullable is True
    assert project.field("tags").type.graphql == "[String!]"


def _first(path):
    _, diagnostics = load_ir(str(path))
    assert diagnostics, "expected a diagnostic"
    return diagnostics[0]


def test_syntax_error_is_located(tmp_path):
    path = write_schema(tmp_path, "import fraiseql\nclass A:\n    x: int =\n")
    d = _first(path)
    assert (d.code, d.location.line) == ("FSC101", 3)


def test_failing_import_is_located(tmp_path):
    path = write_schema(tmp_path, "import fraiseql\nimport no_such_package_xyz\n")
    d = _first(path)
    assert (d.code, d.location.line) == ("FSC102", 2)


def test_exception_at_import_time_is_located(tmp_path):
    path = write_schema(tmp_path, "import fraiseql\n\nVALUE = {}['missing']\n")
    d = _first(path)
    assert (d.code, d.location.line) == ("FSC103", 3) and "KeyError" in d.message


def test_unknown_type_suggests_the_closest_name(tmp_path):
    path = write_schema(tmp_path, """
        import fraiseql
        from fraiseql.scalars import ID

        @fraiseql.type(sql_source="v_project")
        class Project:
            id: ID
            owner: Usr

        @fraiseql.type(sql_source="v_user")
        class User:
            id: ID
    """)
    d = _first(path)
    assert d.code == "FSC200" and d.location.line == 7 and "Did you mean 'User'" in d.hint


def test_unknown_decorator_argument_is_an_error(tmp_path):
    path = write_schema(tmp_path, """
        import fraiseql
        from fraiseql.scalars import ID

        @fraiseql.type(sql_source="v_p")
        class P:
            id: ID

        @fraiseql.mutation(sql_source="fn_create_p", operaton="CREATE")
        def create_p(name: str) -> P:
            pass
    """)
    d = _first(path)
    assert d.code == "FSC104" and d.location.line == 8 and "'operation'" in d.hint


def test_unsupported_annotation(tmp_path):
    path = write_schema(tmp_path, """
        import fraiseql
        @fraiseql.type(sql_source="v_p")
        class P:
            tags: set[str]
            pair: int | str
    """)
    _, diagnostics = load_ir(str(path))
    assert codes(diagnostics) == ["FSC202", "FSC202"]
    assert [d.location.line for d in diagnostics] == [4, 5]


def test_all_problems_are_reported_at_once(tmp_path):
    path = write_schema(tmp_path, """
        from __future__ import annotations
        import fraiseql
        @fraiseql.type(sql_source="v_p")
        class P:
            a: Nope
            b: set[int]
        @fraiseql.type(sql_source="v_p2")
        class P:
            c: int
        @fraiseql.query(inject={"x": "cookie:x"}, sql_source="v_p")
        def ps() -> list[P]: ...
    """)
    _, diagnostics = load_ir(str(path))
    assert sorted(codes(diagnostics)) == ["FSC200", "FSC201", "FSC202", "FSC204"]


def test_name_defined_later_without_future_import(tmp_path):
    path = write_schema(tmp_path, """
        import fraiseql
        @fraiseql.type(sql_source="v_p")
        class P:
            owner: User
        @fraiseql.type(sql_source="v_u")
        class User:
            name: str
    """)
    d = _first(path)
    assert d.code == "FSC200" and d.location.line == 4 and "from __future__ import annotations" in d.hint


def test_missing_file():
    d = _first("does/not/exist.py")
    assert d.code == "FSC100"
