"""The planner's state and driver: :func:`plan` builds one :class:`Planner`, and each stage
(:mod:`~fraisec.plan.widen`, :mod:`~fraisec.plan.objects`, :mod:`~fraisec.plan.tables`,
:mod:`~fraisec.plan.grants`, :mod:`~fraisec.plan.ordering`) is a set of functions that read and
add to it."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from fraisec.catalog.model import Catalog, ObjRef
from fraisec.diagnostics import Diagnostic, error, warning
from fraisec.diff import Change, Changes
from fraisec.plan import foreign, grants, objects, online, ordering, tables, widen
from fraisec.plan.identity import split_sequence_swaps
from fraisec.plan.model import Node, Op, Plan, Target, index

__all__ = ["Planner", "plan"]


def plan(changes: Changes, current: Catalog, desired: Catalog, *, online: bool = False) -> Plan:
    """Order the changes into operations; pure (no database access). ``online``: the online
    forms of :mod:`fraisec.plan.online` where they matter (migrations).

    Objects on a dropped table go with it (no statement of their own). When that closes a
    cycle (tables with foreign keys to each other, a policy using a view over its own table),
    the plan is made again with those objects dropped explicitly first."""
    result = Planner(changes, current, desired, online=online).run()
    if any(d.code == "FSC404" for d in result.diagnostics):
        retry = Planner(changes, current, desired, explicit_drops=True, online=online).run()
        if not any(d.code == "FSC404" for d in retry.diagnostics):
            return retry
    return result


class Planner:
    """What one planning pass knows and has decided so far."""

    def __init__(self, changes: Changes, current: Catalog, desired: Catalog, *,
                 explicit_drops: bool = False, online: bool = False) -> None:
        self.explicit_drops = explicit_drops  # objects on a dropped table: dropped on their own
        self.online = online  # online forms (fraisec.plan.online) on tables that have rows
        self.changes = changes
        self.cur = current
        self.des = desired
        self.by_ref: dict[ObjRef, Change] = changes.by_ref()
        self.nodes: dict[str, Node] = {}
        self.diagnostics: list[Diagnostic] = []
        # Column defaults using a function or sequence that is recreated: (table, column) -> those.
        self.default_resets: dict[tuple[str, str], set[ObjRef]] = defaultdict(set)
        # Drops PostgreSQL does as part of another op (a table's indexes with the table):
        # target -> the id of the op that really drops it.
        self.aliases: dict[Target, str] = {}
        # Enums recreated while table columns use them: (table key, column) per enum.
        self.enum_retypes: dict[ObjRef, list[tuple[str, str]]] = defaultdict(list)
        # Domains whose CHECK constraints use an object that is dropped and created again.
        self.domain_check_resets: set[ObjRef] = set()
        self.des_defaults: dict | None = None  # desired default privileges, by entry
        self.cur_rdeps = index(current.dependencies, by="referenced")
        self.des_deps = index(desired.dependencies, by="dependent")

    def run(self) -> Plan:
        self._check_versions()
        self._unsupported()
        widen.widen(self)
        for change in sorted(self.by_ref.values(), key=lambda c: (c.kind, c.key)):
            objects.ops_for(self, change)
        online.keep_unique(self)
        foreign.foreign_table_ops(self)
        split_sequence_swaps(self)
        tables.default_reset_ops(self)
        objects.domain_reset_ops(self)
        grants.default_privilege_ops(self)
        grants.metadata_ops(self)
        foreign.relax_safety(self)
        self.diagnostics += foreign.secret_warnings(self)
        return Plan(ops=ordering.order(self), diagnostics=tuple(self.diagnostics))

    def add(self, op: Op, rank: tuple, *, creates: Iterable[Target] = (),
            drops: Iterable[Target] = (), after: Iterable[str] = (),
            requires: Iterable[Target] = (), releases: Iterable[Target] = ()) -> Node:
        node = Node(op, rank, set(creates), set(drops), set(after), set(requires), set(releases))
        self.nodes[op.id] = node
        return node

    # -- diagnostics that do not depend on any op -------------------------------------------
    def _unsupported(self) -> None:
        for old, new in self.changes.unsupported:
            item = old or new
            self.diagnostics.append(error(
                "FSC402", f"{item.kind} {item.identity} differs, and fraisec cannot diff "
                f"{item.kind}s yet", hint="Change it by hand in a migration, or make both sides "
                "agree on it."))

    def _check_versions(self) -> None:
        """Each major version prints view bodies, defaults and extension versions its own way:
        two sides normalised by different PostgreSQL releases may differ where nothing did."""
        old, new = self.cur.server_version // 10000, self.des.server_version // 10000
        if old and new and old != new:
            self.diagnostics.append(warning(
                "FSC408", f"the current side was read from PostgreSQL {old} and the desired side "
                f"from PostgreSQL {new}: some differences (view bodies, defaults, extension "
                "versions) may come from the versions, not from the schemas",
                hint=f"Normalise both sides on one version: give --shadow-url a PostgreSQL {old} "
                     f"server, or set FRAISEC_PG_BINDIR to PostgreSQL {old}'s bin directory."))

    # -- questions about the changes ------------------------------------------------------
    def table_exists(self, table_key: str) -> bool:
        """True when the table is in the current database and survives (not recreated)."""
        if table_key not in self.cur.table:
            return False
        ch = self.by_ref.get(ObjRef("table", table_key))
        return not (ch and ch.action in ("drop", "replace"))

    def is_partitioned(self, table_key: str) -> bool:
        t = self.des.table.get(table_key)
        return bool(t and t.kind == "p")

    def fresh(self, ref: ObjRef) -> bool:
        ch = self.by_ref.get(ref)
        return bool(ch and ch.action in ("create", "replace"))

    def gone(self, ref: ObjRef) -> bool:
        ch = self.by_ref.get(ref)
        return bool(ch and ch.action == "drop")

    def parent_replaced(self, obj) -> bool:
        ch = self.by_ref.get(ObjRef("table", obj.table)) or self.by_ref.get(ObjRef("view", obj.table))
        return bool(ch and ch.action == "replace")

    def parent_dropped(self, obj) -> bool:
        ch = self.by_ref.get(ObjRef("table", obj.table)) or self.by_ref.get(ObjRef("view", obj.table))
        return bool(ch and ch.action in ("drop", "replace"))

    def column_recreated(self, ref: ObjRef, column: str | None) -> bool:
        """A column dropped and added again in this plan (its grants and comments went)."""
        node = self.nodes.get(f"column:{ref}:{column}") if column else None
        return bool(node and node.op.action == "replace column")

    def column_gone(self, ref: ObjRef, column: str | None) -> bool:
        if column is None or ref.kind != "table":
            return False
        t = self.des.table.get(ref.key)
        return t is None or t.column(column) is None

    def column_op_ids(self, table_key: str) -> set[str]:
        prefix = f"column:{ObjRef('table', table_key)}:"
        return {i for i in self.nodes if i.startswith(prefix)}
