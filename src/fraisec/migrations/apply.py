"""Applying migration files to a database: apply, status, baseline, repair.

Guarantees (each one has a fault test in ``tests/migrations/``):

* Nothing runs unless the directory is intact: file names, unique versions, ``fraisec.sum``,
  readable SQL, and every applied file unchanged since it was applied (or ``migrate repair``ed).
* One applier at a time per database and history: a session-level advisory lock, waited for
  up to a timeout (:class:`~fraisec.migrations.lock.LockTimeout`); the history is read only
  after the lock is held, so two appliers started together apply each file exactly once.
* Each file's transactional part and its history row commit together: a failure or a killed
  process leaves the database as it was before that file, and the next run applies it again.
  Statements that cannot run in a transaction run on their own after it; the row counts the
  finished segments so an interrupted file resumes where it stopped.
* A failure stops the run and names the file, the statement (file:line) and PostgreSQL's error.
"""

from __future__ import annotations

import getpass
import re
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Literal

import psycopg
from psycopg import sql

from fraisec.diagnostics import Diagnostic, Location, Related, error, has_errors
from fraisec.migrations import history, lock
from fraisec.migrations.checksum import verify_sum
from fraisec.migrations.files import (
    MigrationFile, Segment, discover, is_session_setting, segments,
)
from fraisec.migrations.history import DEFAULT_SCHEMA, HistoryRow

__all__ = [
    "ApplyResult", "FileState", "MigrationError", "PlannedFile", "Settings", "apply", "baseline",
    "load_directory", "repair", "status",
]

Notify = Callable[[str], None]
State = Literal["applied", "baseline", "pending", "partial", "edited", "missing", "unknown"]


