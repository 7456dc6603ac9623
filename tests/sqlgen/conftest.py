"""The example app's generated SQL on a real PostgreSQL, driven the way the runtime drives it.

A session fixture applies ``schema.sql`` (as the superuser, which the file needs for roles and
then ``SET ROLE app_owner``) plus seed data to a template database; each test gets a fresh copy.
Requests run exactly as the runtime runs them (fraiseql.toml's [session_variables], both set on
every request): ``BEGIN; SELECT set_config('app.user_id', $1, true),
set_config('app.tenant_id', $2, true); SET LOCAL ROLE app_user; …; COMMIT``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from fraisec.api import schema_sql

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "saas"

# Fixed uuids so tests and failure messages are readable.
ACME = "00000000-0000-0000-0000-00000000000a"
GLOBEX = "00000000-0000-0000-0000-00000000000b"
ALICE = "00000000-0000-0000-0000-0000000000a1"  # acme admin
ANNA = "00000000-0000-0000-0000-0000000000a2"  # acme member
BOB = "00000000-0000-0000-0000-0000000000b1"  # globex admin
CAROL = "00000000-0000-0000-0000-0000000000c1"  # acme member and globex admin
MALLORY = "00000000-0000-0000-0000-0000000000f1"  # a user with no membership

SEED = f"""
INSERT INTO app.tb_organization (id, identifier, name) VALUES
    ('{ACME}', 'acme', 'Acme'), ('{GLOBEX}', 'globex', 'Globex');
INSERT INTO app.tb_user (id, identifier, name, email) VALUES
    ('{ALICE}', 'alice', 'Alice', 'alice@acme.test'), ('{ANNA}', 'anna', 'Anna', 'anna@acme.test'),
    ('{BOB}', 'bob', 'Bob', 'bob@globex.test'), ('{CAROL}', 'carol', 'Carol', 'carol@both.test'),
    ('{MALLORY}', 'mallory', 'Mallory', 'mallory@nowhere.test');
INSERT INTO app.tb_membership (fk_organization, fk_user, role)
SELECT o.pk_organization, u.pk_user, m.role
FROM (VALUES ('acme', 'alice', 'admin'), ('acme', 'anna', 'member'), ('globex', 'bob', 'admin'),
             ('acme', 'carol', 'member'), ('globex', 'carol', 'admin')) AS m(org, usr, role)
JOIN app.tb_organization o ON o.identifier = m.org
JOIN app.tb_user u ON u.identifier = m.usr;
INSERT INTO app.tb_project (fk_organization, identifier, name)
SELECT o.pk_organization, p.identifier, p.name
FROM (VALUES ('acme', 'acme-rockets', 'Rockets'), ('acme', 'acme-anvils', 'Anvils'),
             ('globex', 'globex-doomsday', 'Doomsday'), ('globex', 'globex-hammock', 'Hammock'))
     AS p(org, identifier, name)
JOIN app.tb_organization o ON o.identifier = p.org;
INSERT INTO app.tb_task (fk_organization, fk_project, identifier, title)
SELECT p.fk_organization, p.pk_project, p.identifier || '-t1', 'First task'
FROM app.tb_project p WHERE p.identifier IN ('acme-rockets', 'globex-doomsday');
-- Seeding ran the observers as the superuser; tests count only their own events.
TRUNCATE app_private.tb_outbox_event, app.tb_activity;
"""


@pytest.fixture(scope="session")
def saas_sql() -> str:
    text, diagnostics = schema_sql(str(EXAMPLE / "schema.py"))
    assert text is not None, diagnostics
    return text


def template_database(pg_server, prefix: str, *scripts: str) -> str:
    """A database holding ``scripts`` (applied in one transaction, like ``psql -1``), for
    ``CREATE DATABASE … TEMPLATE`` copies; returns its name."""
    name = f"{prefix}_tpl_{os.getpid()}"
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(pg_server.url(name)) as conn:
        for script in scripts:
            conn.execute(script)
    return name


@pytest.fixture(scope="session")
def saas_template(pg_server, saas_sql) -> str:
    return template_database(pg_server, "saas", saas_sql, SEED)


@dataclass
class Saas:
    """A fresh copy of the seeded example database."""

    url: str

    def ids(self, table: str) -> dict[str, str]:
        """identifier -> id, read as the superuser."""
        with psycopg.connect(self.url) as conn:
            rows = conn.execute(sql.SQL("SELECT identifier, id::text FROM app.{}").format(sql.Identifier(table)))
            return dict(rows.fetchall())

    def admin(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run SQL as the superuser (bypasses RLS) and commit; returns rows when there are any."""
        with psycopg.connect(self.url) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    @contextmanager
    def request(self, user: str | None = None, tenant: str | None = None, *,
                set_context: bool = True, commit: bool = False) -> Iterator[psycopg.Connection]:
        """One API request: context as transaction-local settings, then the API role."""
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            if set_context:
                conn.execute("SELECT set_config('app.user_id', %s, true), "
                             "set_config('app.tenant_id', %s, true)", (user or "", tenant or ""))
            conn.execute("SET LOCAL ROLE app_user")
            try:
                yield conn
            finally:
                if commit:
                    conn.commit()
                else:
                    conn.rollback()

    def call(self, conn: psycopg.Connection, function: str, *args: Any) -> dict[str, Any]:
        """``SELECT * FROM app.<function>(…)``, positional, as the runtime calls mutations."""
        placeholders = sql.SQL(", ").join(sql.Placeholder() * len(args))
        query = sql.SQL("SELECT * FROM app.{}({})").format(sql.Identifier(function), placeholders)
        return conn.execute(query, args).fetchone()


@pytest.fixture
def saas(make_db, saas_template) -> Saas:
    return Saas(make_db(template=saas_template))


@pytest.fixture
def saas_fresh(make_db, saas_sql) -> Saas:
    """schema.sql applied to this very database: CREATE DATABASE … TEMPLATE copies the schema
    but not database-level grants (REVOKE TEMPORARY), which some checks are about."""
    return Saas(make_db(saas_sql + SEED))
