"""IR → SQL functions: context helpers, generated ``fn_*`` mutations, observers, grants."""

from __future__ import annotations

from dataclasses import dataclass

from fraisec.ir import naming
from fraisec.ir.model import Argument, Field, InjectParam, Kind, Mutation, ObjectType, Observer
from fraisec.ir.scalars import sql_type_for
from fraisec.render.model import Model, ident, mutation_command, object_name
from fraisec.render.objects import (
    SEARCH_COLUMN, TOKEN_HASH_COLUMN, RlsTable, default_sql, entity_order, granted_commands, soft_delete_column,
    trash_view_name, view_names,
)
from fraisec.render.quoting import qualified, quote_literal

__all__ = [
    "MaintainFn", "MutationFn", "ObserverFn", "Outbox", "context_helper_signatures", "grants",
    "accept_functions", "last_owner_functions", "maintain_functions", "search_functions", "signup_functions",
    "helpers_context", "result_signatures",
    "mutation_functions", "observer_functions", "outbox",
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
        "claimed_user": claimed_user,
        "tenant_uuid": model.root is not None and model.has_observers,
        "claimed_tenant": f"{_setting(tenancy.setting)}::uuid" if tenancy else "NULL",
        "root": ref(model.root),
        "user": ref(model.user),
        "membership": None if membership is None else {
            "table": model.table(membership),
            "tenant": model.membership_column(membership, model.root.name),
            "user": model.membership_column(membership, model.user.name),
            "role": model.role_column,
        },
    }


def context_helper_signatures(model: Model) -> list[str]:
    """The SECURITY DEFINER context helpers (owned by the context role), as GRANT names them."""
    names = []
    if model.user is not None:
        names += ["fn_current_user_pk", "fn_current_user_id"]
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

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(p.sql_type for p in self.params)})"


def mutation_functions(model: Model) -> list[MutationFn]:
    return [_mutation(model, m) for m in model.schema.mutations
            if m.generated and model.entity(m.entity) and m.operation not in ("ACCEPT", "SIGNUP")]


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


def _param_type(field: Field | None, arg_type: object) -> str:
    if field is not None and field.relation:
        return "uuid"
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
        params.append(Param(_param_name(arg.name), _param_type(field, arg.type), default))
        if target:
            writes[_param_name(arg.name)] = target
    for inject in mutation.inject:
        target = _inject_target(model, entity, inject)
        field = entity.field(target) if target else None
        # PostgreSQL needs a default on every parameter after one that has a default.
        params.append(Param(_param_name(inject.name), _param_type(field, None), "NULL" if defaulted else None))
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
    role_rule = model.role_rule(mutation.requires_role) if mutation.requires_role and model.role_column else None
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
        id_param=next((p for p, f in writes.items() if f == "id"), None),
        updated_fields=_updated_fields(base, written, clear), status=status, http_status=http,
        message=f"{entity.name} {status}", row_filter=row_filter, read_views=read_views,
        caller=model.service_role if mutation.service else model.api_role,
        **_quota(model, entity, operation, mutation),
        clear_param=clear, clearable=mutation.clearable, **_upsert(model, entity, mutation, assignments),
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
    return Lookup(f"v_{field.column}", param, model.table(target), target.entity.pk_column, target.name,
                  f" AND r.{ident(deleted)} IS NULL" if deleted else "")


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


# -- accepting an invitation --------------------------------------------------------------------

