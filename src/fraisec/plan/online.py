"""Online forms of the operations that would hold a write-blocking lock on a table with rows
while PostgreSQL scans it (``migrate diff`` uses them unless ``--no-online``; ``fraisec diff``
prints the plain forms):

* CHECK and FOREIGN KEY: ``ADD CONSTRAINT … NOT VALID`` (a brief lock, no scan), then
  ``VALIDATE CONSTRAINT`` on its own after the transaction (SHARE UPDATE EXCLUSIVE: reads and
  writes go on while it scans; a foreign key also takes ROW SHARE on the referenced table);
* UNIQUE and PRIMARY KEY (with INCLUDE, NULLS NOT DISTINCT, DEFERRABLE…): ``CREATE UNIQUE
  INDEX CONCURRENTLY`` on its own (writes go on), then ``ADD CONSTRAINT … USING INDEX`` (a brief
  ACCESS EXCLUSIVE, no scan; a primary key over nullable columns still scans for NULLs); on a
  partitioned table, that on each partition, then the parent's plain ADD CONSTRAINT, which
  attaches the partitions' constraints instead of building;
* CREATE INDEX on a partitioned table: ``ON ONLY`` the parent (not built), ``CONCURRENTLY`` on
  each partition, ``ALTER INDEX … ATTACH PARTITION`` each;
* SET NOT NULL: ``CHECK (col IS NOT NULL) NOT VALID``, ``VALIDATE``, then ``SET NOT NULL`` (which
  uses the validated check instead of scanning) and the check dropped.

Only on tables that exist before the migration and stay (a table the migration creates is
empty: the plain form is as cheap). CHECK, FOREIGN KEY and SET NOT NULL: not on partitioned
tables and partitions (PostgreSQL 15 has no NOT VALID foreign key on a partitioned table).
Each op these forms add has an id starting with ``online-``, and its reason is the line the
migration header shows; a constraint left in its plain form says so there too (``plain_lock``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fraisec.catalog.model import Column, Constraint, ObjRef
from fraisec.diff import Change
from fraisec.plan.model import CREATE_ORDER, Op, Safety
from fraisec.render.quoting import quote_ident

if TYPE_CHECKING:
    from fraisec.plan.planner import Planner

__all__ = ["constraint_ops", "index_ops", "keep_unique", "online_forms", "plain_index_note", "plain_not_null_note",
           "plain_note", "set_not_null"]

ONLINE_PREFIX = "online-"
# The op of each online form whose reason describes the whole form (the migration header's line).
_DESCRIBED = (f"{ONLINE_PREFIX}validate:", f"{ONLINE_PREFIX}index:")
# A UNIQUE / PRIMARY KEY as pg_get_constraintdef prints it, with every clause PostgreSQL 15's
# CREATE UNIQUE INDEX + ADD CONSTRAINT … USING INDEX can rebuild (proven catalog-identical by
# tests/diff/test_online_forms.py): NULLS NOT DISTINCT, INCLUDE, storage parameters, an index
# tablespace, and the DEFERRABLE clauses (which USING INDEX takes as they are).
_KEY = re.compile(r"^(?P<kind>UNIQUE|PRIMARY KEY)(?P<nulls> NULLS NOT DISTINCT)? \((?P<columns>[^()]+)\)"
                  r"(?: INCLUDE \((?P<include>[^()]+)\))?(?: WITH \((?P<with>[^()]+)\))?"
                  r"(?: USING INDEX TABLESPACE (?P<tablespace>\S+))?"
                  r"(?P<rest>(?: DEFERRABLE)?(?: INITIALLY (?:DEFERRED|IMMEDIATE))?)$")
# What a plain ADD CONSTRAINT holds while it builds or checks, for the header's line on a
# constraint that keeps the plain form.
_PLAIN_LOCK = {"u": "ACCESS EXCLUSIVE while the unique index is built: reads and writes wait",
               "p": "ACCESS EXCLUSIVE while the unique index is built: reads and writes wait",
               "x": "ACCESS EXCLUSIVE while the exclusion index is built: reads and writes wait",
               "c": "ACCESS EXCLUSIVE while every row is checked: reads and writes wait",
               "f": "SHARE ROW EXCLUSIVE on both tables while every row is checked: writes wait"}


def applies(p: Planner, table_key: str) -> bool:
    """Online forms for this table: it exists, stays, and is neither partitioned nor a partition."""
    if not (p.online and p.table_exists(table_key)):
        return False
    table = p.des.table.get(table_key)
    return table is not None and table.kind != "p" and not table.partition_of


def constraint_ops(p: Planner, ch: Change) -> bool:
    """Add the online form of a new constraint; False when it has none (the plain form then,
    with :func:`plain_note` for the header)."""
    con: Constraint = ch.new
    if not con.is_local or not (p.online and p.table_exists(con.table)):
        return False
    if con.type in ("c", "f") and applies(p, con.table) and not con.definition.endswith("NOT VALID"):
        _not_valid_then_validate(p, ch, con)
        return True
    match = _KEY.match(con.definition) if con.type in ("u", "p") else None
    table = p.des.table.get(con.table)
    if match is None or table is None:
        return False
    if table.kind == "r":  # a partition too: CONCURRENTLY and USING INDEX work on it
        _index_then_constraint(p, ch, con, match)
        return True
    partitions = _partition_constraints(p, con, match) if table.kind == "p" else None
    if partitions:
        _partitions_then_constraint(p, ch, con, match, partitions)
        return True
    return False


def plain_note(p: Planner, con: Constraint) -> str:
    """The header's line for a constraint added in its plain form to a table that has rows
    (online forms asked for, none possible): which statement, and the lock it holds."""
    table = p.des.table.get(con.table)
    if (not p.online or con.type not in _PLAIN_LOCK or table is None
            or con.definition.endswith("NOT VALID")  # no scan: nothing to say
            or (table.kind == "p" and not any(t.partition_of == con.table
                                              for t in p.des.table.values()))):
        return ""
    word = {"u": "UNIQUE", "p": "PRIMARY KEY", "x": "EXCLUDE", "c": "CHECK",
            "f": "FOREIGN KEY"}[con.type]
    where = (" on a partitioned table" if table.kind == "p" else
             " on a partition" if table.partition_of else "")
    return (f"none for {word} {con.table}.{quote_ident(con.name)}{where}: plain ADD CONSTRAINT, "
            f"{_PLAIN_LOCK[con.type]}")


def plain_index_note(p: Planner, table_key: str, index_key: str) -> str:
    """The header's line for an index built plainly on a partitioned table that has rows."""
    if not p.online or not any(t.partition_of == table_key for t in p.des.table.values()):
        return ""  # no partition: nothing to build
    return (f"none for index {index_key} on a partitioned table: plain CREATE INDEX, SHARE on "
            "the table and its partitions while every partition's index is built: writes wait")


