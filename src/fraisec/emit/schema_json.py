"""IR → ``schema.json``, the FraiseQL runtime's API contract (its "intermediate schema").

The runtime's compiler rejects unknown keys (``deny_unknown_fields``), so this emits only keys
that FraiseQL SDK 2.18's ``export_schema`` emits, with the same values; fraisec-only facts
(tables, relations, tenancy, observers' triggers) live in ``schema.sql`` and ``fraiseql.toml``
(see docs/schema-json.md). Deterministic: sorted keys, registration order, trailing newline.
"""

from __future__ import annotations

import json
from typing import Any

from fraisec.ir.model import (
    Argument, EnumType, Field, InjectParam, InputType, Interface, Mutation, ObjectType, Query,
    Schema, Subscription, Union,
)

__all__ = ["emit_schema_json", "schema_dict"]


def emit_schema_json(schema: Schema) -> str:
    return json.dumps(schema_dict(schema), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_dict(schema: Schema) -> dict[str, Any]:
    return {
        "types": [_object_type(t) for t in schema.types],
        "enums": [_enum(e) for e in schema.enums],
        "input_types": [_input(i) for i in schema.inputs],
        "interfaces": [_interface(i) for i in schema.interfaces],
        "unions": [_union(u) for u in schema.unions],
        "queries": [_query(q) for q in schema.queries],
        "mutations": [_mutation(m) for m in schema.mutations],
        "subscriptions": [_subscription(s) for s in schema.subscriptions],
        "naming_convention": "camelCase",
    }


def _field(field: Field, *, with_default: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"name": field.graphql_name, "type": field.type.graphql,
                            "nullable": field.type.nullable}
    data.update(field.sdk)
    if field.description is not None:
        data["description"] = field.description
    if with_default and field.has_default:
        data["default"] = field.default_value
    return data


def _object_type(t: ObjectType) -> dict[str, Any]:
    data = {"name": t.name, "sql_source": t.sql_source, "fields": [_field(f) for f in t.fields],
            "description": t.description}
    data.update(t.sdk)
    if t.is_error:
        data["is_error"] = True
    return data


def _enum(e: EnumType) -> dict[str, Any]:
    return {"name": e.name, "values": [{"name": n, "value": v} for n, v in e.values],
            "description": e.description}


def _input(i: InputType) -> dict[str, Any]:
    return {"name": i.name, "fields": [_field(f, with_default=True) for f in i.fields],
            "description": i.description}


def _interface(i: Interface) -> dict[str, Any]:
    return {"name": i.name, "fields": [_field(f) for f in i.fields], "description": i.description}


def _union(u: Union) -> dict[str, Any]:
    return {"name": u.name, "member_types": list(u.members), "description": u.description}


def _argument(a: Argument) -> dict[str, Any]:
    data: dict[str, Any] = {"name": a.graphql_name, "type": a.type.graphql, "nullable": a.type.nullable}
    if a.has_default:
        data["default"] = a.default_value
    return data


def _inject(params: tuple[InjectParam, ...]) -> dict[str, Any]:
    return {p.name: {"source": p.source, "claim": p.claim} for p in params}


_RUNTIME_OPERATIONS = {"RESTORE": "UPDATE", "PURGE": "DELETE", "UPSERT": "UPDATE", "INVITE": "CREATE",
                       "ACCEPT": "UPDATE", "REVOKE": "UPDATE", "SIGNUP": "CREATE"}


def _operation(op: Query | Mutation) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": op.graphql_name, "return_type": op.return_type.name,
        "returns_list": op.return_type.is_list, "nullable": op.return_type.nullable,
        "arguments": [_argument(a) for a in op.arguments], "description": op.description,
    }
    if op.sql_source is not None:
        data["sql_source"] = op.sql_source
    if op.rest_path is not None:
        data["rest"] = {"path": op.rest_path, "method": op.rest_method}
    if op.inject:
        data["inject_params"] = _inject(op.inject)
    data.update(op.sdk)
    return data


def _subscription(s: Subscription) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": s.graphql_name, "return_type": s.return_type.name, "returns_list": s.return_type.is_list,
        "nullable": s.return_type.nullable, "arguments": [_argument(a) for a in s.arguments],
        "description": s.description, "entity_type": s.entity_type,
    }
    if s.topic is not None:
        data["topic"] = s.topic
    if s.filter is not None:
        data["filter"] = s.filter
    data.update(s.sdk)
    return data


def _query(q: Query) -> dict[str, Any]:
    data = _operation(q)
    if q.order_by:  # the view sorts (order_by=): the runtime must not cut pages in another order
        data["pagination_order"] = "none"
    return data


def _mutation(m: Mutation) -> dict[str, Any]:
    data = _operation(m)
    if m.operation is not None:
        # The runtime knows CREATE/INSERT/UPDATE/DELETE/CUSTOM: a RESTORE is an UPDATE to it,
        # a PURGE a DELETE (fraisec's own operations only choose the generated SQL).
        data["operation"] = _RUNTIME_OPERATIONS.get(m.operation, m.operation)
    if m.requires_role is not None:
        data["requires_role"] = m.requires_role
    return data
