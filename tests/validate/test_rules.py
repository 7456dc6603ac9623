"""Validation rules, each on a small schema that breaks it (and one that does not)."""

from __future__ import annotations

from fraisec.api import load_ir
from tests.helpers import codes, write_schema

TENANCY = """
from __future__ import annotations
import fraisec as fq
from fraisec.scalars import ID

fq.tenancy(tenant="Organization", claim="org_id")

@fq.entity
class Organization:
    identifier: str = fq.field(unique=True)
    name: str

@fq.entity(tenant=True)
class Project:
    identifier: str
    organization: Organization
    name: str
"""


def _diagnostics(tmp_path, source):
    _, diagnostics = load_ir(str(write_schema(tmp_path, source)))
    return diagnostics


def test_valid_tenancy_schema_has_no_diagnostics(tmp_path):
    assert _diagnostics(tmp_path, TENANCY) == []


def test_unscoped_entity_referencing_tenant_data(tmp_path):
    diagnostics = _diagnostics(tmp_path, TENANCY + """
@fq.entity
class Task:
    project: Project
    title: str
""")
    assert codes(diagnostics) == ["FSC207"]
    location = diagnostics[0].location
    assert "Task" in diagnostics[0].message
    assert open(location.file).read().splitlines()[location.line - 1] == "    project: Project"


def test_required_relation_cycle(tmp_path):
    diagnostics = _diagnostics(tmp_path, """
from __future__ import annotations
import fraisec as fq

@fq.entity
class A:
    b: B

@fq.entity
class B:
    a: A

@fq.entity
class C:
    a: A | None = None
""")
    assert codes(diagnostics) == ["FSC206"]
    assert "A -> B -> A" in diagnostics[0].message or "B -> A -> B" in diagnostics[0].message


def test_optional_relation_breaks_the_cycle(tmp_path):
    assert _diagnostics(tmp_path, """
from __future__ import annotations
import fraisec as fq

@fq.entity
class A:
    b: B | None = None

@fq.entity
class B:
    a: A
""") == []


def test_query_without_sql_source(tmp_path):
    diagnostics = _diagnostics(tmp_path, """
import fraiseql
from fraiseql.scalars import ID

@fraiseql.type
class Member:
    id: ID

@fraiseql.query
def members() -> list[Member]:
    pass
""")
    assert codes(diagnostics) == ["FSC203"] and diagnostics[0].location.line == 8


def test_inject_must_be_a_jwt_claim(tmp_path):
    diagnostics = _diagnostics(tmp_path, TENANCY + """
@fq.query(inject={"org_id": "org_id"})
def projects() -> list[Project]: ...

@fq.mutation(operation="CREATE", inject={"org_id": "jwt_optional:org_id"})
def create_project(identifier: str, name: str) -> Project: ...
""")
    assert codes(diagnostics) == ["FSC204"]  # jwt_optional is fine for mutations only


def test_mutation_arguments_must_map_to_the_entity(tmp_path):
    diagnostics = _diagnostics(tmp_path, TENANCY + """
@fq.mutation(operation="CREATE")
def create_project(identifier: str, title: str) -> Project: ...

@fq.mutation(operation="UPDATE")
def rename_project(name: str) -> Project: ...

@fq.mutation(operation="DELETE")
def delete_project(id: ID, *reasons: str) -> Project: ...
""")
    messages = [d.message for d in diagnostics]
    assert codes(diagnostics) == ["FSC205"] * 4, messages
    assert any("'title'" in m for m in messages)
    assert any("required field 'Project.name'" in m for m in messages)
    assert any("needs an `id: ID`" in m for m in messages)
    assert any("*reasons" in m for m in messages)


def test_generated_mutation_maps_arguments_to_fields(tmp_path):
    schema, diagnostics = load_ir(str(write_schema(tmp_path, TENANCY + """
@fq.mutation(operation="CREATE", inject={"org_id": "jwt:org_id"})
def create_project(identifier: str, name: str) -> Project: ...
""")))
    assert diagnostics == []
    mutation = schema.mutations[0]
    assert mutation.generated and mutation.sql_source == "fn_create_project"
    assert mutation.argument_fields == {"identifier": "identifier", "name": "name"}


def test_tenant_scoped_entity_needs_the_tenant_relation(tmp_path):
    diagnostics = _diagnostics(tmp_path, TENANCY + """
@fq.entity(tenant=True)
class Note:
    body: str
""")
    assert codes(diagnostics) == ["FSC208"]


def test_unscoped_entity_referencing_the_tenant_root(tmp_path):
    diagnostics = _diagnostics(tmp_path, TENANCY + """
@fq.entity
class Invoice:
    organization: Organization
    total: int
""")
    assert codes(diagnostics) == ["FSC207"]


def test_unknown_on_delete_action(tmp_path):
    diagnostics = _diagnostics(tmp_path, TENANCY + """
@fq.entity(tenant=True)
class Note:
    organization: Organization
    project: Project = fq.field(on_delete="DROP EVERYTHING")
""")
    assert codes(diagnostics) == ["FSC209"] and "on_delete" in diagnostics[0].message


def test_activity_observer_needs_an_activity_log_entity(tmp_path):
    diagnostics = _diagnostics(tmp_path, TENANCY + """
fq.observer(Project, on="INSERT", subject="p.created", activity=True)
""")
    assert codes(diagnostics) == ["FSC211"]
