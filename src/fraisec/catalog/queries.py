"""The introspection queries: one ``.sql`` file per object kind, kept beside the introspector.

The set is fixed (:data:`QUERY_NAMES`): introspecting 10 or 2,000 tables runs the same number
of queries, so the cost in round trips never grows with the schema.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["QUERY_NAMES", "load"]

_SQL_DIR = Path(__file__).resolve().parent / "sql"

QUERY_NAMES: tuple[str, ...] = (
    "session", "schemas", "extensions", "foreign_data_wrappers", "foreign_servers",
    "user_mappings", "collations", "enums", "composites", "ranges", "domains",
    "sequences", "tables", "columns", "constraints", "indexes", "views", "functions",
    "triggers", "policies", "rules", "publications", "event_triggers", "grants",
    "default_privileges", "comments",
    "depends", "unsupported",
)


@cache
def load(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return (_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
