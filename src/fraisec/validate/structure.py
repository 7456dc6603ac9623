"""Structural rules: SQL sources, relation cycles."""

from __future__ import annotations

import graphlib
from typing import Iterator

from fraisec.diagnostics import Diagnostic, Related, error
from fraisec.ir.model import Kind, Schema
from fraisec.validate.rules import rule


@rule("query-has-sql-source")
def query_has_sql_source(schema: Schema) -> Iterator[Diagnostic]:
    """The runtime answers "Query has no SQL source" at request time; catch it at compile time."""
    for query in schema.queries:
        if query.sql_source is not None or query.return_type.kind is Kind.SCALAR:
            continue
        yield error(
            "FSC203", f"query '{query.name}' returns '{query.return_type.name}', which has no SQL source",
            query.location,
            hint=f'Add sql_source="v_…" to the query (or `return fraiseql.config(sql_source="v_…")`), '
                 f"give @type '{query.return_type.name}' a sql_source, or make it an @entity.",
        )


@rule("required-relation-cycle")
def required_relation_cycle(schema: Schema) -> Iterator[Diagnostic]:
    """Entities that require each other (NOT NULL foreign keys in a loop) cannot be inserted."""
    graph: dict[str, set[str]] = {}
    for entity in schema.entities:
        graph[entity.name] = {f.relation for f in entity.fields
                              if f.relation and not f.type.nullable and f.relation != entity.name}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        first = schema.type(cycle[0])
        related = [Related(message=f"'{name}' is part of the cycle", location=schema.type(name).location)
                   for name in cycle[1:-1] if schema.type(name) and schema.type(name).location]
        yield error(
            "FSC206", f"required relations form a cycle that no insert order can satisfy: "
            f"{' -> '.join(cycle)}", first.location if first else None,
            hint="Make one relation in the cycle optional (`X | None`).", related=related,
        )
