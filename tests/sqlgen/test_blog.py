"""examples/blog (seed 001) on a real PostgreSQL, driven as the runtime drives it: soft delete
and restore, cleared values, maintained columns, the audit trail, counts, and isolation."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from fraisec.api import schema_sql
from tests.sqlgen.conftest import Saas, template_database

BLOG = Path(__file__).resolve().parents[2] / "examples" / "blog"

ACME = "00000000-0000-0000-0000-0000000000aa"
GLOBEX = "00000000-0000-0000-0000-0000000000bb"
ADA = "00000000-0000-0000-0000-0000000001a1"  # acme admin
EVE = "00000000-0000-0000-0000-0000000001a2"  # acme editor
SAM = "00000000-0000-0000-0000-0000000001a3"  # acme subscriber
GUS = "00000000-0000-0000-0000-0000000001b1"  # globex admin

SEED = f"""
INSERT INTO app.tb_tenant (id, identifier, name) VALUES ('{ACME}', 'acme', 'Acme'), ('{GLOBEX}', 'globex', 'Globex');
INSERT INTO app.tb_user (id, identifier, name, email) VALUES
    ('{ADA}', 'ada', 'Ada', 'ada@acme.test'), ('{EVE}', 'eve', 'Eve', 'eve@acme.test'),
    ('{SAM}', 'sam', 'Sam', 'sam@acme.test'), ('{GUS}', 'gus', 'Gus', 'gus@globex.test');
INSERT INTO app.tb_membership (fk_tenant, fk_user, role)
SELECT t.pk_tenant, u.pk_user, m.role::app.role  -- a native enum type
FROM (VALUES ('acme', 'ada', 'admin'), ('acme', 'eve', 'editor'), ('acme', 'sam', 'subscriber'),
             ('globex', 'gus', 'admin')) AS m(tenant, usr, role)
JOIN app.tb_tenant t ON t.identifier = m.tenant JOIN app.tb_user u ON u.identifier = m.usr;
INSERT INTO app.tb_post (fk_tenant, fk_author, identifier, title, summary)
SELECT t.pk_tenant, u.pk_user, p.identifier, p.title, 'a summary'
FROM (VALUES ('acme', 'eve', 'hello', 'Hello'), ('globex', 'gus', 'secret', 'Globex secret'))
     AS p(tenant, usr, identifier, title)