def _after_drop(ch: Change) -> list[str]:
    return [f"drop:{ch.ref}"] if ch.action == "replace" else []


def _not_valid_then_validate(p: Planner, ch: Change, con: Constraint) -> None:
    name = quote_ident(con.name)
    word = "CHECK" if con.type == "c" else "FOREIGN KEY"
    p.add(Op(f"create:{ch.ref}", "constraint", ch.key, "create",
             (f"ALTER TABLE {con.table} ADD CONSTRAINT {name} {con.definition} NOT VALID",),
             "safe", reason=ch.reason), (3, CREATE_ORDER["constraint"], ch.key),
          creates=[(ch.ref, None)],
          after=_after_drop(ch))
    p.add(Op(f"{ONLINE_PREFIX}validate:{ch.ref}", "constraint", ch.key, "validate",
             (f"ALTER TABLE {con.table} VALIDATE CONSTRAINT {name}",), "safe", False,
             f"{word} {ch.key} added NOT VALID, then validated on its own (SHARE UPDATE "
             "EXCLUSIVE: reads and writes go on)"),
          (5, 1, ch.key), after=[f"create:{ch.ref}"])


def _index_sql(name: str, table: str, match: re.Match) -> str:
    """CREATE UNIQUE INDEX CONCURRENTLY with every clause of the constraint's index."""
    sql = f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({match['columns']})"
    if match["include"]:
        sql += f" INCLUDE ({match['include']})"
    if match["nulls"]:
        sql += match["nulls"]
    if match["with"]:
        sql += f" WITH ({match['with']})"
    if match["tablespace"]:
        sql += f" TABLESPACE {match['tablespace']}"
    return sql


