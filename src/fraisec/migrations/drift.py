"""Drift: does the database (or the replayed history) equal the schema?

Used by ``fraisec migrate check`` and ``fraisec check``. The comparison is the same diff that
``migrate diff`` writes, so "no drift" means exactly "``migrate diff`` would write nothing".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from fraisec.diagnostics import Diagnostic, Location, error, has_errors

if TYPE_CHECKING:
    from fraisec.catalog.model import Catalog
    from fraisec.ir.model import Schema

__all__ = ["Drift", "check_drift"]


@dataclass(frozen=True)
class Drift:
    differences: tuple[str, ...]  # "create column app.tb_project.status (…)", in plan order
    diagnostics: tuple[Diagnostic, ...]
    current: "Catalog | None" = None  # what the history (or database) builds: fraisec check audits it

    @property
    def clean(self) -> bool:
        return not self.differences


def check_drift(schema_ref: str, db_dir: Path | None, migrations_dir: Path, *,
                database: str | None = None, shadow_url: str | None = None,
                history_schema: str = "fraisec_history", desired_state=None,
                schema: "Schema | None" = None, part: str | None = None) -> Drift:
    """Raises MigrationError (schema errors) or CatalogError (replay/connection errors).

    ``desired_state``: ``desired_catalog(…)``'s result, computed once when many databases are
    checked against the same schema (``migrate check`` over tenants). ``schema``: the module
    already loaded without errors by the caller, whose diagnostics it already has."""
    from fraisec.diff import diff
    from fraisec.migrations.apply import MigrationError
    from fraisec.migrations.replay import current_alongside, desired_catalog
    from fraisec.plan import plan as make_plan

    with current_alongside(migrations_dir, database, shadow_url, history_schema) as current_side:
        desired, diagnostics = desired_state or desired_catalog(schema_ref, db_dir, shadow_url, schema,
                                                                part=part)
        if desired is None:
            raise MigrationError(diagnostics)
    from fraisec.migrations.external import external_schemas, stub_schemas
    from fraisec.migrations.replay import history_sources

    # External tables (auth.users) are not the schema's to compare, in a live database either.
    history, _problems = history_sources(migrations_dir)
    current = current_side().without_schemas(external_schemas(None, (t for _n, t in history))
                                              | stub_schemas(history))
    result = make_plan(diff(current, desired), current, desired)
    if has_errors(result.diagnostics):
        raise MigrationError(list(result.diagnostics))
    differences = tuple(_describe(op) for op in result.ops if op.statements)
    found = [*diagnostics, *result.diagnostics]
    if differences:
        pending = _pending(database, migrations_dir, history_schema) if database else []
        what = f"the database {_redact(database)}" if database else "the migrations (replayed)"
        found.append(error(
            "FSC513", f"{what} and the schema differ in {len(differences)} "
                      f"place{'s' if len(differences) != 1 else ''}: "
                      + "; ".join(differences[:5]) + (" …" if len(differences) > 5 else ""),
            Location(file=schema_ref) if schema_ref.endswith(".py") else None,
            hint=_hint(pending, database is not None and not pending and _history_matches(
                migrations_dir, desired, shadow_url), database is not None)))
    return Drift(differences, tuple(found), current)


def _hint(pending: list[str], drifted: bool, live: bool) -> str:
    if pending:
        return (f"{len(pending)} migration(s) are not applied to it yet ({', '.join(pending[:3])}"
                f"{' …' if len(pending) > 3 else ''}): run `fraisec migrate apply`.")
    if drifted:
        # Every migration is applied and they do produce the schema: the database itself was
        # changed outside the migrations. A new migration would be wrong.
        return ("The migrations produce the schema and all are applied: the database was changed "
                "outside them (by hand, or by another tool). `fraisec diff migrations URL` shows "
                "the change; undo it in the database rather than writing a migration.")
    return "Write the missing migration with `fraisec migrate diff NAME`" + (
        " and apply it." if live else ".")


def _history_matches(migrations_dir: Path, desired, shadow_url: str | None) -> bool:
    """Does the replayed history equal the schema (best effort: False when it cannot tell)?"""
    from fraisec.catalog.shadow import CatalogError
    from fraisec.diff import diff
    from fraisec.migrations.replay import history_catalog
    from fraisec.plan import plan as make_plan

    try:
        replayed = history_catalog(migrations_dir, shadow_url)
    except CatalogError:
        return False
    return not any(op.statements for op in make_plan(diff(replayed, desired), replayed, desired).ops)


def adoption_differences(database: str, migrations_dir: Path, upto: int | None, *,
                         shadow_url: str | None = None,
                         history_schema: str = "fraisec_history") -> tuple[str, ...]:
    """What ``migrate baseline`` would wrongly assume: how the database differs from the
    schema the files up to ``upto`` produce (empty: adopting them is safe)."""
    from fraisec.diff import diff
    from fraisec.migrations.replay import database_catalog, history_catalog
    from fraisec.plan import plan as make_plan

    replayed = history_catalog(migrations_dir, shadow_url, upto=upto)
    live = database_catalog(database, history_schema)
    result = make_plan(diff(live, replayed), live, replayed)
    return tuple(_describe(op) for op in result.ops if op.statements)


def _pending(database: str, migrations_dir: Path, history_schema: str) -> list[str]:
    """Files in the directory that the database's history does not list (best effort)."""
    import psycopg

    from fraisec.migrations.files import discover
    from fraisec.migrations.history import read_history

    files, _ = discover(migrations_dir)
    try:
        with psycopg.connect(database, autocommit=True, connect_timeout=10) as conn:
            applied = {r.version for r in read_history(conn, history_schema)}
    except psycopg.Error:
        return []
    return [f.name for f in files if f.version not in applied]


def _describe(op) -> str:
    text = f"{op.action} {op.kind} {op.key}"
    return f"{text} ({op.reason})" if op.reason else text


def _redact(url: str | None) -> str:
    from fraisec.catalog.shadow import redact

    return redact(url or "")
