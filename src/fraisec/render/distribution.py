"""``[distribution] engine = "citus"``: distribution.sql, and what Citus would refuse.

Row-based sharding by tenant (docs/scale-out.md, each rule cited there):

* a tenant table (``@fq.entity(tenant=True)``) is **distributed** by its tenant column, every
  one co-located with the first, so one tenant's rows of every table live on one node;
* every other generated table (the tenant root, the users, the membership, global entities)
  is a **reference** table: a copy on every node, so the keys that must stay global (a
  tenant's slug, a user's e-mail, every ``id``) stay enforceable and joins stay local.

The calls come in dependency order: reference tables first, then distributed tables, a
foreign key's target before the table pointing at it (Citus refuses a foreign key to a table
that is neither distributed nor a reference table yet).

The checks run on the objects the renderer emits (``render.objects``), so what is verified is
exactly what schema.sql creates: keys and unique indexes of distributed tables include the
tenant column (FSC601), foreign keys between distributed tables go through it and none runs
from a reference table to a distributed one (FSC602), and the known traps are reported:
policies with subqueries or RESTRICTIVE (FSC603), triggers (FSC604), a foreign-key cycle
(FSC605). Hand-written ``db/`` SQL is not checked.
"""

from __future__ import annotations

import graphlib
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from fraisec.diagnostics import Diagnostic, Location, error, warning
from fraisec.ir.model import ObjectType, Schema
from fraisec.render.model import Model
from fraisec.render.quoting import quote_literal

__all__ = ["Placement", "check_distribution", "distribution_calls", "migration_block", "placements",
           "render_distribution_sql"]

PlacementKind = Literal["reference", "distributed"]

_KEY = re.compile(r"^(?:PRIMARY KEY|UNIQUE) \((?P<columns>[^)]*)\)$")
_SUBQUERY = re.compile(r"\bSELECT\b", re.IGNORECASE)


@dataclass(frozen=True)
class Placement:
    """How one generated table is placed on a Citus cluster."""

    table: str  # schema-qualified, quoted as needed (as schema.sql names it)
    kind: PlacementKind
    column: str | None  # the distribution (tenant) column of a distributed table
    entity: ObjectType

    @property
    def location(self) -> Location | None:
        return self.entity.location


# -- the plan ---------------------------------------------------------------------------------

def placements(schema: Schema) -> list[Placement]:
    """Every entity table, reference tables first, each group in foreign-key order."""
    from fraisec.render.objects import entity_order, foreign_keys

    model = Model(schema)
    found = [_placement(model, e) for e in entity_order(model)]
    edges = _edges(foreign_keys(model))
    order: list[Placement] = []
    for kind in ("reference", "distributed"):
        group = [p for p in found if p.kind == kind]
        order += _dependency_order(group, edges)[0]
    return order


def _placement(model: Model, entity: ObjectType) -> Placement:
    if entity.entity.tenant_field:
        return Placement(model.table(entity), "distributed", model.tenant_column(entity), entity)
    return Placement(model.table(entity), "reference", None, entity)


def _edges(keys) -> dict[str, set[str]]:
    """table -> the tables its foreign keys point at (self-references left out)."""
    edges: dict[str, set[str]] = {}
    for k in keys:
        if k.ref_table != k.table:
            edges.setdefault(k.table, set()).add(k.ref_table)
    return edges


def _dependency_order(group: list[Placement], edges: dict[str, set[str]]
                      ) -> tuple[list[Placement], list[str]]:
    """``group`` with every foreign key's target first (ties in the given order), and the
    tables of a cycle (left in the given order: no order can satisfy Citus, FSC605)."""
    names = {p.table for p in group}
    position = {p.table: i for i, p in enumerate(group)}
    graph = {p.table: {t for t in edges.get(p.table, ()) if t in names} for p in group}
    sorter = graphlib.TopologicalSorter(graph)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        return group, sorted(set(exc.args[1]))
    ordered: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        ordered.extend(ready)
        sorter.done(*ready)
    by_name = {p.table: p for p in group}
    return [by_name[t] for t in ordered], []


