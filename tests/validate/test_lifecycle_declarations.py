"""Declarations for the seeds' applications: each misuse is one diagnostic with its code, and
nothing the SDK accepts is silently dropped (subscriptions are emitted; crud=True and observer
conditions are refused)."""

from __future__ import annotations

import json

import pytest

from fraisec.api import load_ir
from fraisec.emit.schema_json import emit_schema_json
from tests.helpers import codes, write_schema
from tests.render.test_edge_schemas import ORG_PERSON_SEAT

# The shared org/person/seat tenancy, with two roles.
BASE = ("from __future__ import annotations\nimport fraisec as fq\nfrom fraisec.scalars import ID, DateTime\n"
        + ORG_PERSON_SEAT.replace('membership="Seat")', 'membership="Seat", roles=("admin", "member"))'))


def _load(tmp_path, body: str):
    return load_ir(str(write_schema(tmp_path, BASE + body)))


@pytest.mark.parametrize("body, code", [
    # writes=: unknown command, unknown role
    ('\n@fq.entity(tenant=True, writes={"MERGE": None})\nclass Doc:\n    org: Org\n', "FSC221"),
    ('\n@fq.entity(tenant=True, writes={"INSERT": "admn"})\nclass Doc:\n    org: Org\n', "FSC221"),
    # maintained fields: current_user on a non-user field, or written by an argument
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    title: str = fq.current_user()\n", "FSC222"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    owner: Org = fq.current_user()\n", "FSC222"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    title: str\n    author: Person = fq.current_user()\n"
     '\n@fq.mutation(operation="CREATE")\ndef create_doc(title: str, author_id: ID) -> Doc: ...\n', "FSC222"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    touched: int = fq.now(on_update=True)\n", "FSC222"),
    # soft delete: a conflicting deleted_at, RESTORE without soft delete
    ("\n@fq.entity(tenant=True, soft_delete=True)\nclass Doc:\n    org: Org\n    deleted_at: str\n", "FSC223"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n"
     '\n@fq.mutation(operation="RESTORE")\ndef restore_doc(id: ID) -> Doc: ...\n', "FSC223"),
    # aggregates: not an entity, no relation back, not numeric
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    n: int = fq.count("Nothing")\n', "FSC224"),
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    n: int = fq.count("Person")\n', "FSC224"),
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    title: str\n'
     '\n@fq.entity\nclass X:\n    identifier: str\n    total: int = fq.sum("Seat", "role")\n', "FSC224"),
    # clear list: on a CREATE, or with nothing optional to clear
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    title: str\n"
     '\n@fq.mutation(operation="CREATE")\ndef create_doc(title: str, clear: list[str] | None = None) -> Doc: ...\n',
     "FSC205"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    title: str\n"
     '\n@fq.mutation(operation="UPDATE")\ndef update_doc(id: ID, title: str | None = None, '
     "clear: list[str] | None = None) -> Doc: ...\n", "FSC205"),
    # index kinds, column types, extensions, search
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    __indexes__ = [fq.index("nope")]\n', "FSC227"),
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    t: str\n    __indexes__ = [fq.index("t", using="rtree")]\n',
     "FSC227"),
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    t: str = fq.field(sql_type="text; DROP TABLE x")\n',
     "FSC227"),
    ('\nfq.extension("pg crypto")\n', "FSC227"),
    ('\n@fq.entity(tenant=True, search={"n": "A"})\nclass Doc:\n    org: Org\n    n: int\n', "FSC228"),
    ('\n@fq.entity(tenant=True, search={"t": "E"})\nclass Doc:\n    org: Org\n    t: str\n', "FSC228"),
    # filtered views and derived identifiers
    ('\n@fq.entity(tenant=True, views={"Bad-Name": "true"})\nclass Doc:\n    org: Org\n', "FSC229"),
    ('\n@fq.entity(tenant=True, views={"live": "true; DROP TABLE x"})\nclass Doc:\n    org: Org\n', "FSC229"),
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    identifier: str = fq.slug("nothing")\n', "FSC222"),
    # ownership, transitions, upserts
    ('\n@fq.entity(tenant=True, owned_by="org")\nclass Doc:\n    org: Org\n', "FSC230"),
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    state: str = fq.field(default="a", transitions=["a"])\n',
     "FSC230"),
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    key: str\n    n: int = 0\n'
     '\n@fq.mutation(operation="UPSERT", conflict=("key",))\ndef put_doc(key: str, n: int = 1) -> Doc: ...\n', "FSC230"),
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    key: str\n    n: int = 0\n    __unique__ = [("org", "key")]\n'
     '\n@fq.mutation(operation="UPSERT", conflict=("key",), increment=("key",))\ndef put_doc(key: str, n: int = 1) -> Doc: ...\n',
     "FSC230"),
    # invitations, service
    ('\n@fq.entity(tenant=True, invitation=True)\nclass Doc:\n    org: Org\n', "FSC231"),
    ('\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n'
     '\n@fq.mutation(operation="ACCEPT")\ndef accept(token: str) -> Doc: ...\n', "FSC231"),
    ('\n@fq.entity(tenant=True, invitation=True)\nclass Inv:\n    org: Org\n    email: str\n'
     '\n@fq.mutation(operation="ACCEPT")\ndef accept(token: str) -> Inv: ...\n', "FSC231"),  # Person has no email
    ('\n@fq.entity(tenant=True, service=("MERGE",))\nclass Doc:\n    org: Org\n', "FSC232"),
    ('\n@fq.entity(tenant=True, service=("SELECT",))\nclass Doc:\n    org: Org\n    n: int = 0\n'
     '\n@fq.mutation(operation="UPDATE", service=True)\ndef set_doc(id: ID, n: int | None = None) -> Doc: ...\n',
     "FSC232"),
    # permissions
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    n: int = 0\n"
     '\n@fq.mutation(operation="UPDATE", requires_permission="nope")\ndef set_doc(id: ID, n: int | None = None) -> Doc: ...\n',
     "FSC233"),
    # native enums and their value renames
    ('\nfrom enum import Enum\n@fq.enum(native="yes")\nclass Tier(Enum):\n    FREE = "free"\n', "FSC234"),
    ('\nfrom enum import Enum\n@fq.enum(native=True)\nclass MutationResponse(Enum):\n    A = "a"\n', "FSC234"),
    ('\nfrom enum import Enum\n@fq.enum(native=True)\nclass VDoc(Enum):\n    A = "a"\n', "FSC234"),
    ('\nfrom enum import Enum\n@fq.enum(renamed_from={"paid": "payed"})\nclass S(Enum):\n    PAID = "paid"\n',
     "FSC235"),  # a text enum: its values are a CHECK
    ('\nfrom enum import Enum\n@fq.enum(native=True, renamed_from={"paid": "payed"})\nclass S(Enum):\n'
     '    PAID = "paid"\n    PAYED = "payed"\n', "FSC235"),  # the old value is still a member
    ('\nfrom enum import Enum\n@fq.enum(native=True, renamed_from={"gone": "payed"})\nclass S(Enum):\n'
     '    PAID = "paid"\n', "FSC235"),  # the new value is not a member
    ('\nfrom enum import Enum\n@fq.enum(nativ=True)\nclass S(Enum):\n    PAID = "paid"\n', "FSC104"),
    # typed lengths and precisions
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    n: int = fq.field(max_length=3)\n", "FSC237"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    t: str = fq.field(max_length=0)\n", "FSC237"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    t: str = fq.field(precision=5)\n", "FSC237"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    x: float = fq.field(precision=5, scale=6)\n",
     "FSC237"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    t: str = fq.field(max_length=5, sql_type=\"text\")\n",
     "FSC237"),
    # batch create: one list-of-input argument, nothing else
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    t: str\n"
     '\n@fq.mutation(operation="CREATE")\ndef create_docs(t: list[str]) -> list[Doc]: ...\n', "FSC250"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    t: str\n\n@fq.input\nclass NewDoc:\n    t: str\n"
     '\n@fq.mutation(operation="CREATE", inject={"org_id": "jwt:org_id"})\n'
     "def create_docs(items: list[NewDoc]) -> list[Doc]: ...\n", "FSC250"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n    t: str\n\n@fq.input\nclass NewDoc:\n    t: str\n    x: str\n"
     '\n@fq.mutation(operation="CREATE")\ndef create_docs(items: list[NewDoc]) -> list[Doc]: ...\n', "FSC205"),
    # seeded rows: a global entity with an identifier, plain columns, literal values
    ('\n@fq.entity(tenant=True, seed=[{"identifier": "a"}])\nclass Doc:\n    org: Org\n    identifier: str\n',
     "FSC254"),
    ('\n@fq.entity(seed=[{"identifier": "a", "nme": "A"}])\nclass Kind:\n    identifier: str\n    name: str = ""\n',
     "FSC254"),
    ('\n@fq.entity(seed=[{"identifier": "a"}, {"identifier": "a"}])\nclass Kind:\n    identifier: str\n', "FSC254"),
    ('\n@fq.entity(seed=[{"identifier": "a"}])\nclass Kind:\n    identifier: str\n    name: str\n', "FSC254"),
    ('\n@fq.entity(seed=[{"identifier": "a", "n": [1]}])\nclass Kind:\n    identifier: str\n    n: int = 0\n',
     "FSC254"),
    ('\n@fq.entity(seed=[{"name": "A"}])\nclass Kind:\n    name: str\n', "FSC254"),
    # nothing accepted and dropped
    ("\n@fq.entity(tenant=True, crud=True)\nclass Doc:\n    org: Org\n", "FSC226"),
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n"
     '\nfq.observer(Doc, on="INSERT", subject="d.created", condition="true")\n', "FSC226"),
    *[("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n"
       f'\n@fq.query(sql_source="v_doc", {key}="x")\ndef docs() -> list[Doc]: ...\n', "FSC226")
      for key in ("function", "count", "read_routing")],
    ("\n@fq.entity(tenant=True)\nclass Doc:\n    org: Org\n\n@fq.subscription\ndef doc_changed() -> Doc: ...\n",
     "FSC225"),
])
def test_each_misdeclaration_is_one_diagnostic(tmp_path, body, code):
    _, diagnostics = _load(tmp_path, body)
    assert codes(diagnostics) == [code], [str(d) for d in diagnostics]


