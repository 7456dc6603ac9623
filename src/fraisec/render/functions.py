"""IR → SQL functions: context helpers, generated ``fn_*`` mutations, maintained columns, observers."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from fraisec.ir import naming
from fraisec.ir.model import Argument, Field, InjectParam, Kind, Mutation, ObjectType, Observer
from fraisec.ir.scalars import sql_type_for
from fraisec.render.enums import native_enum
from fraisec.render.model import VISIBLE_USERS, Model, ident, mutation_command, object_name
from fraisec.render.objects import (
    SEARCH_COLUMN, TOKEN_HASH_COLUMN, default_sql, entity_order, external_user_rule, soft_delete_column,
    trash_view_name,
)
from fraisec.render.quoting import qualified, quote_literal

__all__ = [
    "BatchFn", "MaintainFn", "MutationFn", "ObserverFn", "Outbox", "Param", "context_helper_signatures",
    "helpers_context", "internal_columns", "maintain_functions", "mutation_functions", "observer_functions",
    "outbox", "result_signatures", "tenant_uuid_signature",
]

NOTIFY_CHANNEL = "fraisec_outbox"
OUTBOX_ENTITY = "OutboxEvent"


def _setting(name: str) -> str:
    return f"NULLIF(current_setting({quote_literal(name)}, true), '')"


def helpers_context(model: Model) -> dict[str, object]:
    tenancy = model.schema.tenancy
    # One source of identity per request: the settings fraiseql.toml's [session_variables] sets
    # with set_config(…, true) on every request. The claims JSON is not consulted, so a value
    # left in another setting on a pooled connection cannot stand in for the request's user.
    claimed_user = f"{_setting(tenancy.user_setting if tenancy else 'app.user_id')}::uuid"
    ref = lambda e: {"table": model.table(e), "pk": e.entity.pk_column} if e is not None else None  # noqa: E731
    membership = model.membership
    return {
        # On Citus the helpers run inside shard queries, where reading a distributed or
        # reference table is a nested distributed query (docs/scale-out.md).
        "citus": model.citus,
        "claimed_user": claimed_user,
        "user_type": model.user_key_type,  # uuid for an external user table
        "tenant_uuid": model.root is not None and model.has_observers,
        "claimed_tenant": f"{_setting(tenancy.setting)}::uuid" if tenancy else "NULL",
        "root": ref(model.root),
        "user": ref(model.user),
        "visible_users": _visible_users(model),
        "membership": None if membership is None else {
            "table": model.table(membership),
            "tenant": model.membership_column(membership, model.root.name),
            "user": model.membership_column(membership, model.user.name),
            "role": model.role_column,
        },
    }


def _visible_users(model: Model) -> dict[str, object] | None:
    """An external user table has no policy of fraisec's and the API role no grant on it: the
    requests read it through this definer helper, which returns the declared columns of the
    users the user guard admits (the caller, the current tenant's members)."""
    user = model.external_user
    if user is None:
        return None
    return {"table": model.table(user), "rule": external_user_rule(model, "u.id"),
            "columns": [(f.column, f.sql_type or "uuid") for f in user.fields if f.column]}


def context_helper_signatures(model: Model) -> list[str]:
    """The SECURITY DEFINER context helpers (owned by the context role), as GRANT names them."""
    names = []
    if model.user is not None:
        names += ["fn_current_user_pk", "fn_current_user_id"]
        names += [VISIBLE_USERS] if model.external_user is not None else []
    if model.membership is not None:
        names += ["fn_current_tenant_pk", "fn_current_tenant_id"]
        names += ["fn_current_tenant_role"] if model.role_column else []
        names += ["fn_current_user_tenant_pks", "fn_current_tenant_user_pks"]
    elif model.root is not None:
        names += ["fn_current_tenant_pk", "fn_current_tenant_id"]
    return [f"{qualified(model.private, n)}()" for n in names]


def tenant_uuid_signature(model: Model) -> str | None:
    """The observers' lookup of a changed row's tenant uuid (callable by the observer role only)."""
    if model.root is None or not model.has_observers:
        return None
    return f"{qualified(model.private, 'fn_tenant_uuid')}(bigint)"


def result_signatures(model: Model) -> list[str]:
    app = ident(model.app)
    return [f"{qualified(model.private, 'fn_mutation_success')}(text, integer, text, uuid, text, jsonb, text[])",
            f"{qualified(model.private, 'fn_mutation_failure')}({app}.mutation_error_class, text, integer, text, text)"]


# -- mutations ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    name: str
    sql_type: str
    default: str | None


@dataclass(frozen=True)
class Lookup:
    var: str
    param: str
    table: str
    pk: str
    label: str
    live_only: str = ""  # soft delete: a deleted row is "not found"
    sql_type: str = "bigint"  # the key's type: uuid for an external table


@dataclass(frozen=True)
class MutationFn:
    template = "objects/mutation.sql.j2"
    name: str
    graphql_name: str
    operation: str  # CREATE | UPDATE | DELETE | RESTORE | PURGE
    command: str  # the SQL command it runs: a soft DELETE and a RESTORE are UPDATEs
    entity_type: str
    table: str
    view: str
    params: tuple[Param, ...]
    tenant_scoped: bool
    role_rule: str | None
    requires_role: str | None
    lookups: tuple[Lookup, ...]
    assignments: tuple[tuple[str, str], ...]
    id_param: str | None
    updated_fields: str
    status: str
    http_status: int
    message: str
    caller: str = ""  # the role granted EXECUTE: the API role, or the service role
    refusal: str = ""  # the message when the caller's role may not run it
    quota: str | None = None  # CREATE on a tenant entity with a quota: the limit's SQL
    quota_lock: str | None = None  # the per-tenant advisory lock key that serializes the count
    # Soft delete: the row filter (live rows; deleted ones for RESTORE) and where the entity is
    # read back from for the response (the trash view for deleted rows).
    row_filter: str = ""
    read_views: tuple[str, ...] = ()
    clear_param: str | None = None  # the UPDATE's clear list parameter
    clearable: tuple[str, ...] = ()  # field names it may clear
    conflict: tuple[str, ...] = ()  # UPSERT: the unique key's columns (tenant first)
    on_conflict: tuple[tuple[str, str], ...] = ()  # UPSERT: (column, value) set on conflict
    casts_enum: bool = False  # writes a native enum from text: an unknown value is 22P02

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(p.sql_type for p in self.params)})"


