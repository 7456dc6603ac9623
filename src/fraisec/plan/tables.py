"""Table operations: a table's own settings (logged, options, inheritance, RLS, partitions), its
columns (add, drop, alter, replace) and column defaults reset around a recreated object."""

from __future__ import annotations

from dataclasses import replace as dc_replace
from typing import TYPE_CHECKING

from fraisec.catalog.model import Column, ObjRef, Table
from fraisec.diff import Change
from fraisec.plan import online
from fraisec.plan.model import TABLE_ITSELF, Op, Safety
from fraisec.plan.safety import add_column_safety, type_change_safety, volatile_default
from fraisec.render import ops as sql
from fraisec.render.quoting import quote_ident

if TYPE_CHECKING:
    from fraisec.plan.planner import Planner

__all__ = ["alter_table", "column_safety", "default_reset_ops", "managed_columns", "needs_readd"]


def alter_table(p: Planner, ch: Change) -> None:
    _table_settings_op(p, ch)
    _partition_ops(p, ch)
    _column_ops(p, ch)


def _table_settings_op(p: Planner, ch: Change) -> None:
    old, new, key = ch.old, ch.new, ch.key
    statements: list[str] = []
    safety: Safety = "safe"
    if old.unlogged != new.unlogged:
        statements.append(f"ALTER TABLE {key} SET {'UNLOGGED' if new.unlogged else 'LOGGED'}")
        safety = "locking"
    if old.options != new.options:
        removed = [o.split("=", 1)[0] for o in old.options
                   if o.split("=", 1)[0] not in {n.split("=", 1)[0] for n in new.options}]
        if removed:
            statements.append(f"ALTER TABLE {key} RESET ({', '.join(removed)})")
        if new.options:
            statements.append(f"ALTER TABLE {key} SET ({', '.join(new.options)})")
    for parent in old.inherits:
        if parent not in new.inherits:
            statements.append(f"ALTER TABLE {key} NO INHERIT {parent}")
    for parent in new.inherits:
        if parent not in old.inherits:
            statements.append(f"ALTER TABLE {key} INHERIT {parent}")
    statements += sql.rls_statements(new, old)
    if statements:
        p.add(Op(f"alter:{ch.ref}", "table", key, "alter", tuple(statements), safety,
                 reason="table options changed", rewrites=old.unlogged != new.unlogged), (2, 0, key),
              creates=[(ch.ref, TABLE_ITSELF)], releases=[(ch.ref, None)])


def _partition_ops(p: Planner, ch: Change) -> None:
    old, new, key = ch.old, ch.new, ch.key
    if old.partition_of and not new.partition_of:
        p.add(Op(f"detach:{ch.ref}", "table", key, "alter",
                 (f"ALTER TABLE {old.partition_of} DETACH PARTITION {key}",), "locking",
                 reason="no longer a partition"), (1, -1, key),
              releases=[(ch.ref, None)])
    if new.partition_of and not old.partition_of:
        p.add(Op(f"attach:{ch.ref}", "table", key, "alter",
                 (f"ALTER TABLE {new.partition_of} ATTACH PARTITION {key} {new.partition_bound}",),
                 "locking", reason="becomes a partition"), (3, 99, key),
              creates=[(ch.ref, None)])


def _column_ops(p: Planner, ch: Change) -> None:
    old_cols, new_cols = managed_columns(ch.old, ch.new)
    parents = list(ch.new.inherits) + ([ch.new.partition_of] if ch.new.partition_of else [])
    parents += [t for t in ch.old.inherits if t not in parents]
    for name in sorted(old_cols.keys() | new_cols.keys()):
        # A child's column waits for the same column on its parents (inherited columns).
        after = [f"column:{ObjRef('table', t)}:{name}" for t in parents]
        old, new = old_cols.get(name), new_cols.get(name)
        if new is None:
            _drop_column(p, ch, name, after)
        elif old is None:
            _add_column(p, ch, new, after)
        elif old != new:
            _alter_column(p, ch, old, new, after)


def _drop_column(p: Planner, ch: Change, name: str, after: list[str]) -> None:
    p.add(Op(f"column:{ch.ref}:{name}", "table", ch.key, "drop column",
             (f"ALTER TABLE {ch.key} DROP COLUMN {quote_ident(name)}",), "destructive",
             reason=f"column {name} not wanted"), (1, 50, ch.key, name),
          drops=[(ch.ref, name)], after=after)


def _add_column(p: Planner, ch: Change, new: Column, after: list[str]) -> None:
    safety = add_column_safety(new.not_null, new.default, new.identity, new.generated)
    # Every row computed and written: a generated or identity column, a volatile default.
    rewrites = new.generated is not None or bool(new.identity) or volatile_default(new.default)
    p.add(Op(f"column:{ch.ref}:{new.name}", "table", ch.key, "add column",
             (f"ALTER TABLE {ch.key} ADD COLUMN {sql.column_definition(new)}",), safety,
             reason=f"column {new.name} missing", rewrites=rewrites), (2, 10, ch.key, new.name),
          creates=[(ch.ref, new.name)], after=after)


