"""``migrate diff`` for the tenant part (schema or database per tenant, docs/tenancy.md).

A tenant's objects are unqualified and resolve through the applier's search_path, so both
sides are built the way the applier builds a tenant: in one shadow database, the shared part
first (the database's own migrations, or the compiled shared SQL), then one scratch tenant
schema, ``PLACEHOLDER``, then the tenant SQL with ``search_path`` set to it, ``public`` and
``pg_temp``. Only that schema is compared; the plan is written back without its name (tenant
objects unqualified, functions ``SET search_path FROM CURRENT``), so the file applies to every
tenant schema.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Sequence

from fraisec.catalog.model import KINDS, Catalog
from fraisec.diagnostics import Diagnostic, has_errors

__all__ = ["PLACEHOLDER", "TenantDiff", "tenant_diff", "tenant_part_diff", "tenant_sources"]

PLACEHOLDER = "fraisec_tenant"
_PATH = f"SET search_path TO {PLACEHOLDER}, public, pg_temp;\n"
# What PostgreSQL prints for a function created with SET search_path FROM CURRENT there.
_CAPTURED = re.compile(rf"SET search_path TO '{PLACEHOLDER}'(?:, '[^'\n]*')*")
_QUALIFIER = re.compile(rf'(?<![\w."]){PLACEHOLDER}\.')
# A grant on the scratch schema itself (the observer role's USAGE) or its owner: for every
# tenant, the schema the file runs in.
_SCHEMA_GRANT = re.compile(
    rf"^((?:GRANT|REVOKE) [^;\n]* ON SCHEMA |ALTER SCHEMA ){PLACEHOLDER}"
    rf"( (?:TO|FROM|OWNER TO) [^;\n]*);$", re.MULTILINE)


def tenant_sources(sources: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tenant files as the applier runs them in one tenant schema (the scratch one)."""
    return [(name, _PATH + text) for name, text in sources]


def only_placeholder(catalog: Catalog) -> Catalog:
    """The scratch tenant schema alone: the shared objects are the other part's business."""
    schemas = {getattr(obj, "schema", None) for kind in KINDS
               for obj in catalog.objects(kind).values()}
    schemas |= {s.name for s in catalog.schema.values()}
    kept = catalog.without_schemas({s for s in schemas if s and s != PLACEHOLDER})
    # database-wide default privileges (no schema) belong to the shared part
    return dataclasses.replace(kept, default_privileges=frozenset(
        d for d in kept.default_privileges if d.schema == PLACEHOLDER))


def unplaced(text: str) -> str:
    """A planned file for every tenant: the scratch schema's name removed."""
    from fraisec.render.quoting import in_current_schema

    text = _SCHEMA_GRANT.sub(lambda m: in_current_schema(
        m[1] + "%I" + m[2].replace("%", "%%")) + ";", text)
    return _QUALIFIER.sub("", _CAPTURED.sub("SET search_path FROM CURRENT", text))


def tenant_catalog(shared: Sequence[tuple[str, str]], tenant: Sequence[tuple[str, str]],
                   shadow_url: str | None) -> Catalog:
    from fraisec.catalog.shadow import catalog_from_sql

    sources = [*shared, ("the tenant schema", f"CREATE SCHEMA {PLACEHOLDER};\n"),
               *tenant_sources(tenant)]
    return only_placeholder(catalog_from_sql(sources, shadow_url))


@dataclasses.dataclass(frozen=True)
class TenantDiff:
    """The outcome: ``text`` None when the tenant part is up to date (or refused)."""

    plan: object
    text: str | None
    path: Path | None
    refused: Diagnostic | None
    diagnostics: list[Diagnostic]

    @property
    def changed(self) -> bool:
        return bool(self.plan)