BATCH_PARAM = "p_items"
BATCH_MAX_ITEMS = 1000  # rows per call: one call is one transaction holding its locks


@dataclass(frozen=True)
class BatchFn(MutationFn):
    """A batch CREATE: ``fn_<name>(p_items jsonb)``, a JSON array of objects keyed like the
    input's fields. Each row goes through the single create's checks (tenant, role, quota,
    relation lookups, RLS); the rows are inserted in one subtransaction, so any failure undoes
    them all, and the response's ``entity`` is the array of created rows as the view shows them."""

    template = "objects/batch.sql.j2"
    items: tuple[tuple[str, str, str, str], ...] = ()  # (local variable, JSON key, its type, value read)
    max_items: int = BATCH_MAX_ITEMS


def mutation_functions(model: Model) -> list[MutationFn]:
    return [_batch(model, m) if m.batch else _mutation(model, m) for m in model.schema.mutations
            if m.generated and model.entity(m.entity) and m.operation not in ("ACCEPT", "SIGNUP")]


def _batch(model: Model, mutation: Mutation) -> BatchFn:
    """The single create's function for one row, its parameters turned into per-row locals."""
    item = next(i for i in model.schema.inputs if i.name == mutation.batch)
    rows = mutation.model_copy(update={"arguments": tuple(
        Argument(name=f.name, graphql_name=f.graphql_name, type=f.type, has_default=f.has_default,
                 default_value=f.default_value) for f in item.fields)})
    single = _mutation(model, rows)
    items = tuple((p.name, f.name, p.sql_type, _json_value(f.name, p.sql_type, p.default))
                  for p, f in zip(single.params, item.fields))
    fields = {k: getattr(single, k) for k in MutationFn.__dataclass_fields__}
    fields.update(params=(Param(BATCH_PARAM, "jsonb", None),), status="created", http_status=201)
    return BatchFn(**fields, items=items)


