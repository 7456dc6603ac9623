"""Drift of tenant schemas (schema per tenant): is each tenant schema what its migrations make?

A tenant schema cannot be compared with the compiled schema (that names its own schema, and the
generator has no schema-per-tenant mode yet). It can be compared with the migrations themselves:
the files are replayed into one shadow database once per tenant schema, each run with the
search_path the applier uses (``CREATE SCHEMA tenant_x`` then every file with
``SET search_path TO tenant_x, …``), the shadow is introspected once, and each live tenant
schema is diffed with its replayed twin, every other schema left out on both sides. A
difference is a change made to that tenant by hand (or a file applied elsewhere only), exactly
what ``migrate diff`` cannot see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from psycopg import sql

from fraisec.catalog.model import Catalog
from fraisec.diagnostics import Diagnostic, Location, error, has_errors

__all__ = ["has_schema", "replayed_schemas", "schema_differences"]


def replayed_schemas(directory: Path, search_paths: dict[str, tuple[str, ...]],
                     roles: dict[str, str], shadow_url: str | None = None,
                     base: Sequence[tuple[str, str]] = ()) -> Catalog:
    """One shadow database holding, for each tenant schema, the files replayed into it.
    ``base``: applied first, once (the shared part the tenant files refer to).

    Raises CatalogError (FSC514 when a file fails, as the ordinary replay does)."""
    from fraisec.catalog.shadow import CatalogError, catalog_from_sql
    from fraisec.migrations.replay import history_sources

    files, diagnostics = history_sources(directory)
    if has_errors(diagnostics):
        raise CatalogError(diagnostics)
    sources: list[tuple[str, str]] = list(base)
    for schema in sorted(search_paths):
        path = sql.SQL(", ").join(sql.Identifier(s) for s in search_paths[schema]).as_string(None)
        # IF NOT EXISTS: a tenant database's tenant part lives in its public schema
        setup = sql.SQL("CREATE SCHEMA IF NOT EXISTS {};").format(sql.Identifier(schema))
        if schema in roles:  # what `tenant create` grants the tenant role
            setup += sql.SQL(" GRANT USAGE ON SCHEMA {} TO {};").format(
                sql.Identifier(schema), sql.Identifier(roles[schema]))
        sources.append((f"CREATE SCHEMA {schema}", setup.as_string(None)))
        # on the file's first line, so PostgreSQL's line numbers still point into the file
        sources += [(name, f"SET search_path TO {path}; {text}") for name, text in files]
    try:
        return catalog_from_sql(sources, shadow_url)
    except CatalogError as exc:
        raise CatalogError([_replay_failure(d) for d in exc.diagnostics]) from None


def schema_differences(live: Catalog, replayed: Catalog, schema: str
                       ) -> tuple[tuple[str, ...], list[Diagnostic]]:
    """How the live tenant schema differs from its replayed twin, in plan order."""
    from fraisec.diff import diff
    from fraisec.plan import plan as make_plan

    mine, theirs = _only(live, schema), _only(replayed, schema)
    result = make_plan(diff(mine, theirs), mine, theirs)
    return tuple(_describe(op) for op in result.ops if op.statements), list(result.diagnostics)


def has_schema(catalog: Catalog, schema: str) -> bool:
    return schema in {obj.name for obj in catalog.objects("schema").values()}


def _only(catalog: Catalog, schema: str) -> Catalog:
    return catalog.without_schemas(_schemas(catalog) - {schema})


def _schemas(catalog: Catalog) -> set[str]:
    from fraisec.catalog.model import KINDS

    names: set[str] = set()
    for kind in KINDS:
        for obj in catalog.objects(kind).values():
            name = obj.name if kind == "schema" else getattr(obj, "schema", None)
            if name:
                names.add(name)
    return names


def _describe(op) -> str:
    text = f"{op.action} {op.kind} {op.key}"
    return f"{text} ({op.reason})" if op.reason else text


def _replay_failure(d: Diagnostic) -> Diagnostic:
    if d.code != "FSC401":
        return d
    return error("FSC514", d.message.replace("failed to apply", "failed when replayed into a "
                                                                "tenant schema of the shadow"),
                 d.location or Location(file="migrations"),
                 hint="The migration fails in an empty tenant schema too (is a name "
                      "schema-qualified, or does it need a shared object?). Fix it, then run "
                      "`fraisec migrate hash`.")
