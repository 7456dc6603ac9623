"""Diagnostics are data: every stage returns them, only the CLI renders them.

Each code is stable and has a page at ``docs/diagnostics/<CODE>.md`` (a test enforces it).
Code ranges: FSC1xx load/authoring, FSC2xx IR/validation, FSC3xx SQL lint, FSC4xx catalog/diff,
FSC5xx migrations, FSC6xx distribution (Citus).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterable

__all__ = [
    "CODES",
    "Diagnostic",
    "Location",
    "Related",
    "Severity",
    "did_you_mean",
    "has_errors",
    "sort_diagnostics",
]

# Plain frozen dataclasses, not pydantic models: every command imports this module, and pydantic
# alone costs ~160 ms of start-up that commands such as `fraisec diff` never otherwise need.
# Construction is by keyword as before; copy with ``dataclasses.replace``.


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Location:
    """A place in a file; paths are as the user gave them (never made absolute)."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file": self.file}
        if self.line is not None:
            data["line"] = self.line
        if self.column is not None:
            data["column"] = self.column
        return data


@dataclass(frozen=True)
class Related:
    message: str
    location: Location

    def to_data(self) -> dict[str, Any]:
        return {"message": self.message, "location": self.location.to_data()}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    location: Location | None = None
    hint: str | None = None
    related: tuple[Related, ...] = ()

    def __post_init__(self) -> None:
        # What pydantic used to coerce: a severity given by value, related given as a list.
        if not isinstance(self.severity, Severity):
            object.__setattr__(self, "severity", Severity(self.severity))
        if not isinstance(self.related, tuple):
            object.__setattr__(self, "related", tuple(self.related))

    @property
    def title(self) -> str:
        return CODES.get(self.code, "")

    def to_data(self) -> dict[str, Any]:
        """JSON-ready, fields in declaration order, None fields left out (the JSON output)."""
        data: dict[str, Any] = {"code": self.code, "severity": self.severity.value,
                                "message": self.message}
        if self.location is not None:
            data["location"] = self.location.to_data()
        if self.hint is not None:
            data["hint"] = self.hint
        data["related"] = [r.to_data() for r in self.related]
        return data


def error(code: str, message: str, location: Location | None = None, hint: str | None = None,
          related: Iterable[Related] = ()) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, location=location,
                      hint=hint, related=tuple(related))


def warning(code: str, message: str, location: Location | None = None, hint: str | None = None,
            related: Iterable[Related] = ()) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.WARNING, message=message, location=location,
                      hint=hint, related=tuple(related))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Stable report order: by file, line, then code."""

    def key(d: Diagnostic) -> tuple:
        loc = d.location
        return (loc.file if loc else "", loc.line or 0 if loc else 0, d.code, d.message)

    return sorted(diagnostics, key=key)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A "Did you mean …?" suffix for an unknown name, or None."""
    match = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"Did you mean '{match[0]}'?" if match else None


