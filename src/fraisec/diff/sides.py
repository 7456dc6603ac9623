"""What a side of ``fraisec diff FROM TO`` can be, and how it becomes a Catalog.

Interface (stable; extend with :func:`register_side`)::

    catalog_for(spec: str, *, shadow_url: str | None = None) -> Catalog   # raises CatalogError
    register_side(matches: Callable[[str], bool], resolve: Callable[[str, SideOptions], Catalog])

A side is, in this order: a database URL (``postgresql://`` / ``postgres://``), ``empty`` (a
fresh database), a ``.sql`` file, a directory of ``.sql`` files (applied sorted by name), a schema
module (a ``*.py`` path or a dotted module name: its compiled SQL plus its project's ``db/*.sql``,
from ``fraisec.desired``). Every
side except a database URL is applied to a shadow database and introspected, so both sides are
normalised by PostgreSQL the same way. ``migrations`` (the replayed history) is registered by the
migrations stage through :func:`register_side`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import psycopg

from fraisec.catalog.introspect import IntrospectionError, introspect
from fraisec.catalog.model import Catalog
from fraisec.catalog.shadow import CatalogError, catalog_from_sql, connect_error, embedded_server
from fraisec.diagnostics import Location, error
from fraisec.redact import is_connection_string, redact

__all__ = ["SideOptions", "catalog_for", "register_side", "is_url"]


@dataclass(frozen=True)
class SideOptions:
    shadow_url: str | None = None


Resolver = Callable[[str, SideOptions], Catalog]
_RESOLVERS: list[tuple[Callable[[str], bool], Resolver]] = []


def register_side(matches: Callable[[str], bool], resolve: Resolver) -> None:
    """Add a kind of side; later registrations are tried first."""
    _RESOLVERS.insert(0, (matches, resolve))


def catalog_for(spec: str, *, shadow_url: str | None = None) -> Catalog:
    options = SideOptions(shadow_url=shadow_url)
    for matches, resolve in _RESOLVERS:
        if matches(spec):
            return resolve(spec, options)
    raise CatalogError([error(
        "FSC405", f"cannot tell what {redact(spec)!r} is: not a database URL, a .sql file, a directory, "
        "a schema module or 'empty'",
        hint="Use postgresql://…, path/to/schema.sql, a directory of .sql files, schema.py, "
             "a dotted module name, or empty.")])


def is_url(spec: str) -> bool:
    """A database: a postgresql:// URL or a key/value connection string."""
    return is_connection_string(spec)


def _from_url(spec: str, options: SideOptions) -> Catalog:
    try:
        conn = psycopg.connect(spec, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise connect_error(spec, exc) from None
    with conn:
        try:
            return replace(introspect(conn), owners_chosen=True)
        except IntrospectionError as exc:
            raise CatalogError([error("FSC406", str(exc))]) from None


def _from_empty(spec: str, options: SideOptions) -> Catalog:
    if options.shadow_url is None:
        # template1 of fraisec's own cluster is never written to: it *is* an empty database,
        # and reading it saves creating and dropping one.
        return _from_url(embedded_server().url("template1"), options)
    return catalog_from_sql([], options.shadow_url)


def _read(path: Path) -> tuple[str, str]:
    try:
        return (str(path), path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError([error("FSC405", f"cannot read {path}: {exc}",
                                  Location(file=str(path)))]) from None


def _from_sql_file(spec: str, options: SideOptions) -> Catalog:
    return catalog_from_sql([_read(Path(spec))], options.shadow_url)


def _from_directory(spec: str, options: SideOptions) -> Catalog:
    files = sorted(p for p in Path(spec).iterdir() if p.suffix == ".sql" and p.is_file())
    if not files:
        raise CatalogError([error("FSC405", f"directory {spec} holds no .sql files",
                                  Location(file=spec))])
    return catalog_from_sql([_read(p) for p in files], options.shadow_url)


def _is_module(spec: str) -> bool:
    """A ``*.py`` path, or a dotted name whose top-level package can be found."""
    if spec.endswith(".py"):
        return True
    if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", spec) or Path(spec).exists():
        return False
    import importlib.util
    import sys

    top = spec.split(".")[0]
    sys.path.insert(0, ".")  # a schema module beside the project, as the compiler finds it
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False
    finally:
        sys.path.pop(0)


def _from_module(spec: str, options: SideOptions) -> Catalog:
    """The desired state of a schema module: its compiled SQL, then its project's db/*.sql."""
    from fraisec.desired import GENERATED_NAME, desired_sources
    from fraisec.migrations.external import stub_schemas

    sources, diagnostics = desired_sources(spec)
    if sources is None:
        raise CatalogError(list(diagnostics) or [error("FSC405", f"schema module {spec} did not compile")])
    named = [(f"{spec} (compiled schema.sql)" if name == GENERATED_NAME else name, text) for name, text in sources]
    # An external user table's stand-in is not part of the schema's state.
    return catalog_from_sql(named, options.shadow_url).without_schemas(stub_schemas(sources))


# Registered in reverse priority (register_side puts the latest first).
register_side(_is_module, _from_module)
register_side(lambda s: Path(s).is_dir(), _from_directory)
register_side(lambda s: s.endswith(".sql") or (Path(s).is_file() and not s.endswith(".py")), _from_sql_file)
register_side(lambda s: s == "empty", _from_empty)
register_side(is_url, _from_url)


def _from_migrations(spec: str, options: SideOptions) -> Catalog:
    # The replayed migration history; owned by the migrations stage.
    from fraisec.migrations.replay import migrations_side

    return migrations_side(spec, options.shadow_url)


register_side(lambda s: s == "migrations", _from_migrations)


def _from_url_without_history(spec: str, options: SideOptions) -> Catalog:
    # A migrated database carries fraisec's own history schema; it is not part of the user's
    # schema, so a diff never proposes to drop it (owned by the migrations stage).
    from fraisec.migrations.history import DEFAULT_SCHEMA

    return _from_url(spec, options).without_schemas({DEFAULT_SCHEMA})


register_side(is_url, _from_url_without_history)
