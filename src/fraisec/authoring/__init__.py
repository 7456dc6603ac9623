"""What user schema modules import: decorators and field helpers. They only record."""

from fraisec.authoring.decorators import (
    config,
    entity,
    enum,
    error_type,
    input,
    interface,
    mutation,
    observer,
    query,
    scalar,
    subscription,
    tenancy,
    type,
    union,
)
from fraisec.authoring.fields import computed, field, now, sql

__all__ = [
    "computed", "config", "entity", "enum", "error_type", "field", "input", "interface",
    "mutation", "now", "observer", "query", "scalar", "sql", "subscription", "tenancy", "type",
    "union",
]
