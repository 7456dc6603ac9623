"""Rules about what keeps tenants apart besides the policies themselves (issue 11): extra
permissive policies, foreign keys, privileges that bypass RLS, tenancy written as a view."""

from __future__ import annotations

import re
from typing import Iterator

from fraisec.lint.model import Expr, ForeignKey, Grant, LintModel, Policy, View
from fraisec.lint.registry import Finding, LintConfig, error, rule
from fraisec.lint.rules.policies import _has_guard, _is_true

__all__: list[str] = []


def _mentions(exprs: tuple[Expr | None, ...], column: str) -> bool:
    pattern = re.compile(rf'(?<![\w$"]){re.escape(column)}(?![\w$])|"{re.escape(column)}"',
                         re.IGNORECASE)
    return any(e is not None and pattern.search(e.masked) for e in exprs)


def _commands_overlap(a: str, b: str) -> bool:
    return a == b or "ALL" in (a, b)


def _roles_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return "public" in a or "public" in b or bool(set(a) & set(b))


def _covers(guard: Policy, policy: Policy) -> bool:
    """The RESTRICTIVE ``guard`` applies to every row ``policy`` can grant."""
    command = guard.command == "ALL" or guard.command == policy.command
    roles = "public" in guard.roles or ("public" not in policy.roles
                                        and set(policy.roles) <= set(guard.roles))
    return command and roles


# -- FSC316: an extra permissive policy next to a tenant policy ------------------------------