JOIN app.tb_tenant t ON t.identifier = p.tenant JOIN app.tb_user u ON u.identifier = p.usr;
TRUNCATE app_private.tb_outbox_event, app.tb_audit_log;
"""


@pytest.fixture(scope="session")
def blog_sql() -> str:
    text, diagnostics = schema_sql(str(BLOG / "schema.py"))
    assert text is not None, [str(d) for d in diagnostics]
    return text


@pytest.fixture(scope="session")
def blog_template(pg_server, blog_sql) -> str:
    return template_database(pg_server, "blog", blog_sql, SEED)


@pytest.fixture
def blog(make_db, blog_template) -> Saas:
    return Saas(make_db(template=blog_template))


def _identifiers(conn, view: str) -> list[str]:
    return sorted(r["data"]["identifier"] for r in conn.execute(f"SELECT data FROM app.{view}").fetchall())


def _create(blog: Saas, conn, identifier: str | None, title: str, content: str = "") -> dict:
    """createPost(title, content, summary, published, identifier), as the runtime passes it."""
    return blog.call(conn, "fn_create_post", title, content, None, False, identifier)


def _post(blog: Saas, identifier: str = "hello") -> str:
    return blog.admin("SELECT id::text FROM app.tb_post WHERE identifier = %s", (identifier,))[0][0]


# -- soft delete -----------------------------------------------------------------------------

def test_a_deleted_post_leaves_lists_and_counts_and_comes_back_on_restore(blog):
    hello = _post(blog)
    with blog.request(SAM, ACME, commit=True) as conn:
        assert blog.call(conn, "fn_create_comment", hello, "c1", "Nice")["succeeded"]
    with blog.request(EVE, ACME, commit=True) as conn:
        deleted = blog.call(conn, "fn_delete_post", hello)
        assert (deleted["succeeded"], deleted["status_detail"]) == (True, "deleted")
        assert deleted["entity"]["identifier"] == "hello"  # as it was shown
        assert _identifiers(conn, "v_post") == []
        assert _identifiers(conn, "v_post_trash") == ["hello"]
        tenant = conn.execute("SELECT data FROM app.v_tenant").fetchone()["data"]
        assert tenant["post_count"] == 0
        # The comment stays, its post shows as absent; no new comment on a deleted post.
        [comment] = conn.execute("SELECT data FROM app.v_comment").fetchall()
        assert comment["data"]["post"] is None
        assert blog.call(conn, "fn_create_comment", hello, "c2", "late")["status_detail"] == "noop:not_found"
        # Deleting twice, or updating a deleted post, finds nothing.
        assert blog.call(conn, "fn_delete_post", hello)["status_detail"] == "noop:not_found"
        assert blog.call(conn, "fn_update_post", hello, "x")["status_detail"] == "noop:not_found"
    with blog.request(EVE, ACME, commit=True) as conn:
        restored = blog.call(conn, "fn_restore_post", hello)
        assert (restored["succeeded"], restored["status_detail"]) == (True, "restored")
        assert restored["entity"]["deleted_at"] is None
        assert _identifiers(conn, "v_post") == ["hello"] and _identifiers(conn, "v_post_trash") == []
        assert conn.execute("SELECT data FROM app.v_tenant").fetchone()["data"]["post_count"] == 1
        assert conn.execute("SELECT data FROM app.v_post").fetchone()["data"]["comment_count"] == 1
        assert blog.call(conn, "fn_restore_post", hello)["status_detail"] == "noop:not_found"


def test_a_deleted_posts_identifier_is_free_for_a_live_one(blog):
    with blog.request(EVE, ACME, commit=True) as conn:
        assert _create(blog, conn, "hello", "Dup")["status_detail"] == "conflict:duplicate"
    with blog.request(EVE, ACME, commit=True) as conn:
        assert blog.call(conn, "fn_delete_post", _post(blog))["succeeded"]
        assert _create(blog, conn, "hello", "Second hello")["succeeded"]
    # Restoring the first would make two live posts with one identifier: a conflict, not a dup.
    old = blog.admin("SELECT id::text FROM app.tb_post WHERE identifier = 'hello' AND deleted_at IS NOT NULL")[0][0]
    with blog.request(EVE, ACME) as conn:
        assert blog.call(conn, "fn_restore_post", old)["status_detail"] == "conflict:duplicate"


def test_only_admins_purge_and_a_purge_is_for_good(blog):
    hello = _post(blog)
    with blog.request(EVE, ACME) as conn:
        assert blog.call(conn, "fn_purge_post", hello)["error_class"] == "forbidden"
    with blog.request(ADA, ACME, commit=True) as conn:
        purged = blog.call(conn, "fn_purge_post", hello)
        assert (purged["succeeded"], purged["status_detail"], purged["entity"]["identifier"]) == (True, "purged", "hello")
    assert blog.admin("SELECT count(*) FROM app.tb_post WHERE identifier = 'hello'") == [(0,)]


def test_an_identifier_is_derived_from_the_title_when_not_given(blog):
    with blog.request(EVE, ACME, commit=True) as conn:
        derived = _create(blog, conn, None, "Hello, World: FraiseQL 2!")
        assert derived["entity"]["identifier"] == "hello-world-fraiseql-2"
        given = _create(blog, conn, "my-own", "Whatever")
        assert given["entity"]["identifier"] == "my-own"


def test_the_published_view_shows_live_published_posts_only(blog):
    with blog.request(EVE, ACME, commit=True) as conn:
        live = _create(blog, conn, "live", "Live")["entity_id"]
        blog.call(conn, "fn_update_post", live, None, None, None, True)
        gone = _create(blog, conn, "gone", "Gone")["entity_id"]
        blog.call(conn, "fn_update_post", gone, None, None, None, True)
        blog.call(conn, "fn_delete_post", gone)
        assert _identifiers(conn, "v_post_published") == ["live"]  # not hello (a draft), not gone
    with blog.request(GUS, GLOBEX) as conn:
        assert _identifiers(conn, "v_post_published") == []


def test_published_posts_come_newest_first_in_stable_pages(blog):
    """order_by=["-created_at"]: the view sorts (the pk breaks ties), the runtime adds no
    ORDER BY and cuts pages with LIMIT/OFFSET."""
    for identifier in ("first", "second", "third"):  # one request each: distinct created_at
        with blog.request(EVE, ACME, commit=True) as conn:
            created = _create(blog, conn, identifier, identifier.title())["entity_id"]
            blog.call(conn, "fn_update_post", created, None, None, None, True)

    def page(limit: int, offset: int) -> list[str]:
        with blog.request(SAM, ACME) as conn:
            rows = conn.execute("SELECT data FROM app.v_post_published LIMIT %s OFFSET %s", (limit, offset))
            return [r["data"]["identifier"] for r in rows.fetchall()]

    assert page(10, 0) == ["third", "second", "first"]
    assert page(2, 0) + page(2, 2) == ["third", "second", "first"]


# -- clearing, maintained columns, attribution -----------------------------------------------

def test_an_update_clears_a_value_only_when_asked(blog):
    hello = _post(blog)
    with blog.request(EVE, ACME, commit=True) as conn:
        kept = blog.call(conn, "fn_update_post", hello, "Hello again", None, None, None, None)
        assert kept["entity"]["summary"] == "a summary" and kept["updated_fields"] == ["title"]
        cleared = blog.call(conn, "fn_update_post", hello, None, None, None, None, ["summary"])
        assert cleared["entity"]["summary"] is None and cleared["updated_fields"] == ["summary"]
        refused = blog.call(conn, "fn_update_post", hello, None, None, None, None, ["title"])
        assert (refused["succeeded"], refused["status_detail"]) == (False, "failed:validation")


def test_updated_at_moves_and_the_author_is_the_caller(blog):
    hello = _post(blog)
    before = blog.admin("SELECT updated_at, created_at FROM app.tb_post WHERE id = %s", (hello,))[0]
    with blog.request(ADA, ACME, commit=True) as conn:
        blog.call(conn, "fn_update_post", hello, "Edited by Ada")
    after = blog.admin("SELECT updated_at, created_at, fk_author FROM app.tb_post WHERE id = %s", (hello,))[0]
    assert after[0] > before[0] and after[1] == before[1]
    eve = blog.admin("SELECT pk_user FROM app.tb_user WHERE id = %s", (EVE,))[0][0]
    assert after[2] == eve  # editing does not make Ada the author
    with blog.request(EVE, ACME, commit=True) as conn:
        created = _create(blog, conn, "mine", "Mine")
        assert created["entity"]["author"]["id"] == EVE
    with blog.request(SAM, ACME, commit=True) as conn:
        comment = blog.call(conn, "fn_create_comment", hello, "c1", "Hi")
        assert comment["entity"]["author"]["id"] == SAM


@pytest.mark.parametrize("statement", [
    "INSERT INTO app.tb_post (fk_tenant, fk_author, identifier, title) SELECT pk_tenant, 1, 'forged', 'x' FROM app.tb_tenant",
    "UPDATE app.tb_post SET fk_author = 1",
    "UPDATE app.tb_post SET updated_at = '2000-01-01'",
    "UPDATE app.tb_post SET created_at = '2000-01-01'",
])
def test_nobody_writes_a_maintained_column(blog, statement):
    with blog.request(EVE, ACME) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute(statement)


def test_a_subscriber_cannot_write_posts(blog):
    hello = _post(blog)
    with blog.request(SAM, ACME) as conn:
        for call, args in (("fn_create_post", ("S",)), ("fn_update_post", (hello, "x")),
                           ("fn_delete_post", (hello,)), ("fn_restore_post", (hello,))):
            result = blog.call(conn, call, *args)
            assert (result["succeeded"], result["error_class"]) == (False, "forbidden"), call
    with blog.request(SAM, ACME) as conn:  # and directly: the policy is the backstop
        assert conn.execute("UPDATE app.tb_post SET title = 'x'").rowcount == 0


# -- audit -------------------------------------------------------------------------------------

def test_the_audit_trail_holds_old_and_new_values_the_actor_and_the_tenant(blog):
    hello = _post(blog)
    with blog.request(EVE, ACME, commit=True) as conn:
        blog.call(conn, "fn_update_post", hello, "Hello, world", None, "new body")
        blog.call(conn, "fn_delete_post", hello)
    with blog.request(ADA, ACME) as conn:
        rows = [r["data"] for r in conn.execute("SELECT data FROM app.v_audit_log").fetchall()]
    assert len(rows) == 2
    edit = next(r for r in rows if "title" in r["changes"])
    assert edit["changes"]["title"] == {"old": "Hello", "new": "Hello, world"}
    assert edit["changes"]["content"] == {"old": "", "new": "new body"}
    assert "summary" not in edit["changes"] and "pk_post" not in edit["changes"]
    assert (edit["actor_id"], edit["entity_id"], edit["action"], edit["tenant"]["id"]) == (EVE, hello, "updated", ACME)
    soft = next(r for r in rows if "deleted_at" in r["changes"])
    assert soft["changes"]["deleted_at"]["old"] is None and soft["changes"]["deleted_at"]["new"]
    with blog.request(ADA, ACME) as conn:  # append-only: not even an admin writes it
        for statement in ("UPDATE app.tb_audit_log SET action = 'x'", "DELETE FROM app.tb_audit_log",
                          "INSERT INTO app.tb_audit_log (fk_tenant, actor_id, entity_type, entity_id, action, changes) "
                          "SELECT pk_tenant, gen_random_uuid(), 'Post', gen_random_uuid(), 'x', '{}' FROM app.tb_tenant"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(statement)
            conn.rollback()
            conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)",
                         (ADA, ACME))
            conn.execute("SET LOCAL ROLE app_user")


# -- isolation --------------------------------------------------------------------------------

def test_a_tenant_sees_nothing_of_another_through_any_view_or_count(blog):
    with blog.request(EVE, ACME, commit=True) as conn:
        hello = _post(blog)
        blog.call(conn, "fn_create_comment", hello, "c1", "Hi")
        blog.call(conn, "fn_update_post", hello, "x")
        gone = _create(blog, conn, "gone", "Gone")["entity_id"]
        assert blog.call(conn, "fn_delete_post", gone)["succeeded"]
    with blog.request(GUS, GLOBEX) as conn:
        assert _identifiers(conn, "v_post") == ["secret"]
        assert _identifiers(conn, "v_post_trash") == []
        for view in ("v_comment", "v_audit_log"):
            assert conn.execute(f"SELECT count(*) AS n FROM app.{view}").fetchone()["n"] == 0, view
        assert [r["data"]["post_count"] for r in conn.execute("SELECT data FROM app.v_tenant").fetchall()] == [1]
        # Acme's post by id: not found through any mutation either.
        for call in ("fn_update_post", "fn_delete_post", "fn_restore_post", "fn_purge_post"):
            assert blog.call(conn, call, hello)["status_detail"] == "noop:not_found", call


# -- search -----------------------------------------------------------------------------------

def _search(conn, query: str) -> list[dict]:
    return [r["data"] for r in conn.execute("SELECT data FROM app.fn_search_post(%s)", (query,)).fetchall()]


def test_search_ranks_the_callers_live_posts_only(blog):
    with blog.request(EVE, ACME, commit=True) as conn:
        _create(blog, conn, "graphql", "GraphQL on PostgreSQL", "a long body")
        _create(blog, conn, "notes", "Notes", "we mention graphql in the body only")
        gone = _create(blog, conn, "old-graphql", "Old GraphQL post", "")["entity_id"]
        blog.call(conn, "fn_delete_post", gone)
    with blog.request(GUS, GLOBEX, commit=True) as conn:
        _create(blog, conn, "their-graphql", "Their GraphQL", "globex only")
    with blog.request(SAM, ACME) as conn:
        found = _search(conn, "graphql")
        # The title match (weight A) ranks above the body match (weight C); the deleted post
        # and globex's are not found.
        assert [d["identifier"] for d in found] == ["graphql", "notes"]
        assert found[0]["_rank"] > found[1]["_rank"]
        assert "<b>GraphQL</b>" in found[0]["_highlight"]
        assert _search(conn, "globex") == [] and _search(conn, "old") == []
    with blog.request(GUS, GLOBEX) as conn:
        assert [d["identifier"] for d in _search(conn, "graphql")] == ["their-graphql"]
    with blog.request(None, None) as conn:
        assert _search(conn, "graphql") == []


# -- relay pagination ----------------------------------------------------------------------------

def test_cursor_pages_are_stable_under_inserts(blog):
    """The runtime's keyset: WHERE pk_post > $cursor ORDER BY pk_post LIMIT $first, on v_post."""
    page = "SELECT pk_post, data->>'identifier' AS i FROM app.v_post WHERE pk_post > %s ORDER BY pk_post LIMIT 2"
    with blog.request(EVE, ACME, commit=True) as conn:
        for n in range(4):
            _create(blog, conn, f"p{n}", f"Post {n}")
    with blog.request(SAM, ACME) as conn:
        first = conn.execute(page, (0,)).fetchall()
    with blog.request(EVE, ACME, commit=True) as conn:  # new posts arrive between two pages
        _create(blog, conn, "late", "Late")
    with blog.request(SAM, ACME) as conn:
        second = conn.execute(page, (first[-1]["pk_post"],)).fetchall()
        third = conn.execute(page, (second[-1]["pk_post"],)).fetchall()
    seen = [r["i"] for r in first + second + third]
    assert seen == ["hello", "p0", "p1", "p2", "p3", "late"]  # nothing repeated, nothing skipped
    with blog.request(GUS, GLOBEX) as conn:  # the cursor column does not widen what is visible
        assert [r["i"] for r in conn.execute(page, (0,)).fetchall()] == ["secret"]
