"""``fraisec migrate …``: diff, create, apply, status, check, baseline, repair, hash
(and the FraiseQL names ``up``, ``generate``, ``validate``, hidden).

Exit codes: 0 ok, 1 errors (a failing file, a tampered directory, …), 3 drift (``check``),
4 destructive change refused without ``--unsafe`` (``diff``), 5 the migration lock was held by
another applier past ``--lock-timeout`` (``apply``, ``baseline``, ``repair``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from fraisec.cli.common import DirOpt, HistoryOpt, LockOpt, RegistryOpt, output, project_or_exit, schema_ref
from fraisec.cli.console import Output, OutputFormat
from fraisec.cli.exit_codes import ExitCode
from fraisec.cli.report import emit_json, report
from fraisec.diagnostics import error

migrate_app = typer.Typer(name="migrate", no_args_is_help=True,
                          help="Migration files: create, apply, inspect, verify.")


def register(app: typer.Typer) -> None:
    app.add_typer(migrate_app, name="migrate")


_DATABASE_HELP = ("Target database: a postgresql:// URL or a key/value string ('host=… dbname=…'); "
                  "also FRAISEC_DATABASE_URL.")
DatabaseOpt = Annotated[Optional[str], typer.Option(
    "--database", "-d", envvar="FRAISEC_DATABASE_URL", metavar="URL", help=_DATABASE_HELP)]
RequiredDatabaseOpt = Annotated[str, typer.Option(
    "--database", "-d", envvar="FRAISEC_DATABASE_URL", metavar="URL", help=_DATABASE_HELP)]
# Several --database: FRAISEC_DATABASE_URL is read by _targets, not by click, which would split
# a multiple option's variable on whitespace ("host=/tmp dbname=app" becoming two targets).
DatabasesOpt = Annotated[Optional[List[str]], typer.Option(
    "--database", "-d",
    help="Target database URL (postgresql://…); repeat it for several databases. Also "
         "FRAISEC_DATABASE_URL (one database).")]
TenantOpt = Annotated[Optional[List[str]], typer.Option(
    "--tenant", "-t", help="A tenant of the registry (tenants.toml); repeat it for several.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every tenant of the registry.")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1,
                                      help="Targets handled at once (with several targets).")]


def _directory(out: Output, given: Path | None) -> Path:
    return given if given is not None else project_or_exit(out).migrations_dir


def _tenant_dir(out: Output, given: Path | None) -> Path | None:
    """Schema or database per tenant: the tenant part's directory (None in the rls strategy,
    or when --dir names one directory for every target, as before)."""
    project = project_or_exit(out)
    return project.tenant_migrations_dir if project.split and given is None else None


def _settings(history_schema: str, lock_timeout: float, statement_lock_timeout: float | None = None,
              lock_retries: int = 3):
    from fraisec.migrations.apply import Settings

    return Settings(history_schema=history_schema, lock_timeout_s=lock_timeout,
                    statement_lock_timeout_s=statement_lock_timeout, lock_retries=lock_retries)


def _version(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    digits = text.split("_", 1)[0]
    if not digits.isdigit():
        raise typer.BadParameter(f"expected a migration version such as 0003, got {text!r}",
                                 param_hint=option)
    return int(digits)


def _run_guarded(out: Output, fn):
    """Run a migrations call; its errors become diagnostics and documented exit codes."""
    from fraisec.catalog.shadow import CatalogError
    from fraisec.migrations.apply import MigrationError
    from fraisec.migrations.lock import LockTimeout

    try:
        return fn()
    except (MigrationError, CatalogError) as exc:
        report(out, exc.diagnostics)
        raise typer.Exit(ExitCode.ERRORS) from None
    except LockTimeout as exc:
        who = exc.holder.describe() if exc.holder else "another session (it has since let go)"
        report(out, [error("FSC508", f"the migration lock is held by {who}; gave up after "
                                     f"{exc.seconds:g}s", hint="Another `fraisec migrate apply` is "
                                     "running. Wait for it, or raise --lock-timeout.")])
        raise typer.Exit(ExitCode.LOCKED) from None


ShadowOpt = Annotated[Optional[str], typer.Option(
    "--shadow-url", help="Server for scratch databases (default: fraisec's embedded PostgreSQL).")]
SchemaOpt = Annotated[Optional[str], typer.Option(
    "--schema", help="Schema module (default: from fraisec.toml, else schema.py).")]


def _schema_and_db(out: Output, schema: str | None) -> tuple[str, Path]:
    project = project_or_exit(out)
    return schema_ref(schema, project), project.db_dir


def _targets(out: Output, database: list[str] | None, tenants: list[str] | None,
             everything: bool, registry: Path | None):
    """The targets of a fan-out, or None for one database (or none) as before: several
    --database, or tenants of the registry (--tenant/--all), never both."""
    if tenants or everything:
        # FRAISEC_DATABASE_URL set in the environment does not conflict with a tenant selection;
        # --database on the command line does
        if database:
            raise typer.BadParameter("give databases (--database) or tenants (--tenant, --all), "
                                     "not both", param_hint="--tenant")
        from fraisec.cli.fanout import registry_targets

        return registry_targets(out, registry, tenants or [], everything)
    if database and len(database) > 1:
        from fraisec.migrations.fanout import Target

        return [Target(url) for url in dict.fromkeys(database)]
    return None


def _one_database(database: list[str] | None) -> str | None:
    """Without a fan-out: the --database given, else FRAISEC_DATABASE_URL, else None."""
    return database[0] if database else (os.environ.get("FRAISEC_DATABASE_URL") or None)


# -- diff ----------------------------------------------------------------------------------------

@migrate_app.command("diff")
def diff_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the migration does, e.g. add_status.")],
    database: DatabaseOpt = None,
    unsafe: Annotated[bool, typer.Option("--unsafe", help="Allow destructive steps (drops, "
                                         "narrowing type changes); they are marked in the file.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the file; write nothing.")] = False,
    verify: Annotated[bool, typer.Option(
        "--verify/--no-verify", help="Replay the history with the new file and check that it "
        "equals the schema (FSC518 otherwise).")] = True,
    backfill: Annotated[Optional[bool], typer.Option(
        "--backfill/--no-backfill", help="A NOT NULL column without a default added to an "
        "existing table: add it nullable, then a backfill you write, then SET NOT NULL (default: "
        "when the table has rows in --database).")] = None,
    online: Annotated[bool, typer.Option(
        "--online/--no-online", help="Online forms on tables that exist: CHECK/FOREIGN KEY "
        "NOT VALID then VALIDATE, UNIQUE/PRIMARY KEY through a unique index built "
        "CONCURRENTLY, SET NOT NULL through a validated check (docs/migrations.md).")] = True,
    # int, no min: a plain value Typer passes through without loading pydantic (cli/__init__.py)
    lock_timeout: Annotated[int, typer.Option(
        "--lock-timeout", help="With the online forms: seconds each statement of the file "
        "may wait for a table lock (SET lock_timeout at its top); 0: no limit.")] = 5,
    schema: SchemaOpt = None,
    directory: DirOpt = None,
    shadow_url: ShadowOpt = None,
    history_schema: HistoryOpt = "fraisec_history",
) -> None:
    """Write migrations/NNNN_NAME.sql taking the history (or --database) to the schema."""
    from fraisec.migrations.generate import migration_diff

    out = output(ctx)
    mdir = _directory(out, directory)
    ref, db_dir = _schema_and_db(out, schema)
    with out.progress("building the shadow databases and replaying the history"):
        outcome = _run_guarded(out, lambda: migration_diff(
            name, ref, db_dir, mdir, database=database, shadow_url=shadow_url, unsafe=unsafe,
            history_schema=history_schema, write=not dry_run, verify=verify,
            part=_part(out, mdir), backfill=backfill, online=online, lock_timeout_s=max(lock_timeout, 0)))
    if out.format is not OutputFormat.json and outcome.diagnostics:
        report(out, outcome.diagnostics)
    project = project_or_exit(out)
    tenant = other = None
    # a split strategy's other parts, unless --dir names one directory for every target
    parts_too = project.strategy != "rls" and outcome.refused is None and directory is None
    schema = _run_guarded(out, lambda: _loaded(ref)) if parts_too else None
    if parts_too and project.split:
        # schema per tenant: the tenant part has its own directory and histories
        from fraisec.migrations.tenant_diff import tenant_part_diff

        with out.progress("building the tenant part in a scratch tenant schema"):
            tenant = _run_guarded(out, lambda: tenant_part_diff(
                name, schema, ref, db_dir, project.strategy, project.tenant_migrations_dir,
                shadow_url=shadow_url, unsafe=unsafe, write=not dry_run, verify=verify))
    if parts_too and project.strategy == "database" and _has_shared_database(schema):
        # database per tenant with a shared database: its entities have their own directory
        with out.progress("building the shared database's part"):
            other = _run_guarded(out, lambda: migration_diff(
                name, ref, db_dir, project.shared_database_dir, shadow_url=shadow_url,
                unsafe=unsafe, write=not dry_run, verify=verify, part="shared_database"))
    parts = [(label, o) for label, o in (("tenant", tenant), ("shared_database", other))
             if o is not None]
    if out.format is OutputFormat.json:
        _diff_json(out, outcome, parts)
    else:
        for _label, o in parts:
            report(out, o.diagnostics)
    label = ("the shared part" if tenant is not None
             else "the tenant databases" if other is not None else None)
    refused = [o for o in (outcome, *(o for _, o in parts)) if o.refused is not None]
    for o, what in ((outcome, label), (tenant, "the tenant part"), (other, "the shared database")):
        if o is not None and o.refused is None:
            _finish_diff(out, o, what, dry_run)
    if refused:
        if out.format is not OutputFormat.json:
            report(out, [o.refused for o in refused])
        raise typer.Exit(ExitCode.DESTRUCTIVE)


def _diff_json(out: Output, outcome, parts: list) -> None:
    """One JSON document on stdout: the plan, the file and every diagnostic; with a split
    strategy, each other part's file and SQL under ``parts``."""
    data = {**outcome.plan.to_data(),
            "file": str(outcome.path) if outcome.path else None,
            "renames": [r.statement() for r in outcome.renames], "sql": outcome.text}
    data.pop("diagnostics", None)
    diagnostics = [*outcome.diagnostics, *([outcome.refused] if outcome.refused else [])]
    if parts:
        data["parts"] = {label: {"file": str(o.path) if o.path else None, "sql": o.text}
                         for label, o in parts}
        for _label, o in parts:
            diagnostics += [*o.diagnostics, *([o.refused] if o.refused else [])]
    emit_json(out, diagnostics, **data)


