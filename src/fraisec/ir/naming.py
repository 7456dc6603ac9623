"""The single naming policy: Python names → SQL identifiers and GraphQL names.

Every stage asks this module; no other module builds a ``tb_``/``v_``/``fn_``/``fk_``/``pk_``
name or a camelCase name.
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "camel", "fk_column", "function_name", "pk_column", "relation_id_column", "snake",
    "table_name", "view_name", "object_name",
]

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """``HTTPServer`` → ``http_server``, ``ProjectTag`` → ``project_tag`` (not ``h_t_t_p``)."""
    return _BOUNDARY.sub("_", name).lower()


def camel(name: str) -> str:
    """GraphQL field/argument/operation name: ``created_at`` → ``createdAt`` (the SDK's rule)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def table_name(entity: str) -> str:
    return f"tb_{snake(entity)}"


def enum_type_name(enum: str) -> str:
    """``@enum(native=True) class OrderStatus`` → the type ``order_status``."""
    return snake(enum)


def view_name(entity: str) -> str:
    return f"v_{snake(entity)}"


def pk_column(entity: str) -> str:
    return f"pk_{snake(entity)}"


def fk_column(field: str) -> str:
    """The bigint column that holds a relation: field ``organization`` → ``fk_organization``."""
    return f"fk_{field}"


def relation_id_column(field: str) -> str:
    """The uuid a view exposes and a mutation accepts for a relation: ``organization_id``."""
    return f"{field}_id"


def function_name(operation: str) -> str:
    """Mutation function: ``create_project`` → ``fn_create_project``."""
    return f"fn_{snake(operation)}"


# PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes; two long names that share a
# prefix would then collide silently, so long names keep a short hash of the full name.
_MAX_IDENTIFIER = 63


def object_name(prefix: str, *parts: str) -> str:
    """Generated SQL objects without a trinity name (constraints, indexes, policies, triggers).

    ``object_name("uq", "tb_project", "fk_organization", "identifier")`` →
    ``uq_project_fk_organization_identifier``; ``tb_`` is dropped from a leading table name.
    Names longer than PostgreSQL's 63 bytes end in a hash of the full name instead.
    """
    words = [parts[0].removeprefix("tb_"), *parts[1:]] if parts else []
    name = "_".join([prefix, *words])
    if len(name.encode()) <= _MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return name.encode()[: _MAX_IDENTIFIER - 9].decode(errors="ignore") + "_" + digest
