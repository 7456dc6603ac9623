"""``current_setting`` reads that error on pooled connections (rls.md section (d))."""

from __future__ import annotations

import re
from typing import Iterator

from fraisec.lint.model import Expr, LintModel, Span
from fraisec.lint.registry import Finding, LintConfig, error, rule
from fraisec.lint.sqlread import balanced, split_top_level

__all__: list[str] = []

_CALL = re.compile(r"\bcurrent_setting\s*\(", re.IGNORECASE)
_CAST_OPEN = re.compile(r"\bCAST\s*\(\s*(?:\(\s*)*$", re.IGNORECASE)
_NULLIF_OPEN = re.compile(r"\bNULLIF\s*\(\s*$", re.IGNORECASE)


@rule("FSC306")
def unsafe_current_setting(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for region in _regions(model):
        for m in _CALL.finditer(region.masked):
            open_at = m.end() - 1
            close = balanced(region.masked, open_at)
            args = split_top_level(region.masked[open_at + 1: close - 1])
            raw_call = " ".join(region.raw[m.start():close].split())
            if len(args) < 2:
                problem = ("has no missing_ok argument: it raises 'unrecognized configuration "
                           "parameter' when the setting was never set on the connection")
            elif (not _wrapped_in_nullif(region.masked, m.start(), close)
                  and _is_cast(region.masked, m.start(), close)):
                problem = ("is not wrapped in NULLIF(…, ''): on a pooled connection that ran "
                           "SET LOCAL or set_config(…, true) before, the unset value is '' "
                           "and a cast such as ''::uuid or ''::jsonb raises an error")
            else:
                continue
            yield error(
                "FSC306", f"{raw_call} {problem}", region.at(m.start()),
                "Read settings as NULLIF(current_setting('name', true), '') so an unset value "
                "is NULL (fail closed, no error), and wrap it as (SELECT …) in policies.")


def _is_cast(masked: str, start: int, close: int) -> bool:
    """``current_setting(…)::type``, ``(current_setting(…))::type`` or ``CAST(… AS type)``:
    the casts that raise on ''. A plain text comparison (``= 'admin'``) is safe."""
    after = masked[close:].lstrip().lstrip(")").lstrip()
    return after.startswith("::") or bool(_CAST_OPEN.search(masked[:start]))


def _wrapped_in_nullif(masked: str, start: int, close: int) -> bool:
    return bool(_NULLIF_OPEN.search(masked[:start])) and masked[close:].lstrip().startswith(",")


def _regions(model: LintModel) -> Iterator[Expr]:
    """Every statement's own text, plus function bodies (blanked in the statement text)."""
    for stmt in model.statements:
        yield Expr(stmt.raw, stmt.masked, Span(stmt, 0))
    for fn in model.functions:
        if fn.body is not None:
            yield fn.body
