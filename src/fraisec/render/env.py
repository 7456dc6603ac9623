"""The one Jinja environment every SQL template is rendered with.

Templates live in the repository's top-level ``templates/`` and ship inside the wheel as
``fraisec/templates`` (pyproject force-include). An editable install has no such package
directory, so the loader falls back to the source tree's ``templates/`` next to ``src/``;
either way templates are found relative to the package, never the working directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import BaseLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from fraisec.render.quoting import qualified, quote_ident, quote_literal

__all__ = ["environment", "render_template"]

# Every generated function runs with this search_path. pg_catalog first, so no built-in type,
# function or operator can be shadowed; pg_temp named explicitly LAST, because a search_path
# that leaves pg_temp out (even '') searches it FIRST for relation and type names: a member
# granted TEMP could create a domain "pg_temp.uuid" whose CHECK runs inside a definer function.
PINNED_SEARCH_PATH = "pg_catalog, pg_temp"

_SOURCE_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


def _loader() -> BaseLoader:
    try:
        return PackageLoader("fraisec", "templates")
    except ValueError:  # editable install: fraisec/templates does not exist
        return FileSystemLoader(str(_SOURCE_TEMPLATES))


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=_loader(),
        undefined=StrictUndefined,  # a missing variable is a bug, never an empty string in SQL
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["ident"] = quote_ident
    env.filters["literal"] = quote_literal
    env.filters["qualified"] = lambda name, schema: qualified(schema, name)
    env.globals["pinned_search_path"] = PINNED_SEARCH_PATH
    return env


def render_template(name: str, **context: object) -> str:
    """Render ``templates/<name>`` with ``context``; the text ends with exactly one newline."""
    return environment().get_template(name).render(**context).rstrip("\n") + "\n"