def _json_value(key: str, sql_type: str, default: str | None) -> str:
    """The SQL reading one key of the row's object as the parameter's type; an absent key takes
    the input field's default (NULL: the column's default)."""
    member = f"v_item -> {quote_literal(key)}"
    if sql_type == "jsonb":
        value = member
    elif sql_type.endswith("[]"):
        value = (f"CASE WHEN jsonb_typeof({member}) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text("
                 f"{member}))::{sql_type} END")
    else:
        value = f"(v_item ->> {quote_literal(key)})::{sql_type}"
    if default is not None and default != "NULL":
        value = f"CASE WHEN v_item ? {quote_literal(key)} THEN {value} ELSE {default} END"
    return value


def _param_name(name: str) -> str:
    return f"p_{name}"


def _inject_target(model: Model, entity: ObjectType, param: InjectParam) -> str | None:
    """The entity field an injected claim writes, by the rules declared arguments follow."""
    tenancy = model.schema.tenancy
    found = entity.field(param.name)
    if found is not None and found.column and not found.relation and found.name != "id":
        return found.name
    for f in entity.fields:
        if f.relation and param.name in (naming.relation_id_column(f.name), f.name):
            return f.name
    if tenancy is not None and entity.entity.tenant_field and param.claim == tenancy.claim:
        return entity.entity.tenant_field
    return None


def _param_type(field: Field | None, arg_type: object, model: Model | None = None) -> str:
    if field is not None and field.relation:
        return "uuid"
    if model is not None and native_enum(model, field) is not None:
        return "text"  # the runtime passes the GraphQL enum's value; cast where it is written
    if field is not None and field.sql_type:
        return field.sql_type
    if arg_type is None:
        return "text"
    base = "text" if arg_type.kind is Kind.ENUM else (
        sql_type_for(arg_type.name) if arg_type.kind is Kind.SCALAR else "jsonb")
    return base + "[]" if arg_type.is_list else base


def _params(model: Model, mutation: Mutation, entity: ObjectType) -> tuple[list[Param], dict[str, str]]:
    """Declared arguments in order, then injected ones: the order the runtime passes them.
    Returns the parameters and {parameter name: entity field written}."""
    params: list[Param] = []
    writes: dict[str, str] = {}
    defaulted = False
    for arg in mutation.arguments:
        target = mutation.argument_fields.get(arg.name)
        field = entity.field(target) if target else None
        default = _arg_default(arg) if arg.has_default else None
        defaulted = defaulted or default is not None
        params.append(Param(_param_name(arg.name), _param_type(field, arg.type, model), default))
        if target:
            writes[_param_name(arg.name)] = target
    for inject in mutation.inject:
        target = _inject_target(model, entity, inject)
        field = entity.field(target) if target else None
        # PostgreSQL needs a default on every parameter after one that has a default.
        params.append(Param(_param_name(inject.name), _param_type(field, None, model), "NULL" if defaulted else None))
        if target and target not in writes.values():
            writes[_param_name(inject.name)] = target
    return params, writes


def _arg_default(arg: Argument) -> str:
    value = arg.default_value
    return quote_literal(value) if value is None or isinstance(value, (str, int, float, bool)) else "NULL"


_OUTCOMES = {"CREATE": ("created", 201), "UPDATE": ("updated", 200), "DELETE": ("deleted", 200),
             "RESTORE": ("restored", 200), "PURGE": ("purged", 200), "UPSERT": ("upserted", 200),
             "INVITE": ("invited", 201), "REVOKE": ("revoked", 200)}


