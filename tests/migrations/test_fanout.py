"""One migrations directory applied to several databases at once (database per tenant)."""

from __future__ import annotations

import json

from tests.helpers import run_cli
from tests.migrations.util import history, query, write_migrations

FILES = {
    "0001_init.sql": "CREATE TABLE tb_org (id int PRIMARY KEY, name text);\n",
    "0002_plan.sql": "ALTER TABLE tb_org ADD COLUMN plan text DEFAULT 'free';\n",
}


def test_fan_out_is_independent_per_target_and_resumable(make_db, tmp_path):
    d = write_migrations(tmp_path / "m", FILES)
    good_a, good_b = make_db(), make_db()
    bad = make_db("CREATE TABLE tb_org (other int);")  # 0001 fails here
    args = ["migrate", "apply", "--dir", str(d), "-j", "3",
            "--database", good_a, "--database", bad, "--database", good_b]
    first = run_cli("--format", "json", *args)
    assert first.exit_code == 1
    targets = json.loads(first.stdout)["targets"]
    assert [t["ok"] for t in targets] == [True, False, True]
    assert targets[0]["applied"] == ["0001_init.sql", "0002_plan.sql"]
    assert targets[1]["diagnostics"][0]["code"] == "FSC507"
    assert "0001_init.sql failed" in targets[1]["state"]
    assert [r[1] for r in history(good_b)] == ["0001_init.sql", "0002_plan.sql"]
    assert history(bad) == []
    # fix the broken target and run again: only what is missing runs
    query(bad, "DROP TABLE tb_org")
    again = run_cli("--no-color", *args)
    assert again.exit_code == 0, again.output
    lines = again.stdout.splitlines()
    assert lines[0].startswith("ok") and lines[0].endswith("applied 0 (up to date)")
    assert lines[1].endswith("applied 2: 0001_init.sql, 0002_plan.sql")
    assert "3 of 3 databases ok" in again.output
    dry = run_cli("migrate", "apply", "--dir", str(d), "--dry-run", "--database", good_a,
                  "--database", bad)
    assert dry.exit_code == 0 and dry.stdout.count("up to date") == 2
