"""What user schema modules import: decorators and field helpers. They only record."""

from fraisec.authoring.decorators import (
    config,
    entity,
    enum,
    error_type,
    extension,
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
from fraisec.authoring.fields import computed, count, current_user, field, index, now, slug, sql, sum

__all__ = [
    "computed", "config", "count", "current_user", "entity", "enum", "error_type", "extension",
    "field", "index", "input", "interface", "mutation", "now", "observer", "query", "scalar", "slug",
    "sql", "subscription", "sum", "tenancy", "type", "union",
]
