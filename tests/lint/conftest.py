"""Helpers for applying lint fixtures to a real PostgreSQL and acting as the API role.

Fixtures are applied as ``app_owner`` (a non-superuser, like a migrations role), and requests
run as ``app_user`` inside a transaction that sets the context with ``set_config(…, true)``,
the PostgREST convention rls.md uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg
import pytest
from psycopg import sql

RULES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "lint" / "rules"
CLEAN_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "lint" / "clean"

# Roles are cluster-wide: create them idempotently, once per test session.
_ROLES = """
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_owner') THEN
    CREATE ROLE app_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_user') THEN
    CREATE ROLE app_user NOLOGIN NOBYPASSRLS;
  END IF;
END $$;
"""


@pytest.fixture(scope="session")
def lint_roles(pg_server) -> None:
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(_ROLES)


class TenantDb:
    """A fresh database with a fixture applied as app_owner."""

    def __init__(self, url: str) -> None:
        self.url = url

    def superuser(self, query: str, params: Any = None) -> list[tuple]:
        """Run as the superuser (bypasses RLS): seeding data and checking the truth."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def as_role(self, query: str, params: Any = None, *, role: str = "app_user",
                settings: dict[str, str] | None = None) -> list[tuple]:
        """One request: BEGIN; set_config(…, true)…; SET LOCAL ROLE role; query; COMMIT."""
        with psycopg.connect(self.url) as conn:
            return run_request(conn, query, params, role=role, settings=settings)


def run_request(conn: psycopg.Connection, query: str, params: Any = None, *, role: str,
                settings: dict[str, str] | None = None) -> list[tuple]:
    with conn.transaction():
        for name, value in (settings or {}).items():
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def tenant_db(make_db, lint_roles) -> Iterator[Callable[..., TenantDb]]:
    """``tenant_db(sql_text, seed=None) -> TenantDb``: seed runs as superuser before the
    fixture's RLS statements would get in the way (it is run after the whole fixture,
    as the superuser, who bypasses RLS)."""

    def _make(sql_text: str, seed: str | None = None) -> TenantDb:
        url = make_db()
        with psycopg.connect(url, autocommit=True) as conn:
            dbname = conn.info.dbname
            conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO app_owner").format(
                sql.Identifier(dbname)))
            conn.execute("GRANT CREATE ON SCHEMA public TO app_owner")
            conn.execute("GRANT USAGE ON SCHEMA public TO app_user")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET ROLE app_owner")
            conn.execute(sql_text)
        db = TenantDb(url)
        if seed:
            db.superuser(seed)
        return db

    yield _make


def fixture_sql(name: str) -> str:
    return (RULES_DIR / f"{name}.sql").read_text(encoding="utf-8")
