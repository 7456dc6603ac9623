"""Safety classes of column operations, as PostgreSQL 15 behaves (proven on a populated table by
``tests/diff/test_safety_classes.py``).

``safe``: no rewrite, no scan under a lock that blocks writes; ``locking``: rewrites or scans the
table under such a lock; ``destructive``: may lose or change data (or fail on existing rows).
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["add_column_safety", "type_change_safety"]

Safety = Literal["safe", "locking", "destructive"]

# Type changes that keep every value but rewrite the table (a new binary format).
_WIDENING = {("smallint", "integer"), ("smallint", "bigint"), ("integer", "bigint"),
             ("real", "double precision"), ("character", "text")}
# Functions whose value does not change from row to row (a default calling only these is computed
# once and stored in the catalog: no rewrite). Anything else may be volatile: every row is written.
_NOT_VOLATILE = frozenset({
    "now", "transaction_timestamp", "statement_timestamp", "current_setting", "current_user",
    "session_user", "lower", "upper", "length", "coalesce", "nullif", "concat", "array",
    "jsonb_build_object", "json_build_object", "make_interval", "to_jsonb", "to_json",
})
_CAST = re.compile(r"::\s*[\w .\"]+(\(\s*\d+(\s*,\s*\d+)?\s*\))?(\[\])?")
_CALL = re.compile(r"([A-Za-z_][\w$]*)\s*\(")


def _modifiers(t: str) -> tuple[str, tuple[int, ...]]:
    base, _, rest = t.partition("(")
    mods = tuple(int(x) for x in re.findall(r"\d+", rest.split(")")[0])) if rest else ()
    return base.strip(), mods


def type_change_safety(old: str, new: str) -> Safety:
    a, a_mods = _modifiers(old)
    b, b_mods = _modifiers(new)
    # Binary-coercible and only wider: PostgreSQL changes the catalog, neither rewrites nor
    # scans (a brief ACCESS EXCLUSIVE lock).
    if a == "character varying" and b == "text":
        return "safe"
    if a == b:
        if not b_mods:  # varchar(10) -> varchar: no limit any more
            return "safe"
        if a in ("character varying", "bit varying") and a_mods and b_mods[0] >= a_mods[0]:
            return "safe"  # a longer limit
        if a == "numeric" and len(a_mods) == 2 and len(b_mods) == 2 \
                and b_mods[1] == a_mods[1] and b_mods[0] >= a_mods[0]:
            return "safe"  # more digits, same scale: every value still fits as it is
    if (a, b) in _WIDENING or b == "text":
        return "locking"  # every value kept, the table rewritten under ACCESS EXCLUSIVE
    return "destructive"


def volatile_default(expr: str | None) -> bool:
    """True when a default may differ row by row (ADD COLUMN then writes every row)."""
    if not expr:
        return False
    calls = {m.lower() for m in _CALL.findall(_CAST.sub("", expr))}
    return bool(calls - _NOT_VOLATILE)


def add_column_safety(not_null: bool, default: str | None, identity: str,
                      generated: str | None) -> Safety:
    if generated is not None or identity or volatile_default(default):
        return "locking"  # every row is computed and written: a rewrite under ACCESS EXCLUSIVE
    if not_null and default is None:
        return "locking"  # scans for (and fails on) existing rows
    return "safe"
