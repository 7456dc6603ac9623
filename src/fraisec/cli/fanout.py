"""``migrate apply|status|check`` over several targets: the registry's tenants or repeated
``--database``. One line per target (a summary table), ``--format json`` for scripts, each
target's diagnostics after the table, and one exit code for the run:

* apply: 1 if any target failed, else 5 if any target's lock was not obtained, else 0;
* status: 1 if any target has an error (unreachable, an edited or missing file), else 0;
* check: 1 if any target could not be compared, else 3 if any differs, else 0.

URLs are printed redacted; the registry's passwords come from the environment and stay there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import typer

from fraisec.cli.console import Output, OutputFormat
from fraisec.cli.exit_codes import ExitCode
from fraisec.cli.report import report
from fraisec.migrations.fanout import Target

__all__ = ["split_targets", "apply_many_command", "check_many_command", "registry_path", "registry_targets",
           "status_many_command"]


def registry_path(out: Output, given: Path | None) -> Path:
    if given is not None:
        return given
    from fraisec.cli.common import project_or_exit

    return project_or_exit(out).tenants_path


def registry_targets(out: Output, given: Path | None, names: list[str], everything: bool
                     ) -> list[Target]:
    """The selected tenants as targets; any problem in the registry stops the run before a
    single target is touched (exit 1)."""
    from fraisec.migrations.registry import load_registry

    registry, problems = load_registry(registry_path(out, given))
    if registry is None:
        _fail(out, problems)
    tenants, problems = registry.select(names, everything)
    # Tenants sharing one target (strategy "shared": the same database) make one target, migrated
    # once, labelled with all their names.
    grouped: dict[tuple[str, str | None], tuple[list[str], tuple[str, ...], str | None]] = {}
    for tenant in tenants:
        resolved, found = registry.resolve(tenant)
        problems += found
        if resolved is not None:
            names_, _path, _role = grouped.setdefault((resolved.url, resolved.schema),
                                                      ([], resolved.search_path, resolved.role))
            names_.append(resolved.name)
    targets = [Target(url, ",".join(names_), schema, path, role)
               for (url, schema), (names_, path, role) in grouped.items()]
    if problems:
        _fail(out, problems)
    if not targets:
        out.status(f"{registry.path} lists no tenants: nothing to do")
    return targets


def _fail(out: Output, problems) -> None:
    report(out, problems)
    raise typer.Exit(ExitCode.ERRORS)


def _row(target: Target, ok: bool, state: str, diagnostics, **extra: Any) -> dict[str, Any]:
    from fraisec.catalog.shadow import redact

    return {"tenant": target.tenant, "database": redact(target.url), "schema": target.schema,
            "ok": ok, "state": state, **extra,
            "diagnostics": [d.to_data() for d in diagnostics]}


def _finish(out: Output, command: str, rows: list[dict[str, Any]], results) -> None:
    """The table (or JSON), then each failing target's diagnostics, then the summary line."""
    what = "targets" if any(row["schema"] for row in rows) else "databases"
    failed = sum(not row["ok"] for row in rows)
    if out.format is OutputFormat.json:  # the one envelope every command prints (docs/cli.md)
        from fraisec.cli.report import emit_json

        emit_json(out, ok=failed == 0, targets=rows,
                  summary={"targets": len(rows), "ok": len(rows) - failed, "failed": failed})
    else:
        labels = [_label(row) for row in rows]
        width = max((len(label) for label in labels), default=0)
        for row, label in zip(rows, labels):
            out.data(f"{'ok    ' if row['ok'] else 'FAILED'} {label:<{width}}  {row['state']}\n")
        for row, result in zip(rows, results):
            if result.diagnostics:
                out.status(f"{_label(row)}:")
                report(out, result.diagnostics)
    out.status(f"{command}: {len(rows) - failed} of {len(rows)} {what} ok")


def _label(row: dict[str, Any]) -> str:
    where = row["database"] + (f" schema {row['schema']}" if row["schema"] else "")
    return f"{row['tenant']} ({where})" if row["tenant"] else where


def split_targets(targets: Sequence[Target]) -> tuple[list[Target], list[Target]]:
    """Schema or database per tenant with a generated tenant part: each database once for the
    shared part (its own history, ``fraisec_history.migrations``), then each tenant for the
    tenant part (a tenant schema; a tenant database holds it in ``public``)."""
    import dataclasses

    shared: dict[str, list[str]] = {}
    tenant: list[Target] = []
    for t in targets:
        shared.setdefault(t.url, []).append(t.tenant or "")
        tenant.append(t if t.schema is not None else dataclasses.replace(
            t, schema="public", search_path=("public", "pg_temp")))
    return [Target(url, ",".join(n for n in names if n) + " (shared part)")
            for url, names in shared.items()], tenant


# -- apply -----------------------------------------------------------------------------------

