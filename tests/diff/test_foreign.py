"""Foreign-data wrappers, servers, user mappings and foreign tables, diffed on real PostgreSQL.

The pg-delta corpus checker does not compare these objects (only foreign tables' columns and
constraints), so each case here reads them back with its own catalog query (not fraisec's
introspection) and compares the migrated database with the desired one: options, owners,
handlers and validators, versions, privileges, comments, user mappings' users. Every case runs
in both directions, applies the script with psql, and must converge (diff again: nothing).
Secret option values must appear nowhere: not in a script, not on stdout or stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from fraisec.catalog.introspect import introspect_url
from fraisec.diff import diff
from fraisec.plan import plan
from fraisec.plan.script import render_script
from tests.diff.test_convergence import psql_apply

ROLES = ("fdw_owner", "fdw_reader")

# An independent read of everything these objects are made of (secret options included: the
# test compares them itself, and never prints them). A NULL ACL reads as acldefault, as in the
# corpus checker: "never granted" equals "granted, then revoked".
STATE_SQL = """
select 'fdw', w.fdwname, pg_get_userbyid(w.fdwowner), w.fdwhandler::regproc::text,
       w.fdwvalidator::regproc::text, array_to_string(array(select unnest(w.fdwoptions) order by 1), ','),
       coalesce(w.fdwacl, acldefault('F', w.fdwowner))::text, coalesce(obj_description(w.oid, 'pg_foreign_data_wrapper'), '')
from pg_foreign_data_wrapper w
where not exists (select 1 from pg_depend d where d.objid = w.oid and d.deptype = 'e')
union all
select 'server', s.srvname, pg_get_userbyid(s.srvowner), w.fdwname,
       coalesce(s.srvtype, '') || '/' || coalesce(s.srvversion, '<null>'),
       array_to_string(array(select unnest(s.srvoptions) order by 1), ','),
       coalesce(s.srvacl, acldefault('S', s.srvowner))::text, coalesce(obj_description(s.oid, 'pg_foreign_server'), '')
from pg_foreign_server s join pg_foreign_data_wrapper w on w.oid = s.srvfdw
union all
select 'mapping', m.srvname, case when m.umuser = 0 then 'PUBLIC'
                                  when m.usename = current_user then 'CURRENT_USER' else m.usename end,
       '', '', array_to_string(array(select unnest(m.umoptions) order by 1), ','), '', ''
from pg_user_mappings m
union all
select 'foreign table', c.oid::regclass::text, pg_get_userbyid(c.relowner), s.srvname,
       (select string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                          || case when a.attnotnull then ' not null' else '' end
                          || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
                          || coalesce(' ' || array_to_string(a.attfdwoptions, ','), ''), '; '
                          order by a.attname)
        from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped),
       array_to_string(array(select unnest(t.ftoptions) order by 1), ','),
       coalesce(c.relacl, acldefault('r', c.relowner))::text, coalesce(obj_description(c.oid, 'pg_class'), '')