class MigrationError(Exception):
    """A run stopped: the diagnostics say why (nothing after the failing file ran)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("; ".join(d.message for d in diagnostics))


@dataclass(frozen=True)
class Settings:
    history_schema: str = DEFAULT_SCHEMA
    lock_timeout_s: float = 60.0  # waiting for another applier (the advisory lock)
    # Each statement's wait for a table lock (PostgreSQL lock_timeout); None: no limit. A
    # migration stuck behind a long transaction then fails and rolls back instead of queueing
    # every query on the table behind it.
    statement_lock_timeout_s: float | None = None
    # A part of a file that failed because a lock was not obtained in time (SQLSTATE 55P03, the
    # file's or the option's lock_timeout) is run again this many times, after 1 s, 2 s, 4 s…,
    # before the file fails: a long transaction that held the table is usually gone by then.
    lock_retries: int = 3
    # Schema per tenant: the tenant's history is the table named after its schema in
    # history_schema, and every file runs with search_path set to the tenant schema first
    # (docs/tenancy.md). The defaults are a database's own history and search_path.
    history_table: str = history.TABLE
    search_path: tuple[str, ...] = ()

    @property
    def lock_name(self) -> str:
        """What the advisory lock is keyed on: one applier at a time per history table."""
        if self.history_table == history.TABLE:
            return self.history_schema
        return f"{self.history_schema}.{self.history_table}"


@dataclass(frozen=True)
class PlannedFile:
    file: MigrationFile
    segments: tuple[Segment, ...]
    resume_from: int = 0  # segments already done by an interrupted run

    @property
    def safety(self) -> str:
        return self.file.header.get("safety", "unknown")

    @property
    def outside_transaction(self) -> int:
        return sum(not s.transactional for s in self.segments[self.resume_from:])


@dataclass(frozen=True)
class FileState:
    version: int
    name: str
    state: State
    row: HistoryRow | None = None


@dataclass(frozen=True)
class ApplyResult:
    planned: list[PlannedFile] = field(default_factory=list)
    applied: list[tuple[str, int]] = field(default_factory=list)  # (file name, ms)
    states: list[FileState] = field(default_factory=list)


# -- the directory -----------------------------------------------------------------------------

def load_directory(directory: Path) -> tuple[list[MigrationFile], dict[str, list[Segment]],
                                             list[Diagnostic]]:
    """Files, their segments, and every problem that must stop a run before it starts."""
    files, diagnostics = discover(directory)
    diagnostics += verify_sum(directory, [(f.name, f.text) for f in files])
    parsed: dict[str, list[Segment]] = {}
    for f in files:
        segs, problems = segments(f)
        parsed[f.name] = segs
        diagnostics += problems
    return files, parsed, diagnostics


def _existing(directory: Path) -> tuple[list[MigrationFile], dict[str, list[Segment]],
                                        list[Diagnostic]]:
    """load_directory for commands that act on a database: a missing directory is an error
    (a deploy pointed at the wrong path must not report "nothing to apply")."""
    if not directory.is_dir():
        return [], {}, [error("FSC519", f"migrations directory {directory} does not exist",
                              hint="Run from the project (fraisec.toml), or pass --dir.")]
    return load_directory(directory)


# -- comparing files with the history ----------------------------------------------------------

def compare(files: list[MigrationFile], rows: list[HistoryRow]
            ) -> tuple[list[FileState], list[Diagnostic]]:
    by_version = {r.version: r for r in rows}
    last_applied = max((r.version for r in rows), default=0)
    states: list[FileState] = []
    diagnostics: list[Diagnostic] = []
    for f in files:
        row = by_version.pop(f.version, None)
        state, problem = _file_state(f, row, last_applied)
        states.append(FileState(f.version, f.name, state, row))
        if problem:
            diagnostics.append(problem)
    for row in by_version.values():
        states.append(FileState(row.version, row.name, "missing", row))
        diagnostics.append(error(
            "FSC506", f"{row.name} was applied to this database but is not in the directory",
            None,
            hint="Restore the file from version control (an applied migration stays in the "
                 "directory), or point fraisec at the right migrations directory."))
    states.sort(key=lambda s: s.version)
    return states, diagnostics


def _file_state(f: MigrationFile, row: HistoryRow | None, last_applied: int
                ) -> tuple[State, Diagnostic | None]:
    where = Location(file=str(f.path))
    if row is None:
        if f.version < last_applied:
            return "pending", error(
                "FSC510", f"{f.name} is pending but older than the last applied migration "
                          f"({last_applied:04d})", where,
                hint="It was probably merged from another branch after a later migration was "
                     "applied. Re-create it with `fraisec migrate diff NAME` so it takes the "
                     "next number, and delete this file (then `fraisec migrate hash`).")
        return "pending", None
    if row.checksum != f.checksum:
        return "edited", error(
            "FSC505", f"{f.name} was edited after it was applied (applied "
                      f"{row.applied_at:%Y-%m-%d %H:%M} by {row.applied_by})", where,
            hint="Restore the applied version from version control and put the change in a new "
                 "migration. If the edit is harmless (a comment), record it with "
                 "`fraisec migrate repair --database URL`.")
    if not row.complete:
        return "partial", None
    return ("baseline" if row.kind == "baseline" else "applied"), None


def plan(files: list[MigrationFile], parsed: dict[str, list[Segment]], states: list[FileState],
         to_version: int | None) -> list[PlannedFile]:
    by_version = {s.version: s for s in states}
    out: list[PlannedFile] = []
    for f in files:
        if to_version is not None and f.version > to_version:
            break
        st = by_version[f.version]
        if st.state == "pending":
            out.append(PlannedFile(f, tuple(parsed[f.name])))
        elif st.state == "partial" and st.row is not None:
            out.append(PlannedFile(f, tuple(parsed[f.name]), st.row.steps_done))
    return out


# -- connections -------------------------------------------------------------------------------

def _client() -> str:
    from fraisec import __version__

    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        user = "?"
    return f"{user}@{socket.gethostname()} fraisec {__version__}"


def _connect(url: str, settings: Settings = Settings()) -> psycopg.Connection:
    try:
        conn = psycopg.connect(url, autocommit=True,
                               application_name=f"fraisec migrate ({_client()})"[:63])
    except psycopg.Error as exc:
        from fraisec.redact import connection_problem

        message, hint = connection_problem(url, exc)
        raise MigrationError([error("FSC902", message, hint=hint)]) from None
    _session_settings(conn, settings)
    return conn


def _session_settings(conn: psycopg.Connection, settings: Settings) -> None:
    # A killed applier's backend notices the closed socket within a second even mid-statement,
    # so its transaction rolls back and the lock is released promptly (PostgreSQL 14+).
    if conn.info.server_version >= 140000:
        conn.execute("SET client_connection_check_interval = 1000")
    if settings.statement_lock_timeout_s is not None:
        conn.execute(f"SET lock_timeout = '{max(int(settings.statement_lock_timeout_s * 1000), 1)}ms'")
    if settings.search_path:
        conn.execute(sql.SQL("SET search_path TO {}").format(
            sql.SQL(", ").join(sql.Identifier(s) for s in settings.search_path)))


@contextmanager
def _session(url: str, settings: Settings = Settings()) -> Iterator[psycopg.Connection]:
    """A connection for one command. Ending the session releases the advisory lock (when it
    was taken); a database error outside a migration file (the history table, the lock query,
    a lost connection) becomes FSC516 instead of a traceback."""
    conn = _connect(url, settings)
    try:
        yield conn
    except psycopg.Error as exc:
        message = (exc.diag.message_primary if exc.diag else None) or str(exc).strip()
        raise MigrationError([error(
            "FSC516", f"database error: {message}",
            hint="fraisec needs to create the schema and table of its history "
                 "(CREATE on the database) and read pg_locks; check the role's rights and "
                 "the connection.")]) from None
    finally:
        conn.close()


# -- commands ----------------------------------------------------------------------------------

def status(url: str, directory: Path, settings: Settings = Settings()
           ) -> tuple[list[FileState], lock.LockHolder | None, list[Diagnostic]]:
    """What is applied, pending, partial, edited or missing; who holds the lock."""
    files, _parsed, diagnostics = _existing(directory)
    with _session(url, settings) as conn:
        _require_schema(conn, settings)
        rows = history.read_history(conn, settings.history_schema, settings.history_table)
        holder = lock.holder(conn, settings.lock_name)
    states, problems = compare(files, rows)
    return states, holder, diagnostics + problems


def apply(url: str, directory: Path, settings: Settings = Settings(), *, dry_run: bool = False,
          to_version: int | None = None, notify: Notify = lambda _: None,
          starting: Notify = lambda _: None) -> ApplyResult:
    """Apply pending files in order (see the module docstring). Raises MigrationError.

    ``starting`` is told each file's name before it runs (the CLI says on Ctrl-C which file
    was rolled back)."""
    files, parsed, diagnostics = _existing(directory)
    if to_version is not None and to_version not in {f.version for f in files}:
        diagnostics.append(error("FSC515", f"--to {to_version:04d}: no migration has that version",
                                 hint="`fraisec migrate status` lists the versions."))
    if has_errors(diagnostics):
        raise MigrationError(diagnostics)
    with _session(url, settings) as conn:
        _require_schema(conn, settings)
        if not dry_run:
            _take_lock(conn, settings, notify)
            history.ensure_table(conn, settings.history_schema, settings.history_table)
        rows = history.read_history(conn, settings.history_schema, settings.history_table)
        states, problems = compare(files, rows)
        if has_errors(problems):
            raise MigrationError(problems)
        result = ApplyResult(plan(files, parsed, states, to_version), [], states)
        if not dry_run:
            for planned in result.planned:
                starting(planned.file.name)
                ms = _apply_file(conn, planned, settings, notify)
                result.applied.append((planned.file.name, ms))
        return result


def _take_lock(conn: psycopg.Connection, settings: Settings, notify: Notify) -> None:
    holder = lock.holder(conn, settings.lock_name)
    if holder is not None:
        notify(f"waiting up to {settings.lock_timeout_s:g}s for the migration lock held by "
               f"{holder.describe()}")
    lock.acquire(conn, settings.lock_name, settings.lock_timeout_s)


def _require_schema(conn: psycopg.Connection, settings: Settings) -> None:
    """A tenant schema must exist: with a search_path naming a missing schema, PostgreSQL would
    create the tenant's tables in the next schema of the path (or fail obscurely)."""
    if not settings.search_path:
        return
    first = settings.search_path[0]
    if conn.execute("SELECT to_regnamespace(%s) IS NULL",
                    [sql.Identifier(first).as_string(conn)]).fetchone()[0]:
        raise MigrationError([error(
            "FSC537", f"schema {first} does not exist in this database",
            hint="Create the tenant first: `fraisec tenant create NAME` (CREATE SCHEMA, then "
                 "every migration), or check the tenant's schema in tenants.toml.")])


