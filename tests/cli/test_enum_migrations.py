"""Native enum types (@fq.enum(native=True)) on a database holding rows: a value added (and
used by the same migration), a value renamed (declared with renamed_from), a value removed
while rows still hold it (the apply fails cleanly, then succeeds once the rows moved); each
step converges (`migrate check`). And the generated mutations accept the type's values and
answer an unknown one with failed:validation."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.helpers import run_cli
from tests.migrations.util import private_shadow_cache, query, rehash

SCHEMA = '''
from enum import Enum

import fraisec as fq
from fraisec.scalars import ID


@fq.enum(native=True{renames})
class Status(Enum):
{members}


@fq.entity
class Doc:
    identifier: str
    status: Status = Status.{default}


@fq.query
def docs(limit: int = 20) -> list[Doc]:
    return fq.config(sql_source="v_doc")


@fq.mutation(operation="CREATE")
def create_doc(identifier: str, status: Status | None = None) -> Doc: ...


@fq.mutation(operation="UPDATE")
def update_doc(id: ID, status: Status | None = None) -> Doc: ...
'''


def _schema(values: list[str], default: str, renames: dict[str, str] | None = None) -> str:
    members = "\n".join(f'    {v.upper()} = "{v}"' for v in values)
    extra = f", renamed_from={renames!r}" if renames else ""
    return SCHEMA.format(renames=extra, members=members, default=default.upper())


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


def _cli(*args):
    return run_cli("--no-color", *args)


def _ok(*args):
    result = _cli(*args)
    assert result.exit_code == 0, result.output
    return result


def _labels(url: str) -> list[str]:
    return query(url, "SELECT enum_range(NULL::app.status)::text[]")[0][0]


def _statuses(url: str) -> list[tuple[str, str]]:
    return query(url, "SELECT identifier, status::text FROM app.tb_doc ORDER BY identifier")


def _converged(url: str) -> None:
    _ok("migrate", "check", "--database", url)
    assert "no changes" in _ok("migrate", "diff", "nothing").output


def _as_api(url: str, function_call: str) -> dict:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        conn.execute("SET ROLE app_user")
        row = conn.execute(f"SELECT * FROM {function_call}").fetchone()
        conn.commit()
    return row


@pytest.fixture
def project(tmp_path, monkeypatch, make_db):
    root = tmp_path / "enums"
    _ok("init", str(root))
    monkeypatch.chdir(root)
    (root / "schema.py").write_text(_schema(["draft", "live", "archived"], "draft"))
    _ok("migrate", "diff", "init")
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    query(url, "INSERT INTO app.tb_doc (identifier, status) VALUES ('a', 'draft'), ('b', 'live'), "
               "('c', 'archived')")
    return root, url


def test_the_type_replaces_the_check_and_the_runtime_sees_the_same_enum(project):
    root, url = project
    assert _labels(url) == ["draft", "live", "archived"]
    assert query(url, "SELECT format_type(atttypid, NULL) FROM pg_attribute "
                      "WHERE attrelid = 'app.tb_doc'::regclass AND attname = 'status'") == [("app.status",)]
    assert query(url, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'app.tb_doc'::regclass "
                      "AND contype = 'c'") == [(0,)]
    # Least privilege: no role but the owner may create objects with the type.
    assert query(url, "SELECT has_type_privilege('app_user', 'app.status', 'USAGE'), "
                      "has_type_privilege('public', 'app.status', 'USAGE')") == [(False, False)]
    # schema.json: the same GraphQL enum as a text enum's.
    _ok("compile")
    native = json.loads((root / "build" / "schema.json").read_text())
    (root / "schema.py").write_text((root / "schema.py").read_text().replace("native=True", "native=False"))
    _ok("compile")
    text = json.loads((root / "build" / "schema.json").read_text())
    assert native == text
    assert [e["name"] for e in native["enums"]] == ["Status"]


def test_mutations_cast_the_runtimes_text_and_refuse_an_unknown_value(project):
    _root, url = project
    created = _as_api(url, "app.fn_create_doc('d', 'live')")
    assert (created["succeeded"], created["entity"]["status"]) == (True, "live")
    defaulted = _as_api(url, "app.fn_create_doc('e')")
    assert defaulted["entity"]["status"] == "draft"
    bad = _as_api(url, "app.fn_create_doc('f', 'bogus')")
    assert (bad["succeeded"], bad["status_detail"], bad["http_status"]) == (False, "failed:validation", 422)
    updated = _as_api(url, f"app.fn_update_doc('{created['entity_id']}', 'archived')")
    assert (updated["succeeded"], updated["entity"]["status"]) == (True, "archived")
    assert _as_api(url, f"app.fn_update_doc('{created['entity_id']}', 'nope')")["status_detail"] == "failed:validation"


def test_a_value_added_and_used_by_the_same_migration(project):
    root, url = project
    # 'review' is new and becomes the default in the same migration.
    (root / "schema.py").write_text(_schema(["draft", "review", "live", "archived"], "review"))
    _ok("migrate", "diff", "review")
    text = (root / "migrations" / "0002_review.sql").read_text()
    lines = text.splitlines()
    add = lines.index("ALTER TYPE app.status ADD VALUE 'review' BEFORE 'live';")
    assert lines[add - 1] == "-- fraisec: non-transactional"
    assert add < next(i for i, line in enumerate(lines) if "SET DEFAULT 'review'" in line)
    _ok("migrate", "apply", "--database", url)
    assert _labels(url) == ["draft", "review", "live", "archived"]
    query(url, "INSERT INTO app.tb_doc (identifier) VALUES ('d')")
    assert ("d", "review") in _statuses(url)
    _converged(url)


def test_a_hand_written_migration_may_add_a_value_and_use_it(project):
    """Without BEGIN, fraisec runs ADD VALUE on its own so that the statements after it may
    use the value (in one transaction PostgreSQL refuses: 55P04 unsafe use of new value)."""
    root, url = project
    (root / "migrations" / "0002_by_hand.sql").write_text(
        "ALTER TYPE app.status ADD VALUE 'review' BEFORE 'live';\n"
        "UPDATE app.tb_doc SET status = 'review' WHERE identifier = 'a';\n")
    rehash(root / "migrations")
    _ok("migrate", "apply", "--database", url)
    assert ("a", "review") in _statuses(url)
    # In one explicit transaction it fails, and the failure says how to split it.
    (root / "migrations" / "0003_in_one_block.sql").write_text(
        "BEGIN;\nALTER TYPE app.status ADD VALUE 'final';\n"
        "UPDATE app.tb_doc SET status = 'final' WHERE identifier = 'b';\nCOMMIT;\n")
    rehash(root / "migrations")
    failed = _cli("migrate", "apply", "--database", url)
    assert failed.exit_code != 0
    assert "55P04" in failed.output and "put the ADD VALUE before BEGIN" in " ".join(failed.output.split())
    assert "final" not in _labels(url)  # rolled back with its transaction


def test_a_renamed_value_keeps_the_rows(project):
    root, url = project
    (root / "schema.py").write_text(_schema(["draft", "published", "archived"], "draft",
                                            {"published": "live"}))
    out = _ok("migrate", "diff", "publish")
    text = (root / "migrations" / "0002_publish.sql").read_text()
    assert "ALTER TYPE app.status RENAME VALUE 'live' TO 'published';" in text
    assert "-- safety: safe" in text and "destructive" not in text
    assert "0002_publish.sql" in out.output
    _ok("migrate", "apply", "--database", url)
    assert _labels(url) == ["draft", "published", "archived"]
    assert _statuses(url) == [("a", "draft"), ("b", "published"), ("c", "archived")]
    _converged(url)  # the hint no longer applies once the history holds the rename


def test_a_removed_value_still_in_use_fails_cleanly_then_applies(project):
    root, url = project
    (root / "schema.py").write_text(_schema(["draft", "live"], "draft"))
    refused = _cli("migrate", "diff", "drop-archived")
    assert refused.exit_code != 0 and "FSC512" in refused.output
    _ok("migrate", "diff", "drop-archived", "--unsafe")
    failed = _cli("migrate", "apply", "--database", url)
    assert failed.exit_code != 0
    said = " ".join(failed.output.split())
    assert "FSC507" in said and 'invalid input value for enum app.status: "archived"' in said
    assert "Rows still hold an enum value this migration removes" in said
    assert _labels(url) == ["draft", "live", "archived"]  # rolled back: nothing half-done
    assert _statuses(url) == [("a", "draft"), ("b", "live"), ("c", "archived")]
    query(url, "UPDATE app.tb_doc SET status = 'live' WHERE status = 'archived'")
    _ok("migrate", "apply", "--database", url)
    assert _labels(url) == ["draft", "live"]
    assert _statuses(url) == [("a", "draft"), ("b", "live"), ("c", "live")]
    _converged(url)