def apply_many_command(out: Output, targets: Sequence[Target], mdir: Path, settings, jobs: int,
                       dry_run: bool, to_version: int | None, tenant_dir: Path | None = None
                       ) -> None:
    from fraisec.migrations.fanout import apply_many

    def run(targets: Sequence[Target], directory: Path) -> list:
        with out.progress(f"applying migrations to {len(targets)} targets"):
            return apply_many(targets, directory, settings, jobs=jobs, dry_run=dry_run,
                              to_version=to_version,
                              notify=lambda t, msg: out.detail(f"{t.label}: {msg}"))

    if tenant_dir is None:
        results = run(targets, mdir)
    else:  # the shared part of each database first: the tenant files refer to it
        shared, tenants = split_targets(targets)
        results = run(shared, mdir)
        ready = {r.target.url for r in results if r.ok}
        results += run([t for t in tenants if t.url in ready], tenant_dir)
    rows = []
    for r in results:
        if r.locked is not None:
            state = f"locked (gave up after {r.locked.seconds:g}s)"
        elif r.diagnostics:
            state = "failed: " + r.diagnostics[0].message.splitlines()[0]
        elif dry_run:
            state = (f"would apply {len(r.pending)}: " + ", ".join(r.pending)) if r.pending \
                else "up to date"
        else:
            state = f"applied {len(r.applied)}" + (": " + ", ".join(n for n, _ in r.applied)
                                                   if r.applied else " (up to date)")
        rows.append(_row(r.target, r.ok, state, r.diagnostics,
                         applied=[n for n, _ in r.applied], pending=r.pending,
                         locked=r.locked is not None))
    _finish(out, "migrate apply", rows, results)
    if any(r.diagnostics for r in results):
        raise typer.Exit(ExitCode.ERRORS)
    if any(not r.ok for r in results):
        raise typer.Exit(ExitCode.LOCKED)


# -- status ----------------------------------------------------------------------------------

def status_many_command(out: Output, targets: Sequence[Target], mdir: Path, settings,
                        jobs: int, tenant_dir: Path | None = None) -> None:
    from fraisec.migrations.fanout import status_many

    with out.progress(f"reading the history of {len(targets)} targets"):
        if tenant_dir is None:
            results = status_many(targets, mdir, settings, jobs=jobs)
        else:
            shared, tenants = split_targets(targets)
            results = (status_many(shared, mdir, settings, jobs=jobs)
                       + status_many(tenants, tenant_dir, settings, jobs=jobs))
    rows = []
    for r in results:
        errors = [d for d in r.diagnostics if d.severity.value == "error"]
        if errors and not r.states:
            state = "failed: " + errors[0].message.splitlines()[0]
        else:
            problems = sorted({s.state for s in r.states if s.state in ("edited", "missing")})
            pending = r.pending
            state = f"{r.applied} applied, " + (f"{len(pending)} pending: " + ", ".join(pending)
                                                  if pending else "up to date")
            if problems:
                state += f" ({', '.join(problems)} files)"
            if r.holder is not None:
                state += f"; lock held by {r.holder.describe()}"
        rows.append(_row(r.target, r.ok, state, r.diagnostics, pending=r.pending,
                         migrations=[{"version": s.version, "name": s.name, "state": s.state}
                                     for s in r.states],
                         lock_holder=r.holder.describe() if r.holder else None))
    _finish(out, "migrate status", rows, results)
    if not all(r.ok for r in results):
        raise typer.Exit(ExitCode.ERRORS)


# -- check -----------------------------------------------------------------------------------

def check_many_command(out: Output, targets: Sequence[Target], schema_ref: str, db_dir: Path,
                       mdir: Path, shadow_url: str | None, history_schema: str, jobs: int,
                       tenant_dir: Path | None = None) -> None:
    from fraisec.catalog.shadow import CatalogError
    from fraisec.migrations.apply import MigrationError
    from fraisec.migrations.fanout import check_many

    with out.progress(f"comparing {len(targets)} targets with the schema"):
        try:
            if tenant_dir is not None:
                shared, tenants = split_targets(targets)
                targets = [*shared, *tenants]
            results = check_many(targets, schema_ref, db_dir, mdir, shadow_url=shadow_url,
                                 history_schema=history_schema, jobs=jobs,
                                 tenant_directory=tenant_dir)
        except (MigrationError, CatalogError) as exc:  # the schema itself: nothing compared
            _fail(out, exc.diagnostics)
    rows = []
    for r in results:
        if r.failed:
            errors = [d for d in r.diagnostics if d.severity.value == "error"]
            state = "failed: " + errors[0].message.splitlines()[0]
        elif r.differences:
            state = f"differs in {len(r.differences)} place(s): " + "; ".join(r.differences[:3]) \
                + (" …" if len(r.differences) > 3 else "")
        else:
            state = "matches the schema"
        rows.append(_row(r.target, not r.failed and not r.differences, state, r.diagnostics,
                         differences=list(r.differences)))
    _finish(out, "migrate check", rows, results)
    if any(r.failed for r in results):
        raise typer.Exit(ExitCode.ERRORS)
    if any(r.differences for r in results):
        raise typer.Exit(ExitCode.CHANGES)
