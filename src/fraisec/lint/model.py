"""What the linter knows about a set of SQL files: frozen records, one per statement fact.

The parser (``parse.py``) turns statements into these records; ``LintModel`` merges them
(a table's RLS, its policies and its indexes may sit in different files) and answers the
questions the rules ask. Relation names are keyed by their bare, case-folded name: a
hand-written migration set refers to ``tb_project`` and ``app.tb_project`` interchangeably
through ``search_path``, and two relations with the same bare name in different schemas are
rare enough in one project to accept the ambiguity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

from fraisec.diagnostics import Location

if TYPE_CHECKING:
    from sqlglot import exp

    from fraisec.lint.source import Statement

__all__ = [
    "Column", "Expr", "ForeignKey", "Function", "FunctionAlter", "Grant", "Key", "LintModel",
    "Policy", "RelationRef", "RlsAction", "Role", "Span", "Table", "TableOwner", "View",
    "ViewOptions", "DefaultPrivilegeRevoke",
]


@dataclass(frozen=True)
class Span:
    """A position inside a statement: enough to give a finding its file:line."""

    stmt: "Statement"
    offset: int = 0

    @property
    def line(self) -> int:
        return self.stmt.line_at(self.offset)

    @property
    def location(self) -> Location:
        absolute = self.stmt.start + self.offset
        return Location(file=self.stmt.file.name, line=self.line,
                        column=self.stmt.file.column_of(absolute))

    @property
    def statement_lines(self) -> tuple[int, int]:
        return (self.stmt.line, self.stmt.line_at(len(self.stmt.raw)))


@dataclass(frozen=True)
class Expr:
    """A piece of SQL inside a statement (a policy's USING, a view body, a function body).

    ``masked`` has the same length as ``raw``; ``tree`` is sqlglot's reading of ``raw``, or
    None when sqlglot cannot read it (then rules fall back to the masked text).
    """

    raw: str
    masked: str
    span: Span
    tree: "exp.Expression | None" = field(default=None, compare=False)

    def at(self, local_offset: int) -> Span:
        return Span(self.span.stmt, self.span.offset + local_offset)


@dataclass(frozen=True)
class RelationRef:
    """A relation read or written by a piece of SQL."""

    name: str
    schema: str | None
    span: Span


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    random_default: bool  # DEFAULT gen_random_uuid()/uuid_generate_v4(): never a business key
    span: Span


@dataclass(frozen=True)
class Key:
    """A PRIMARY KEY, UNIQUE constraint or index; ``columns`` holds None for expressions."""

    table: str
    columns: tuple[str | None, ...]
    unique: bool
    primary: bool
    span: Span


@dataclass(frozen=True)
class ForeignKey:
    """``FOREIGN KEY (columns) REFERENCES ref_table (ref_columns)``; ``ref_columns`` is empty
    when the statement names none (the referenced table's primary key)."""

    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class TableOwner:
    """``ALTER TABLE t OWNER TO role``."""

    table: str
    owner: str
    span: Span


@dataclass(frozen=True)
class Table:
    name: str
    schema: str | None
    columns: tuple[Column, ...]
    span: Span

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class RlsAction:
    table: str
    action: str  # enable | disable | force | no force
    span: Span


@dataclass(frozen=True)
class Policy:
    name: str
    table: str
    permissive: bool
    command: str  # ALL | SELECT | INSERT | UPDATE | DELETE
    roles: tuple[str, ...]
    using: Expr | None
    check: Expr | None
    span: Span


@dataclass(frozen=True)
class View:
    name: str
    schema: str | None
    materialized: bool
    security_invoker: bool
    body: Expr | None
    reads: tuple[RelationRef, ...]
    span: Span
    security_barrier: bool = False
    check_option: bool = False  # WITH [CASCADED | LOCAL] CHECK OPTION


@dataclass(frozen=True)
class ViewOptions:
    """``ALTER VIEW v SET (security_invoker = …)``."""

    name: str
    security_invoker: bool | None
    span: Span


@dataclass(frozen=True)
class Function:
    name: str
    schema: str | None
    arg_types: tuple[str, ...]
    language: str
    definer: bool
    search_path: str | None  # the SET search_path value as written, None when not pinned
    body: Expr | None
    reads: tuple[RelationRef, ...]
    calls: tuple[str, ...]
    span: Span
    returns_trigger: bool = False  # trigger functions cannot be called directly
    arg_names: tuple[str | None, ...] = ()  # parallel to arg_types; None when unnamed

    @property
    def signature(self) -> str:
        qual = f"{self.schema}." if self.schema else ""
        return f"{qual}{self.name}({', '.join(self.arg_types)})"


@dataclass(frozen=True)
class FunctionAlter:
    """``ALTER FUNCTION f(...) SECURITY DEFINER | SET search_path … | OWNER TO r``."""

    name: str
    definer: bool | None
    search_path: str | None
    owner: str | None
    span: Span


@dataclass(frozen=True)
class Grant:
    grant: bool  # False for REVOKE
    privileges: tuple[str, ...]  # upper-cased; ALL for ALL [PRIVILEGES]
    kind: str  # TABLE | FUNCTION | SCHEMA | … as written (TABLE when omitted)
    objects: tuple[str, ...]  # bare names; "*schema" for ALL … IN SCHEMA schema
    grantees: tuple[str, ...]  # lower-cased; "public" for PUBLIC
    span: Span


@dataclass(frozen=True)
class DefaultPrivilegeRevoke:
    """``ALTER DEFAULT PRIVILEGES [IN SCHEMA s…] REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC``."""

    schemas: tuple[str, ...]  # empty: every schema
    span: Span


@dataclass(frozen=True)
class Role:
    name: str
    bypassrls: bool
    span: Span


@dataclass(frozen=True)
class LintModel:
    """Every fact from every statement of the linted set, and derived lookups."""

    tables: tuple[Table, ...] = ()
    keys: tuple[Key, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    table_owners: tuple[TableOwner, ...] = ()
    rls: tuple[RlsAction, ...] = ()
    policies: tuple[Policy, ...] = ()
    views: tuple[View, ...] = ()
    view_options: tuple[ViewOptions, ...] = ()
    functions: tuple[Function, ...] = ()
    function_alters: tuple[FunctionAlter, ...] = ()
    grants: tuple[Grant, ...] = ()
    default_revokes: tuple[DefaultPrivilegeRevoke, ...] = ()
    roles: tuple[Role, ...] = ()
    tenant_columns: tuple[str, ...] = ()
    statements: tuple["Statement", ...] = ()

    # -- tables --------------------------------------------------------------------------
    @cached_property
    def table_by_name(self) -> dict[str, Table]:
        return {t.name: t for t in self.tables}

    def keys_of(self, table: str) -> list[Key]:
        return [k for k in self.keys if k.table == table]

    def rls_state(self, table: str) -> tuple[RlsAction | None, RlsAction | None]:
        """(the last ENABLE, the last FORCE) still in effect, in statement order."""
        enabled = forced = None
        for act in self.rls:
            if act.table != table:
                continue
            if act.action == "enable":
                enabled = act
            elif act.action == "disable":
                enabled = None
            elif act.action == "force":
                forced = act
            elif act.action == "no force":
                forced = None
        return enabled, forced

    def policies_on(self, table: str) -> list[Policy]:
        return [p for p in self.policies if p.table == table]

    def primary_key(self, table: str) -> tuple[str | None, ...]:
        return next((k.columns for k in self.keys_of(table) if k.primary), ())

    @cached_property
    def policy_roles(self) -> frozenset[str]:
        """Every role a policy names (``public`` when one applies to every role)."""
        return frozenset(r for p in self.policies for r in p.roles)

    def write_only(self, table: str) -> bool:
        """The API may only INSERT: policies exist and none filters reads (an outbox, a log
        a relay reads as the owner). Such a table has no tenant-filtered query."""
        policies = self.policies_on(table)
        return bool(policies) and all(p.command == "INSERT" for p in policies)

    def tenant_column(self, table: str) -> Column | None:
        t = self.table_by_name.get(table)
        if t is None:
            return None
        return next((t.column(c) for c in self.tenant_columns if t.column(c)), None)

    @cached_property
    def tenant_tables(self) -> frozenset[str]:
        """Tables with a tenant column, RLS enabled, or policies (see docs/lint.md)."""
        names = {t.name for t in self.tables if self.tenant_column(t.name)}
        names |= {a.table for a in self.rls if a.action == "enable"}
        names |= {p.table for p in self.policies}
        return frozenset(names)

    # -- views ---------------------------------------------------------------------------
    @cached_property
    def view_by_name(self) -> dict[str, View]:
        return {v.name: v for v in self.views}

    def view_is_invoker(self, view: View) -> bool:
        state = view.security_invoker
        for opt in self.view_options:
            if opt.name == view.name and opt.security_invoker is not None:
                state = opt.security_invoker
        return state

    def base_tables(self, relation: str, seen: frozenset[str] = frozenset()) -> set[str]:
        """Tables a relation reads, looking through views (cycles cut)."""
        view = self.view_by_name.get(relation)
        if view is None:
            return {relation}
        out: set[str] = set()
        for ref in view.reads:
            if ref.name not in seen:
                out |= self.base_tables(ref.name, seen | {relation})
        return out

    # -- functions -----------------------------------------------------------------------
    @cached_property
    def function_by_name(self) -> dict[str, list[Function]]:
        out: dict[str, list[Function]] = {}
        for f in self.functions:
            out.setdefault(f.name, []).append(f)
        return out

    def alters_of(self, fn: Function) -> list[FunctionAlter]:
        return [a for a in self.function_alters if a.name == fn.name]

    def is_definer(self, fn: Function) -> bool:
        state = fn.definer
        for alt in self.alters_of(fn):
            if alt.definer is not None:
                state = alt.definer
        return state

    def search_path(self, fn: Function) -> str | None:
        value = fn.search_path
        for alt in self.alters_of(fn):
            if alt.search_path is not None:
                value = alt.search_path
        return value

    def function_owner(self, fn: Function) -> str | None:
        """The role of the last ``ALTER FUNCTION … OWNER TO``; None when the SQL does not say."""
        owners = [a.owner for a in self.alters_of(fn) if a.owner]
        return owners[-1] if owners else None

    def owner_bypasses_rls(self, fn: Function) -> bool:
        """True when ALTER FUNCTION … OWNER TO names a role created here WITH BYPASSRLS."""
        owners = [a.owner for a in self.alters_of(fn) if a.owner]
        bypass = {r.name for r in self.roles if r.bypassrls}
        return bool(owners) and owners[-1] in bypass

    def grants_on(self, names: Iterable[str]) -> list[Grant]:
        wanted = set(names)
        return [g for g in self.grants if wanted & set(g.objects)]