def _index_then_constraint(p: Planner, ch: Change, con: Constraint, match: re.Match) -> None:
    """The index built CONCURRENTLY, then attached. A constraint replaced by another of the
    same name gets its new index under a temporary name first (USING INDEX renames it), so the
    old constraint is dropped in the transaction that attaches the new one: a unique index is
    in force throughout (see :func:`keep_unique` for a primary key under a new name)."""
    name = quote_ident(con.name)
    kind = match["kind"]
    early = ch.action == "replace" and _columns_kept(p, ch.old)
    index = quote_ident(f"{con.name[:40]}_fraisec_new") if early else name
    index_id = f"{ONLINE_PREFIX}index:{ch.ref}"
    # "build index": not a "create" of the constraint's name, which the old one holds until then
    p.add(Op(index_id, "constraint", ch.key, "build index" if early else "create",
             (_index_sql(index, con.table, match),), "safe", False,
             f"{kind} {ch.key} built as a unique index CONCURRENTLY (writes go on), then "
             "attached with ADD CONSTRAINT … USING INDEX (a brief ACCESS EXCLUSIVE)"
             + (", the old constraint dropped in that transaction" if early else "")),
          (5, 0, ch.key), creates=[(ch.ref, None)], after=[] if early else _after_drop(ch))
    if early:  # the old constraint stays until the new index is ready
        p.nodes[f"drop:{ch.ref}"].after.add(index_id)
    safety: Safety = "safe"
    if kind == "PRIMARY KEY" and not _all_not_null(p, con.table, match["columns"]):
        safety = "locking"  # USING INDEX sets the columns NOT NULL: a scan under ACCESS EXCLUSIVE
    p.add(Op(f"create:{ch.ref}", "constraint", ch.key, "create",
             (f"ALTER TABLE {con.table} ADD CONSTRAINT {name} {kind} USING INDEX {index}{match['rest']}",),
             safety, reason=ch.reason), (5, 2, ch.key), creates=[(ch.ref, None)],
          after=[index_id, *_after_drop(ch)])


def _partition_constraints(p: Planner, con: Constraint, match: re.Match) -> list[tuple[str, str]] | None:
    """(partition key, the name PostgreSQL gives the constraint there) for each partition of
    ``con``'s partitioned table; None when a partition is partitioned itself or foreign, when
    that name cannot be known for sure (taken already, quoted columns, too long), or when there
    is no partition (nothing to build: the plain form is as cheap)."""
    taken = {(o.schema, o.name) for cat in (p.cur, p.des) for kind in ("table", "view", "index",
             "sequence") for o in cat.objects(kind).values()}
    taken |= {(c.schema, c.name) for cat in (p.cur, p.des) for c in cat.constraint.values()}
    found: list[tuple[str, str]] = []
    for part in sorted(t.key for t in p.des.table.values() if t.partition_of == con.table):
        table = p.des.table[part]
        name = _child_name(table.name, match)
        if table.kind != "r" or name is None or (table.schema, name) in taken:
            return None
        found.append((part, name))
    return found or None


