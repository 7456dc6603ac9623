"""The two "current" states a migration starts from, as catalogs.

* the replayed history: every migration file applied in order to a fresh shadow database (the
  embedded PostgreSQL, or ``--shadow-url``) and introspected: "the schema the migrations
  produce", with no user database at all;
* a live database (``--database URL``), introspected as it is, minus fraisec's own history
  schema (confiture reported its own ledger tables as drift; fraisec does not).

Both are compared with the desired catalog (the compiled schema plus ``db/*.sql``, applied to a
shadow), so all sides are normalised by PostgreSQL the same way.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from fraisec.catalog.model import Catalog
from fraisec.catalog.shadow import CatalogError, catalog_from_sql
from fraisec.diagnostics import Diagnostic, error, has_errors
from fraisec.migrations.apply import load_directory
from fraisec.migrations.history import DEFAULT_SCHEMA

if TYPE_CHECKING:
    from fraisec.ir.model import Schema

__all__ = ["database_catalog", "desired_catalog", "history_catalog", "history_sources"]


def history_sources(directory: Path, upto: int | None = None
                    ) -> tuple[list[tuple[str, str]], list[Diagnostic]]:
    """The migration files (up to version ``upto``) as (path, text), refusing a directory that
    is not intact."""
    from fraisec.migrations.external import STUB_NAME, recorded_externals, stub_sql

    files, _parsed, diagnostics = load_directory(directory)
    if has_errors(diagnostics):
        return [], diagnostics
    sources = [(str(f.path), f.text) for f in files if upto is None or f.version <= upto]
    stub = stub_sql(recorded_externals(text for _name, text in sources))
    return ([(STUB_NAME, stub)] if stub else []) + sources, diagnostics


def history_catalog(directory: Path, shadow_url: str | None = None,
                    extra: Sequence[tuple[str, str]] = (), upto: int | None = None) -> Catalog:
    """Replay the history (up to ``upto``, then ``extra`` SQL) into a shadow and introspect it.

    On the embedded shadow the replayed state is kept between runs, keyed by the files' texts,
    so an unchanged history is not replayed again and a grown one replays only its new files
    (:func:`fraisec.catalog.shadow.catalog_from_sql`)."""
    sources, diagnostics = history_sources(directory, upto)
    if has_errors(diagnostics):
        raise CatalogError(diagnostics)
    from fraisec.migrations.external import STUB_NAME, external_schemas, recorded_externals, stub_sql, stub_schemas

    recorded = recorded_externals(t for _n, t in [*sources, *extra])
    if recorded != recorded_externals(t for _n, t in sources):  # a new file declares one, or more columns
        sources = [(STUB_NAME, stub_sql(recorded)), *(s for s in sources if s[0] != STUB_NAME)]
    try:
        catalog = catalog_from_sql([*sources, *extra], shadow_url, replay=len(sources))
        # External tables are not the migrations' (their stand-ins least of all).
        return catalog.without_schemas(stub_schemas(sources) | external_schemas(None, (t for _n, t in extra)))
    except CatalogError as exc:
        raise CatalogError([_replay_failure(d) for d in exc.diagnostics]) from None


def _replay_failure(d: Diagnostic) -> Diagnostic:
    if d.code != "FSC401":
        return d
    return error("FSC514", d.message.replace("failed to apply", "failed when replayed into the "
                                                                "shadow database"),
                 d.location, hint="The migration fails on a fresh database too. Fix it (or the "
                                  "one before it), then run `fraisec migrate hash`.")


def desired_catalog(schema_ref: str, db_dir: Path | None, shadow_url: str | None = None,
                    schema: Schema | None = None, part: str | None = None
                    ) -> tuple[Catalog | None, list[Diagnostic]]:
    """The compiled schema plus ``db/*.sql`` in a shadow; None when the schema has errors.
    ``schema``: the module already loaded without errors (it is not loaded a second time)."""
    from fraisec.desired import desired_sources

    from fraisec.migrations.external import stub_schemas

    sources, diagnostics = desired_sources(schema_ref, db_dir, schema, part=part)
    if sources is None or has_errors(diagnostics):
        return None, diagnostics
    return catalog_from_sql(sources, shadow_url).without_schemas(stub_schemas(sources)), diagnostics


def database_catalog(url: str, history_schema: str = DEFAULT_SCHEMA) -> Catalog:
    from fraisec.catalog.introspect import IntrospectionError, introspect_url
    from fraisec.catalog.shadow import connect_error

    import psycopg

    try:
        catalog = introspect_url(url)
    except psycopg.OperationalError as exc:
        raise connect_error(url, exc) from None
    except IntrospectionError as exc:
        raise CatalogError([error("FSC406", str(exc))]) from None
    return catalog.without_schemas({history_schema})


def current_in_background(migrations_dir: Path, database: str | None, shadow_url: str | None,
                          history_schema: str = DEFAULT_SCHEMA) -> Callable[[], Catalog]:
    """Start reading :func:`current_catalog` in a thread; call the result to wait for it (its
    error, if any, is raised there). The caller builds the desired side meanwhile: the two wait
    on different things (PostgreSQL for one, Python for the other)."""
    box: dict[str, object] = {}
    if database is None and shadow_url is None:
        from fraisec.catalog.shadow import embedded_server

        embedded_server()  # started here: signal handlers can be set only in the main thread

    def read() -> None:
        try:
            box["catalog"] = current_catalog(migrations_dir, database, shadow_url, history_schema)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=read, name="fraisec-current-side")
    thread.start()

    def result() -> Catalog:
        thread.join()
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["catalog"]  # type: ignore[return-value]

    return result


@contextlib.contextmanager
def current_alongside(migrations_dir: Path, database: str | None, shadow_url: str | None,
                      history_schema: str = DEFAULT_SCHEMA) -> Iterator[Callable[[], Catalog]]:
    """``with current_alongside(…) as current_side:`` build the desired side, then call
    ``current_side()``. When the block fails (a schema error), the reading thread is waited
    for before the error leaves, so it is reported first and nothing is left running."""
    current_side = current_in_background(migrations_dir, database, shadow_url, history_schema)
    try:
        yield current_side
    except BaseException:
        with contextlib.suppress(BaseException):
            current_side()
        raise


def current_catalog(migrations_dir: Path, database: str | None, shadow_url: str | None,
                    history_schema: str = DEFAULT_SCHEMA,
                    extra: Sequence[tuple[str, str]] = ()) -> Catalog:
    """The current state: the database, else the replayed history; then ``extra`` SQL applied.

    A live database is never changed: with ``extra`` its schema is copied into a shadow first
    (``pg_dump --schema-only``) and ``extra`` is applied there.
    """
    if database is None:
        return history_catalog(migrations_dir, shadow_url, extra)
    if not extra:
        return database_catalog(database, history_schema)
    dump = schema_dump(database, history_schema)
    return catalog_from_sql([("pg_dump of the database", dump), *extra], shadow_url)


def schema_dump(url: str, history_schema: str) -> str:
    """``pg_dump --schema-only`` of the database, without fraisec's history schema."""
    import subprocess

    from fraisec.catalog.shadow import client_connection, client_program

    pg_dump = client_program("pg_dump")
    conninfo, env = client_connection(url)
    result = subprocess.run([pg_dump, "--schema-only", "--no-owner",
                             f"--exclude-schema={history_schema}", "-d", conninfo],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        from fraisec.redact import redact

        raise CatalogError([error("FSC406", f"pg_dump failed: {redact(result.stderr.strip())}",
                                  hint="The renamed_from hints need a copy of the database "
                                       "schema; pg_dump must be at least the server's version.")])
    return result.stdout


def migrations_side(spec: str, shadow_url: str | None) -> Catalog:
    """``fraisec diff migrations …``: the project's migration history, replayed."""
    from fraisec.project import ProjectError, find_project

    try:
        directory = find_project().migrations_dir
    except ProjectError as exc:
        raise CatalogError([error("FSC100", f"invalid fraisec.toml: {exc}")]) from None
    return history_catalog(directory, shadow_url)