from pg_foreign_table t join pg_class c on c.oid = t.ftrelid
join pg_foreign_server s on s.oid = t.ftserver
union all
select 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid), '', '', '', ''
from pg_constraint where conrelid in (select ftrelid from pg_foreign_table)
order by 1, 2, 3
"""

VALIDATOR = """
CREATE FUNCTION public.accept_all(text[], oid) RETURNS void LANGUAGE plpgsql AS $$BEGIN END$$;
CREATE FUNCTION public.accept_all_too(text[], oid) RETURNS void LANGUAGE plpgsql AS $$BEGIN END$$;
"""

BASE = VALIDATOR + """
CREATE FOREIGN DATA WRAPPER w1 VALIDATOR public.accept_all OPTIONS (mode 'a');
CREATE FOREIGN DATA WRAPPER w2;
CREATE SERVER s1 TYPE 'pg' VERSION '15' FOREIGN DATA WRAPPER w1 OPTIONS (host 'h1', port '5432');
CREATE USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS ("user" 'remote', fetch_size '100');
CREATE USER MAPPING FOR PUBLIC SERVER s1;
CREATE USER MAPPING FOR fdw_reader SERVER s1 OPTIONS ("user" 'reader');
CREATE SCHEMA remote;
CREATE FOREIGN TABLE remote.items (
    id integer OPTIONS (column_name 'item_id') NOT NULL,
    qty integer DEFAULT 1,
    note text
) SERVER s1 OPTIONS (schema_name 'public', table_name 'items');
ALTER FOREIGN TABLE remote.items ADD CONSTRAINT items_qty_check CHECK (qty > 0);
CREATE VIEW remote.items_view AS SELECT id, qty FROM remote.items;
GRANT SELECT ON remote.items TO fdw_reader;
GRANT USAGE ON FOREIGN SERVER s1 TO fdw_reader;
COMMENT ON FOREIGN TABLE remote.items IS 'remote items';
COMMENT ON SERVER s1 IS 'the first server';
"""

CHANGED = VALIDATOR + """
CREATE FOREIGN DATA WRAPPER w1 VALIDATOR public.accept_all_too OPTIONS (mode 'b', extra 'x');
CREATE FOREIGN DATA WRAPPER w2;
CREATE SERVER s1 TYPE 'pg' FOREIGN DATA WRAPPER w1 OPTIONS (host 'h2', dbname 'app');
ALTER SERVER s1 OWNER TO fdw_owner;
CREATE USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS ("user" 'remote2');
CREATE USER MAPPING FOR PUBLIC SERVER s1 OPTIONS (fetch_size '10');
CREATE SCHEMA remote;
CREATE FOREIGN TABLE remote.items (
    id bigint OPTIONS (column_name 'id'),
    qty integer,
    added text DEFAULT 'new' NOT NULL
) SERVER s1 OPTIONS (schema_name 'other');
ALTER FOREIGN TABLE remote.items ADD CONSTRAINT items_qty_check CHECK (qty >= 0);
ALTER FOREIGN TABLE remote.items OWNER TO fdw_owner;
CREATE VIEW remote.items_view AS SELECT id, qty FROM remote.items;
GRANT USAGE ON FOREIGN DATA WRAPPER w2 TO fdw_reader;
COMMENT ON FOREIGN DATA WRAPPER w1 IS 'the wrapper';
"""

# The server moves to another wrapper: dropped and created again, with its user mappings, its
# foreign table, the view over that and their grants and comments.
REPLACED = BASE.replace("FOREIGN DATA WRAPPER w1 OPTIONS (host", "FOREIGN DATA WRAPPER w2 OPTIONS (host")

CASES = {
    "create_all": ("", BASE),
    "alter_all": (BASE, CHANGED),
    "replace_server_with_children": (BASE, REPLACED),
}


@pytest.fixture(scope="module")
def roles(pg_server):
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        for role in ROLES:
            conn.execute(f"DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        # An FDW's owner must be a superuser; a server's need not be.
        conn.execute("ALTER ROLE fdw_owner SUPERUSER")


def state(url: str, without: tuple[str, ...] = ()) -> list[tuple]:
    """The objects' state; ``without``: these options taken out (secrets the script leaves out)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(STATE_SQL).fetchall()
    return [tuple(",".join(o for o in v.split(",") if o.split("=", 1)[0] not in without)
                  if i == 5 else v for i, v in enumerate(row)) for row in rows]


def live(url: str):
    """A database read as ``fraisec diff`` reads one (every owner there was chosen)."""
    return replace(introspect_url(url), owners_chosen=True)


def _dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def migrate(make_db, tmp_path: Path, a_sql: str, b_sql: str,
            secrets: tuple[str, ...] = ()) -> tuple[str, str, object]:
    """Plan A → B, apply it to a copy of A; returns (migrated url, script, plan). ``secrets``:
    options B has that the migrated database must lack (left for the user to set)."""
    a, b = make_db(a_sql or None), make_db(b_sql or None)
    current, desired = live(a), live(b)
    result = plan(diff(current, desired), current, desired)
    assert not [d for d in result.diagnostics if d.severity.value == "error"], \
        [d.message for d in result.diagnostics]
    script = render_script(result)
    migrated = make_db(template=_dbname(a))
    applied = psql_apply(migrated, script, tmp_path)
    assert applied.returncode == 0, applied.stderr + script
    again = live(migrated)
    assert render_script(plan(diff(again, desired), again, desired)) == ""
    assert state(migrated) == state(b, secrets), script
    return migrated, script, result


