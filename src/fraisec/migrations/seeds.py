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

Rows nobody seeded are never touched. The block is its own transaction at the end of the file.
``fraisec check`` reports seeds the history has not written yet as drift.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Iterable

from fraisec.diagnostics import Diagnostic, error
from fraisec.ir.model import Schema
from fraisec.render.quoting import quote_literal
from fraisec.render.seeds import SeedRows, delete_sql, seed_rows, update_sql, upsert_sql

__all__ = ["SeedChanges", "recorded_seeds", "seed_changes", "seed_refusal"]

_MANIFEST = re.compile(r"^-- fraisec: seed (?P<table>\S+) (?P<rows>\{.*\})\s*$", re.MULTILINE)
_SAFETY = re.compile(r"^-- safety: .*$", re.MULTILINE)


@dataclass(frozen=True)
class SeedChanges:
    """What the next migration writes: (statement, destructive reason or None), and the
    manifest lines recording the new state."""

    statements: tuple[tuple[str, str | None], ...] = ()
    manifest: tuple[str, ...] = ()
    deletes: tuple[str, ...] = field(default_factory=tuple)  # "app.tb_plan 'pro'"
    tables: tuple[str, ...] = ()  # whose seeded rows change

    def __bool__(self) -> bool:
        return bool(self.manifest)

    @property
    def destructive(self) -> bool:
        return bool(self.deletes)

    def block(self) -> str:
        lines = [*self.manifest, "BEGIN;"]
        for statement, reason in self.statements:
            if reason:
                lines.append(f"-- fraisec: destructive ({reason})")
            lines.append(statement + ";")
        return "\n".join([*lines, "COMMIT;"]) + "\n"

    def append_to(self, text: str) -> str:
        """The migration file with the block at its end (its header says destructive when a
        seeded row is deleted)."""
        if self.destructive:
            text = _SAFETY.sub("-- safety: destructive", text, count=1)
        return text.rstrip("\n") + "\n\n-- Seeded reference rows (seed=)\n" + self.block()


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
    statements: list[tuple[str, str | None]] = []
    manifest: list[str] = []
    deletes: list[str] = []
    for table in sorted(set(desired) | set(current)):
        want, have = desired.get(table, {}), current.get(table, {})
        if want == have:
            continue
        manifest.append(f"-- fraisec: seed {table} {json.dumps(want, sort_keys=True, ensure_ascii=False)}")
        if tables is not None and table not in tables:
            continue
        for key in sorted(want):
            if key not in have:
                statements.append((upsert_sql(table, want[key]), None))
                continue
            changed = {c: v for c, v in want[key].items() if have[key].get(c) != v}
            if changed:
                statements.append((update_sql(table, quote_literal(key), changed), None))
        for key in sorted(set(have) - set(want)):
            statements.append((delete_sql(table, quote_literal(key)),
                               f"delete seeded row {table} {quote_literal(key)}: removed from seed="))
            deletes.append(f"{table} {quote_literal(key)}")
    changed = tuple(line.split(" ")[3] for line in manifest)
    return SeedChanges(tuple(statements), tuple(manifest), tuple(deletes), changed)


def seed_refusal(changes: SeedChanges) -> Diagnostic:
    return error("FSC512", "the migration would be destructive: delete seeded row "
                 + "; ".join(changes.deletes[:10]) + (" …" if len(changes.deletes) > 10 else ""),
                 hint="The rows were removed from seed=. If deleting them is intended, run again with "
                      "--unsafe; the statements are marked in the file.")
