"""``fraisec tenant …``: the tenant registry (tenants.toml). ``create`` provisions a tenant
(database or schema, every migration, the registry entry) and is safe to rerun; ``list`` shows
the registry. Exit codes: 0 ok, 1 errors, 5 the tenant's migration lock was not obtained.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from fraisec.cli.common import DirOpt, HistoryOpt, LockOpt, RegistryOpt, output
from fraisec.cli.console import Output, OutputFormat
from fraisec.cli.exit_codes import ExitCode
from fraisec.cli.report import report
from fraisec.diagnostics import error

tenant_app = typer.Typer(name="tenant", no_args_is_help=True,
                         help="Tenants: the registry (tenants.toml) and provisioning.")


def register(app: typer.Typer) -> None:
    app.add_typer(tenant_app, name="tenant")


def _fail(out: Output, problems) -> None:
    report(out, problems)
    raise typer.Exit(ExitCode.ERRORS)


@tenant_app.command("create")
def create_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The tenant's name: lowercase letters, digits, _.")],
    strategy: Annotated[Optional[str], typer.Option(
        "--strategy", help="database (a database per tenant, the default), schema (a schema "
                           "per tenant) or shared (the shared tables of --database-name).")] = None,
    server: Annotated[Optional[str], typer.Option(
        "--server", help="A [servers.NAME] of the registry.")] = None,
    url: Annotated[Optional[str], typer.Option(
        "--url", help="The tenant's URL (or template: {name}, {database}, {schema}); no "
                      "password: use --password-env.")] = None,
    database: Annotated[Optional[str], typer.Option(
        "--database-name", help="The database (default: tenant_NAME; schema per tenant: the "
                                "database holding the schemas).")] = None,
    schema: Annotated[Optional[str], typer.Option(
        "--schema-name", help="Schema per tenant: the schema (default: tenant_NAME).")] = None,
    password_env: Annotated[Optional[str], typer.Option(
        "--password-env", help="The environment variable holding the password.")] = None,
    admin_url: Annotated[Optional[str], typer.Option(
        "--admin-url", envvar="FRAISEC_ADMIN_URL",
        help="Connection for CREATE DATABASE, for this run only (never recorded). Default: the "
             "server's admin_url, else the tenant's URL on database postgres.")] = None,
    registry: RegistryOpt = None,
    directory: DirOpt = None,
    history_schema: HistoryOpt = "fraisec_history",
    lock_timeout: LockOpt = 60.0,
) -> None:
    """Create the tenant's database (or schema), apply every migration, record it in the
    registry. Safe to rerun: it finishes what a failed run left undone."""
    from dataclasses import replace

    from fraisec.catalog.shadow import redact
    from fraisec.cli.fanout import registry_path
    from fraisec.cli.migrate import _directory, _settings, _tenant_dir
    from fraisec.migrations.provision import provision
    from fraisec.migrations.registry import Registry, append_tenant, load_registry, valid_name

    out = output(ctx)
    if not valid_name(name):
        raise typer.BadParameter("1-48 characters: a lowercase letter, then lowercase letters, "
                                 "digits or _", param_hint="NAME")
    path = registry_path(out, registry)
    mdir = _directory(out, directory)
    reg, problems = load_registry(path) if path.exists() else (Registry(path), [])
    if reg is None:
        _fail(out, problems)
    given = {k: v for k, v in (("strategy", strategy), ("server", server), ("url", url),
                               ("password_env", password_env), ("database", database),
                               ("schema", schema)) if v is not None}
    existing = reg.get(name)
    if existing is not None:
        differ = [k for k, v in given.items() if getattr(existing, k) != v]
        if differ:
            _fail(out, [error("FSC535", f"tenant {name} is already in {path} with another "
                                        f"{', '.join(differ)}",
                              hint="Rerun without those options to finish or check it, or edit "
                                   "the registry entry by hand.")])
        tenant = existing
    else:
        found = reg.check_new({"name": name, **given})
        if found:
            _fail(out, found)
        tenant = reg.entry({"name": name, **given})
    resolved, problems = reg.resolve(tenant)
    if resolved is None:
        _fail(out, problems)
    if admin_url:
        resolved = replace(resolved, admin_url=admin_url, admin_problems=())
    if resolved.strategy != "schema" and resolved.admin_problems:
        _fail(out, list(resolved.admin_problems))
    where = f"schema {resolved.schema} in {redact(resolved.url)}" if resolved.schema \
        else f"database {resolved.database} on {redact(resolved.admin_url)}"
    with out.progress(f"provisioning tenant {name}"):
        done = provision(resolved, mdir, _settings(history_schema, lock_timeout),
                         _tenant_dir(out, directory))
    recorded = False
    if done.ok and existing is None:
        recorded = append_tenant(path, {"name": name, **given})
    applied = [n for n, _ in done.result.applied] if done.result else []
    diagnostics = done.diagnostics + (done.result.diagnostics if done.result else [])
    locked = done.result is not None and done.result.locked is not None
    if locked:
        diagnostics.append(error(
            "FSC508", f"tenant {name}: the migration lock is held; gave up after "
                      f"{done.result.locked.seconds:g}s",
            hint="Another applier is migrating this tenant: wait, then rerun."))
    if out.format is OutputFormat.json:
        out.data(json.dumps({
            "tenant": name, "strategy": resolved.strategy, "database": redact(resolved.url),
            "schema": resolved.schema, "created": done.created, "applied": applied,
            "recorded": recorded, "ok": done.ok,
            "diagnostics": [d.to_data() for d in diagnostics]}, indent=2) + "\n")
    else:
        if not done.diagnostics:  # the database or schema is there
            out.status(f"{'created' if done.created else 'kept existing'} {where}")
        if done.result is not None and done.result.ok:
            out.status(f"applied {len(applied)} migration{'s' if len(applied) != 1 else ''}"
                       + (": " + ", ".join(applied) if applied else " (up to date)"))
        report(out, diagnostics)
    if locked:
        raise typer.Exit(ExitCode.LOCKED)
    if not done.ok:
        out.status(f"tenant create {name}: not finished; fix the error above and run the same "
                   "command again (what is done is kept)")
        raise typer.Exit(ExitCode.ERRORS)
    out.status(f"tenant create {name}: " + (f"recorded in {path}" if recorded
                                            else f"already in {path}"))


@tenant_app.command("list")
def list_command(ctx: typer.Context, registry: RegistryOpt = None) -> None:
    """The tenants of the registry: name, strategy, and where they live (redacted)."""
    from fraisec.catalog.shadow import redact
    from fraisec.cli.fanout import registry_path
    from fraisec.migrations.registry import load_registry

    out = output(ctx)
    reg, problems = load_registry(registry_path(out, registry))
    if reg is None:
        _fail(out, problems)
    rows = []
    for tenant in reg.tenants:
        resolved, found = reg.resolve(tenant)
        where = (redact(resolved.url) + (f" schema {resolved.schema}" if resolved.schema else "")
                 if resolved else f"unresolved: {found[0].message}")
        rows.append({"tenant": tenant.name, "strategy": tenant.strategy, "target": where})
    if out.format is OutputFormat.json:
        out.data(json.dumps({"tenants": rows}, indent=2) + "\n")
        return
    width = max((len(r["tenant"]) for r in rows), default=0)
    for r in rows:
        out.data(f"{r['tenant']:<{width}}  {r['strategy']:<8}  {r['target']}\n")
    out.status(f"tenant list: {len(rows)} tenant{'s' if len(rows) != 1 else ''} in {reg.path}")


@tenant_app.command("move")
def move_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A tenant of the registry.")],
    server: Annotated[Optional[str], typer.Option(
        "--server", help="The destination server ([servers.NAME]).")] = None,
    url: Annotated[Optional[str], typer.Option(
        "--url", help="The destination URL (or template), instead of --server.")] = None,
    database: Annotated[Optional[str], typer.Option(
        "--database-name", help="The destination database (default: tenant_NAME).")] = None,
    password_env: Annotated[Optional[str], typer.Option(
        "--password-env", help="The environment variable holding the destination's "
                               "password.")] = None,
    admin_url: Annotated[Optional[str], typer.Option(
        "--admin-url", envvar="FRAISEC_ADMIN_URL",
        help="A superuser connection to the destination server, for CREATE DATABASE and the "
             "copy (this run only, never recorded).")] = None,
    registry: RegistryOpt = None,
    directory: DirOpt = None,
    history_schema: HistoryOpt = "fraisec_history",
) -> None:
    """Move a tenant (its schema, or its database) to a database of its own: provision it,
    copy every table in one transaction, compare the row counts, then point the registry at it.
    The source is left as it was. Stop the tenant's writes first."""
    from dataclasses import replace

    from fraisec.catalog.shadow import redact
    from fraisec.cli.fanout import registry_path
    from fraisec.cli.migrate import _directory, _settings, _tenant_dir
    from fraisec.migrations.move import copy_tenant
    from fraisec.migrations.provision import provision
    from fraisec.migrations.registry import load_registry, replace_tenant, with_database

    out = output(ctx)
    if server is None and url is None:
        raise typer.BadParameter("give the destination: --server NAME or --url URL",
                                 param_hint="--server")
    path = registry_path(out, registry)
    mdir = _directory(out, directory)
    reg, problems = load_registry(path)
    if reg is None:
        _fail(out, problems)
    chosen, problems = reg.select([name], False)
    if problems:
        _fail(out, problems)
    source, problems = reg.resolve(chosen[0])
    if source is None:
        _fail(out, problems)
    if source.strategy == "shared":
        _fail(out, [error("FSC538", f"tenant move: {name} lives in shared tables; its rows are "
                                    "not a set of tables fraisec can copy",
                          hint="Copy its rows by hand (docs/tenancy.md, Moving a tenant).")])
    values = {k: v for k, v in (("strategy", "database"), ("server", server), ("url", url),
                                ("password_env", password_env), ("database", database))
              if v is not None}
    others = replace(reg, tenants=tuple(t for t in reg.tenants if t.name != name))
    problems = others.check_new({"name": name, **values})
    if problems:
        _fail(out, problems)
    target, problems = others.resolve(others.entry({"name": name, **values}))
    if target is None:
        _fail(out, problems)
    if admin_url:
        target = replace(target, admin_url=admin_url, admin_problems=())
    if target.admin_problems:
        _fail(out, list(target.admin_problems))
    if target.url == source.url and source.schema is None:
        out.status(f"tenant move {name}: already in {redact(target.url)}; nothing to do")
        return
    with out.progress(f"provisioning the new database of {name}"):
        made = provision(target, mdir, _settings(history_schema, 60.0), _tenant_dir(out, directory))
    if not made.ok:
        report(out, made.diagnostics + (made.result.diagnostics if made.result else []))
        out.status(f"tenant move {name}: the destination could not be made; nothing was copied")
        raise typer.Exit(ExitCode.ERRORS)
    with out.progress(f"copying {name}"):
        moved = copy_tenant(source.url, [source.schema] if source.schema else None,
                            with_database(target.admin_url, target.database), history_schema)
    if moved.ok:
        replace_tenant(path, name, {"name": name, **values})
    if out.format is OutputFormat.json:
        out.data(json.dumps({"tenant": name, "from": redact(source.url), "schema": source.schema,
                             "to": redact(target.url), "ok": moved.ok, "already": moved.already,
                             "rows": moved.copied,
                             "diagnostics": [d.to_data() for d in moved.diagnostics]},
                            indent=2, sort_keys=True) + "\n")
    else:
        for table, rows in sorted(moved.copied.items()):
            out.data(f"{table}  {rows} row{'s' if rows != 1 else ''}"
                     f"{' (already there)' if moved.already else ''}\n")
        report(out, moved.diagnostics)
    if not moved.ok:
        raise typer.Exit(ExitCode.ERRORS)
    where = f"schema {source.schema} of " if source.schema else ""
    out.status(f"tenant move {name}: copied from {where}{redact(source.url)} to "
               f"{redact(target.url)}, counts verified; {path} now points at it. The source is "
               "unchanged: drop it once the application uses the new database.")
