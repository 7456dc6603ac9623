"""Seeded-row data steps are planned operations (issue 16 leftovers): each statement is an
:class:`~fraisec.plan.Op` with its own safety class, the migration header is rendered once from
the whole plan (no patching of its safety line afterwards), and the file reads as before."""

from __future__ import annotations

import psycopg

from fraisec.api import load_ir
from fraisec.catalog.model import Catalog
from fraisec.migrations.generate import FileParts, render_migration
from fraisec.migrations.seeds import DATA_KIND, seed_changes
from fraisec.plan import Op, Plan

SCHEMA = '''
import fraisec as fq


@fq.entity(seed=[
    {"identifier": "pro", "name": "Pro"},
    {"identifier": "team", "name": "Team"},
])
class Plan:
    identifier: str = fq.field(unique=True)
    name: str


@fq.query
def plans() -> list[Plan]: ...
'''
# What an earlier migration recorded: "free" and "pro" (named "Pro plan") were seeded.
HISTORY = ('-- fraisec: seed app.tb_plan {"free": {"identifier": "\'free\'", "name": "\'Free\'"}, '
           '"pro": {"identifier": "\'pro\'", "name": "\'Pro plan\'"}}\n')
TABLE = """
CREATE SCHEMA app;
CREATE TABLE app.tb_plan (identifier text UNIQUE NOT NULL, name text NOT NULL);
INSERT INTO app.tb_plan VALUES ('free', 'Free'), ('pro', 'Pro plan'), ('legacy', 'Operator''s');
"""


def _changes(tmp_path):
    module = tmp_path / "schema.py"
    module.write_text(SCHEMA)
    schema, diagnostics = load_ir(str(module))
    assert schema is not None, diagnostics
    return seed_changes(schema, [HISTORY])


def test_each_seed_statement_is_a_planned_step_with_its_class(tmp_path) -> None:
    changes = _changes(tmp_path)
    steps = [(op.kind, op.action, op.key, op.safety, op.transactional) for op in changes.ops]
    assert steps == [
        (DATA_KIND, "update", "app.tb_plan 'pro'", "safe", True),
        (DATA_KIND, "insert", "app.tb_plan 'team'", "safe", True),
        (DATA_KIND, "delete", "app.tb_plan 'free'", "destructive", True),
    ]
    assert changes.destructive and changes.deletes == ("app.tb_plan 'free'",)
    assert Plan(changes.ops).destructive  # the plan's own class, which the header reads


def test_the_header_is_rendered_from_the_plan_and_the_file_reads_as_before(tmp_path, make_db) -> None:
    changes = _changes(tmp_path)
    column = Op("column:table app.tb_plan:note", "table", "app.tb_plan", "add column",
                ("ALTER TABLE app.tb_plan ADD COLUMN note text",))
    safe_only = Plan((column, *changes.ops[:2]))
    whole = Plan((column, *changes.ops))
    parts = FileParts("0002_x", "m", seed_manifest=changes.manifest)
    assert "-- safety: safe\n" in render_migration(parts, safe_only, Catalog())
    text = render_migration(parts, whole, Catalog())
    assert text == (
        "-- fraisec migration 0002_x\n"
        "-- generator: fraisec " + __import__("fraisec").__version__ + "\n"
        "-- safety: destructive\n"
        "-- from: m\n"
        "-- outside transaction: none\n"
        "--\n"
        "-- Apply with `fraisec migrate apply --database URL`, or with\n"
        "-- `psql -v ON_ERROR_STOP=1 -f FILE`: each BEGIN/COMMIT block is one transaction.\n"
        "\n"
        "BEGIN;\n"
        "SET LOCAL check_function_bodies = false;\n"
        "ALTER TABLE app.tb_plan ADD COLUMN note text;\n"
        "COMMIT;\n"
        "\n"
        "-- Seeded reference rows (seed=)\n"
        + changes.manifest[0] + "\n"
        "BEGIN;\n"
        "UPDATE app.tb_plan SET name = 'Pro' WHERE identifier = 'pro';\n"
        "INSERT INTO app.tb_plan (identifier, name) VALUES ('team', 'Team') ON CONFLICT (identifier) "
        "DO UPDATE SET name = EXCLUDED.name;\n"
        "-- fraisec: destructive (delete seeded row app.tb_plan 'free': removed from seed=)\n"
        "DELETE FROM app.tb_plan WHERE identifier = 'free';\n"
        "COMMIT;\n")
    url = make_db(TABLE)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(text)  # the file, as psql runs it
        rows = conn.execute("SELECT identifier, name, note FROM app.tb_plan ORDER BY 1").fetchall()
    assert rows == [("legacy", "Operator's", None), ("pro", "Pro", None), ("team", "Team", None)]
