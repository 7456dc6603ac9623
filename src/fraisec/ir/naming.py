"""The single naming policy: Python names → SQL identifiers and GraphQL names.

Every stage asks this module; no other module builds a ``tb_``/``v_``/``fn_``/``fk_``/``pk_``
name or a camelCase name.
"""

from __future__ import annotations

import re

__all__ = [
    "camel", "fk_column", "function_name", "pk_column", "relation_id_column", "snake",
    "table_name", "view_name",
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
