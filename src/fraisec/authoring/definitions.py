"""Raw definition records: what the decorators saw, before any cross-type resolution.

Decorators only record (style principle 2). Resolution of annotations, references and names
happens in ``fraisec.ir.build``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from fraisec.diagnostics import Location

__all__ = [
    "ClassDef",
    "EnumDef",
    "ObserverDef",
    "OperationDef",
    "ScalarDef",
    "TenancyDef",
    "UnionDef",
]


@dataclass(frozen=True)
class ClassDef:
    """A class decorated as type, entity, input, interface or error."""

    kind: str  # "type" | "entity" | "input" | "interface" | "error"
    cls: type
    options: dict[str, Any]
    location: Location
    namespace: dict[str, Any]  # the defining module's globals, for lazy annotation resolution
    member_lines: dict[str, int] = field(default_factory=dict)  # annotated attribute -> line

    @property
    def name(self) -> str:
        return self.cls.__name__


@dataclass(frozen=True)
class EnumDef:
    cls: type
    location: Location
    options: dict = field(default_factory=dict)  # native=, renamed_from=

    @property
    def name(self) -> str:
        return self.cls.__name__


@dataclass(frozen=True)
class UnionDef:
    name: str
    members: tuple[Any, ...]
    description: str | None
    location: Location


@dataclass(frozen=True)
class ScalarDef:
    name: str
    description: str | None
    location: Location


@dataclass(frozen=True)
class OperationDef:
    """A decorated query or mutation function (its body is never called)."""

    kind: str  # "query" | "mutation"
    func: Callable[..., Any]
    options: dict[str, Any]
    config: dict[str, Any]  # read from ``return fraiseql.config(...)`` in the body
    location: Location
    namespace: dict[str, Any]

    @property
    def name(self) -> str:
        return self.func.__name__


@dataclass(frozen=True)
class ObserverDef:
    target: Any  # the entity class (or its name)
    on: str
    subject: str
    options: dict[str, Any]
    location: Location


@dataclass(frozen=True)
class TenancyDef:
    options: dict[str, Any]
    location: Location


@dataclass
class RawSchema:
    """Everything one load registered, in registration order."""

    classes: list[ClassDef] = field(default_factory=list)
    enums: list[EnumDef] = field(default_factory=list)
    unions: list[UnionDef] = field(default_factory=list)
    scalars: list[ScalarDef] = field(default_factory=list)
    operations: list[OperationDef] = field(default_factory=list)
    observers: list[ObserverDef] = field(default_factory=list)
    tenancy: list[TenancyDef] = field(default_factory=list)
    extensions: list[tuple[str, Location]] = field(default_factory=list)
