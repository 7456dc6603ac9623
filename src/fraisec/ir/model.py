"""The IR: frozen models, the single truth every later stage reads.

Built from a load's raw definitions by ``fraisec.ir.build``. Names (``tb_``, ``v_``, ``fn_``,
``fk_``, camelCase) are filled in there, from ``fraisec.ir.naming``, so readers never derive them.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, Literal

from fraisec.diagnostics import Location

__all__ = [
    "ON_DELETE_ACTIONS", "Argument", "Default", "EntityInfo", "EnumType", "Field", "InjectParam", "InputType",
    "Interface", "Kind", "Mutation", "ObjectType", "Observer", "Query", "Scalar", "Schema",
    "Settings", "Tenancy", "TypeRef", "Union",
]


# Foreign key ON DELETE actions a relation may declare (fq.field(on_delete=…)).
ON_DELETE_ACTIONS = ("CASCADE", "RESTRICT", "NO ACTION", "SET NULL", "SET DEFAULT")


class _Frozen:
    """Frozen, keyword-only dataclasses (each subclass is made one when it is defined).

    These were pydantic models; importing pydantic and building a validator per model cost every
    ``compile`` about as much CPU as the FraiseQL SDK's whole export. What the models relied on
    pydantic for is kept: construction by keyword only, unknown keywords refused, a ``{}``
    default fresh for each instance, lists given for tuple fields stored as tuples (nested too),
    a kind given by value made a :class:`Kind`, and ``model_copy(update=…)``."""

    _tuple_fields: tuple[str, ...] = ()
    _kind_fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        annotations = cls.__dict__.get("__annotations__", {})
        for name in annotations:
            if isinstance(cls.__dict__.get(name), dict):
                setattr(cls, name, dataclasses.field(default_factory=dict))
        dataclasses.dataclass(frozen=True, kw_only=True)(cls)
        cls._tuple_fields = tuple(n for n, a in annotations.items() if str(a).startswith("tuple["))
        cls._kind_fields = tuple(n for n, a in annotations.items() if str(a) == "Kind")

    def __post_init__(self) -> None:
        for name in self._tuple_fields:
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                object.__setattr__(self, name, _tupled(value))
        for name in self._kind_fields:
            value = getattr(self, name)
            if not isinstance(value, Kind):
                object.__setattr__(self, name, Kind(value))

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Any:
        """A copy with ``update`` applied (as pydantic's, whose name the callers use)."""
        return dataclasses.replace(self, **(update or {}))


def _tupled(value: list | tuple) -> tuple:
    return tuple(_tupled(v) if isinstance(v, list) else v for v in value)


DEFAULT_ROLES = ("owner", "admin", "member")


class Kind(str, Enum):
    SCALAR = "scalar"
    ENUM = "enum"
    OBJECT = "object"  # @type, @entity and @error classes
    INPUT = "input"
    INTERFACE = "interface"
    UNION = "union"


class TypeRef(_Frozen):
    name: str  # GraphQL name of the type (of the items, for a list)
    kind: Kind
    nullable: bool = False
    is_list: bool = False
    item_nullable: bool = False

    @property
    def graphql(self) -> str:
        """The SDK's spelling in schema.json: ``String``, ``[String!]``."""
        if not self.is_list:
            return self.name
        return f"[{self.name}{'' if self.item_nullable else '!'}]"


class Default(_Frozen):
    """A column default: a literal value, or SQL written by the schema's author (``now()``)."""

    kind: Literal["literal", "sql"]
    value: str | int | float | bool | None


class Field(_Frozen):
    name: str  # Python name = the view's data key = the column name (snake_case)
    graphql_name: str
    type: TypeRef
    description: str | None = None
    location: Location | None = None
    # Only for @input fields and arguments: the Python default, emitted as "default".
    has_default: bool = False
    default_value: Any = None
    # Only for entity fields:
    column: str | None = None  # None for computed and list fields
    sql_type: str | None = None  # for scalar and enum columns
    column_default: Default | None = None
    unique: bool = False
    index: bool = False
    expression: str | None = None  # computed field: SQL with {row} and {schema}
    renamed_from: str | None = None
    relation: str | None = None  # target entity name when the field is a foreign key
    on_delete: str | None = None
    # Maintained by a trigger, never written by arguments: "now" (fq.now(on_update=True)) or
    # "user" (fq.current_user()); on_update: set on every UPDATE too, else only on INSERT.
    maintain: Literal["now", "user", "slug"] | None = None
    maintain_on_update: bool = False
    slug_source: str | None = None  # maintain == "slug": the field it is derived from
    # A state field's allowed moves, old value -> new values; any other change is refused.
    transitions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # fq.count / fq.sum: (kind, entity counted, field summed or None, its relation field to here)
    aggregate: tuple[str, str, str | None, str | None] | None = None  # via resolved by build
    sdk: dict[str, Any] = {}  # SDK keys emitted as-is (requires_scope, on_deny, deprecated, …)


class IndexDecl(_Frozen):
    """``fq.index(...)``: an index kind beyond the default btree over field columns."""

    columns: tuple[str, ...]
    desc: tuple[str, ...] = ()  # columns sorted descending
    using: Literal["btree", "gin", "gist", "brin", "hash"] = "btree"
    where: str | None = None  # the author's SQL predicate (a partial index)
    include: tuple[str, ...] = ()
    unique: bool = False


class EntityInfo(_Frozen):
    """What makes an object type table-backed."""

    table: str
    view: str
    pk_column: str
    tenant_field: str | None = None  # the relation field to the tenant entity
    is_tenant_root: bool = False
    has_identifier: bool = False
    uniques: tuple[tuple[str, ...], ...] = ()  # field names
    indexes: tuple[tuple[str, ...], ...] = ()
    index_decls: tuple[IndexDecl, ...] = ()
    activity_log: bool = False
    renamed_from: str | None = None
    # Writes hand-written db/ functions make as the API role: {"INSERT": "admin", "DELETE": None}
    # (None: any member). Generated mutations declare their own; nothing else is granted.
    writes: tuple[tuple[str, str | None], ...] = ()
    # Soft delete: the field holding the deletion time (``deleted_at``); views show live rows,
    # DELETE mutations set it, RESTORE clears it, PURGE deletes the row.
    soft_delete: str | None = None
    # Full-text search: (column, weight A-D) feeding a generated tsvector column, and its
    # text search configuration.
    search: tuple[tuple[str, str], ...] = ()
    search_language: str = "english"
    # Filtered views: (name suffix, predicate with {row}) -> v_<x>_<suffix>
    views: tuple[tuple[str, str], ...] = ()
    # The relation field to the user that owns each row: only its owner sees or writes it
    # (within the tenant guard), e.g. a user's own orders.
    owned_by: str | None = None
    # Invitations into the tenancy's membership: a hashed token, an expiry, acceptance by the
    # invitee (INVITE / ACCEPT / REVOKE mutations; accepting runs as the privileged role).
    invitation: bool = False
    # What the service role (webhooks, an operator's dashboard: requests without a user or a
    # tenant) may do on this table, across tenants: e.g. ("SELECT", "UPDATE").
    service: tuple[str, ...] = ()
    # At most this many rows per tenant (the author's SQL, with {tenant} and {schema}), checked
    # by the generated CREATE mutations: failed:quota_exceeded beyond it.
    quota: str | None = None
    # What hand-written privileged mutations (``@fq.mutation(sql_source=…, privileged=True)``)
    # may do on this table as the privileged role, across tenants: e.g. ("SELECT", "DELETE").
    privileged: tuple[str, ...] = ()
    # Reference rows the migrations write (plans): each row's (field, value) pairs, keyed by
    # its identifier; sorted by identifier. Values are str, int, float, bool, Decimal or None.
    seed: tuple[tuple[tuple[str, Any], ...], ...] = ()
    # An existing table fraisec reads but never creates, alters or drops (an auth service's
    # users): (schema, table). Its key (``pk_column``) is its uuid ``id``; references to it are
    # uuid foreign keys; its declared fields are the columns the views may read.
    external: tuple[str, str] | None = None
    # Database per tenant with a shared database (seed 002): "shared" puts the entity in the
    # shared database, "tenant" (the default there) in every tenant database.
    database: str | None = None


class ObjectType(_Frozen):
    name: str
    fields: tuple[Field, ...]
    sql_source: str | None = None
    sql_source_explicit: bool = False  # written by the author, not synthesised
    description: str | None = None
    is_error: bool = False
    entity: EntityInfo | None = None
    sdk: dict[str, Any] = {}  # implements, requires_role, relay, …
    location: Location | None = None

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


class EnumType(_Frozen):
    name: str
    values: tuple[tuple[str, str | int], ...]
    description: str | None = None
    location: Location | None = None
    # @enum(native=True): a PostgreSQL enum type (``sql_type``, qualified) instead of text with
    # a CHECK. Not in schema.json: the runtime sees the same GraphQL enum either way.
    sql_type: str | None = None
    renamed_from: tuple[tuple[str, str], ...] = ()  # (new value, old value): RENAME VALUE


class InputType(_Frozen):
    name: str
    fields: tuple[Field, ...]
    description: str | None = None
    location: Location | None = None


class Interface(_Frozen):
    name: str
    fields: tuple[Field, ...]
    description: str | None = None
    location: Location | None = None


class Union(_Frozen):
    name: str
    members: tuple[str, ...]
    description: str | None = None
    location: Location | None = None


class Scalar(_Frozen):
    name: str
    description: str | None = None
    location: Location | None = None


class InjectParam(_Frozen):
    name: str  # the SQL column/parameter name (not recased)
    source: str  # "jwt" | "jwt_optional"
    claim: str


class Argument(_Frozen):
    name: str
    graphql_name: str
    type: TypeRef
    has_default: bool = False
    default_value: Any = None
    location: Location | None = None


class Query(_Frozen):
    name: str
    graphql_name: str
    return_type: TypeRef
    arguments: tuple[Argument, ...]
    sql_source: str | None = None
    inject: tuple[InjectParam, ...] = ()
    description: str | None = None
    rest_path: str | None = None
    rest_method: str | None = None
    sdk: dict[str, Any] = {}  # cache_ttl_seconds, requires_role, deprecated, …
    location: Location | None = None
    # order_by=["-created_at", "identifier"]: (column, descending) in order; the view sorts so
    # (the entity's pk last, so pages never overlap) and schema.json says pagination_order "none".
    order_by: tuple[tuple[str, bool], ...] = ()


class Mutation(_Frozen):
    name: str
    graphql_name: str
    return_type: TypeRef
    arguments: tuple[Argument, ...]
    sql_source: str  # the function the runtime calls
    operation: str | None = None  # CREATE | INSERT | UPDATE | UPSERT | DELETE | RESTORE | PURGE | CUSTOM
    inject: tuple[InjectParam, ...] = ()
    description: str | None = None
    rest_path: str | None = None
    rest_method: str | None = None
    requires_role: str | None = None
    generated: bool = False  # fraisec writes the function (else it is hand-written in db/)
    entity: str | None = None  # the entity a generated mutation writes
    # argument name -> entity field it writes (a relation field takes the target's uuid)
    argument_fields: dict[str, str] = {}
    # An UPDATE's ``clear: list[str] | None = None`` argument: the nullable fields it may set to
    # NULL (a NULL argument means "unchanged"); empty when the mutation declares no such argument.
    clearable: tuple[str, ...] = ()
    # UPSERT: the fields of the unique key that decides "the same row" (the tenant is added),
    # and the fields added to the stored value instead of replacing it (usage counters).
    conflict: tuple[str, ...] = ()
    increment: tuple[str, ...] = ()
    # Run by the service role, without a tenant context (a billing webhook): EXECUTE for it alone.
    service: bool = False
    requires_permission: str | None = None  # a name of tenancy(permissions=…)
    # A batch CREATE: the @input type of its one ``items`` argument (a list); argument_fields
    # then maps the input's fields. All rows or none, in one call.
    batch: str | None = None
    # A hand-written db/ function that runs as the privileged role (SECURITY DEFINER, owned by
    # it, set by fraisec); the contract check requires a pinned search_path and the tenant
    # derived from the context helpers.
    privileged: bool = False
    sdk: dict[str, Any] = {}
    location: Location | None = None


class Subscription(_Frozen):
    """``@fq.subscription``: the runtime pushes the changes of ``entity_type``, which the
    observers' outbox events carry (one observer on the entity at least, FSC225)."""

    name: str
    graphql_name: str
    return_type: TypeRef
    arguments: tuple[Argument, ...]
    entity_type: str
    topic: str | None = None
    filter: dict[str, Any] | None = None
    description: str | None = None
    sdk: dict[str, Any] = {}
    location: Location | None = None


class Observer(_Frozen):
    name: str
    entity: str
    event: Literal["INSERT", "UPDATE", "DELETE"]
    subject: str
    activity: bool = False  # also write a row to the activity-log entity
    location: Location | None = None


class Settings(_Frozen):
    """Where the generated objects live and which roles they serve."""

    schema_name: str = "app"  # exposed: tables, views, mutation functions
    private_schema: str = "app_private"  # context helpers, outbox
    api_role: str = "app_user"  # the role requests run as (SET LOCAL ROLE)
    owner_role: str = "app_owner"  # owns the objects; never a superuser
    # fraisec.toml's [distribution] engine ("citus"), set by load_ir from the project holding the
    # module: it changes the keys of tenant tables (docs/scale-out.md), never schema.json.
    distribution: str | None = None
    # Schema per tenant: the entities generated into each tenant's schema (set by
    # render.strategy on the split IR, never by the module): their observers name the tenant
    # by the schema the changed row is in. Empty in every other strategy.
    tenant_schema_entities: tuple[str, ...] = ()


class Tenancy(_Frozen):
    """Shared schema + RLS: tenant rows carry a column pointing at the tenant entity."""

    tenant_entity: str
    claim: str = "org_id"  # JWT claim holding the selected tenant's uuid
    setting: str = "app.tenant_id"  # the per-request setting the runtime sets from the claim
    user_setting: str = "app.user_id"  # the per-request setting naming the user (from user_claim)
    user_entity: str | None = None
    user_claim: str = "sub"  # JWT claim holding the user's uuid
    membership_entity: str | None = None
    role_field: str = "role"
    roles: tuple[str, ...] = DEFAULT_ROLES  # strongest first
    # Named permissions and the roles that hold them, beyond the ordered roles:
    # {"billing.manage": ("owner",), "projects.archive": ("owner", "admin", "member")}
    permissions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    location: Location | None = None


class Schema(_Frozen):
    module_file: str | None = None
    types: tuple[ObjectType, ...] = ()
    enums: tuple[EnumType, ...] = ()
    inputs: tuple[InputType, ...] = ()
    interfaces: tuple[Interface, ...] = ()
    unions: tuple[Union, ...] = ()
    scalars: tuple[Scalar, ...] = ()
    queries: tuple[Query, ...] = ()
    mutations: tuple[Mutation, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    observers: tuple[Observer, ...] = ()
    extensions: tuple[str, ...] = ()  # fq.extension("pgcrypto"), created before everything
    tenancy: Tenancy | None = None
    settings: Settings = Settings()

    @property
    def entities(self) -> tuple[ObjectType, ...]:
        return tuple(t for t in self.types if t.entity is not None)

    def type(self, name: str) -> ObjectType | None:
        return next((t for t in self.types if t.name == name), None)