def _mutation(model: Model, mutation: Mutation) -> MutationFn:
    entity = model.entity(mutation.entity)
    operation = {"INSERT": "CREATE"}.get(mutation.operation, mutation.operation)
    params, writes = _params(model, mutation, entity)
    clear = _param_name("clear") if mutation.clearable else None
    base = "CREATE" if operation in ("UPSERT", "INVITE") else operation
    lookups, assignments, written = _writes(model, entity, base, writes, clear, mutation.clearable,
                                            tenant_var=None if mutation.service else "v_tenant")
    roles = model.mutation_roles(mutation)
    role_rule = model.roles_rule(roles) if roles is not None and model.role_column else None
    status, http = _OUTCOMES[operation]
    deleted = soft_delete_column(entity)
    view = qualified(model.app, entity.entity.view)
    row_filter, read_views = "", (view,)
    if deleted:
        live = "NOT NULL" if operation == "RESTORE" else "NULL"
        row_filter = "" if operation == "PURGE" else f" AND r.{ident(deleted)} IS {live}"
        trash = qualified(model.app, trash_view_name(entity))
        read_views = (view, trash) if operation == "PURGE" else (view,)
        if operation in ("DELETE", "RESTORE"):
            assignments = [(deleted, "now()" if operation == "DELETE" else "NULL")]
    if operation == "REVOKE":  # only a pending invitation can be revoked
        row_filter = " AND r.accepted_at IS NULL AND r.revoked_at IS NULL"
        assignments = [("revoked_at", "now()")]
    if operation == "INVITE":  # the token's hash is stored; the token is in the response only
        assignments = [*assignments, (TOKEN_HASH_COLUMN, "v_token_hash")]
    return MutationFn(
        name=qualified(model.app, mutation.sql_source), graphql_name=mutation.graphql_name,
        operation=operation, command=mutation_command(entity, mutation.operation) or "UPDATE",
        entity_type=entity.name, table=model.table(entity), view=view, params=tuple(params),
        tenant_scoped=bool(entity.entity.tenant_field) and not mutation.service, role_rule=role_rule,
        requires_role=mutation.requires_role, lookups=tuple(lookups), assignments=tuple(assignments),
        refusal=(f"requires permission {mutation.requires_permission}" if mutation.requires_permission
                 else f"requires role {mutation.requires_role}"),
        id_param=next((p for p, f in writes.items() if f == "id"), None),
        updated_fields=_updated_fields(base, written, clear), status=status, http_status=http,
        message=f"{entity.name} {status}", row_filter=row_filter, read_views=read_views,
        caller=model.service_role if mutation.service else model.api_role,
        **_quota(model, entity, operation, mutation),
        clear_param=clear, clearable=mutation.clearable, **_upsert(model, entity, mutation, assignments),
        casts_enum=any(native_enum(model, entity.field(f)) is not None for f, p in written if p),
    )


def _quota(model: Model, entity: ObjectType, operation: str, mutation: Mutation) -> dict[str, object]:
    """A CREATE on a tenant entity with a quota counts the tenant's rows first, under a
    per-tenant transaction lock so two concurrent creates cannot both pass the last slot."""
    if operation != "CREATE" or not entity.entity.quota or mutation.service or not entity.entity.tenant_field:
        return {}
    limit = entity.entity.quota.replace("{tenant}", "v_tenant").replace("{schema}", ident(model.app))
    return {"quota": limit, "quota_lock": f"hashtextextended({quote_literal(model.table(entity))}, v_tenant)"}


def _upsert(model: Model, entity: ObjectType, mutation: Mutation,
            assignments: list[tuple[str, str]]) -> dict[str, object]:
    """``ON CONFLICT (tenant, key…) DO UPDATE``: the other written columns take the new value,
    ``increment`` columns add it (``quantity = r.quantity + EXCLUDED.quantity``)."""
    if mutation.operation != "UPSERT" or not mutation.conflict:
        return {}
    tc = model.tenant_column(entity) if entity.entity.tenant_field else None
    keys = tuple(entity.field(n).column for n in mutation.conflict)
    conflict = ((tc,) if tc else ()) + keys
    added = {entity.field(n).column for n in mutation.increment}
    on_conflict = tuple((c, f"r.{ident(c)} + EXCLUDED.{ident(c)}" if c in added else f"EXCLUDED.{ident(c)}")
                        for c, _ in assignments if c not in conflict)
    return {"conflict": conflict, "on_conflict": on_conflict or (("id", "r.id"),)}


