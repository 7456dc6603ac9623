"""Shared fixtures: one real PostgreSQL for the whole run, started by the suite itself.

It is fraisec's own embedded server (``fraisec.pg.server``), in a temporary directory, so the
tests exercise the same code path as the shadow database. It never skips: without PostgreSQL
binaries the run fails, and ``.ci/run`` installs them.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path
from typing import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from fraisec.pg.server import EmbeddedServer, stop_idle_servers

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedServer]:
    server = EmbeddedServer.ephemeral().start()
    # CLI subprocesses started by tests use their own cached shadow; keep it out of the user's cache.
    cache = server.root.parent / f"{server.root.name}-cache"
    own_cache = "FRAISEC_CACHE_DIR" not in os.environ
    if own_cache:
        os.environ["FRAISEC_CACHE_DIR"] = str(cache)
    try:
        yield server
    finally:
        server.stop()
        if own_cache:
            # The CLI runs leave the shadow server warm for the next command (its keep-alive);
            # the suite is done with it. A pid file left after this would be a leak to see.
            stop_idle_servers(cache)
        if own_cache and not list(cache.rglob("postmaster.pid")):
            shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture(scope="session")
def second_server() -> Iterator[EmbeddedServer]:
    """Another PostgreSQL server, for what crosses servers (tenants spread over two)."""
    server = EmbeddedServer.ephemeral().start()
    yield server
    server.stop()


def drop_databases(servers: tuple[EmbeddedServer, ...], like: str) -> None:
    """Drop every database whose name is LIKE ``like`` on each server (a test's tenants)."""
    import psycopg
    from psycopg import sql

    for server in servers:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            names = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [like]).fetchall()
            for (name,) in names:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def servers(pg_server: EmbeddedServer, second_server: EmbeddedServer
            ) -> Iterator[tuple[EmbeddedServer, EmbeddedServer, str]]:
    """Both servers and a prefix for the databases a test creates on them (tenants, a shared
    database); every database named with it is dropped afterwards."""
    prefix = f"srv{os.getpid()}x{next(_counter)}"
    yield pg_server, second_server, prefix
    drop_databases((pg_server, second_server), f"%{prefix}%")


@pytest.fixture
def make_db(pg_server: EmbeddedServer) -> Iterator[Callable[..., str]]:
    """``make_db(sql_text=None, template=None) -> url``: a fresh database, dropped afterwards."""
    created: list[str] = []

    def _make(sql_text: str | None = None, template: str | None = None) -> str:
        name = f"t{os.getpid()}_{next(_counter)}"
        with psycopg.connect(pg_server.url(), autocommit=True) as conn:
            stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                stmt += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(stmt)
        created.append(name)
        url = pg_server.url(name)
        if sql_text:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql_text)
        return url

    yield _make
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        for name in created:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