def baseline(url: str, directory: Path, settings: Settings = Settings(),
             version: int | None = None) -> list[MigrationFile]:
    """Record files (up to ``version``) as applied without running them: adopt a database
    whose schema already matches them. Refused when the history is not empty."""
    files, parsed, diagnostics = _existing(directory)
    if version is not None and version not in {f.version for f in files}:
        diagnostics.append(error("FSC515", f"--version {version:04d}: no migration has that version"))
    if has_errors(diagnostics):
        raise MigrationError(diagnostics)
    chosen = [f for f in files if version is None or f.version <= version]
    with _session(url, settings) as conn:
        lock.acquire(conn, settings.lock_name, settings.lock_timeout_s)
        history.ensure_table(conn, settings.history_schema, settings.history_table)
        rows = history.read_history(conn, settings.history_schema, settings.history_table)
        if rows:
            raise MigrationError([error(
                "FSC511", f"this database already has a migration history ({len(rows)} "
                          f"file{'s' if len(rows) != 1 else ''}, last {rows[-1].name})",
                hint="Baseline adopts a database that has none. Use `fraisec migrate apply`.")])
        with conn.transaction():
            for f in chosen:
                n = len(parsed[f.name])
                history.record(conn, settings.history_schema, version=f.version, name=f.name,
                               checksum=f.checksum, duration_ms=0, client=_client(),
                               kind="baseline", steps_done=n, steps_total=n,
                               table_name=settings.history_table)
        return chosen