def _child_name(table: str, match: re.Match) -> str | None:
    """The name PostgreSQL 15 chooses for a partition's clone of a key (ChooseIndexName:
    ``<table>_pkey``, ``<table>_<columns>_key``, shortened as makeObjectName does)."""
    columns = [c.strip() for c in match["columns"].split(",")]
    if match["include"]:
        columns += [c.strip() for c in match["include"].split(",")]
    if any('"' in c or not c.isascii() for c in [*columns, table]):
        return None
    if match["kind"] == "PRIMARY KEY":
        addition, label = "", "pkey"
    else:
        addition, label = "", "key"
        for c in columns:  # ChooseIndexNameAddition: stops once NAMEDATALEN is reached
            addition += ("_" if addition else "") + c
            if len(addition) >= 64:
                break
        addition = addition[:63]
    avail = 63 - len(label) - 1 - (1 if addition else 0)
    a, b = len(table), len(addition)
    while a + b > avail:
        if a > b:
            a -= 1
        else:
            b -= 1
    return "_".join(x for x in (table[:a], addition[:b], label) if x)


def _partitions_then_constraint(p: Planner, ch: Change, con: Constraint, match: re.Match,
                                partitions: list[tuple[str, str]]) -> None:
    """PostgreSQL 15 has no CONCURRENTLY index nor USING INDEX on a partitioned table. Each
    partition gets its index CONCURRENTLY and its constraint USING INDEX (named as the plain
    form names it); the parent's plain ADD CONSTRAINT then finds them and attaches them
    instead of building (ACCESS EXCLUSIVE on the parent and its partitions, briefly: no build,
    no scan)."""
    kind = match["kind"]
    attaches = []
    for i, (part, child) in enumerate(partitions):
        name = quote_ident(child)
        index_id = f"{ONLINE_PREFIX}index:{ch.ref}" if i == 0 else \
            f"{ONLINE_PREFIX}partition-index:{ch.ref}:{part}"
        p.add(Op(index_id, "constraint", ch.key, "create", (_index_sql(name, part, match),),
                 "safe", False,
                 f"{kind} {ch.key} on a partitioned table: a unique index built CONCURRENTLY on "
                 f"each of its {len(partitions)} partition(s) (writes go on) and attached there "
                 "with ADD CONSTRAINT … USING INDEX (a brief ACCESS EXCLUSIVE each), then the "
                 "parent's ADD CONSTRAINT attaches them (a brief ACCESS EXCLUSIVE on the parent "
                 "and its partitions, no build)"),
              (5, 0, ch.key, part), after=_after_drop(ch),
              requires=[(ObjRef("table", part), None)])
        safety: Safety = "safe"
        if kind == "PRIMARY KEY" and not _all_not_null(p, part, match["columns"]):
            safety = "locking"
        attach_id = f"{ONLINE_PREFIX}partition-constraint:{ch.ref}:{part}"
        p.add(Op(attach_id, "constraint", ch.key, "create",
                 (f"ALTER TABLE {part} ADD CONSTRAINT {name} {kind} USING INDEX {name}{match['rest']}",),
                 safety, reason=f"{ch.key} on partition {part}"),
              (5, 2, ch.key, part), after=[index_id])
        attaches.append(attach_id)
    p.add(Op(f"create:{ch.ref}", "constraint", ch.key, "create",
             (f"ALTER TABLE {con.table} ADD CONSTRAINT {quote_ident(con.name)} {con.definition}",),
             "safe", reason=ch.reason), (5, 3, ch.key), creates=[(ch.ref, None)],
          after=[*attaches, *_after_drop(ch)])


# pg_get_indexdef's head: CREATE [UNIQUE] INDEX name ON [ONLY] table; the rest is the same for a
# partitioned index and its partitions' indexes.
_INDEX_HEAD = re.compile(r"^CREATE (?P<unique>UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ (?P<rest>USING .*)$")


