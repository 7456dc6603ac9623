"""Reading SQL fragments: sqlglot first, a masked-text fallback when sqlglot cannot.

Used for view bodies, policy expressions and function bodies. Every relation or call found
keeps its offset, so findings point at the exact line.
"""

from __future__ import annotations

import re
import warnings
from typing import Iterator

import sqlglot
from sqlglot import exp

from fraisec.lint.model import Expr, RelationRef, Span
from fraisec.lint.source import SourceFile, _mask, split_statements

__all__ = [
    "IDENT", "QNAME", "balanced", "calls_in", "fragments", "norm", "parse_select",
    "relations_in", "split_name", "split_top_level",
]

IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_\x80-\uffff][\w$\x80-\uffff]*)'
QNAME = rf"{IDENT}(?:\s*\.\s*{IDENT})*"
_PREFIX = "SELECT "
_DML = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WITH|PERFORM)\b", re.IGNORECASE)
_FALLBACK_REL = re.compile(
    rf"(?<![\w.])(?:(?<!DISTINCT )FROM|JOIN|UPDATE|INSERT\s+INTO|DELETE\s+FROM|MERGE\s+INTO)"
    rf"\s+(?:ONLY\s+)?({QNAME})(?!\s*\()", re.IGNORECASE)
_FALLBACK_CALL = re.compile(rf"({QNAME})\s*\(")
_NOT_RELATIONS = {"select", "lateral", "unnest", "generate_series", "jsonb_array_elements",
                  "jsonb_each", "json_each", "jsonb_to_recordset", "rows"}
_SQL_WORDS = {"in", "exists", "any", "all", "and", "or", "not", "select", "values", "array",
              "row", "coalesce", "nullif", "case", "when", "then", "else", "over", "filter",
              "using", "check", "on", "as", "returning", "into", "cast", "where", "from",
              "join", "if", "return", "perform", "raise", "greatest", "least", "with"}


def norm(ident: str) -> str:
    """An identifier as PostgreSQL stores it: quoted kept, unquoted lower-cased."""
    ident = ident.strip()
    if ident.startswith('"') and ident.endswith('"') and len(ident) >= 2:
        return ident[1:-1].replace('""', '"')
    return ident.lower()


def split_name(qname: str) -> tuple[str | None, str]:
    parts = [norm(p) for p in re.findall(IDENT, qname)]
    if not parts:
        return None, norm(qname)
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


def balanced(masked: str, open_at: int) -> int:
    """Offset just past the ')' matching the '(' at ``open_at`` (len when unbalanced)."""
    depth = 0
    for k in range(open_at, len(masked)):
        if masked[k] == "(":
            depth += 1
        elif masked[k] == ")":
            depth -= 1
            if depth == 0:
                return k + 1
    return len(masked)


def split_top_level(masked: str, sep: str = ",") -> list[tuple[int, int]]:
    """(start, end) spans of ``masked`` split at ``sep`` outside parentheses."""
    spans, depth, begin = [], 0, 0
    for k, ch in enumerate(masked):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            spans.append((begin, k))
            begin = k + 1
    spans.append((begin, len(masked)))
    return spans


def parse_select(raw: str) -> exp.Expression | None:
    """sqlglot's reading of a query or expression, or None when it cannot read it.

    Expressions are read as ``SELECT <expr>``; offsets in the tree are then shifted by
    ``len(_PREFIX)`` (see ``_local``).
    """
    text = raw if _DML.match(raw.lstrip()) else _PREFIX + raw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = sqlglot.parse_one(text, read="postgres")
        except Exception:  # noqa: BLE001 - any sqlglot failure means "use the fallback"
            return None
    if tree is None or isinstance(tree, exp.Command):
        return None
    tree.meta["fraisec_shift"] = 0 if text is raw else len(_PREFIX)
    return tree


def node_offset(tree: exp.Expression, node: exp.Expression) -> int | None:
    """Smallest source offset of ``node`` (local to the fragment), from sqlglot's metadata."""
    starts = [n.meta["start"] for n in node.walk() if n.meta and "start" in n.meta]
    if not starts:
        return None
    return max(min(starts) - tree.meta.get("fraisec_shift", 0), 0)