@dataclass(frozen=True)
class AcceptFn:
    """``app.fn_<accept>(p_token)``, SECURITY INVOKER, calls the SECURITY DEFINER
    ``app_private.fn_<accept>(p_token)`` owned by the privileged role: the invitee is no member
    of the tenant yet, so no policy of the API role could let this through. The definer checks
    everything itself: a signed-in user, the token's hash, not revoked, not accepted, not
    expired, the invitee's e-mail equal to the invitation's."""

    template = "objects/accept.sql.j2"
    name: str  # the API's function (invoker)
    private: str  # the definer
    graphql_name: str
    entity: str
    invitation: str  # table
    membership: str  # table
    user: str  # table
    root: str  # table
    pk: str  # the invitation's pk column
    tenant: str  # the invitation's tenant column
    role: str | None  # the invitation's role column
    membership_tenant: str
    membership_user: str
    membership_role: str | None
    user_pk: str
    user_email: str
    root_pk: str
    unique_membership: bool  # ON CONFLICT DO NOTHING needs a unique (tenant, user)

    @property
    def signatures(self) -> tuple[str, str]:
        return f"{self.name}(text)", f"{self.private}(text)"


def accept_functions(model: Model) -> list[AcceptFn]:
    result = []
    for m in model.schema.mutations:
        if not (m.generated and m.operation == "ACCEPT"):
            continue
        entity, membership, user, root = model.entity(m.entity), model.membership, model.user, model.root
        tenant_col = model.membership_column(membership, root.name)
        user_col = model.membership_column(membership, user.name)
        uniques = {tuple(sorted(g)) for g in membership.entity.uniques}
        result.append(AcceptFn(
            name=qualified(model.app, m.sql_source), private=qualified(model.private, m.sql_source),
            graphql_name=m.graphql_name, entity=entity.name, invitation=model.table(entity),
            membership=model.table(membership), user=model.table(user), root=model.table(root),
            pk=entity.entity.pk_column, tenant=model.tenant_column(entity),
            role=next(iter(model.role_columns(entity)), None), membership_tenant=tenant_col,
            membership_user=user_col, membership_role=model.role_column,
            user_pk=user.entity.pk_column, user_email=user.field("email").column, root_pk=root.entity.pk_column,
            unique_membership=tuple(sorted((root_field(membership, root.name), root_field(membership, user.name))))
            in uniques,
        ))
    return result


@dataclass(frozen=True)
class SignupFn:
    """``app.fn_<signup>(…)``, SECURITY INVOKER, calls the SECURITY DEFINER
    ``app_private.fn_<signup>(…)`` owned by the privileged role: a signed-in user creates a
    tenant and becomes its owner (the strongest role) in one transaction. The entry point then
    reads the new tenant through its view, as the API role, now that the caller is a member."""

    template = "objects/signup.sql.j2"
    name: str
    private: str
    graphql_name: str
    entity: str
    root: str  # table
    root_pk: str
    view: str
    params: tuple[Param, ...]
    assignments: tuple[tuple[str, str], ...]
    membership: str
    membership_tenant: str
    membership_user: str
    membership_role: str | None
    owner_role: str | None  # the strongest tenancy role
    updated_fields: str

    @property
    def signatures(self) -> tuple[str, str]:
        types = ", ".join(p.sql_type for p in self.params)
        return f"{self.name}({types})", f"{self.private}({types})"


def signup_functions(model: Model) -> list[SignupFn]:
    result = []
    for m in model.schema.mutations:
        if not (m.generated and m.operation == "SIGNUP") or model.membership is None:
            continue
        root, membership = model.root, model.membership
        params, writes = _params(model, m, root)
        _lookups, assignments, written = _writes(model, root, "CREATE", writes)
        roles = model.schema.tenancy.roles
        result.append(SignupFn(
            name=qualified(model.app, m.sql_source), private=qualified(model.private, m.sql_source),
            graphql_name=m.graphql_name, entity=root.name, root=model.table(root), root_pk=root.entity.pk_column,
            view=qualified(model.app, root.entity.view), params=tuple(params), assignments=tuple(assignments),
            membership=model.table(membership), membership_tenant=model.membership_column(membership, root.name),
            membership_user=model.membership_column(membership, model.user.name),
            membership_role=model.role_column, owner_role=roles[0] if roles and model.role_column else None,
            updated_fields=_updated_fields("CREATE", written),
        ))
    return result


def root_field(entity: ObjectType, target: str) -> str | None:
    return next((f.name for f in entity.fields if f.relation == target), None)