def _loaded(ref: str):
    """The schema module's IR, once for the other parts of a split strategy."""
    from fraisec.api import load_ir
    from fraisec.diagnostics import has_errors
    from fraisec.migrations.apply import MigrationError

    schema, diagnostics = load_ir(ref)
    if schema is None or has_errors(diagnostics):
        raise MigrationError(diagnostics)
    return schema


def _has_shared_database(schema) -> bool:
    from fraisec.render.strategy import shared_database_entities

    return bool(shared_database_entities(schema))


def _part(out: Output, mdir: Path) -> str | None:
    """The shared database's directory (database per tenant) is compared with its own part."""
    project = project_or_exit(out)
    if project.strategy == "database" and mdir.resolve() == project.shared_database_dir.resolve():
        return "shared_database"
    return None


def _finish_diff(out: Output, outcome, part: str | None, dry_run: bool) -> None:
    """The status line (or the file, with --dry-run) of one part that was not refused."""
    of = f", {part}" if part else ""
    if not outcome.changed:
        out.status(f"migrate diff: no changes{' to ' + part if part else ''}, no file written")
        return
    if dry_run:
        if out.format is not OutputFormat.json:
            out.data(outcome.text or "")
        return
    renames = getattr(outcome, "renames", [])
    for r in renames:
        out.status(f"rename {r.describe()}")
    from fraisec.migrations.files import read_header

    count = (sum(len(op.statements) for op in outcome.plan.ops) + len(renames)
             + getattr(outcome, "seed_statements", 0))
    safety = read_header(outcome.text or "").get("safety", "unknown")
    out.status(f"wrote {outcome.path} ({count} statement(s), safety: {safety}{of}) "
               "and updated fraisec.sum")


