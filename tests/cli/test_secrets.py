"""No password given to fraisec reaches stdout, stderr or a file it writes (issue 11, "Secrets").

Every command that takes a database runs against the suite's real PostgreSQL (trust auth: the
password is carried and ignored), with the URL form and the key/value form, in each output
format, once reaching the database and once failing to (a database that does not exist). The
passwords are distinctive: none of their fragments can appear by chance.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest

from fraisec.redact import MASK, clear_secrets, redact, register_secrets, secrets_in
from tests.helpers import run_cli

# Decoded, the URL's password is "Zq9-Url!Leak"; percent-encoded in the URL.
URL_PASSWORD = "Zq9-Url!Leak"
# Quoted, with a space and an escaped quote, in the key/value form.
KV_PASSWORD = "Zq9 Kv'Leak"
FRAGMENTS = ("Zq9", "Leak", "Url%21", "Kv\\'")

BOOK = """
import fraisec as fq


@fq.entity
class Book:
    identifier: str
    title: str
"""


@pytest.fixture(autouse=True)
def _forget_secrets():
    # The registry is per process; each test must show that its own command registered them.
    clear_secrets()
    yield
    clear_secrets()


def _url(server, dbname: str) -> str:
    return (f"postgresql://postgres:{quote(URL_PASSWORD, safe='')}@/{dbname}"
            f"?host={quote(str(server.sockdir), safe='')}&port=5432")


def _kv(server, dbname: str) -> str:
    escaped = KV_PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
    return (f"host={server.sockdir} port=5432 user=postgres dbname={dbname} "
            f"password='{escaped}'")


FORMS = {"url": _url, "kv": _kv}


def _dbname(url: str) -> str:
    return url.split("@/", 1)[1].split("?", 1)[0]


@pytest.fixture(scope="module")
def template(tmp_path_factory, pg_server):
    """A project with one migration (written by fraisec, through the test server's shadow)."""
    root = tmp_path_factory.mktemp("secrets-project")
    (root / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n')
    (root / "db").mkdir()
    (root / "schema.py").write_text(textwrap.dedent(BOOK).lstrip())
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = run_cli("migrate", "diff", "init", "--shadow-url", pg_server.url())
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def project(template, tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(template, root)
    monkeypatch.chdir(root)
    return root


def _commands(dsn: str, other: str, shadow: str) -> dict[str, list[str]]:
    return {  # in this order: apply first, so that the rest see an up-to-date database
        "validate": ["validate", "--database", dsn],
        "migrate apply": ["migrate", "apply", "-d", dsn],
        "migrate status": ["migrate", "status", "-d", dsn],
        "migrate apply (two targets)": ["-v", "migrate", "apply", "-d", dsn, "-d", other],
        "migrate check": ["migrate", "check", "-d", dsn, "--shadow-url", shadow],
        "diff": ["diff", dsn, "schema.py", "--shadow-url", shadow],
        "migrate diff": ["migrate", "diff", "from_db", "-d", dsn, "--shadow-url", shadow],
        "migrate baseline": ["migrate", "baseline", "-d", dsn, "--shadow-url", shadow],
        "migrate repair": ["migrate", "repair", "-d", dsn],
        "check": ["check", "--shadow-url", shadow],
    }


def _leaks(text: str) -> list[str]:
    return [f for f in (*FRAGMENTS, URL_PASSWORD, KV_PASSWORD) if f in text]


def _files_leaking(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in sorted(root.rglob("*")) if p.is_file()
            and _leaks(p.read_text(encoding="utf-8", errors="replace"))]


@pytest.mark.parametrize("reachable", [True, False], ids=["reachable", "unreachable"])
@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("fmt", ["rich", "json", "github"])
def test_no_command_shows_or_writes_a_password(project, make_db, pg_server, fmt, form, reachable):
    dbname = _dbname(make_db()) if reachable else "no_such_database_q"
    other = FORMS[form](pg_server, _dbname(make_db()) if reachable else "no_such_database_q2")
    dsn = FORMS[form](pg_server, dbname)
    shadow = FORMS[form](pg_server, "postgres")
    ran = []
    for name, args in _commands(dsn, other, shadow).items():
        result = run_cli("--no-color", "--format", fmt, *args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            name, result.exception)
        assert result.exit_code in (0, 1, 3, 4), (name, result.exit_code, result.output)
        assert not _leaks(result.stdout), (name, result.stdout)
        assert not _leaks(result.stderr), (name, result.stderr)
        assert not _files_leaking(project), (name, _files_leaking(project))
        ran.append((name, result.exit_code))
    codes = dict(ran)
    if reachable:
        # They did reach the database, in either form.
        assert [codes[c] for c in ("validate", "migrate apply", "migrate status", "migrate check",
                                   "migrate diff", "migrate repair", "check")] == [0] * 7, ran
    if not reachable:
        assert all(code == 1 for name, code in ran if name != "check"), ran


def test_migrate_diff_from_a_database_records_no_connection_details(project, make_db, pg_server):
    dbname = _dbname(make_db())
    run = run_cli("migrate", "diff", "from_db", "-d", _kv(pg_server, dbname),
                  "--shadow-url", pg_server.url())
    assert run.exit_code == 0, run.output
    text = (project / "migrations" / "0002_from_db.sql").read_text()
    assert "-- from: a database (--database)\n" in text
    assert str(pg_server.sockdir) not in text and dbname not in text and "host=" not in text


def test_the_environment_variable_is_masked_too(project, pg_server, monkeypatch):
    monkeypatch.setenv("FRAISEC_DATABASE_URL", _url(pg_server, "no_such_database_q"))
    result = run_cli("migrate", "status")
    assert result.exit_code == 1 and "FSC902" in result.output
    assert not _leaks(result.stdout + result.stderr)


def _subprocess(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fraisec", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("fmt", ["rich", "json", "github"])
def test_the_installed_command_masks_libpq_echoes_and_usage_errors(tmp_path, monkeypatch, fmt):
    """Through ``python -m fraisec`` (the entry point the console script runs): libpq quotes a
    malformed password back ("invalid percent-encoded token"), click quotes a stray argument."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schema.py").write_text(textwrap.dedent(BOOK).lstrip())
    malformed = "postgresql://u:Zq9%zzLeak@127.0.0.1:1/x"
    result = _subprocess("--format", fmt, "validate", "--database", malformed)
    assert result.returncode == 1 and "FSC902" in result.stdout + result.stderr
    assert not _leaks(result.stdout + result.stderr), result.stdout + result.stderr
    stray = _subprocess("migrate", "status", "extra", "host=h password=Zq9LeakStray")
    assert stray.returncode == 2 and "extra" in stray.stderr
    assert not _leaks(stray.stdout + stray.stderr), stray.stderr


# -- the redaction itself --------------------------------------------------------------------

@pytest.mark.parametrize("text, secret", [
    ("postgresql://u:Zq9Leak@h:5432/db", "Zq9Leak"),
    ("postgres://:Zq9Leak@h1,h2/db", "Zq9Leak"),
    ("postgresql://u:Zq9%40Leak@h/db", "Zq9%40Leak"),
    ("postgresql://u@h/db?sslmode=require&password=Zq9Leak&x=1", "Zq9Leak"),
    ("postgresql:///db?password=Zq9Leak", "Zq9Leak"),
    ("host=h password=Zq9Leak dbname=d", "Zq9Leak"),
    ("host=h password = Zq9Leak", "Zq9Leak"),
    ("host=h password='Zq9 Leak' dbname=d", "Zq9 Leak"),
    ("host=h password='Zq9 \\'Leak' dbname=d", "Leak"),
    ("password=Zq9\\ Leak host=h", "Leak"),
    ("cannot tell what 'host=h password=Zq9Leak' is", "Zq9Leak"),
])
def test_redact_masks_every_form_without_being_told(text, secret):
    masked = redact(text)
    assert secret not in masked and MASK in masked
    before = masked.split(MASK, 1)[0]
    assert before and text.startswith(before)  # what comes before the password still reads


def test_redact_leaves_the_rest_of_a_connection_string_readable():
    assert redact("host=db.example port=5432 password='a b' dbname=app") == \
        "host=db.example port=5432 password=*** dbname=app"
    assert redact("postgresql://app:s3cret@db.example:5432/app?sslmode=require") == \
        "postgresql://app:***@db.example:5432/app?sslmode=require"
    assert redact("postgresql://app@db.example/app") == "postgresql://app@db.example/app"


def test_registered_passwords_are_masked_wherever_they_turn_up():
    register_secrets(["postgresql://u:Zq9%25Leak@h/db", "host=h password='Zq9 Kv\\'x'"])
    assert secrets_in("postgresql://u:Zq9%25Leak@h/db") >= {"Zq9%25Leak", "Zq9%Leak"}
    assert redact('invalid percent-encoded token: "Zq9%Leak"') == \
        'invalid percent-encoded token: "***"'
    assert "Zq9" not in redact("the password was Zq9 Kv'x, really")


def test_short_or_common_passwords_do_not_garble_messages():
    register_secrets(["postgresql://u:pw@h/db", "postgresql://postgres:postgres@h/db"])
    assert redact("column pw of t") == "column pw of t"  # too short to mask as a word
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"  # but as a password
    # "postgres" alone is masked; inside a longer word it is not the password
    assert redact('role "postgres" on postgresql://x@h/db') == 'role "***" on postgresql://x@h/db'


def test_data_on_stdout_is_never_rewritten(tmp_path, make_db, pg_server):
    """A script whose SQL says `password = …` and names the role whose password was given:
    printed as it is (diagnostics are redacted, data is not)."""
    url = make_db("CREATE TABLE account (id int, password text);")
    (tmp_path / "want.sql").write_text(
        "CREATE TABLE account (id int, password text);\n"
        "CREATE VIEW v AS SELECT id FROM account WHERE password = 'x';\n"
        "COMMENT ON TABLE account IS 'set password=hunter22 as postgres';\n")
    secret_url = url.replace("postgres@", "postgres:postgres@", 1)
    result = run_cli("diff", secret_url, str(tmp_path / "want.sql"), "--shadow-url",
                     pg_server.url())
    assert result.exit_code == 0, result.output
    assert "WHERE (account.password = 'x'::text)" in result.stdout, result.stdout
    assert "'set password=hunter22 as postgres'" in result.stdout, result.stdout
    assert "***" not in result.stdout


@pytest.mark.parametrize("form", sorted(FORMS))
def test_client_programs_get_the_password_outside_their_command_line(form, make_db, pg_server, tmp_path):
    """psql and pg_dump run with the connection's password in their environment, never in argv
    (which every user of the machine can read with ``ps``): the applied file records its own
    psql's command line from /proc and the password is not in it, while the file did run."""
    from fraisec.catalog.shadow import apply_sql_files, client_connection

    url = FORMS[form](pg_server, _dbname(make_db()))
    seen = tmp_path / "cmdline"
    apply_sql_files(url, [("spy.sql", f"\\! tr '\\000' ' ' < /proc/$PPID/cmdline > {seen}\n")])
    argv = seen.read_text()
    assert "psql" in argv and "-f" in argv
    assert _leaks(argv) == []
    conninfo, env = client_connection(url)
    assert _leaks(conninfo) == [] and env["PGPASSWORD"] in (URL_PASSWORD, KV_PASSWORD)