def _writes(model: Model, entity: ObjectType, operation: str, writes: dict[str, str],
            clear: str | None = None, clearable: tuple[str, ...] = (), tenant_var: str | None = "v_tenant"
            ) -> tuple[list[Lookup], list[tuple[str, str]], list[tuple[str, str]]]:
    """Relation lookups, (column, value) assignments and the (field, parameter) pairs written.
    ``tenant_var``: the current tenant's pk a CREATE defaults to (None for the service role,
    which has no tenant: the tenant is then an argument like any relation)."""
    tenant_field = entity.entity.tenant_field
    lookups: list[Lookup] = []
    assignments: list[tuple[str, str]] = []
    written: list[tuple[str, str]] = []
    for param, field_name in writes.items():
        field = entity.field(field_name)
        if field_name == "id" and operation == "CREATE":  # a client-chosen uuid
            assignments.append(("id", f"COALESCE({ident(param)}, gen_random_uuid())"))
        elif field_name == "id" or field is None or not field.column:
            continue  # the row's id on UPDATE/DELETE: it selects the row, it is not written
        elif field.relation:
            lookup = _lookup(model, field, param)
            lookups.append(lookup)
            value = lookup.var
            if operation == "CREATE" and field_name == tenant_field and tenant_var:
                value = f"COALESCE({value}, {tenant_var})"
            assignments.append((field.column, _keep_on_update(operation, value, field, clear, clearable)))
        else:
            value = ident(param)
            if native_enum(model, field) is not None:  # an unknown value: failed:validation
                value = f"{value}::{field.sql_type}"
            default = default_sql(field.column_default)
            if operation == "CREATE" and default is not None:
                value = f"COALESCE({value}, {default})"  # NULL means "the column's default"
            assignments.append((field.column, _keep_on_update(operation, value, field, clear, clearable)))
        written.append((field_name, param))
    if operation == "CREATE" and tenant_field and tenant_var and tenant_field not in {f for f, _ in written}:
        assignments.insert(0, (entity.field(tenant_field).column, tenant_var))
        written.insert(0, (tenant_field, ""))
    if operation == "UPDATE" and not assignments:
        assignments.append(("id", "r.id"))  # nothing to change: still find (or miss) the row
    return lookups, assignments, written


def _lookup(model: Model, field: Field, param: str) -> Lookup:
    target = model.entity(field.relation)
    deleted = soft_delete_column(target)
    lookup = Lookup(f"v_{field.column}", param, model.read_source(target), target.entity.pk_column, target.name,
                    f" AND r.{ident(deleted)} IS NULL" if deleted else "", field.sql_type or "bigint")
    return lookup


def _keep_on_update(operation: str, value: str, field: Field, clear: str | None = None,
                    clearable: tuple[str, ...] = ()) -> str:
    """On UPDATE a NULL argument leaves the column as it is; a field named in the clear list
    becomes NULL."""
    if operation != "UPDATE":
        return value
    kept = f"COALESCE({value}, r.{ident(field.column)})"
    if clear and field.name in clearable:
        return f"CASE WHEN {quote_literal(field.name)} = ANY ({ident(clear)}) THEN NULL ELSE {kept} END"
    return kept


def _updated_fields(operation: str, written: list[tuple[str, str]], clear: str | None = None) -> str:
    if operation in ("DELETE", "RESTORE", "PURGE") or not written:
        return "NULL"
    if operation == "CREATE":
        return "ARRAY[" + ", ".join(quote_literal(f) for f, _ in written) + "]"
    def given(f: str, p: str) -> str:
        cleared = f" OR {quote_literal(f)} = ANY ({ident(clear)})" if clear else ""
        return f"CASE WHEN {ident(p)} IS NOT NULL{cleared} THEN {quote_literal(f)} END"
    cases = ", ".join(given(f, p) for f, p in written)
    return f"array_remove(ARRAY[{cases}]::text[], NULL)"


# -- maintained columns -----------------------------------------------------------------------

@dataclass(frozen=True)
class MaintainFn:
    """A BEFORE INSERT OR UPDATE trigger that sets what no argument may: ``updated_at``, the
    creating and updating user. A trigger, not the generated functions, so writes by
    hand-written functions are covered too; the API role holds no grant on these columns."""

    template = "objects/maintain.sql.j2"
    name: str
    trigger: str
    table: str
    entity: str
    user_pk: str | None  # SQL for the calling user's pk, when a user column is maintained
    on_insert: tuple[tuple[str, str], ...]  # (column, value) set on INSERT
    on_update: tuple[tuple[str, str], ...]  # (column, value) set on UPDATE
    frozen: tuple[str, ...]  # set on INSERT only: an UPDATE keeps the old value
    # (column, ['old>new', …]): a state field's allowed moves; any other change is a
    # check_violation, which mutations answer with failed:validation.
    transitions: tuple[tuple[str, tuple[str, ...]], ...] = ()


