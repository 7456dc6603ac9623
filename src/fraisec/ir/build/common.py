"""What the parts of the builder share: option vocabularies, name patterns, small helpers."""

from __future__ import annotations

from __future__ import annotations
import dataclasses
import inspect
import re
from enum import Enum
from typing import Any, Iterable

from fraisec.diagnostics import Location, did_you_mean
from fraisec.ir import naming
from fraisec.ir.model import Argument, Kind, ObjectType, Tenancy
from fraisec.authoring import scalars as scalar_names
from fraisec.ir.scalars import BUILTIN_SCALARS
from fraisec.load import display_path

_CLASS_KINDS = {"type": Kind.OBJECT, "entity": Kind.OBJECT, "error": Kind.OBJECT,
                "input": Kind.INPUT, "interface": Kind.INTERFACE}
_SDK_FIELD_KEYS = ("requires_scope", "on_deny", "deprecated")
_QUERY_SDK_KEYS = ("cache_ttl_seconds", "requires_role", "deprecated", "relay", "auto_params",
                   "additional_views", "requires_actor", "exclude_inject_defaults", "rest_stream",
                   "pagination_order", "jsonb_column")
# Query options the SDK passes through unchecked and the runtime's schema (deny_unknown_fields)
# has no key for: in schema.json they would be refused, out of it silently dropped.
_QUERY_DROPPED = ("function", "count", "read_routing")
_MUTATION_SDK_KEYS = ("deprecated", "requires_actor", "invalidates_views", "invalidates_fact_tables",
                      "changelog", "changelog_pre_image", "input_style", "cascade",
                      "cascade_source", "success_fields", "cache_ttl_seconds")
_TYPE_SDK_KEYS = ("implements", "requires_role", "relay")
_OPERATIONS = ("CREATE", "INSERT", "UPDATE", "UPSERT", "DELETE", "RESTORE", "PURGE", "INVITE", "ACCEPT",
               "REVOKE", "SIGNUP", "CUSTOM")
_GENERATED_OPERATIONS = ("CREATE", "INSERT", "UPDATE", "UPSERT", "DELETE", "RESTORE", "PURGE", "INVITE",
                         "ACCEPT", "REVOKE", "SIGNUP")
# What @entity(invitation=True) adds (unless declared): when it lapses, its acceptance or
# revocation, and who sent it.
INVITATION_TTL = "now() + interval '7 days'"
# The UPDATE argument listing the nullable fields to set to NULL (NULL itself means "unchanged").
CLEAR_ARGUMENT = "clear"
SOFT_DELETE_FIELD = "deleted_at"
_SQL_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_INJECT = re.compile(r"^(jwt|jwt_optional):([A-Za-z_][A-Za-z0-9_.]*)$")


_RESERVED_TYPES = frozenset({"mutation_error_class", "mutation_response"})  # templates/objects/types.sql.j2


# Every scalar name an annotation may use, for "Did you mean …?" on an unknown name.
_NUMERIC = {"integer", "bigint", "smallint", "double precision", "real", "numeric"}
_EXTENSION = re.compile(r"^[a-z][a-z0-9_-]*$")
_VIEW_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A custom (placeholder) setting: two or more dotted parts (PostgreSQL requires the prefix).
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_SQL_TYPE = re.compile(r"^[a-z][a-z0-9_]*( [a-z][a-z0-9_]*)*( ?\(\d+( ?, ?\d+)?\))?$")
_SCALAR_NAMES = set(scalar_names.__all__) | {t.__name__ for t in BUILTIN_SCALARS}


def _loc(location: Location | None) -> Location | None:
    if location is None:
        return None
    return dataclasses.replace(location, file=display_path(location.file))


def _argument_target(arg: Argument, entity: ObjectType, tenancy: Tenancy | None,
                     tenant_field: str | None) -> str | None:
    field = entity.field(arg.name)
    if field is not None and field.column and not field.relation:
        return field.name
    for f in entity.fields:
        if f.relation and arg.name in (naming.relation_id_column(f.name), f.name) and arg.type.name in ("ID", "UUID"):
            return f.name
    if tenancy is not None and tenant_field and arg.name == tenancy.claim:
        return tenant_field
    return None


def _suggest(name: str, candidates: Iterable[str], fallback: str) -> str:
    return did_you_mean(name, candidates) or fallback


def _doc(cls: type, options: dict[str, Any]) -> str | None:
    if options.get("description"):
        return options["description"]
    return inspect.getdoc(cls) if cls.__doc__ else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _seed_literal(value: Any) -> bool:
    import decimal

    return value is None or isinstance(value, (str, int, float, bool, decimal.Decimal))


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _annotations(cls: type) -> dict[str, Any]:
    """Own and inherited annotations in definition order (bases first)."""
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(klass.__dict__.get("__annotations__", {}))
    return {k: v for k, v in merged.items() if not k.startswith("__")}
