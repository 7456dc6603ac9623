"""Migration files: ``NNNN_slug.sql`` naming, the header, and the split into segments.

A migration file is plain SQL that psql (``psql -v ON_ERROR_STOP=1 -f FILE``) or any runner
applies as is. fraisec's applier runs it with the same transaction semantics psql gives it:

* a file with an explicit ``BEGIN; … COMMIT;`` block (what ``fraisec migrate diff`` writes):
  each block is one transaction, and every statement outside a block runs on its own, outside
  any transaction (where ``CREATE INDEX CONCURRENTLY`` must go);
* a file without ``BEGIN`` (hand-written): the whole file is one transaction (as with
  ``psql -1``), except statements that PostgreSQL refuses inside a transaction block, which
  are split off and run on their own at their place in the file.

The header is a leading block of ``-- key: value`` comments; it is informational (who generated
the file, its safety class, what runs outside a transaction). The applier trusts the SQL's
structure, never the header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fraisec.diagnostics import Diagnostic, Location, error
from fraisec.lint.source import SourceFile, Statement, split_statements

__all__ = [
    "FILE_RE", "MigrationFile", "Segment", "discover", "file_name", "next_version", "read_header",
    "segments", "slugify",
]

FILE_RE = re.compile(r"^(?P<version>\d{4,})_(?P<slug>[a-z0-9][a-z0-9_]*)\.sql$")
_HEADER_LINE = re.compile(r"^--\s*(?P<key>[a-z][a-z -]*[a-z]):\s*(?P<value>.*?)\s*$")
_BEGIN = re.compile(r"^(BEGIN|START TRANSACTION)( (TRANSACTION|WORK))?( ISOLATION LEVEL [A-Z ]+)?$")
_COMMIT = re.compile(r"^(COMMIT|END)( (TRANSACTION|WORK))?$")
_TX_CONTROL = re.compile(r"^(ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE TRANSACTION|"
                         r"COMMIT PREPARED|ROLLBACK PREPARED)\b")
# Statements PostgreSQL refuses inside a transaction block ("cannot run inside a transaction
# block"). ALTER TYPE … ADD VALUE is allowed in a transaction since PostgreSQL 12.
_NON_TX = re.compile(
    r"^((CREATE|DROP)( UNIQUE)? INDEX CONCURRENTLY|REINDEX\b.*\bCONCURRENTLY|VACUUM|"
    r"(CREATE|DROP) DATABASE|ALTER SYSTEM|(CREATE|DROP) TABLESPACE|"
    r"DETACH PARTITION .* CONCURRENTLY|ALTER TABLE .* DETACH PARTITION .* CONCURRENTLY|"
    r"CREATE SUBSCRIPTION|DROP SUBSCRIPTION)"
)
# Allowed in a transaction, but the value it adds cannot be used before that transaction
# commits (55P04 "unsafe use of new value"): a file without BEGIN runs it on its own, so the
# statements after it may use the value.
_ADD_VALUE = re.compile(r"^ALTER TYPE .* ADD VALUE\b")


@dataclass(frozen=True)
class MigrationFile:
    """One ``NNNN_slug.sql`` file as read from disk (text with line endings normalised)."""

    version: int
    slug: str
    path: Path
    text: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def label(self) -> str:
        """The version as written in the file name (``0003``)."""
        return self.path.name.split("_", 1)[0]

    @property
    def checksum(self) -> str:
        from fraisec.migrations.checksum import file_checksum

        return file_checksum(self.text)

    @property
    def header(self) -> dict[str, str]:
        return read_header(self.text)


@dataclass(frozen=True)
class Segment:
    """A run of statements applied together: in one transaction, or one statement on its own."""

    transactional: bool
    statements: tuple[Statement, ...]


# -- names -------------------------------------------------------------------------------------

def slugify(name: str) -> str:
    """``"Add status!"`` → ``add_status``: lower-case letters, digits and underscores."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return slug[:60].rstrip("_") or "migration"


def file_name(version: int, slug: str) -> str:
    return f"{version:04d}_{slug}.sql"


def next_version(files: list[MigrationFile]) -> int:
    return max((f.version for f in files), default=0) + 1


# -- discovery ---------------------------------------------------------------------------------

def discover(directory: Path) -> tuple[list[MigrationFile], list[Diagnostic]]:
    """The directory's migration files in version order, plus naming problems.

    Every ``*.sql`` file must follow the naming scheme (a stray file would otherwise be
    silently skipped by fraisec and applied by another runner); versions must be unique.
    """
    if not directory.is_dir():
        return [], []
    files: list[MigrationFile] = []
    diagnostics: list[Diagnostic] = []
    for path in sorted(directory.glob("*.sql")):
        match = FILE_RE.match(path.name)
        if match is None:
            diagnostics.append(error(
                "FSC500", f"'{path.name}' is not named NNNN_slug.sql", Location(file=str(path)),
                hint="Rename it to a 4-digit version, an underscore and a lower-case slug, "
                     "e.g. 0007_add_index.sql, then run `fraisec migrate hash`."))
            continue
        text = path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n")
        files.append(MigrationFile(int(match["version"]), match["slug"], path, text))
    files.sort(key=lambda f: (f.version, f.name))
    diagnostics += _duplicates(files)
    return files, diagnostics


