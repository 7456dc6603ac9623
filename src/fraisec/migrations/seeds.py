"""Seeded reference rows in migrations: the data step of ``migrate diff``.

The catalog diff sees no rows, so seeds are diffed here, outside the planner. Each migration
that writes seeds records the seeded state of each table it touches in a comment line,
``-- fraisec: seed app.tb_plan {"free": {"identifier": "'free'", …}, …}`` (the rows as SQL
literals); the history's state is the last line per table. Against the schema's ``seed=``:

* a new row: ``INSERT … ON CONFLICT (identifier) DO UPDATE`` (an operator's row with that
  identifier is taken over);
* a changed row: ``UPDATE … SET <the changed columns> WHERE identifier = …``;
* a removed row: ``DELETE … WHERE identifier = …``, destructive: written only with ``--unsafe``
  and marked like every destructive step.

Rows nobody seeded are never touched. Each statement is a planned data step
(:attr:`SeedChanges.ops`, ops of kind :data:`DATA_KIND` with their own safety class), which
``render_migration`` writes as its own transaction at the end of the file, and whose classes
the header's safety line counts like the schema's. ``fraisec check`` reports seeds the history
has not written yet as drift.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterable

from fraisec.diagnostics import Diagnostic, error
from fraisec.ir.model import Schema
from fraisec.plan.model import Op
from fraisec.render.quoting import quote_literal
from fraisec.render.seeds import SeedRows, delete_sql, seed_rows, update_sql, upsert_sql

__all__ = ["DATA_KIND", "SeedChanges", "recorded_seeds", "seed_changes", "seed_refusal"]

_MANIFEST = re.compile(r"^-- fraisec: seed (?P<table>\S+) (?P<rows>\{.*\})\s*$", re.MULTILINE)
# The kind of a data step (an Op that writes rows, not the catalog): rendered after the schema's
# transactions, in one of its own.
DATA_KIND = "seeded row"


@dataclass(frozen=True)
class SeedChanges:
    """What the next migration writes: the data steps (in order), and the manifest lines
    recording the new state."""

    ops: tuple[Op, ...] = ()
    manifest: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()  # whose seeded rows change

    def __bool__(self) -> bool:
        return bool(self.manifest)

    @property
    def statements(self) -> tuple[str, ...]:
        return tuple(s for op in self.ops for s in op.statements)

    @property
    def deletes(self) -> tuple[str, ...]:
        """The deleted rows, "app.tb_plan 'pro'"."""
        return tuple(op.key for op in self.ops if op.safety == "destructive")

    @property
    def destructive(self) -> bool:
        return bool(self.deletes)


def _step(n: int, action: str, table: str, key: str, statement: str) -> Op:
    """One data step: ``delete`` loses a row (destructive), ``insert``/``update`` keep every
    other row and column as it is (safe)."""
    return Op(f"data:{n:05d}", DATA_KIND, f"{table} {quote_literal(key)}", action, (statement,),
              "destructive" if action == "delete" else "safe",
              reason="removed from seed=" if action == "delete" else "")


def recorded_seeds(texts: Iterable[str]) -> SeedRows:
    """The seeded state the migration texts (in order) leave: the last record per table."""
    state: SeedRows = {}
    for text in texts:
        for match in _MANIFEST.finditer(text):
            state[match.group("table")] = json.loads(match.group("rows"))
    return state


def seed_changes(schema: Schema, history: Iterable[str], tables: set[str] | None = None) -> SeedChanges:
    """The steps from the history's seeded rows to the schema's. ``tables``: the tables the
    desired state has (a dropped table's rows go with it: only the record is updated)."""
    desired, current = seed_rows(schema), recorded_seeds(history)
    steps: list[tuple[str, str, str, str]] = []  # (action, table, key, statement)
    manifest: list[str] = []
    for table in sorted(set(desired) | set(current)):
        want, have = desired.get(table, {}), current.get(table, {})
        if want == have:
            continue
        manifest.append(f"-- fraisec: seed {table} {json.dumps(want, sort_keys=True, ensure_ascii=False)}")
        if tables is not None and table not in tables:
            continue
        for key in sorted(want):
            if key not in have:
                steps.append(("insert", table, key, upsert_sql(table, want[key])))
                continue
            changed = {c: v for c, v in want[key].items() if have[key].get(c) != v}
            if changed:
                steps.append(("update", table, key, update_sql(table, quote_literal(key), changed)))
        for key in sorted(set(have) - set(want)):
            steps.append(("delete", table, key, delete_sql(table, quote_literal(key))))
    changed = tuple(line.split(" ")[3] for line in manifest)
    return SeedChanges(tuple(_step(n, *step) for n, step in enumerate(steps)), tuple(manifest), changed)


def seed_refusal(changes: SeedChanges) -> Diagnostic:
    return error("FSC512", "the migration would be destructive: delete seeded row "
                 + "; ".join(changes.deletes[:10]) + (" …" if len(changes.deletes) > 10 else ""),
                 hint="The rows were removed from seed=. If deleting them is intended, run again with "
                      "--unsafe; the statements are marked in the file.")