def repair(url: str, directory: Path, settings: Settings = Settings()) -> list[str]:
    """Re-record the checksum of applied files that were edited on purpose; their SQL is not
    run again. The directory must be intact (``fraisec.sum`` up to date)."""
    files, _parsed, diagnostics = _existing(directory)
    if has_errors(diagnostics):
        raise MigrationError(diagnostics)
    with _session(url, settings) as conn:
        lock.acquire(conn, settings.lock_name, settings.lock_timeout_s)
        states, _ = compare(files, history.read_history(conn, settings.history_schema,
                                                        settings.history_table))
        by_version = {f.version: f for f in files}
        repaired = [s for s in states if s.state == "edited"]
        with conn.transaction():
            for s in repaired:
                history.repair(conn, settings.history_schema, s.version,
                               by_version[s.version].checksum, settings.history_table)
        return [s.name for s in repaired]


# -- running one file --------------------------------------------------------------------------

def _apply_file(conn: psycopg.Connection, planned: PlannedFile, settings: Settings,
                notify: Notify) -> int:
    f = planned.file
    total = len(planned.segments)
    started = time.monotonic()
    if total == 0:
        _record(conn, settings, planned, 0, 0, 0)
    # Resuming an interrupted file: the session settings its finished part made are gone with
    # the old session; set them again before going on.
    for seg in planned.segments[:planned.resume_from]:
        for stmt in seg.statements:
            if is_session_setting(stmt):
                conn.execute(stmt.raw)
    for index in range(planned.resume_from, total):
        _run_segment(conn, planned, index, settings, notify)
    # SET in one file must not leak into the next: each file starts from a clean session
    # (RESET ALL leaves the role alone, so SET ROLE is undone explicitly).
    conn.execute("RESET ALL")
    conn.execute("RESET ROLE")
    _session_settings(conn, settings)
    ms = _ms(started)
    notify(f"applied {f.name} ({ms} ms)")
    return ms