def _alter_column(p: Planner, ch: Change, old: Column, new: Column, after: list[str]) -> None:
    key, name = ch.key, new.name
    if any((key, name) in cols for cols in p.enum_retypes.values()):
        old = dc_replace(old, default=new.default)  # the enum swap resets it
    action = "alter column"
    safety: Safety
    plain_lock = ""
    if needs_readd(old, new):
        statements: tuple[str, ...] = (
            f"ALTER TABLE {key} DROP COLUMN {quote_ident(name)}",
            f"ALTER TABLE {key} ADD COLUMN {sql.column_definition(new)}")
        safety = "destructive"
        action = "replace column"
    else:
        via_text = old.type in p.cur.enum or new.type in p.des.enum
        statements = tuple(sql.alter_column(key, old, new, cast_via_text=via_text,
                                            foreign_table=ch.new.is_foreign))
        safety = column_safety(old, new)
        online_statements = online.set_not_null(p, ch, old, new, statements)
        if online_statements != statements:  # no scan under a write-blocking lock any more
            statements, safety = online_statements, "safe"
        else:
            plain_lock = online.plain_not_null_note(p, ch, old, new, statements)
    if statements:
        target = (ch.ref, name)
        rewrites = safety != "safe" and old.type != new.type  # a new binary format: every row
        p.add(Op(f"column:{ch.ref}:{name}", "table", key, action, statements, safety,
                 reason=f"column {name} changed", rewrites=rewrites, plain_lock=plain_lock),
              (2, 20, key, name),
              creates=[target], drops=[target], after=after)


def default_reset_ops(p: Planner) -> None:
    """A column default that uses a function or sequence being recreated: dropped before,
    set again after."""
    for (table_key, column), users in sorted(p.default_resets.items()):
        ref = ObjRef("table", table_key)
        col = p.des.table[table_key].column(column)
        name = quote_ident(column)
        column_node = p.nodes.get(f"column:{ref}:{column}")
        if column_node is not None:
            if column_node.op.action == "replace column":
                continue  # dropped and added again: the old default goes with it
            # The column changes too: its own op leaves the default to the two ops below
            # and does not wait for the recreated objects (that would be a cycle).
            kept = tuple(st for st in column_node.op.statements
                         if not st.startswith((f"ALTER TABLE {table_key} ALTER COLUMN {name} DROP DEFAULT",
                                               f"ALTER TABLE {table_key} ALTER COLUMN {name} SET DEFAULT")))
            column_node.op = dc_replace(column_node.op, statements=kept)
            column_node.skip_uses |= users
            column_node.after.add(f"unset-default:{ref}:{column}")
        if col is None:
            continue
        p.add(Op(f"unset-default:{ref}:{column}", "table", table_key, "alter column",
                 (f"ALTER TABLE {table_key} ALTER COLUMN {name} DROP DEFAULT",), "safe",
                 reason="default uses an object being recreated"), (1, 40, table_key, column),
              drops=[(ref, column)])
        if col.default is None:
            continue
        p.add(Op(f"set-default:{ref}:{column}", "table", table_key, "alter column",
                 (f"ALTER TABLE {table_key} ALTER COLUMN {name} SET DEFAULT {col.default}",),
                 "safe", reason="default uses an object being recreated"),
              (3, 97, table_key, column), creates=[(ref, column)],
              after=[f"unset-default:{ref}:{column}", f"column:{ref}:{column}"])


def managed_columns(old: Table, new: Table) -> tuple[dict[str, Column], dict[str, Column]]:
    """The columns this table's own ALTERs manage. A partition's columns all come from its
    parent (none, while it stays a partition); a table leaving or joining a partitioned table
    has all of them (DETACH makes them local); an inheritance child has its local ones."""
    if old.partition_of and new.partition_of:
        return {}, {}
    if old.partition_of or new.partition_of or old.inherits != new.inherits:
        # DETACH and NO INHERIT leave the inherited columns behind as local ones.
        return {c.name: c for c in old.columns}, {c.name: c for c in new.columns}
    return ({c.name: c for c in old.columns if c.is_local},
            {c.name: c for c in new.columns if c.is_local})


def needs_readd(old: Column, new: Column) -> bool:
    """A generated column whose expression appears or changes cannot be altered in place."""
    return new.generated is not None and old.generated != new.generated


def column_safety(old: Column, new: Column) -> Safety:
    if old.type != new.type:
        return type_change_safety(old.type, new.type)
    if new.not_null and not old.not_null:
        return "locking"
    return "safe"
