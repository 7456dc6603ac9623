"""Operations on whole objects: drop, create, replace, the per-kind ALTERs (tables' are in
:mod:`fraisec.plan.tables`), enum and composite type swaps, domain CHECK resets and sequence
ownership."""

from __future__ import annotations

from dataclasses import replace as dc_replace
from typing import TYPE_CHECKING, Callable

from fraisec.catalog.model import ObjRef, Sequence
from fraisec.diff import Change
from fraisec.plan import foreign, online
from fraisec.plan.model import CREATE_ORDER, DROP_ORDER, Op, Safety
from fraisec.plan.tables import alter_table, needs_readd
from fraisec.render import ops as sql
from fraisec.render.quoting import qualified, quote_ident

if TYPE_CHECKING:
    from fraisec.plan.planner import Planner

__all__ = ["domain_reset_ops", "ops_for"]


def ops_for(p: Planner, ch: Change) -> None:
    if ch.kind in ("enum", "composite") and ch.action == "replace" and p.enum_retypes.get(ch.ref):
        _type_swap_ops(p, ch)
    elif ch.action in ("drop", "replace"):
        _drop_op(p, ch)
    if ch.action in ("create", "replace"):
        _create_op(p, ch)
    if ch.action == "alter":
        _ALTERS[ch.kind](p, ch)
    if ch.kind == "sequence":
        _sequence_owner_ops(p, ch)


# -- drop, create ---------------------------------------------------------------------------
def _drop_op(p: Planner, ch: Change) -> None:
    ref = ch.ref
    statements: list[str] = sql.drop(ref, ch.old)
    if ch.kind == "sequence" and _dropped_with_owner(p, ch.old):
        # PostgreSQL drops an owned sequence with its column: no statement, and whatever
        # waits for this drop waits for the op that drops the column (or table).
        table_key, column = ch.old.owned_by
        table_ref = ObjRef("table", table_key)
        table_ch = p.by_ref.get(table_ref)
        p.aliases[(ref, None)] = (
            f"drop:{table_ref}" if table_ch.action in ("drop", "replace")
            else f"column:{table_ref}:{column}")
        return
    if _goes_with_parent(p, ch):
        parent_kind = "table" if ch.old.table in p.cur.table else "view"
        p.aliases[(ref, None)] = f"drop:{ObjRef(parent_kind, ch.old.table)}"
        return  # goes away with its table
    safety: Safety = "destructive" if ch.kind in ("table", "sequence", "schema", "extension",
                                                  *foreign.DESTRUCTIVE_DROPS) else "safe"
    if ch.kind == "view" and ch.old.materialized:
        safety = "safe"
    p.add(Op(f"drop:{ref}", ch.kind, ch.key, "drop", tuple(statements), safety,
             reason=ch.reason), (1, DROP_ORDER[ch.kind], ch.key), drops=[(ref, None)])


def _goes_with_parent(p: Planner, ch: Change) -> bool:
    """An object on a table that is dropped goes with it, unless this plan drops such
    objects on their own first (see :func:`fraisec.plan.planner.plan`)."""
    if ch.kind not in ("constraint", "index", "trigger", "policy", "rule"):
        return False
    if not p.parent_dropped(ch.old):
        return False
    return not (p.explicit_drops and ch.kind != "index" and not p.parent_replaced(ch.old))


def _dropped_with_owner(p: Planner, seq: Sequence) -> bool:
    if not seq.owned_by:
        return False
    table_key, column = seq.owned_by
    ch = p.by_ref.get(ObjRef("table", table_key))
    if ch is None:
        return False
    if ch.action in ("drop", "replace"):
        return True
    return ch.action == "alter" and (
        ch.new.column(column) is None
        or needs_readd(ch.old.column(column), ch.new.column(column)))


def _create_op(p: Planner, ch: Change) -> None:
    if ch.kind == "constraint" and online.constraint_ops(p, ch):
        return
    if ch.kind == "index" and online.index_ops(p, ch):
        return
    ref = ch.ref
    statements = sql.create(ref, ch.new)
    safety: Safety = "safe"
    transactional = True
    plain_lock = ""
    rank = (3, CREATE_ORDER[ch.kind], ch.key)
    if ch.kind == "index" and p.table_exists(ch.new.table) and not p.is_partitioned(ch.new.table):
        # An index on a table that already holds rows is built without blocking writes.
        statements = [sql.index_sql(ch.new, concurrently=True)]
        transactional = False
        rank = (5, 0, ch.key)
    elif ch.kind == "constraint" and p.table_exists(ch.new.table):
        # NOT VALID: no scan of the existing rows (tests/diff/test_safety_classes.py)
        safety = "safe" if ch.new.definition.endswith("NOT VALID") else "locking"
        plain_lock = online.plain_note(p, ch.new)
    elif ch.kind == "index" and p.table_exists(ch.new.table):  # partitioned: no online form
        safety = "locking"  # each partition's index is built under SHARE: writes wait
        plain_lock = online.plain_index_note(p, ch.new.table, ch.key)
    elif ch.kind == "view" and ch.new.materialized and ch.action == "replace":
        safety = "locking"
    p.add(Op(f"create:{ref}", ch.kind, ch.key, "create", tuple(statements), safety,
             transactional, ch.reason, plain_lock=plain_lock), rank, creates=[(ref, None)],
          after=[f"drop:{ref}"] if ch.action == "replace" else [])


