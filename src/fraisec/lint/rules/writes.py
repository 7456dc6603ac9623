"""FSC318: a SECURITY DEFINER function that writes a tenant table with a tenant the caller
chose (rls.md (f)): the tenant column's value in an INSERT or an UPDATE ... SET, or the only
conditions on the tenant column in an UPDATE's or DELETE's WHERE. The owner is not subject to RLS, so nothing checks that the caller
belongs to that tenant: the tenant must come from the request context, not a parameter.

The tenant value is traced through the body: parameters (by name or ``$n``) are tainted, and
so is every variable assigned (``:=``, ``SELECT … INTO``, ``RETURNING … INTO``) from a
statement that mentions a tainted name. Dynamic SQL (EXECUTE) is not read.
"""

from __future__ import annotations

import re
from typing import Iterator

from fraisec.lint.model import Expr, Function, LintModel
from fraisec.lint.registry import Finding, LintConfig, error, rule
from fraisec.lint.source import SourceFile, split_statements
from fraisec.lint.sqlread import IDENT, QNAME, balanced, norm, split_name, split_top_level

__all__: list[str] = []

_ASSIGN = re.compile(rf"^\s*({IDENT})\s*(?::=|=)", re.IGNORECASE)
_DECLARE_INIT = re.compile(rf"^\s*({IDENT})\s+[^;]*?(?::=|\bDEFAULT\b)", re.IGNORECASE)
_INTO = re.compile(rf"\bINTO\s+(?:STRICT\s+)?((?:{QNAME})(?:\s*,\s*{QNAME})*)", re.IGNORECASE)
_INSERT = re.compile(rf"\bINSERT\s+INTO\s+({QNAME})(?:\s+AS\s+{IDENT})?\s*\(", re.IGNORECASE)
_UPDATE = re.compile(rf"\bUPDATE\s+(?:ONLY\s+)?({QNAME})(?:\s+(?:AS\s+)?(?!SET\b){IDENT})?\s+SET\b",
                     re.IGNORECASE)
_CLAUSE_END = re.compile(r"\b(WHERE|FROM|RETURNING|ON\s+CONFLICT)\b", re.IGNORECASE)
_DELETE = re.compile(rf"\bDELETE\s+FROM\s+(?:ONLY\s+)?({QNAME})", re.IGNORECASE)
_WHERE = re.compile(r"\bWHERE\b", re.IGNORECASE)
_WHERE_END = re.compile(r"\bRETURNING\b", re.IGNORECASE)


