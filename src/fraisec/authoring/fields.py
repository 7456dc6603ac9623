"""Field options: ``field()``, ``computed()``, ``now()`` and ``sql()`` defaults.

``field()`` takes the SDK's parameters (``requires_scope``, ``description``, …) and the ones a
compiler needs (``unique``, ``index``, ``default``, ``renamed_from``, ``on_delete``). It can be
used as a class attribute default (``email: Email = field(unique=True)``) or as ``Annotated``
metadata (``Annotated[Email, field(unique=True)]``), the SDK's form.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field as dc_field
from typing import Any

from fraisec.authoring.registry import current_registry
from fraisec.diagnostics import Location, did_you_mean, error

__all__ = [
    "CurrentUser", "FieldSpec", "IndexSpec", "MISSING", "SqlDefault", "computed", "count", "current_user",
    "field", "index", "now", "slug", "sql", "sum", "Slug",
]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class SqlDefault:
    """A column default written in SQL (``now()``, ``gen_random_uuid()``, …)."""

    expression: str
    on_update: bool = False  # ``now(on_update=True)``: also set on every UPDATE, by a trigger


@dataclass(frozen=True)
class Slug:
    """``identifier: str = fq.slug("title")``: derived from another field when not given."""

    source: str


@dataclass(frozen=True)
class CurrentUser:
    """A relation to the user entity filled from the request's user, never from an argument."""

    on_update: bool = False


def now(on_update: bool = False) -> SqlDefault:
    """Default a timestamp column to the transaction time; ``on_update=True`` also sets it on
    every UPDATE (a trigger, so hand-written writes keep it current too)."""
    return SqlDefault("now()", on_update=bool(on_update))


def slug(source: str) -> Slug:
    """A text field derived on INSERT from ``source`` when the write leaves it empty: lower
    case, runs of other characters as one ``-`` ("Hello, World!" → ``hello-world``)."""
    return Slug(source)


def current_user(on_update: bool = False) -> CurrentUser:
    """``author: User = fq.current_user()``: the calling user, set by a trigger on INSERT (and,
    with ``on_update=True``, on every UPDATE: ``updated_by``). Never an argument, never writable
    by the API role, so nobody can attribute a row to someone else."""
    return CurrentUser(on_update=bool(on_update))


def sql(expression: str) -> SqlDefault:
    """Default a column to a SQL expression (trusted: it is written by the schema's author)."""
    return SqlDefault(expression)


# The SDK's field() parameters, then fraisec's.
SDK_FIELD_OPTIONS = frozenset({
    "requires_scope", "on_deny", "deprecated", "description", "computed", "external", "requires",
    "provides", "shareable", "inaccessible", "override_from", "vector_config", "vector_distance",
})
FRAISEC_FIELD_OPTIONS = frozenset({
    "unique", "index", "default", "renamed_from", "on_delete", "sql_type", "expression", "aggregate",
    "transitions", "max_length", "precision", "scale",
})
FIELD_OPTIONS = SDK_FIELD_OPTIONS | FRAISEC_FIELD_OPTIONS


@dataclass(frozen=True)
class FieldSpec:
    options: dict[str, Any] = dc_field(default_factory=dict)
    location: Location | None = None

    @property
    def default(self) -> Any:
        return self.options.get("default", MISSING)


def field(**options: Any) -> Any:
    """Options for one field. Unknown options are a diagnostic (FSC104), never ignored.

    Args:
        unique: a UNIQUE constraint on the column (per tenant on tenant-scoped entities).
        index: a btree index on the column (tenant column first on tenant-scoped entities).
        default: a literal or ``now()``/``sql("…")`` column default.
        renamed_from: the field's previous name; migrations RENAME instead of drop and add.
        on_delete: for a relation, the foreign key's ON DELETE action.
        max_length: a str field's column is ``varchar(max_length)``.
        precision, scale: a Decimal (or float) field's column is ``numeric(precision, scale)``.
        description, requires_scope, deprecated, …: as in the FraiseQL SDK.
    """
    location = _caller_location()
    for name in sorted(set(options) - FIELD_OPTIONS):
        hint = did_you_mean(name, FIELD_OPTIONS) or "Remove it."
        current_registry().report(error(
            "FSC104", f"field() got an unknown argument '{name}'", location,
            hint=f"{hint} Known: {', '.join(sorted(FIELD_OPTIONS))}.",
        ))
    return FieldSpec({k: v for k, v in options.items() if k in FIELD_OPTIONS}, location)


def computed(expression: str, **options: Any) -> Any:
    """A read-only field computed in the view by a SQL expression.

    ``{row}`` in the expression stands for the entity's row (its table alias in the view) and
    ``{schema}`` for the schema the tables live in, e.g.
    ``computed("(SELECT count(*) FROM {schema}.tb_membership m WHERE m.fk_organization = {row}.pk_organization)")``.
    """
    spec = field(**options)
    return FieldSpec({**spec.options, "expression": expression, "computed": True}, spec.location)


@dataclass(frozen=True)
class IndexSpec:
    """``fq.index("created_at", desc=True)`` in ``__indexes__``: an index beyond the default
    btree (tenant column first on tenant tables, for btree)."""

    fields: tuple[str, ...]
    desc: tuple[str, ...] = ()
    using: str = "btree"
    where: str | None = None  # SQL over the columns, written by the schema's author
    include: tuple[str, ...] = ()
    unique: bool = False
    location: Location | None = None


def index(*fields: str, desc: bool | tuple[str, ...] | list[str] = (), using: str = "btree",
          where: str | None = None, include: tuple[str, ...] | list[str] = (), unique: bool = False) -> IndexSpec:
    """An index of ``fields``: ``desc=True`` (or the fields to sort descending), ``using="gin"``
    (or gist, brin, hash), a partial ``where="published"``, ``include=("title",)`` columns,
    ``unique=True`` (per tenant on tenant tables)."""
    descending = tuple(fields) if desc is True else tuple(desc or ())
    return IndexSpec(tuple(fields), descending, str(using).lower(), where, tuple(include), bool(unique),
                     _caller_location())


def count(entity: Any, via: str | None = None, **options: Any) -> Any:
    """A read-only count of the rows of ``entity`` that point at this one (by its relation field
    ``via``, which may be left out when there is only one), e.g. ``comment_count: int =
    fq.count("Comment")``. Computed in the view under the caller's RLS; deleted rows of a
    soft-delete entity are not counted."""
    return _aggregate("count", entity, None, via, options)


def sum(entity: Any, field: str, via: str | None = None, **options: Any) -> Any:  # noqa: A001 - fq.sum
    """A read-only sum of ``field`` over the rows of ``entity`` that point at this one (0 when
    none), with the same rules as ``count``."""
    return _aggregate("sum", entity, field, via, options)


def _aggregate(kind: str, entity: Any, field_name: str | None, via: str | None,
               options: dict[str, Any]) -> Any:
    spec = field(**options)
    target = getattr(entity, "__name__", entity)
    return FieldSpec({**spec.options, "aggregate": (kind, str(target), field_name, via), "computed": True},
                     _caller_location(3))


def _caller_location(depth: int = 2) -> Location | None:
    try:
        frame = sys._getframe(depth)
    except ValueError:  # pragma: no cover - no such frame
        return None
    return Location(file=frame.f_code.co_filename, line=frame.f_lineno)
