"""tenants.toml: what a tenant resolves to, and what the file may not contain."""

from __future__ import annotations

import tomllib

from fraisec.catalog.shadow import redact
from fraisec.migrations.registry import append_tenant, load_registry, replace_tenant

SERVERS = """
[servers.eu1]
url = "postgresql://app@eu1.internal:5432/{database}?sslmode=require"
password_env = "EU1_PW"
admin_url = "postgresql://admin@eu1.internal/postgres"
admin_password_env = "EU1_ADMIN_PW"
"""


def _load(tmp_path, text):
    path = tmp_path / "tenants.toml"
    path.write_text(text)
    return load_registry(path)


def test_a_tenant_resolves_with_its_server_template_and_the_password_from_the_environment(
        tmp_path, monkeypatch):
    monkeypatch.setenv("EU1_PW", "p@ss:/word")
    monkeypatch.setenv("EU1_ADMIN_PW", "root")
    monkeypatch.setenv("GLOBEX_URL", "postgresql://g:env-secret@us1/globex")
    reg, problems = _load(tmp_path, SERVERS + """
[defaults]
server = "eu1"

[[tenants]]
name = "acme"

[[tenants]]
name = "globex"
url = "${GLOBEX_URL}"

[[tenants]]
name = "initech"
strategy = "schema"
database = "shared"
search_path = ["{schema}", "common"]
role = "{schema}_api"
member_of = ["app_user"]
""")
    assert problems == []
    acme, _ = reg.resolve(reg.get("acme"))
    # the password is percent-encoded into the URL, which is printed redacted only
    assert acme.url == "postgresql://app:p%40ss%3A%2Fword@eu1.internal:5432/tenant_acme?sslmode=require"
    assert redact(acme.url) == "postgresql://app:***@eu1.internal:5432/tenant_acme?sslmode=require"
    assert acme.admin_url == "postgresql://admin:root@eu1.internal/postgres"
    assert (acme.strategy, acme.database, acme.schema, acme.search_path) == (
        "database", "tenant_acme", None, ())
    globex, _ = reg.resolve(reg.get("globex"))
    assert globex.url == "postgresql://g:env-secret@us1/globex"
    initech, _ = reg.resolve(reg.get("initech"))
    assert initech.url.endswith("@eu1.internal:5432/shared?sslmode=require")
    assert (initech.schema, initech.search_path, initech.role, initech.member_of) == (
        "tenant_initech", ("tenant_initech", "common"), "tenant_initech_api", ("app_user",))


def test_file_problems_are_diagnostics_with_their_line(tmp_path):
    reg, problems = _load(tmp_path, SERVERS + """
[[tenants]]
name = "acme"
server = "eu1"
databse = "x"

[[tenants]]
name = "Bad-Name"
url = "postgresql://app@h/db"

[[tenants]]
name = "leak"
url = "postgresql://h/db?password=hunter2"

[[tenants]]
name = "dbrole"
url = "postgresql://h/db"
role = "r"
""")
    assert reg is None
    found = [(d.code, d.location.line) for d in problems]
    assert found == [("FSC534", 8), ("FSC534", 13), ("FSC531", 17), ("FSC534", 21)]  # [[tenants]]
    assert "Did you mean 'database'" in problems[0].hint
    assert all("hunter2" not in d.message for d in problems)
    _, problems = _load(tmp_path, "[[tenants]]\nname = 'a'\nurl = 'postgresql://u:pw@h/d'\n")
    assert [d.code for d in problems] == ["FSC531"]
    _, problems = _load(tmp_path, "[[tenants]\n")
    assert [d.code for d in problems] == ["FSC530"]
    _, problems = load_registry(tmp_path / "missing.toml")
    assert [d.code for d in problems] == ["FSC530"]


def test_unresolvable_tenants_say_why(tmp_path, monkeypatch):
    monkeypatch.delenv("EU1_PW", raising=False)
    monkeypatch.delenv("EU1_ADMIN_PW", raising=False)
    reg, problems = _load(tmp_path, SERVERS + """
[[tenants]]
name = "a"
server = "eu1"

[[tenants]]
name = "b"
server = "eu9"

[[tenants]]
name = "c"
strategy = "schema"
url = "postgresql://h/{database}"
""")
    assert problems == []
    assert [[d.code for d in reg.resolve(t)[1]] for t in reg.tenants] == [
        ["FSC533"], ["FSC532"], ["FSC534"]]
    # the admin password is needed by `tenant create` only, not to apply migrations
    monkeypatch.setenv("EU1_PW", "x")
    resolved, problems = reg.resolve(reg.get("a"))
    assert problems == [] and resolved.admin_url is None
    assert [d.message for d in resolved.admin_problems] == [
        "tenant a: environment variable EU1_ADMIN_PW is not set"]
    chosen, problems = reg.select(["a", "zz"], False)
    assert [t.name for t in chosen] == ["a"] and [d.code for d in problems] == ["FSC532"]


def test_append_keeps_the_file_and_adds_each_tenant_once(tmp_path):
    path = tmp_path / "tenants.toml"
    path.write_text("# our tenants\n" + SERVERS.lstrip())
    assert append_tenant(path, {"name": "acme", "server": "eu1"})
    assert not append_tenant(path, {"name": "acme", "server": "other"})
    assert append_tenant(path, {"name": "globex", "strategy": "schema", "database": "shared"})
    text = path.read_text()
    assert text.startswith("# our tenants\n[servers.eu1]")
    assert tomllib.loads(text)["tenants"] == [
        {"name": "acme", "server": "eu1"},
        {"name": "globex", "strategy": "schema", "database": "shared"}]
    assert replace_tenant(path, "acme", {"name": "acme", "strategy": "database", "server": "us1"})
    assert not replace_tenant(path, "nobody", {"name": "nobody"})
    moved = path.read_text()
    assert moved.startswith("# our tenants\n[servers.eu1]")
    assert tomllib.loads(moved)["tenants"] == [
        {"name": "acme", "strategy": "database", "server": "us1"},
        {"name": "globex", "strategy": "schema", "database": "shared"}]