def _run_segment(conn: psycopg.Connection, planned: PlannedFile, index: int, settings: Settings,
                 notify: Notify) -> None:
    """One part of a file with its history row; again after a lock timeout (bounded)."""
    seg, total = planned.segments[index], len(planned.segments)
    for attempt in range(settings.lock_retries + 1):
        started = time.monotonic()
        try:
            if seg.transactional:
                with conn.transaction():
                    _run(conn, planned.file, seg, index, planned)
                    _record(conn, settings, planned, index + 1, total, _ms(started))
            else:
                _run(conn, planned.file, seg, index, planned)
                _record(conn, settings, planned, index + 1, total, _ms(started))
            return
        except _LockNotAvailable as exc:
            if attempt == settings.lock_retries:
                raise MigrationError(exc.diagnostics) from None
            wait = 2 ** attempt
            notify(f"{planned.file.name}: a table lock was not obtained in time; trying again "
                   f"in {wait} s ({attempt + 1} of {settings.lock_retries} retries)")
            time.sleep(wait)


class _LockNotAvailable(MigrationError):
    """A statement gave up waiting for a lock (lock_timeout): the part may be run again."""


def _record(conn: psycopg.Connection, settings: Settings, planned: PlannedFile, done: int,
            total: int, ms: int) -> None:
    """Write the file's row as the connecting role, even when the file did SET ROLE (an
    application role may not write fraisec's history); the file's role is restored after."""
    f = planned.file
    same, role = conn.execute("SELECT current_user = session_user, current_user::text").fetchone()
    if not same:
        conn.execute("RESET ROLE")
    history.record(conn, settings.history_schema, version=f.version, name=f.name,
                   checksum=f.checksum, duration_ms=ms, client=_client(), kind="apply",
                   steps_done=done, steps_total=total, table_name=settings.history_table)
    if not same:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


def _ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


_CONCURRENT_INDEX = re.compile(
    r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?P<name>\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*)\s+ON\s+(?:ONLY\s+)?"
    r"(?P<table>(?:(?:\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*)\s*\.\s*)?(?:\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*))",
    re.IGNORECASE)


def _drop_invalid_index(conn: psycopg.Connection, stmt) -> None:
    """A CREATE INDEX CONCURRENTLY that failed or was killed leaves an INVALID index behind;
    IF NOT EXISTS would then skip it and the history would record a file whose index does not
    work. Drop such a leftover first, so the statement builds it again."""
    match = _CONCURRENT_INDEX.match(stmt.masked.strip())
    if match is None:
        return
    name = stmt.raw[match.start("name"):match.end("name")]
    table = stmt.raw[match.start("table"):match.end("table")]
    row = conn.execute(
        "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = to_regclass(%s) AND NOT i.indisvalid"
        "   AND c.relname = (parse_ident(%s))[1]", [table, name]).fetchone()
    if row:
        conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {row[0]}")


def _run(conn: psycopg.Connection, f: MigrationFile, seg: Segment, index: int,
         planned: PlannedFile) -> None:
    for stmt in seg.statements:
        try:
            if not seg.transactional:
                _drop_invalid_index(conn, stmt)
            conn.execute(stmt.raw)  # no parameters: the text is sent as written
        except psycopg.Error as exc:
            failure = _failure(f, stmt, exc, seg, index, planned, user=conn.info.user)
            if exc.sqlstate == "55P03":  # lock_not_available
                raise _LockNotAvailable([failure]) from None
            raise MigrationError([failure]) from None