def distribution_calls(schema: Schema, only: set[str] | None = None,
                       existing: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The ``create_…_table(…)`` calls (to SELECT or PERFORM), in order.

    ``only``: the tables to place (a migration's new tables; all when None). ``existing``:
    tables already distributed on the cluster, so a new tenant table co-locates with the
    first of them instead of starting a group of its own.
    """
    placed = placements(schema)
    chosen = [p for p in placed if only is None or p.table in only]
    anchors = [p.table for p in placed if p.kind == "distributed" and p.table in existing]
    anchor = anchors[0] if anchors else None
    calls = []
    for p in chosen:
        if p.kind == "reference":
            calls.append(f"create_reference_table({quote_literal(p.table)})")
            continue
        # The first tenant table starts the application's own co-location group ('none'), so
        # it never joins an unrelated table that happens to share the column type ('default').
        colocate = anchor or "none"
        calls.append(f"create_distributed_table({quote_literal(p.table)}, "
                     f"{quote_literal(p.column)}, colocate_with => {quote_literal(colocate)})")
        anchor = anchor or p.table
    return calls


def render_distribution_sql(schema: Schema) -> str:
    """distribution.sql: run once on the Citus coordinator, after schema.sql and db/."""
    source = PurePath(schema.module_file).name if schema.module_file else "the schema module"
    placed = placements(schema)
    calls = distribution_calls(schema)
    reference = [c for c, p in zip(calls, placed) if p.kind == "reference"]
    distributed = [c for c, p in zip(calls, placed) if p.kind == "distributed"]
    lines = [
        f"-- Generated by fraisec from {source}: Citus distribution (docs/scale-out.md).",
        "-- Run once on the coordinator, after schema.sql and db/, before loading data, as the",
        "-- role that applied schema.sql. Later tables are placed by their migrations.",
        "-- Citus is not installed where fraisec is tested: the order and arguments are checked",
        "-- on PostgreSQL against stand-ins of these functions, not on a Citus cluster.",
        "",
    ]
    if reference:
        lines += ["-- Reference tables: a copy on every node (global rows, the tenant and identity tables).",
                  *[f"SELECT {c};" for c in reference], ""]
    if distributed:
        lines += ["-- Distributed by the tenant column, co-located: a tenant's rows share one node.",
                  *[f"SELECT {c};" for c in distributed], ""]
    settings = helper_settings(schema)
    if settings:
        lines += ["-- The context helpers the policies call run inside shard queries and read the",
                  "-- identity tables: a nested distributed query, which Citus refuses by default.",
                  *[f"{s};" for s in settings], ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def helper_settings(schema: Schema, only: set[str] | None = None) -> list[str]:
    """``ALTER FUNCTION … SET citus.allow_nested_distributed_execution = on`` for each context
    helper (or those in ``only``, by signature): the policies call them on the shards, and
    they read the membership, user and tenant tables there (docs/scale-out.md)."""
    from fraisec.render.functions import context_helper_signatures

    return [f"ALTER FUNCTION {signature} SET citus.allow_nested_distributed_execution = on"
            for signature in context_helper_signatures(Model(schema))
            if only is None or signature in only]


def migration_block(schema: Schema, created: set[str], existing: set[str],
                    functions: set[str] = frozenset()) -> list[str]:
    """The lines a migration that creates ``created`` ends its transaction with, on a project
    with ``[distribution] engine = "citus"`` (none otherwise): the same calls as
    distribution.sql for those tables, co-located with the tenant tables already in
    ``existing``, and the Citus setting of the context helpers among ``functions`` (those the
    migration creates or replaces: CREATE OR REPLACE drops a function's settings). They run
    only where the Citus functions exist, so the file still applies to plain PostgreSQL: the
    shadow database fraisec replays histories on, a developer's server."""
    if schema.settings.distribution != "citus":
        return []
    calls = [f"PERFORM {c}" for c in distribution_calls(schema, only=created, existing=existing)]
    calls += helper_settings(schema, only=functions)
    if not calls:
        return []
    return ["-- Citus (docs/scale-out.md): place the new tables; skipped where Citus is not installed.",
            "DO $citus$",
            "BEGIN",
            "    IF EXISTS (SELECT FROM pg_catalog.pg_proc WHERE proname = 'create_distributed_table') THEN",
            *[f"        {c};" for c in calls],
            "    END IF;",
            "END",
            "$citus$;"]


# -- the checks -------------------------------------------------------------------------------

def check_distribution(schema: Schema) -> list[Diagnostic]:
    """What Citus would refuse in the generated SQL, or what would not work once distributed."""
    from fraisec.render.objects import foreign_keys, indexes, rls_tables, tables

    model = Model(schema)
    placed = {p.table: p for p in placements(schema)}
    found: list[Diagnostic] = []
    found += _keys(placed, tables(model), indexes(model))
    keys = foreign_keys(model)
    found += _foreign_keys(placed, keys)
    found += _cycles(placed, keys)
    found += _policies(placed, rls_tables(model))
    found += _triggers(model, placed)
    return found


def _keys(placed: dict[str, Placement], tables, indexes) -> list[Diagnostic]:
    """Citus: a distributed table's PRIMARY KEY and UNIQUE constraints (and unique indexes)
    must include the distribution column."""
    found = []
    for t in tables:
        p = placed.get(t.name)
        if p is None or p.kind != "distributed":
            continue
        groups = [(c.name,) for c in t.columns if c.identity and c.primary_key]
        groups += [_key_columns(k.definition) for k in t.constraints if _KEY.match(k.definition)]
        groups += [i.columns for i in indexes if i.table == t.name and i.unique]
        for group in groups:
            if p.column not in group:
                found.append(error(
                    "FSC601", f"{p.entity.name}: the unique key ({', '.join(group)}) of {t.name} does "
                              f"not include the tenant column {p.column}; Citus refuses it on a table "
                              "distributed by that column", p.location,
                    hint=f"Make the key unique per tenant (list {p.column} in it), or keep the "
                         "entity global (not tenant=True) so it becomes a reference table. See "
                         "docs/scale-out.md."))
    return found


def _key_columns(definition: str) -> tuple[str, ...]:
    columns = _KEY.match(definition).group("columns")
    return tuple(c.strip().strip('"') for c in columns.split(","))


def _foreign_keys(placed: dict[str, Placement], keys) -> list[Diagnostic]:
    """Citus: a foreign key between distributed tables includes the distribution column on
    both sides; from a distributed to a reference table is fine; from a reference table to a
    distributed one is refused."""
    found = []
    for k in keys:
        child, parent = placed.get(k.table), placed.get(k.ref_table)
        if child is None or parent is None:
            continue
        if (child.kind == "distributed" and child.column in k.columns and k.on_delete
                and k.on_delete.startswith(("SET NULL", "SET DEFAULT"))):
            found.append(error(
                "FSC602", f"{child.entity.name}: the foreign key {k.name} from {k.table} to "
                          f"{k.ref_table} is ON DELETE {k.on_delete}; Citus refuses SET NULL and SET "
                          "DEFAULT on a foreign key that includes the distribution column (even "
                          "with a column list)", child.location,
                hint="Use on_delete=\"CASCADE\" or \"RESTRICT\" (or none) on this relation and clear "
                     "the reference in the code that deletes the parent. See docs/scale-out.md."))
            continue
        if parent.kind != "distributed":
            continue
        if child.kind == "reference":
            found.append(error(
                "FSC602", f"{child.entity.name}: {k.table} is a reference table (not tenant-scoped) "
                          f"but its foreign key {k.name} points at {k.ref_table}, distributed by "
                          f"tenant; Citus refuses a foreign key from a reference table to a "
                          "distributed one", child.location,
                hint=f"Make {child.entity.name} tenant-scoped (tenant=True) so both are "
                     f"distributed by tenant, or drop the relation to {parent.entity.name}. "
                     "See docs/scale-out.md."))
        elif (child.column not in k.columns or parent.column not in k.ref_columns
              or k.columns.index(child.column) != k.ref_columns.index(parent.column)):
            found.append(error(
                "FSC602", f"{child.entity.name}: the foreign key {k.name} from {k.table} to "
                          f"{k.ref_table} does not go through the tenant column ({child.column} = "
                          f"{parent.column}); Citus refuses it between distributed tables",
                child.location,
                hint="Reference the parent within the same tenant: both tables tenant-scoped by "
                     "the same tenant entity. See docs/scale-out.md."))
    return found


def _cycles(placed: dict[str, Placement], keys) -> list[Diagnostic]:
    edges = _edges(keys)
    found = []
    for kind in ("reference", "distributed"):
        group = [p for p in placed.values() if p.kind == kind]
        cycle = _dependency_order(group, edges)[1]
        if cycle:
            found.append(error(
                "FSC605", f"the foreign keys between {', '.join(cycle)} form a cycle: no order of "
                          "distribution.sql satisfies Citus, which needs each key's target placed "
                          "first", placed[cycle[0]].location,
                hint="Break the cycle (make one of the relations go one way only), or distribute "
                     "these tables by hand with the keys dropped and re-added. See docs/scale-out.md."))
    return found


def _policies(placed: dict[str, Placement], rls) -> list[Diagnostic]:
    """Citus refuses policies with subqueries on its tables, and re-creates a policy on the
    shards without AS RESTRICTIVE (docs/scale-out.md). The Citus shape has neither
    (render.policy_fold, Model.helper): this holds the renderer to it."""
    subquery: set[str] = set()
    restrictive: set[str] = set()
    for r in rls:
        if r.table not in placed:
            continue
        for policy in r.policies:
            if any(e and _SUBQUERY.search(e) for e in (policy.using, policy.check)):
                subquery.add(r.table)
            if policy.restrictive:
                restrictive.add(r.table)
    if not (subquery or restrictive):
        return []
    tables = sorted(subquery | restrictive)
    first = placed[tables[0]]
    return [warning(
        "FSC603", f"the generated row-level security of {len(tables)} table(s) ({', '.join(tables[:4])}"
                  f"{' …' if len(tables) > 4 else ''}) cannot be distributed by Citus as it is: "
                  f"{len(subquery)} have policies with subqueries (`(SELECT app_private.fn_…())`), "
                  f"which Citus refuses on distributed and reference tables, and {len(restrictive)} "
                  "rely on RESTRICTIVE tenant guards, which Citus re-creates on the shards as "
                  "permissive policies; distribution.sql stops at the first such table",
        first.location,
        hint="The Citus policy shape should never do this: report it with the schema module, and "
             "replace these tables' policies by hand before distribution.sql runs "
             "(docs/scale-out.md, \"Row-level security\").")]


def _triggers(model: Model, placed: dict[str, Placement]) -> list[Diagnostic]:
    """Citus runs a table's row triggers on its shards, and only with
    ``citus.enable_unsafe_triggers`` (docs/scale-out.md)."""
    from fraisec.render import flows, functions

    tables = {f.table for f in functions.maintain_functions(model)}
    tables |= {f.table for f in functions.observer_functions(model)}
    tables |= {f.membership for f in flows.last_owner_functions(model)}
    tables = sorted(t for t in tables if t in placed)
    if not tables:
        return []
    return [warning(
        "FSC604", f"{len(tables)} table(s) to distribute carry generated triggers (maintained "
                  f"columns, observers, the last owner): {', '.join(tables[:4])}"
                  f"{' …' if len(tables) > 4 else ''}; on Citus they run on the shards, need "
                  "citus.enable_unsafe_triggers, and observers append to an outbox that stays on "
                  "the coordinator", placed[tables[0]].location,
        hint="Check each trigger against docs/scale-out.md (\"Triggers\") before distributing; "
             "observers need an outbox reachable from the workers.")]