def index_ops(p: Planner, ch: Change) -> bool:
    """A new index on a partitioned table that has rows: ``CREATE INDEX … ON ONLY`` the parent
    (no build: it stays invalid), each partition's index ``CONCURRENTLY`` (writes go on), then
    ``ALTER INDEX … ATTACH PARTITION`` for each (brief locks; the parent's index is valid once
    every partition's is attached). False when a partition is partitioned itself or foreign, or
    its index cannot be found in the desired state (the plain form then)."""
    ix = ch.new
    table = p.des.table.get(ix.table)
    head = _INDEX_HEAD.match(ix.definition)
    if not (p.online and p.table_exists(ix.table) and table is not None and table.kind == "p"
            and head and f" ON ONLY {ix.table} " in ix.definition):
        return False
    children = _partition_indexes(p, ix.table, head["rest"])
    if not children:
        return False
    p.add(Op(f"create:{ch.ref}", "index", ch.key, "create", (ix.definition,), "safe",
             reason=ch.reason), (3, CREATE_ORDER["index"], ch.key), creates=[(ch.ref, None)],
          after=_after_drop(ch))
    for i, (part, child) in enumerate(children):
        build_id = f"{ONLINE_PREFIX}index:{ch.ref}" if i == 0 else \
            f"{ONLINE_PREFIX}partition-index:{ch.ref}:{part}"
        name = quote_ident(p.des.index[child].name)
        p.add(Op(build_id, "index", ch.key, "create",
                 (f"CREATE {head['unique'] or ''}INDEX CONCURRENTLY {name} ON {part} {head['rest']}",),
                 "safe", False,
                 f"index {ch.key} on a partitioned table: created ON ONLY the parent (no build), "
                 f"built CONCURRENTLY on each of its {len(children)} partition(s) (writes go on), "
                 "each attached with ALTER INDEX … ATTACH PARTITION (brief locks, no build)"),
              (5, 0, ch.key, part), requires=[(ObjRef("table", part), None)])
        p.add(Op(f"{ONLINE_PREFIX}attach-index:{ch.ref}:{part}", "index", ch.key, "attach",
                 (f"ALTER INDEX {ch.key} ATTACH PARTITION {child}",), "safe",
                 reason=f"{ch.key}: the index of partition {part}"),
              (5, 2, ch.key, part), after=[build_id, f"create:{ch.ref}"])
    return True


def _partition_indexes(p: Planner, table_key: str, rest: str) -> list[tuple[str, str]] | None:
    """(partition key, its index's key) for each partition of ``table_key``: the index the
    desired state has there with the same definition, attached to the parent's."""
    found: list[tuple[str, str]] = []
    for part in sorted(t.key for t in p.des.table.values() if t.partition_of == table_key):
        matches = sorted(key for key, ix in p.des.index.items() if ix.table == part and ix.attached
                         and (m := _INDEX_HEAD.match(ix.definition)) and m["rest"] == rest)
        if p.des.table[part].kind != "r" or len(matches) != 1 or matches[0] in p.cur.index:
            return None
        found.append((part, matches[0]))
    return found or None


def keep_unique(p: Planner) -> None:
    """A primary key replaced by one under another name: the old one is dropped in the
    transaction that attaches the new one (after its index is built), not before the build,
    so no moment is left without a unique index. Not when the plan also changes a column of
    the old key (that change waits for the old key to go, and the new index may need it)."""
    for ch in p.by_ref.values():
        if ch.kind != "constraint" or ch.action != "create" or ch.new.type != "p":
            continue
        index_id = f"{ONLINE_PREFIX}index:{ch.ref}"
        if index_id not in p.nodes:
            continue
        for old in p.by_ref.values():
            drop = p.nodes.get(f"drop:{old.ref}")
            if (old.kind == "constraint" and old.action == "drop" and old.old.type == "p"
                    and old.old.table == ch.new.table and drop is not None
                    and _columns_kept(p, old.old)):
                drop.after.add(index_id)
                p.nodes[f"create:{ch.ref}"].after.add(drop.op.id)


