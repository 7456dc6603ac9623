"""SQL text for foreign-data wrappers, servers, user mappings and foreign tables' options.

A secret option (:func:`fraisec.catalog.options.is_secret`) is never written: the catalog holds
only a digest of its value anyway. :func:`create_options` and :func:`alter_options` leave such
options out (a secret that is not wanted any more is still dropped: that needs no value) and the
planner tells the user which ones to set out of band (FSC420), with
:func:`set_secret_statement`'s statement to run.
"""

from __future__ import annotations

from fraisec.catalog.model import (
    ForeignDataWrapper, ForeignServer, Options, Table, UserMapping,
)
from fraisec.catalog.options import is_secret
from fraisec.render.quoting import quote_ident, quote_literal

__all__ = ["alter_fdw", "alter_options", "alter_server", "create_fdw", "create_options",
           "create_server", "create_user_mapping", "foreign_table_tail", "secrets_to_set",
           "set_secret_statement"]

# What a user fills in for a secret in the statement FSC420 prints: not a value, so that the
# statement fails if pasted as is.
SECRET_PLACEHOLDER = ":'secret'"


def create_options(options: Options) -> str:
    """`` OPTIONS (name 'value', …)`` without the secrets, or ``""``."""
    items = [f"{quote_ident(k)} {quote_literal(v)}" for k, v in options if not is_secret(k)]
    return f" OPTIONS ({', '.join(items)})" if items else ""


def alter_options(old: Options, new: Options) -> str:
    """`` OPTIONS (ADD …, SET …, DROP …)`` turning ``old`` into ``new`` (secrets are only ever
    dropped here), or ``""``."""
    before, after = dict(old), dict(new)
    items = []
    for name in sorted(before.keys() | after.keys()):
        was, wanted = before.get(name), after.get(name)
        if was == wanted:
            continue
        if wanted is None:
            items.append(f"DROP {quote_ident(name)}")
        elif is_secret(name):
            continue  # set out of band (FSC420)
        else:
            word = "ADD" if was is None else "SET"
            items.append(f"{word} {quote_ident(name)} {quote_literal(wanted)}")
    return f" OPTIONS ({', '.join(items)})" if items else ""


def secrets_to_set(old: Options | None, new: Options) -> list[tuple[str, str]]:
    """(ADD or SET, option name) for each secret ``new`` has that ``old`` lacks or differs in."""
    before = dict(old or ())
    return [("SET" if name in before else "ADD", name) for name, value in new
            if is_secret(name) and before.get(name) != value]


def set_secret_statement(alter_head: str, word: str, name: str) -> str:
    """``ALTER … OPTIONS (ADD password :'secret')``: what to run with the value filled in."""
    return f"{alter_head} OPTIONS ({word} {quote_ident(name)} {SECRET_PLACEHOLDER})"


# -- wrappers ---------------------------------------------------------------------------------
def create_fdw(key: str, w: ForeignDataWrapper) -> str:
    sql = f"CREATE FOREIGN DATA WRAPPER {key}"
    if w.handler:
        sql += f" HANDLER {w.handler}"
    if w.validator:
        sql += f" VALIDATOR {w.validator}"
    return sql + create_options(w.options)


def alter_fdw(key: str, old: ForeignDataWrapper, new: ForeignDataWrapper) -> list[str]:
    parts = []
    if old.handler != new.handler:
        parts.append(f"HANDLER {new.handler}" if new.handler else "NO HANDLER")
    if old.validator != new.validator:
        parts.append(f"VALIDATOR {new.validator}" if new.validator else "NO VALIDATOR")
    options = alter_options(old.options, new.options)
    if options:
        parts.append(options.strip())
    return [f"ALTER FOREIGN DATA WRAPPER {key} {' '.join(parts)}"] if parts else []


# -- servers ----------------------------------------------------------------------------------
def create_server(key: str, s: ForeignServer) -> str:
    sql = f"CREATE SERVER {key}"
    if s.type is not None:
        sql += f" TYPE {quote_literal(s.type)}"
    if s.version is not None:
        sql += f" VERSION {quote_literal(s.version)}"
    return sql + f" FOREIGN DATA WRAPPER {quote_ident(s.fdw)}" + create_options(s.options)


def alter_server(key: str, old: ForeignServer, new: ForeignServer) -> list[str]:
    out = []
    if old.version != new.version:
        out.append(f"ALTER SERVER {key} VERSION {quote_literal(new.version)}")  # NULL: none
    options = alter_options(old.options, new.options)
    if options:
        out.append(f"ALTER SERVER {key}{options}")
    return out


# -- user mappings ----------------------------------------------------------------------------
def create_user_mapping(m: UserMapping) -> str:
    return f"CREATE USER MAPPING {m.key}" + create_options(m.options)


# -- foreign tables ---------------------------------------------------------------------------
def foreign_table_tail(t: Table) -> str:
    """`` SERVER s OPTIONS (…)`` ending a CREATE FOREIGN TABLE."""
    return f" SERVER {quote_ident(t.server or '')}" + create_options(t.fdw_options)
