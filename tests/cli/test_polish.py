"""The rough edges a new user hit (issue 15, "CLI polish"), each on the real command line."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import textwrap
import tomllib
from pathlib import Path

import pytest

from fraisec.cli import hoist_global_options
from fraisec.migrations.checksum import SUM_NAME
from tests.helpers import run_cli, write_schema
from tests.migrations.util import history, query, spawn_cli, table_exists, write_migrations

REPO = Path(__file__).resolve().parents[2]

BOOK = """
import fraisec as fq


@fq.entity
class Book:
    identifier: str
    title: str
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n')
    write_schema(tmp_path, BOOK)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _json(result) -> dict:
    """The one JSON document a --format json run prints."""
    return json.loads(result.stdout)


# -- global options ---------------------------------------------------------------------------

def test_global_options_are_accepted_after_the_command(project):
    after = run_cli("validate", "--format", "json", "-q")
    assert after.exit_code == 0, after.output
    assert _json(after)["command"] == "validate" and _json(after)["ok"] is True
    github = run_cli("validate", "schema.py", "--format=github", "--no-color", "-vv")
    assert github.exit_code == 0, github.output


def test_only_global_options_move_and_nothing_after_a_double_dash():
    assert hoist_global_options(["migrate", "baseline", "--version", "3", "-q"]) == \
        ["-q", "migrate", "baseline", "--version", "3"]
    assert hoist_global_options(["--no-color", "diff", "a", "b", "--format", "json", "--", "-v"]) \
        == ["--no-color", "--format", "json", "diff", "a", "b", "--", "-v"]
    assert hoist_global_options(["--format", "json", "check"]) == ["--format", "json", "check"]
    assert hoist_global_options(["compile", "-o", "out", "-vq"]) == ["-vq", "compile", "-o", "out"]


def test_version():
    expected = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    result = run_cli("--version")
    assert result.exit_code == 0 and result.stdout == f"fraisec {expected}\n"


def _helps() -> dict[str, str]:
    pages = {"fraisec": run_cli("--help").stdout}
    for name in ("init", "compile", "validate", "lint", "diff", "check", "explain"):
        pages[name] = run_cli(name, "--help").stdout
    for name in ("diff", "apply", "status", "check", "baseline", "repair", "create", "hash"):
        pages[f"migrate {name}"] = run_cli("migrate", name, "--help").stdout
    return pages


def test_help_shows_no_bool_after_flags_and_v_as_a_counter():
    pages = _helps()
    for name, page in pages.items():
        assert "Usage:" in page, name
        assert "<bool>" not in page, f"{name}:\n{page}"
    [verbose] = [line for line in pages["fraisec"].splitlines() if "--verbose" in line]
    assert "<counter>" in verbose and "<int>" not in verbose and "-vv" in verbose
    [unsafe] = [line for line in pages["diff"].splitlines() if "--unsafe" in line]
    assert re.search(r"--unsafe\s+Allow", unsafe), unsafe


# -- one JSON document, one envelope ----------------------------------------------------------

def test_json_on_success_is_one_document_with_the_same_envelope(project, make_db):
    envelope = {"command", "ok", "diagnostics"}
    validated = run_cli("--format", "json", "validate")
    compiled = run_cli("--format", "json", "compile", "--out", "out")
    assert validated.exit_code == compiled.exit_code == 0, validated.output + compiled.output
    assert _json(validated)["types"] == 1 and _json(validated)["sql_sources"] == "not checked"
    assert sorted(_json(compiled)["files"]) == [str(Path("out") / n) for n in
                                                sorted(os.listdir(project / "out"))]
    write_migrations(project / "migrations", {"0001_t.sql": "CREATE TABLE t (id int);\n"})
    url = make_db()
    applied = run_cli("--format", "json", "migrate", "apply", "-d", url)
    assert applied.exit_code == 0, applied.output
    assert [a["file"] for a in _json(applied)["applied"]] == ["0001_t.sql"]
    assert table_exists(url, "public.t")
    again = run_cli("--format", "json", "migrate", "apply", "-d", url)
    assert _json(again)["applied"] == []
    failed = run_cli("--format", "json", "validate", "nope.py")
    assert failed.exit_code == 1
    for result, command, ok in [(validated, "validate", True), (compiled, "compile", True),
                                (applied, "migrate apply", True), (failed, "validate", False)]:
        document = _json(result)
        assert envelope <= set(document), document
        assert (document["command"], document["ok"]) == (command, ok)
    assert _json(failed)["diagnostics"][0]["code"] == "FSC100"


