"""Seed 000 ("Multi-Tenant SaaS") rebuilt on fraisec.

The API contract is seed 000's (types Organization, Project, Member, Activity; queries
projects, members, activity, project; mutations createProject, inviteMember), plus
Task (a tenant row referencing another tenant row), updateProject, createTask and an admin-only
deleteProject. The SQL behind it (tables, RLS, views, mutation
functions, observer triggers) is generated: run ``fraisec compile`` and read build/schema.sql.
``Member`` and ``inviteMember`` stay hand-written (db/v_member.sql, db/fn_invite_member.sql);
``inviteMember`` records an Invitation (memberships are never written by the API role).
"""

from enum import Enum

import fraisec as fq
from fraisec.scalars import ID, DateTime, Email

# Shared schema + RLS. A request selects its tenant with the JWT claim "org_id" (the runtime
# copies it into app.tenant_id); "sub" names the user, whose membership in that organization
# is verified by the generated policies, and whose role decides requires_role.
fq.tenancy(tenant="Organization", claim="org_id", user="User", membership="Membership",
           roles=("owner", "admin", "member"))


@fq.enum
class Role(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


@fq.entity
class Organization:
    """A tenant organization."""

    identifier: str = fq.field(unique=True)
    name: str
    plan: str = "free"
    member_count: int = fq.computed(
        "(SELECT count(*) FROM {schema}.tb_membership m WHERE m.fk_organization = {row}.pk_organization)"
    )
    created_at: DateTime = fq.now()


@fq.entity
class User:
    """A person who can belong to several organizations."""

    identifier: str = fq.field(unique=True)
    name: str
    email: Email = fq.field(unique=True)
    created_at: DateTime = fq.now()


@fq.entity(tenant=True)
class Membership:
    """A user's membership of an organization, with a role."""

    organization: Organization
    user: User
    role: Role = Role.MEMBER
    joined_at: DateTime = fq.now()
    __unique__ = [("organization", "user")]


@fq.entity(tenant=True, writes={"INSERT": "admin"})
class Invitation:
    """An invitation by e-mail, pending until the invitee accepts it. Recording one reveals
    nothing about the address (whether it has an account, or belongs to another tenant); the
    membership is made on acceptance, never by the inviter (hand-written: db/fn_invite_member.sql)."""

    organization: Organization
    email: Email
    role: Role = Role.MEMBER
    invited_at: DateTime = fq.now()
    __unique__ = [("organization", "email")]


@fq.entity(tenant=True)
class Project:
    """A project within an organization."""

    identifier: str
    name: str
    description: str | None = None
    status: str = "active"
    organization: Organization
    created_at: DateTime = fq.now()


@fq.entity(tenant=True)
class Task:
    """A task in a project (a tenant row that references another tenant row)."""

    identifier: str
    title: str
    done: bool = False
    project: Project
    organization: Organization
    created_at: DateTime = fq.now()


@fq.entity(tenant=True, activity_log=True)
class Activity:
    """An activity log entry (written by observers, append-only)."""

    organization: Organization
    actor_id: ID  # the user who made the change (changes without a user log no activity)
    entity_type: str
    entity_id: ID
    action: str
    metadata: str = "{}"  # JSON string
    created_at: DateTime = fq.now()


@fq.type
class Member:
    """An organization member with role (hand-written view: db/v_member.sql)."""

    id: ID
    name: str
    email: Email
    role: str
    joined_at: DateTime
    organization_id: ID


# --- Queries (JWT-scoped) ---

@fq.query(inject={"org_id": "jwt:org_id"}, rest_path="/projects", rest_method="GET")
def projects(status: str | None = None, limit: int = 20, offset: int = 0) -> list[Project]:
    """List projects in the caller's organization."""
    return fq.config(sql_source="v_project")


@fq.query(inject={"org_id": "jwt:org_id"})
def members(role: str | None = None, limit: int = 50) -> list[Member]:
    """List members of the caller's organization."""
    return fq.config(sql_source="v_member")


@fq.query(inject={"org_id": "jwt:org_id"})
def activity(entity_type: str | None = None, limit: int = 50) -> list[Activity]:
    """Recent activity in the caller's organization."""
    return fq.config(sql_source="v_activity")


@fq.query
def project(id: ID) -> Project | None:
    """Fetch a single project by ID (RLS enforces tenant scope)."""
    return fq.config(sql_source="v_project")


# --- Mutations ---

@fq.mutation(sql_source="fn_create_project", operation="CREATE")
def create_project(name: str, identifier: str, org_id: ID, description: str | None = None) -> Project:
    """Create a new project."""


@fq.mutation(operation="UPDATE")
def update_project(id: ID, name: str | None = None, description: str | None = None,
                   status: str | None = None) -> Project:
    """Change a project's name, description or status (omitted arguments stay as they are)."""


@fq.mutation(operation="DELETE", requires_role="admin")
def delete_project(id: ID) -> Project:
    """Delete a project. Requires the admin role (or owner)."""


@fq.mutation(operation="CREATE")
def create_task(project_id: ID, identifier: str, title: str) -> Task:
    """Add a task to a project of the caller's organization."""


@fq.mutation(sql_source="fn_invite_member", operation="UPDATE", requires_role="admin")
def invite_member(org_id: ID, email: str, role: str = "member") -> Member:
    """Invite someone to the organization by e-mail: records a pending invitation, answers the
    same whether or not the address has an account. Requires admin role (or owner), and a role
    no stronger than the caller's (hand-written: db/fn_invite_member.sql)."""


# --- Observers: outbox events (and activity rows) written by triggers ---

fq.observer(Project, on="INSERT", subject="saas.project.created", activity=True)
fq.observer(Project, on="DELETE", subject="saas.project.deleted", activity=True)
fq.observer(Invitation, on="INSERT", subject="saas.member.invited")
