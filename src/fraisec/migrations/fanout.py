"""One migrations directory, many targets: database per tenant and schema per tenant.

A target is a database (its URL) or, for schema per tenant, a schema in a database. Each target
is an ordinary ``apply``: its own advisory lock, its own history, each file in its own
transaction. Targets run concurrently (``jobs`` at a time, across any number of servers) and
independently: a failure on one stops that target only, and its status says where it stopped.
Runs are resumable by construction: a target's history says what it has, so running again
applies what is missing and nothing twice.

A schema target has its history in ``fraisec_history.<schema>`` and runs every file with
``search_path`` set to its schema first, so files written with unqualified names create the
tenant's objects in the tenant's schema (docs/tenancy.md says what the files must look like).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from fraisec.diagnostics import Diagnostic, has_errors
from fraisec.migrations.apply import FileState, MigrationError, Settings, apply, status
from fraisec.migrations.lock import LockHolder, LockTimeout

__all__ = ["CheckResult", "StatusResult", "Target", "TargetResult", "apply_many", "check_many",
           "run_many", "status_many"]

R = TypeVar("R")


@dataclass(frozen=True)
class Target:
    """Where one copy of the migrations goes. ``url`` may hold a password: show ``display``."""

    url: str
    tenant: str | None = None
    schema: str | None = None  # schema per tenant: the tenant's schema in that database
    search_path: tuple[str, ...] = ()
    role: str | None = None  # schema per tenant: the tenant role given USAGE on the schema

    @property
    def display(self) -> str:
        from fraisec.catalog.shadow import redact

        return redact(self.url) + (f" schema {self.schema}" if self.schema else "")

    @property
    def label(self) -> str:
        return self.tenant or self.display

    def settings(self, base: Settings) -> Settings:
        if self.schema is None:
            return base
        return dataclasses.replace(base, history_table=self.schema,
                                   search_path=self.search_path or (self.schema,))


@dataclass(frozen=True)
class TargetResult:
    target: Target
    applied: list[tuple[str, int]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # with dry_run: what would run
    diagnostics: list[Diagnostic] = field(default_factory=list)
    locked: LockTimeout | None = None

    @property
    def url(self) -> str:
        return self.target.url

    @property
    def ok(self) -> bool:
        return not self.diagnostics and self.locked is None


@dataclass(frozen=True)
class StatusResult:
    target: Target
    states: list[FileState] = field(default_factory=list)
    holder: LockHolder | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity.value == "error" for d in self.diagnostics)

    @property
    def pending(self) -> list[str]:
        return [s.name for s in self.states if s.state in ("pending", "partial")]

    @property
    def applied(self) -> int:
        return sum(s.state in ("applied", "baseline") for s in self.states)


def run_many(targets: Sequence[Target], one: Callable[[Target], R], jobs: int) -> list[R]:
    """``one(target)`` for every target, ``jobs`` at a time; results in the order given."""
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(targets)))) as pool:
        return list(pool.map(one, targets))


def as_targets(items: Sequence[Target | str]) -> list[Target]:
    return [t if isinstance(t, Target) else Target(t) for t in items]


def apply_many(targets: Sequence[Target | str], directory: Path, settings: Settings = Settings(), *,
               jobs: int = 4, dry_run: bool = False, to_version: int | None = None,
               notify: Callable[[Target, str], None] = lambda _t, _msg: None
               ) -> list[TargetResult]:
    """One result per target, in the order given. Tenant-schema targets are refused (FSC539)
    when a file would escape the tenant schema (:mod:`fraisec.migrations.tenant_files`)."""
    items = as_targets(targets)
    refused: list[Diagnostic] = []
    if any(t.schema is not None for t in items):
        from fraisec.migrations.tenant_files import tenant_file_problems

        refused = tenant_file_problems(directory)

    def one(target: Target) -> TargetResult:
        if target.schema is not None and refused:
            return TargetResult(target, diagnostics=refused)
        try:
            done = apply(target.url, directory, target.settings(settings), dry_run=dry_run,
                         to_version=to_version, notify=lambda message: notify(target, message))
        except MigrationError as exc:
            return TargetResult(target, diagnostics=exc.diagnostics)
        except LockTimeout as exc:
            return TargetResult(target, locked=exc)
        return TargetResult(target, applied=done.applied,
                            pending=[p.file.name for p in done.planned])

    return run_many(items, one, jobs)


def status_many(targets: Sequence[Target | str], directory: Path, settings: Settings = Settings(),
                *, jobs: int = 4) -> list[StatusResult]:
    """What each target has applied and lacks (read only: no lock is taken)."""

    def one(target: Target) -> StatusResult:
        try:
            states, holder, diagnostics = status(target.url, directory, target.settings(settings))
        except MigrationError as exc:
            return StatusResult(target, diagnostics=exc.diagnostics)
        return StatusResult(target, states, holder, diagnostics)

    return run_many(as_targets(targets), one, jobs)


@dataclass(frozen=True)
class CheckResult:
    target: Target
    differences: tuple[str, ...] = ()
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(d.severity.value == "error" and d.code != "FSC513" for d in self.diagnostics)


def check_many(targets: Sequence[Target | str], schema_ref: str, db_dir: Path | None,
               directory: Path, *, shadow_url: str | None = None,
               history_schema: str = "fraisec_history", jobs: int = 4,
               tenant_directory: Path | None = None) -> list[CheckResult]:
    """Drift of each target. A database is compared with the schema, compiled into the shadow
    once. A tenant schema is compared with what the migrations make of it (see
    :mod:`fraisec.migrations.schema_drift`): the compiled schema names its own schema.
    Raises MigrationError when the schema itself has errors.

    ``tenant_directory`` (schema per tenant with a generated tenant part): tenant schemas are
    replayed from it over the shared history (``directory``), and a database target is the
    shared part alone: the tenant schemas of the run are left out of its comparison."""
    from fraisec.catalog.shadow import CatalogError
    from fraisec.migrations.drift import check_drift
    from fraisec.migrations.replay import database_catalog, desired_catalog
    from fraisec.migrations.schema_drift import replayed_schemas

    items = as_targets(targets)
    desired = None
    if any(t.schema is None for t in items):
        desired = desired_catalog(schema_ref, db_dir, shadow_url)
        if desired[0] is None:
            raise MigrationError(desired[1])
    tenants = [t for t in items if t.schema is not None]
    replayed, replay_problems, live = None, [], {}
    if tenants:
        base: list[tuple[str, str]] = []
        if tenant_directory is not None:
            from fraisec.migrations.replay import history_sources

            base, problems = history_sources(directory)
            if has_errors(problems):
                raise MigrationError(problems)
        try:
            replayed = replayed_schemas(tenant_directory or directory,
                                        {t.schema: t.settings(Settings()).search_path
                                         for t in tenants},
                                        {t.schema: t.role for t in tenants if t.role}, shadow_url,
                                        base)
        except CatalogError as exc:
            replay_problems = list(exc.diagnostics)
        urls = list(dict.fromkeys(t.url for t in tenants))

        def read(url: str):
            try:
                return database_catalog(url, history_schema)
            except CatalogError as exc:
                return exc

        live = dict(zip(urls, run_many(urls, read, jobs)))

    skip = {t.schema for t in tenants}

    def one(target: Target) -> CheckResult:
        if target.schema is not None:
            return _check_schema(target, replayed, replay_problems, live[target.url])
        if tenant_directory is not None:
            return _check_shared(target, desired, live.get(target.url), skip, history_schema)
        try:
            drift = check_drift(schema_ref, db_dir, directory, database=target.url,
                                shadow_url=shadow_url, history_schema=history_schema,
                                desired_state=desired)
        except (MigrationError, CatalogError) as exc:
            return CheckResult(target, diagnostics=list(exc.diagnostics))
        return CheckResult(target, drift.differences, list(drift.diagnostics))

    return run_many(items, one, jobs)


def _check_shared(target: Target, desired, live, skip: set[str], history_schema: str
                  ) -> CheckResult:
    """A database of tenant schemas: its shared part (every schema but the tenants') against
    the compiled shared part. The tenants are the run's and every schema with a history table
    of its own (``fraisec_history.<schema>``), selected or not."""
    from fraisec.catalog.shadow import CatalogError
    from fraisec.diagnostics import error
    from fraisec.diff import diff
    from fraisec.migrations.replay import database_catalog
    from fraisec.plan import plan as make_plan

    try:
        current = live if live is not None else database_catalog(target.url)
    except CatalogError as exc:
        return CheckResult(target, diagnostics=list(exc.diagnostics))
    if isinstance(current, Exception):
        return CheckResult(target, diagnostics=list(current.diagnostics))
    # the tenant schemas (a tenant database's public) are the tenant part's business
    try:
        skip = skip | _tenant_schemas(target.url, history_schema)
    except MigrationError as exc:
        return CheckResult(target, diagnostics=list(exc.diagnostics))
    current, wanted = current.without_schemas(skip), desired[0].without_schemas(skip)
    result = make_plan(diff(current, wanted), current, wanted)
    differences = tuple(f"{op.action} {op.kind} {op.key}" for op in result.ops if op.statements)
    found = list(result.diagnostics)
    if differences:
        found.append(error(
            "FSC513", f"the shared part of {target.display} and the schema differ in "
                      f"{len(differences)} place(s): " + "; ".join(differences[:5]),
            hint="Run `fraisec migrate apply` on it, or put the change in a shared migration."))
    return CheckResult(target, differences, found)


def _tenant_schemas(url: str, history_schema: str) -> set[str]:
    """The schemas with a history of their own in this database (every tenant schema)."""
    import psycopg

    from fraisec.catalog.shadow import connect_error

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r' "
                "AND c.relname <> 'migrations'", [history_schema]).fetchall()
    except psycopg.OperationalError as exc:
        raise MigrationError(connect_error(url, exc).diagnostics) from None
    return {name for (name,) in rows}


def _check_schema(target: Target, replayed, replay_problems: list[Diagnostic], live
                  ) -> CheckResult:
    from fraisec.diagnostics import error
    from fraisec.migrations.schema_drift import has_schema, schema_differences

    if replay_problems:
        return CheckResult(target, diagnostics=replay_problems)
    if isinstance(live, Exception):
        return CheckResult(target, diagnostics=list(live.diagnostics))
    if not has_schema(live, target.schema):
        return CheckResult(target, diagnostics=[error(
            "FSC537", f"schema {target.schema} does not exist in {target.display}",
            hint="Create the tenant first: `fraisec tenant create NAME`.")])
    differences, diagnostics = schema_differences(live, replayed, target.schema)
    if differences:
        diagnostics.append(error(
            "FSC513", f"tenant schema {target.schema} ({target.display}) and its migrations "
                      f"differ in {len(differences)} place{'s' if len(differences) != 1 else ''}: "
                      + "; ".join(differences[:5]) + (" …" if len(differences) > 5 else ""),
            hint="The tenant schema was changed outside its migrations (or a file is not applied "
                 "to it: `fraisec migrate status`). Put the change in a migration and apply it "
                 "to every tenant, or undo it in this schema."))
    return CheckResult(target, differences, diagnostics)