def _membership_hint(diag, user: str | None) -> str | None:
    """A non-superuser applier that is not a member of the role owning the objects cannot
    ALTER … OWNER TO it: say the one GRANT that fixes it (README, "Applying as a non-superuser")."""
    import re

    primary = diag.message_primary or ""
    m = re.search(r'must be (?:a )?member of role "([^"]+)"|must be able to SET ROLE "([^"]+)"',
                  primary)
    if diag.sqlstate != "42501" or not m or not user:
        return None
    from fraisec.render.quoting import quote_ident

    role = m.group(1) or m.group(2)
    return (f"The applying role {user} is not a member of {role}, which owns the schema's "
            f"objects. As a superuser, run: GRANT {quote_ident(role)} TO {quote_ident(user)};")


_RETYPE = re.compile(r"^ALTER TABLE .* ALTER COLUMN .* TYPE .* USING .*::TEXT::", re.DOTALL)


def _enum_hint(diag, stmt) -> str | None:
    """The two ways an enum change fails on a database holding rows, said in its terms."""
    if diag.sqlstate == "55P04":  # unsafe use of new value: ADD VALUE and its use in one transaction
        return ("A value added with ALTER TYPE … ADD VALUE cannot be used before the transaction "
                "that added it commits: put the ADD VALUE before BEGIN (or after COMMIT, before "
                "the statements using it), as `fraisec migrate diff` writes it.")
    if diag.sqlstate == "22P02" and _RETYPE.match(stmt.keywords):  # a removed enum value still in use
        return ("Rows still hold an enum value this migration removes: change them first (an "
                "UPDATE in an earlier migration), keep the value, or declare a rename with "
                "@fq.enum(native=True, renamed_from={\"new\": \"old\"}).")
    return None


def _failure(f: MigrationFile, stmt, exc: psycopg.Error, seg: Segment, index: int,
             planned: PlannedFile, user: str | None = None) -> Diagnostic:
    diag = exc.diag
    line, column = stmt.line, None
    if diag.statement_position:
        offset = stmt.start + int(diag.statement_position) - 1
        line = stmt.file.line_of(offset)
        column = offset - stmt.file.line_starts[line - 1] + 1
    first = " ".join(stmt.raw.split())
    shown = first if len(first) <= 120 else first[:117] + "…"
    message = (f"{f.name} failed: {diag.message_primary or str(exc).strip()} "
               f"[SQLSTATE {diag.sqlstate}] in statement: {shown}")
    earlier_outside = any(not s.transactional for s in planned.segments[:index])
    if seg.transactional and not earlier_outside:
        outcome = "The file was rolled back entirely; the database is as it was before it."
    elif seg.transactional:
        outcome = ("This transaction was rolled back; the file's earlier non-transactional "
                   "statements stay applied and the next run resumes at this point.")
    else:
        outcome = ("This statement runs outside a transaction; what ran before it stays applied "
                   "and the next run resumes at this statement.")
    hint = " ".join(x for x in (_membership_hint(diag, user), _enum_hint(diag, stmt), diag.message_hint,
                                diag.message_detail, outcome,
                                "Nothing after this file was run.") if x)
    related = []
    if diag.context:
        related.append(Related(message=f"PostgreSQL context: {diag.context.strip()}",
                               location=Location(file=str(f.path), line=stmt.line)))
    return error("FSC507", message, Location(file=str(f.path), line=line, column=column),
                 hint=hint, related=related)


def iter_statements(planned: PlannedFile) -> Iterator[tuple[bool, str]]:
    """(transactional, SQL) for each statement still to run, for ``--dry-run -v``."""
    for seg in planned.segments[planned.resume_from:]:
        for stmt in seg.statements:
            yield seg.transactional, stmt.raw