# -- enum and composite types recreated under columns ---------------------------------------
def _type_swap_ops(p: Planner, ch: Change) -> None:
    """An enum losing or reordering values, or a composite type whose attributes are
    retyped or reordered, while columns use it: rename the old type aside, create the new
    one, convert each column (an enum through text: a row holding a removed value makes the
    cast fail, nothing is lost silently; a composite attribute by attribute), then drop the
    old type."""
    ref, old = ch.ref, ch.old
    aside = f"{old.name}__fraisec_old"
    p.add(Op(f"drop:{ref}", ch.kind, ch.key, "drop",
             (f"ALTER TYPE {ch.key} RENAME TO {quote_ident(aside)}",), "destructive",
             reason=ch.reason), (1, DROP_ORDER["enum"], ch.key))
    for table_key, column in sorted(set(p.enum_retypes[ref])):
        table_ref = ObjRef("table", table_key)
        old_col = p.cur.table[table_key].column(column)
        new_col = p.des.table[table_key].column(column)
        name = quote_ident(column)
        statements = []
        if old_col.default is not None:
            statements.append(f"ALTER TABLE {table_key} ALTER COLUMN {name} DROP DEFAULT")
        statements.append(f"ALTER TABLE {table_key} ALTER COLUMN {name} TYPE {new_col.type} "
                          f"USING {_convert(name, new_col.type, old, ch.new)}")
        if new_col.default is not None:
            statements.append(f"ALTER TABLE {table_key} ALTER COLUMN {name} SET DEFAULT {new_col.default}")
        p.add(Op(f"retype:{ref}:{table_key}:{column}", "table", table_key, "alter column",
                 tuple(statements), "destructive", reason=f"{ch.key} recreated"),
              (2, 30, table_key, column), creates=[(table_ref, column)],
              drops=[(table_ref, column)], after=[f"column:{table_ref}:{column}"])
    p.add(Op(f"drop-aside:{ref}", ch.kind, ch.key, "drop renamed",
             (f"DROP TYPE {qualified(old.schema, aside)}",), "safe",
             reason="old values replaced"), (3, 99, ch.key), drops=[(ref, None)])


def _convert(column: str, new_type: str, old_type: object, new_def: object) -> str:
    """USING expression converting a column from a type renamed aside to its new version."""
    attributes = getattr(new_def, "attributes", None)
    if attributes is None:  # an enum
        return f"{column}::text::{new_type}"
    old_names = {a.name for a in old_type.attributes}  # type: ignore[attr-defined]
    fields = ", ".join(
        f"({column}).{quote_ident(a.name)}::{a.type}" if a.name in old_names else f"NULL::{a.type}"
        for a in attributes)
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE ROW({fields})::{new_type} END"


# -- alters of kinds other than tables --------------------------------------------------------
def _alter(p: Planner, ch: Change, statements: list[str], safety: Safety = "safe", *,
           transactional: bool = True, rank: tuple | None = None) -> None:
    if not statements:
        return
    p.add(Op(f"alter:{ch.ref}", ch.kind, ch.key, "alter", tuple(statements), safety,
             transactional, ch.reason), rank or (2, CREATE_ORDER[ch.kind], ch.key),
          creates=[(ch.ref, None)], releases=[(ch.ref, None)])


def _alter_extension(p: Planner, ch: Change) -> None:
    _alter(p, ch, sql.alter_extension(ch.key, ch.old, ch.new), "locking")


def _alter_enum(p: Planner, ch: Change) -> None:
    # ADD VALUE cannot be used in the transaction that adds it: run it first, on its own.
    _alter(p, ch, sql.alter_enum(ch.key, ch.old, ch.new), "safe", transactional=False,
           rank=(0, 0, ch.key))


def _alter_composite(p: Planner, ch: Change) -> None:
    _alter(p, ch, sql.alter_composite(ch.key, ch.old, ch.new), "destructive"
           if len(ch.new.attributes) < len(ch.old.attributes) else "locking")


def _alter_domain(p: Planner, ch: Change) -> None:
    old = ch.old
    if ch.ref in p.domain_check_resets:  # the checks are dropped and added by their own ops
        old = dc_replace(old, constraints=ch.new.constraints)
    _alter(p, ch, sql.alter_domain(ch.key, old, ch.new), "locking")


def _alter_sequence(p: Planner, ch: Change) -> None:
    statements = sql.alter_sequence_options(ch.key, ch.old.options, ch.new.options)
    if ch.old.unlogged != ch.new.unlogged:
        statements.append(f"ALTER SEQUENCE {ch.key} SET {'UNLOGGED' if ch.new.unlogged else 'LOGGED'}")
    _alter(p, ch, statements, "safe")


