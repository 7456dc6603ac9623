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
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from graphlib import TopologicalSorter
from typing import Iterable, Literal

from fraisec.catalog.model import (
    KINDS, OWNER_LACKS, Catalog, Column, Dependency, Grant, ObjRef, Sequence, Table, default_acl,
)
from fraisec.diagnostics import Diagnostic, error, warning
from fraisec.diff import Change, Changes
from fraisec.plan.safety import add_column_safety, type_change_safety
from fraisec.render import ops as sql
from fraisec.render.quoting import qualified, quote_ident

__all__ = ["Op", "Plan", "Safety", "plan"]

Safety = Literal["safe", "locking", "destructive"]
Target = tuple[ObjRef, "str | None"]

# The column name under which a table's own settings (RLS, options, inheritance) are ordered.
_TABLE_ITSELF = "#table"
# Kinds that can be dropped and created again without data loss when something they use changes.
RECREATABLE = frozenset({"view", "function", "trigger", "policy", "constraint", "index", "rule"})
# Kinds whose use of a function is bound late (a body, a CHECK run on demand): following them
# finds what running an object calls.
_LATE_BOUND = frozenset({"function", "domain", "view"})
# pg_default_acl's object type of each kind that has privileges.
_DEFAULT_ACL_TYPE = {"table": "r", "view": "r", "sequence": "S", "function": "f", "enum": "T",
                     "composite": "T", "range": "T", "domain": "T", "schema": "n"}
_DROP_ORDER = {k: i for i, k in enumerate(reversed(KINDS))}
_CREATE_ORDER = {k: i for i, k in enumerate(KINDS)}


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
class _Node:
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


def _explicit_owner(obj: object, catalog: Catalog) -> str | None:
    """The owner the SQL gave ``obj`` on purpose, or None.

    Owners are compared only where they mean something: an object owned by the role that
    applied the SQL (the shadow's superuser, or whoever connected) was given no owner, and
    PostgreSQL's own ``pg_*`` roles (``public`` is ``pg_database_owner``'s) are not the user's
    choice. A sequence owned by a column follows its table's owner (PostgreSQL refuses to
    change it alone)."""
    owner = getattr(obj, "owner", None)
    if not owner or owner == catalog.current_user or owner.startswith("pg_"):
        return None
    if isinstance(obj, Sequence) and obj.owned_by:
        return None
    return owner


def _chosen_owner(obj: object) -> str | None:
    """The owner of an object of a live database, unless PostgreSQL's or its table's choice."""
    owner = getattr(obj, "owner", None)
    if not owner or owner.startswith("pg_") or (isinstance(obj, Sequence) and obj.owned_by):
        return None
    return owner


def plan(changes: Changes, current: Catalog, desired: Catalog) -> Plan:
    """Order the changes into operations; pure (no database access).

    Objects on a dropped table go with it (no statement of their own). When that closes a
    cycle (tables with foreign keys to each other, a policy using a view over its own table),
    the plan is made again with those objects dropped explicitly first."""
    result = _Planner(changes, current, desired).run()
    if any(d.code == "FSC404" for d in result.diagnostics):
        retry = _Planner(changes, current, desired, explicit_drops=True).run()
        if not any(d.code == "FSC404" for d in retry.diagnostics):
            return retry
    return result


