"""Seed 001 ("saas-blog") rebuilt on fraisec: tenants, users with roles, posts with soft delete,
comments, an audit trail.

Everything the seed's hand-written SQL and middleware did is declared here and generated:
posts are soft-deleted and restorable (``v_post`` shows live posts, ``v_post_trash`` the deleted
ones); ``updated_at`` moves on every update; a post's and a comment's author is the calling
user, never an argument; an update can clear the optional ``summary``; every change to a post
is recorded in the audit log with its old and new values, by the observer triggers, which the
API role cannot write. Run ``fraisec compile`` and read build/schema.sql.
"""

from enum import Enum

import fraisec as fq
from fraisec.scalars import ID, DateTime, Email, Json

# JWT {"user_id": …, "tenant_id": …}: fraiseql.toml maps them to app.user_id / app.tenant_id.
fq.tenancy(tenant="Tenant", claim="tenant_id", user="User", user_claim="user_id",
           membership="Membership", roles=("admin", "editor", "subscriber"))


# Native PostgreSQL enum types (not text with a CHECK): a value added later is an
# ALTER TYPE … ADD VALUE, a renamed one a RENAME VALUE (renamed_from=).
@fq.enum(native=True)
class Role(Enum):
    ADMIN = "admin"
    EDITOR = "editor"
    SUBSCRIBER = "subscriber"


@fq.enum(native=True)
class Tier(Enum):
    FREE = "free"
    PRO = "pro"
    ENTERPRISE = "enterprise"


@fq.entity
class Tenant:
    """A blog (the tenant)."""

    identifier: str = fq.field(unique=True)
    name: str
    subscription_tier: Tier = Tier.FREE
    post_count: int = fq.count("Post")  # live posts the caller can see
    created_at: DateTime = fq.now()


@fq.entity
class User:
    """A person; their role in a blog is on their membership."""

    identifier: str = fq.field(unique=True)
    email: Email = fq.field(unique=True)
    name: str
    created_at: DateTime = fq.now()


@fq.entity(tenant=True)
class Membership:
    """A user's role in a blog."""

    tenant: Tenant
    user: User
    role: Role = Role.SUBSCRIBER
    __unique__ = [("tenant", "user")]


@fq.entity(tenant=True, soft_delete=True, search={"title": "A", "summary": "B", "content": "C"},
           views={"published": "{row}.published"})
class Post:
    """A blog post. Deleting hides it (and frees its identifier); restoring brings it back."""

    identifier: str = fq.slug("title")  # from the title when not given
    tenant: Tenant
    author: User = fq.current_user()
    title: str
    summary: str | None = None
    content: str = ""
    published: bool = False
    comment_count: int = fq.count("Comment")
    created_at: DateTime = fq.now()
    updated_at: DateTime = fq.now(on_update=True)
    __indexes__ = [fq.index("created_at", desc=True), fq.index("published", "created_at", where="published")]


@fq.entity(tenant=True)
class Comment:
    """A comment on a post, by the calling user."""

    identifier: str
    tenant: Tenant
    post: Post = fq.field(on_delete="CASCADE")
    author: User = fq.current_user()
    content: str
    created_at: DateTime = fq.now()


@fq.entity(tenant=True, activity_log=True)
class AuditLog:
    """Who changed what: written by the observers in the same transaction, append-only."""

    tenant: Tenant
    actor_id: ID
    entity_type: str
    entity_id: ID
    action: str
    changes: Json | None = None  # {field: {"old": …, "new": …}}
    created_at: DateTime = fq.now()


# --- Queries ---------------------------------------------------------------------------

@fq.query(inject={"tenant_id": "jwt:tenant_id"}, cache_ttl_seconds=60, relay=True)
def posts() -> list[Post]:
    """The blog's live posts, as a relay connection (keyset pages on pk_post, stable under
    inserts; deleted posts are hidden by the view)."""
    return fq.config(sql_source="v_post")


@fq.query(inject={"tenant_id": "jwt:tenant_id"}, order_by=["-created_at"])
def published_posts(limit: int = 20, offset: int = 0) -> list[Post]:
    """What readers see: live, published posts, newest first (the view sorts; pages are stable)."""
    return fq.config(sql_source="v_post_published")


@fq.query(inject={"tenant_id": "jwt:tenant_id"}, requires_role="editor")
def deleted_posts(limit: int = 20) -> list[Post]:
    """The trash: deleted posts, to restore (editors and admins)."""
    return fq.config(sql_source="v_post_trash")


@fq.query
def search_posts(query: str, limit: int = 20, offset: int = 0) -> list[Post]:
    """Live posts of the blog matching a web search query, best first (data has _rank and _highlight)."""
    return fq.config(sql_source="fn_search_post")


@fq.query
def post(id: ID) -> Post | None:
    """One live post."""
    return fq.config(sql_source="v_post")


@fq.query(inject={"tenant_id": "jwt:tenant_id"})
def comments(limit: int = 20) -> list[Comment]:
    """Comments of the blog."""
    return fq.config(sql_source="v_comment")


@fq.query(inject={"tenant_id": "jwt:tenant_id"}, requires_role="admin")
def audit_log(limit: int = 50) -> list[AuditLog]:
    """The blog's audit trail (admins)."""
    return fq.config(sql_source="v_audit_log")


# --- Mutations -------------------------------------------------------------------------

@fq.mutation(operation="CREATE", requires_role="editor")
def create_post(title: str, content: str = "", summary: str | None = None,
                published: bool = False, identifier: str | None = None) -> Post:
    """Editors and admins write posts; the author is the caller."""


@fq.mutation(operation="UPDATE", requires_role="editor")
def update_post(id: ID, title: str | None = None, summary: str | None = None,
                content: str | None = None, published: bool | None = None,
                clear: list[str] | None = None) -> Post:
    """Edit a post; `clear: ["summary"]` removes the summary (a null argument leaves it)."""


@fq.mutation(operation="DELETE", requires_role="editor")
def delete_post(id: ID) -> Post:
    """Soft delete: the post disappears from lists and counts, and can be restored."""


@fq.mutation(operation="RESTORE", requires_role="editor")
def restore_post(id: ID) -> Post:
    """Bring a deleted post back."""


@fq.mutation(operation="PURGE", requires_role="admin")
def purge_post(id: ID) -> Post:
    """Delete a post for good (admins)."""


@fq.mutation(operation="CREATE")
def create_comment(post_id: ID, identifier: str, content: str) -> Comment:
    """Any member comments, as themself."""


@fq.subscription(topic="blog.comment.created")
def comment_created() -> Comment:
    """New comments, pushed by the runtime from the observers' outbox events."""


# --- Observers: outbox events and the audit trail ------------------------------------------

fq.observer(Post, on="INSERT", subject="blog.post.created", activity=True)
fq.observer(Post, on="UPDATE", subject="blog.post.updated", activity=True)
fq.observer(Post, on="DELETE", subject="blog.post.purged", activity=True)
fq.observer(Comment, on="INSERT", subject="blog.comment.created", activity=True)
