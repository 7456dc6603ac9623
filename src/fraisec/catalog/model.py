"""Frozen per-kind models of a PostgreSQL catalog, keyed by a canonical signature.

A :class:`Catalog` holds one mapping per object kind. Keys are PostgreSQL's own quoted,
schema-qualified names (``public.orders``; functions as ``public.f(integer,text[])``; objects
that live on a table as ``<table key>.<quoted name>``), so the same object has the same key on
both sides of a diff. Every definition text is PostgreSQL's own deparse (``pg_get_*def``), which
makes PostgreSQL the normaliser: comparing two catalogs is comparing like with like.

``ObjRef(kind, key)`` names any object across kinds; dependency edges, grants and comments use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

__all__ = [
    "Catalog", "Collation", "Column", "Comment", "Composite", "CompositeAttr", "Constraint",
    "Dependency", "Domain", "Enum", "Extension", "Function", "Grant", "Index", "ObjRef", "Policy",
    "Schema", "Sequence", "SeqOptions", "Table", "Trigger", "Unsupported", "View", "KINDS",
    "Rule", "Publication", "PublishedTable", "EventTrigger", "DefaultPrivilege",
    "default_acl", "OWNER_LACKS", "Range", "ForeignDataWrapper", "ForeignServer", "UserMapping",
    "Options",
]


@dataclass(frozen=True, order=True, slots=True)
class ObjRef:
    """Any catalog object: its kind (a :data:`KINDS` name) and its key in that kind's map."""

    kind: str
    key: str

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    owner: str


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    schema: str
    version: str
    relocatable: bool = True  # ALTER EXTENSION … SET SCHEMA works (else: drop and create)


# FDW, server, user mapping, foreign table and foreign column options: (name, value) pairs sorted
# by name. A secret's value is never kept: it is a keyed digest (see fraisec.catalog.options).
Options = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ForeignDataWrapper:
    name: str
    owner: str
    handler: str | None  # schema-qualified function name, as HANDLER takes it
    validator: str | None
    options: Options = ()


@dataclass(frozen=True, slots=True)
class ForeignServer:
    name: str
    owner: str
    fdw: str  # the wrapper's name
    type: str | None
    version: str | None
    options: Options = ()


# The user of a user mapping for whoever runs the SQL (the role that introspected the side),
# and for every role: how CREATE USER MAPPING spells them (unquoted keywords, never role names).
CURRENT_USER = "CURRENT_USER"
PUBLIC = "PUBLIC"


@dataclass(frozen=True, slots=True)
class UserMapping:
    server: str  # the server's name
    user: str  # CURRENT_USER, PUBLIC, or a role name
    options: Options = ()

    @property
    def user_sql(self) -> str:
        from fraisec.render.quoting import quote_ident

        return self.user if self.user in (CURRENT_USER, PUBLIC) else quote_ident(self.user)

    @property
    def key(self) -> str:
        from fraisec.render.quoting import quote_ident

        return f"FOR {self.user_sql} SERVER {quote_ident(self.server)}"


@dataclass(frozen=True, slots=True)
class Collation:
    schema: str
    name: str
    props: tuple[tuple[str, str], ...]  # sorted (pg_collation column, value) pairs


@dataclass(frozen=True, slots=True)
class Enum:
    schema: str
    name: str
    owner: str
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompositeAttr:
    name: str
    type: str
    collation: str | None


@dataclass(frozen=True, slots=True)
class Composite:
    schema: str
    name: str
    owner: str
    attributes: tuple[CompositeAttr, ...]


@dataclass(frozen=True, slots=True)
class Range:
    """A range type (and the multirange type PostgreSQL makes with it)."""

    schema: str
    name: str
    owner: str
    definition: str  # CREATE TYPE … AS RANGE (…), every option PostgreSQL would not pick itself


@dataclass(frozen=True, slots=True)
class Domain:
    schema: str
    name: str
    owner: str
    base_type: str
    not_null: bool
    default: str | None
    collation: str | None
    constraints: tuple[tuple[str, str], ...]  # (name, definition)


@dataclass(frozen=True, slots=True)
class SeqOptions:
    type: str
    start: int
    increment: int
    min: int
    max: int
    cache: int
    cycle: bool


@dataclass(frozen=True, slots=True)
class Sequence:
    schema: str
    name: str
    owner: str
    options: SeqOptions
    owned_by: tuple[str, str] | None  # (table key, column name) for OWNED BY
    unlogged: bool = False


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None
    generated: str | None  # the expression of a GENERATED ALWAYS AS (...) STORED column
    identity: str  # '' | 'a' (ALWAYS) | 'd' (BY DEFAULT)
    identity_sequence: tuple[str, SeqOptions] | None  # (sequence key, options)
    collation: str | None
    is_local: bool  # False: inherited only (from a parent or partitioned table)
    fdw_options: Options = ()  # a foreign table's column options