def relations_in(expr: Expr) -> list[RelationRef]:
    """Relations read or written by a fragment, CTE names excluded."""
    if expr.tree is not None:
        return list(_tree_relations(expr))
    return list(_fallback_relations(expr))


def _tree_relations(expr: Expr) -> Iterator[RelationRef]:
    tree = expr.tree
    ctes = {norm(c.alias) for c in tree.find_all(exp.CTE) if c.alias}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a set-returning function in FROM
        name = table.this.name if table.this.quoted else table.this.name.lower()
        if name in ctes or not name:
            continue
        schema = table.args.get("db")
        schema_name = None
        if isinstance(schema, exp.Identifier):
            schema_name = schema.name if schema.quoted else schema.name.lower()
        off = node_offset(tree, table) or 0
        yield RelationRef(name, schema_name, expr.at(off))


def _fallback_relations(expr: Expr) -> Iterator[RelationRef]:
    for m in _FALLBACK_REL.finditer(expr.masked):
        schema, name = split_name(m.group(1))
        if name in _NOT_RELATIONS:
            continue
        yield RelationRef(name, schema, expr.at(m.start(1)))


def calls_in(expr: Expr) -> list[tuple[str, str | None, int]]:
    """User-function calls in a fragment: (name, schema, local offset)."""
    out: list[tuple[str, str | None, int]] = []
    if expr.tree is not None:
        for fn in expr.tree.find_all(exp.Anonymous):
            schema = None
            if isinstance(fn.parent, exp.Dot) and fn.parent.expression is fn:
                schema = norm(fn.parent.this.sql()) if fn.parent.this else None
            out.append((fn.name.lower(), schema, node_offset(expr.tree, fn) or 0))
        return out
    for m in _FALLBACK_CALL.finditer(expr.masked):
        schema, name = split_name(m.group(1))
        if name not in _SQL_WORDS:
            out.append((name, schema, m.start(1)))
    return out


def fragments(body: Expr) -> list[Expr]:
    """The SQL statements embedded in a function body (plpgsql or sql), each readable alone.

    plpgsql is not SQL, so each plpgsql statement is searched for the query it embeds (a
    ``SELECT … INTO`` or a parenthesised sub-select inside an ``IF`` or ``RETURN``); the
    plpgsql-only ``INTO var`` targets are blanked so sqlglot reads the rest.
    """
    local = SourceFile("<body>", body.raw)
    statements, _ = split_statements(local)
    out: list[Expr] = []
    for stmt in statements:
        taken_until = 0
        for m in _DML.finditer(stmt.masked):
            if m.start() < taken_until:
                continue
            begin = m.start()
            before = stmt.masked[:begin].rstrip()
            end = balanced(stmt.masked, len(before) - 1) - 1 if before.endswith("(") else len(stmt.masked)
            raw = stmt.raw[begin:end]
            masked = stmt.masked[begin:end]
            if m.group(1).upper() == "PERFORM":
                raw, masked = "SELECT " + raw[7:], "SELECT " + masked[7:]
            raw, masked = _blank_into(raw, masked)
            offset = body.span.offset + stmt.start + begin
            frag = Expr(raw, masked, Span(body.span.stmt, offset))
            out.append(Expr(raw, masked, frag.span, parse_select(raw)))
            taken_until = end
    return out


_INTO = re.compile(rf"\bINTO\s+(?:STRICT\s+)?{QNAME}(?:\s*,\s*{QNAME})*", re.IGNORECASE)


def _blank_into(raw: str, masked: str) -> tuple[str, str]:
    """Blank plpgsql ``INTO targets`` (not ``INSERT INTO``/``MERGE INTO``), keeping offsets."""
    def keep(m: re.Match) -> bool:
        head = masked[: m.start()].rstrip().upper()
        return head.endswith("INSERT") or head.endswith("MERGE")

    for m in reversed(list(_INTO.finditer(masked))):
        if keep(m):
            continue
        pad = " " * (m.end() - m.start())
        raw = raw[: m.start()] + pad + raw[m.end():]
        masked = masked[: m.start()] + pad + masked[m.end():]
    return raw, masked


def mask_text(raw: str) -> str:
    return _mask(raw).text