# -- check ---------------------------------------------------------------------------------------

@migrate_app.command("check")
def check_command(
    ctx: typer.Context,
    database: DatabasesOpt = None,
    schema: SchemaOpt = None,
    directory: DirOpt = None,
    shadow_url: ShadowOpt = None,
    history_schema: HistoryOpt = "fraisec_history",
    tenant: TenantOpt = None,
    all_tenants: AllOpt = False,
    registry: RegistryOpt = None,
    jobs: JobsOpt = 4,
) -> None:
    """Exit 3 when the database (or, without --database, the replayed history) differs from
    the schema, listing the differences. With several targets: one line each."""
    from fraisec.migrations.drift import check_drift

    out = output(ctx)
    mdir = _directory(out, directory)
    ref, db_dir = _schema_and_db(out, schema)
    targets = _targets(out, database, tenant, all_tenants, registry)
    if targets is not None:
        from fraisec.cli.fanout import check_many_command

        check_many_command(out, targets, ref, db_dir, mdir, shadow_url, history_schema, jobs,
                           _tenant_dir(out, directory))
        return
    database = _one_database(database)
    with out.progress("comparing with the schema"):
        drift = _run_guarded(out, lambda: check_drift(ref, db_dir, mdir, database=database,
                                                      shadow_url=shadow_url,
                                                      history_schema=history_schema,
                                                      part=_part(out, mdir)))
    finish_drift(out, drift, "the database matches" if database else "the migrations match")


