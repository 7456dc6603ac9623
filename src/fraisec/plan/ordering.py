"""Ordering the planner's ops: the edges (rules 1–3 of :mod:`fraisec.plan`, plus the soft
edges of late-bound function calls) and a deterministic topological sort."""

from __future__ import annotations

import heapq
from collections import defaultdict
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING, Callable

from fraisec.catalog.model import KINDS, Catalog, ObjRef
from fraisec.diagnostics import Diagnostic, error
from fraisec.plan.model import LATE_BOUND, Node, Op, Target, index

if TYPE_CHECKING:
    from fraisec.plan.planner import Planner

__all__ = ["order"]

_Lookup = Callable[[ObjRef, "str | None"], set[str]]


class _Ends:
    """Which ops create and which drop each target (object or column)."""

    def __init__(self, p: Planner) -> None:
        self.creators: dict[Target, set[str]] = defaultdict(set)
        self.droppers: dict[Target, set[str]] = defaultdict(set)
        for nid, node in p.nodes.items():
            for t in node.creates:
                self.creators[t].add(nid)
            for t in node.drops | node.releases:
                self.droppers[t].add(nid)
        for t, nid in p.aliases.items():
            if nid in p.nodes:
                self.droppers[t].add(nid)

    def creators_of(self, ref: ObjRef, column: str | None) -> set[str]:
        return self._of(self.creators, ref, column)

    def droppers_of(self, ref: ObjRef, column: str | None) -> set[str]:
        return self._of(self.droppers, ref, column)

    @staticmethod
    def _of(table: dict[Target, set[str]], ref: ObjRef, column: str | None) -> set[str]:
        found = set(table.get((ref, None), ()))
        if column is not None:
            found |= table.get((ref, column), set())
        return found


def order(p: Planner) -> tuple[Op, ...]:
    ends = _Ends(p)
    soft = _late_bound_edges(p, ends.creators_of)
    defaults = [nid for nid in p.nodes if nid.startswith("defacl:")]
    slots_dropped: dict[tuple, set[str]] = defaultdict(set)
    for nid, node in p.nodes.items():
        if node.op.action == "drop":
            for slot in _slots(node.op, p.cur):
                slots_dropped[slot].add(nid)
    graph = {nid: _predecessors(p, nid, node, ends, defaults, slots_dropped)
             for nid, node in p.nodes.items()}
    ranks = {nid: n.rank for nid, n in p.nodes.items()}
    with_soft = {nid: preds | {q for q in soft.get(nid, ()) if q != nid}
                 for nid, preds in graph.items()}
    ordered = _toposort(with_soft, ranks, None) if soft else None
    if ordered is None:  # no soft edges, or they close a cycle: the recorded edges only
        ordered = _toposort(graph, ranks, p.diagnostics)
    return tuple(p.nodes[nid].op for nid in ordered)


def _predecessors(p: Planner, nid: str, node: Node, ends: _Ends, defaults: list[str],
                  slots_dropped: dict[tuple, set[str]]) -> set[str]:
    preds = {a for a in node.after if a in p.nodes}
    for ref, column in node.creates:  # rule 1: what it uses exists first
        for dep in p.des_deps.get(ref, ()):
            if column is not None and dep.dependent_column not in (column, None):
                continue
            if dep.referenced in node.skip_uses:
                continue
            preds |= ends.creators_of(dep.referenced, dep.referenced_column)
    for ref, column in node.requires:
        preds |= ends.creators_of(ref, column)
    for ref, column in node.drops:  # rule 2: what uses it goes first
        for dep in p.cur_rdeps.get(ref, ()):
            if column is not None and dep.referenced_column not in (column,):
                continue
            preds |= ends.droppers_of(dep.dependent, dep.dependent_column)
        preds |= _disowners_of(p, ref, column)
    preds |= _column_layout_preds(p, nid, node)
    if node.op.action == "create" and not nid.startswith("defacl:"):
        # Objects are created under the desired default privileges (a schema's own
        # entries wait for the schema, so a schema waits only for the global ones).
        preds |= {d for d in defaults if node.op.kind != "schema" or not p.nodes[d].requires}
    if node.op.action == "create":  # rule 3: names are free first
        for slot in _slots(node.op, p.des):
            preds |= slots_dropped.get(slot, set())
    preds.discard(nid)
    return preds


def _column_layout_preds(p: Planner, nid: str, node: Node) -> set[str]:
    """ATTACH PARTITION and INHERIT need the child's and the parent's columns in place."""
    preds: set[str] = set()
    if nid.startswith("attach:"):
        parent = p.des.table[node.op.key].partition_of
        preds |= p.column_op_ids(parent) | p.column_op_ids(node.op.key)
    if nid.startswith("alter:table ") and node.op.key in p.cur.table:
        added = set(p.des.table[node.op.key].inherits) - set(p.cur.table[node.op.key].inherits)
        for parent in added:
            preds |= p.column_op_ids(parent) | p.column_op_ids(node.op.key)
    return preds


def _late_bound_edges(p: Planner, creators_of: _Lookup) -> dict[str, set[str]]:
    """Soft edges: an op creating X waits for the creation of functions that running X
    calls through quoted bodies (:mod:`fraisec.plan.bodies`), also through functions,
    domains and views that stay as they are. Dropped if they would close a cycle."""
    if not any(ch.kind == "function" and ch.action in ("create", "replace", "alter")
               for ch in p.by_ref.values()):
        return {}
    from fraisec.plan.bodies import body_dependencies

    # Every body, for every function's name: a new callee may sit behind unchanged callers.
    body = index(body_dependencies(p.des, p.des.function), by="dependent")
    memo: dict[ObjRef, set[str]] = {}

    def reach(ref: ObjRef) -> set[str]:
        """Creators of what an unchanged object calls, transitively."""
        if ref in memo:
            return memo[ref]
        memo[ref] = set()  # a cycle of calls ends here
        found: set[str] = set()
        for dep in [*p.des_deps.get(ref, ()), *body.get(ref, ())]:
            found |= creators_of(dep.referenced, dep.referenced_column)
            if dep.referenced.kind in LATE_BOUND:
                found |= reach(dep.referenced)
        memo[ref] = found
        return found

    soft: dict[str, set[str]] = defaultdict(set)
    for nid, node in p.nodes.items():
        for ref, _column in node.creates:
            for dep in [*p.des_deps.get(ref, ()), *body.get(ref, ())]:
                if dep.referenced in node.skip_uses:
                    continue
                soft[nid] |= creators_of(dep.referenced, dep.referenced_column)
                if dep.referenced.kind in LATE_BOUND:
                    soft[nid] |= reach(dep.referenced)
    return soft


def _disowners_of(p: Planner, ref: ObjRef, column: str | None) -> set[str]:
    """Sequences owned by a table (column) that goes must be released before it goes."""
    if ref.kind != "table":
        return set()
    found = set()
    for key, seq in p.cur.sequence.items():
        if seq.owned_by and seq.owned_by[0] == ref.key and (
                column is None or seq.owned_by[1] == column):
            nid = f"disown:{ObjRef('sequence', key)}"
            if nid in p.nodes:
                found.add(nid)
    return found


def _toposort(graph: dict[str, set[str]], ranks: dict[str, tuple],
              diagnostics: list[Diagnostic] | None) -> list[str] | None:
    """graphlib's order, always taking the lowest-ranked ready op (deterministic output).
    A cycle: None when ``diagnostics`` is None, else an FSC404 error there."""
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except Exception as exc:  # graphlib.CycleError
        if diagnostics is None:
            return None
        cycle = exc.args[1] if len(exc.args) > 1 else []
        diagnostics.append(error(
            "FSC404", "the changes depend on each other in a cycle: " + " → ".join(map(str, cycle)),
            hint="Split the change into two migrations."))
        return sorted(graph, key=lambda n: (ranks[n], n))
    heap: list[tuple[tuple, str]] = []
    for nid in sorter.get_ready():
        heapq.heappush(heap, (_rank_key(ranks[nid]), nid))
    ordered = []
    while heap:
        _, nid = heapq.heappop(heap)
        ordered.append(nid)
        sorter.done(nid)
        for ready in sorter.get_ready():
            heapq.heappush(heap, (_rank_key(ranks[ready]), ready))
    return ordered


def _rank_key(rank: tuple) -> tuple:
    return tuple(str(x) if not isinstance(x, int) else f"{x + 1000:06d}" for x in rank)


def _slots(op: Op, catalog: Catalog) -> set[tuple]:
    """Names an op takes or frees: relations and types share one namespace per schema."""
    obj = catalog.objects(op.kind).get(op.key) if op.kind in KINDS else None
    if obj is None:
        return set()
    if op.kind in ("table", "view", "sequence", "index", "enum", "composite", "range", "domain"):
        return {("rel", obj.schema, obj.name)}
    if op.kind == "constraint" and obj.type in ("p", "u", "x"):
        return {("rel", obj.schema, obj.name), ("con", op.key)}
    if op.kind == "function":
        return {("fn", op.key)}
    return {(op.kind, op.key)}
