"""Ordering declarations (@fq.query(order_by=[…])): the view sorts as declared with the pk
last, pages cut by LIMIT/OFFSET as the runtime cuts them are stable, an index serves the
sort, schema.json tells the runtime not to reorder, and the schema diffs to nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg
import pytest

from fraisec.api import load_ir
from fraisec.emit.schema_json import emit_schema_json
from tests.helpers import codes, write_schema
from tests.render.test_edge_schemas import HEADER, _sql

ORDERED = """
fq.tenancy(tenant="Org", claim="org_id")

@fq.entity
class Org:
    identifier: str

@fq.entity(tenant=True, soft_delete=True, views={"published": "{row}.published"})
class Post:
    identifier: str
    org: Org
    title: str
    published: bool = False
    created_at: DateTime = fq.now()

@fq.query(inject={"org_id": "jwt:org_id"}, order_by=["-created_at", "title"])
def posts(limit: int = 20, offset: int = 0) -> list[Post]:
    return fq.config(sql_source="v_post")

@fq.query(inject={"org_id": "jwt:org_id"})
def published_posts(limit: int = 20, offset: int = 0) -> list[Post]:
    return fq.config(sql_source="v_post_published")
"""

ROWS = """
INSERT INTO app.tb_org (identifier) VALUES ('a'), ('b');
INSERT INTO app.tb_post (fk_org, identifier, title, created_at) VALUES
    (1, 'old', 'Old', '2026-01-01'), (1, 'new-b', 'B', '2026-03-01'), (1, 'new-a', 'A', '2026-03-01'),
    (1, 'tie-2', 'Tie', '2026-02-01'), (1, 'tie-1', 'Tie', '2026-02-01'), (2, 'other', 'Other', '2026-04-01');
"""


def _page(conn, org: str, limit: int, offset: int) -> list[str]:
    """As the runtime reads a list: the inject filter, LIMIT/OFFSET, no ORDER BY of its own."""
    rows = conn.execute("SELECT data FROM app.v_post WHERE org_id = %s LIMIT %s OFFSET %s",
                        (org, limit, offset)).fetchall()
    return [r[0]["identifier"] for r in rows]


def test_the_view_sorts_as_declared_and_pages_are_stable(make_db, tmp_path):
    url = make_db(_sql(tmp_path, ORDERED) + ROWS)
    with psycopg.connect(url) as conn:
        org = conn.execute("SELECT id::text FROM app.tb_org WHERE identifier = 'a'").fetchone()[0]
        # created_at DESC, then title, then the pk (tie-2 was inserted before tie-1).
        everything = ["new-a", "new-b", "tie-2", "tie-1", "old"]
        assert _page(conn, org, 10, 0) == everything
        assert _page(conn, org, 2, 0) + _page(conn, org, 2, 2) + _page(conn, org, 2, 4) == everything
        indexes = dict(conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tb_post'").fetchall())
    ordered = [d for n, d in indexes.items() if n.endswith("_order")]
    assert len(ordered) == 1 and ordered[0].endswith("(fk_org, created_at DESC, title, pk_post)")
    # An unordered query's view is left to the runtime's default order.
    assert "ORDER BY" not in _sql(tmp_path, ORDERED).split("CREATE VIEW app.v_post_published")[1].split(";")[0]
    module = tmp_path / "schema.py"
    done = subprocess.run([sys.executable, "-m", "fraisec", "diff", "--exit-code", url, str(module)],
                          capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


def test_schema_json_tells_the_runtime_the_view_sorts(tmp_path):
    schema, diagnostics = load_ir(str(write_schema(tmp_path, HEADER + ORDERED)))
    assert not diagnostics, [str(d) for d in diagnostics]
    queries = {q["name"]: q for q in json.loads(emit_schema_json(schema))["queries"]}
    assert queries["posts"]["pagination_order"] == "none"
    assert "pagination_order" not in queries["publishedPosts"]


def test_an_existing_index_with_the_same_keys_is_enough(tmp_path):
    body = ORDERED.replace('    created_at: DateTime = fq.now()\n',
                           '    created_at: DateTime = fq.now()\n'
                           '    __indexes__ = [fq.index("created_at", "title", desc=["created_at"])]\n')
    text = _sql(tmp_path, body)
    assert "_order ON" not in text


@pytest.mark.parametrize("change", [
    ('order_by=["-created_at", "title"]', 'order_by=["-created", "title"]'),  # unknown field
    ('order_by=["-created_at", "title"]', 'order_by=[3]'),  # not field names
    ('order_by=["-created_at", "title"]', 'order_by=["title"], relay=True'),  # relay pages by its cursor
    ('return fq.config(sql_source="v_post")', 'return fq.config(sql_source="v_custom")'),  # not a generated view
    ('@fq.query(inject={"org_id": "jwt:org_id"})\ndef published_posts',
     '@fq.query(inject={"org_id": "jwt:org_id"}, order_by=["title"])\ndef published_posts'),
])
def test_each_misdeclared_order_is_one_diagnostic(tmp_path, change):
    old, new = change
    body = ORDERED.replace(old, new, 1)
    if "published_posts" in old:  # a second order for the same view
        body = body.replace('sql_source="v_post_published"', 'sql_source="v_post"')
    _, diagnostics = load_ir(str(write_schema(tmp_path, HEADER + body)))
    assert codes(diagnostics) == ["FSC236"], [str(d) for d in diagnostics]