def test_well_declared_lifecycle_has_no_diagnostics_and_subscriptions_are_emitted(tmp_path):
    schema, diagnostics = _load(tmp_path, """
@fq.entity(tenant=True, soft_delete=True, writes={"INSERT": "admin"})
class Doc:
    org: Org
    title: str
    note: str | None = None
    author: Person = fq.current_user()
    updated_at: DateTime = fq.now(on_update=True)

@fq.entity
class Shelf:
    identifier: str
    label_count: int = fq.count("Label", via="shelf")

@fq.entity(tenant=True)
class Label:
    org: Org
    shelf: Shelf

@fq.mutation(operation="UPDATE")
def update_doc(id: ID, note: str | None = None, clear: list[str] | None = None) -> Doc: ...

@fq.mutation(operation="RESTORE")
def restore_doc(id: ID) -> Doc: ...

@fq.subscription(topic="docs")
def doc_changed(org_id: ID) -> Doc: ...

fq.observer(Doc, on="UPDATE", subject="d.updated")
""")
    assert diagnostics == [], [str(d) for d in diagnostics]
    update = next(m for m in schema.mutations if m.name == "update_doc")
    assert update.clearable == ("note",)
    data = json.loads(emit_schema_json(schema))
    [subscription] = data["subscriptions"]
    assert (subscription["name"], subscription["entity_type"], subscription["topic"]) == ("docChanged", "Doc", "docs")
    assert [a["name"] for a in subscription["arguments"]] == ["orgId"]
    restore = next(m for m in data["mutations"] if m["name"] == "restoreDoc")
    assert restore["operation"] == "UPDATE"  # the runtime's vocabulary
    doc = next(t for t in data["types"] if t["name"] == "Doc")
    assert "deletedAt" in {f["name"] for f in doc["fields"]}