@pytest.mark.parametrize("direction", ["forward", "reverse"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_case_converges_and_matches_the_desired_catalog(case, direction, make_db, roles,
                                                        tmp_path) -> None:
    a_sql, b_sql = CASES[case]
    if direction == "reverse":
        a_sql, b_sql = b_sql, a_sql
    _migrated, script, result = migrate(make_db, tmp_path, a_sql, b_sql)
    assert script
    if case == "replace_server_with_children":
        assert "DROP SERVER s1" in script and "CREATE SERVER s1" in script
        assert script.index("DROP FOREIGN TABLE remote.items") < script.index("DROP SERVER s1")
        assert script.index("DROP USER MAPPING FOR PUBLIC SERVER s1") < script.index("DROP SERVER s1")


def test_steps_are_in_place_where_postgresql_allows(make_db, roles, tmp_path) -> None:
    _m, script, _r = migrate(make_db, tmp_path, BASE, CHANGED)
    for expected in (
        "ALTER FOREIGN DATA WRAPPER w1 VALIDATOR public.accept_all_too OPTIONS (ADD extra 'x', SET mode 'b')",
        "ALTER SERVER s1 VERSION NULL",
        "ALTER SERVER s1 OPTIONS (ADD dbname 'app', SET host 'h2', DROP port)",
        "ALTER USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS (DROP fetch_size, SET \"user\" 'remote2')",
        "ALTER USER MAPPING FOR PUBLIC SERVER s1 OPTIONS (ADD fetch_size '10')",
        "DROP USER MAPPING FOR fdw_reader SERVER s1",
        "ALTER FOREIGN TABLE remote.items OPTIONS (SET schema_name 'other', DROP table_name)",
        "ALTER FOREIGN TABLE remote.items ALTER COLUMN id OPTIONS (SET column_name 'id')",
        "ALTER TABLE remote.items ALTER COLUMN id TYPE bigint;",
        "ALTER SERVER s1 OWNER TO fdw_owner",
        "GRANT USAGE ON FOREIGN DATA WRAPPER w2 TO fdw_reader",
        "REVOKE USAGE ON FOREIGN SERVER s1 FROM fdw_reader",
        "COMMENT ON FOREIGN DATA WRAPPER w1 IS 'the wrapper'",
        "COMMENT ON FOREIGN TABLE remote.items IS NULL",
    ):
        assert expected in script, (expected, script)
    assert "DROP SERVER" not in script and "DROP FOREIGN TABLE" not in script


def test_wrapper_server_mapping_and_table_are_ordered_by_what_they_use(make_db, roles, tmp_path) -> None:
    _m, script, _r = migrate(make_db, tmp_path, "", BASE)
    order = [script.index(s) for s in (
        "FUNCTION public.accept_all(", "CREATE FOREIGN DATA WRAPPER w1",
        "CREATE SERVER s1", "CREATE USER MAPPING FOR CURRENT_USER SERVER s1",
        "CREATE FOREIGN TABLE remote.items", "CREATE VIEW remote.items_view")]
    assert order == sorted(order), script
    _m, script, _r = migrate(make_db, tmp_path, BASE, "")
    order = [script.index(s) for s in (
        "DROP VIEW remote.items_view", "DROP FOREIGN TABLE remote.items", "DROP SERVER s1",
        "DROP FOREIGN DATA WRAPPER w1", "DROP FUNCTION public.accept_all(")]
    assert order == sorted(order), script
    assert script.index("DROP USER MAPPING FOR CURRENT_USER SERVER s1") < script.index("DROP SERVER s1")


def test_safety_classes(make_db, roles, tmp_path) -> None:
    """A foreign table holds no rows here: dropping it, its columns or changing their types is
    safe. Dropping a wrapper, server or user mapping is destructive (credentials)."""
    for changed in (BASE.replace("    note text\n", "    note varchar(3)\n"),  # narrows
                    BASE.replace("DEFAULT 1,\n    note text\n", "DEFAULT 1\n")):  # drops it
        _m, _s, result = migrate(make_db, tmp_path, BASE, changed)
        assert [op.action for op in result.ops] in (["alter column"], ["drop column"])
        assert not result.destructive
    _m, _s, result = migrate(make_db, tmp_path, BASE, BASE.split("CREATE SCHEMA remote;")[0]
                             + "CREATE SCHEMA remote;")
    assert {(op.kind, op.safety) for op in result.ops if op.action == "drop"} == {
        ("table", "safe"), ("view", "safe")}
    no_mapping = "\n".join(x for x in BASE.splitlines() if "FOR fdw_reader SERVER" not in x)
    _m, _s, result = migrate(make_db, tmp_path, BASE, no_mapping)
    assert [(op.kind, op.safety) for op in result.ops] == [("user_mapping", "destructive")]


SECRETS_A = """
CREATE FOREIGN DATA WRAPPER w OPTIONS (api_key 'fdw-api-key-1');
CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host 'h', password 'server-pw-1', passfile '/etc/pf');
CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS ("user" 'u', password 'mapping-pw-1');
CREATE FOREIGN TABLE ft (id int OPTIONS (auth_token 'col-token-1')) SERVER s OPTIONS (secret 'table-secret-1');
"""
SECRETS_B = """
CREATE FOREIGN DATA WRAPPER w OPTIONS (api_key 'fdw-api-key-2');
CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host 'h', passfile '/etc/pf');
CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS ("user" 'u', password 'mapping-pw-2', sslpassword 'ssl-pw-2');
CREATE FOREIGN TABLE ft (id int OPTIONS (auth_token 'col-token-1')) SERVER s OPTIONS (secret 'table-secret-1');
"""
SECRET_VALUES = ("fdw-api-key-1", "server-pw-1", "mapping-pw-1", "col-token-1", "table-secret-1",
                 "fdw-api-key-2", "mapping-pw-2", "ssl-pw-2")


def fraisec(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fraisec", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("pair", ["empty_to_a", "a_to_b", "b_to_a"])
def test_secret_values_never_reach_output(pair, make_db, roles, tmp_path) -> None:
    a_sql, b_sql = {"empty_to_a": ("", SECRETS_A), "a_to_b": (SECRETS_A, SECRETS_B),
                    "b_to_a": (SECRETS_B, SECRETS_A)}[pair]
    a, b = make_db(a_sql or None), make_db(b_sql)
    texts = []
    for extra in ((), ("--format", "json")):
        result = fraisec("diff", a, b, "--unsafe", *extra)
        assert result.returncode == 0, result.stderr
        texts += [result.stdout, result.stderr]
    for text in texts:
        for value in SECRET_VALUES:
            assert value not in text
    script, stderr = texts[0], texts[1]
    warned = json.loads(texts[2])["diagnostics"]
    assert all(d["code"] == "FSC420" for d in warned)
    assert "FSC420" in stderr
    if pair == "empty_to_a":
        assert "passfile '/etc/pf'" in script  # a path, not a secret
        assert "OPTIONS (ADD password :'secret')" in stderr
        assert {d["message"].split()[1] for d in warned} == {"api_key", "password", "auth_token", "secret"}
    if pair == "a_to_b":
        # The server's password goes (no value needed); the changed ones are set out of band.
        assert "ALTER SERVER s OPTIONS (DROP password)" in script
        assert "ALTER USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (SET password :'secret')" in stderr
        assert "OPTIONS (ADD sslpassword :'secret')" in stderr
        assert "ALTER FOREIGN DATA WRAPPER w OPTIONS (SET api_key :'secret')" in stderr
    # Applied, the script leaves the secrets to the user: diffing again prints nothing more.
    migrated = make_db(template=_dbname(a))
    assert psql_apply(migrated, script, tmp_path).returncode == 0
    again = fraisec("diff", migrated, b, "--unsafe")
    assert again.returncode == 0 and again.stdout.strip() == "", again.stdout


def test_a_secret_set_out_of_band_as_told_converges(make_db, roles, tmp_path) -> None:
    a, b = make_db(), make_db(SECRETS_B)
    result = fraisec("diff", a, b, "--unsafe")
    migrated = make_db(template=_dbname(a))
    assert psql_apply(migrated, result.stdout, tmp_path).returncode == 0
    hints = [line.split("run ", 1)[1].split(" with the value")[0]
             for line in result.stderr.splitlines() if "hint: After applying" in line]
    values = {"api_key": "fdw-api-key-2", "auth_token": "col-token-1", "secret": "table-secret-1",
              "password": "mapping-pw-2", "sslpassword": "ssl-pw-2"}
    assert len(hints) == len(values)
    with psycopg.connect(migrated, autocommit=True) as conn:
        for statement in hints:
            name = statement.split("(ADD ", 1)[1].split()[0]
            conn.execute(statement.replace(":'secret'", f"'{values[name]}'"))
    assert state(migrated) == state(b)
    quiet = fraisec("diff", migrated, b, "--unsafe")
    assert (quiet.returncode, quiet.stdout.strip()) == (0, "")
    assert "FSC420" not in quiet.stderr


@pytest.mark.parametrize("direction", ["serial_to_identity", "identity_to_serial"])
def test_serial_and_identity_swap_their_same_named_sequence(direction, make_db, roles,
                                                            tmp_path) -> None:
    serial = "CREATE TABLE t (id serial PRIMARY KEY, v text); INSERT INTO t (v) VALUES ('a'), ('b');"
    identity = ("CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);"
                "INSERT INTO t (v) VALUES ('a'), ('b');")
    a_sql, b_sql = (serial, identity) if direction == "serial_to_identity" else (identity, serial)
    migrated, script, _r = migrate(make_db, tmp_path, a_sql, b_sql)
    with psycopg.connect(migrated, autocommit=True) as conn:
        # The new sequence continues after the rows' values: no duplicate key.
        conn.execute("INSERT INTO t (v) VALUES ('c')")
        assert conn.execute("select id from t where v = 'c'").fetchone()[0] == 3
        assert conn.execute("select pg_get_serial_sequence('public.t', 'id')").fetchone()[0] == "public.t_id_seq"


POSTGRES_FDW = """
CREATE EXTENSION postgres_fdw;
CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.example', dbname 'app');
CREATE USER MAPPING FOR CURRENT_USER SERVER remote OPTIONS ("user" 'app', password 'pg-fdw-pw');
CREATE FOREIGN TABLE public.accounts (id bigint NOT NULL, name text) SERVER remote
    OPTIONS (schema_name 'public', table_name 'accounts');
CREATE TABLE public.events (at timestamptz, what text) PARTITION BY RANGE (at);
CREATE FOREIGN TABLE public.events_2020 PARTITION OF public.events
    FOR VALUES FROM ('2020-01-01') TO ('2021-01-01') SERVER remote OPTIONS (table_name 'events_2020');
"""


@pytest.mark.parametrize("direction", ["create", "drop"])
def test_a_server_on_an_extensions_wrapper(direction, pg_server, make_db, roles, tmp_path) -> None:
    """postgres_fdw's wrapper is the extension's (not diffed); a server on it comes after the
    extension, and goes before it; a foreign table can be a partition."""
    with psycopg.connect(pg_server.url()) as conn:
        if not conn.execute("select 1 from pg_available_extensions where name = 'postgres_fdw'").fetchone():
            # Debian's postgresql package ships it: in CI its absence is a broken install.
            (pytest.fail if os.environ.get("CI") else pytest.skip)("postgres_fdw is not installed on this server")
    a_sql, b_sql = ("", POSTGRES_FDW) if direction == "create" else (POSTGRES_FDW, "")
    _m, script, result = migrate(make_db, tmp_path, a_sql, b_sql, secrets=("password",))
    assert "pg-fdw-pw" not in script
    assert "FOREIGN DATA WRAPPER postgres_fdw OPTIONS" in script or direction == "drop"
    assert "CREATE FOREIGN DATA WRAPPER" not in script and "DROP FOREIGN DATA WRAPPER" not in script
    if direction == "create":
        assert script.index("CREATE EXTENSION") < script.index("CREATE SERVER remote")
        assert "PARTITION OF public.events FOR VALUES" in script
        assert [d.code for d in result.diagnostics] == ["FSC420"]
    else:
        assert script.index("DROP SERVER remote") < script.index("DROP EXTENSION")
