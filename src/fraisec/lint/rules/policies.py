"""Rules about policy expressions (rls.md sections (a), (e) and (g))."""

from __future__ import annotations

import re
from typing import Iterator

from sqlglot import exp

from fraisec.lint.model import Expr, LintModel, Policy, Span
from fraisec.lint.registry import Finding, LintConfig, error, rule, warning
from fraisec.lint.sqlread import IDENT, QNAME, calls_in, node_offset, norm, relations_in

__all__: list[str] = []

# Functions that never take a row column to a per-row cost worth reporting.
_CONTEXT_FUNCTIONS = {"current_setting", "set_config", "nullif", "coalesce", "current_user",
                      "session_user", "now", "auth.uid", "uid", "jwt"}


# -- FSC301: recursion ---------------------------------------------------------------------

@rule("FSC301")
def policy_recursion(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    """A policy that (through sub-selects, views or invoker functions) reads its own table.

    The rewriter expands the policies of every table a policy reads, so a cycle back to the
    policy's table is "infinite recursion detected in policy". A SECURITY DEFINER helper
    breaks the cycle because its owner is not subject to RLS, unless the table is FORCEd,
    where the owner re-enters the policy and the error becomes "stack depth limit exceeded".
    """
    # What each policy reads, computed once: the graph is walked for every policy.
    reads = {id(p): [r for e in (p.using, p.check) if e for r in _policy_reads(model, e)]
             for p in model.policies}
    edges: dict[str, set[str]] = {}
    for policy in model.policies:
        edges.setdefault(policy.table, set()).update(t for t, _, _ in reads[id(policy)])
    for policy in model.policies:
        for target, span, via in reads[id(policy)]:
            if target == policy.table or policy.table in _reach(edges, target):
                others = sorted({f"{p.name} on {p.table}" for p in model.policies
                                 if p.table != policy.table
                                 and any(t == policy.table for t, _, _ in reads[id(p)])})
                yield _recursion_finding(policy, target, span, via, others)
                break


def _recursion_finding(policy: Policy, target: str, span: Span, via: str | None,
                       others: list[str]) -> Finding:
    if via is None:
        what = (f"policy {policy.name} on {policy.table} reads {target}"
                + ("" if target == policy.table else f", whose policies read {policy.table}")
                + f": PostgreSQL raises 'infinite recursion detected in policy for relation "
                  f"\"{policy.table}\"' on every query of {policy.table}")
    else:
        what = (f"policy {policy.name} on {policy.table} calls {via}(), which reads "
                f"{target} with row security still applied (the table is FORCEd or the "
                f"function is not SECURITY DEFINER): the policy re-enters itself "
                f"('infinite recursion' or 'stack depth limit exceeded')")
    if others:
        verb = "reads" if len(others) == 1 else "read"
        what += f"; {', '.join(others)} {verb} {policy.table} and fail{'s' if len(others) == 1 else ''} the same way"
    return error(
        "FSC301", what, policy.span,
        "Move the membership lookup into a SECURITY DEFINER helper with SET search_path = "
        "pg_catalog, pg_temp "
        "in a private schema (or let users see only their own rows, fk_user = (SELECT …)), "
        "and do not FORCE row security on the tables that helper reads.",
        related=[(f"{policy.table}'s policy reads {target} here", span)])


def _policy_reads(model: LintModel, expr: Expr) -> Iterator[tuple[str, Span, str | None]]:
    """(table with policies the expression reads as the caller, where, through which fn)."""
    for ref in relations_in(expr):
        for base in _caller_reads(model, ref.name):
            yield base, ref.span, None
    for name, _schema, offset in calls_in(expr):
        for fn in model.function_by_name.get(name, []):
            for base in _function_reads(model, fn, as_owner=False, bypass=False, seen=frozenset()):
                yield base, expr.at(offset), fn.name


def _caller_reads(model: LintModel, relation: str) -> set[str]:
    """Tables whose policies apply when the caller reads ``relation``: through a definer
    view they are checked as the view owner, who is subject to them only when FORCEd."""
    view = model.view_by_name.get(relation)
    if view is None or model.view_is_invoker(view) or view.materialized:
        return {relation} if view is None else (
            model.base_tables(relation) if not view.materialized else set())
    return {t for t in model.base_tables(relation) if model.rls_state(t)[1] is not None}


def _function_reads(model: LintModel, fn, as_owner: bool, bypass: bool,
                    seen: frozenset[str]) -> set[str]:
    """Tables a function reads *with row security applied* (see policy_recursion)."""
    if fn.name in seen:
        return set()
    owner = None
    if model.is_definer(fn):
        as_owner, bypass = True, model.owner_bypasses_rls(fn)
        owner = model.function_owner(fn)
    out: set[str] = set()
    for ref in fn.reads:
        for base in model.base_tables(ref.name):
            forced = model.rls_state(base)[1] is not None
            if not as_owner or (forced and not bypass and _expands_for(model, base, owner)):
                out.add(base)
    for name in fn.calls:
        for callee in model.function_by_name.get(name, []):
            out |= _function_reads(model, callee, as_owner, bypass, seen | {fn.name})
    return out


def _expands_for(model: LintModel, table: str, owner: str | None) -> bool:
    """Whether reading the FORCEd ``table`` as ``owner`` expands a policy that reads something.

    An owner the SQL does not name is assumed to be subject to every policy (the conservative
    answer). A named owner, e.g. a narrow helper role with its own ``TO helper USING (true)``
    policy, only meets the policies that name it or PUBLIC.
    """
    if owner is None:
        return True
    return any(owner in p.roles or "public" in p.roles
               for p in model.policies_on(table)
               if any(e is not None and (relations_in(e) or calls_in(e)) for e in (p.using, p.check)))


def _reach(edges: dict[str, set[str]], table: str) -> set[str]:
    """Every table whose policies get expanded when ``table`` is read (transitively)."""
    seen: set[str] = set()
    todo = [table]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


# -- FSC307: IN (SELECT …) -------------------------------------------------------------------

_IN_SELECT = re.compile(r"\bIN\s*\(\s*(?:SELECT|WITH)\b", re.IGNORECASE)


@rule("FSC307")
def in_subselect(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for policy in model.policies:
        for expr in (policy.using, policy.check):
            if expr is None:
                continue
            for m in _IN_SELECT.finditer(expr.masked):
                yield warning(
                    "FSC307",
                    f"policy {policy.name} on {policy.table} uses IN (SELECT …): a policy's "
                    f"sub-select is never turned into a join, so PostgreSQL filters every row "
                    f"with a hashed SubPlan and cannot use the index on the tenant column",
                    expr.at(m.start()),
                    "Write `col = ANY (ARRAY(SELECT …))` (the set is computed once and the "
                    "index is used), or `col = (SELECT f())` for a single value.")


# -- FSC308: function of a row column ----------------------------------------------------------

@rule("FSC308")
def row_function(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for policy in model.policies:
        table = model.table_by_name.get(policy.table)
        columns = {c.name for c in table.columns} if table else None
        for expr in (policy.using, policy.check):
            if expr is None:
                continue
            for name, col, offset in _row_calls(expr, policy.table, columns):
                yield warning(
                    "FSC308",
                    f"policy {policy.name} on {policy.table} calls {name}({col}) on a row "
                    f"column: the function runs once per row, and wrapping it in (SELECT …) "
                    f"does not help because its value depends on the row",
                    expr.at(offset),
                    "Invert it: compare the column with a value or set computed once, "
                    f"e.g. `{col} = ANY (ARRAY(SELECT app_private.fn_current_user_organization_pks()))`.")


def _row_calls(expr: Expr, table: str, columns: set[str] | None) -> Iterator[tuple[str, str, int]]:
    if expr.tree is None:
        yield from _row_calls_text(expr, columns)
        return
    for fn in expr.tree.find_all(exp.Anonymous):
        if fn.name.lower() in _CONTEXT_FUNCTIONS:
            continue
        inside_subquery = _reads_other_rows(fn.find_ancestor(exp.Select), expr.tree)
        for col in fn.find_all(exp.Column):
            if col.find_ancestor(exp.Select, exp.Anonymous) is not fn:
                continue  # it belongs to a sub-select or a nested call (reported itself)
            qual = norm(col.table) if col.table else ""
            name = norm(col.name)
            if qual not in ("", table) or (inside_subquery and qual != table):
                continue
            if columns is not None and name not in columns:
                continue
            yield fn.name, name, node_offset(expr.tree, fn) or 0
            break


def _reads_other_rows(select: exp.Select | None, root: exp.Expression) -> bool:
    """True when the call sits in a sub-select with its own FROM (its columns may be that
    FROM's); ``(SELECT f(col))`` without FROM still sees the policy's row."""
    if select is None or select is root:
        return False
    return bool(select.args.get("from") or select.args.get("from_"))


def _row_calls_text(expr: Expr, columns: set[str] | None) -> Iterator[tuple[str, str, int]]:
    for m in re.finditer(rf"({QNAME})\s*\(\s*({IDENT})\s*[,)]", expr.masked):
        name, col = m.group(1), norm(m.group(2))
        if name.lower().split(".")[-1] in _CONTEXT_FUNCTIONS or name.upper() in ("IN", "ANY", "ARRAY"):
            continue
        if columns is not None and col in columns:
            yield name, col, m.start()


# -- FSC309: permissive WITH CHECK (true) ------------------------------------------------------

def _is_true(expr: Expr | None) -> bool:
    if expr is None:
        return False
    text = re.sub(r"[\s()]", "", expr.raw).lower()
    return text in {"true", "'t'", "'true'", "1=1"}


@rule("FSC309")
def permissive_true_check(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for policy in model.policies:
        if not policy.permissive or policy.command not in ("ALL", "INSERT", "UPDATE"):
            continue
        check = policy.check or (policy.using if policy.command in ("ALL", "UPDATE") else None)
        if not _is_true(check) or _has_guard(model, policy):
            continue
        yield error(
            "FSC309",
            f"permissive policy {policy.name} on {policy.table} accepts any new row "
            f"(WITH CHECK (true)) and no RESTRICTIVE policy guards {policy.command} on the "
            f"table: a tenant can insert or move rows into another tenant",
            policy.span,
            f"Add `CREATE POLICY {policy.table}_tenant_guard ON {policy.table} AS RESTRICTIVE "
            f"FOR ALL USING (<tenant check>) WITH CHECK (<tenant check>)`, or give this "
            f"policy a real WITH CHECK.")


def _has_guard(model: LintModel, policy: Policy) -> bool:
    for other in model.policies_on(policy.table):
        if other.permissive or other.command not in ("ALL", policy.command):
            continue
        guard = other.check or other.using
        if guard is not None and not _is_true(guard):
            return True
    return False