def maintain_functions(model: Model) -> list[MaintainFn]:
    return [fn for e in entity_order(model) if (fn := _maintain(model, e)) is not None]


def _maintain(model: Model, entity: ObjectType) -> MaintainFn | None:
    fields = [f for f in entity.fields if f.maintain and f.column]
    transitions = tuple((f.column, tuple(f"{old}>{new}" for old, targets in f.transitions for new in targets))
                        for f in entity.fields if f.transitions and f.column)
    if not fields and not transitions:
        return None
    on_insert, on_update, frozen = [], [], []
    user = any(f.maintain == "user" for f in fields)
    for f in fields:
        column = f.column
        if f.maintain == "slug":
            source = f"NEW.{ident(entity.field(f.slug_source).column)}"
            derived = f"trim(BOTH '-' FROM regexp_replace(lower({source}), '[^a-z0-9]+', '-', 'g'))"
            on_insert.append((column, f"COALESCE(NULLIF(NEW.{ident(column)}, ''), {derived})"))
        elif f.maintain == "user":
            # A request's user always wins; a change without one (a job) keeps what it wrote.
            value = f"COALESCE(v_user, NEW.{ident(column)})"
            on_insert.append((column, value))
            if f.maintain_on_update:
                on_update.append((column, value))
            else:
                frozen.append(column)  # the creator never changes
        else:
            on_update.append((column, "now()"))
    name = entity.entity.table.removeprefix("tb_")
    return MaintainFn(
        name=qualified(model.private, f"fn_maintain_{name}"), trigger=object_name("tr", name, "maintain"),
        table=model.table(entity), entity=entity.name,
        user_pk=model.helper("fn_current_user_pk") if user else None,
        on_insert=tuple(on_insert), on_update=tuple(on_update), frozen=tuple(frozen), transitions=transitions,
    )


# -- observers ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outbox:
    template = "objects/outbox.sql.j2"
    table: str
    pk: str
    index: str
    policy: str
    role: str  # the observer role: the only one that may append
    tenant_schema: bool = False  # schema per tenant: events name the tenant schema they come from


@dataclass(frozen=True)
class ObserverFn:
    template = "objects/observer.sql.j2"
    name: str  # the trigger function
    trigger: str
    table: str
    timing: str  # AFTER, or BEFORE for DELETE (the view still shows the row)
    event: str
    row: str  # NEW | OLD
    subject: str
    entity: str
    view: str
    trash_view: str | None  # soft delete: a deleted row's data comes from the trash view
    tenant_id: str  # SQL for the tenant's uuid, or NULL
    outbox: str
    channel: str
    activity_table: str | None
    activity: tuple[tuple[str, str], ...]  # (column, value)
    internal: tuple[str, ...]  # pk and fk columns, left out of the fallback data
    actor: str | None  # SQL for the acting user's uuid, when the log records one
    actor_required: bool  # NOT NULL actor column: changes without a user log no activity
    # Schema per tenant, a tenant-scoped entity: the tenant is the schema of the changed row's
    # table (TG_TABLE_SCHEMA), fixed by where the trigger is, never by anything a request sets.
    tenant_schema: str | None = None


def outbox(model: Model) -> Outbox | None:
    if not model.schema.observers:
        return None
    table = naming.table_name(OUTBOX_ENTITY)
    return Outbox(qualified(model.private, table), naming.pk_column(OUTBOX_ENTITY),
                  object_name("ix", table, "created_at"), object_name("rls", table, "insert"),
                  model.observer_role, bool(model.schema.settings.tenant_schema_entities))


def observer_functions(model: Model) -> list[ObserverFn]:
    return [_observer(model, o) for o in model.schema.observers if model.entity(o.entity)]


