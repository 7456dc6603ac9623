"""FSC321: type names a function body leaves to ``search_path`` while ``pg_temp`` is not
explicitly last (issue 11, leak L1).

PostgreSQL searches the session's temporary schema *first* for relations **and types**
unless the path lists ``pg_temp`` explicitly; ``SET search_path = ''`` does not change that. A
caller with TEMP creates ``CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid CHECK
(pg_temp.spy(VALUE))`` and every ``::uuid`` in the body runs ``spy`` (as the owner, in a
definer). Functions and operators are never looked up in ``pg_temp``, and the SQL-standard
type names the grammar itself maps to ``pg_catalog`` (``bigint``, ``integer``, ``boolean``,
``timestamp``, ``varchar``, …) cannot be shadowed, so neither is reported.
"""

from __future__ import annotations

import re
from typing import Iterator

from fraisec.lint.model import Expr, LintModel
from fraisec.lint.registry import Finding, LintConfig, error, rule, warning
from fraisec.lint.rules.functions import _path_entries
from fraisec.lint.sqlread import IDENT, QNAME, balanced, norm, split_name

__all__: list[str] = []

# Type names gram.y turns into pg_catalog types itself (SystemTypeName): never looked up.
_GRAMMAR_TYPES = {
    "int", "integer", "smallint", "bigint", "real", "float", "double", "decimal", "dec",
    "numeric", "boolean", "char", "character", "varchar", "nchar", "national", "bit",
    "timestamp", "time", "interval", "setof",
}
_CAST = re.compile(rf"::\s*({QNAME})", re.IGNORECASE)
_CAST_FN = re.compile(r"\bCAST\s*\(", re.IGNORECASE)
_AS_TYPE = re.compile(rf"\bAS\s+({QNAME})\s*(?:\[\s*\]|\(\s*[\d\s,]*\))?\s*$", re.IGNORECASE)
_DECLARE = re.compile(r"\bDECLARE\b", re.IGNORECASE)
_BEGIN = re.compile(r"\bBEGIN\b", re.IGNORECASE)
_DECL_ITEM = re.compile(rf"^\s*({IDENT})\s+(?:CONSTANT\s+)?({QNAME})(%ROWTYPE|%TYPE)?",
                        re.IGNORECASE)


@rule("FSC321")
def temp_shadowable_types(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for fn in model.functions:
        if fn.body is None or fn.language not in ("plpgsql", "sql"):
            continue
        path = model.search_path(fn)
        if path is None:
            continue  # unpinned: FSC310 for a definer; an invoker runs with the caller's path
        entries = _path_entries(path)
        if entries and entries[-1] == "pg_temp":
            continue
        names = sorted(unqualified_types(fn.body, fn.language), key=lambda n: n[1])
        if not names:
            continue
        definer = model.is_definer(fn)
        shown = ", ".join(sorted({n for n, _ in names}))
        who = ("as the function's owner" if definer else
               "as whoever calls it next on that connection, with their tenant's context")
        make = error if definer else warning
        yield make(
            "FSC321",
            f"{'SECURITY DEFINER ' if definer else ''}function {fn.signature} names types "
            f"without a schema ({shown}) and its search_path ({path}) does not end with pg_temp: "
            f"pg_temp is searched first for types, so a caller's TEMP domain named like one of "
            f"them runs its CHECK function {who}",
            fn.body.at(names[0][1]),
            "Use SET search_path = pg_catalog, pg_temp (pg_temp explicitly last), or qualify "
            "every type in the body (::pg_catalog.uuid). REVOKE TEMPORARY ON DATABASE … FROM "
            "PUBLIC narrows it, but a database copied from a template grants TEMP again.")


def unqualified_types(body: Expr, language: str) -> Iterator[tuple[str, int]]:
    """(type name, offset in the body) for every type the body leaves to search_path."""
    masked = body.masked
    for m in _CAST.finditer(masked):
        yield from _check(m.group(1), m.start(1))
    for m in _CAST_FN.finditer(masked):
        inner = masked[m.end(): balanced(masked, m.end() - 1) - 1]
        as_type = _AS_TYPE.search(inner)
        if as_type:
            yield from _check(as_type.group(1), m.end() + as_type.start(1))
    if language == "plpgsql":
        yield from _declared(masked)


def _declared(masked: str) -> Iterator[tuple[str, int]]:
    for declare in _DECLARE.finditer(masked):
        begin = _BEGIN.search(masked, declare.end())
        section_end = begin.start() if begin else len(masked)
        position = declare.end()
        for item in masked[declare.end(): section_end].split(";"):
            m = _DECL_ITEM.match(item)
            if m and m.group(2).upper() not in ("ALIAS", "CURSOR", "REFCURSOR"):
                type_name = m.group(2)
                if m.group(3) and m.group(3).upper() == "%TYPE":
                    type_name = ".".join(type_name.split(".")[:-1]) or type_name  # tb.col
                yield from _check(type_name, position + m.start(2))
            position += len(item) + 1


def _check(qname: str, offset: int) -> Iterator[tuple[str, int]]:
    schema, name = split_name(qname)
    if schema is not None:
        return
    if norm(qname).split()[0] in _GRAMMAR_TYPES or name in _GRAMMAR_TYPES:
        return
    yield name, offset

