"""Seed 004 (a team SaaS, from the nself / Hasura multi-tenant guide) rebuilt on fraisec:
tenants with members (owner, admin, member, guest), invitations by e-mail with a token and an
expiry, plans, one subscription per tenant written by the billing webhook, usage counters, and
an operator's dashboard across tenants.

The flows that must cross the tenant boundary are declared, and generated as narrow privileged
paths: sign-up (the new tenant and its owner), accepting an invitation (the invitee is no member
yet), the billing webhook and the operator's reads (no user, no tenant: the service role).
Run ``fraisec compile`` and read build/schema.sql; db/ holds the hand-written objects: the
dashboard's figures (read by the service role only) and leaving a tenant (a declared privileged
function, given to the privileged role by build/privileged.sql).
"""

from enum import Enum

import fraisec as fq
from fraisec.scalars import ID, DateTime, Decimal, Email

fq.tenancy(tenant="Tenant", claim="tenant_id", user="User", membership="TenantUser",
           roles=("owner", "admin", "member", "guest"))


@fq.enum
class TenantRole(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    GUEST = "guest"


@fq.enum
class SubscriptionStatus(Enum):
    TRIAL = "trial"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"


@fq.entity(service=("SELECT",))
class Tenant:
    """An organization using the platform."""

    identifier: str = fq.field(unique=True)
    name: str = ""
    created_at: DateTime = fq.now()
    updated_at: DateTime = fq.now(on_update=True)
    member_count: int = fq.count("TenantUser")


@fq.entity
class User:
    """A person (the auth service's user, mirrored)."""

    identifier: str = fq.field(unique=True)
    email: Email = fq.field(unique=True)
    display_name: str | None = None


# An operator counts members across tenants; leave_tenant (db/fn_leave_tenant.sql) deletes the
# caller's own membership as the privileged role.
@fq.entity(tenant=True, service=("SELECT",), privileged=("SELECT", "DELETE"))
class TenantUser:
    """A user's membership of a tenant, with a role."""

    tenant: Tenant = fq.field(on_delete="CASCADE")
    user: User = fq.field(on_delete="CASCADE")
    role: TenantRole = TenantRole.MEMBER
    joined_at: DateTime = fq.now()
    __unique__ = [("tenant", "user")]


@fq.entity(tenant=True, invitation=True,
           views={"pending": "{row}.accepted_at IS NULL AND {row}.revoked_at IS NULL AND {row}.expires_at > now()"})
class Invitation:
    """An invitation by e-mail: a token (stored hashed) and an expiry; accepted by the invitee."""

    tenant: Tenant = fq.field(on_delete="CASCADE")
    email: Email
    role: TenantRole = TenantRole.MEMBER
    created_at: DateTime = fq.now()


# Seeded: the migrations write these rows (and later changes to them).
@fq.entity(service=("SELECT",), seed=[
    {"identifier": "free", "name": "Free", "price": 0, "max_projects": 3},
    {"identifier": "pro", "name": "Pro", "price": 49, "max_projects": 10},
])
class Plan:
    """A subscription plan (reference data)."""

    identifier: str = fq.field(unique=True)
    name: str
    price: Decimal = fq.field(sql_type="numeric(10, 2)", default=0)
    max_projects: int = 3


@fq.entity(tenant=True, service=("SELECT", "INSERT", "UPDATE"))
class TenantSubscription:
    """The tenant's subscription, written by the billing webhook."""

    tenant: Tenant = fq.field(on_delete="CASCADE")
    plan: Plan
    billing_id: str
    status: SubscriptionStatus = fq.field(default=SubscriptionStatus.TRIAL, transitions={
        SubscriptionStatus.TRIAL: [SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED],
        SubscriptionStatus.ACTIVE: [SubscriptionStatus.PAST_DUE, SubscriptionStatus.CANCELED],
        SubscriptionStatus.PAST_DUE: [SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED]})
    updated_at: DateTime = fq.now(on_update=True)
    __unique__ = [("tenant", "billing_id")]


@fq.entity(tenant=True)
class BillingUsage:
    """Usage counters per metric and period."""

    tenant: Tenant = fq.field(on_delete="CASCADE")
    metric: str
    period: str
    quantity: int = 0
    __unique__ = [("tenant", "metric", "period")]


# At most the plan's max_projects (3 without a live subscription: the free plan).
@fq.entity(tenant=True, quota="COALESCE((SELECT p.max_projects FROM {schema}.tb_tenant_subscription s "
                               "JOIN {schema}.tb_plan p ON p.pk_plan = s.fk_plan "
                               "WHERE s.fk_tenant = {tenant} AND s.status IN ('trial', 'active')), 3)")
class Project:
    """The tenant's work: projects owned by the member who created them."""

    identifier: str
    tenant: Tenant = fq.field(on_delete="CASCADE")
    name: str
    owner: User = fq.current_user()
    created_at: DateTime = fq.now()


@fq.input
class NewProject:
    """One project of a batch."""

    identifier: str
    name: str


# --- Queries -------------------------------------------------------------------------------

@fq.query
def my_tenants() -> list[Tenant]:
    """Every tenant the caller belongs to."""


@fq.query(inject={"tenant_id": "jwt:tenant_id"})
def team() -> list[TenantUser]:
    """The current tenant's members."""


@fq.query(inject={"tenant_id": "jwt:tenant_id"}, requires_role="admin")
def pending_invitations() -> list[Invitation]:
    """Invitations not accepted, revoked or expired."""
    return fq.config(sql_source="v_invitation_pending")


@fq.query
def plans() -> list[Plan]:
    """The plans."""


@fq.query(inject={"tenant_id": "jwt:tenant_id"})
def usage() -> list[BillingUsage]:
    """The current tenant's usage counters."""


@fq.query(inject={"tenant_id": "jwt:tenant_id"})
def projects() -> list[Project]:
    """The current tenant's projects."""


# --- Mutations -----------------------------------------------------------------------------

@fq.mutation(operation="SIGNUP")
def sign_up(identifier: str, name: str = "") -> Tenant:
    """A signed-in user creates a tenant and becomes its owner."""


@fq.mutation(operation="INVITE", requires_role="admin")
def invite_user(email: Email, role: TenantRole = TenantRole.MEMBER) -> Invitation:
    """Admins invite by e-mail, at most to their own role; the token is in metadata.token."""


@fq.mutation(operation="ACCEPT")
def accept_invitation(token: str) -> Invitation:
    """The invitee (signed in, same e-mail) joins the tenant."""


@fq.mutation(operation="REVOKE", requires_role="admin")
def revoke_invitation(id: ID) -> Invitation:
    """Admins revoke a pending invitation."""


@fq.mutation(operation="UPDATE", requires_role="admin")
def change_member_role(id: ID, role: TenantRole | None = None) -> TenantUser:
    """Admins change roles, never above their own (nor of someone above them)."""


@fq.mutation(sql_source="fn_leave_tenant", privileged=True)
def leave_tenant() -> TenantUser:
    """The caller leaves the current tenant (hand-written, privileged; the last owner cannot)."""


@fq.mutation(operation="CREATE", requires_role="member")
def create_project(identifier: str, name: str) -> Project:
    """Members create projects (guests cannot); the owner is the caller."""


@fq.mutation(operation="CREATE", requires_role="member")
def create_projects(items: list[NewProject]) -> list[Project]:
    """A batch (an import): every project or none, each under the same checks and the quota."""


@fq.mutation(operation="UPSERT", conflict=("metric", "period"), increment=("quantity",), requires_role="member")
def record_usage(metric: str, period: str, quantity: int = 1) -> BillingUsage:
    """Usage tracking: the same metric and period adds up."""


@fq.mutation(operation="UPSERT", conflict=("billing_id",), service=True)
def billing_webhook(tenant_id: ID, plan_id: ID, billing_id: str, status: SubscriptionStatus) -> TenantSubscription:
    """The billing provider's webhook (service role: no user, no tenant)."""


# --- Observers -----------------------------------------------------------------------------

fq.observer(Invitation, on="INSERT", subject="teams.invitation.created")
fq.observer(TenantUser, on="INSERT", subject="teams.member.joined")
