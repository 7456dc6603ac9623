"""Edges PostgreSQL does not record: a function whose quoted body calls another function.

``pg_depend`` knows what a function's *signature* uses, never what its body (``$$ … $$``) calls:
the body is a string until the function runs. Creating the caller first is fine
(``check_function_bodies = false``), but whatever *evaluates* it on the way (a CHECK scanning
existing rows, a column default filling them, an index expression, a materialized view, a domain
CHECK) runs the body, and the callee must exist by then.

Interface::

    body_dependencies(catalog: Catalog, callees: Iterable[str]) -> list[Dependency]

``callees`` are the keys of the functions that may be called; the result has one
``caller → callee`` edge per function of the catalog whose body names one of them (qualified or
not, so a name shared by two schemas gives an edge to each: an extra edge only orders more
strictly). The planner treats these edges as soft:
dropped again if they would close a cycle.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterable

from fraisec.catalog.model import Catalog, Dependency, ObjRef

__all__ = ["body_dependencies"]

# Where pg_get_functiondef's body starts: after the AS of the last header line (or BEGIN ATOMIC,
# whose body PostgreSQL does record in pg_depend, so scanning it adds nothing wrong).
_BODY_START = re.compile(r"^AS |^BEGIN ATOMIC", re.MULTILINE)


def _body(definition: str) -> str:
    match = _BODY_START.search(definition)
    return definition[match.start():] if match else ""


# A call: a name (quoted, or folded to lower case) right before "(". Looking each one up in a
# dict keeps the scan linear in the bodies' length whatever the number of functions.
_CALL = re.compile(r'"((?:[^"]|"")+)"\s*\(|(?<![\w$])([A-Za-z_][\w$]*)\s*\(')


def body_dependencies(catalog: Catalog, callees: Iterable[str]) -> list[Dependency]:
    by_name: dict[str, set[str]] = defaultdict(set)
    for key in callees:
        fn = catalog.function.get(key)
        if fn is not None:
            by_name[fn.name].add(key)
    if not by_name:
        return []
    edges = []
    for key, fn in catalog.function.items():
        body = _body(fn.definition)
        if not body:
            continue
        found: set[str] = set()
        for quoted, bare in _CALL.findall(body):
            name = quoted.replace('""', '"') if quoted else bare.lower()
            found |= by_name.get(name, set())
        found.discard(key)
        edges += [Dependency(ObjRef("function", key), ObjRef("function", callee))
                  for callee in sorted(found)]
    return edges
