"""What the renderer knows about a schema beyond the IR: each entity's tenancy role.

Every table falls in one class, and the class decides its RLS shape (rls.md, "Recommended
generated SQL"):

* ``tenant``: rows carry the tenant column; RESTRICTIVE guard, ENABLE + FORCE.
* ``root``: the tenant entity itself (``tb_organization``); readable by its members.
* ``user``: the user entity; a user sees themself and the members of the current tenant.
* ``membership``: the membership entity when it is not tenant-scoped itself; a user sees the
  memberships of every organization they belong to.
* ``global``: neither; shared reference data, readable by every request.

Every class is FORCEd. The SECURITY DEFINER context helpers read the root, user and membership
tables as the context role, whose own policy there calls nothing, so no helper call re-enters a
policy ("stack depth limit exceeded", rls.md (a)) and no path runs as the owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fraisec.ir import naming
from fraisec.ir.model import Field, Kind, Mutation, ObjectType, Schema
from fraisec.render.quoting import qualified, quote_ident, quote_literal

__all__ = ["Model", "TableClass", "COMMANDS", "mutation_command", "mutation_commands"]

TableClass = Literal["tenant", "root", "user", "membership", "global"]

# Mutation operation -> the SQL command it runs.
COMMANDS = {"CREATE": "INSERT", "INSERT": "INSERT", "UPDATE": "UPDATE", "DELETE": "DELETE",
            "RESTORE": "UPDATE", "PURGE": "DELETE", "UPSERT": "INSERT", "INVITE": "INSERT",
            "REVOKE": "UPDATE"}  # ACCEPT runs as the privileged role: no command for the API role


def mutation_commands(entity: ObjectType, operation: str | None) -> tuple[str, ...]:
    """Every SQL command a generated mutation runs: an UPSERT inserts or updates."""
    if operation == "UPSERT":
        return ("INSERT", "UPDATE")
    command = mutation_command(entity, operation)
    return (command,) if command else ()


def mutation_command(entity: ObjectType, operation: str | None) -> str | None:
    """The SQL command a generated mutation runs: on a soft-delete entity DELETE is an UPDATE
    of ``deleted_at`` (as is RESTORE), and PURGE is the real DELETE."""
    if operation == "DELETE" and entity.entity is not None and entity.entity.soft_delete:
        return "UPDATE"
    return COMMANDS.get(operation or "")


# The helper through which requests read an external user table (render.functions).
VISIBLE_USERS = "fn_visible_users"


@dataclass(frozen=True)
class Model:
    """The IR plus derived facts every object renderer needs."""

    schema: Schema

    # -- settings -------------------------------------------------------------------------
    @property
    def app(self) -> str:
        return self.schema.settings.schema_name

    @property
    def private(self) -> str:
        return self.schema.settings.private_schema

    @property
    def api_role(self) -> str:
        return self.schema.settings.api_role

    @property
    def owner_role(self) -> str:
        return self.schema.settings.owner_role

    def _internal_role(self, purpose: str) -> str:
        owner = self.owner_role
        base = owner[: -len("_owner")] if owner.endswith("_owner") and owner != "_owner" else owner
        return f"{base}_{purpose}"

    @property
    def context_role(self) -> str:
        """Owns the SECURITY DEFINER context helpers: column SELECT on the identity tables and a
        policy of its own there, nothing else. Not the owner, so every table can be FORCEd."""
        return self._internal_role("context")

    @property
    def observer_role(self) -> str:
        """Owns the observer triggers: reads what the request's API role reads (the same
        policies) and alone appends to the outbox and the activity log."""
        return self._internal_role("observer")

    @property
    def privileged_role(self) -> str:
        """Owns the generated SECURITY DEFINER flows that must cross the tenant boundary on
        purpose (accepting an invitation: the invitee is no member yet). It holds exactly the
        column privileges and policies those bodies use, and never BYPASSRLS."""
        return self._internal_role("privileged")

    @property
    def service_role(self) -> str:
        """What the runtime switches to for requests with no user and no tenant (a billing
        webhook, an operator's dashboard): the declared commands on the declared entities,
        across tenants, and the service mutations; no API grant, no BYPASSRLS."""
        return self._internal_role("service")

    @property
    def has_service(self) -> bool:
        return any(e.entity.service for e in self.schema.entities)

    @property
    def signs_up(self) -> bool:
        """A generated SIGNUP mutation creates tenants (and their first owner's membership)."""
        return any(m.generated and m.operation == "SIGNUP" for m in self.schema.mutations)

    @property
    def has_privileged_flows(self) -> bool:
        return self.signs_up or self.invitation is not None or bool(self.privileged_mutations)

    @property
    def privileged_mutations(self) -> tuple[Mutation, ...]:
        """Hand-written db/ functions declared ``privileged=True``: fraisec owns them to the
        privileged role after db/ is applied."""
        return tuple(m for m in self.schema.mutations if m.privileged and not m.generated)

    @property
    def invitation(self) -> ObjectType | None:
        """The invitation entity, when a generated ACCEPT mutation takes its invitations."""
        accepted = {m.entity for m in self.schema.mutations if m.generated and m.operation == "ACCEPT"}
        return next((e for e in self.schema.entities if e.entity.invitation and e.name in accepted), None)

    @property
    def has_observers(self) -> bool:
        return bool(self.schema.observers)

    @property
    def reader_roles(self) -> tuple[str, ...]:
        """The roles the read policies (the tenant guard, SELECT) apply to."""
        return (self.api_role, self.observer_role) if self.has_observers else (self.api_role,)

    def table(self, entity: ObjectType) -> str:
        """The schema-qualified, quoted table name (an external entity's own table)."""
        if entity.entity.external:
            return qualified(*entity.entity.external)
        return qualified(self.app, entity.entity.table)

    def read_source(self, entity: ObjectType) -> str:
        """What a request reads an entity's rows from: its table, or, for an external user
        table (no policy of fraisec's, no grant to the API role), the context role's helper
        returning the users the request may see."""
        if entity.entity.external:
            return f"{qualified(self.private, VISIBLE_USERS)}()"
        return self.table(entity)

    @property
    def external_user(self) -> ObjectType | None:
        """The user entity when it lives in an existing table (``@entity(external=…)``)."""
        user = self.user
        return user if user is not None and user.entity.external else None

    @property
    def user_key_type(self) -> str:
        """The type of a user's key, of references to users and of the user helpers: the
        external table's uuid, or the generated table's bigint pk."""
        return "uuid" if self.external_user is not None else "bigint"

    @property
    def citus(self) -> bool:
        """``[distribution] engine = "citus"``: the policies take the shape Citus distributes
        (docs/scale-out.md, "Row-level security"): no subquery, no RESTRICTIVE policy."""
        return self.schema.settings.distribution == "citus"

    def helper(self, name: str) -> str:
        """A call to a context helper, wrapped so it runs once per statement (an InitPlan).
        On Citus a plain call: it refuses a policy holding a subquery."""
        call = f"{qualified(self.private, name)}()"
        return call if self.citus else f"(SELECT {call})"

    def helper_set(self, name: str) -> str:
        """A set-valued helper as an array computed once: indexable, unlike ``IN (SELECT …)``.
        On Citus the helper itself returns the array (no subquery)."""
        call = f"{qualified(self.private, name)}()"
        return call if self.citus else f"ARRAY(SELECT {call})"

    # -- entities -------------------------------------------------------------------------
    def entity(self, name: str | None) -> ObjectType | None:
        found = self.schema.type(name) if name else None
        return found if found is not None and found.entity is not None else None

    def table_class(self, entity: ObjectType) -> TableClass:
        tenancy = self.schema.tenancy
        if entity.entity.tenant_field:
            return "tenant"
        if tenancy is not None and entity.entity.is_tenant_root:
            return "root"
        if tenancy is not None and tenancy.user_entity == entity.name:
            return "user"
        if self.membership is not None and self.membership.name == entity.name:
            return "membership"
        return "global"

    def tenant_column(self, entity: ObjectType) -> str | None:
        """The column holding a row's tenant pk (the pk itself on the tenant root)."""
        if entity.entity.tenant_field:
            return entity.field(entity.entity.tenant_field).column
        kind = self.table_class(entity)
        if kind == "root":
            return entity.entity.pk_column
        if kind == "membership":
            return self.membership_column(entity, self.root.name)
        return None

    # -- tenancy helpers --------------------------------------------------------------------
    @property
    def root(self) -> ObjectType | None:
        return self.entity(self.schema.tenancy.tenant_entity) if self.schema.tenancy else None

    @property
    def user(self) -> ObjectType | None:
        return self.entity(self.schema.tenancy.user_entity) if self.schema.tenancy else None

    @property
    def membership(self) -> ObjectType | None:
        """The membership entity, when it links the user and tenant entities."""
        tenancy = self.schema.tenancy
        found = self.entity(tenancy.membership_entity) if tenancy else None
        if found is None or self.user is None or self.root is None:
            return None
        if self.membership_column(found, self.root.name) and self.membership_column(found, self.user.name):
            return found
        return None

    @staticmethod
    def membership_column(membership: ObjectType, target: str) -> str | None:
        return next((f.column for f in membership.fields if f.relation == target), None)

    @property
    def role_column(self) -> str | None:
        membership = self.membership
        if membership is None:
            return None
        field = membership.field(self.schema.tenancy.role_field)
        return field.column if field is not None and field.column and not field.relation else None

    def allowed_roles(self, required: str) -> list[str]:
        """``requires_role="admin"`` admits admin and every stronger role (roles strongest first)."""
        roles = list(self.schema.tenancy.roles) if self.schema.tenancy else []
        if required in roles:
            return roles[: roles.index(required) + 1]
        return [required]

    def role_rule(self, required: str) -> str:
        return self.roles_rule(self.allowed_roles(required))

    def roles_rule(self, roles: list[str]) -> str:
        listed = ", ".join(quote_literal(r) for r in roles)
        return f"{self.helper('fn_current_tenant_role')} = ANY (ARRAY[{listed}])"

    def role_ceiling(self, column: str) -> str:
        """The row's role is the caller's own or weaker: nobody grants a role above their own
        (roles are strongest first, so a weaker role has a higher position)."""
        roles = "ARRAY[" + ", ".join(quote_literal(r) for r in self.schema.tenancy.roles) + "]"
        return (f"COALESCE(array_position({roles}, {quote_ident(column)}::text) >= "
                f"array_position({roles}, {self.helper('fn_current_tenant_role')}), false)")

    def role_columns(self, entity: ObjectType) -> list[str]:
        """Columns holding a tenancy role: the membership's role field and any field of the same
        enum type (an invitation's role). Their writes get the role ceiling."""
        membership, column = self.membership, self.role_column
        if membership is None or column is None:
            return []
        role_field = membership.field(self.schema.tenancy.role_field)
        found = []
        for f in entity.fields:
            if not f.column or f.relation:
                continue
            if (entity.name == membership.name and f.column == column) or (
                    role_field.type.kind is Kind.ENUM and f.type.kind is Kind.ENUM
                    and f.type.name == role_field.type.name and not f.type.is_list):
                found.append(f.column)
        return found

    # -- mutations --------------------------------------------------------------------------
    def generated_mutations(self, entity: ObjectType) -> list[Mutation]:
        return [m for m in self.schema.mutations if m.generated and m.entity == entity.name]

    def command_rule(self, entity: ObjectType, command: str) -> str | None:
        """The permissive rule for one command, from the generated mutations that run it.

        ``None``: no generated mutation runs the command. ``true``: one runs it without a role.
        Otherwise the weakest ``requires_role`` among them, when the database can check roles.
        """
        mutations = [m for m in self.generated_mutations(entity)
                     if command in mutation_commands(entity, m.operation) and not m.service]
        allowed = [self.mutation_roles(m) for m in mutations]
        allowed += [self.allowed_roles(role) if role else None for c, role in entity.entity.writes if c == command]
        if not allowed:
            return None
        if any(a is None for a in allowed) or self.role_column is None:
            return "true"
        union = {r for a in allowed for r in a}
        return self.roles_rule([r for r in self.schema.tenancy.roles if r in union])

    def mutation_roles(self, mutation: Mutation) -> list[str] | None:
        """The roles that may run a mutation: its permission's holders, ``requires_role`` and
        every stronger role, or None for any member."""
        if mutation.requires_permission:
            return list(dict(self.schema.tenancy.permissions)[mutation.requires_permission])
        return self.allowed_roles(mutation.requires_role) if mutation.requires_role else None

    # -- enums ------------------------------------------------------------------------------
    def enum_values(self, field: Field) -> list[str] | None:
        if field.type.kind is not Kind.ENUM or field.type.is_list:
            return None
        enum = next((e for e in self.schema.enums if e.name == field.type.name), None)
        if enum is None or (enum.sql_type and field.sql_type == enum.sql_type):
            return None  # a native enum column: the type is the check
        return [str(value) for _, value in enum.values]


def ident(name: str) -> str:
    return quote_ident(name)


def object_name(prefix: str, *parts: str) -> str:
    return naming.object_name(prefix, *parts)