@dataclass(frozen=True, slots=True)
class Table:
    schema: str
    name: str
    kind: str  # 'r' ordinary, 'p' partitioned, 'f' foreign
    owner: str
    unlogged: bool
    rls_enabled: bool
    rls_forced: bool
    partition_key: str | None
    partition_of: str | None  # parent table key when this is a partition
    partition_bound: str | None
    inherits: tuple[str, ...]  # parent keys (ordinary inheritance)
    options: tuple[str, ...]
    columns: tuple[Column, ...]
    server: str | None = None  # a foreign table's server
    fdw_options: Options = ()  # a foreign table's OPTIONS

    @property
    def is_foreign(self) -> bool:
        return self.kind == "f"

    @property
    def key(self) -> str:
        from fraisec.render.quoting import qualified

        return qualified(self.schema, self.name)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True, slots=True)
class Constraint:
    table: str  # table key
    name: str
    type: str  # p u f c x
    definition: str  # pg_get_constraintdef (includes DEFERRABLE, NOT VALID, ON DELETE …)
    is_local: bool
    schema: str


@dataclass(frozen=True, slots=True)
class Index:
    schema: str
    name: str
    table: str  # table or materialized view key
    definition: str  # pg_get_indexdef
    attached: bool  # a partition's index attached to its parent's index: PostgreSQL makes it


@dataclass(frozen=True, slots=True)
class View:
    schema: str
    name: str
    materialized: bool
    owner: str
    definition: str
    options: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Function:
    schema: str
    name: str
    kind: str  # 'f' function, 'p' procedure, 'a' aggregate, 'w' window function
    owner: str
    identity_args: str
    result: str | None
    definition: str  # pg_get_functiondef (an aggregate's built from pg_aggregate): CREATE OR REPLACE
    arguments: str = ""  # with names, modes and defaults (pg_get_function_arguments)

    @property
    def is_procedure(self) -> bool:
        return self.kind == "p"

    @property
    def is_aggregate(self) -> bool:
        return self.kind == "a"


@dataclass(frozen=True, slots=True)
class Trigger:
    table: str  # table or view key
    name: str
    definition: str
    enabled: str  # O A R D


@dataclass(frozen=True, slots=True)
class Policy:
    table: str
    name: str
    permissive: bool
    command: str
    roles: tuple[str, ...]
    using: str | None
    check: str | None


@dataclass(frozen=True, slots=True)
class Rule:
    """A rewrite rule on a table (a view's own ``_RETURN`` rule is the view)."""

    table: str
    name: str
    definition: str  # pg_get_ruledef: a complete CREATE RULE statement
    enabled: str  # O A R D


@dataclass(frozen=True, slots=True)
class PublishedTable:
    table: str  # table key
    columns: tuple[str, ...] | None  # a column list, or None for every column
    where: str | None  # a row filter


@dataclass(frozen=True, slots=True)
class Publication:
    name: str
    owner: str
    all_tables: bool
    publish: tuple[str, ...]  # of insert, update, delete, truncate
    via_root: bool
    tables: tuple[PublishedTable, ...]  # sorted by table key
    schemas: tuple[str, ...]  # TABLES IN SCHEMA, sorted


@dataclass(frozen=True, slots=True)
class EventTrigger:
    name: str
    owner: str
    event: str
    tags: tuple[str, ...]  # WHEN TAG IN (…), sorted; empty: every tag
    function: str  # the function's key
    enabled: str  # O A R D


# The grantee of a privilege the object's owner lacks (revoked from itself): owners differ between
# a shadow and a real database, so the fact names no role.
OWNER_LACKS = "#owner"


@dataclass(frozen=True, slots=True)
class Grant:
    target: ObjRef
    column: str | None
    grantee: str
    privilege: str
    grantable: bool


@dataclass(frozen=True, slots=True)
class DefaultPrivilege:
    """One privilege ``ALTER DEFAULT PRIVILEGES`` gives on objects ``role`` creates later.

    ``schema`` None is the role's global entry; ``objtype`` is pg_default_acl's letter (r
    relations, S sequences, f functions, T types, n schemas). A global entry that revokes
    everything is one row with an empty ``grantee`` and ``privilege``."""

    role: str
    schema: str | None
    objtype: str
    grantee: str
    privilege: str
    grantable: bool


# What PostgreSQL gives on a new object with no default-privilege entry (acldefault): the owner
# everything (under its own name), PUBLIC EXECUTE on functions and USAGE on types.
_OWNER_DEFAULTS = {
    "r": ("INSERT", "SELECT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"),
    "S": ("USAGE", "SELECT", "UPDATE"), "f": ("EXECUTE",), "T": ("USAGE",),
    "n": ("USAGE", "CREATE"),
}
_PUBLIC_DEFAULTS = {"f": ("EXECUTE",), "T": ("USAGE",)}


def default_acl(role: str, objtype: str) -> frozenset[DefaultPrivilege]:
    """The built-in default a global entry of ``role`` for ``objtype`` replaces."""
    return frozenset(
        [DefaultPrivilege(role, None, objtype, role, p, False) for p in _OWNER_DEFAULTS[objtype]]
        + [DefaultPrivilege(role, None, objtype, "public", p, False)
           for p in _PUBLIC_DEFAULTS.get(objtype, ())])