def tenant_diff(name: str, tenant_sql: str, shared_desired: Sequence[tuple[str, str]],
                tenant_dir: Path, *, shadow_url: str | None = None,
                unsafe: bool = False, write: bool = True, verify: bool = True) -> TenantDiff:
    """The next tenant migration: the tenant history (over the shared history) to
    ``tenant_sql`` (over the shared desired SQL). Raises MigrationError/CatalogError."""
    from fraisec.diff import diff
    from fraisec.migrations.apply import MigrationError, load_directory
    from fraisec.migrations.checksum import add_migration
    from fraisec.migrations.files import file_name, next_version, slugify
    from fraisec.migrations.generate import FileParts, destructive_refusal, render_migration
    from fraisec.plan import plan as make_plan

    files, _parsed, problems = load_directory(tenant_dir)
    if has_errors(problems):
        raise MigrationError(problems)
    history = [(str(f.path), f.text) for f in files]
    # Both sides over the same shared objects (the compiled shared part): the tenant files are
    # compared, not the shared history, which has its own diff.
    current = tenant_catalog(shared_desired, history, shadow_url)
    desired = tenant_catalog(shared_desired, [("the tenant part (compiled)", tenant_sql)],
                             shadow_url)
    result = make_plan(diff(current, desired), current, desired)
    if has_errors(result.diagnostics):
        raise MigrationError(list(result.diagnostics))
    found = list(result.diagnostics)
    if not result:
        return TenantDiff(result, None, None, None, found)
    if result.destructive and not unsafe:
        return TenantDiff(result, None, None, destructive_refusal(result, []), found)
    fname = file_name(next_version(files), slugify(name))
    source = (f"tenant migrations {files[0].label}..{files[-1].label} (replayed in a scratch "
              "tenant schema)" if files else "an empty tenant schema")
    text = unplaced(render_migration(FileParts(fname[:-4], source), result, desired))
    path = add_migration(tenant_dir, files, fname, text) if write else None
    if verify:
        after = tenant_catalog(shared_desired, [*history, (fname, text)], shadow_url)
        found += _left(after, desired, tenant_dir / fname)
    return TenantDiff(result, text, path, None, found)


def _left(after: Catalog, desired: Catalog, path: Path) -> list[Diagnostic]:
    from fraisec.diagnostics import Location, warning
    from fraisec.diff import diff
    from fraisec.plan import plan as make_plan

    rest = make_plan(diff(after, desired), after, desired)
    left = [f"{op.action} {op.kind} {op.key}" for op in rest.ops if op.statements]
    if not left:
        return []
    return [warning("FSC518", f"after {path.name} the tenant history still differs from the "
                              f"schema in {len(left)} place(s): " + "; ".join(left[:5]),
                    Location(file=str(path)),
                    hint="This is a bug in fraisec's tenant diff; please report it with the "
                         "schema change. Edit the file by hand if needed, then "
                         "`fraisec migrate hash --dir` on the tenant directory.")]


def tenant_part_diff(name: str, schema, ref: str, db_dir: Path | None, strategy: str,
                     tenant_dir: Path, *, shadow_url: str | None = None, unsafe: bool = False,
                     write: bool = True, verify: bool = True) -> TenantDiff:
    """``migrate diff`` of a split strategy's tenant part: the loaded ``schema`` (of ``ref``)
    rendered into its parts, the tenant part diffed over the shared part's desired SQL.
    Raises MigrationError when the module cannot be split (FSC540 …)."""
    from fraisec.desired import desired_sources
    from fraisec.migrations.apply import MigrationError
    from fraisec.render.strategy import render_parts

    from fraisec.render.strategy import hand_written_problems
    from fraisec.sqlfiles import read_sql_dir

    parts, problems = render_parts(schema, strategy)
    shared, more = desired_sources(ref, db_dir, schema, strategy)
    if parts is None or shared is None:
        raise MigrationError([*problems, *more])
    outcome = tenant_diff(name, parts.tenant, shared, tenant_dir, shadow_url=shadow_url,
                          unsafe=unsafe, write=write, verify=verify)
    # FSC543, as compile reports it: a db/ file naming a tenant object the shared part lacks
    hand_written = read_sql_dir(db_dir) if db_dir is not None else []
    return dataclasses.replace(outcome, diagnostics=[
        *outcome.diagnostics, *hand_written_problems(schema, hand_written)])