# -- the last owner ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LastOwnerFn:
    """A tenant keeps at least one member of the strongest role: an UPDATE or DELETE of a
    membership that would remove its last owner is refused (``check_violation``, so mutations
    answer ``failed:validation``), unless the tenant itself is being deleted. SECURITY DEFINER
    owned by the context role, which alone sees every membership of the tenant."""

    template = "objects/last_owner.sql.j2"
    name: str
    trigger: str
    membership: str
    root: str
    root_pk: str
    tenant: str
    role: str
    owner_role: str


def last_owner_functions(model: Model) -> list[LastOwnerFn]:
    membership, tenancy = model.membership, model.schema.tenancy
    if membership is None or model.role_column is None or not tenancy.roles:
        return []
    table = membership.entity.table.removeprefix("tb_")
    return [LastOwnerFn(
        name=qualified(model.private, f"fn_keep_an_{naming.snake(tenancy.roles[0])}"),
        trigger=object_name("tr", table, "keep", tenancy.roles[0]), membership=model.table(membership),
        root=model.table(model.root), root_pk=model.root.entity.pk_column,
        tenant=model.membership_column(membership, model.root.name), role=model.role_column,
        owner_role=tenancy.roles[0],
    )]


# -- full-text search -------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchFn:
    """``app.fn_search_<x>(p_query, p_limit, p_offset)``: the entity's view rows matching a web
    search query, best first. SECURITY INVOKER over the view: RLS keeps it in the tenant."""

    template = "objects/search.sql.j2"
    name: str
    entity: str
    table: str
    view: str
    language: str
    headline: str  # the highest-weighted searched column

    @property
    def signature(self) -> str:
        return f"{self.name}(text, integer, integer)"


def search_functions(model: Model) -> list[SearchFn]:
    result = []
    for e in entity_order(model):
        if e.entity.search:
            headline = min(e.entity.search, key=lambda cw: cw[1])[0]
            result.append(SearchFn(qualified(model.app, f"fn_search_{e.entity.table.removeprefix('tb_')}"),
                                   e.name, model.table(e), qualified(model.app, e.entity.view),
                                   e.entity.search_language, headline))
    return result


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


def outbox(model: Model) -> Outbox | None:
    if not model.schema.observers:
        return None
    table = naming.table_name(OUTBOX_ENTITY)
    return Outbox(qualified(model.private, table), naming.pk_column(OUTBOX_ENTITY),
                  object_name("ix", table, "created_at"), object_name("rls", table, "insert"),
                  model.observer_role)


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


# -- grants ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grants:
    """Least privilege. The API role: SELECT where it has a read policy, INSERT and UPDATE on
    exactly the columns the generated mutations write (a table-level grant only for a
    ``writes=`` declaration), DELETE where declared; never TRUNCATE, REFERENCES or TRIGGER
    (TRUNCATE ignores RLS). The context role: the identity columns its helpers read. The
    observer role: what the API role reads, plus appending to the outbox and the activity log.
    Every function is revoked from PUBLIC; trigger functions are executable by nobody else
    (triggers need no grant). ``owners``: the privileged functions' owners, set last."""

    template = "objects/grants.sql.j2"
    relations: tuple[tuple[str, str, str], ...]  # (privileges, qualified relation, role)
    functions: tuple[tuple[str, tuple[str, ...]], ...]  # (signature, roles granted EXECUTE)
    owners: tuple[tuple[str, str], ...]  # (function signature, owner)