def test_init_prints_a_document_and_adopts_an_existing_schema(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_schema(tmp_path, BOOK)
    before = (tmp_path / "schema.py").read_text()
    result = run_cli("--format", "json", "init")
    assert result.exit_code == 0, result.output
    assert _json(result)["adopted"] == "schema.py" and _json(result)["created"] == ["fraisec.toml"]
    assert (tmp_path / "schema.py").read_text() == before  # untouched
    assert (tmp_path / "migrations").is_dir() and (tmp_path / "db").is_dir()
    assert run_cli("validate").exit_code == 0
    # Run again: now it is a fraisec project and nothing is overwritten.
    assert run_cli("init").exit_code == 1


# -- explain ------------------------------------------------------------------------------------

def test_explain_prints_the_page_and_diagnostics_point_at_it(tmp_path):
    page = (REPO / "docs" / "diagnostics" / "FSC504.md").read_text()
    assert run_cli("explain", "FSC504").stdout == page
    assert run_cli("explain", "504").stdout == page
    unknown = run_cli("explain", "FSC5044")
    assert unknown.exit_code == 2 and "FSC504" in unknown.output
    bad = write_schema(tmp_path, "import fraiseql\nx = 1/0\n")
    result = run_cli("--no-color", "validate", str(bad))
    assert "docs: fraisec explain FSC103" in result.stderr


def test_the_pages_ship_in_the_wheel_where_explain_reads_them():
    from fraisec.cli import explain

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    include = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert include["docs/diagnostics"] == "fraisec/docs/diagnostics"
    package = Path(explain.__file__).resolve().parents[1]
    assert explain._PACKAGED == package / "docs" / "diagnostics"


# -- Ctrl-C ---------------------------------------------------------------------------------------

SLOW = ("SELECT pg_sleep(CASE WHEN current_setting('fraisec_test.slow', true) = 'on' "
        "THEN 60 ELSE 0 END);\n")


def _sleeping(url: str) -> int:
    return query(url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")[0][0]


def test_ctrl_c_says_what_was_rolled_back_and_exits_130(make_db, tmp_path):
    url = make_db()
    d = write_migrations(tmp_path / "m", {
        "0001_a.sql": "CREATE TABLE a (id int);\n",
        "0002_b.sql": "CREATE TABLE b (id int);\n" + SLOW,
    })
    proc = spawn_cli("migrate", "apply", "--database", url, "--dir", str(d),
                     env_extra={"PGOPTIONS": "-c fraisec_test.slow=on"})
    try:
        deadline = time.monotonic() + 60
        while _sleeping(url) != 1:
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    [line] = [line for line in err.splitlines() if "interrupted" in line]
    assert "0002_b.sql was rolled back" in line and "0001_a.sql" in line, err
    assert "Traceback" not in err
    assert table_exists(url, "public.a") and not table_exists(url, "public.b")
    assert [row[1] for row in history(url)] == ["0001_a.sql"]


# -- hints ------------------------------------------------------------------------------------------

def test_fsc513_says_the_database_drifted_when_the_history_equals_the_schema(project, make_db,
                                                                            pg_server):
    shadow = ["--shadow-url", pg_server.url()]
    assert run_cli("migrate", "diff", "init", *shadow).exit_code == 0
    url = make_db()
    assert run_cli("migrate", "apply", "-d", url).exit_code == 0
    query(url, "ALTER TABLE app.tb_book ADD COLUMN by_hand text")
    result = run_cli("--format", "json", "migrate", "check", "-d", url, *shadow)
    assert result.exit_code == 3, result.output
    [fsc513] = [d for d in _json(result)["diagnostics"] if d["code"] == "FSC513"]
    assert "changed outside" in fsc513["hint"] and "migrate diff" not in fsc513["hint"]
    # When it is the history that lacks the change, the hint still says to write it.
    write_schema(project, BOOK + "    pages: int | None = None\n")
    fresh = make_db()
    assert run_cli("migrate", "apply", "-d", fresh).exit_code == 0
    lacking = run_cli("--format", "json", "migrate", "check", "-d", fresh, *shadow)
    [fsc513] = [d for d in _json(lacking)["diagnostics"] if d["code"] == "FSC513"]
    assert "fraisec migrate diff NAME" in fsc513["hint"]


def test_fsc504_for_a_damaged_line_does_not_talk_about_branches(tmp_path):
    d = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (id int);\n"})
    sum_file = d / SUM_NAME
    sum_file.write_text(sum_file.read_text().replace(" sha256:", " sha1:", 1))
    result = run_cli("--format", "json", "migrate", "status", "--dir", str(d))
    [fsc504] = [x for x in _json(result)["diagnostics"] if x["code"] == "FSC504"]
    assert "branch" not in fsc504["hint"] and "fraisec migrate hash" in fsc504["hint"]
    assert "malformed" in fsc504["message"]


def test_fsc407_names_the_columns_and_unsafe_output_marks_destructive_steps(tmp_path, make_db):
    (tmp_path / "a.sql").write_text("CREATE TABLE t (id int PRIMARY KEY, a text, b int);\n")
    (tmp_path / "b.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    a, b = str(tmp_path / "a.sql"), str(tmp_path / "b.sql")
    refused = run_cli("--format", "json", "diff", a, b)
    assert refused.exit_code == 4
    message = _json(refused)["diagnostics"][0]["message"]
    assert "drop column public.t.a" in message and "drop column public.t.b" in message
    script = run_cli("diff", a, b, "--unsafe").stdout
    lines = script.splitlines()
    for column in ("a", "b"):
        drop = lines.index(f"ALTER TABLE public.t DROP COLUMN {column};")
        assert lines[drop - 1].startswith("-- fraisec: destructive (drop column table public.t")
    url = make_db("CREATE TABLE t (id int PRIMARY KEY, a text, b int);")
    query(url, script)  # the script as printed runs (BEGIN/COMMIT inside, comments and all)
    assert query(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 't'") \
        == [(1,)]


def test_fsc902_says_not_a_url(tmp_path):
    write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (id int);\n"})
    result = run_cli("--format", "json", "migrate", "status", "-d", "localhost/app",
                     "--dir", str(tmp_path / "m"))
    assert result.exit_code == 1
    [fsc902] = _json(result)["diagnostics"]
    assert fsc902["code"] == "FSC902" and "not a postgresql:// URL" in fsc902["message"]


# -- status and validate ------------------------------------------------------------------------

def test_status_says_whether_the_sum_is_intact_marks_edited_files_and_aligns(tmp_path, make_db):
    d = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (id int);\n",
                                          "0002_longer_name.sql": "CREATE TABLE b (id int);\n"})
    intact = run_cli("--no-color", "migrate", "status", "--dir", str(d))
    assert intact.exit_code == 0 and "fraisec.sum: intact" in intact.stderr
    url = make_db()
    assert run_cli("migrate", "apply", "-d", url, "--dir", str(d)).exit_code == 0
    listed = run_cli("--no-color", "migrate", "status", "-d", url, "--dir", str(d)).stdout
    # the "applied at" column starts at the same place on every line
    assert len({line.index("  20") for line in listed.splitlines()}) == 1, listed
    (d / "0002_longer_name.sql").write_text("CREATE TABLE b (id bigint);\n")
    edited = run_cli("--no-color", "migrate", "status", "--dir", str(d))
    assert edited.exit_code == 1 and "fraisec.sum: NOT intact" in edited.stderr
    [line] = [x for x in edited.stdout.splitlines() if "0002_longer_name.sql" in x]
    assert "edited since fraisec.sum was written" in line
    assert "edited" not in [x for x in edited.stdout.splitlines() if "0001_a" in x][0]
    as_json = _json(run_cli("--format", "json", "migrate", "status", "--dir", str(d)))
    assert as_json["sum"] == "damaged"
    assert [m["sum"] for m in as_json["migrations"]] == ["ok", "changed"]


def test_validate_says_when_sql_sources_were_not_checked(project):
    result = run_cli("--no-color", "validate")
    assert result.exit_code == 0 and "were not checked: no db/ directory" in result.stderr
    (project / "db").mkdir()
    checked = run_cli("--no-color", "validate")
    assert checked.exit_code == 0 and "not checked" not in checked.stderr


def test_an_applier_outside_the_owner_role_is_told_the_grant(make_db, pg_server, tmp_path):
    owner, applier = f"owner_{os.getpid()}", f"applier_{os.getpid()}"
    url = make_db()
    dbname = url.split("@/", 1)[1].split("?", 1)[0]
    query(url, f"CREATE ROLE {owner} NOLOGIN; CREATE ROLE {applier} LOGIN; "
               f"GRANT CREATE ON DATABASE {dbname} TO {applier}, {owner}")
    try:
        d = write_migrations(tmp_path / "m", {"0001_owned.sql": (
            f"CREATE SCHEMA s;\nALTER SCHEMA s OWNER TO {owner};\nCREATE TABLE s.t (id int);\n"
            f"ALTER TABLE s.t OWNER TO {owner};\n")})
        result = run_cli("--format", "json", "migrate", "apply", "--dir", str(d),
                         "-d", pg_server.url(dbname, user=applier))
        assert result.exit_code == 1, result.output
        [fsc507] = _json(result)["diagnostics"]
        assert f"GRANT {owner} TO {applier};" in fsc507["hint"], fsc507
        query(url, f"GRANT {owner} TO {applier}")  # what the hint says, and it then applies
        again = run_cli("migrate", "apply", "--dir", str(d), "-d", pg_server.url(dbname, user=applier))
        assert again.exit_code == 0, again.output
        assert query(url, "SELECT tableowner FROM pg_tables WHERE tablename = 't'") == [(owner,)]
    finally:
        query(url, f"DROP SCHEMA IF EXISTS s CASCADE; DROP SCHEMA IF EXISTS fraisec_history CASCADE; "
                   f"REVOKE ALL ON DATABASE {dbname} FROM {applier}, {owner}")
        query(url, f"DROP ROLE {applier}; DROP ROLE {owner}")


# -- a schema module that ends the process or never returns ------------------------------------

@pytest.mark.parametrize("tail, code", [
    ("import sys\nsys.exit(3)\n", "FSC103"),
    ("import os\nos._exit(4)\n", "FSC103"),
    ("while True:\n    pass\n", "FSC109"),
    ("import time\ntime.sleep(600)\n", "FSC109"),
])
def test_a_module_that_exits_or_never_returns_is_a_diagnostic(tmp_path, tail, code):
    import subprocess
    import sys

    write_schema(tmp_path, BOOK + "\n" + tail)
    done = subprocess.run([sys.executable, "-m", "fraisec", "--format", "json", "validate",
                           str(tmp_path / "schema.py")], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "FRAISEC_IMPORT_TIMEOUT": "2"})
    assert done.returncode == 1, (done.returncode, done.stderr)  # fraisec's code, not the module's
    [diagnostic] = json.loads(done.stdout)["diagnostics"]
    assert diagnostic["code"] == code
    first_line = len(textwrap.dedent(BOOK).lstrip().splitlines()) + 2
    assert diagnostic["location"]["line"] in (first_line, first_line + 1), diagnostic


# -- one typo, one diagnostic -------------------------------------------------------------------

def _codes_for(tmp_path, source: str) -> list[str]:
    write_schema(tmp_path, source)
    result = run_cli("--format", "json", "validate", str(tmp_path / "schema.py"))
    return [d["code"] for d in _json(result)["diagnostics"]]


def test_an_unknown_keyword_is_one_diagnostic_not_its_consequences(tmp_path):
    from fraisec.cli.init import SCHEMA_PY

    project = "@fq.entity(tenant=True)\nclass Project:"
    assert project in SCHEMA_PY
    # Without the keyword at all, the consequences are real errors of their own...
    unscoped = _codes_for(tmp_path, SCHEMA_PY.replace(project, "@fq.entity\nclass Project:"))
    assert "FSC207" in unscoped and "FSC205" in unscoped
    # ...with it misspelt, the misspelling is the one thing to fix.
    assert _codes_for(tmp_path, SCHEMA_PY.replace(project, "@fq.entity(tenat=True)\nclass Project:")) \
        == ["FSC104"]
    # An unrelated error elsewhere is still reported next to it.
    both = SCHEMA_PY.replace(project, "@fq.entity(tenat=True)\nclass Project:").replace(
        "def projects(limit: int = 20) -> list[Project]:", "def projects(limit: int = 20) -> list[Projekt]:")
    assert sorted(_codes_for(tmp_path, both)) == ["FSC104", "FSC200"]


def test_every_command_names_itself_in_the_envelope(tmp_path):
    (tmp_path / "a.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    runs = {
        "lint": run_cli("--format", "json", "lint", str(tmp_path / "a.sql")),
        "explain": run_cli("--format", "json", "explain", "FSC104"),
        "diff": run_cli("--format", "json", "diff", str(tmp_path / "a.sql"), str(tmp_path / "a.sql")),
    }
    for name, result in runs.items():
        assert result.exit_code == 0, (name, result.output)
        document = _json(result)
        assert (document["command"], document["ok"], document["diagnostics"]) == (name, True, []), name
    assert _json(runs["diff"])["script"] == "" and _json(runs["diff"])["ops"] == []
    assert _json(runs["explain"])["page"].startswith("# FSC104")


def test_on_a_terminal_apply_names_the_file_it_is_applying(make_db, tmp_path):
    """The spinner (a terminal only) says which migration runs; the file sleeps so that the
    spinner draws while it runs."""
    import pty
    import subprocess
    import sys

    url = make_db()
    d = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (id int);\n",
                                          "0002_slow.sql": "SELECT pg_sleep(1.5);\n"})
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    proc = subprocess.Popen([sys.executable, "-m", "fraisec", "migrate", "apply", "-d", url,
                             "--dir", str(d)], stdin=follower, stdout=follower, stderr=follower,
                            env={**env, "TERM": "xterm", "COLUMNS": "100"})
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0, seen.decode(errors="replace")
    text = seen.decode(errors="replace")
    assert "applying 0002_slow.sql" in text, text
    assert "applied 2 files" in text
