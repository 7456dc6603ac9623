"""Resolve a field's or argument's Python annotation into an IR ``TypeRef``, lazily.

Annotations are resolved after the whole module has run, in the defining module's namespace,
so forward references and ``from __future__ import annotations`` work. The resolver is one flat
chain of ``_is_x`` checks; anything it does not recognise is a diagnostic, never a pass-through.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, Mapping

from fraisec.authoring.fields import FieldSpec
from fraisec.ir.model import Kind, TypeRef
from fraisec.ir.scalars import BUILTIN_SCALARS

__all__ = ["Resolved", "Unresolved", "resolve_annotation"]


@dataclass(frozen=True)
class Resolved:
    type: TypeRef
    spec: FieldSpec | None  # from Annotated[..., field(...)]


@dataclass(frozen=True)
class Unresolved:
    code: str  # FSC200 unknown name | FSC202 unsupported annotation
    message: str
    unknown_name: str | None = None


class _Failure(Exception):
    def __init__(self, unresolved: Unresolved) -> None:
        self.unresolved = unresolved


def resolve_annotation(annotation: Any, namespace: Mapping[str, Any],
                       known: Mapping[str, Kind]) -> Resolved | Unresolved:
    """``known`` maps registered type names (classes, enums, unions, scalars) to their kind."""
    try:
        spec: list[FieldSpec] = []
        ref = _resolve(annotation, namespace, known, spec)
        return Resolved(ref, spec[0] if spec else None)
    except _Failure as failure:
        return failure.unresolved


def _resolve(ann: Any, ns: Mapping[str, Any], known: Mapping[str, Kind],
             spec: list[FieldSpec], *, nullable: bool = False) -> TypeRef:
    ann = _evaluate(ann, ns)
    if typing.get_origin(ann) is typing.Annotated:
        inner, *metadata = typing.get_args(ann)
        spec.extend(m for m in metadata if isinstance(m, FieldSpec))
        return _resolve(inner, ns, known, spec, nullable=nullable)
    if _is_union(ann):
        members = [m for m in typing.get_args(ann) if m is not type(None)]
        if len(members) != 1:
            raise _Failure(Unresolved("FSC202", f"'{_show(ann)}' is a union of several types",
                                      None))
        return _resolve(members[0], ns, known, spec, nullable=True)
    if _is_list(ann):
        (item,) = typing.get_args(ann) or (None,)
        if item is None:
            raise _Failure(Unresolved("FSC202", "a bare 'list' has no item type"))
        item_ref = _resolve(item, ns, known, spec)
        if item_ref.is_list:
            raise _Failure(Unresolved("FSC202", "nested lists are not supported"))
        return item_ref.model_copy(update={"is_list": True, "nullable": nullable,
                                           "item_nullable": item_ref.nullable})
    return _resolve_named(ann, known).model_copy(update={"nullable": nullable})


def _resolve_named(ann: Any, known: Mapping[str, Kind]) -> TypeRef:
    if ann in BUILTIN_SCALARS:
        return TypeRef(name=BUILTIN_SCALARS[ann], kind=Kind.SCALAR)
    if hasattr(ann, "__supertype__"):  # a NewType: the SDK's scalars, or a custom one
        return TypeRef(name=ann.__name__, kind=Kind.SCALAR)
    name = getattr(ann, "__name__", None)
    if name in known and getattr(ann, "__fraisec_kind__", None) is not None:
        return TypeRef(name=name, kind=known[name])
    if name in known and known[name] in (Kind.UNION, Kind.SCALAR):
        return TypeRef(name=name, kind=known[name])
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        raise _Failure(Unresolved("FSC202", f"enum '{name}' is not registered"))
    raise _Failure(Unresolved("FSC202", f"'{_show(ann)}' is not a supported field type"))


def _evaluate(ann: Any, ns: Mapping[str, Any]) -> Any:
    """Turn a string or ForwardRef annotation into the object it names."""
    if isinstance(ann, typing.ForwardRef):
        ann = ann.__forward_arg__
    if not isinstance(ann, str):
        return ann
    try:
        return eval(ann, dict(ns))  # noqa: S307 - the user's own annotation, in their module
    except NameError as exc:
        raise _Failure(Unresolved("FSC200", f"unknown type '{exc.name}'", exc.name)) from None
    except Exception as exc:  # noqa: BLE001 - any other failure is an unsupported annotation
        raise _Failure(Unresolved("FSC202", f"cannot evaluate annotation '{ann}': {exc}")) from None


def _is_union(ann: Any) -> bool:
    return isinstance(ann, types.UnionType) or typing.get_origin(ann) is typing.Union


def _is_list(ann: Any) -> bool:
    return ann is list or typing.get_origin(ann) in (list, typing.List)  # noqa: UP006


def _show(ann: Any) -> str:
    return getattr(ann, "__name__", None) or str(ann).replace("typing.", "")