@rule("FSC316")
def permissive_without_tenant(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for table in sorted(model.tenant_tables):
        column = model.tenant_column(table)
        if column is None:
            continue
        policies = model.policies_on(table)
        tenant_policies = [p for p in policies if _mentions((p.using, p.check), column.name)]
        for policy in policies:
            if not policy.permissive or policy in tenant_policies:
                continue
            if any(not g.permissive and _covers(g, policy) for g in tenant_policies):
                continue  # a RESTRICTIVE tenant guard is AND'ed with it
            if _fsc309_reports(model, policy):
                continue
            partners = [p for p in tenant_policies if p.permissive
                        and _commands_overlap(p.command, policy.command)
                        and _roles_overlap(p.roles, policy.roles)]
            if not partners:
                continue
            yield error(
                "FSC316",
                f"permissive policy {policy.name} on {table} does not check the tenant column "
                f"{column.name}, and permissive policies are OR'ed: for "
                f"{policy.command if policy.command != 'ALL' else 'every command'} it lets "
                f"every row it accepts through, whatever tenant, next to the tenant policy "
                f"{partners[0].name}",
                policy.span,
                f"Make tenant isolation a RESTRICTIVE guard (CREATE POLICY {table}_tenant_guard "
                f"ON {table} AS RESTRICTIVE FOR ALL TO <api role> USING (<tenant check>) WITH "
                f"CHECK (<tenant check>)), or make {policy.name} RESTRICTIVE, or add the tenant "
                f"check to it.",
                related=[(f"tenant policy {p.name}", p.span) for p in partners])


def _fsc309_reports(model: LintModel, policy: Policy) -> bool:
    """FSC309 already reports a permissive WITH CHECK (true) without a guard."""
    if policy.command not in ("ALL", "INSERT", "UPDATE"):
        return False
    check = policy.check or (policy.using if policy.command in ("ALL", "UPDATE") else None)
    return _is_true(check) and not _has_guard(model, policy)


# -- FSC317: a foreign key between tenant tables without the tenant column -------------------

@rule("FSC317")
def cross_tenant_foreign_key(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for fk in model.foreign_keys:
        own, theirs = model.tenant_column(fk.table), model.tenant_column(fk.ref_table)
        if own is None or theirs is None or _same_tenant(model, fk, own.name, theirs.name):
            continue
        ref_cols = fk.ref_columns or tuple(c or "?" for c in model.primary_key(fk.ref_table))
        yield error(
            "FSC317",
            f"foreign key {fk.table} ({', '.join(fk.columns)}) -> {fk.ref_table} "
            f"({', '.join(ref_cols) or 'its primary key'}) does not include the tenant column: "
            f"foreign-key checks bypass row-level security, so a tenant can point a row at "
            f"another tenant's {fk.ref_table} row, and the error for a missing key tells "
            f"whether another tenant's key exists",
            fk.span,
            f"Reference the parent within the tenant: UNIQUE ({theirs.name}, "
            f"{', '.join(ref_cols)}) on {fk.ref_table}, then FOREIGN KEY ({own.name}, "
            f"{', '.join(fk.columns)}) REFERENCES {fk.ref_table} ({theirs.name}, "
            f"{', '.join(ref_cols)}).")


def _same_tenant(model: LintModel, fk: ForeignKey, own: str, theirs: str) -> bool:
    ref_cols = fk.ref_columns or model.primary_key(fk.ref_table)
    if own not in fk.columns:
        return False
    at = fk.columns.index(own)
    return at < len(ref_cols) and ref_cols[at] == theirs


# -- FSC319: privileges and roles that bypass row-level security --------------------------------

# Not subject to row security: TRUNCATE empties every tenant's rows, REFERENCES lets the role
# build foreign keys that probe every tenant's keys, TRIGGER runs the role's code on every
# tenant's writes. ALL includes the three.
_BYPASSING = ("TRUNCATE", "REFERENCES", "TRIGGER")


def _restricted_roles(model: LintModel, config: LintConfig, table: str) -> set[str]:
    """Roles the table's policies (or the configuration) say are subject to RLS; ``public``
    when the policies apply to every role or the table has none."""
    roles = {r for p in model.policies_on(table) for r in p.roles} or {"public"}
    return roles | set(config.api_roles)


def _rls_tables(model: LintModel) -> list[str]:
    return sorted(t for t in model.tenant_tables
                  if model.tenant_column(t) or model.rls_state(t)[0] is not None)


@rule("FSC319")
def rls_bypassing_privilege(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    tables = _rls_tables(model)
    for grant in model.grants:
        if not grant.grant or grant.kind not in ("TABLE", "ALL TABLES IN SCHEMA"):
            continue
        bypassing = [p for p in grant.privileges if p in _BYPASSING or p == "ALL"]
        if not bypassing:
            continue
        for table in _granted_tables(model, grant, tables):
            restricted = _restricted_roles(model, config, table)
            grantees = [g for g in grant.grantees
                        if g == "public" or g in restricted or "public" in restricted]
            if grantees:
                yield _privilege_finding(table, grant, bypassing, grantees)
    yield from _owners_and_roles(model, config, tables)


def _granted_tables(model: LintModel, grant: Grant, tables: list[str]) -> list[str]:
    if grant.kind == "TABLE":
        return [t for t in tables if t in grant.objects]
    schemas = {o[1:] for o in grant.objects}
    return [t for t in tables
            if (model.table_by_name[t].schema if t in model.table_by_name else None) in schemas]


def _privilege_finding(table: str, grant: Grant, privileges: list[str],
                       grantees: list[str]) -> Finding:
    what = ", ".join(privileges)
    return error(
        "FSC319",
        f"{what} on the row-secured table {table} is granted to {', '.join(grantees)}: "
        f"TRUNCATE, REFERENCES and TRIGGER are not subject to row-level security (TRUNCATE "
        f"empties every tenant's rows, REFERENCES probes every tenant's keys, TRIGGER runs the "
        f"grantee's code on every tenant's writes)",
        grant.span,
        f"Grant only what the API needs: GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO "
        f"{grantees[0]}; and REVOKE TRUNCATE, REFERENCES, TRIGGER ON {table} FROM "
        f"{', '.join(grantees)}.")


def _owners_and_roles(model: LintModel, config: LintConfig,
                      tables: list[str]) -> Iterator[Finding]:
    for owner in model.table_owners:
        if owner.table in tables and owner.owner in (
                _restricted_roles(model, config, owner.table) - {"public"}):
            yield error(
                "FSC319",
                f"table {owner.table} is owned by {owner.owner}, a role its policies restrict: "
                f"the owner is not subject to row-level security unless it is FORCEd, and may "
                f"disable it or drop the policies",
                owner.span,
                f"Own the table by the migrations role (ALTER TABLE {owner.table} OWNER TO "
                f"app_owner); the API role never owns objects.")
    api = (model.policy_roles - {"public"}) | set(config.api_roles)
    role_grants = [g for g in model.grants if g.kind == "ROLE"]
    for at, grant in enumerate(role_grants):
        if not grant.grant:
            continue
        for grantee in sorted(set(grant.grantees) & api):
            revoked = {r for later in role_grants[at + 1:] if not later.grant
                       and grantee in later.grantees for r in later.objects}
            wider = [r for r in grant.objects if r not in api and r not in revoked]
            if wider:
                yield error(
                    "FSC319",
                    f"role {', '.join(wider)} is granted to {grantee}, a role the policies "
                    f"restrict: {grantee} acts with {', '.join(wider)}'s privileges (SET ROLE, "
                    f"and inherited ownership, which bypasses row-level security unless FORCEd "
                    f"and lets it disable it)",
                    grant.span,
                    f"REVOKE {', '.join(wider)} FROM {grantee}; grant the API role to the login "
                    f"role instead (GRANT {grantee} TO authenticator), never the other way.")
    for role in model.roles:
        if role.bypassrls and role.name in api:
            yield error(
                "FSC319",
                f"role {role.name}, which the policies restrict, is created or altered with "
                f"BYPASSRLS or SUPERUSER: every policy is ignored for it",
                role.span,
                f"ALTER ROLE {role.name} NOBYPASSRLS NOSUPERUSER; the API role must be subject "
                f"to row-level security.")


# -- FSC320: tenancy as a view's WHERE ------------------------------------------------------

_CONTEXT = re.compile(r"\b(current_setting|current_user|session_user)\b", re.IGNORECASE)


@rule("FSC320")
def tenancy_in_view(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for view in model.views:
        if view.body is None or view.materialized or not _reads_context(model, view):
            continue
        bases = sorted({t for ref in view.reads for t in model.base_tables(ref.name)
                        if t in model.table_by_name and model.rls_state(t)[0] is None})
        if not bases:
            continue
        leaky = ("" if view.security_barrier else
                 "; without security_barrier a caller's function in a WHERE even sees the "
                 "rows the filter removes")
        writes = "" if view.check_option else (
            "; the view is auto-updatable without WITH CHECK OPTION, so INSERT and UPDATE "
            "through it write rows into any tenant")
        yield error(
            "FSC320",
            f"view {view.name} filters by the request context itself, over "
            f"{', '.join(bases)} without row-level security: the view is the only tenant "
            f"boundary, and every other path to the table (a grant, another view, a function, "
            f"a foreign key) ignores it{writes}{leaky}",
            view.span,
            f"Put tenancy on the table: ALTER TABLE {bases[0]} ENABLE ROW LEVEL SECURITY; "
            f"FORCE ROW LEVEL SECURITY; a RESTRICTIVE tenant policy; then make {view.name} "
            f"WITH (security_invoker = true) without the tenant WHERE.",
            related=[(f"reads {ref.name} here", ref.span) for ref in view.reads
                     if set(model.base_tables(ref.name)) & set(bases)])


def _reads_context(model: LintModel, view: View, depth: int = 3) -> bool:
    """The view body reads a setting or the current role, directly or through functions."""
    if _CONTEXT.search(view.body.masked):
        return True
    from fraisec.lint.sqlread import calls_in

    names = [name for name, _schema, _offset in calls_in(view.body)]
    return any(_function_reads_context(model, n, depth) for n in names)


def _function_reads_context(model: LintModel, name: str, depth: int) -> bool:
    if depth <= 0:
        return False
    from fraisec.lint.sqlread import calls_in

    for fn in model.function_by_name.get(name, []):
        if fn.body is None:
            continue
        if _CONTEXT.search(fn.body.masked):
            return True
        if any(_function_reads_context(model, n, depth - 1)
               for n, _s, _o in calls_in(fn.body) if n != name):
            return True
    return False
