"""examples/blog's constructs diff and converge: from a first blog without them (no soft delete,
no maintained columns, no counts, no audit changes, no search column, no index kinds, the
author an argument, one value fewer in a native enum, no ordered query) to the full one,
`migrate diff` writes a migration that applies to a database holding rows, and `migrate check`
then reports no drift."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import REPO
from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, query

BLOG = REPO / "examples" / "blog"


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


def _ok(*args):
    result = run_cli("--no-color", *args)
    assert result.exit_code == 0, result.output
    return result


def _first_version(text: str) -> str:
    """The blog as a user would have started it: every construct of this issue taken out."""
    replacements = [
        ('    ENTERPRISE = "enterprise"\n', ""),  # an enum value added later
        ('@fq.entity(tenant=True, soft_delete=True, search={"title": "A", "summary": "B", "content": "C"},\n'
         '           views={"published": "{row}.published"})', "@fq.entity(tenant=True)"),
        ('    identifier: str = fq.slug("title")  # from the title when not given', "    identifier: str"),
        ('    __indexes__ = [fq.index("created_at", desc=True), fq.index("published", "created_at", where="published")]\n',
         ""),
        ("    author: User = fq.current_user()\n    title: str", "    author: User\n    title: str"),
        ("    author: User = fq.current_user()\n    content: str", "    author: User\n    content: str"),
        ("    post_count: int = fq.count(\"Post\")  # live posts the caller can see\n", ""),
        ("    comment_count: int = fq.count(\"Comment\")\n", ""),
        ("    updated_at: DateTime = fq.now(on_update=True)", "    updated_at: DateTime = fq.now()"),
        ("    changes: Json | None = None  # {field: {\"old\": …, \"new\": …}}\n", ""),
        ("def create_post(title: str, content: str = \"\", summary: str | None = None,\n"
         "                published: bool = False, identifier: str | None = None) -> Post:",
         "def create_post(identifier: str, author_id: ID, title: str, content: str = \"\",\n"
         "                summary: str | None = None, published: bool = False) -> Post:"),
        ("def create_comment(post_id: ID, identifier: str, content: str)",
         "def create_comment(post_id: ID, author_id: ID, identifier: str, content: str)"),
        ("published: bool | None = None,\n                clear: list[str] | None = None) -> Post:",
         "published: bool | None = None) -> Post:"),
    ]
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    # The search and trash queries and the soft-delete-only mutations arrive with the features.
    start = text.index("@fq.query\ndef search_posts(")
    end = text.index("@fq.query\ndef post(")
    text = text[:start] + text[end:]
    start = text.index("@fq.query(inject={\"tenant_id\": \"jwt:tenant_id\"}, order_by=[\"-created_at\"])\n"
                       "def published_posts(")
    end = text.index("@fq.query(inject={\"tenant_id\": \"jwt:tenant_id\"}, requires_role=\"editor\")")
    text = text[:start] + text[end:]
    start = text.index("@fq.query(inject={\"tenant_id\": \"jwt:tenant_id\"}, requires_role=\"editor\")")
    end = text.index("@fq.query\ndef post(")
    text = text[:start] + text[end:]
    start = text.index("@fq.mutation(operation=\"DELETE\", requires_role=\"editor\")")
    end = text.index("@fq.mutation(operation=\"PURGE\"")
    text = text[:start] + text[end:].replace("operation=\"PURGE\"", "operation=\"DELETE\"")
    return text


def test_the_blog_grows_its_lifecycle_features_on_a_populated_database(tmp_path, monkeypatch, make_db):
    root = tmp_path / "blog"
    _ok("init", str(root))
    full = (BLOG / "schema.py").read_text()
    (root / "schema.py").write_text(_first_version(full))
    monkeypatch.chdir(root)
    _ok("migrate", "diff", "init")
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    query(url, """
        INSERT INTO app.tb_tenant (identifier, name) VALUES ('acme', 'Acme');
        INSERT INTO app.tb_user (identifier, name, email) VALUES ('eve', 'Eve', 'eve@acme.test');
        INSERT INTO app.tb_post (fk_tenant, fk_author, identifier, title) VALUES (1, 1, 'hello', 'Hello');
        INSERT INTO app.tb_comment (fk_tenant, fk_post, fk_author, identifier, content) VALUES (1, 1, 1, 'c1', 'Hi');
        INSERT INTO app.tb_audit_log (fk_tenant, actor_id, entity_type, entity_id, action)
        VALUES (1, gen_random_uuid(), 'Post', gen_random_uuid(), 'created')""")

    (root / "schema.py").write_text(full)
    out = _ok("migrate", "diff", "lifecycle")
    assert "0002_lifecycle.sql" in out.output
    text = (root / "migrations" / "0002_lifecycle.sql").read_text()
    assert "deleted_at" in text and "fn_maintain_post" in text and "search_vector" in text
    # The native enum gains its value in place, outside the transaction that may use it.
    assert "ORDER BY r0.created_at DESC, r0.pk_post" in text  # published_posts' declared order
    lines = text.splitlines()
    add = lines.index("ALTER TYPE app.tier ADD VALUE 'enterprise' AFTER 'pro';")
    assert lines[add - 1] == "-- fraisec: non-transactional" and add < lines.index("DROP VIEW app.v_tenant;")
    _ok("migrate", "apply", "--database", url)
    _ok("migrate", "check", "--database", url)
    assert "no changes" in _ok("migrate", "diff", "nothing").output
    assert "check: ok" in _ok("check").output
    # The rows survived, and the new constructs work on them.
    assert query(url, "SELECT identifier, deleted_at FROM app.tb_post") == [("hello", None)]
    query(url, "UPDATE app.tb_post SET deleted_at = now()")
    assert query(url, "SELECT count(*) FROM app.v_post") == [(0,)]
    assert query(url, "SELECT count(*) FROM app.v_post_trash") == [(1,)]
    query(url, "INSERT INTO app.tb_post (fk_tenant, fk_author, identifier, title) VALUES (1, 1, 'hello', 'Again')")
    assert query(url, "SELECT count(*) FROM app.tb_post WHERE identifier = 'hello'") == [(2,)]
    # The new enum value is accepted; an unknown one still is not.
    query(url, "UPDATE app.tb_tenant SET subscription_tier = 'enterprise'")
    with pytest.raises(Exception, match='invalid input value for enum app.tier: "platinum"'):
        query(url, "UPDATE app.tb_tenant SET subscription_tier = 'platinum'")
    assert query(url, "SELECT enum_range(NULL::app.tier)::text") == [("{free,pro,enterprise}",)]
    # The search column was computed for the rows already there.
    assert query(url, "SELECT count(*) FROM app.tb_post WHERE search_vector @@ to_tsquery('english', 'hello')") == [(1,)]
    # The audit rows written before have no changes; the new observers fill them.
    assert query(url, "SELECT count(*) FROM app.tb_audit_log WHERE changes IS NULL") == [(1,)]