def _columns_kept(p: Planner, old: Constraint) -> bool:
    """Every column of the old key is the same on both sides: nothing the plan does to a
    column has to wait for the old key to be dropped."""
    match = _KEY.match(old.definition)
    before, after = p.cur.table.get(old.table), p.des.table.get(old.table)
    if match is None or before is None or after is None:
        return False
    wanted = {c.strip() for c in match["columns"].split(",")}
    if match["include"]:
        wanted |= {c.strip() for c in match["include"].split(",")}
    for column in before.columns:
        if quote_ident(column.name) in wanted and after.column(column.name) != column:
            return False
    return True


def _all_not_null(p: Planner, table_key: str, columns: str) -> bool:
    table = p.cur.table[table_key]
    wanted = {c.strip() for c in columns.split(",")}
    found = [c for c in table.columns if quote_ident(c.name) in wanted]
    return len(found) == len(wanted) and all(c.not_null for c in found)


def set_not_null(p: Planner, ch: Change, old: Column, new: Column,
                 statements: tuple[str, ...]) -> tuple[str, ...]:
    """The column op's statements with SET NOT NULL replaced by a NOT VALID check, and the ops
    that validate it and then set NOT NULL without a scan; ``statements`` unchanged when the
    online form does not apply (a type change rewrites anyway; ADD IDENTITY needs NOT NULL)."""
    column = quote_ident(new.name)
    plain = f"ALTER TABLE {ch.key} ALTER COLUMN {column} SET NOT NULL"
    if (plain not in statements or old.type != new.type or (new.identity and not old.identity)
            or not applies(p, ch.key)):
        return statements
    check = quote_ident(f"{new.name[:40]}_fraisec_not_null")
    target = f"column:{ch.ref}:{new.name}"
    p.add(Op(f"{ONLINE_PREFIX}validate:{target}", "table", ch.key, "validate",
             (f"ALTER TABLE {ch.key} VALIDATE CONSTRAINT {check}",), "safe", False,
             f"SET NOT NULL on {ch.key}.{column} through CHECK ({column} IS NOT NULL) NOT VALID, "
             "validated on its own (SHARE UPDATE EXCLUSIVE), then SET NOT NULL without a scan"),
          (5, 1, ch.key, new.name), after=[target])
    p.add(Op(f"{ONLINE_PREFIX}not-null:{target}", "table", ch.key, "alter column",
             (plain, f"ALTER TABLE {ch.key} DROP CONSTRAINT {check}"), "safe",
             reason=f"column {new.name} NOT NULL, proven by the validated check"),
          (5, 3, ch.key, new.name), after=[f"{ONLINE_PREFIX}validate:{target}"])
    return tuple(f"ALTER TABLE {ch.key} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID"
                 if s == plain else s for s in statements)


def plain_not_null_note(p: Planner, ch: Change, old: Column, new: Column,
                        statements: tuple[str, ...]) -> str:
    """The header's line for a plain SET NOT NULL left on a table with rows (a partitioned
    table or a partition; an identity added), online forms asked for. A type change rewrites
    the table anyway (its ``-- rewrite:`` line says so)."""
    column = quote_ident(new.name)
    table = p.des.table.get(ch.key)
    if (not p.online or table is None or table.is_foreign or old.type != new.type
            or not p.table_exists(ch.key)
            or f"ALTER TABLE {ch.key} ALTER COLUMN {column} SET NOT NULL" not in statements):
        return ""
    where = (" on a partitioned table" if table.kind == "p" else
             " on a partition" if table.partition_of else "")
    return (f"none for SET NOT NULL on {ch.key}.{column}{where}: plain SET NOT NULL, ACCESS "
            "EXCLUSIVE while every row is checked: reads and writes wait")


def online_forms(plan) -> list[str]:
    """One line per online form in ``plan``, in execution order: what it does and its locks;
    and one per step that has no online form (``none for …``: the plain statement's lock)."""
    return [op.reason if op.id.startswith(_DESCRIBED) else op.plain_lock
            for op in plan.ops if op.statements and (op.id.startswith(_DESCRIBED) or op.plain_lock)]
