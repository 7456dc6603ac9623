"""The project's hand-written SQL files (``db/*.sql``): read them, and order them.

Hand-written files are applied after the generated SQL, in dependency order: a file that creates
a view or SQL function reading an object another file creates comes after that file (read with
sqlglot; ties and unreadable files keep name order). PL/pgSQL bodies are not checked by
PostgreSQL at CREATE time, so only views and SQL-language bodies constrain the order.

A module of its own so that ``api`` (which cross-checks the files) and ``desired`` (which
applies them) both use it without importing each other.
"""

from __future__ import annotations

import graphlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

__all__ = ["order_sql_files", "read_sql_dir"]

logging.getLogger("sqlglot").setLevel(logging.ERROR)


def read_sql_dir(directory: Path) -> list[tuple[str, str]]:
    """The ``.sql`` files of a directory (e.g. ``db/``) as (display path, text), sorted by name."""
    from fraisec.load import display_path

    if not directory.is_dir():
        return []
    return [(display_path(p), p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.sql"))]


def order_sql_files(sources: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Dependency order of hand-written files (stable: name order where nothing constrains it)."""
    if len(sources) < 2:
        return list(sources)  # nothing to order: sqlglot (~0.2 s to import) is not needed
    created = {name: _created(text) for name, text in sources}
    graph: dict[str, set[str]] = {}
    for name, text in sources:
        needs = _referenced(text) - created[name]
        graph[name] = {other for other, objects in created.items() if other != name and objects & needs}
    sorter = graphlib.TopologicalSorter(graph)
    try:
        sorter.prepare()
    except graphlib.CycleError:
        return sorted(sources)  # a real cycle fails when applied, with PostgreSQL's own message
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order += ready
        sorter.done(*ready)
    texts = dict(sources)
    return [(name, texts[name]) for name in order]


def _statements(text: str) -> list[exp.Expression]:
    import sqlglot

    try:
        return [s for s in sqlglot.parse(text, read="postgres") if s is not None]
    except sqlglot.errors.SqlglotError:
        return []


def _bare(table: exp.Expression) -> str:
    from sqlglot import exp

    return (table.name if isinstance(table, exp.Table) else table.sql()).lower()


def _created(text: str) -> set[str]:
    from sqlglot import exp

    names = set()
    for statement in _statements(text):
        if isinstance(statement, exp.Create):
            target = statement.this
            if isinstance(target, exp.UserDefinedFunction):
                target = target.this
            if isinstance(target, exp.Schema):
                target = target.this
            names.add(_bare(target))
    return names


def _referenced(text: str) -> set[str]:
    from sqlglot import exp

    names = set()
    for statement in _statements(text):
        body = statement.expression if isinstance(statement, exp.Create) else statement
        if body is None:
            continue
        names |= {_bare(t) for t in body.find_all(exp.Table)}
        names |= {f.name.lower() for f in body.find_all(exp.Anonymous)}
    return names
