"""The decorators schema modules use. They check only what they can see and record.

Names and parameters follow the FraiseQL SDK 2.18 (``type``, ``query``, ``mutation``, ``enum``,
``input``, ``interface``, ``union``, ``scalar``, ``error``), plus what fraisec needs to generate
SQL (``entity``, ``observer``, ``tenancy``). Unlike the SDK, an unknown keyword argument is a
diagnostic (FSC104): ``operaton="CREATE"`` must not pass silently.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import inspect
import sys
import textwrap
from typing import Any, Callable, TypeVar

from fraisec.authoring.definitions import (
    ClassDef,
    EnumDef,
    ObserverDef,
    OperationDef,
    ScalarDef,
    TenancyDef,
    UnionDef,
)
from fraisec.authoring.registry import current_registry
from fraisec.authoring.source import DefinitionLines, definition_lines
from fraisec.diagnostics import Location, did_you_mean, error

__all__ = [
    "config", "entity", "enum", "error_type", "extension", "input", "interface", "mutation", "observer",
    "query", "scalar", "subscription", "tenancy", "type", "union",
]

T = TypeVar("T")

# The SDK's parameters per decorator (fraiseql/decorators.py, 2.18), then fraisec's additions.
TYPE_OPTIONS = frozenset({
    "implements", "relay", "requires_role", "sql_source", "crud", "cascade", "plural_name",
    "key_fields", "extends", "shareable", "subscribable_tables", "subscribable_pre_image",
    "embedded", "relationships", "subscription_policy", "description",
})
ENTITY_OPTIONS = (TYPE_OPTIONS - {"sql_source"}) | frozenset({
    "tenant", "unique", "indexes", "activity_log", "renamed_from", "writes", "soft_delete", "search",
    "search_language", "views", "owned_by", "invitation", "service", "quota", "privileged", "seed",
    "external", "key", "database",
})
QUERY_OPTIONS = frozenset({
    "sql_source", "inject", "exclude_inject_defaults", "rest_path", "rest_method", "rest_stream",
    "requires_actor", "cache_ttl_seconds", "cache_ttl", "additional_views", "deprecated",
    "auto_params", "relay", "description", "requires_role", "jsonb_column", "pagination_order",
    "function", "count", "read_routing", "order_by",
})
MUTATION_OPTIONS = frozenset({
    "sql_source", "operation", "inject", "rest_path", "rest_method", "requires_actor",
    "invalidates_views", "invalidates_fact_tables", "changelog", "changelog_pre_image",
    "input_style", "cascade", "cascade_source", "success_fields", "deprecated", "description",
    "requires_role", "cache_ttl_seconds", "generate", "entity", "conflict", "increment", "service",
    "requires_permission", "privileged",
})
OBSERVER_OPTIONS = frozenset({"name", "activity", "condition"})
TENANCY_OPTIONS = frozenset({
    "tenant", "claim", "user", "user_claim", "membership", "roles", "role_field", "schema",
    "private_schema", "api_role", "owner_role", "tenant_setting", "user_setting", "permissions",
})


def _location(depth: int) -> Location:
    frame = sys._getframe(depth)
    return Location(file=frame.f_code.co_filename, line=frame.f_lineno)


def _check_options(what: str, options: dict[str, Any], known: frozenset[str],
                   location: Location) -> dict[str, Any]:
    """Report unknown keyword arguments; return the known ones."""
    for name in sorted(set(options) - known):
        suggestion = did_you_mean(name, known)
        current_registry().report(error(
            "FSC104", f"@{what} got an unknown argument '{name}'", location,
            hint=(suggestion + " " if suggestion else "")
            + f"Known arguments: {', '.join(sorted(known))}.",
        ))
    return {k: v for k, v in options.items() if k in known}


def _class_decorator(kind: str, known: frozenset[str]) -> Callable[..., Any]:
    def decorator(cls: Any = None, /, **options: Any) -> Any:
        location = _location(2)

        def register(target: Any) -> Any:
            if not inspect.isclass(target):
                current_registry().report(error(
                    "FSC106", f"@{kind} decorates classes, not {builtins.type(target).__name__} objects",
                    location, hint=f"Put @{kind} on a class definition.",
                ))
                return target
            checked = _check_options(kind, options, known, location)
            namespace = vars(sys.modules[target.__module__]) if target.__module__ in sys.modules else {}
            lines = definition_lines(location.file, location.line or 0)
            current_registry().raw.classes.append(ClassDef(
                kind, target, checked, _at_definition(location, lines), namespace,
                lines.members if lines else {},
            ))
            target.__fraisec_kind__ = kind
            return target

        return register(cls) if cls is not None else register

    decorator.__name__ = kind
    return decorator


type = _class_decorator("type", TYPE_OPTIONS)  # noqa: A001 - the SDK's name
entity = _class_decorator("entity", ENTITY_OPTIONS)
input = _class_decorator("input", frozenset({"description"}))  # noqa: A001 - the SDK's name
interface = _class_decorator("interface", frozenset({"description"}))
error_type = _class_decorator("error", frozenset({"shareable", "description"}))


ENUM_OPTIONS = frozenset({"native", "renamed_from"})


def enum(cls: Any = None, /, **options: Any) -> Any:
    """Register a Python ``Enum`` (values must be str or int, as in the SDK).

    ``@enum(native=True)`` stores it as a PostgreSQL enum type instead of text with a CHECK;
    ``renamed_from={"new value": "old value"}`` makes migrations ``RENAME VALUE`` (native only)."""
    location = _location(2)

    def register(target: Any) -> Any:
        if not (inspect.isclass(target) and hasattr(target, "__members__")):
            current_registry().report(error(
                "FSC106", "@enum decorates Enum subclasses", location,
                hint="Write `class Role(Enum): ...` under @enum.",
            ))
            return target
        checked = _check_options("enum", options, ENUM_OPTIONS, location)
        lines = definition_lines(location.file, location.line or 0)
        current_registry().raw.enums.append(EnumDef(target, _at_definition(location, lines), checked))
        target.__fraisec_kind__ = "enum"
        return target

    return register(cls) if cls is not None else register


def union(name: str | None = None, members: list[Any] | None = None,
          description: str | None = None) -> Callable[[Any], Any]:
    """``@union(name="SearchResult", members=[A, B])`` on a placeholder class."""
    location = _location(2)

    def register(cls: Any) -> Any:
        union_name = name or getattr(cls, "__name__", "Union")
        current_registry().raw.unions.append(
            UnionDef(union_name, tuple(members or ()), description or inspect.getdoc(cls), location)
        )
        return cls

    return register


def scalar(cls: Any) -> Any:
    """Register a custom scalar class (the SDK's ``@scalar`` on a CustomScalar subclass)."""
    location = _location(2)
    current_registry().raw.scalars.append(
        ScalarDef(getattr(cls, "name", None) or cls.__name__, inspect.getdoc(cls), location)
    )
    return cls


def _operation_decorator(kind: str, known: frozenset[str]) -> Callable[..., Any]:
    def decorator(func: Any = None, /, **options: Any) -> Any:
        location = _location(2)

        def register(target: Any) -> Any:
            if not inspect.isfunction(target):
                current_registry().report(error(
                    "FSC106", f"@{kind} decorates functions", location,
                    hint=f"Put @{kind} on a `def` whose signature is the operation's arguments.",
                ))
                return target
            checked = _check_options(kind, options, known, location)
            fn_location = Location(file=target.__code__.co_filename,
                                   line=target.__code__.co_firstlineno)
            current_registry().raw.operations.append(OperationDef(
                kind, target, checked, _read_config_call(target, fn_location), fn_location,
                target.__globals__,
            ))
            return target

        return register(func) if func is not None else register

    decorator.__name__ = kind
    return decorator


query = _operation_decorator("query", QUERY_OPTIONS)
mutation = _operation_decorator("mutation", MUTATION_OPTIONS)
subscription = _operation_decorator("subscription", frozenset({
    "entity_type", "topic", "filter", "fields", "deprecated",
}))


def config(**options: Any) -> dict[str, Any]:
    """``return fraiseql.config(sql_source="v_project")`` inside a query body.

    The body is never run: fraisec reads this call from the source (the SDK drops it). Calling
    it returns the options, so a body that is run by hand does no harm.
    """
    return dict(options)


def observer(target: Any, on: str, subject: str, **options: Any) -> Callable[[T], T]:
    """``observer(Project, on="INSERT", subject="saas.project.created")``: an outbox trigger.

    Can be a statement or a decorator (the decorated object is returned unchanged).
    """
    location = _location(2)
    checked = _check_options("observer", options, OBSERVER_OPTIONS, location)
    current_registry().raw.observers.append(ObserverDef(target, on, subject, checked, location))
    return lambda decorated: decorated


def tenancy(**options: Any) -> None:
    """Declare shared-schema tenancy: ``tenancy(tenant="Organization", claim="org_id")``."""
    location = _location(2)
    checked = _check_options("tenancy", options, TENANCY_OPTIONS, location)
    current_registry().raw.tenancy.append(TenancyDef(checked, location))


def extension(name: str) -> None:
    """``fq.extension("pgcrypto")``: created (IF NOT EXISTS) before the generated SQL, so
    defaults and functions may use it."""
    current_registry().raw.extensions.append((name, _location(2)))


def _at_definition(decorator: Location, lines: DefinitionLines | None) -> Location:
    """Point at the `class` line rather than the decorator, when the source is available."""
    return dataclasses.replace(decorator, line=lines.line) if lines else decorator


def _read_config_call(func: Any, location: Location) -> dict[str, Any]:
    """Literal keyword arguments of a ``return <x>.config(...)`` in the function body."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return {}
    found: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
            callee = node.value.func
            name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
            if name != "config":
                continue
            for keyword in node.value.keywords:
                try:
                    found[keyword.arg] = ast.literal_eval(keyword.value)
                except ValueError:
                    current_registry().report(error(
                        "FSC105", f"config({keyword.arg}=…) must be a literal value",
                        Location(file=location.file, line=location.line + node.lineno - 1),
                        hint="Write the value literally, e.g. config(sql_source=\"v_project\").",
                    ))
    return found
