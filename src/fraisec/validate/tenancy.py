"""Tenancy rules: a table that references tenant data must itself be tenant-scoped."""

from __future__ import annotations

from typing import Iterator

from fraisec.diagnostics import Diagnostic, error
from fraisec.ir.model import Schema
from fraisec.validate.rules import rule


@rule("tenant-scoped-references")
def tenant_scoped_references(schema: Schema) -> Iterator[Diagnostic]:
    """Seed 002's tb_task: an unscoped table pointing at tenant rows leaks them across tenants."""
    if schema.tenancy is None:
        return
    # Rows pointing at the tenant root are tenant data too: unscoped, every request reads them.
    scoped = {e.name for e in schema.entities if e.entity and e.entity.tenant_field}
    scoped.add(schema.tenancy.tenant_entity)
    # The identity tables are guarded by the generated membership policies, not a tenant column.
    identity = {schema.tenancy.tenant_entity, schema.tenancy.user_entity, schema.tenancy.membership_entity}
    for entity in schema.entities:
        if entity.name in scoped or entity.name in identity:
            continue
        for field in entity.fields:
            if field.relation in scoped:
                yield error(
                    "FSC207", f"entity '{entity.name}' references tenant-scoped '{field.relation}' "
                    f"(field '{field.name}') but is not tenant-scoped itself", field.location,
                    hint=f"Declare @entity(tenant=True) on '{entity.name}' and give it a "
                         f"'{schema.tenancy.tenant_entity}' relation, so RLS and same-tenant foreign "
                         "keys protect it.",
                )