# The code catalogue: code -> one-line title. Every code has docs/diagnostics/<CODE>.md.
# Each stage owns its own block; add new codes inside your block only.
CODES: dict[str, str] = {
    # -- FSC1xx: loading and authoring ------------------------------------------------------
    "FSC100": "schema module not found or fraisec.toml invalid",
    "FSC101": "syntax error in schema module",
    "FSC102": "schema module failed to import",
    "FSC103": "exception while executing schema module",
    "FSC104": "unknown decorator argument",
    "FSC105": "invalid decorator argument value",
    "FSC106": "decorator applied to the wrong kind of object",
    "FSC107": "schema module defines nothing",
    "FSC108": "file already exists",
    "FSC109": "schema module import did not finish",
    # -- FSC2xx: IR building and validation ---------------------------------------------------
    "FSC200": "unknown type",
    "FSC201": "duplicate name",
    "FSC202": "unsupported Python annotation",
    "FSC203": "query type has no SQL source",
    "FSC204": "invalid inject source",
    "FSC205": "mutation arguments cannot map to a function signature",
    "FSC206": "required-relation cycle",
    "FSC207": "tenant-scoped reference from an unscoped entity",
    "FSC208": "invalid tenancy declaration",
    "FSC209": "invalid field option",
    "FSC210": "unknown field in a key, unique or index",
    "FSC211": "invalid observer",
    "FSC213": "invalid SQL identifier",
    "FSC214": "mutation function not found",
    "FSC215": "mutation function parameters disagree with the mutation",
    "FSC216": "mutation function does not return mutation_response",
    "FSC217": "query view not found",
    "FSC218": "query view does not return (id, data)",
    "FSC219": "query view data lacks keys for the type's fields",
    "FSC220": "query view lacks an inject column",
    "FSC221": "invalid writes declaration",
    "FSC222": "maintained field misdeclared",
    "FSC223": "soft delete misdeclared",
    "FSC224": "aggregate field misdeclared",
    "FSC225": "subscription without a change source",
    "FSC226": "SDK option fraisec does not support",
    "FSC227": "invalid index, type or extension declaration",
    "FSC228": "invalid search declaration",
    "FSC229": "invalid filtered view",
    "FSC230": "invalid ownership, transition or upsert declaration",
    "FSC231": "invalid invitation declaration",
    "FSC232": "invalid service declaration",
    "FSC233": "invalid permission declaration",
    "FSC234": "invalid native enum declaration",
    "FSC235": "invalid enum value rename",
    "FSC236": "invalid ordering declaration",
    "FSC237": "invalid length or precision declaration",
    "FSC250": "invalid batch mutation",
    "FSC251": "invalid privileged declaration",
    "FSC252": "privileged function does not take its tenant from the request context",
    "FSC253": "undeclared privileged function",
    "FSC254": "invalid seed declaration",
    "FSC255": "invalid external entity",
    "FSC245": "invalid database declaration",
    # -- FSC3xx: SQL lint (owned by fraisec.lint) ---------------------------------------------
    "FSC300": "SQL statement could not be read by the linter",
    "FSC301": "policy reads its own table (infinite recursion)",
    "FSC302": "view over a row-secured table without security_invoker",
    "FSC303": "row-level security enabled but not FORCEd on a tenant table",
    "FSC304": "row-level security enabled with no policy",
    "FSC305": "tenant table without row-level security",
    "FSC306": "current_setting without missing_ok and NULLIF",
    "FSC307": "IN (SELECT …) in a policy (not indexable)",
    "FSC308": "policy calls a function on a row column",
    "FSC309": "permissive WITH CHECK (true) without a restrictive guard",
    "FSC310": "SECURITY DEFINER function without a pinned search_path",
    "FSC311": "SECURITY DEFINER function with unqualified relation names",
    "FSC312": "function EXECUTE left to PUBLIC",
    "FSC313": "tenant column without an index",
    "FSC314": "globally UNIQUE business key on a tenant table",
    "FSC315": "materialized view of tenant data granted to a role",
    "FSC316": "permissive policy without the tenant check next to a tenant policy",
    "FSC317": "foreign key between tenant tables without the tenant column",
    "FSC318": "SECURITY DEFINER function writes a tenant the caller passes in",
    "FSC319": "privilege, ownership or role attribute that bypasses row-level security",
    "FSC320": "tenancy as a view's WHERE instead of row-level security",
    "FSC321": "function body types can be shadowed through pg_temp",
    "FSC322": "SECURITY DEFINER function in an exposed schema",
    "FSC390": "squawk: migration lock hazard",
    "FSC391": "squawk could not be run",
    # -- FSC4xx: catalog, shadow database and diff (owned by fraisec.catalog / fraisec.diff) --
    "FSC401": "SQL failed to apply to the shadow database",
    "FSC402": "object kind not handled by the differ",
    "FSC403": "dependent object cannot be recreated",
    "FSC404": "changes depend on each other in a cycle",
    "FSC405": "cannot resolve a diff side",
    "FSC406": "catalog introspection or shadow database failed",
    "FSC407": "destructive changes refused without --unsafe",
    "FSC408": "the two sides come from different PostgreSQL major versions",
    "FSC420": "secret option of a foreign-data wrapper, server, user mapping or foreign table left out",
    "FSC409": "NOT NULL column added to a table with rows: written in three steps",
    "FSC410": "NOT NULL column without a default added to an existing table",
    # -- FSC5xx: migrations (owned by fraisec.migrations) -------------------------------------
    "FSC500": "migration file not named NNNN_slug.sql",
    "FSC501": "two migrations share a version",
    "FSC502": "fraisec.sum is missing",
    "FSC503": "migration file does not match fraisec.sum",
    "FSC504": "fraisec.sum is corrupt or has a merge conflict",
    "FSC505": "applied migration was edited",
    "FSC506": "applied migration is missing from the directory",
    "FSC507": "migration failed",
    "FSC508": "migration lock not acquired in time",
    "FSC509": "transaction control or non-transactional statement misplaced in a migration",
    "FSC510": "pending migration older than the last applied one",
    "FSC511": "baseline on a database that already has a history",
    "FSC512": "destructive change refused without --unsafe",
    "FSC513": "schema and migrations differ",
    "FSC514": "migrations could not be replayed",
    "FSC515": "unknown migration version",
    "FSC516": "database error outside a migration file",
    "FSC517": "baseline refused: the database differs from the migrations",
    "FSC518": "a new migration does not converge",
    "FSC519": "migrations directory not found",
    "FSC530": "tenant registry (tenants.toml) not found or unreadable",
    "FSC531": "tenant registry holds a password",
    "FSC532": "unknown tenant or server",
    "FSC533": "environment variable named by the tenant registry is not set",
    "FSC534": "invalid tenant registry entry",
    "FSC535": "tenant create conflicts with the registry",
    "FSC536": "cannot create the tenant's database or schema",
    "FSC537": "tenant schema does not exist",
    "FSC538": "tenant move refused or failed",
    "FSC539": "migration cannot be applied to tenant schemas",
    # -- FSC6xx: distribution (Citus) ---------------------------------------------------------
    "FSC600": "unknown distribution engine in fraisec.toml",
    "FSC601": "unique key of a distributed table without the tenant column",
    "FSC602": "foreign key Citus cannot keep between distributed tables",
    "FSC603": "row-level security Citus cannot distribute",
    "FSC604": "triggers on tables to distribute",
    "FSC605": "foreign-key cycle among tables to distribute",
    "FSC540": "declaration the schema or database per tenant strategy does not generate",
    "FSC541": "shared entity refers to a tenant-scoped entity (schema per tenant)",
    "FSC542": "relation between the shared database and the tenant databases",
    "FSC543": "hand-written SQL names a tenant-scoped object (schema per tenant)",
    # -- FSC9xx: environment ------------------------------------------------------------------
    "FSC900": "PostgreSQL binaries not found",
    "FSC901": "embedded PostgreSQL failed to start",
    "FSC902": "cannot connect to the database",
}