def grants(model: Model, rls: list[RlsTable], functions: list[MutationFn],
           observers: list[ObserverFn]) -> Grants:
    api, observer, context = model.api_role, model.observer_role, model.context_role
    written = _written_columns(model, functions)
    relations: list[tuple[str, str, str]] = []
    for t in rls:
        privileges = [_privilege(c, written.get((t.table, c))) for c in granted_commands(t)]
        if privileges:
            relations.append((", ".join(privileges), t.table, api))
    views = [qualified(model.app, name) for e in entity_order(model) for name in view_names(e)]
    relations += [("SELECT", v, api) for v in views]
    if model.has_observers:
        relations += [("SELECT", t.table, observer) for t in rls if "SELECT" in granted_commands(t)]
        relations += [("SELECT", v, observer) for v in views]
        relations += [("INSERT", model.table(e), observer) for e in model.schema.entities
                      if e.entity is not None and e.entity.activity_log]
        box = outbox(model)
        relations.append(("INSERT", box.table, observer))
    relations += [(f"SELECT ({', '.join(ident(c) for c in t.context_columns)})", t.table, context)
                  for t in rls if t.context_columns]
    service = model.service_role
    relations += [(", ".join(t.service), t.table, service) for t in rls if t.service]
    relations += [("SELECT", qualified(model.app, name), service) for e in entity_order(model)
                  if "SELECT" in e.entity.service for name in view_names(e)]
    privileged = model.privileged_role
    relations += [(", ".join(f"{command} ({', '.join(ident(c) for c in columns)})" for command, columns in t.privileged),
                   t.table, privileged) for t in rls if t.privileged]
    readers = model.reader_roles
    callable_ = [(s, readers) for s in context_helper_signatures(model) + result_signatures(model)]
    callable_ += [(f.signature, (f.caller,)) for f in functions]
    callable_ += [(f.signature, (api,)) for f in search_functions(model)]
    tenant_uuid = tenant_uuid_signature(model)
    if tenant_uuid:
        callable_.append((tenant_uuid, (observer,)))
    accepts = accept_functions(model)
    signups = signup_functions(model)
    if model.has_privileged_flows:  # the definer flows ask who the user is, answer with the helpers
        needed = [f"{qualified(model.private, 'fn_current_user_pk')}()", *result_signatures(model)]
        callable_ = [(s, roles + (privileged,)) if s in needed else (s, roles) for s, roles in callable_]
    if model.has_service:  # service mutations answer with the result helpers
        callable_ = [(s, roles + (service,)) if s in result_signatures(model) else (s, roles)
                     for s, roles in callable_]
    for a in [*accepts, *signups]:
        public, private = a.signatures
        callable_ += [(public, (api,)), (private, (api,))]
    signatures = callable_ + [(f"{o.name}()", ()) for o in observers]
    signatures += [(f"{m.name}()", ()) for m in maintain_functions(model)]
    owners = [(s, context) for s in context_helper_signatures(model)]
    owners += [(tenant_uuid, context)] if tenant_uuid else []
    owners += [(f"{o.name}()", observer) for o in observers]
    owners += [(a.signatures[1], privileged) for a in [*accepts, *signups]]
    keepers = last_owner_functions(model)
    signatures += [(f"{k.name}()", ()) for k in keepers]
    owners += [(f"{k.name}()", context) for k in keepers]
    return Grants(tuple(relations), tuple(signatures), tuple(owners))


def _privilege(command: str, columns: set[str] | None) -> str:
    """``INSERT (a, b)``: column privileges where only generated mutations write the table."""
    if command in ("INSERT", "UPDATE") and columns:
        return f"{command} ({', '.join(ident(c) for c in sorted(columns))})"
    return command


def _written_columns(model: Model, functions: list[MutationFn]) -> dict[tuple[str, str], set[str] | None]:
    """(table, command) -> the columns generated mutations write; None when a ``writes=``
    declaration (a hand-written function, columns unknown) needs the whole table."""
    written: dict[tuple[str, str], set[str] | None] = {}
    for f in (f for f in functions if f.caller == model.api_role):  # the service role has its own grants
        written.setdefault((f.table, f.command), set()).update(c for c, _ in f.assignments)
        if f.operation == "UPSERT":  # the conflict branch updates the columns it sets
            written.setdefault((f.table, "UPDATE"), set()).update(c for c, _ in f.on_conflict)
    for e in model.schema.entities:
        if e.entity is None:
            continue
        for command, _role in e.entity.writes:
            written[(model.table(e), command)] = None
    return written