def _observer(model: Model, observer: Observer) -> ObserverFn:
    entity = model.entity(observer.entity)
    row = "OLD" if observer.event == "DELETE" else "NEW"
    tc = model.tenant_column(entity)
    root = model.root
    tenant_id = "NULL"
    if tc and root is not None:
        # From the changed row, whatever the request could see (a job has no context at all).
        tenant_id = f"{qualified(model.private, 'fn_tenant_uuid')}({row}.{ident(tc)})"
    activity_entity = next((e for e in model.schema.entities if e.entity.activity_log), None)
    activity_table, activity, actor, actor_required = None, (), None, False
    if observer.activity and activity_entity is not None:
        activity_table = model.table(activity_entity)
        activity = tuple(_activity_values(model, activity_entity, entity, observer, row))
        actor_field = activity_entity.field("actor_id")
        if actor_field is not None and actor_field.column and model.user is not None:
            actor = model.helper("fn_current_user_id")
            actor_required = not actor_field.type.nullable
    return ObserverFn(
        name=qualified(model.private, f"fn_observe_{observer.name}"),
        trigger=object_name("tr", observer.name),
        table=model.table(entity), timing="BEFORE" if observer.event == "DELETE" else "AFTER",
        event=observer.event, row=row, subject=observer.subject, entity=entity.name,
        view=qualified(model.app, entity.entity.view), tenant_id=tenant_id,
        trash_view=qualified(model.app, trash_view_name(entity)) if entity.entity.soft_delete else None,
        outbox=qualified(model.private, naming.table_name(OUTBOX_ENTITY)), channel=NOTIFY_CHANNEL,
        activity_table=activity_table, activity=activity, actor=actor, actor_required=actor_required,
        internal=internal_columns(entity),
        tenant_schema=("TG_TABLE_SCHEMA"
                       if entity.name in model.schema.settings.tenant_schema_entities else None),
    )


_ACTIONS = {"INSERT": "created", "UPDATE": "updated", "DELETE": "deleted"}


def internal_columns(entity: ObjectType) -> tuple[str, ...]:
    """Columns that are not API data: the pk and fk bigints, the search vector, a token hash."""
    return (entity.entity.pk_column, *(f.column for f in entity.fields if f.relation),
            *((SEARCH_COLUMN,) if entity.entity.search else ()),
            *((TOKEN_HASH_COLUMN,) if entity.entity.invitation else ()))


def _activity_values(model: Model, log: ObjectType, observed: ObjectType, observer: Observer,
                     row: str) -> list[tuple[str, str]]:
    """The activity-log columns a trigger can fill, by field name (seed 000's tb_activity)."""
    values: list[tuple[str, str]] = []
    if log.entity.tenant_field:
        tc = model.tenant_column(observed)
        tenant = f"{row}.{ident(tc)}" if tc else model.helper("fn_current_tenant_pk")
        values.append((log.field(log.entity.tenant_field).column, tenant))
    metadata = f"jsonb_build_object('subject', {quote_literal(observer.subject)})"
    internal = internal_columns(observed)
    known = {
        "changes": _changes(observer.event, internal),
        "actor_id": "v_actor" if model.user is not None else "NULL",
        "entity_type": quote_literal(observed.name),
        "entity_id": f"{row}.id",
        "action": quote_literal(_ACTIONS[observer.event]),
        "subject": quote_literal(observer.subject),
    }
    for f in log.fields:
        if not f.column or f.relation:
            continue
        if f.name == "changes":
            values.append((f.column, known["changes"] if f.sql_type == "jsonb" else f"{known['changes']}::text"))
        elif f.name in known:
            values.append((f.column, known[f.name]))
        elif f.name == "metadata":
            values.append((f.column, metadata if f.sql_type == "jsonb" else f"{metadata}::text"))
    return values


def _changes(event: str, internal: tuple[str, ...]) -> str:
    """The audit trail's ``{field: {"old": …, "new": …}}``: the fields an UPDATE changed, every
    field of an inserted or deleted row. Internal keys (pk, fk bigints) are left out, as in the
    events' data."""
    hidden = "ARRAY[" + ", ".join(quote_literal(c) for c in internal) + "]::text[]"
    if event == "UPDATE":
        return ("(SELECT jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)) "
                "FROM jsonb_each(to_jsonb(NEW)) n JOIN jsonb_each(to_jsonb(OLD)) o ON o.key = n.key "
                f"WHERE n.value IS DISTINCT FROM o.value AND n.key <> ALL ({hidden}))")
    row, old, new = ("OLD", "e.value", "NULL") if event == "DELETE" else ("NEW", "NULL", "e.value")
    return (f"(SELECT jsonb_object_agg(e.key, jsonb_build_object('old', {old}, 'new', {new})) "
            f"FROM jsonb_each(to_jsonb({row})) e WHERE e.key <> ALL ({hidden}))")