def _alter_function(p: Planner, ch: Change) -> None:
    _alter(p, ch, sql.create(ch.ref, ch.new), "safe")


def _alter_trigger(p: Planner, ch: Change) -> None:
    _alter(p, ch, [sql.trigger_enable(ch.new)], "safe")


def _alter_rule(p: Planner, ch: Change) -> None:
    _alter(p, ch, [sql.rule_enable(ch.new)], "safe")


def _alter_event_trigger(p: Planner, ch: Change) -> None:
    _alter(p, ch, [sql.event_trigger_enable(ch.new)], "safe")


def _alter_publication(p: Planner, ch: Change) -> None:
    # A listed table recreated leaves the list (PostgreSQL drops the membership with it).
    relisted = any(c.action == "replace" for t in ch.old.tables
                   if (c := p.by_ref.get(ObjRef("table", t.table))))
    statements = sql.alter_publication(ch.old, ch.new, relist=relisted)
    if not relisted:
        _alter(p, ch, statements, "safe")
        return
    # After the tables are back; nothing has to wait for it (the drops take the membership).
    p.add(Op(f"alter:{ch.ref}", ch.kind, ch.key, "alter", tuple(statements), "safe",
             reason=ch.reason), (3, 95, ch.key), creates=[(ch.ref, None)])


_ALTERS: dict[str, Callable[[Planner, Change], None]] = {
    "table": alter_table, "extension": _alter_extension, "enum": _alter_enum,
    "composite": _alter_composite, "domain": _alter_domain, "sequence": _alter_sequence,
    "function": _alter_function, "trigger": _alter_trigger, "rule": _alter_rule,
    "event_trigger": _alter_event_trigger, "publication": _alter_publication,
    "fdw": foreign.alter_object, "server": foreign.alter_object,
    "user_mapping": foreign.alter_object,
}


# -- domain CHECKs around a recreated object ------------------------------------------------
def domain_reset_ops(p: Planner) -> None:
    for ref in sorted(p.domain_check_resets):
        old, new = p.cur.domain[ref.key], p.des.domain[ref.key]
        drops = [f"ALTER DOMAIN {ref.key} DROP CONSTRAINT {quote_ident(name)}"
                 for name, definition in old.constraints if definition != "NOT NULL"]
        adds = [f"ALTER DOMAIN {ref.key} ADD CONSTRAINT {quote_ident(name)} {definition}"
                for name, definition in new.constraints if definition != "NOT NULL"]
        p.add(Op(f"uncheck:{ref}", "domain", ref.key, "alter", tuple(drops), "safe",
                 reason="its CHECK uses an object being recreated"), (1, 45, ref.key),
              releases=[(ref, None)])
        p.add(Op(f"recheck:{ref}", "domain", ref.key, "alter", tuple(adds), "locking",
                 reason="its CHECK uses an object being recreated"), (3, 96, ref.key),
              creates=[(ref, None)], after=[f"uncheck:{ref}", f"alter:{ref}"])


# -- sequence ownership -----------------------------------------------------------------------
def _sequence_owner_ops(p: Planner, ch: Change) -> None:
    """OWNED BY is its own pair of steps: released before the old owner goes, taken after
    the new owner exists (a table's default uses the sequence, so one step would cycle)."""
    if ch.new is None:
        return  # dropped: goes with its owner, or by DROP SEQUENCE
    old_owner = ch.old.owned_by if ch.old else None
    new_owner = ch.new.owned_by
    recreated = bool(old_owner and _owner_recreated(p, old_owner))
    if old_owner == new_owner and not recreated:
        return
    if old_owner:
        p.add(Op(f"disown:{ch.ref}", "sequence", ch.key, "alter",
                 (sql.sequence_owned_by(ch.key, None),), "safe",
                 reason="owner column changes"), (1, -2, ch.key))
    if new_owner:
        statements = [sql.sequence_owned_by(ch.key, new_owner)]
        if p.table_exists(new_owner[0]):
            # PostgreSQL links a sequence only to a table with the same owner. The table
            # keeps its owner, so the sequence takes it first (a no-op when whoever applies
            # the script owns both; a chosen new owner for the table follows later and
            # carries the linked sequence with it).
            role = p.cur.table[new_owner[0]].owner
            statements.insert(0, sql.owner_statement(ch.ref, ch.new, role))
        p.add(Op(f"own:{ch.ref}", "sequence", ch.key, "alter", tuple(statements), "safe",
                 reason="owner column"), (3, 98, ch.key),
              requires=[(ObjRef("table", new_owner[0]), new_owner[1]), (ch.ref, None)],
              after=[f"disown:{ch.ref}"])


def _owner_recreated(p: Planner, owner: tuple[str, str]) -> bool:
    ch = p.by_ref.get(ObjRef("table", owner[0]))
    if ch is None:
        return False
    if ch.action in ("drop", "replace"):
        return True
    if ch.action != "alter":
        return False
    old, new = ch.old.column(owner[1]), ch.new.column(owner[1])
    return old is not None and (new is None or needs_readd(old, new))
