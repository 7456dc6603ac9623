"""A column changing between serial and identity, where both use a sequence of the same name.

``c serial`` owns the sequence ``t_c_seq``; ``c int GENERATED … AS IDENTITY`` makes an identity
sequence named the same. PostgreSQL refuses to create the new one while the old one exists, and
the old one cannot go while the column's default uses it, so one column step (DROP DEFAULT, ADD
GENERATED) cannot be ordered around the sequence's drop. The step is split:

* serial → identity: DROP DEFAULT (the column step), DROP SEQUENCE, then ADD GENERATED;
* identity → serial: DROP IDENTITY (its identity sequence goes with it), CREATE SEQUENCE, then
  the column step (SET DEFAULT nextval(…)).

Either way the new sequence starts at its START, below the values the old one gave out: it is
moved past the column's largest value (``setval``), so the next row does not reuse a value.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from fraisec.catalog.model import ObjRef, SeqOptions
from fraisec.render.quoting import quote_ident, quote_literal

if TYPE_CHECKING:
    from fraisec.plan.planner import Planner

__all__ = ["split_sequence_swaps"]


def split_sequence_swaps(planner: Planner) -> None:
    for nid in sorted(planner.nodes):
        if not nid.startswith("column:"):
            continue
        node = planner.nodes[nid]
        key, name = node.op.key, nid.rsplit(":", 1)[1]
        old_t, new_t = planner.cur.table.get(key), planner.des.table.get(key)
        old = old_t.column(name) if old_t else None
        new = new_t.column(name) if new_t else None
        if old is None or new is None:
            continue
        if new.identity and not old.identity and new.identity_sequence:
            _identity_after_drop(planner, nid, new.identity_sequence[0], name)
        elif old.identity and not new.identity and old.identity_sequence:
            _unidentity_before_create(planner, nid, old.identity_sequence[0], name)


def _continue_after(table: str, name: str, seq_key: str, o: SeqOptions) -> tuple[str, ...]:
    """setval past the column's largest value inside the sequence's range (none: untouched,
    setval is strict)."""
    if o.increment < 0:
        return ()
    col = quote_ident(name)
    return (f"SELECT pg_catalog.setval({quote_literal(seq_key)}::regclass, max({col})) "
            f"FROM {table} WHERE {col} BETWEEN {o.min} AND {o.max}",)


def _split(node, marker: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    moved = tuple(s for s in node.op.statements if marker in s)
    kept = tuple(s for s in node.op.statements if marker not in s)
    return moved, kept


def _identity_after_drop(planner, nid: str, seq_key: str, name: str) -> None:
    drop_id = f"drop:{ObjRef('sequence', seq_key)}"
    if drop_id not in planner.nodes:
        return
    node = planner.nodes[nid]
    moved, kept = _split(node, f"ALTER COLUMN {quote_ident(name)} ADD GENERATED")
    if not moved:
        return
    if not kept:  # nothing on the column uses the old sequence: simply after its drop
        node.after.add(drop_id)
        options = planner.des.table[node.op.key].column(name).identity_sequence[1]
        node.op = replace(node.op, statements=moved + _continue_after(
            node.op.key, name, seq_key, options))
        return
    node.op = replace(node.op, statements=kept)
    ref = ObjRef("table", node.op.key)
    options = planner.des.table[node.op.key].column(name).identity_sequence[1]
    moved += _continue_after(node.op.key, name, seq_key, options)
    planner.add(replace(node.op, id=f"identity:{ref}:{name}", statements=moved,
                         reason=f"column {name} becomes an identity"),
                 (*node.rank[:-1], f"{name}#identity"), creates=[(ref, name)],
                 after=[nid, drop_id])


def _unidentity_before_create(planner, nid: str, seq_key: str, name: str) -> None:
    create_id = f"create:{ObjRef('sequence', seq_key)}"
    if create_id not in planner.nodes:
        return
    node = planner.nodes[nid]
    moved, kept = _split(node, f"ALTER COLUMN {quote_ident(name)} DROP IDENTITY")
    if not moved:
        return
    if not kept:  # nothing on the column uses the new sequence: simply before its creation
        planner.nodes[create_id].after.add(nid)
        return
    kept += _continue_after(node.op.key, name, seq_key, planner.des.sequence[seq_key].options)
    node.op = replace(node.op, statements=kept)
    ref = ObjRef("table", node.op.key)
    first = f"unidentity:{ref}:{name}"
    planner.add(replace(node.op, id=first, statements=moved,
                         reason=f"column {name} stops being an identity"),
                 (1, 39, node.op.key, name))
    node.after.add(first)
    planner.nodes[create_id].after.add(first)
