"""IR → the generated flows that cross the tenant boundary on purpose, each a SECURITY DEFINER
function owned by a narrow role and reached through a SECURITY INVOKER entry point: signing up
(a new tenant and its owner), accepting an invitation; and the trigger that keeps a tenant's
last owner."""

from __future__ import annotations

from dataclasses import dataclass

from fraisec.ir import naming
from fraisec.ir.model import ObjectType
from fraisec.render.enums import native_enum
from fraisec.render.functions import Param, _arg_default, _param_type, _params, _updated_fields, _writes
from fraisec.render.model import Model, object_name
from fraisec.render.quoting import qualified

__all__ = ["AcceptFn", "LastOwnerFn", "PrivilegedEntry", "SignupFn", "accept_functions", "last_owner_functions",
           "privileged_entries", "signup_functions"]


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
    role_type: str | None  # the membership role column's native enum type (the role is read as text)
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


def _native_role(model: Model, membership: ObjectType) -> str | None:
    role = membership.field(model.schema.tenancy.role_field) if model.role_column else None
    return role.sql_type if native_enum(model, role) is not None else None


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
            role=next(iter(model.role_columns(entity)), None), role_type=_native_role(model, membership),
            membership_tenant=tenant_col,
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


# -- hand-written privileged mutations ----------------------------------------------------------

@dataclass(frozen=True)
class PrivilegedEntry:
    """``app.fn_<name>(…)``, SECURITY INVOKER, the runtime's entry point to a hand-written
    ``@fq.mutation(sql_source=…, privileged=True)``: it calls the author's SECURITY DEFINER
    ``app_private.fn_<name>(…)`` (in db/, given to the privileged role by privileged.sql) and
    reads a returned entity back through its view as the caller, so the response shows what
    the caller may see."""

    template = "objects/privileged_entry.sql.j2"
    name: str
    private: str
    graphql_name: str
    params: tuple[Param, ...]
    view: str | None  # the returned entity's view

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(p.sql_type for p in self.params)})"


def privileged_entries(model: Model) -> list[PrivilegedEntry]:
    result = []
    for m in model.privileged_mutations:
        bare = m.sql_source.rsplit(".", 1)[-1]
        defaulted = False
        params = []
        for arg in m.arguments:
            default = _arg_default(arg) if arg.has_default else None
            defaulted = defaulted or default is not None
            params.append(Param(f"p_{arg.name}", _param_type(None, arg.type), default))
        params += [Param(f"p_{i.name}", "text", "NULL" if defaulted else None) for i in m.inject]
        entity = model.entity(m.return_type.name)
        result.append(PrivilegedEntry(
            name=qualified(model.app, bare), private=qualified(model.private, bare), graphql_name=m.graphql_name,
            params=tuple(params),
            view=qualified(model.app, entity.entity.view) if entity is not None and not m.return_type.is_list else None,
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
