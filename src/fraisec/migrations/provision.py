"""Creating a tenant: its database (or schema), then every migration, then its registry entry.

Each step is safe to repeat, so ``fraisec tenant create NAME`` run again after a failure (a
server down, a migration that failed on this tenant) finishes the job: an existing database or
schema is kept, ``apply`` runs only what the tenant's history lacks, and the entry is written
once. The entry is written last, so ``migrate apply --all`` never meets a tenant whose database
was never created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from fraisec.diagnostics import Diagnostic, error
from fraisec.migrations.apply import MigrationError, Settings
from fraisec.migrations.fanout import Target, TargetResult, apply_many
from fraisec.migrations.registry import Resolved

__all__ = ["Provisioned", "create_container", "provision"]


@dataclass(frozen=True)
class Provisioned:
    created: bool  # the database or schema was created by this run
    result: TargetResult | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.diagnostics and (self.result is None or self.result.ok)


def create_container(tenant: Resolved) -> bool:
    """CREATE DATABASE on the admin connection (database per tenant, or the shared database of
    a shared tenant) or CREATE SCHEMA in the tenant's database (schema per tenant) unless it
    exists. True when this call created it."""
    if tenant.strategy == "schema":
        assert tenant.schema is not None
        with _connect_creating(tenant) as conn:
            exists = conn.execute("SELECT to_regnamespace(%s) IS NOT NULL",
                                  [sql.Identifier(tenant.schema).as_string(conn)]).fetchone()[0]
            if not exists:
                _run(conn, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(tenant.schema)), f"schema {tenant.schema}")
            if tenant.role:
                _tenant_role(conn, tenant.role, tenant.schema, tenant.member_of)
            return not exists
    assert tenant.database is not None and tenant.admin_url is not None
    return _create_database(tenant.admin_url, tenant.database)


def _create_database(admin_url: str, database: str) -> bool:
    """CREATE DATABASE unless it exists; True when this call created it."""
    with _connect(admin_url, "admin database") as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            return False
        try:
            _run(conn, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)),
                 f"database {database}")
        except MigrationError:
            # another `tenant create` won the race: the database is there
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [database]).fetchone():
                return False
            raise
        return True


def provision(tenant: Resolved, directory: Path, settings: Settings = Settings(),
              tenant_directory: Path | None = None) -> Provisioned:
    """Create the tenant's database or schema, then apply every migration to it.

    ``tenant_directory`` (a generated tenant part): ``directory`` is the shared part, applied
    to the database first (once per database: its history says so), then the tenant part to
    the tenant's schema (a tenant database's ``public``)."""
    try:
        created = create_container(tenant)
    except MigrationError as exc:
        return Provisioned(False, diagnostics=exc.diagnostics)
    target = Target(tenant.url, tenant.name, tenant.schema, tenant.search_path, tenant.role)
    if tenant_directory is not None:
        [shared] = apply_many([Target(tenant.url, f"{tenant.name} (shared part)")], directory,
                              settings, jobs=1)
        if not shared.ok:
            return Provisioned(created, shared)
        if target.schema is None:
            target = Target(tenant.url, tenant.name, "public", ("public", "pg_temp"))
        directory = tenant_directory
    [result] = apply_many([target], directory, settings, jobs=1)
    return Provisioned(created, result)


def _tenant_role(conn: psycopg.Connection, role: str, schema: str, member_of: tuple[str, ...]
                 ) -> None:
    """Isolation by grants: the tenant's role may use its own schema only.

    The migration files grant privileges on the tenant's objects to a role common to every
    tenant (``member_of``, e.g. the API role), the same text in every schema. That role has no
    USAGE on any tenant schema; the tenant role inherits its object privileges and gets USAGE on
    its own schema, so it reaches its own objects and no other tenant's. Repeated on every run
    (all idempotent), so a rerun repairs a half-made tenant."""
    for name in (*member_of, role):
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone():
            try:
                _run(conn, sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)),
                     f"role {name}")
            except MigrationError:  # a concurrent tenant create made it
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone():
                    raise
    _run(conn, sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
        sql.Identifier(schema), sql.Identifier(role)), f"the grant of schema {schema} to {role}")
    for name in member_of:
        _run(conn, sql.SQL("GRANT {} TO {}").format(sql.Identifier(name), sql.Identifier(role)),
             f"the grant of role {name} to {role}")


def _connect_creating(tenant: Resolved) -> psycopg.Connection:
    """The tenant's database; created first when it does not exist and the admin connection
    is known (the first tenant of a schema-per-tenant database). Only then is the admin
    connection used: a tenant role may not be allowed on the maintenance database."""
    try:
        return _connect(tenant.url, "database")
    except MigrationError as exc:
        missing = f'database "{tenant.database}" does not exist' in exc.diagnostics[0].message
        if not (missing and tenant.admin_url and tenant.database):
            raise
    _create_database(tenant.admin_url, tenant.database)
    return _connect(tenant.url, "database")


def _connect(url: str, what: str) -> psycopg.Connection:
    from fraisec.catalog.shadow import redact

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise MigrationError([error(
            "FSC902", f"cannot connect to the {what} {redact(url)}: "
                      f"{str(exc).strip().splitlines()[0]}",
            hint="Check the server's url/admin_url in tenants.toml, its password variable, "
                 "or pass --admin-url.")]) from None


def _run(conn: psycopg.Connection, statement: sql.Composed, what: str) -> None:
    try:
        conn.execute(statement)
    except psycopg.Error as exc:
        message = (exc.diag.message_primary if exc.diag else None) or str(exc).strip()
        raise MigrationError([error(
            "FSC536", f"cannot create {what}: {message}",
            hint="The role needs CREATEDB on the server (database per tenant; see admin_url) or "
                 "CREATE on the database (schema per tenant).")]) from None
