"""Widening replacements to dependents: an object that must be dropped (a function whose return
type changed, a view whose definition changed, a column whose type changed under a view or
policy) takes everything that depends on it in the current catalog with it; those become
``replace`` changes (or default, domain-check and enum resets) of the planner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fraisec.catalog.model import Dependency, ObjRef
from fraisec.diagnostics import error
from fraisec.diff import Change
from fraisec.plan import foreign
from fraisec.plan.model import RECREATABLE
from fraisec.plan.tables import managed_columns, needs_readd
from fraisec.render.quoting import quote_ident

if TYPE_CHECKING:
    from fraisec.plan.planner import Planner

__all__ = ["widen"]

# (object, column or None, "drop" | "type"): what goes, and how.
_Seed = tuple[ObjRef, "str | None", str]


def widen(p: Planner) -> None:
    queue: list[_Seed] = [(ref, None, "drop") for ref, ch in p.by_ref.items()
                          if ch.action in ("drop", "replace")]
    queue += _column_seeds(p)
    seen: set[tuple[ObjRef, str | None]] = set()
    while queue:
        ref, column, mode = queue.pop()
        if (ref, column) in seen:
            continue
        seen.add((ref, column))
        for dep in p.cur_rdeps.get(ref, ()):
            if column is not None and dep.referenced_column != column:
                continue
            _widen_one(p, ref, dep, mode, queue)


def _column_seeds(p: Planner) -> list[_Seed]:
    """Columns of altered tables that are dropped (or re-added) or change type."""
    seeds: list[_Seed] = []
    for ch in p.by_ref.values():
        if ch.kind != "table" or ch.action != "alter":
            continue
        old_cols, new_cols = managed_columns(ch.old, ch.new)
        for name, col in old_cols.items():
            new = new_cols.get(name)
            if new is None:
                seeds.append((ch.ref, name, "drop"))
            elif needs_readd(col, new):
                seeds.append((ch.ref, name, "drop"))
            elif (col.type, col.collation) != (new.type, new.collation):
                seeds.append((ch.ref, name, "type"))
    return seeds


def _widen_one(p: Planner, ref: ObjRef, dep: Dependency, mode: str, queue: list[_Seed]) -> None:
    z = dep.dependent
    if mode == "type" and z.kind in ("constraint", "index"):
        return  # ALTER COLUMN … TYPE rebuilds these itself
    existing = p.by_ref.get(z)
    if existing and existing.action in ("drop", "replace"):
        return
    if z.kind == "extension" and existing and ref.kind == "schema" \
            and existing.new.schema != existing.old.schema:
        return  # SET SCHEMA moves it out first
    if z.kind == "table":
        _widen_table(p, ref, z, dep, queue)
        return
    if z not in p.des:
        return
    if z.kind == "publication":
        # The membership goes with the table; the list is set again once it is back.
        if existing is None:
            p.by_ref[z] = Change(z.kind, z.key, "alter", p.cur.get(z), p.des.get(z),
                                 f"lists {ref}")
        return
    if z.kind == "domain":
        # A domain's CHECK uses it: the checks are dropped before and added again after.
        p.domain_check_resets.add(z)
        return
    if z.kind not in RECREATABLE:
        p.diagnostics.append(error(
            "FSC403", f"{z} depends on {ref}, which must be dropped and created again, and "
            f"fraisec cannot recreate a {z.kind} in place",
            hint="Split the change into two migrations, or write this step by hand."))
        return
    p.by_ref[z] = Change(z.kind, z.key, "replace", p.cur.get(z), p.des.get(z),
                         f"depends on {ref}")
    queue.append((z, None, "drop"))


def _widen_table(p: Planner, ref: ObjRef, z: ObjRef, dep: Dependency, queue: list[_Seed]) -> None:
    if dep.dependent_column is None:
        # A partition or inheritance child of a table, or a foreign table on a server, that is
        # dropped and created again.
        if (ref.kind == "table" or foreign.widened_by_server(ref, z)) and z in p.des:
            p.by_ref[z] = Change(z.kind, z.key, "replace", p.cur.get(z), p.des.get(z),
                                 f"{'uses' if ref.kind == 'server' else 'child of'} {ref}")
            queue.append((z, None, "drop"))
        return
    if z not in p.des:
        return
    old_col = p.cur.table[z.key].column(dep.dependent_column)
    new_col = p.des.table[z.key].column(dep.dependent_column)
    if old_col is None or new_col is None:
        return
    if ref.kind in ("function", "sequence") and old_col.default is not None:
        p.default_resets[(z.key, dep.dependent_column)].add(ref)
        return
    if ref.kind in ("enum", "composite", "range", "domain", "collation", "extension"):
        if old_col.type != new_col.type or old_col.collation != new_col.collation:
            return  # the column moves off the type before the type is dropped
        if ref.kind in ("enum", "composite"):
            # Old type renamed aside, new one created, the column converted.
            p.enum_retypes[ref].append((z.key, dep.dependent_column))
            queue.append((z, dep.dependent_column, "type"))
            return
        p.diagnostics.append(error(
            "FSC403", f"column {z.key}.{quote_ident(dep.dependent_column)} uses {ref}, "
            f"which must be dropped and created again",
            hint="Move the column to another type first (one migration), then change the "
                 "type (another migration)."))
