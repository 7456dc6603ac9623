"""IR → ordered SQL objects: tables, foreign keys, indexes, RLS and views.

Each object is a frozen dataclass naming its template (``templates/objects/*.sql.j2``); the
templates only lay text out. Identifiers are quoted here or in the templates, always through
``fraisec.render.quoting``. Mutation functions and observers are in ``render.functions``, the
privileged flows in ``render.flows``, search in ``render.search``, grants in ``render.grants``.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass, field

from fraisec.ir import naming
from fraisec.ir.model import ON_DELETE_ACTIONS, Default, Field, IndexDecl, ObjectType
from fraisec.render.model import Model, ident, object_name
from fraisec.render.policy_fold import fold_restrictive
from fraisec.render.quoting import qualified, quote_ident, quote_literal

__all__ = [
    "Column", "Constraint", "ForeignKey", "Index", "Policy", "RlsTable", "Table", "View",
    "default_sql", "entity_order", "foreign_keys", "indexes", "rls_tables", "tables", "views",
]

# How deep a view nests related objects (project → organization → …). Deeper relations are
# left out of the nested object: each level is one more join on every read.
MAX_NESTING = 2
# jsonb_build_object takes at most 100 arguments; wider objects are concatenated with ||.
_PAIRS_PER_CALL = 50


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    not_null: bool
    default: str | None = None
    identity: bool = False
    generated: str | None = None  # GENERATED ALWAYS AS (…) STORED
    primary_key: bool = True  # with identity: the inline PRIMARY KEY (not on a distributed table)


# The generated tsvector column of a searchable entity (not an API field).
SEARCH_COLUMN = "search_vector"
# An invitation's token, stored as its SHA-256 (hex): the token itself is shown once, to the
# inviter, and never stored.
TOKEN_HASH_COLUMN = "token_hash"


def search_vector(entity: ObjectType) -> str:
    """``setweight(to_tsvector('english', coalesce(title, '')), 'A') || …``: immutable, so a
    stored generated column, kept current by PostgreSQL on every write."""
    language = quote_literal(entity.entity.search_language)
    parts = [f"setweight(to_tsvector({language}::regconfig, COALESCE({ident(c)}, '')), {quote_literal(w)})"
             for c, w in entity.entity.search]
    return " || ".join(parts)


@dataclass(frozen=True)
class Constraint:
    name: str
    definition: str  # "UNIQUE (a, b)" / "CHECK (…)"
    note: str | None = None  # a comment line above it (why a rule does not apply)


@dataclass(frozen=True)
class Table:
    template = "objects/table.sql.j2"
    name: str  # qualified
    columns: tuple[Column, ...]
    constraints: tuple[Constraint, ...]
    comment: str | None


@dataclass(frozen=True)
class ForeignKey:
    template = "objects/foreign_key.sql.j2"
    table: str
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None


@dataclass(frozen=True)
class Index:
    template = "objects/index.sql.j2"
    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None  # a partial index's predicate
    desc: tuple[str, ...] = ()  # columns sorted descending
    using: str = "btree"
    include: tuple[str, ...] = ()

    @property
    def keys(self) -> str:
        return ", ".join(ident(c) + (" DESC" if c in self.desc else "") for c in self.columns)


@dataclass(frozen=True)
class Policy:
    name: str
    command: str  # ALL | SELECT | INSERT | UPDATE | DELETE
    restrictive: bool
    using: str | None
    check: str | None
    roles: tuple[str, ...]


@dataclass(frozen=True)
class RlsTable:
    template = "objects/rls.sql.j2"
    table: str
    force: bool
    policies: tuple[Policy, ...]
    api_role: str
    # Column SELECT for the context helpers' role, on the identity tables only.
    context_columns: tuple[str, ...] = ()
    # The privileged role's (command, columns): what the generated definer flows use here.
    privileged: tuple[tuple[str, tuple[str, ...]], ...] = ()
    service: tuple[str, ...] = ()  # the service role's commands here


@dataclass(frozen=True)
class View:
    template = "objects/view.sql.j2"
    name: str
    id_expr: str
    data_expr: str
    extra: tuple[tuple[str, str], ...]  # (column, expression): inject filter columns
    from_table: str
    joins: tuple[str, ...]
    comment: str | None
    where: str | None = None  # soft delete: which rows the view shows
    order_by: str | None = None  # a query's declared order (order_by=), the pk last

    @property
    def from_clause(self) -> str:
        return "\n".join([self.from_table, *self.joins])


# -- ordering -------------------------------------------------------------------------------

def entity_order(model: Model) -> list[ObjectType]:
    """Entities with referenced tables first (ties in declaration order): readable output."""
    entities = list(model.schema.entities)
    position = {e.name: i for i, e in enumerate(entities)}
    graph = {e.name: {f.relation for f in e.fields if f.relation and f.relation != e.name}
             for e in entities}
    sorter = graphlib.TopologicalSorter(graph)
    try:
        sorter.prepare()
    except graphlib.CycleError:  # optional relations in a loop: FKs are added afterwards anyway
        return entities
    ordered: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        ordered.extend(ready)
        sorter.done(*ready)
    return [model.entity(name) for name in ordered]


# -- tables ---------------------------------------------------------------------------------

def default_sql(default: Default | None) -> str | None:
    if default is None:
        return None
    if default.kind == "sql":
        return str(default.value)  # written by the schema's author (fq.now(), fq.sql("…"))
    return quote_literal(default.value)


def tables(model: Model) -> list[Table]:
    return [_table(model, e) for e in entity_order(model) if not e.entity.external]


def _table(model: Model, entity: ObjectType) -> Table:
    info = entity.entity
    columns = [Column(info.pk_column, "bigint", True, identity=True,
                      primary_key=_distributed_by(model, entity) is None),
               Column("id", "uuid", True, "gen_random_uuid()")]
    for f in entity.fields:
        if f.column and f.name != "id":
            columns.append(Column(f.column, f.sql_type or "text", not f.type.nullable, default_sql(f.column_default)))
    if info.search:
        columns.append(Column(SEARCH_COLUMN, "tsvector", False, generated=search_vector(entity)))
    if info.invitation:
        columns.append(Column(TOKEN_HASH_COLUMN, "text", True))
    return Table(model.table(entity), tuple(columns), tuple(_constraints(model, entity)), entity.description)


def _distributed_by(model: Model, entity: ObjectType) -> str | None:
    """The tenant column when the table is distributed by it (``[distribution] engine =
    "citus"``): Citus refuses a PRIMARY KEY or UNIQUE without the distribution column, so the
    key is ``(tenant, pk)`` and the trinity id unique per tenant (docs/scale-out.md)."""
    if model.schema.settings.distribution != "citus" or not entity.entity.tenant_field:
        return None
    return model.tenant_column(entity)


def _unique_groups(model: Model, entity: ObjectType) -> list[tuple[str, ...]]:
    """Column groups that must be unique; per tenant on tenant tables (a global UNIQUE would be
    a cross-tenant existence oracle, rls.md (h) 2)."""
    info = entity.entity
    tc = info.tenant_field and model.tenant_column(entity)
    distributed = _distributed_by(model, entity)
    groups: list[tuple[str, ...]] = [(distributed, "id") if distributed else ("id",)]
    if info.invitation:
        groups.append((TOKEN_HASH_COLUMN,))  # global: a token names one invitation anywhere
    if info.has_identifier:
        groups.append(("identifier",))
    groups += [(f.column,) for f in entity.fields if f.unique and f.column and f.name not in ("id", "identifier")]
    groups += [tuple(entity.field(n).column for n in g if entity.field(n) and entity.field(n).column)
               for g in info.uniques]
    result: list[tuple[str, ...]] = []
    for group in groups:
        if tc and group not in (("id",), (TOKEN_HASH_COLUMN,)) and tc not in group:
            group = (tc, *group)
        if group and group not in result:
            result.append(group)
    if tc and _referenced_by_tenant_child(model, entity) and not distributed:
        result.append((tc, info.pk_column))  # target of same-tenant composite foreign keys
    return result


def _referenced_by_tenant_child(model: Model, parent: ObjectType) -> bool:
    return any(f.relation == parent.name and child.entity.tenant_field and f.name != child.entity.tenant_field
               for child in model.schema.entities for f in child.fields)


def _live_only(model: Model, entity: ObjectType, group: tuple[str, ...]) -> bool:
    """On a soft-delete entity a business key is unique among live rows only (a deleted post
    must not block a new one with its slug): a partial unique index, not a constraint. The
    trinity id and the (tenant, pk) target of composite foreign keys stay constraints."""
    tc = model.tenant_column(entity) if entity.entity.tenant_field else None
    return bool(entity.entity.soft_delete) and group not in (("id",), (tc, "id"), (tc, entity.entity.pk_column))


# A token hash is global on purpose (the token finds its invitation in any tenant); being the
# hash of 244 random bits, a duplicate answer reveals nothing about another tenant.
_GLOBAL_TOKEN_NOTE = "fraisec: ignore FSC314 (a random token's hash is unique across tenants on purpose)"


def soft_delete_column(entity: ObjectType) -> str | None:
    name = entity.entity.soft_delete
    field = entity.field(name) if name else None
    return field.column if field is not None else None


def _constraints(model: Model, entity: ObjectType) -> list[Constraint]:
    table = entity.entity.table
    distributed = _distributed_by(model, entity)
    result = [Constraint(object_name("pk", table), f"PRIMARY KEY ({ident(distributed)}, "
                                                    f"{ident(entity.entity.pk_column)})")] if distributed else []
    result += [Constraint(object_name("uq", table, *g), f"UNIQUE ({', '.join(map(ident, g))})",
                         _GLOBAL_TOKEN_NOTE if g == (TOKEN_HASH_COLUMN,) else None)
              for g in _unique_groups(model, entity) if not _live_only(model, entity, g)]
    for f in entity.fields:
        values = model.enum_values(f) if f.column else None
        if values:
            listed = ", ".join(quote_literal(v) for v in values)
            result.append(Constraint(object_name("ck", table, f.column), f"CHECK ({ident(f.column)} IN ({listed}))"))
    return result


# -- foreign keys and indexes -------------------------------------------------------------

def foreign_keys(model: Model) -> list[ForeignKey]:
    """Added after every table exists, so optional relations may form cycles.

    A tenant table's reference to another tenant table includes the tenant column on both
    sides: PostgreSQL checks foreign keys without RLS, so a plain key would let tenant A point
    at (and probe for) tenant B's rows (rls.md (h) 1).
    """
    result = []
    for entity in entity_order(model):
        tc = entity.entity.tenant_field and model.tenant_column(entity)
        for f in entity.fields:
            parent = model.entity(f.relation)
            if parent is None:
                continue
            columns: tuple[str, ...] = (f.column,)
            ref: tuple[str, ...] = (parent.entity.pk_column,)
            if tc and parent.entity.tenant_field and f.column != tc:
                columns, ref = (tc, f.column), (model.tenant_column(parent), parent.entity.pk_column)
            on_delete = _on_delete(f.on_delete, f.column, composite=len(columns) > 1)
            result.append(ForeignKey(model.table(entity), object_name("fk", entity.entity.table, f.column),
                                     columns, model.table(parent), ref, on_delete))
    return result


def _on_delete(action: str | None, column: str, *, composite: bool) -> str | None:
    """The ON DELETE action, from a fixed list (never the author's text spliced into SQL).

    On a same-tenant composite key, SET NULL/SET DEFAULT name the reference column alone
    (PostgreSQL 15): the tenant column is NOT NULL and must not change.
    """
    normalized = " ".join(action.upper().split()) if action else None
    if normalized not in ON_DELETE_ACTIONS:
        return None  # validation reports it (FSC209); never splice unknown text into SQL
    if composite and normalized.startswith("SET "):
        return f"{normalized} ({ident(column)})"
    return normalized


def indexes(model: Model) -> list[Index]:
    """Every foreign key and tenant column is indexed, tenant column first; an index whose
    columns already lead a unique constraint or an earlier index is skipped."""
    result = []
    for entity in entity_order(model):
        if entity.entity.external:
            continue  # not fraisec's table
        table = entity.entity.table
        tc = entity.entity.tenant_field and model.tenant_column(entity)
        deleted = soft_delete_column(entity)
        for group in _unique_groups(model, entity):
            if _live_only(model, entity, group):
                result.append(Index(object_name("uq", table, *group), model.table(entity), group, unique=True,
                                    where=f"{ident(deleted)} IS NULL"))
        covered = [g for g in _unique_groups(model, entity) if not _live_only(model, entity, g)]
        wanted: list[tuple[str, ...]] = []
        if tc:
            wanted.append((tc,))
        wanted += [(f.column,) for f in entity.fields if f.relation and f.column != tc]
        wanted += [(f.column,) for f in entity.fields if f.index and f.column]
        wanted += [tuple(entity.field(n).column for n in g if entity.field(n) and entity.field(n).column)
                   for g in entity.entity.indexes]
        for group in wanted:
            if tc and tc not in group:
                group = (tc, *group)
            group = _membership_order(model, entity, group)
            if not group or any(c[: len(group)] == group for c in covered):
                continue
            covered.append(group)
            result.append(Index(object_name("ix", table, *group), model.table(entity), group))
        result += [_declared_index(model, entity, tc, d) for d in entity.entity.index_decls]
        result += _order_indexes(model, entity, tc, result)
        if entity.entity.search:
            result.append(Index(object_name("ix", table, SEARCH_COLUMN), model.table(entity), (SEARCH_COLUMN,),
                                using="gin"))
    return result


def _declared_index(model: Model, entity: ObjectType, tc: str | None, decl: IndexDecl) -> Index:
    """``fq.index(...)``: a btree (and any unique index) leads with the tenant column on tenant
    tables, as every other index does; gin/gist/brin/hash index the columns as declared."""
    columns = decl.columns
    if tc and tc not in columns and (decl.using == "btree" or decl.unique):
        columns = (tc, *columns)
    suffix = [decl.using] if decl.using != "btree" else []
    suffix += ["desc"] if decl.desc else []
    suffix += ["partial"] if decl.where else []
    name = object_name("uq" if decl.unique else "ix", entity.entity.table, *columns, *suffix)
    return Index(name, model.table(entity), columns, unique=decl.unique, where=decl.where, desc=decl.desc,
                 using=decl.using, include=decl.include)


def _membership_order(model: Model, entity: ObjectType, group: tuple[str, ...]) -> tuple[str, ...]:
    """The helpers look memberships up by user ("my organizations"): user column first."""
    membership, user = model.membership, model.user
    if membership is None or entity.name != membership.name:
        return group
    user_column = model.membership_column(membership, user.name)
    tenant_column = model.membership_column(membership, model.root.name)
    return (user_column, tenant_column) if set(group) == {user_column, tenant_column} else group


# -- row-level security ---------------------------------------------------------------------

def rls_tables(model: Model) -> list[RlsTable]:
    # An external table is not fraisec's: no RLS, policies or FORCE there (its grants are
    # column SELECTs, and the user view filters its rows).
    return [_rls(model, e) for e in entity_order(model) if not e.entity.external]


def _policy(table: str, purpose: str, command: str, roles: tuple[str, ...], *, using: str | None = None,
            check: str | None = None, restrictive: bool = False) -> Policy:
    return Policy(object_name("rls", table, purpose), command, restrictive, using, check, roles)


def _rls(model: Model, entity: ObjectType) -> RlsTable:
    """Every table is ENABLEd and FORCEd: no role, the owner included, reads or writes it
    without a policy naming that role. The API role writes only what a generated mutation or
    a ``writes=`` declaration runs; the context role reads the identity columns; the observer
    role reads as the request does and appends the activity log."""
    kind = model.table_class(entity)
    table = entity.entity.table
    readers, api = model.reader_roles, (model.api_role,)
    policies = list(_guard(model, entity, kind, readers))
    policies.append(_policy(table, "select", "SELECT", readers, using=_read_rule(model, entity)))
    references = _reference_rule(model, entity)
    for command in ("INSERT", "UPDATE", "DELETE"):
        rule = _write_rule(model, entity, command)
        if rule is None:
            continue
        policies.append(_command_policy(table, command.lower(), command, api, rule, restrictive=False))
        if command != "DELETE" and references is not None:
            # A tenant row may name only users the caller can already see: a bigint foreign key
            # to a shared table would otherwise reach (and reveal) every user of every tenant.
            policies.append(_command_policy(table, f"{command.lower()}_references", command, api,
                                            references, restrictive=True, check_only=True))
        for column in model.role_columns(entity):
            policies.append(_command_policy(table, f"{command.lower()}_{column}_ceiling", command, api,
                                            model.role_ceiling(column), restrictive=True))
        if kind == "global" and model.root is not None:
            # Shared rows have no tenant to guard; writing them still takes a verified context,
            # and no permissive rule stands without a restrictive one.
            context = f"{model.helper('fn_current_tenant_pk')} IS NOT NULL"
            policies.append(_command_policy(table, f"{command.lower()}_guard", command, api, context, restrictive=True))
    if entity.entity.owned_by:
        # Each row is its owner's alone, inside the tenant: AND'ed with every other policy.
        column = ident(entity.field(entity.entity.owned_by).column)
        mine = f"{column} = {model.helper('fn_current_user_pk')}"
        policies.append(_policy(table, "owner", "ALL", readers, using=mine, check=mine, restrictive=True))
    context_columns = _context_columns(model, entity, kind)
    privileged = privileged_rights(model, entity)
    policies += _narrow_role_policies(model, entity, context_columns, privileged)
    if model.citus:
        policies = fold_restrictive(policies)
    return RlsTable(model.table(entity), True, tuple(policies), model.api_role, context_columns, privileged,
                    entity.entity.service)


def _narrow_role_policies(model: Model, entity: ObjectType, context_columns: tuple[str, ...],
                          privileged: tuple[tuple[str, tuple[str, ...]], ...]) -> list[Policy]:
    """The policies of the roles no request becomes: the observer's append, the context
    helpers' read, the service role's declared commands, the privileged flows' rights."""
    table = entity.entity.table
    policies = []
    if entity.entity.activity_log and model.has_observers:
        # Append-only, and only by the observer triggers: the API role cannot forge an entry.
        policies.append(_command_policy(table, "observer_insert", "INSERT", (model.observer_role,), "true",
                                        restrictive=False))
    if context_columns:
        policies.append(_policy(table, "context_select", "SELECT", (model.context_role,), using="true"))
    for command in entity.entity.service:
        # The service role works across tenants on purpose (no guard names it): only what the
        # entity declares, for webhooks and an operator's reads.
        policies.append(_command_policy(table, f"service_{command.lower()}", command, (model.service_role,),
                                        "true", restrictive=False))
    for command, _columns in privileged:
        # The definer flow checks everything itself (the token, the invitee, the expiry):
        # these policies only admit its role, which no request can become.
        policies.append(_command_policy(table, f"privileged_{command.lower()}", command,
                                        (model.privileged_role,), "true", restrictive=False))
    return policies


def _signup_root_columns(model: Model) -> list[tuple[str, ...]]:
    """The root (tenant) table's columns each SIGNUP mutation's arguments write: what its
    definer flow needs INSERT on."""
    root = model.root
    return [tuple(root.field(f).column for f in m.argument_fields.values() if root.field(f) and root.field(f).column)
            for m in model.schema.mutations if m.generated and m.operation == "SIGNUP"]


def privileged_rights(model: Model, entity: ObjectType) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Exactly what the definer flows read and write, table by table: the generated ones'
    columns, and the commands ``@fq.entity(privileged=…)`` declares for hand-written ones (an
    empty column list: the whole table)."""
    generated = _generated_privileged_rights(model, entity)
    declared = entity.entity.privileged if model.privileged_mutations else ()
    return tuple(sorted([*((c, cols) for c, cols in generated if c not in declared), *((c, ()) for c in declared)]))


def _generated_privileged_rights(model: Model, entity: ObjectType) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Accepting an invitation, and signing up (a new tenant and its owner's membership)."""
    if not (model.signs_up or model.invitation is not None) or model.membership is None:
        return ()
    invitation, root, user, membership = model.invitation, model.root, model.user, model.membership
    if entity.name == root.name and model.signs_up:
        written = sorted({c for f in _signup_root_columns(model) for c in f})
        return (("SELECT", (entity.entity.pk_column, "id")), ("INSERT", tuple(written)))
    if invitation is not None and entity.name == invitation.name:
        tc = model.tenant_column(entity)
        roles = model.role_columns(entity)
        read = (entity.entity.pk_column, "id", tc, "email", *roles, "expires_at", "accepted_at", "revoked_at",
                TOKEN_HASH_COLUMN)
        return (("SELECT", read), ("UPDATE", ("accepted_at",)))
    if entity.name == membership.name:
        key = (model.membership_column(entity, root.name), model.membership_column(entity, user.name))
        # SELECT on the key: ON CONFLICT (tenant, user) DO NOTHING reads its conflict target.
        return (("SELECT", key), ("INSERT", (*key, *((model.role_column,) if model.role_column else ()))))
    if entity.name == user.name:
        email = (entity.field("email").column,) if invitation is not None else ()
        return (("SELECT", (entity.entity.pk_column, "id", *email)),)
    if entity.name == root.name:
        return (("SELECT", (entity.entity.pk_column, "id")),)
    return ()


def _command_policy(table: str, purpose: str, command: str, roles: tuple[str, ...], rule: str, *,
                    restrictive: bool, check_only: bool = False) -> Policy:
    """A per-command policy: INSERT checks new rows, SELECT and DELETE old rows, UPDATE both."""
    using = rule if command in ("SELECT", "UPDATE", "DELETE") else None
    if check_only and command == "UPDATE":
        using = "true"
    check = rule if command in ("INSERT", "UPDATE") else None
    return _policy(table, purpose, command, roles, using=using, check=check, restrictive=restrictive)


def _context_columns(model: Model, entity: ObjectType, kind: str) -> tuple[str, ...]:
    """The columns the context helpers read: ids and keys of the tenant, user and membership."""
    if model.schema.tenancy is None or kind not in ("root", "user", "membership", "tenant"):
        return ()
    if kind == "tenant" and (model.membership is None or entity.name != model.membership.name):
        return ()
    if kind == "membership" or (model.membership is not None and entity.name == model.membership.name):
        columns = [model.membership_column(entity, model.root.name),
                   model.membership_column(entity, model.user.name), model.role_column]
    else:
        columns = [entity.entity.pk_column, "id"]
    return tuple(c for c in columns if c)


def _reference_rule(model: Model, entity: ObjectType) -> str | None:
    """Written references to the user entity must name a user the caller can see."""
    user = model.user
    if user is None or model.table_class(entity) not in ("tenant", "membership"):
        return None
    columns = [f.column for f in entity.fields if f.relation == user.name and f.column]
    if not columns:
        return None
    me = model.helper("fn_current_user_pk")
    visible = model.helper_set("fn_current_tenant_user_pks") if model.membership is not None else None
    rules = []
    for column in columns:
        c = ident(column)
        rule = f"{c} = {me}" + (f" OR {c} = ANY ({visible})" if visible else "")
        rules.append(f"({c} IS NULL OR {rule})")
    return " AND ".join(rules)


def _guard(model: Model, entity: ObjectType, kind: str, roles: tuple[str, ...]) -> list[Policy]:
    """The RESTRICTIVE policy that keeps a request inside what it may see. It is AND'ed with
    every permissive policy, so a later or hand-written permissive policy cannot cross it."""
    table, pk = entity.entity.table, ident(entity.entity.pk_column)
    has_membership = model.membership is not None
    if kind == "tenant":
        rule = f"{ident(model.tenant_column(entity))} = {model.helper('fn_current_tenant_pk')}"
        return [_policy(table, "tenant_guard", "ALL", roles, using=rule, check=rule, restrictive=True)]
    if kind == "root":
        mine = (f"{pk} = ANY ({model.helper_set('fn_current_user_tenant_pks')})" if has_membership
                else f"{pk} = {model.helper('fn_current_tenant_pk')}")
        current = f"{pk} = {model.helper('fn_current_tenant_pk')}"
        return [_policy(table, "tenant_guard", "ALL", roles, using=mine, check=current, restrictive=True)]
    if kind == "membership":  # every organization the user belongs to; writes in the current one
        tc = ident(model.tenant_column(entity))
        mine = f"{tc} = ANY ({model.helper_set('fn_current_user_tenant_pks')})"
        current = f"{tc} = {model.helper('fn_current_tenant_pk')}"
        return [_policy(table, "tenant_guard", "ALL", roles, using=mine, check=current, restrictive=True)]
    if kind == "user":
        me = f"{pk} = {model.helper('fn_current_user_pk')}"
        visible = (f"({me} OR {pk} = ANY ({model.helper_set('fn_current_tenant_user_pks')}))"
                   if has_membership else me)
        return [_policy(table, "user_guard", "ALL", roles, using=visible, check=me, restrictive=True)]
    return []


def external_user_rule(model: Model, key: str) -> str:
    """The rows of an external user table a request may see, as the user guard admits them on a
    generated one: the caller and the members of the current tenant. The table has no policy
    of fraisec's, so the views apply it."""
    me = f"{key} = {model.helper('fn_current_user_pk')}"
    if model.membership is None:
        return f"({me})"
    return f"({me} OR {key} = ANY ({model.helper_set('fn_current_tenant_user_pks')}))"


def _read_rule(model: Model, entity: ObjectType) -> str:
    """``@fq.entity(requires_role="admin")``: only that role (or a stronger one) reads the rows."""
    required = entity.sdk.get("requires_role")
    if isinstance(required, str) and model.role_column is not None:
        return model.role_rule(required)
    return "true"


def _write_rule(model: Model, entity: ObjectType, command: str) -> str | None:
    """The permissive rule for a write command, or None when the command is not granted: only
    what a generated mutation runs or ``writes=`` declares (least privilege)."""
    if entity.entity.activity_log:
        return None  # append-only, written by the observer role alone
    return model.command_rule(entity, command)


def granted_commands(rls: RlsTable) -> list[str]:
    """The commands the API role has a permissive policy for."""
    commands = {p.command for p in rls.policies if not p.restrictive and rls.api_role in p.roles}
    return [c for c in ("SELECT", "INSERT", "UPDATE", "DELETE") if c in commands]


# -- views ----------------------------------------------------------------------------------

@dataclass
class _Joins:
    lines: list[str] = field(default_factory=list)
    top: dict[str, str] = field(default_factory=dict)  # top-level relation field -> alias

    def add(self, line: str) -> None:
        self.lines.append(line)

    def next_alias(self) -> str:
        return f"r{len(self.lines) + 1}"


def views(model: Model) -> list[View]:
    return [_view(model, entity, name, trash, filtered)
            for entity in entity_order(model) for name, trash, filtered in _view_variants(entity)]


def view_names(entity: ObjectType) -> list[str]:
    """Every view of an entity: the main one, the trash, the filtered ones."""
    return [name for name, _trash, _filtered in _view_variants(entity)]


def _view_variants(entity: ObjectType) -> list[tuple[str, bool, tuple[str, str] | None]]:
    """(name, trash?, filter) of each view of an entity, in one place so that the views
    rendered and the views granted are always the same list."""
    main = entity.entity.view
    variants: list[tuple[str, bool, tuple[str, str] | None]] = [(main, False, None)]
    if entity.entity.soft_delete:
        variants.append((trash_view_name(entity), True, None))
    variants += [(f"{main}_{suffix}", False, (suffix, predicate)) for suffix, predicate in entity.entity.views]
    return variants


def trash_view_name(entity: ObjectType) -> str:
    """The view of a soft-delete entity's deleted rows, for a declared "trash" query."""
    return f"{entity.entity.view}_trash"


def _view(model: Model, entity: ObjectType, name: str, trash: bool,
          filtered: tuple[str, str] | None) -> View:
    """The entity's view; its trash (deleted rows), or a filtered view (a declared predicate
    over live rows, with ``{row}`` standing for the entity's row)."""
    joins = _Joins()
    pairs = _object_pairs(model, entity, "r0", 0, joins)
    extra = _inject_columns(model, entity, joins, name) + _relay_columns(model, entity, name)
    deleted = soft_delete_column(entity)
    conditions = [f"r0.{ident(deleted)} IS {'NOT ' if trash else ''}NULL"] if deleted else []
    if filtered:
        conditions.append(f"({filtered[1].replace('{row}', 'r0')})")
    where = " AND ".join(conditions) or None
    comment = (f"Deleted rows of {entity.name} (soft delete)." if trash
               else f"{entity.name} rows where {filtered[1].replace('{row}.', '')}." if filtered
               else entity.description)
    order = view_order(model, entity, name)
    order_by = ", ".join(f"r0.{ident(c)}" + (" DESC" if desc else "") for c, desc in order) or None
    return View(qualified(model.app, name), "r0.id", _build_object(pairs, "    "),
                tuple(extra), f"{model.read_source(entity)} r0", tuple(joins.lines), comment, where, order_by)


def view_order(model: Model, entity: ObjectType, view: str) -> tuple[tuple[str, bool], ...]:
    """The order a query declared for this view (``order_by=``), ending with the pk so that
    rows never tie: LIMIT/OFFSET pages then neither overlap nor skip. Empty: unordered."""
    order = next((q.order_by for q in model.schema.queries
                  if q.order_by and q.sql_source in (view, f"{model.app}.{view}")), ())
    pk = entity.entity.pk_column
    if order and order[-1][0] not in ("id", pk):
        order = (*order, (pk, False))
    return order


def _order_indexes(model: Model, entity: ObjectType, tc: str | None, done: list[Index]) -> list[Index]:
    """A btree matching each ordered view's sort (tenant column first), unless an index
    already leads with the same keys: the page is then read in order, not sorted."""
    result: list[Index] = []
    for name in view_names(entity):
        order = view_order(model, entity, name)
        if not order:
            continue
        columns = tuple(c for c, _ in order)
        desc = tuple(c for c, d in order if d)
        if tc and tc not in columns:
            columns = (tc, *columns)
        keys = [(c, c in desc) for c in columns]
        if any(i.using == "btree" and not i.where and [(c, c in i.desc) for c in i.columns][:len(keys) - 1]
               == keys[:-1] for i in [*done, *result]):
            continue  # the same sort but the pk tiebreak: close enough, one more index is not
        index_name = object_name("ix", entity.entity.table, *columns, *(["desc"] if desc else []), "order")
        result.append(Index(index_name, model.table(entity), columns, desc=desc))
    return result


def _object_pairs(model: Model, entity: ObjectType, alias: str, depth: int,
                  joins: _Joins, optional: bool = False) -> list[tuple[str, str]]:
    """(data key, SQL expression) for each field: columns, computed fields, nested relations."""
    pairs = []
    for f in entity.fields:
        if f.aggregate is not None:
            pairs.append((f.name, _aggregate(model, entity, f, alias)))
        elif f.expression is not None:
            pairs.append((f.name, _computed(model, f, alias)))
        elif f.relation:
            if depth >= MAX_NESTING:
                continue
            pairs.append((f.name, _nested(model, f, alias, depth, joins, optional)))
        elif f.column:
            pairs.append((f.name, f"{alias}.{ident(f.column)}"))
    return pairs


def _aggregate(model: Model, owner: ObjectType, f: Field, alias: str) -> str:
    """fq.count / fq.sum over the rows pointing at this one: read under the caller's RLS (the
    view is security_invoker), live rows only on a soft-delete entity, 0 when there are none."""
    kind, target_name, summed, via = f.aggregate
    target = model.entity(target_name)
    link = target.field(via)
    where = f"a.{ident(link.column)} = {alias}.{ident(owner.entity.pk_column)}"
    deleted = soft_delete_column(target)
    if deleted:
        where += f" AND a.{ident(deleted)} IS NULL"
    value = "count(*)" if kind == "count" else f"COALESCE(sum(a.{ident(target.field(summed).column)}), 0)"
    return f"(SELECT {value} FROM {model.read_source(target)} a WHERE {where})"


def _computed(model: Model, f: Field, alias: str) -> str:
    # {row} / {schema} are replaced, not str.format()ted: the SQL may contain braces (JSON).
    return f.expression.replace("{row}", alias).replace("{schema}", quote_ident(model.app))


def _nested(model: Model, f: Field, alias: str, depth: int, joins: _Joins, optional: bool) -> str:
    """A related object. Below an optional relation every join is a LEFT JOIN: an inner join
    there would drop the rows whose optional parent is absent."""
    target = model.entity(f.relation)
    child = joins.next_alias()
    deleted = soft_delete_column(target)
    # A soft-deleted parent is shown as absent (null), never hiding the row that names it; so
    # is an external user the request may not see (one who left the tenant, say).
    optional = optional or f.type.nullable or deleted is not None or bool(target.entity.external)
    kind = "LEFT JOIN" if optional else "JOIN"
    pk = ident(target.entity.pk_column)
    live = f" AND {child}.{ident(deleted)} IS NULL" if deleted else ""
    joins.add(f"{kind} {model.read_source(target)} {child} ON {child}.{pk} = {alias}.{ident(f.column)}{live}")
    if depth == 0:
        joins.top[f.name] = child
    inner = _build_object(_object_pairs(model, target, child, depth + 1, joins, optional), "    " * (depth + 2))
    if optional:  # an absent relation is null, not an object of nulls
        return f"CASE WHEN {child}.{pk} IS NULL THEN NULL ELSE {inner} END"
    return inner


def _build_object(pairs: list[tuple[str, str]], indent: str) -> str:
    calls = []
    for start in range(0, len(pairs), _PAIRS_PER_CALL):
        chunk = pairs[start:start + _PAIRS_PER_CALL]
        body = f",\n{indent}    ".join(f"{quote_literal(k)}, {v}" for k, v in chunk)
        calls.append(f"jsonb_build_object(\n{indent}    {body}\n{indent})")
    return " || ".join(calls) if calls else "'{}'::jsonb"


def _relay_columns(model: Model, entity: ObjectType, view: str) -> list[tuple[str, str]]:
    """A relay query (``relay=True``) pages by keyset on ``pk_<type>``, a column the runtime
    reads from the view (``WHERE pk_post > $cursor ORDER BY pk_post``): stable under inserts.
    The pk is global and increasing, so its gaps tell a tenant how many rows all tenants wrote
    in between (an activity volume, never a row): the price of the runtime's cursor."""
    relay = any(q.sdk.get("relay") and q.sql_source in (view, f"{model.app}.{view}") for q in model.schema.queries)
    pk = entity.entity.pk_column
    return [(pk, f"r0.{ident(pk)}")] if relay else []


def _inject_columns(model: Model, entity: ObjectType, joins: _Joins, view: str) -> list[tuple[str, str]]:
    """Native columns for the runtime's ``inject`` filters (``WHERE org_id = <claim>``) on
    queries reading this view: the tenant's uuid for the tenancy claim, else a relation's uuid
    (``<field>_id``) or a column of the same name."""
    names = sorted({p.name for q in model.schema.queries if q.sql_source in (view, f"{model.app}.{view}")
                    for p in q.inject})
    tenancy = model.schema.tenancy
    columns = []
    for name in names:
        expr = None
        if tenancy is not None and name == tenancy.claim:
            if entity.entity.tenant_field:
                expr = f"{joins.top[entity.entity.tenant_field]}.id"
            elif entity.entity.is_tenant_root:
                expr = "r0.id"
        if expr is None:
            rel = next((f for f in entity.fields if f.relation and f.name in joins.top
                        and naming.relation_id_column(f.name) == name), None)
            col = entity.field(name)
            if rel is not None:
                expr = f"{joins.top[rel.name]}.id"
            elif col is not None and col.column and not col.relation:
                expr = f"r0.{ident(col.column)}"
        if expr is not None:
            columns.append((name, expr))
    return columns
