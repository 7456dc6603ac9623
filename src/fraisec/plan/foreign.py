"""Planning foreign-data wrappers, servers, user mappings and foreign tables.

The planner creates and drops these like any object (their order comes from ``pg_depend``: a
wrapper before its servers, a server before its user mappings and foreign tables); this module
adds what is particular to them:

* **alters**: ``ALTER FOREIGN DATA WRAPPER`` (handler, validator, options), ``ALTER SERVER``
  (version, options), ``ALTER USER MAPPING`` and ``ALTER FOREIGN TABLE`` (options);
* **safety**: a foreign table holds no rows here, so every step on one (drop, columns,
  constraints) is ``safe``; dropping a wrapper, server or user mapping is ``destructive`` (their
  options may hold credentials that no migration file carries);
* **secrets**: an option named like a secret is never written (see
  :mod:`fraisec.catalog.options`); each one the migration would have to set is reported as an
  FSC420 warning with the statement to run out of band.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fraisec.catalog.model import ObjRef, Options, Table
from fraisec.diagnostics import Diagnostic, warning
from fraisec.plan.model import CREATE_ORDER, Op
from fraisec.render import foreign as sql
from fraisec.render.quoting import quote_ident

if TYPE_CHECKING:
    from fraisec.diff import Change
    from fraisec.plan.planner import Planner

__all__ = ["DESTRUCTIVE_DROPS", "alter_object", "foreign_table_ops", "relax_safety",
           "secret_warnings", "widened_by_server"]

# Dropping these loses what no migration file can bring back (a user mapping's password).
DESTRUCTIVE_DROPS = frozenset({"fdw", "server", "user_mapping"})


def alter_object(p: Planner, ch: Change) -> None:
    """The in-place change of a wrapper, server or user mapping (a secret alone: nothing)."""
    if ch.kind == "fdw":
        statements = sql.alter_fdw(ch.key, ch.old, ch.new)
    elif ch.kind == "server":
        statements = sql.alter_server(ch.key, ch.old, ch.new)
    else:
        options = sql.alter_options(ch.old.options, ch.new.options)
        statements = [f"ALTER USER MAPPING {ch.key}{options}"] if options else []
    if statements:
        p.add(Op(f"alter:{ch.ref}", ch.kind, ch.key, "alter", tuple(statements), "safe",
                 reason=ch.reason), (2, CREATE_ORDER[ch.kind], ch.key),
              creates=[(ch.ref, None)], releases=[(ch.ref, None)])


def foreign_table_ops(p: Planner) -> None:
    """``ALTER FOREIGN TABLE … OPTIONS`` for foreign tables that stay (columns, constraints and
    owners go through the table machinery: ALTER TABLE works on foreign tables)."""
    for ch in sorted(p.by_ref.values(), key=lambda c: c.key):
        if ch.kind != "table" or ch.action != "alter" or not ch.new.is_foreign:
            continue
        options = sql.alter_options(ch.old.fdw_options, ch.new.fdw_options)
        if options:
            p.add(Op(f"options:{ch.ref}", "table", ch.key, "alter",
                     (f"ALTER FOREIGN TABLE {ch.key}{options}",), "safe",
                     reason="foreign table options changed"), (2, 1, ch.key),
                  creates=[(ch.ref, "#options")])


def _foreign(table: Table | None) -> bool:
    return table is None or table.is_foreign


def relax_safety(planner: Planner) -> None:
    """Steps on a foreign table (foreign on both sides, or on the one it exists on) touch no
    local rows: they are ``safe`` whatever the same step on a table would be."""
    from dataclasses import replace

    for node in planner.nodes.values():
        op = node.op
        if op.safety == "safe":
            continue
        key = op.key
        if op.kind == "constraint":
            con = planner.cur.constraint.get(key) or planner.des.constraint.get(key)
            key = con.table if con else key
        elif op.kind != "table":
            continue
        old, new = planner.cur.table.get(key), planner.des.table.get(key)
        if (old or new) and _foreign(old) and _foreign(new):
            node.op = replace(op, safety="safe")


def _alter_head(kind: str, key: str) -> str:
    word = {"fdw": "FOREIGN DATA WRAPPER", "server": "SERVER", "user_mapping": "USER MAPPING",
            "table": "FOREIGN TABLE"}[kind]
    return f"ALTER {word} {key}"


def _label(kind: str, key: str) -> str:
    return {"fdw": "foreign-data wrapper", "server": "server", "user_mapping": "user mapping",
            "table": "foreign table"}[kind] + f" {key}"


def _secret(kind: str, key: str, head: str, word: str, name: str, column: str | None) -> Diagnostic:
    where = _label(kind, key) + (f" column {quote_ident(column)}" if column else "")
    return warning(
        "FSC420", f"option {name} of {where} is a secret: fraisec does not write its value "
        "into the migration, so it must be set out of band",
        hint=f"After applying the migration, run {sql.set_secret_statement(head, word, name)} "
             "with the value in place of :'secret' (e.g. psql -v secret=… -c …).")


def secret_warnings(planner: Planner) -> list[Diagnostic]:
    """FSC420 for every secret option the desired side has and the migration leaves out."""
    out: list[Diagnostic] = []
    for ch in sorted(planner.by_ref.values(), key=lambda c: (c.kind, c.key)):
        if ch.new is None or ch.kind not in ("fdw", "server", "user_mapping", "table"):
            continue
        if ch.kind == "table" and not ch.new.is_foreign:
            continue
        fresh = ch.action in ("create", "replace")
        old_options: Options | None = None if fresh else _options(ch.old)
        head = _alter_head(ch.kind, ch.key)
        for word, name in sql.secrets_to_set(old_options, _options(ch.new)):
            out.append(_secret(ch.kind, ch.key, head, word, name, None))
        if ch.kind == "table":
            for col in ch.new.columns:
                before = None if fresh or ch.old.column(col.name) is None \
                    else ch.old.column(col.name).fdw_options
                col_head = f"{head} ALTER COLUMN {quote_ident(col.name)}"
                for word, name in sql.secrets_to_set(before, col.fdw_options):
                    out.append(_secret(ch.kind, ch.key, col_head, word, name, col.name))
    return out


def _options(obj) -> Options:
    return obj.fdw_options if isinstance(obj, Table) else obj.options


def widened_by_server(ref: ObjRef, z: ObjRef) -> bool:
    """A foreign table on a server that is dropped and created again goes and comes with it."""
    return ref.kind == "server" and z.kind == "table"