def _duplicates(files: list[MigrationFile]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for prev, cur in zip(files, files[1:]):
        if prev.version == cur.version:
            out.append(error(
                "FSC501", f"two migrations have version {cur.label}: {prev.name} and {cur.name}",
                Location(file=str(cur.path)),
                hint="Usually two branches each added a migration. Keep the one already applied "
                     "elsewhere, then re-create the other with `fraisec migrate diff NAME` "
                     "(it takes the next free number)."))
    return out


# -- header ------------------------------------------------------------------------------------

def read_header(text: str) -> dict[str, str]:
    """The leading ``-- key: value`` comment lines (stops at the first non-comment line)."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            if line.strip():
                break
            continue
        match = _HEADER_LINE.match(line)
        if match:
            header.setdefault(match["key"], match["value"])
    return header


# -- segments ----------------------------------------------------------------------------------

Mode = Literal["explicit", "implicit"]


def segments(file: MigrationFile) -> tuple[list[Segment], list[Diagnostic]]:
    """Split a file into the units the applier runs (see the module docstring)."""
    source = SourceFile(str(file.path), file.text)
    statements, unterminated = split_statements(source)
    diagnostics = [error("FSC509", "unterminated quote, comment or dollar-quoted body",
                         Location(file=str(file.path), line=source.line_of(at)),
                         hint="Close it; psql would fail on this file too.")
                   for at in unterminated]
    explicit = any(_BEGIN.match(s.keywords) for s in statements)
    result, more = (_explicit if explicit else _implicit)(statements, file)
    return result, diagnostics + more


def _loc(file: MigrationFile, stmt: Statement) -> Location:
    return Location(file=str(file.path), line=stmt.line)


def _explicit(statements: list[Statement], file: MigrationFile
              ) -> tuple[list[Segment], list[Diagnostic]]:
    """psql semantics: BEGIN…COMMIT blocks are transactions, the rest runs statement by statement.

    A session ``SET`` outside a block joins the segment after it, so it is run again when an
    interrupted file resumes at that segment (a SET inside a committed transaction lasts for
    the session, as it would under psql).
    """
    out: list[Segment] = []
    diagnostics: list[Diagnostic] = []
    block: list[Statement] | None = None
    settings: list[Statement] = []
    for stmt in statements:
        if block is None and is_session_setting(stmt):
            settings.append(stmt)
            continue
        kw = stmt.keywords
        if _BEGIN.match(kw):
            if block is not None:
                diagnostics.append(error("FSC509", "BEGIN inside a transaction block", _loc(file, stmt),
                                         hint="Close the previous block with COMMIT first."))
            block, settings = settings, []
        elif _COMMIT.match(kw):
            if block is None:
                diagnostics.append(error("FSC509", "COMMIT without BEGIN", _loc(file, stmt)))
            elif block:
                out.append(Segment(True, tuple(block)))
            block = None
        elif _TX_CONTROL.match(kw):
            diagnostics.append(_tx_control(file, stmt))
        elif block is not None:
            if _NON_TX.match(kw):
                diagnostics.append(_non_tx_in_block(file, stmt))
            block.append(stmt)
        else:
            out.append(Segment(False, (*settings, stmt)))
            settings = []
    if settings:
        out.append(Segment(False, tuple(settings)))
    if block is not None:
        diagnostics.append(error("FSC509", "BEGIN without COMMIT", Location(file=str(file.path)),
                                 hint="End the transaction block with COMMIT;."))
    return out, diagnostics


def _implicit(statements: list[Statement], file: MigrationFile
              ) -> tuple[list[Segment], list[Diagnostic]]:
    """One transaction for the file, with non-transactional statements split off in place."""
    out: list[Segment] = []
    diagnostics: list[Diagnostic] = []
    run: list[Statement] = []
    for stmt in statements:
        kw = stmt.keywords
        if _COMMIT.match(kw) or _TX_CONTROL.match(kw):
            diagnostics.append(_tx_control(file, stmt))
        elif _NON_TX.match(kw) or _ADD_VALUE.match(kw):
            if run:
                out.append(Segment(True, tuple(run)))
                run = []
            out.append(Segment(False, (stmt,)))
        else:
            run.append(stmt)
    if run:
        out.append(Segment(True, tuple(run)))
    return out, diagnostics


def is_session_setting(stmt: Statement) -> bool:
    """``SET name …`` / ``RESET …`` that lasts for the session (not ``SET LOCAL``)."""
    kw = stmt.keywords
    return (kw.startswith(("SET ", "RESET ")) and not kw.startswith(("SET LOCAL ", "SET TRANSACTION",
                                                                      "SET CONSTRAINTS")))


def _tx_control(file: MigrationFile, stmt: Statement) -> Diagnostic:
    word = stmt.keywords.split(" ", 1)[0]
    return error("FSC509", f"{word} in a migration: fraisec manages the transactions",
                 _loc(file, stmt),
                 hint="Remove it. Use one BEGIN; … COMMIT; block for the transactional part "
                      "and put statements that cannot run in a transaction after COMMIT.")


def _non_tx_in_block(file: MigrationFile, stmt: Statement) -> Diagnostic:
    return error("FSC509", "this statement cannot run inside a transaction block",
                 _loc(file, stmt),
                 hint="Move it after COMMIT; it then runs on its own, as psql would run it.")
