"""Rules about whether row security is on, FORCEd and has policies (rls.md section (c))."""

from __future__ import annotations

from typing import Iterator

from fraisec.lint.model import LintModel, Span
from fraisec.lint.registry import Finding, LintConfig, error, rule, warning

__all__: list[str] = []


def _table_span(model: LintModel, table: str) -> Span | None:
    t = model.table_by_name.get(table)
    if t is not None:
        return t.span
    policies = model.policies_on(table)
    return policies[0].span if policies else None


@rule("FSC305")
def tenant_table_without_rls(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for table in sorted(model.tenant_tables):
        enabled, _ = model.rls_state(table)
        span = _table_span(model, table)
        if enabled is not None or span is None:
            continue
        policies = model.policies_on(table)
        why = (f"its {len(policies)} polic{'y is' if len(policies) == 1 else 'ies are'} "
               f"ignored and " if policies else "")
        column = model.tenant_column(table)
        reason = f"has the tenant column {column.name}" if column else "has policies"
        yield error(
            "FSC305",
            f"table {table} {reason} but row-level security is not enabled: {why}every role "
            f"with SELECT on it sees every tenant's rows",
            span,
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; ALTER TABLE {table} FORCE ROW "
            f"LEVEL SECURITY; and give it a tenant policy.")


@rule("FSC304")
def rls_without_policy(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for table in sorted({a.table for a in model.rls}):
        enabled, _ = model.rls_state(table)
        if enabled is None or model.policies_on(table):
            continue
        yield warning(
            "FSC304",
            f"row-level security is enabled on {table} but no policy is defined: every "
            f"non-owner query returns 0 rows and every INSERT fails",
            enabled.span,
            f"Add the table's policies (at least one PERMISSIVE policy), e.g. "
            f"CREATE POLICY {table}_select ON {table} FOR SELECT TO app_user USING (…).")


@rule("FSC303")
def rls_not_forced(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    helper_tables = _definer_helper_tables(model)
    # Only tables that carry a tenant column: RLS on shared (global) data without FORCE is a
    # choice, not a cross-tenant leak.
    for table in sorted(t for t in model.tenant_tables if model.tenant_column(t)):
        enabled, forced = model.rls_state(table)
        if enabled is None or forced is not None or table in helper_tables:
            continue
        if model.write_only(table):
            continue  # the owner is its intended reader (an outbox); FORCE would lock it out
        yield error(
            "FSC303",
            f"row-level security on tenant table {table} is enabled but not FORCEd: the "
            f"table owner, and every view or SECURITY DEFINER function it owns, bypasses "
            f"the policies and sees every tenant's rows",
            enabled.span,
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;")


def _definer_helper_tables(model: LintModel) -> set[str]:
    """Tables read by owner-owned SECURITY DEFINER helpers.

    These must *not* be FORCEd: the helper would be subject to the policy it serves and
    recurse ("stack depth limit exceeded", rls.md (a)), so FSC303 leaves them alone.
    """
    out: set[str] = set()
    for fn in model.functions:
        if model.is_definer(fn) and not model.owner_bypasses_rls(fn):
            owner = model.function_owner(fn)
            for ref in fn.reads:
                # FORCE only changes things for the table's owner: a helper owned by another
                # role is subject to the policies either way, so it is no reason not to FORCE.
                out |= {t for t in model.base_tables(ref.name)
                        if owner is None or owner == _table_owner(model, t)}
    return out


def _table_owner(model: LintModel, table: str) -> str | None:
    owners = [o.owner for o in model.table_owners if o.table == table]
    return owners[-1] if owners else None