def finish_drift(out: Output, drift, what: str) -> None:
    """Shared by `migrate check` and `fraisec check`: differences on stdout, exit 1 or 3."""
    if out.format is OutputFormat.json:
        emit_json(out, drift.diagnostics, ok=drift.clean and not any(
            d.severity.value == "error" for d in drift.diagnostics),
            differences=list(drift.differences))
    else:
        if out.format is OutputFormat.rich:
            for line in drift.differences:
                out.data(f"{line}\n")
        report(out, list(drift.diagnostics))
    if any(d.severity.value == "error" and d.code != "FSC513" for d in drift.diagnostics):
        raise typer.Exit(ExitCode.ERRORS)
    if not drift.clean:
        raise typer.Exit(ExitCode.CHANGES)
    out.status(f"{what} the schema")


# -- apply ---------------------------------------------------------------------------------------

@migrate_app.command("apply")
def apply_command(
    ctx: typer.Context,
    database: Annotated[Optional[List[str]], typer.Option(
        "--database", "-d",
        help="Target database URL (postgresql://…); repeat it to apply to several databases "
             "(database per tenant). Also FRAISEC_DATABASE_URL (one database).")] = None,
    directory: DirOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    to: Annotated[Optional[str], typer.Option("--to", help="Stop after this version.")] = None,
    history_schema: HistoryOpt = "fraisec_history",
    lock_timeout: LockOpt = 60.0,
    statement_lock_timeout: Annotated[Optional[float], typer.Option(
        "--statement-lock-timeout", help="Seconds each statement may wait for a table lock "
        "(PostgreSQL lock_timeout) before its file fails and rolls back; default: no limit.")] = None,
    lock_retries: Annotated[int, typer.Option(
        "--lock-retries", help="Times a part of a file that hit a lock timeout is run "
        "again (after 1 s, 2 s, 4 s…) before the file fails.")] = 3,
    jobs: JobsOpt = 4,
    tenant: TenantOpt = None,
    all_tenants: AllOpt = False,
    registry: RegistryOpt = None,
) -> None:
    """Apply pending migrations in order, each in its own transaction, under an advisory lock
    (to one database, several, or the tenants of the registry)."""
    from fraisec.migrations.apply import apply

    out = output(ctx)
    mdir = _directory(out, directory)
    settings = _settings(history_schema, lock_timeout, statement_lock_timeout, max(lock_retries, 0))
    to_version = _version(to, "--to")
    targets = _targets(out, database, tenant, all_tenants, registry)
    if targets is not None:
        from fraisec.cli.fanout import apply_many_command

        apply_many_command(out, targets, mdir, settings, jobs, dry_run, to_version,
                           _tenant_dir(out, directory))
        return
    url = _one_database(database)
    if url is None:
        raise typer.BadParameter("give --database URL (or FRAISEC_DATABASE_URL), or --tenant "
                                 "NAME / --all with a tenant registry", param_hint="--database")
    applied: list[str] = []
    spinner = None

    def starting(name: str) -> None:
        if spinner is not None:  # on a terminal: which file is running now
            spinner.update(f"applying {name}")
        kept = ("" if not applied else f"; {applied[0]}, applied before it, stays applied"
                if len(applied) == 1 else
                f"; the {len(applied)} files applied before it (up to {applied[-1]}) stay applied")
        out.on_interrupt = (f"{name} was rolled back{kept}; run `fraisec migrate apply` again "
                            "to continue")
        applied.append(name)

    out.on_interrupt = "no migration had started; nothing was changed"
    with out.progress("applying migrations") as spinner:
        result = _run_guarded(out, lambda: apply(url, mdir, settings, dry_run=dry_run,
                                                  to_version=to_version, notify=out.status,
                                                  starting=starting))
    if dry_run:
        _print_plan(out, result.planned)
        return
    if out.json:
        emit_json(out, applied=[{"file": name, "ms": ms} for name, ms in result.applied])
        return
    if not result.applied:
        out.status("migrate apply: nothing to apply, the database is up to date")
    else:
        total = sum(ms for _, ms in result.applied)
        out.status(f"migrate apply: applied {len(result.applied)} file"
                   f"{'s' if len(result.applied) != 1 else ''} in {total} ms")


