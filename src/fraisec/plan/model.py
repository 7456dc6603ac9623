"""The plan's data: :class:`Op` (one step), :class:`Plan` (the ordered steps), the planner's graph
node and the constants that rank and classify operations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Literal

from fraisec.catalog.model import KINDS, Dependency, ObjRef
from fraisec.diagnostics import Diagnostic

__all__ = ["CREATE_ORDER", "DEFAULT_ACL_TYPE", "DROP_ORDER", "LATE_BOUND", "Node", "Op", "Plan",
           "RECREATABLE", "Safety", "TABLE_ITSELF", "Target", "index"]

Safety = Literal["safe", "locking", "destructive"]
Target = tuple[ObjRef, "str | None"]

# The column name under which a table's own settings (RLS, options, inheritance) are ordered.
TABLE_ITSELF = "#table"
# Kinds that can be dropped and created again without data loss when something they use changes.
RECREATABLE = frozenset({"view", "function", "trigger", "policy", "constraint", "index", "rule",
                         "user_mapping"})
# Kinds whose use of a function is bound late (a body, a CHECK run on demand): following them
# finds what running an object calls.
LATE_BOUND = frozenset({"function", "domain", "view"})
# pg_default_acl's object type of each kind that has privileges.
DEFAULT_ACL_TYPE = {"table": "r", "view": "r", "sequence": "S", "function": "f", "enum": "T",
                    "composite": "T", "range": "T", "domain": "T", "schema": "n"}
DROP_ORDER = {k: i for i, k in enumerate(reversed(KINDS))}
CREATE_ORDER = {k: i for i, k in enumerate(KINDS)}


@dataclass(frozen=True)
class Op:
    """One step of a migration."""

    id: str
    kind: str
    key: str
    action: str
    statements: tuple[str, ...]
    safety: Safety = "safe"
    transactional: bool = True
    reason: str = ""
    # Writes the whole table again under ACCESS EXCLUSIVE (migration files say how long that
    # may take); not in to_data, whose shape is part of `fraisec diff --format json`.
    rewrites: bool = False
    # Online forms asked for and none possible: the migration header's line saying so (the
    # plain statement and the lock it holds); not in to_data either.
    plain_lock: str = ""

    def to_data(self) -> dict:
        return {"id": self.id, "kind": self.kind, "key": self.key, "action": self.action,
                "safety": self.safety, "transactional": self.transactional,
                "reason": self.reason, "statements": list(self.statements)}


@dataclass(frozen=True)
class Plan:
    ops: tuple[Op, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def destructive(self) -> bool:
        return any(op.safety == "destructive" for op in self.ops)

    @property
    def destructive_ops(self) -> tuple[Op, ...]:
        return tuple(op for op in self.ops if op.safety == "destructive")

    @property
    def non_transactional(self) -> tuple[Op, ...]:
        return tuple(op for op in self.ops if not op.transactional)

    def __bool__(self) -> bool:
        return any(op.statements for op in self.ops)

    def to_data(self) -> dict:
        return {"destructive": self.destructive,
                "ops": [op.to_data() for op in self.ops if op.statements],
                "diagnostics": [d.to_data() for d in self.diagnostics]}


@dataclass
class Node:
    """An op in the ordering graph, with what it creates, drops and waits for."""

    op: Op
    rank: tuple
    creates: set[Target] = field(default_factory=set)
    drops: set[Target] = field(default_factory=set)
    after: set[str] = field(default_factory=set)  # explicit predecessors (op ids)
    requires: set[Target] = field(default_factory=set)  # metadata: after the creators of these
    # Stops using what it used, without needing its own dependents gone first (CREATE OR
    # REPLACE, ALTER SEQUENCE, NO INHERIT…): drops of those things wait for it (rule 2 sees it
    # as a dropper), but it does not wait for anything itself on that account.
    releases: set[Target] = field(default_factory=set)
    skip_uses: set[ObjRef] = field(default_factory=set)  # rule 1 ignores these (see default resets)


def index(deps: Iterable[Dependency], *, by: str) -> dict[ObjRef, list[Dependency]]:
    """Dependencies grouped by their ``dependent`` or ``referenced`` end."""
    out: dict[ObjRef, list[Dependency]] = defaultdict(list)
    for d in deps:
        out[getattr(d, by)].append(d)
    return out