@rule("FSC318")
def definer_writes_caller_tenant(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for fn in model.functions:
        if fn.body is None or not model.is_definer(fn) or fn.returns_trigger:
            continue
        statements = _statements(fn.body)
        tainted = _tainted(fn, statements)
        for offset, table, column, sources in _tenant_writes(model, statements):
            if not all(_uses(source, tainted) for source in sources):
                continue
            yield error(
                "FSC318",
                f"SECURITY DEFINER function {fn.signature} writes {table} in the tenant "
                f"({column}) the caller passes in: it runs as the owner, whom row-level "
                f"security does not check, so any caller writes rows of any tenant",
                fn.body.at(offset),
                "Take the tenant from the request context (SELECT app_private."
                "fn_current_tenant_pk()), not from a parameter; better, make the function "
                "SECURITY INVOKER so the table's RLS WITH CHECK applies. If it verifies the "
                "caller's membership itself, say so with `-- fraisec: ignore FSC318`.")


def _statements(body: Expr) -> list[tuple[int, str]]:
    """(offset in the body, masked text) of each statement, DECLARE items included."""
    found, _ = split_statements(SourceFile("<body>", body.raw))
    out = []
    for stmt in found:
        text = re.sub(r"^\s*(DECLARE|BEGIN)\b", lambda m: " " * len(m.group(0)), stmt.masked,
                      flags=re.IGNORECASE)
        out.append((stmt.start, text))
    return out


def _tainted(fn: Function, statements: list[tuple[int, str]]) -> set[str]:
    names = {n for n in fn.arg_names if n}
    names |= {f"${i}" for i in range(1, len(fn.arg_types) + 1)}
    changed = True
    while changed:  # a fixpoint: v2 := v1 after v1 := p_org
        changed = False
        for _offset, text in statements:
            if not _uses(text, names):
                continue
            targets = set()
            m = _ASSIGN.match(text) or _DECLARE_INIT.match(text)
            if m:
                targets.add(norm(m.group(1)))
            for into in _INTO.finditer(text):
                head = text[: into.start()].rstrip().upper()
                if not (head.endswith("INSERT") or head.endswith("MERGE")):
                    targets |= {split_name(t)[1] for t in into.group(1).split(",")}
            if targets - names:
                names |= targets
                changed = True
    return names


def _uses(text: str, names: set[str]) -> bool:
    words = {norm(w) for w in re.findall(rf"{IDENT}|\$\d+", text)}
    return bool(words & names)


def _tenant_writes(model: LintModel, statements: list[tuple[int, str]]
                   ) -> Iterator[tuple[int, str, str, tuple[str, ...]]]:
    """(offset, table, tenant column, the texts that choose the tenant) per write: the
    reported write is one whose every such text uses a tainted name."""
    for offset, text in statements:
        for m in _INSERT.finditer(text):
            table = split_name(m.group(1))[1]
            column = model.tenant_column(table)
            if column is None:
                continue
            value = _insert_value(text, m.end() - 1, column.name)
            if value is not None:
                yield offset + m.start(), table, column.name, (value,)
        for m in _UPDATE.finditer(text):
            table = split_name(m.group(1))[1]
            column = model.tenant_column(table)
            if column is None:
                continue
            for value in _update_values(text, m.end(), column.name):
                yield offset + m.start(), table, column.name, (value,)
            scope = _where_scope(text, m.end(), column.name)
            if scope is not None:
                yield offset + m.start(), table, column.name, scope
        for m in _DELETE.finditer(text):
            table = split_name(m.group(1))[1]
            column = model.tenant_column(table)
            scope = _where_scope(text, m.end(), column.name) if column is not None else None
            if scope is not None:
                yield offset + m.start(), table, column.name, scope


def _where_scope(text: str, start: int, column: str) -> tuple[str, ...] | None:
    """The WHERE's conditions on the tenant column (AND'ed: one from the context is enough to
    scope the write), or None when the WHERE does not name the column."""
    where = _WHERE.search(text, start)
    if where is None:
        return None
    end = _WHERE_END.search(text, where.end())
    clause = text[where.end(): end.start() if end else len(text)]
    pattern = re.compile(rf"(?<![\w$]){re.escape(column)}(?![\w$])", re.IGNORECASE)
    conjuncts = [clause[a:b] for a, b in _split_and(clause)]
    on_tenant = [c for c in conjuncts if pattern.search(c)]
    if not on_tenant:
        return None
    return tuple(on_tenant)


def _split_and(clause: str) -> list[tuple[int, int]]:
    spans, depth, begin = [], 0, 0
    for m in re.finditer(r"\(|\)|\bAND\b", clause, re.IGNORECASE):
        token = m.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0:
            spans.append((begin, m.start()))
            begin = m.end()
    spans.append((begin, len(clause)))
    return spans

def _insert_value(text: str, open_at: int, column: str) -> str | None:
    close = balanced(text, open_at)
    columns = [norm(text[open_at + 1 + a: open_at + 1 + b])
               for a, b in split_top_level(text[open_at + 1: close - 1])]
    if column not in columns:
        return None
    at = columns.index(column)
    rest = text[close:]
    values = re.match(r"\s*VALUES\s*\(", rest, re.IGNORECASE)
    if values:
        start = close + values.end() - 1
        inner = text[start + 1: balanced(text, start) - 1]
    else:
        select = re.match(r"\s*SELECT\b", rest, re.IGNORECASE)
        if not select:
            return None
        body = rest[select.end():]
        end = re.search(r"\bFROM\b", body, re.IGNORECASE)
        inner = body[: end.start()] if end else body
    items = split_top_level(inner)
    return inner[items[at][0]: items[at][1]] if at < len(items) else None


def _update_values(text: str, start: int, column: str) -> Iterator[str]:
    end = _CLAUSE_END.search(text, start)
    assignments = text[start: end.start() if end else len(text)]
    for a, b in split_top_level(assignments):
        target, _, value = assignments[a:b].partition("=")
        if split_name(target.strip())[1] == column if target.strip() else False:
            yield value