@dataclass(frozen=True, slots=True)
class Comment:
    target: ObjRef
    column: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Dependency:
    """``dependent`` (optionally one of its columns) uses ``referenced`` (optionally a column)."""

    dependent: ObjRef
    referenced: ObjRef
    dependent_column: str | None = None
    referenced_column: str | None = None


@dataclass(frozen=True, slots=True)
class Unsupported:
    """An object of a kind fraisec cannot diff yet; reported by name, never skipped silently."""

    kind: str
    identity: str
    definition: str | None


# The kinds, in a stable order used for deterministic output.
KINDS: tuple[str, ...] = (
    "schema", "extension", "fdw", "server", "user_mapping", "collation", "enum", "composite", "range", "domain", "sequence",
    "table", "constraint", "index", "function", "view", "trigger", "policy", "rule",
    "publication", "event_trigger",
)


def _frozen(mapping: Mapping | None = None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class Catalog:
    """One database's schema: one read-only map per kind, plus edges, grants and comments."""

    schema: Mapping[str, Schema] = field(default_factory=_frozen)
    extension: Mapping[str, Extension] = field(default_factory=_frozen)
    fdw: Mapping[str, ForeignDataWrapper] = field(default_factory=_frozen)
    server: Mapping[str, ForeignServer] = field(default_factory=_frozen)
    user_mapping: Mapping[str, UserMapping] = field(default_factory=_frozen)
    collation: Mapping[str, Collation] = field(default_factory=_frozen)
    enum: Mapping[str, Enum] = field(default_factory=_frozen)
    composite: Mapping[str, Composite] = field(default_factory=_frozen)
    range: Mapping[str, Range] = field(default_factory=_frozen)
    domain: Mapping[str, Domain] = field(default_factory=_frozen)
    sequence: Mapping[str, Sequence] = field(default_factory=_frozen)
    table: Mapping[str, Table] = field(default_factory=_frozen)
    constraint: Mapping[str, Constraint] = field(default_factory=_frozen)
    index: Mapping[str, Index] = field(default_factory=_frozen)
    function: Mapping[str, Function] = field(default_factory=_frozen)
    view: Mapping[str, View] = field(default_factory=_frozen)
    trigger: Mapping[str, Trigger] = field(default_factory=_frozen)
    policy: Mapping[str, Policy] = field(default_factory=_frozen)
    rule: Mapping[str, Rule] = field(default_factory=_frozen)
    publication: Mapping[str, Publication] = field(default_factory=_frozen)
    event_trigger: Mapping[str, EventTrigger] = field(default_factory=_frozen)
    grants: frozenset[Grant] = frozenset()
    default_privileges: frozenset[DefaultPrivilege] = frozenset()
    comments: Mapping[tuple[ObjRef, str | None], Comment] = field(default_factory=_frozen)
    dependencies: tuple[Dependency, ...] = ()
    unsupported: tuple[Unsupported, ...] = ()
    # True for a live database read as is: every owner there was chosen by someone (an owner
    # equal to the connecting role too), where a shadow's objects are owned by its superuser.
    owners_chosen: bool = False
    current_user: str = "postgres"
    server_version: int = 0
    query_count: int = 0

    def objects(self, kind: str) -> Mapping:
        return getattr(self, kind)

    def get(self, ref: ObjRef):
        return self.objects(ref.kind).get(ref.key)

    def __contains__(self, ref: ObjRef) -> bool:
        return ref.key in self.objects(ref.kind)

    def without_schemas(self, schemas: set[str]) -> Catalog:
        """This catalog without the named schemas and everything in them (or attached to it)."""
        removed: set[ObjRef] = set()
        kept: dict[str, Mapping] = {}
        for kind in KINDS:
            keep = {}
            for key, obj in self.objects(kind).items():
                if self._in_schemas(kind, obj, schemas):
                    removed.add(ObjRef(kind, key))
                else:
                    keep[key] = obj
            kept[kind] = MappingProxyType(keep)
        if not removed:
            return self
        return replace(
            self, **kept,
            grants=frozenset(g for g in self.grants if g.target not in removed),
            default_privileges=frozenset(d for d in self.default_privileges
                                         if d.schema not in schemas),
            comments=MappingProxyType({k: c for k, c in self.comments.items()
                                       if k[0] not in removed}),
            dependencies=tuple(d for d in self.dependencies
                               if d.dependent not in removed and d.referenced not in removed))

    def _in_schemas(self, kind: str, obj: object, schemas: set[str]) -> bool:
        if kind == "schema":
            return obj.name in schemas  # type: ignore[attr-defined]
        schema = getattr(obj, "schema", None)
        if schema is None and hasattr(obj, "table"):  # triggers, policies, rules: on a table
            table = self.table.get(obj.table) or self.view.get(obj.table)  # type: ignore[attr-defined]
            schema = getattr(table, "schema", None)
        return schema in schemas
