"""Render: IR → ``schema.sql`` and the ``fraiseql.toml`` fragment.

    render_schema_sql(schema)   every generated object, dependency-ordered, one file
    render_runtime_toml(schema) session variables and [[observers]] for the runtime

Both are deterministic: the same IR gives byte-identical text.
"""

from __future__ import annotations

from fraisec.render.sql import render_runtime_toml, render_schema_sql

__all__ = ["render_runtime_toml", "render_schema_sql"]
