"""Index kinds, column types and extensions: applied to PostgreSQL as declared, and a schema
applied once diffs to nothing against itself (so migrations converge on them)."""

from __future__ import annotations

import subprocess
import sys

import psycopg

from tests.render.test_edge_schemas import _sql

PHYSICAL = """
fq.extension("pgcrypto")
fq.tenancy(tenant="Org", claim="org_id")

@fq.entity
class Org:
    identifier: str

@fq.entity(tenant=True, search=["title"], search_language="simple")
class Item:
    identifier: str
    org: Org
    title: str
    price: float = fq.field(sql_type="numeric(10, 2)", default=0)
    code: str = fq.field(sql_type="varchar(12)", default=fq.sql("encode(gen_random_bytes(6), 'hex')"))
    published: bool = False
    tags: list[str] | None = None
    __indexes__ = [fq.index("identifier", desc=True), fq.index("tags", using="gin"),
                   fq.index("title", where="published", include=("price",)), fq.index("code", unique=True)]
"""


def test_declared_indexes_types_and_extensions_apply_and_converge(make_db, tmp_path):
    url = make_db(_sql(tmp_path, PHYSICAL))
    with psycopg.connect(url) as conn:
        indexes = dict(conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tb_item'").fetchall())
        types = dict(conn.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                                  "WHERE attrelid = 'app.tb_item'::regclass AND attnum > 0").fetchall())
        code = conn.execute("WITH o AS (INSERT INTO app.tb_org (identifier) VALUES ('o') RETURNING pk_org) "
                            "INSERT INTO app.tb_item (fk_org, identifier, title) SELECT pk_org, 'i', 'A title' FROM o "
                            "RETURNING code, search_vector::text").fetchone()
    assert indexes["ix_item_fk_org_identifier_desc"].endswith("(fk_org, identifier DESC)")
    assert "USING gin (tags)" in indexes["ix_item_tags_gin"]
    assert indexes["ix_item_fk_org_title_partial"].endswith("(fk_org, title) INCLUDE (price) WHERE published")
    assert indexes["uq_item_fk_org_code"].startswith("CREATE UNIQUE INDEX")
    assert "USING gin (search_vector)" in indexes["ix_item_search_vector"]
    assert (types["price"], types["code"]) == ("numeric(10,2)", "character varying(12)")
    assert len(code[0]) == 12 and code[1] == "'a':1B 'title':2B"  # pgcrypto's default; simple, weight B
    module = tmp_path / "schema.py"
    done = subprocess.run([sys.executable, "-m", "fraisec", "diff", "--exit-code", url, str(module)],
                          capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr
