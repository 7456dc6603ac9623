"""fraisec: a schema compiler for PostgreSQL-first API backends in the FraiseQL style.

Schema modules import this package (``import fraisec as fq``) for the authoring API::

    fq.tenancy(tenant="Organization", claim="org_id")

    @fq.entity(tenant=True)
    class Project:
        identifier: str
        organization: Organization
        name: str

The authoring API is loaded on first use (PEP 562 ``__getattr__``): the command line imports
``fraisec.cli`` through this package, and commands such as ``fraisec diff`` never need the
authoring decorators (nor pydantic, which they pull in). ``fq.entity`` and
``from fraisec import entity`` work exactly as if they were imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "computed", "config", "count", "current_user", "entity", "enum", "error_type", "extension",
    "field", "index", "input", "interface", "mutation", "now", "observer", "query", "scalar", "slug",
    "scalars", "sql", "subscription", "sum", "tenancy", "type", "union",
]

if TYPE_CHECKING:  # for type checkers and IDEs: the names as if imported eagerly
    from fraisec.authoring import (
        computed, config, count, current_user, entity, enum, error_type, extension, field,
        index, input, interface, mutation, now, observer, query, scalar, slug, sql, subscription,
        sum, tenancy, type, union,
    )
    from fraisec.authoring import scalars


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'fraisec' has no attribute {name!r}")
    import fraisec.authoring as authoring

    if name == "scalars":
        # The authoring scalars (same object as before), not a lookup of a submodule attribute.
        from fraisec.authoring import scalars as value
    else:
        value = getattr(authoring, name)
    globals()[name] = value  # cached: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
