"""Rules about views and materialized views over tenant data (rls.md section (b))."""

from __future__ import annotations

from typing import Iterator

from fraisec.lint.model import LintModel
from fraisec.lint.registry import Finding, LintConfig, error, rule

__all__: list[str] = []

_READ_PRIVILEGES = {"SELECT", "ALL"}


@rule("FSC302")
def definer_view(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for view in model.views:
        if view.materialized or model.view_is_invoker(view):
            continue
        tenant = sorted(model.base_tables(view.name) & model.tenant_tables)
        if not tenant:
            continue
        yield error(
            "FSC302",
            f"view {view.name} reads the row-secured table{'s' if len(tenant) > 1 else ''} "
            f"{', '.join(tenant)} without security_invoker: its policies are checked as the "
            f"view owner, who bypasses them, so every caller sees every tenant's rows",
            view.span,
            f"CREATE VIEW {view.name} WITH (security_invoker = true) AS … (or ALTER VIEW "
            f"{view.name} SET (security_invoker = true)), and GRANT SELECT on the base tables "
            f"to the API role.",
            related=[(f"reads {ref.name} here", ref.span) for ref in view.reads
                     if model.base_tables(ref.name) & set(tenant)])


@rule("FSC315")
def granted_matview(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for view in model.views:
        if not view.materialized:
            continue
        tenant = sorted(model.base_tables(view.name) & model.tenant_tables)
        if not tenant:
            continue
        for grant in model.grants_on([view.name, f"*{view.schema or 'public'}"]):
            if not grant.grant or not _READ_PRIVILEGES & set(grant.privileges):
                continue
            if grant.objects[0].startswith("*") and grant.kind != "ALL TABLES IN SCHEMA":
                continue
            yield error(
                "FSC315",
                f"materialized view {view.name} holds rows of {', '.join(tenant)} and is "
                f"granted to {', '.join(grant.grantees)}: a materialized view cannot have "
                f"row-level security, so every grantee reads every tenant's rows",
                grant.span,
                f"Do not expose it: REVOKE SELECT ON {view.name} FROM "
                f"{', '.join(grant.grantees)}; serve the data through a security_invoker view, "
                f"or keep the matview in a private schema behind a tenant-filtering function.",
                related=[(f"{view.name} is defined here", view.span)])
