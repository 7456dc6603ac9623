"""IR → PostgreSQL enum types for ``@enum(native=True)``.

An enum is text with a CHECK unless declared native: then it is ``CREATE TYPE … AS ENUM``
in the exposed schema, owned by the owner role like every table. USAGE is revoked from
PUBLIC and granted to nobody: PostgreSQL checks it only when an object is created with the
type, which no runtime role does (they read, write and cast values without it).
"""

from __future__ import annotations

from dataclasses import dataclass

from fraisec.ir.model import EnumType, Field, Kind
from fraisec.render.model import Model
from fraisec.render.quoting import quote_literal

__all__ = ["EnumTypeSql", "enum_types", "native_enum"]


@dataclass(frozen=True)
class EnumTypeSql:
    template = "objects/enum_type.sql.j2"
    name: str  # qualified
    enum: str  # the GraphQL enum
    labels: tuple[str, ...]

    @property
    def labels_sql(self) -> str:
        return ", ".join(quote_literal(label) for label in self.labels)


def enum_types(model: Model) -> list[EnumTypeSql]:
    """In declaration order: the order of the values is the type's sort order."""
    return [EnumTypeSql(e.sql_type, e.name, tuple(str(v) for _, v in e.values))
            for e in model.schema.enums if e.sql_type]


def native_enum(model: Model, field: Field | None) -> EnumType | None:
    """The native enum a column of ``field`` has, or None (text, or not an enum)."""
    if field is None or field.type.kind is not Kind.ENUM or field.type.is_list or not field.column:
        return None
    found = next((e for e in model.schema.enums if e.name == field.type.name), None)
    return found if found is not None and found.sql_type and field.sql_type == found.sql_type else None
