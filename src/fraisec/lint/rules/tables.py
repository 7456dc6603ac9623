"""Rules about tenant tables' keys and indexes (rls.md sections (g) and (h))."""

from __future__ import annotations

from typing import Iterator

from fraisec.lint.model import Key, LintModel, Table
from fraisec.lint.registry import Finding, LintConfig, rule, warning

__all__: list[str] = []


@rule("FSC313")
def tenant_column_unindexed(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for table in model.tables:
        column = model.tenant_column(table.name)
        if column is None or model.write_only(table.name):
            continue  # no policy filters reads by tenant, so no query needs the index
        if any(k.columns and k.columns[0] == column.name for k in model.keys_of(table.name)):
            continue
        yield warning(
            "FSC313",
            f"tenant column {table.name}.{column.name} has no index that starts with it: "
            f"every policy-filtered query scans the whole table, and predicates that are not "
            f"leakproof (LIKE, jsonb operators) cannot be bounded to the tenant's rows",
            column.span,
            f"CREATE INDEX ON {table.name} ({column.name}); better, start the table's unique "
            f"keys and API indexes with it: UNIQUE ({column.name}, identifier).")


@rule("FSC314")
def global_business_key(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for table in model.tables:
        column = model.tenant_column(table.name)
        if column is None:
            continue
        for key in model.keys_of(table.name):
            if not key.unique or key.primary or column.name in key.columns:
                continue
            if _surrogate(table, key):
                continue
            cols = ", ".join(c or "<expression>" for c in key.columns)
            yield warning(
                "FSC314",
                f"UNIQUE ({cols}) on tenant table {table.name} is global: inserting a value "
                f"another tenant already uses fails with 'duplicate key value violates unique "
                f"constraint', which tells the caller that the key exists in another tenant",
                key.span,
                f"Make the key unique per tenant: UNIQUE ({column.name}, {cols}).")


def _surrogate(table: Table, key: Key) -> bool:
    """Random or internal identifiers (id uuid DEFAULT gen_random_uuid(), pk_*) reveal nothing."""
    for name in key.columns:
        if name is None:
            return False
        col = table.column(name)
        if not (name == "id" or name.startswith("pk_") or (col is not None and col.random_default)):
            return False
    return True
