"""fq.field(max_length=…) and fq.field(precision=…, scale=…): varchar(n) and numeric(p,s)
columns on PostgreSQL, the scalar unchanged in schema.json, a too-long value refused by the
generated mutation, and widening diffed as a safe in-place change."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg
from psycopg.rows import dict_row

from fraisec.api import load_ir
from fraisec.emit.schema_json import emit_schema_json
from tests.helpers import write_schema
from tests.render.test_edge_schemas import HEADER, _sql

TYPED = """
from decimal import Decimal

@fq.entity
class Product:
    identifier: str
    name: str = fq.field(max_length=10)
    price: Decimal = fq.field(precision=10, scale=2, default=0)

@fq.query
def products(limit: int = 20) -> list[Product]:
    return fq.config(sql_source="v_product")

@fq.mutation(operation="CREATE")
def create_product(identifier: str, name: str, price: Decimal | None = None) -> Product: ...
"""


def _types(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                                 "WHERE attrelid = 'app.tb_product'::regclass AND attnum > 0").fetchall())


def test_columns_schema_json_and_mutations(make_db, tmp_path):
    url = make_db(_sql(tmp_path, TYPED))
    types = _types(url)
    assert (types["name"], types["price"]) == ("character varying(10)", "numeric(10,2)")
    schema, diagnostics = load_ir(str(write_schema(tmp_path, HEADER + TYPED)))
    assert not diagnostics
    fields = {f["name"]: f["type"] for t in json.loads(emit_schema_json(schema))["types"]
              if t["name"] == "Product" for f in t["fields"]}
    assert (fields["name"], fields["price"]) == ("String", "Decimal")
    with psycopg.connect(url, row_factory=dict_row) as conn:
        conn.execute("SET ROLE app_user")
        ok = conn.execute("SELECT * FROM app.fn_create_product('p1', 'Short', 12.345)").fetchone()
        assert (ok["succeeded"], ok["entity"]["price"]) == (True, 12.35)  # rounded to the scale
        long = conn.execute("SELECT * FROM app.fn_create_product('p2', 'Much too long a name')").fetchone()
        assert (long["succeeded"], long["status_detail"]) == (False, "failed:validation")


def test_widening_is_a_safe_in_place_change(make_db, tmp_path):
    url = make_db(_sql(tmp_path, TYPED))
    module = tmp_path / "schema.py"
    module.write_text(module.read_text().replace("max_length=10", "max_length=50")
                      .replace("precision=10", "precision=12"))
    done = subprocess.run([sys.executable, "-m", "fraisec", "diff", "--format", "json", url, str(module)],
                          capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    altered = [op for op in report["ops"] if op["kind"] == "table"]
    statements = " ".join(s for op in altered for s in op["statements"])
    assert "TYPE character varying(50)" in statements and "TYPE numeric(12,2)" in statements
    assert {op["safety"] for op in altered} == {"safe"}, altered
