"""Plan: turn :class:`~fraisec.diff.Changes` into ordered, typed operations.

Interface (stable)::

    plan(changes: Changes, current: Catalog, desired: Catalog) -> Plan
    Plan.ops            # tuple[Op], in execution order
    Plan.destructive    # any op with safety "destructive"
    Plan.diagnostics    # FSC4xx errors for changes fraisec cannot plan (never skipped silently)
    render_script(plan) -> str   # in fraisec.plan.script; "" when there is nothing to do

Each :class:`Op` carries its ``statements``, a ``safety`` class (``safe`` / ``locking`` /
``destructive``), whether it may run inside a transaction (``transactional``), and
``to_data()`` for ``--format json``.

How ordering works. Every op declares which objects (or single columns) it *creates* (brings to
the desired state) and which it *drops* (takes away from the current state); alter ops do both.
Edges then follow from the two catalogs' dependency graphs:

1. an op creating X runs after the ops creating whatever X uses in the *desired* catalog;
2. an op dropping X runs after the ops dropping whatever uses X in the *current* catalog;
3. an op creating a name runs after the op dropping the same name (replace, renames).

``graphlib`` orders the ops; ties are broken by a fixed rank (drops, alters, creates, metadata)
and the op id, so the output is deterministic.

Before that, replacements are widened to dependents: an object that must be dropped (a function
whose return type changed, a view whose definition changed, a column whose type changed under a
view or policy) takes everything that depends on it in the current catalog with it, and those are
created again afterwards, with their grants, comments and owner.

Modules, by what they decide: :mod:`~fraisec.plan.model` (Op, Plan, the graph node, ranks),
:mod:`~fraisec.plan.planner` (the state and driver), :mod:`~fraisec.plan.widen` (replacements
widened to dependents), :mod:`~fraisec.plan.objects` (drop/create/alter of whole objects),
:mod:`~fraisec.plan.tables` (table settings and columns), :mod:`~fraisec.plan.grants` (default
privileges, grants, comments, owners), :mod:`~fraisec.plan.ordering` (edges and topological
sort), :mod:`~fraisec.plan.safety` (safety classes), :mod:`~fraisec.plan.bodies` (calls in
function bodies) and :mod:`~fraisec.plan.script` (the psql script).
"""

from __future__ import annotations

from fraisec.plan.model import Op, Plan, Safety
from fraisec.plan.planner import plan

__all__ = ["Op", "Plan", "Safety", "plan"]