def _print_plan(out: Output, planned) -> None:
    from fraisec.migrations.apply import iter_statements

    if out.format is OutputFormat.json:
        emit_json(out, plan=[{
            "file": p.file.name, "version": p.file.version, "safety": p.safety,
            "resume_from_segment": p.resume_from,
            "statements": [{"transactional": tx, "sql": text} for tx, text in iter_statements(p)],
        } for p in planned])
        return
    if not planned:
        out.status("migrate apply --dry-run: nothing to apply")
        return
    for p in planned:
        extra = f", {p.outside_transaction} statement(s) outside a transaction" \
            if p.outside_transaction else ""
        resumed = f", resuming at segment {p.resume_from + 1}" if p.resume_from else ""
        out.data(f"-- would apply {p.file.name} (safety: {p.safety}{extra}{resumed})\n")
        if out.verbosity > 0:
            for tx, text in iter_statements(p):
                out.data(("" if tx else "-- outside a transaction:\n") + text + ";\n")
    out.status(f"migrate apply --dry-run: {len(planned)} file{'s' if len(planned) != 1 else ''} "
               "would be applied")


# -- status --------------------------------------------------------------------------------------

@migrate_app.command("status")
def status_command(
    ctx: typer.Context,
    database: DatabasesOpt = None,
    directory: DirOpt = None,
    history_schema: HistoryOpt = "fraisec_history",
    tenant: TenantOpt = None,
    all_tenants: AllOpt = False,
    registry: RegistryOpt = None,
    jobs: JobsOpt = 4,
) -> None:
    """What is applied, pending, partially applied, edited or missing (without --database:
    the files and whether fraisec.sum is intact). With several targets: one line each."""
    from fraisec.migrations.apply import FileState, load_directory, status

    out = output(ctx)
    mdir = _directory(out, directory)
    targets = _targets(out, database, tenant, all_tenants, registry)
    if targets is not None:
        from fraisec.cli.fanout import status_many_command

        status_many_command(out, targets, mdir, _settings(history_schema, 0), jobs,
                            _tenant_dir(out, directory))
        return
    database = _one_database(database)
    if database is None:
        files, _parsed, diagnostics = load_directory(mdir)
        states = [FileState(f.version, f.name, "unknown") for f in files]
        holder = None
    else:
        states, holder, diagnostics = _run_guarded(
            out, lambda: status(database, mdir, _settings(history_schema, 0)))
    sum_state, marks = _sum_marks(mdir, diagnostics)
    if out.format is OutputFormat.json:
        emit_json(out, diagnostics,
                  migrations=[{"version": s.version, "name": s.name, "state": s.state,
                               "applied_at": s.row.applied_at.isoformat() if s.row else None,
                               "applied_by": s.row.applied_by if s.row else None,
                               "sum": marks.get(s.name, "ok")}
                              for s in states],
                  lock_holder=holder.describe() if holder else None, sum=sum_state)
    else:
        width = max((len(s.name) for s in states), default=0)
        for s in states:
            when = f"  {s.row.applied_at:%Y-%m-%d %H:%M:%S} by {s.row.applied_by}" if s.row else ""
            mark = _MARK.get(marks.get(s.name, "ok"), "")
            out.data(f"{s.state:<9} {s.name:<{width}}{when}{mark}".rstrip() + "\n")
        out.status({"intact": "fraisec.sum: intact (every file matches its checksum)",
                    "missing": "fraisec.sum: missing (run `fraisec migrate hash`)",
                    "damaged": "fraisec.sum: NOT intact (see below)"}[sum_state]
                   if sum_state != "none" else "fraisec.sum: none (no migrations yet)")
        if holder:
            out.status(f"the migration lock is held by {holder.describe()}")
        if database is None:
            out.status(f"migrate status: {len(states)} file{'s' if len(states) != 1 else ''}; "
                       "pass --database to compare with a database's history")
        else:
            pending = sum(s.state in ("pending", "partial") for s in states)
            out.status(f"migrate status: {len(states) - pending} applied, {pending} pending")
        report(out, diagnostics)
    if any(d.severity.value == "error" for d in diagnostics):
        raise typer.Exit(ExitCode.ERRORS)