class _Planner:
    def __init__(self, changes: Changes, current: Catalog, desired: Catalog, *,
                 explicit_drops: bool = False) -> None:
        self.explicit_drops = explicit_drops  # objects on a dropped table: dropped on their own
        self.changes = changes
        self.cur = current
        self.des = desired
        self.by_ref: dict[ObjRef, Change] = changes.by_ref()
        self.nodes: dict[str, _Node] = {}
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
        self._des_defaults: dict | None = None  # desired default privileges, by entry
        self.cur_rdeps = _index(current.dependencies, by="referenced")
        self.des_deps = _index(desired.dependencies, by="dependent")

    # -- driver ---------------------------------------------------------------------------
    def run(self) -> Plan:
        self._check_versions()
        for old, new in self.changes.unsupported:
            item = old or new
            self.diagnostics.append(error(
                "FSC402", f"{item.kind} {item.identity} differs, and fraisec cannot diff "
                f"{item.kind}s yet", hint="Change it by hand in a migration, or make both sides "
                "agree on it."))
        self._widen()
        for change in sorted(self.by_ref.values(), key=lambda c: (c.kind, c.key)):
            self._ops_for(change)
        self._default_reset_ops()
        self._domain_reset_ops()
        self._default_privilege_ops()
        self._metadata_ops()
        return Plan(ops=self._order(), diagnostics=tuple(self.diagnostics))

    # -- widening replacements to dependents ------------------------------------------------
    def _column_seeds(self) -> list[tuple[ObjRef, str | None, str]]:
        seeds = []
        for ch in self.by_ref.values():
            if ch.kind != "table" or ch.action != "alter":
                continue
            old_cols, new_cols = _managed_columns(ch.old, ch.new)
            for name, col in old_cols.items():
                new = new_cols.get(name)
                if new is None:
                    seeds.append((ch.ref, name, "drop"))
                elif _needs_readd(col, new):
                    seeds.append((ch.ref, name, "drop"))
                elif (col.type, col.collation) != (new.type, new.collation):
                    seeds.append((ch.ref, name, "type"))
        return seeds

    def _widen(self) -> None:
        queue: list[tuple[ObjRef, str | None, str]] = [
            (ref, None, "drop") for ref, ch in self.by_ref.items()
            if ch.action in ("drop", "replace")]
        queue += self._column_seeds()
        seen: set[tuple[ObjRef, str | None]] = set()
        while queue:
            ref, column, mode = queue.pop()
            if (ref, column) in seen:
                continue
            seen.add((ref, column))
            for dep in self.cur_rdeps.get(ref, ()):
                if column is not None and dep.referenced_column != column:
                    continue
                self._widen_one(ref, dep, mode, queue)

    def _widen_one(self, ref: ObjRef, dep: Dependency, mode: str, queue: list) -> None:
        z = dep.dependent
        if mode == "type" and z.kind in ("constraint", "index"):
            return  # ALTER COLUMN … TYPE rebuilds these itself
        existing = self.by_ref.get(z)
        if existing and existing.action in ("drop", "replace"):
            return
        if z.kind == "extension" and existing and ref.kind == "schema" \
                and existing.new.schema != existing.old.schema:
            return  # SET SCHEMA moves it out first
        if z.kind == "table":
            self._widen_table(ref, z, dep, existing, queue)
            return
        if z not in self.des:
            return
        if z.kind == "publication":
            # The membership goes with the table; the list is set again once it is back.
            if existing is None:
                self.by_ref[z] = Change(z.kind, z.key, "alter", self.cur.get(z), self.des.get(z),
                                        f"lists {ref}")
            return
        if z.kind == "domain":
            # A domain's CHECK uses it: the checks are dropped before and added again after.
            self.domain_check_resets.add(z)
            return
        if z.kind not in RECREATABLE:
            self.diagnostics.append(error(
                "FSC403", f"{z} depends on {ref}, which must be dropped and created again, and "
                f"fraisec cannot recreate a {z.kind} in place",
                hint="Split the change into two migrations, or write this step by hand."))
            return
        self.by_ref[z] = Change(z.kind, z.key, "replace", self.cur.get(z), self.des.get(z),
                                f"depends on {ref}")
        queue.append((z, None, "drop"))

    def _widen_table(self, ref: ObjRef, z: ObjRef, dep: Dependency, existing: Change | None,
                     queue: list) -> None:
        if dep.dependent_column is None:
            # A partition or inheritance child of a table that is dropped and created again.
            if ref.kind == "table" and z in self.des:
                self.by_ref[z] = Change(z.kind, z.key, "replace", self.cur.get(z),
                                        self.des.get(z), f"child of {ref}")
                queue.append((z, None, "drop"))
            return
        if z not in self.des:
            return
        old_col = self.cur.table[z.key].column(dep.dependent_column)
        new_col = self.des.table[z.key].column(dep.dependent_column)
        if old_col is None or new_col is None:
            return
        if ref.kind in ("function", "sequence") and old_col.default is not None:
            self.default_resets[(z.key, dep.dependent_column)].add(ref)
            return
        if ref.kind in ("enum", "composite", "range", "domain", "collation", "extension"):
            if old_col.type != new_col.type or old_col.collation != new_col.collation:
                return  # the column moves off the type before the type is dropped
            if ref.kind in ("enum", "composite"):
                # Old type renamed aside, new one created, the column converted.
                self.enum_retypes[ref].append((z.key, dep.dependent_column))
                queue.append((z, dep.dependent_column, "type"))
                return
            self.diagnostics.append(error(
                "FSC403", f"column {z.key}.{quote_ident(dep.dependent_column)} uses {ref}, "
                f"which must be dropped and created again",
                hint="Move the column to another type first (one migration), then change the "
                     "type (another migration)."))

    # -- op construction ------------------------------------------------------------------
    def _add(self, op: Op, rank: tuple, *, creates: Iterable[Target] = (),
             drops: Iterable[Target] = (), after: Iterable[str] = (),
             requires: Iterable[Target] = (), releases: Iterable[Target] = ()) -> _Node:
        node = _Node(op, rank, set(creates), set(drops), set(after), set(requires), set(releases))
        self.nodes[op.id] = node
        return node

    def _ops_for(self, ch: Change) -> None:
        if ch.kind in ("enum", "composite") and ch.action == "replace" and self.enum_retypes.get(ch.ref):
            self._type_swap_ops(ch)
        elif ch.action in ("drop", "replace"):
            self._drop_op(ch)
        if ch.action in ("create", "replace"):
            self._create_op(ch)
        if ch.action == "alter":
            getattr(self, f"_alter_{ch.kind}")(ch)
        if ch.kind == "sequence":
            self._sequence_owner_ops(ch)

    def _drop_op(self, ch: Change) -> None:
        ref = ch.ref
        statements: list[str] = sql.drop(ref, ch.old)
        if ch.kind == "sequence" and self._dropped_with_owner(ch.old):
            # PostgreSQL drops an owned sequence with its column: no statement, and whatever
            # waits for this drop waits for the op that drops the column (or table).
            table_key, column = ch.old.owned_by
            table_ref = ObjRef("table", table_key)
            table_ch = self.by_ref.get(table_ref)
            self.aliases[(ref, None)] = (
                f"drop:{table_ref}" if table_ch.action in ("drop", "replace")
                else f"column:{table_ref}:{column}")
            return
        if self._goes_with_parent(ch):
            parent_kind = "table" if ch.old.table in self.cur.table else "view"
            self.aliases[(ref, None)] = f"drop:{ObjRef(parent_kind, ch.old.table)}"
            return  # goes away with its table
        safety: Safety = "destructive" if ch.kind in ("table", "sequence", "schema", "extension") else "safe"
        if ch.kind == "view" and ch.old.materialized:
            safety = "safe"
        self._add(Op(f"drop:{ref}", ch.kind, ch.key, "drop", tuple(statements), safety,
                     reason=ch.reason), (1, _DROP_ORDER[ch.kind], ch.key), drops=[(ref, None)])

    def _type_swap_ops(self, ch: Change) -> None:
        """An enum losing or reordering values, or a composite type whose attributes are
        retyped or reordered, while columns use it: rename the old type aside, create the new
        one, convert each column (an enum through text: a row holding a removed value makes the
        cast fail, nothing is lost silently; a composite attribute by attribute), then drop the
        old type."""
        ref, old = ch.ref, ch.old
        aside = f"{old.name}__fraisec_old"
        self._add(Op(f"drop:{ref}", ch.kind, ch.key, "drop",
                     (f"ALTER TYPE {ch.key} RENAME TO {quote_ident(aside)}",), "destructive",
                     reason=ch.reason), (1, _DROP_ORDER["enum"], ch.key))
        for table_key, column in sorted(set(self.enum_retypes[ref])):
            table_ref = ObjRef("table", table_key)
            old_col = self.cur.table[table_key].column(column)
            new_col = self.des.table[table_key].column(column)
            name = quote_ident(column)
            statements = []
            if old_col.default is not None:
                statements.append(f"ALTER TABLE {table_key} ALTER COLUMN {name} DROP DEFAULT")
            statements.append(f"ALTER TABLE {table_key} ALTER COLUMN {name} TYPE {new_col.type} "
                              f"USING {_convert(name, new_col.type, old, ch.new)}")
            if new_col.default is not None:
                statements.append(f"ALTER TABLE {table_key} ALTER COLUMN {name} SET DEFAULT {new_col.default}")
            self._add(Op(f"retype:{ref}:{table_key}:{column}", "table", table_key, "alter column",
                         tuple(statements), "destructive", reason=f"{ch.key} recreated"),
                      (2, 30, table_key, column), creates=[(table_ref, column)],
                      drops=[(table_ref, column)], after=[f"column:{table_ref}:{column}"])
        self._add(Op(f"drop-aside:{ref}", ch.kind, ch.key, "drop renamed",
                     (f"DROP TYPE {qualified(old.schema, aside)}",), "safe",
                     reason="old values replaced"), (3, 99, ch.key), drops=[(ref, None)])

    def _goes_with_parent(self, ch: Change) -> bool:
        """An object on a table that is dropped goes with it, unless this plan drops such
        objects on their own first (see :func:`plan`)."""
        if ch.kind not in ("constraint", "index", "trigger", "policy", "rule"):
            return False
        if not self._parent_dropped(ch.old):
            return False
        return not (self.explicit_drops and ch.kind != "index" and not self._parent_replaced(ch.old))

    def _parent_replaced(self, obj) -> bool:
        ch = self.by_ref.get(ObjRef("table", obj.table)) or self.by_ref.get(ObjRef("view", obj.table))
        return bool(ch and ch.action == "replace")

    def _parent_dropped(self, obj) -> bool:
        ch = self.by_ref.get(ObjRef("table", obj.table)) or self.by_ref.get(ObjRef("view", obj.table))
        return bool(ch and ch.action in ("drop", "replace"))

    def _dropped_with_owner(self, seq: Sequence) -> bool:
        if not seq.owned_by:
            return False
        table_key, column = seq.owned_by
        ch = self.by_ref.get(ObjRef("table", table_key))
        if ch is None:
            return False
        if ch.action in ("drop", "replace"):
            return True
        return ch.action == "alter" and (
            ch.new.column(column) is None
            or _needs_readd(ch.old.column(column), ch.new.column(column)))

    def _create_op(self, ch: Change) -> None:
        ref = ch.ref
        statements = sql.create(ref, ch.new)
        safety: Safety = "safe"
        transactional = True
        rank = (3, _CREATE_ORDER[ch.kind], ch.key)
        if ch.kind == "index" and self._table_exists(ch.new.table) and not self._is_partitioned(ch.new.table):
            # An index on a table that already holds rows is built without blocking writes.
            statements = [sql.index_sql(ch.new, concurrently=True)]
            transactional = False
            rank = (5, 0, ch.key)
        elif ch.kind == "constraint" and self._table_exists(ch.new.table):
            safety = "locking"
        elif ch.kind == "view" and ch.new.materialized and ch.action == "replace":
            safety = "locking"
        self._add(Op(f"create:{ref}", ch.kind, ch.key, "create", tuple(statements), safety,
                     transactional, ch.reason), rank, creates=[(ref, None)],
                  after=[f"drop:{ref}"] if ch.action == "replace" else [])

    def _table_exists(self, table_key: str) -> bool:
        """True when the table is in the current database and survives (not recreated)."""
        if table_key not in self.cur.table:
            return False
        ch = self.by_ref.get(ObjRef("table", table_key))
        return not (ch and ch.action in ("drop", "replace"))

    def _is_partitioned(self, table_key: str) -> bool:
        t = self.des.table.get(table_key)
        return bool(t and t.kind == "p")

    # -- alters ---------------------------------------------------------------------------
    def _alter(self, ch: Change, statements: list[str], safety: Safety = "safe", *,
               transactional: bool = True, rank: tuple | None = None) -> None:
        if not statements:
            return
        self._add(Op(f"alter:{ch.ref}", ch.kind, ch.key, "alter", tuple(statements), safety,
                     transactional, ch.reason), rank or (2, _CREATE_ORDER[ch.kind], ch.key),
                  creates=[(ch.ref, None)], releases=[(ch.ref, None)])

    def _alter_extension(self, ch: Change) -> None:
        self._alter(ch, sql.alter_extension(ch.key, ch.old, ch.new), "locking")

    def _alter_enum(self, ch: Change) -> None:
        # ADD VALUE cannot be used in the transaction that adds it: run it first, on its own.
        self._alter(ch, sql.alter_enum(ch.key, ch.old, ch.new), "safe", transactional=False,
                    rank=(0, 0, ch.key))

    def _alter_composite(self, ch: Change) -> None:
        self._alter(ch, sql.alter_composite(ch.key, ch.old, ch.new), "destructive"
                    if len(ch.new.attributes) < len(ch.old.attributes) else "locking")

    def _alter_domain(self, ch: Change) -> None:
        old = ch.old
        if ch.ref in self.domain_check_resets:  # the checks are dropped and added by their own ops
            old = dc_replace(old, constraints=ch.new.constraints)
        self._alter(ch, sql.alter_domain(ch.key, old, ch.new), "locking")

    def _default_privilege_ops(self) -> None:
        """ALTER DEFAULT PRIVILEGES, one op per (role, schema): before every object is created
        (so new objects get the desired defaults), after the schema it names exists. An entry
        of a schema that goes is dropped with it."""
        per_entry: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        changes = self.changes
        for revoke, items in ((True, changes.default_privileges_removed),
                              (False, changes.default_privileges_added)):
            groups: dict[tuple[str, str | None], list] = defaultdict(list)
            for d in items:
                if d.schema is None or quote_ident(d.schema) in self.des.schema:
                    groups[(d.role, d.schema)].append(d)
            for key, group in groups.items():
                per_entry[key] += sql.default_privilege_statements(group, revoke=revoke)
        for (role, schema), statements in sorted(per_entry.items(), key=lambda x: (x[0][0], x[0][1] or "")):
            label = f"{role} in {schema}" if schema else role
            requires = [(ObjRef("schema", quote_ident(schema)), None)] if schema else []
            self._add(Op(f"defacl:{label}", "default_privileges", label, "alter", tuple(statements),
                         "safe", reason="default privileges"), (0, 5, role, schema or ""),
                      requires=requires)

    def _creation_grants(self, ref: ObjRef) -> frozenset[Grant]:
        """What a new object is granted to others as it is created: acldefault, or the
        desired default privileges of the role that runs the script (they are set first)."""
        objtype = _DEFAULT_ACL_TYPE.get(ref.kind)
        if objtype is None:
            return frozenset()
        role = self.cur.current_user
        if self._des_defaults is None:
            from fraisec.diff import default_privilege_entries

            self._des_defaults = default_privilege_entries(self.des)
        entries = self._des_defaults
        items = set(entries.get((role, None, objtype), default_acl(role, objtype)))
        schema = getattr(self.des.get(ref), "schema", None) if ref.kind != "schema" else None
        if schema is not None:
            items |= entries.get((role, schema, objtype), frozenset())
        grants = {Grant(ref, None, d.grantee, d.privilege, d.grantable)
                  for d in items if d.grantee != role}
        # A global entry may also take privileges from the owner itself.
        kept = {d.privilege for d in items if d.grantee == role}
        grants |= {Grant(ref, None, OWNER_LACKS, d.privilege, False)
                   for d in default_acl(role, objtype) if d.grantee == role and d.privilege not in kept}
        return frozenset(grants)

    def _domain_reset_ops(self) -> None:
        for ref in sorted(self.domain_check_resets):
            old, new = self.cur.domain[ref.key], self.des.domain[ref.key]
            drops = [f"ALTER DOMAIN {ref.key} DROP CONSTRAINT {quote_ident(name)}"
                     for name, definition in old.constraints if definition != "NOT NULL"]
            adds = [f"ALTER DOMAIN {ref.key} ADD CONSTRAINT {quote_ident(name)} {definition}"
                    for name, definition in new.constraints if definition != "NOT NULL"]
            self._add(Op(f"uncheck:{ref}", "domain", ref.key, "alter", tuple(drops), "safe",
                         reason="its CHECK uses an object being recreated"), (1, 45, ref.key),
                      releases=[(ref, None)])
            self._add(Op(f"recheck:{ref}", "domain", ref.key, "alter", tuple(adds), "locking",
                         reason="its CHECK uses an object being recreated"), (3, 96, ref.key),
                      creates=[(ref, None)], after=[f"uncheck:{ref}", f"alter:{ref}"])

    def _alter_sequence(self, ch: Change) -> None:
        statements = sql.alter_sequence_options(ch.key, ch.old.options, ch.new.options)
        if ch.old.unlogged != ch.new.unlogged:
            statements.append(f"ALTER SEQUENCE {ch.key} SET {'UNLOGGED' if ch.new.unlogged else 'LOGGED'}")
        self._alter(ch, statements, "safe")

    def _alter_function(self, ch: Change) -> None:
        self._alter(ch, sql.create(ch.ref, ch.new), "safe")

    def _alter_trigger(self, ch: Change) -> None:
        self._alter(ch, [sql.trigger_enable(ch.new)], "safe")

    def _alter_rule(self, ch: Change) -> None:
        self._alter(ch, [sql.rule_enable(ch.new)], "safe")

    def _alter_event_trigger(self, ch: Change) -> None:
        self._alter(ch, [sql.event_trigger_enable(ch.new)], "safe")

    def _alter_publication(self, ch: Change) -> None:
        # A listed table recreated leaves the list (PostgreSQL drops the membership with it).
        relisted = any(c.action == "replace" for t in ch.old.tables
                       if (c := self.by_ref.get(ObjRef("table", t.table))))
        statements = sql.alter_publication(ch.old, ch.new, relist=relisted)
        if not relisted:
            self._alter(ch, statements, "safe")
            return
        # After the tables are back; nothing has to wait for it (the drops take the membership).
        self._add(Op(f"alter:{ch.ref}", ch.kind, ch.key, "alter", tuple(statements), "safe",
                     reason=ch.reason), (3, 95, ch.key), creates=[(ch.ref, None)])

    def _alter_table(self, ch: Change) -> None:
        old, new = ch.old, ch.new
        key = ch.key
        table_statements: list[str] = []
        safety: Safety = "safe"
        if old.unlogged != new.unlogged:
            table_statements.append(f"ALTER TABLE {key} SET {'UNLOGGED' if new.unlogged else 'LOGGED'}")
            safety = "locking"
        if old.options != new.options:
            removed = [o.split("=", 1)[0] for o in old.options
                       if o.split("=", 1)[0] not in {n.split("=", 1)[0] for n in new.options}]
            if removed:
                table_statements.append(f"ALTER TABLE {key} RESET ({', '.join(removed)})")
            if new.options:
                table_statements.append(f"ALTER TABLE {key} SET ({', '.join(new.options)})")
        for parent in old.inherits:
            if parent not in new.inherits:
                table_statements.append(f"ALTER TABLE {key} NO INHERIT {parent}")
        for parent in new.inherits:
            if parent not in old.inherits:
                table_statements.append(f"ALTER TABLE {key} INHERIT {parent}")
        table_statements += sql.rls_statements(new, old)
        if table_statements:
            self._add(Op(f"alter:{ch.ref}", "table", key, "alter", tuple(table_statements), safety,
                         reason="table options changed"), (2, 0, key),
                      creates=[(ch.ref, _TABLE_ITSELF)], releases=[(ch.ref, None)])
        if old.partition_of and not new.partition_of:
            self._add(Op(f"detach:{ch.ref}", "table", key, "alter",
                         (f"ALTER TABLE {old.partition_of} DETACH PARTITION {key}",), "locking",
                         reason="no longer a partition"), (1, -1, key),
                      releases=[(ch.ref, None)])
        if new.partition_of and not old.partition_of:
            self._add(Op(f"attach:{ch.ref}", "table", key, "alter",
                         (f"ALTER TABLE {new.partition_of} ATTACH PARTITION {key} {new.partition_bound}",),
                         "locking", reason="becomes a partition"), (3, 99, key),
                      creates=[(ch.ref, None)])
        self._column_ops(ch)

    def _column_op_ids(self, table_key: str) -> set[str]:
        prefix = f"column:{ObjRef('table', table_key)}:"
        return {i for i in self.nodes if i.startswith(prefix)}

    def _column_ops(self, ch: Change) -> None:
        old_cols, new_cols = _managed_columns(ch.old, ch.new)
        ref, key = ch.ref, ch.key
        parents = list(ch.new.inherits) + ([ch.new.partition_of] if ch.new.partition_of else [])
        parents += [p for p in ch.old.inherits if p not in parents]
        for name in sorted(old_cols.keys() | new_cols.keys()):
            old, new = old_cols.get(name), new_cols.get(name)
            target = (ref, name)
            op_id = f"column:{ref}:{name}"
            # A child's column waits for the same column on its parents (inherited columns).
            after = [f"column:{ObjRef('table', p)}:{name}" for p in parents]
            if new is None:
                self._add(Op(op_id, "table", key, "drop column",
                             (f"ALTER TABLE {key} DROP COLUMN {quote_ident(name)}",), "destructive",
                             reason=f"column {name} not wanted"), (1, 50, key, name),
                          drops=[target], after=after)
            elif old is None:
                safety: Safety = add_column_safety(new.not_null, new.default, new.identity,
                                                   new.generated)
                self._add(Op(op_id, "table", key, "add column",
                             (f"ALTER TABLE {key} ADD COLUMN {sql.column_definition(new)}",), safety,
                             reason=f"column {name} missing"), (2, 10, key, name),
                          creates=[target], after=after)
            elif old != new:
                if any((key, name) in cols for cols in self.enum_retypes.values()):
                    old = dc_replace(old, default=new.default)  # the enum swap resets it
                action = "alter column"
                if _needs_readd(old, new):
                    statements = (f"ALTER TABLE {key} DROP COLUMN {quote_ident(name)}",
                                  f"ALTER TABLE {key} ADD COLUMN {sql.column_definition(new)}")
                    safety = "destructive"
                    action = "replace column"
                else:
                    via_text = old.type in self.cur.enum or new.type in self.des.enum
                    statements = tuple(sql.alter_column(key, old, new, cast_via_text=via_text))
                    safety = _column_safety(old, new)
                if statements:
                    self._add(Op(op_id, "table", key, action, statements, safety,
                                 reason=f"column {name} changed"), (2, 20, key, name),
                              creates=[target], drops=[target], after=after)

    def _sequence_owner_ops(self, ch: Change) -> None:
        """OWNED BY is its own pair of steps: released before the old owner goes, taken after
        the new owner exists (a table's default uses the sequence, so one step would cycle)."""
        if ch.new is None:
            return  # dropped: goes with its owner, or by DROP SEQUENCE
        old_owner = ch.old.owned_by if ch.old else None
        new_owner = ch.new.owned_by
        recreated = bool(old_owner and self._owner_recreated(old_owner))
        if old_owner == new_owner and not recreated:
            return
        if old_owner:
            self._add(Op(f"disown:{ch.ref}", "sequence", ch.key, "alter",
                         (sql.sequence_owned_by(ch.key, None),), "safe",
                         reason="owner column changes"), (1, -2, ch.key))
        if new_owner:
            statements = [sql.sequence_owned_by(ch.key, new_owner)]
            if self._table_exists(new_owner[0]):
                # PostgreSQL links a sequence only to a table with the same owner. The table
                # keeps its owner, so the sequence takes it first (a no-op when whoever applies
                # the script owns both; a chosen new owner for the table follows later and
                # carries the linked sequence with it).
                role = self.cur.table[new_owner[0]].owner
                statements.insert(0, sql.owner_statement(ch.ref, ch.new, role))
            self._add(Op(f"own:{ch.ref}", "sequence", ch.key, "alter", tuple(statements), "safe",
                         reason="owner column"), (3, 98, ch.key),
                      requires=[(ObjRef("table", new_owner[0]), new_owner[1]), (ch.ref, None)],
                      after=[f"disown:{ch.ref}"])

    def _owner_recreated(self, owner: tuple[str, str]) -> bool:
        ch = self.by_ref.get(ObjRef("table", owner[0]))
        if ch is None:
            return False
        if ch.action in ("drop", "replace"):
            return True
        if ch.action != "alter":
            return False
        old, new = ch.old.column(owner[1]), ch.new.column(owner[1])
        return old is not None and (new is None or _needs_readd(old, new))

    def _default_reset_ops(self) -> None:
        """A column default that uses a function or sequence being recreated: dropped before,
        set again after."""
        for (table_key, column), users in sorted(self.default_resets.items()):
            ref = ObjRef("table", table_key)
            col = self.des.table[table_key].column(column)
            name = quote_ident(column)
            column_node = self.nodes.get(f"column:{ref}:{column}")
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
            self._add(Op(f"unset-default:{ref}:{column}", "table", table_key, "alter column",
                         (f"ALTER TABLE {table_key} ALTER COLUMN {name} DROP DEFAULT",), "safe",
                         reason="default uses an object being recreated"), (1, 40, table_key, column),
                      drops=[(ref, column)])
            if col.default is None:
                continue
            self._add(Op(f"set-default:{ref}:{column}", "table", table_key, "alter column",
                         (f"ALTER TABLE {table_key} ALTER COLUMN {name} SET DEFAULT {col.default}",),
                         "safe", reason="default uses an object being recreated"),
                      (3, 97, table_key, column), creates=[(ref, column)],
                      after=[f"unset-default:{ref}:{column}", f"column:{ref}:{column}"])

    # -- grants, comments, owners ---------------------------------------------------------
    def _fresh(self, ref: ObjRef) -> bool:
        ch = self.by_ref.get(ref)
        return bool(ch and ch.action in ("create", "replace"))

    def _gone(self, ref: ObjRef) -> bool:
        ch = self.by_ref.get(ref)
        return bool(ch and ch.action == "drop")

    def _column_recreated(self, ref: ObjRef, column: str | None) -> bool:
        """A column dropped and added again in this plan (its grants and comments went)."""
        node = self.nodes.get(f"column:{ref}:{column}") if column else None
        return bool(node and node.op.action == "replace column")

    def _metadata_ops(self) -> None:
        per_ref: dict[ObjRef, list[tuple[str, Target]]] = defaultdict(list)
        fresh_refs = {ref for ref in self.by_ref if self._fresh(ref)}
        grants_by_ref: dict[ObjRef, set[Grant]] = defaultdict(set)
        for g in self.des.grants:
            if g.target in fresh_refs:
                grants_by_ref[g.target].add(g)
        comments_by_ref: dict[ObjRef, list] = defaultdict(list)
        for item in sorted(self.des.comments.items(), key=_comment_sort):
            if item[0][0] in fresh_refs:
                comments_by_ref[item[0][0]].append(item)
        # Objects created or recreated: every desired grant and comment, from a known baseline.
        for ref in sorted(fresh_refs):
            obj = self.des.get(ref)
            baseline = self._creation_grants(ref)
            wanted = grants_by_ref.get(ref, set())
            revoked = sorted(baseline - wanted, key=_grant_sort)
            granted = sorted(wanted - baseline, key=_grant_sort)
            creator = self.cur.current_user  # owns it until the owner statement below
            for stmt in self._grant_statements(revoked, obj, creator, revoke=True):
                per_ref[ref].append((stmt, (ref, None)))
            for stmt in self._grant_statements(granted, obj, creator, revoke=False):
                per_ref[ref].append((stmt, (ref, None)))
            for g in granted:
                if g.column:  # a column added in this plan exists first
                    per_ref[ref].append(("", (ref, g.column)))
            for (_cref, column), c in comments_by_ref.get(ref, ()):
                per_ref[ref].append((sql.comment_statement(c, obj), (ref, column)))
            owner = self._owner_of_fresh(self.by_ref[ref])
            stmt = sql.owner_statement(ref, obj, owner) if owner else None
            if stmt:
                per_ref[ref].append((stmt, (ref, None)))
        # Objects that stay: an owner the desired side gives them explicitly.
        new_owners = dict(self._owner_changes(fresh_refs))
        for ref, owner in new_owners.items():
            stmt = sql.owner_statement(ref, self.des.get(ref), owner)
            if stmt:
                per_ref[ref].append((stmt, (ref, None)))

        def owner_now(ref: ObjRef) -> str:
            return new_owners.get(ref) or getattr(self.cur.get(ref), "owner", "")
        # Objects that stay: the grant and comment differences.
        removed: dict[ObjRef, list[Grant]] = defaultdict(list)
        for g in sorted(self.changes.grants_removed, key=_grant_sort):
            if g.target in fresh_refs or self._gone(g.target) or self._column_gone(g.target, g.column):
                continue
            if self._column_recreated(g.target, g.column):
                continue
            removed[g.target].append(g)
        for ref, items in removed.items():
            for stmt in self._grant_statements(items, self.cur.get(ref), owner_now(ref), revoke=True):
                per_ref[ref].append((stmt, (ref, None)))
        added: dict[ObjRef, list[Grant]] = defaultdict(list)
        for g in sorted(self.changes.grants_added, key=_grant_sort):
            if g.target not in fresh_refs:
                added[g.target].append(g)
        for g in sorted(self.des.grants, key=_grant_sort):  # re-added columns start bare
            if g.column and g not in self.changes.grants_added and self._column_recreated(g.target, g.column):
                added[g.target].append(g)
        for ref, items in added.items():
            for stmt in self._grant_statements(items, self.des.get(ref), owner_now(ref), revoke=False):
                per_ref[ref].append((stmt, (ref, None)))
            per_ref[ref] += [("", (ref, g.column)) for g in items if g.column]
        for c in self.changes.comments_removed:
            if c.target in fresh_refs or self._gone(c.target) or self._column_gone(c.target, c.column):
                continue
            per_ref[c.target].append((sql.comment_statement(c, self.cur.get(c.target), remove=True),
                                      (c.target, c.column)))
        comments_set = list(self.changes.comments_set) + [
            c for (ref, column), c in sorted(self.des.comments.items(), key=_comment_sort)
            if self._column_recreated(ref, column) and c not in self.changes.comments_set]
        for c in comments_set:
            if c.target in fresh_refs:
                continue
            per_ref[c.target].append((sql.comment_statement(c, self.des.get(c.target)),
                                      (c.target, c.column)))
        for ref, items in per_ref.items():
            self._add(Op(f"meta:{ref}", ref.kind, ref.key, "metadata",
                         tuple(s for s, _ in items if s), "safe", reason="grants, comments, owner"),
                      (4, _CREATE_ORDER[ref.kind], ref.key), requires=[t for _, t in items])

    @staticmethod
    def _grant_statements(items: list[Grant], obj: object, owner: str, *, revoke: bool) -> list[str]:
        """GRANT/REVOKE for grant facts; a privilege the owner lacks (grantee ``#owner``) is
        the other way round: gaining the lack is a REVOKE from the owner."""
        plain = [g for g in items if g.grantee != OWNER_LACKS]
        lacks = [dc_replace(g, grantee=owner) for g in items if g.grantee == OWNER_LACKS]
        out = sql.grant_statements(plain, obj, revoke=revoke)
        if lacks and owner:
            out += sql.grant_statements(lacks, obj, revoke=not revoke)
        return out

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

    def _owner_of_fresh(self, ch: Change) -> str | None:
        """The owner a created or recreated object is given: the one the desired side chose
        explicitly, else (recreated) the one it had, else none (whoever runs the script)."""
        wanted = _explicit_owner(ch.new, self.des)
        if wanted or ch.action != "replace" or ch.old is None:
            return wanted
        return _explicit_owner(ch.old, self.cur)

    def _owner_changes(self, fresh_refs: set[ObjRef]) -> list[tuple[ObjRef, str]]:
        """Objects on both sides whose desired owner is explicit and not the current one."""
        changes = []
        for kind in KINDS:
            current = self.cur.objects(kind)
            for key, new in sorted(self.des.objects(kind).items()):
                ref = ObjRef(kind, key)
                old = current.get(key)
                wanted = _explicit_owner(new, self.des)
                if wanted is None and self.des.owners_chosen and self.cur.owners_chosen:
                    # Two live databases: an owner equal to the connecting role is chosen too
                    # (given back to it after another one had it).
                    wanted = _chosen_owner(new)
                if old is None or ref in fresh_refs or wanted is None:
                    continue
                if getattr(old, "owner", None) != wanted:
                    changes.append((ref, wanted))
        return changes

    def _column_gone(self, ref: ObjRef, column: str | None) -> bool:
        if column is None or ref.kind != "table":
            return False
        t = self.des.table.get(ref.key)
        return t is None or t.column(column) is None

    # -- ordering -------------------------------------------------------------------------
    def _order(self) -> tuple[Op, ...]:
        creators: dict[Target, set[str]] = defaultdict(set)
        droppers: dict[Target, set[str]] = defaultdict(set)
        for nid, node in self.nodes.items():
            for t in node.creates:
                creators[t].add(nid)
            for t in node.drops | node.releases:
                droppers[t].add(nid)
        for t, nid in self.aliases.items():
            if nid in self.nodes:
                droppers[t].add(nid)

        def creators_of(ref: ObjRef, column: str | None) -> set[str]:
            found = set(creators.get((ref, None), ()))
            if column is not None:
                found |= creators.get((ref, column), set())
            return found

        def droppers_of(ref: ObjRef, column: str | None) -> set[str]:
            found = set(droppers.get((ref, None), ()))
            if column is not None:
                found |= droppers.get((ref, column), set())
            return found

        graph: dict[str, set[str]] = {nid: set() for nid in self.nodes}
        soft = self._late_bound_edges(creators_of)
        defaults = [nid for nid in self.nodes if nid.startswith("defacl:")]
        slots_dropped: dict[tuple, set[str]] = defaultdict(set)
        for nid, node in self.nodes.items():
            if node.op.action == "drop":
                for slot in _slots(node.op, self.cur):
                    slots_dropped[slot].add(nid)
        for nid, node in self.nodes.items():
            preds = graph[nid]
            preds |= {a for a in node.after if a in self.nodes}
            for ref, column in node.creates:  # rule 1: what it uses exists first
                for dep in self.des_deps.get(ref, ()):
                    if column is not None and dep.dependent_column not in (column, None):
                        continue
                    if dep.referenced in node.skip_uses:
                        continue
                    preds |= creators_of(dep.referenced, dep.referenced_column)
            for ref, column in node.requires:
                preds |= creators_of(ref, column)
            for ref, column in node.drops:  # rule 2: what uses it goes first
                for dep in self.cur_rdeps.get(ref, ()):
                    if column is not None and dep.referenced_column not in (column,):
                        continue
                    preds |= droppers_of(dep.dependent, dep.dependent_column)
                preds |= self._disowners_of(ref, column)
            if nid.startswith("attach:"):  # ATTACH needs the columns to match the parent's
                parent = self.des.table[node.op.key].partition_of
                preds |= self._column_op_ids(parent) | self._column_op_ids(node.op.key)
            if nid.startswith("alter:table ") and node.op.key in self.cur.table:
                # INHERIT needs the child's and the parents' columns in place.
                added = set(self.des.table[node.op.key].inherits) - set(self.cur.table[node.op.key].inherits)
                for parent in added:
                    preds |= self._column_op_ids(parent) | self._column_op_ids(node.op.key)
            if node.op.action == "create" and not nid.startswith("defacl:"):
                # Objects are created under the desired default privileges (a schema's own
                # entries wait for the schema, so a schema waits only for the global ones).
                preds |= {d for d in defaults
                          if node.op.kind != "schema" or not self.nodes[d].requires}
            if node.op.action == "create":  # rule 3: names are free first
                for slot in _slots(node.op, self.des):
                    preds |= slots_dropped.get(slot, set())
            preds.discard(nid)
        ranks = {nid: n.rank for nid, n in self.nodes.items()}
        with_soft = {nid: preds | {p for p in soft.get(nid, ()) if p != nid}
                     for nid, preds in graph.items()}
        order = _toposort(with_soft, ranks, None) if soft else None
        if order is None:  # no soft edges, or they close a cycle: the recorded edges only
            order = _toposort(graph, ranks, self.diagnostics)
        return tuple(self.nodes[nid].op for nid in order)

    def _late_bound_edges(self, creators_of) -> dict[str, set[str]]:
        """Soft edges: an op creating X waits for the creation of functions that running X
        calls through quoted bodies (:mod:`fraisec.plan.bodies`), also through functions,
        domains and views that stay as they are. Dropped if they would close a cycle."""
        if not any(ch.kind == "function" and ch.action in ("create", "replace", "alter")
                   for ch in self.by_ref.values()):
            return {}
        from fraisec.plan.bodies import body_dependencies

        # Every body, for every function's name: a new callee may sit behind unchanged callers.
        body = _index(body_dependencies(self.des, self.des.function), by="dependent")
        memo: dict[ObjRef, set[str]] = {}

        def reach(ref: ObjRef) -> set[str]:
            """Creators of what an unchanged object calls, transitively."""
            if ref in memo:
                return memo[ref]
            memo[ref] = set()  # a cycle of calls ends here
            found: set[str] = set()
            for dep in [*self.des_deps.get(ref, ()), *body.get(ref, ())]:
                found |= creators_of(dep.referenced, dep.referenced_column)
                if dep.referenced.kind in _LATE_BOUND:
                    found |= reach(dep.referenced)
            memo[ref] = found
            return found

        soft: dict[str, set[str]] = defaultdict(set)
        for nid, node in self.nodes.items():
            for ref, _column in node.creates:
                for dep in [*self.des_deps.get(ref, ()), *body.get(ref, ())]:
                    if dep.referenced in node.skip_uses:
                        continue
                    soft[nid] |= creators_of(dep.referenced, dep.referenced_column)
                    if dep.referenced.kind in _LATE_BOUND:
                        soft[nid] |= reach(dep.referenced)
        return soft

    def _disowners_of(self, ref: ObjRef, column: str | None) -> set[str]:
        """Sequences owned by a table (column) that goes must be released before it goes."""
        if ref.kind != "table":
            return set()
        found = set()
        for key, seq in self.cur.sequence.items():
            if seq.owned_by and seq.owned_by[0] == ref.key and (
                    column is None or seq.owned_by[1] == column):
                nid = f"disown:{ObjRef('sequence', key)}"
                if nid in self.nodes:
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
    order = []
    while heap:
        _, nid = heapq.heappop(heap)
        order.append(nid)
        sorter.done(nid)
        for ready in sorter.get_ready():
            heapq.heappush(heap, (_rank_key(ranks[ready]), ready))
    return order


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


def _managed_columns(old: Table, new: Table) -> tuple[dict[str, Column], dict[str, Column]]:
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


def _needs_readd(old: Column, new: Column) -> bool:
    """A generated column whose expression appears or changes cannot be altered in place."""
    return new.generated is not None and old.generated != new.generated


def _column_safety(old: Column, new: Column) -> Safety:
    if old.type != new.type:
        return type_change_safety(old.type, new.type)
    if new.not_null and not old.not_null:
        return "locking"
    return "safe"


def _index(deps: Iterable[Dependency], *, by: str) -> dict[ObjRef, list[Dependency]]:
    out: dict[ObjRef, list[Dependency]] = defaultdict(list)
    for d in deps:
        out[getattr(d, by)].append(d)
    return out


def _grant_sort(g: Grant) -> tuple:
    return (g.target, g.column or "", g.grantee, g.privilege)


def _comment_sort(item: tuple) -> tuple:
    (ref, column), _ = item
    return (ref, column or "")
