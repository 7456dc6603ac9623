"""Render: IR → ``schema.sql`` and the ``fraiseql.toml`` fragment.

    render_schema_sql(schema)   every generated object, dependency-ordered, one file
    render_runtime_toml(schema) session variables and [[observers]] for the runtime
    render_privileged_sql(schema) owners of the hand-written privileged functions (after db/)

Both are deterministic: the same IR gives byte-identical text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_privileged_sql", "render_runtime_toml", "render_schema_sql"]


def __getattr__(name: str) -> Any:
    # Lazy: the differ imports render.quoting on every run and must not pay for jinja2.
    if name in __all__:
        from fraisec.render import sql

        return getattr(sql, name)
    raise AttributeError(name)