_MARK = {"changed": "  * edited since fraisec.sum was written",
         "unrecorded": "  * not in fraisec.sum"}


def _sum_marks(mdir: Path, diagnostics) -> tuple[str, dict[str, str]]:
    """Whether fraisec.sum is intact ("intact", "damaged", "missing", "none") and, per file
    that differs from it, "changed" or "unrecorded"."""
    from fraisec.migrations.checksum import SUM_NAME, file_checksum, read_sum
    from fraisec.migrations.files import discover

    path = mdir / SUM_NAME
    files, _ = discover(mdir) if mdir.is_dir() else ([], [])
    if not path.is_file():
        return ("missing" if files else "none"), {}
    parsed, _problems = read_sum(path)
    recorded = dict(parsed.entries) if parsed else {}
    marks = {f.name: "unrecorded" if f.name not in recorded else "changed"
             for f in files if recorded.get(f.name) != file_checksum(f.text)} if parsed else {}
    damaged = any(d.code in ("FSC502", "FSC503", "FSC504") for d in diagnostics)
    return ("damaged" if damaged or marks or parsed is None else "intact"), marks


# -- baseline, repair, hash ----------------------------------------------------------------------

@migrate_app.command("baseline")
def baseline_command(
    ctx: typer.Context,
    database: RequiredDatabaseOpt,
    version: Annotated[Optional[str], typer.Option(
        "--version", help="Adopt files up to this version (default: all).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Adopt even when the database differs from what the files produce.")] = False,
    directory: DirOpt = None,
    shadow_url: ShadowOpt = None,
    history_schema: HistoryOpt = "fraisec_history",
    lock_timeout: LockOpt = 60.0,
) -> None:
    """Adopt an existing database: record migrations as applied without running them.

    First the files are replayed into the shadow and compared with the database: adopting
    files whose schema the database does not have is refused (FSC517) unless --force.
    """
    from fraisec.migrations.apply import baseline
    from fraisec.migrations.drift import adoption_differences

    out = output(ctx)
    mdir = _directory(out, directory)
    upto = _version(version, "--version")
    if not force:
        with out.progress("replaying the migrations to compare with the database"):
            differences = _run_guarded(out, lambda: adoption_differences(
                database, mdir, upto, shadow_url=shadow_url, history_schema=history_schema))
        if differences:
            for line in differences:
                out.data(f"{line}\n")
            report(out, [error(
                "FSC517", f"the database is not what the migrations produce ({len(differences)} "
                          "difference(s)): " + "; ".join(differences[:5])
                          + (" …" if len(differences) > 5 else ""),
                hint="Baseline up to an earlier --version, or apply the missing changes first. "
                     "--force adopts anyway.")])
            raise typer.Exit(ExitCode.ERRORS)
    chosen = _run_guarded(out, lambda: baseline(database, mdir, _settings(history_schema, lock_timeout),
                                                upto))
    for f in chosen:
        out.status(f"baseline {f.name}")
    out.status(f"migrate baseline: recorded {len(chosen)} file{'s' if len(chosen) != 1 else ''} "
               "as applied (not run)")


