"""fraisec: a schema compiler for PostgreSQL-first API backends in the FraiseQL style.

Schema modules import this package (``import fraisec as fq``) for the authoring API::

    fq.tenancy(tenant="Organization", claim="org_id")

    @fq.entity(tenant=True)
    class Project:
        identifier: str
        organization: Organization
        name: str
"""

from fraisec.authoring import (
    computed,
    config,
    entity,
    enum,
    error_type,
    field,
    input,
    interface,
    mutation,
    now,
    observer,
    query,
    scalar,
    sql,
    subscription,
    tenancy,
    type,
    union,
)
from fraisec.authoring import scalars

__version__ = "0.1.0"

__all__ = [
    "computed", "config", "entity", "enum", "error_type", "field", "input", "interface",
    "mutation", "now", "observer", "query", "scalar", "scalars", "sql", "subscription", "tenancy",
    "type", "union",
]
