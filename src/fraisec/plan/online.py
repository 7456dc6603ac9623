"""Online forms of the operations that would hold a write-blocking lock on a table with rows
while PostgreSQL scans it (``migrate diff`` uses them unless ``--no-online``; ``fraisec diff``
prints the plain forms):

* CHECK and FOREIGN KEY: ``ADD CONSTRAINT … NOT VALID`` (a brief lock, no scan), then
  ``VALIDATE CONSTRAINT`` on its own after the transaction (SHARE UPDATE EXCLUSIVE: reads and
  writes go on while it scans; a foreign key also takes ROW SHARE on the referenced table);
* UNIQUE and PRIMARY KEY: ``CREATE UNIQUE INDEX CONCURRENTLY`` on its own (writes go on), then
  ``ADD CONSTRAINT … USING INDEX`` (a brief ACCESS EXCLUSIVE, no scan; a primary key over
  nullable columns still scans for NULLs);
* SET NOT NULL: ``CHECK (col IS NOT NULL) NOT VALID``, ``VALIDATE``, then ``SET NOT NULL`` (which
  uses the validated check instead of scanning) and the check dropped.

Only on tables that exist before the migration and stay (a table the migration creates is
empty: the plain form is as cheap); not on partitioned tables and partitions (PostgreSQL 15 has
no NOT VALID foreign key nor CONCURRENTLY index on a partitioned table). Each op these forms add
has an id starting with ``online-``, and its reason is the line the migration header shows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fraisec.catalog.model import Column, Constraint
from fraisec.diff import Change
from fraisec.plan.model import CREATE_ORDER, Op, Safety
from fraisec.render.quoting import quote_ident

if TYPE_CHECKING:
    from fraisec.plan.planner import Planner

__all__ = ["constraint_ops", "online_forms", "set_not_null"]

ONLINE_PREFIX = "online-"
# The op of each online form whose reason describes the whole form (the migration header's line).
_DESCRIBED = (f"{ONLINE_PREFIX}validate:", f"{ONLINE_PREFIX}index:")
# A plain UNIQUE / PRIMARY KEY: its columns, and the DEFERRABLE clauses USING INDEX accepts.
_KEY = re.compile(r"^(?P<kind>UNIQUE|PRIMARY KEY) \((?P<columns>[^()]+)\)"
                  r"(?P<rest>(?: DEFERRABLE)?(?: INITIALLY (?:DEFERRED|IMMEDIATE))?)$")


def applies(p: Planner, table_key: str) -> bool:
    """Online forms for this table: it exists, stays, and is neither partitioned nor a partition."""
    if not (p.online and p.table_exists(table_key)):
        return False
    table = p.des.table.get(table_key)
    return table is not None and table.kind != "p" and not table.partition_of


def constraint_ops(p: Planner, ch: Change) -> bool:
    """Add the online form of a new constraint; False when it has none (the plain form then)."""
    con: Constraint = ch.new
    if not con.is_local or not applies(p, con.table):
        return False
    if con.type in ("c", "f") and not con.definition.endswith("NOT VALID"):
        _not_valid_then_validate(p, ch, con)
        return True
    match = _KEY.match(con.definition) if con.type in ("u", "p") else None
    if match:
        _index_then_constraint(p, ch, con, match)
        return True
    return False


def _after_drop(ch: Change) -> list[str]:
    return [f"drop:{ch.ref}"] if ch.action == "replace" else []


def _not_valid_then_validate(p: Planner, ch: Change, con: Constraint) -> None:
    name = quote_ident(con.name)
    word = "CHECK" if con.type == "c" else "FOREIGN KEY"
    p.add(Op(f"create:{ch.ref}", "constraint", ch.key, "create",
             (f"ALTER TABLE {con.table} ADD CONSTRAINT {name} {con.definition} NOT VALID",),
             "safe", reason=ch.reason), (3, CREATE_ORDER["constraint"], ch.key),
          creates=[(ch.ref, None)],
          after=_after_drop(ch))
    p.add(Op(f"{ONLINE_PREFIX}validate:{ch.ref}", "constraint", ch.key, "validate",
             (f"ALTER TABLE {con.table} VALIDATE CONSTRAINT {name}",), "safe", False,
             f"{word} {ch.key} added NOT VALID, then validated on its own (SHARE UPDATE "
             "EXCLUSIVE: reads and writes go on)"),
          (5, 1, ch.key), after=[f"create:{ch.ref}"])


def _index_then_constraint(p: Planner, ch: Change, con: Constraint, match: re.Match) -> None:
    name = quote_ident(con.name)
    kind = match["kind"]
    p.add(Op(f"{ONLINE_PREFIX}index:{ch.ref}", "constraint", ch.key, "create",
             (f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {con.table} ({match['columns']})",),
             "safe", False,
             f"{kind} {ch.key} built as a unique index CONCURRENTLY (writes go on), then "
             "attached with ADD CONSTRAINT … USING INDEX (a brief ACCESS EXCLUSIVE)"),
          (5, 0, ch.key), creates=[(ch.ref, None)], after=_after_drop(ch))
    safety: Safety = "safe"
    if kind == "PRIMARY KEY" and not _all_not_null(p, con.table, match["columns"]):
        safety = "locking"  # USING INDEX sets the columns NOT NULL: a scan under ACCESS EXCLUSIVE
    p.add(Op(f"create:{ch.ref}", "constraint", ch.key, "create",
             (f"ALTER TABLE {con.table} ADD CONSTRAINT {name} {kind} USING INDEX {name}{match['rest']}",),
             safety, reason=ch.reason), (5, 2, ch.key), creates=[(ch.ref, None)],
          after=[f"{ONLINE_PREFIX}index:{ch.ref}"])


def _all_not_null(p: Planner, table_key: str, columns: str) -> bool:
    table = p.cur.table[table_key]
    wanted = {c.strip() for c in columns.split(",")}
    found = [c for c in table.columns if quote_ident(c.name) in wanted]
    return len(found) == len(wanted) and all(c.not_null for c in found)


def set_not_null(p: Planner, ch: Change, old: Column, new: Column,
                 statements: tuple[str, ...]) -> tuple[str, ...]:
    """The column op's statements with SET NOT NULL replaced by a NOT VALID check, and the ops
    that validate it and then set NOT NULL without a scan; ``statements`` unchanged when the
    online form does not apply (a type change rewrites anyway; ADD IDENTITY needs NOT NULL)."""
    column = quote_ident(new.name)
    plain = f"ALTER TABLE {ch.key} ALTER COLUMN {column} SET NOT NULL"
    if (plain not in statements or old.type != new.type or (new.identity and not old.identity)
            or not applies(p, ch.key)):
        return statements
    check = quote_ident(f"{new.name[:40]}_fraisec_not_null")
    target = f"column:{ch.ref}:{new.name}"
    p.add(Op(f"{ONLINE_PREFIX}validate:{target}", "table", ch.key, "validate",
             (f"ALTER TABLE {ch.key} VALIDATE CONSTRAINT {check}",), "safe", False,
             f"SET NOT NULL on {ch.key}.{column} through CHECK ({column} IS NOT NULL) NOT VALID, "
             "validated on its own (SHARE UPDATE EXCLUSIVE), then SET NOT NULL without a scan"),
          (5, 1, ch.key, new.name), after=[target])
    p.add(Op(f"{ONLINE_PREFIX}not-null:{target}", "table", ch.key, "alter column",
             (plain, f"ALTER TABLE {ch.key} DROP CONSTRAINT {check}"), "safe",
             reason=f"column {new.name} NOT NULL, proven by the validated check"),
          (5, 3, ch.key, new.name), after=[f"{ONLINE_PREFIX}validate:{target}"])
    return tuple(f"ALTER TABLE {ch.key} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID"
                 if s == plain else s for s in statements)


def online_forms(plan) -> list[str]:
    """One line per online form in ``plan``, in execution order: what it does and its locks."""
    return [op.reason for op in plan.ops if op.id.startswith(_DESCRIBED) and op.statements]