@migrate_app.command("repair")
def repair_command(
    ctx: typer.Context,
    database: RequiredDatabaseOpt,
    directory: DirOpt = None,
    history_schema: HistoryOpt = "fraisec_history",
    lock_timeout: LockOpt = 60.0,
) -> None:
    """Accept edits to applied files: re-record their checksums (their SQL is not run again)."""
    from fraisec.migrations.apply import repair

    out = output(ctx)
    mdir = _directory(out, directory)
    names = _run_guarded(out, lambda: repair(database, mdir, _settings(history_schema, lock_timeout)))
    for name in names:
        out.status(f"repaired {name}: its new checksum is recorded")
    out.status(f"migrate repair: {len(names)} file{'s' if len(names) != 1 else ''} repaired")


@migrate_app.command("create")
def create_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the migration does, e.g. backfill_slugs.")],
    directory: DirOpt = None,
) -> None:
    """Start an empty hand-written migration (a data backfill, say) with the next number."""
    from fraisec.migrations.checksum import write_sum
    from fraisec.migrations.files import discover, file_name, next_version, slugify

    out = output(ctx)
    mdir = _directory(out, directory)
    files, diagnostics = discover(mdir)
    if diagnostics:
        report(out, diagnostics)
        raise typer.Exit(ExitCode.ERRORS)
    fname = file_name(next_version(files), slugify(name))
    text = (f"-- fraisec migration {fname[:-4]}\n-- generator: hand-written\n-- safety: unknown\n"
            "--\n-- Statements between BEGIN and COMMIT run in one transaction with the history "
            "row;\n-- put what cannot run in a transaction (CREATE INDEX CONCURRENTLY) after "
            "COMMIT.\n-- After editing, run `fraisec migrate hash`.\n\nBEGIN;\n\nCOMMIT;\n")
    mdir.mkdir(parents=True, exist_ok=True)
    (mdir / fname).write_text(text, encoding="utf-8")
    write_sum(mdir, [(f.name, f.text) for f in files] + [(fname, text)])
    out.status(f"wrote {mdir / fname}; edit it, then run `fraisec migrate hash`")


@migrate_app.command("hash")
def hash_command(ctx: typer.Context, directory: DirOpt = None) -> None:
    """Rewrite migrations/fraisec.sum from the files (after editing an unapplied migration)."""
    from fraisec.migrations.checksum import write_sum
    from fraisec.migrations.files import discover

    out = output(ctx)
    mdir = _directory(out, directory)
    files, diagnostics = discover(mdir)
    if diagnostics:
        report(out, diagnostics)
        raise typer.Exit(ExitCode.ERRORS)
    mdir.mkdir(parents=True, exist_ok=True)
    path = write_sum(mdir, [(f.name, f.text) for f in files])
    out.status(f"wrote {path} ({len(files)} file{'s' if len(files) != 1 else ''})")


# The names FraiseQL users know from `fraiseql migrate …` (confiture): same commands, hidden.
migrate_app.command("up", hidden=True)(apply_command)
migrate_app.command("generate", hidden=True)(diff_command)
migrate_app.command("validate", hidden=True)(check_command)


@migrate_app.command("down", hidden=True, context_settings={"ignore_unknown_options": True,
                                                            "allow_extra_args": True})
def down_command(ctx: typer.Context) -> None:
    """`fraiseql migrate down`: fraisec migrations are forward-only; say what to do instead."""
    output(ctx).status(
        "fraisec migrations are forward-only: to undo a change, change the schema back and run "
        "`fraisec migrate diff NAME` (it writes the migration that undoes it), then "
        "`fraisec migrate apply`.")
    raise typer.Exit(ExitCode.USAGE)
