"""The whole lifecycle on a copy of examples/saas, as a new user runs it from the README:

init → compile → migrate diff → apply → change the schema (add a field, rename a field with a
hint, add an entity, change a view, change a function's arguments) → migrate diff → apply →
check, ending with `migrate check` clean against the database and the replayed history.
"""

from __future__ import annotations

import pytest

import shutil

from tests.conftest import REPO
from tests.helpers import run_cli
from tests.migrations.util import history, private_shadow_cache, query


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


SAAS = REPO / "examples" / "saas"


def _ok(*args):
    result = run_cli("--no-color", *args)
    assert result.exit_code == 0, result.output
    return result


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name}: {old!r} not found once"
    path.write_text(text.replace(old, new))


def _change_the_schema(root) -> None:
    schema = root / "schema.py"
    # add a field, and rename one with a hint (the mutations' arguments follow the rename)
    _edit(schema, "    description: str | None = None\n    status: str = \"active\"\n",
          "    summary: str | None = fq.field(default=None, renamed_from=\"description\")\n"
          "    status: str = \"active\"\n    priority: int = 0\n")
    _edit(schema, "org_id: ID, description: str | None = None) -> Project:",
          "org_id: ID, summary: str | None = None) -> Project:")
    # change a function's arguments (fn_update_project gains p_priority)
    _edit(schema, "name: str | None = None, description: str | None = None,\n"
                  "                   status: str | None = None) -> Project:",
          "name: str | None = None, summary: str | None = None,\n"
          "                   status: str | None = None, priority: int | None = None) -> Project:")
    # add an entity
    _edit(schema, "@fq.type\nclass Member:",
          "@fq.entity(tenant=True)\nclass Tag:\n    \"\"\"A label for projects.\"\"\"\n\n"
          "    identifier: str\n    label: str\n    organization: Organization\n\n\n"
          "@fq.type\nclass Member:")
    # change a (hand-written) view, and the type that reads it
    _edit(schema, "    organization_id: ID\n\n", "    organization_id: ID\n    email_domain: str\n\n")
    _edit(root / "db" / "v_member.sql", "        'organization_id', o.id\n",
          "        'organization_id', o.id,\n        'email_domain', split_part(u.email, '@', 2)\n")


def test_saas_lifecycle(tmp_path, monkeypatch, make_db):
    root = tmp_path / "saas"
    _ok("init", str(root))
    shutil.copy(SAAS / "schema.py", root / "schema.py")
    for sql in sorted((SAAS / "db").glob("*.sql")):
        shutil.copy(sql, root / "db" / sql.name)
    monkeypatch.chdir(root)

    _ok("compile")
    assert (root / "build" / "schema.sql").is_file()
    assert "wrote migrations/0001_init.sql" in _ok("migrate", "diff", "init").output
    url = make_db()
    _ok("migrate", "apply", "--database", url)
    _ok("migrate", "check", "--database", url)
    query(url, "INSERT INTO app.tb_organization (identifier, name) VALUES ('acme', 'Acme')")
    query(url, "INSERT INTO app.tb_project (identifier, name, description, fk_organization) "
               "SELECT 'p1', 'Launch', 'keep me', pk_organization FROM app.tb_organization")

    _change_the_schema(root)
    assert run_cli("migrate", "check", "--database", url).exit_code == 3
    _ok("compile")
    out = _ok("migrate", "diff", "add_tags_and_priority")
    assert "rename column app.tb_project.description -> summary" in out.output
    text = (root / "migrations" / "0002_add_tags_and_priority.sql").read_text()
    assert "-- safety: safe" in text  # no --unsafe: the rename is not a drop and an add
    assert "ALTER TABLE app.tb_project RENAME COLUMN description TO summary;" in text
    assert "DROP COLUMN" not in text
    _ok("migrate", "apply", "--database", url)

    assert [r[1] for r in history(url)] == ["0001_init.sql", "0002_add_tags_and_priority.sql"]
    assert query(url, "SELECT name, summary, priority FROM app.tb_project") == [("Launch", "keep me", 0)]
    assert query(url, "SELECT to_regclass('app.tb_tag') IS NOT NULL, to_regclass('app.v_tag') IS NOT NULL") == [(True, True)]
    args = query(url, "SELECT pg_get_function_identity_arguments('app.fn_update_project'::regproc)")[0][0]
    assert "p_priority integer" in args and "p_summary text" in args
    assert "email_domain" in query(url, "SELECT pg_get_viewdef('app.v_member'::regclass)")[0][0]

    assert "check: ok" in _ok("check").output
    _ok("migrate", "check", "--database", url)
    _ok("migrate", "check")
    assert "no changes" in _ok("migrate", "diff", "nothing").output
    status = _ok("migrate", "status", "--database", url)
    assert status.stdout.count("applied ") == 2

    # Applied by a superuser, the migrations give every object (created, recreated or added
    # later) the owner schema.sql gives it (the db/ files SET ROLE app_owner themselves).
    owners = query(url, """
        SELECT pg_get_userbyid(c.relowner)::text, c.relname::text FROM pg_class c
        WHERE c.relnamespace IN ('app'::regnamespace, 'app_private'::regnamespace)
        UNION SELECT pg_get_userbyid(p.proowner)::text, p.proname::text FROM pg_proc p
        WHERE p.pronamespace IN ('app'::regnamespace, 'app_private'::regnamespace)
        UNION SELECT pg_get_userbyid(n.nspowner)::text, n.nspname::text FROM pg_namespace n
        WHERE n.nspname IN ('app', 'app_private')""")
    narrow = {name: owner for owner, name in owners if owner != "app_owner"}
    assert set(narrow.values()) == {"app_context", "app_observer"}, owners  # the definer functions
    assert all(name.startswith(("fn_current_", "fn_tenant_uuid", "fn_keep_an_")) for name, o in narrow.items()
               if o == "app_context")
    assert all(name.startswith("fn_observe_") for name, o in narrow.items() if o == "app_observer")
    assert {"app", "tb_tag", "v_tag", "fn_update_project", "v_project", "v_member",
            "fn_invite_member"} <= {name for _owner, name in owners}
