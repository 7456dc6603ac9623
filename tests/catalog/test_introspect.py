"""Introspection reads every kind in a fixed number of queries, keyed by signature."""

from __future__ import annotations

import psycopg
import pytest

from fraisec.catalog.introspect import QUERY_COUNT, introspect
from fraisec.catalog.model import ObjRef
from fraisec.catalog.queries import QUERY_NAMES, load
from fraisec.catalog.shadow import CatalogError, apply_sql_files, catalog_from_sql

EVERY_KIND = """
DO $$ BEGIN CREATE ROLE intro_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA app;
CREATE EXTENSION pg_trgm;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE app.pair AS (a int, b text);
CREATE DOMAIN app.positive AS int CHECK (VALUE > 0);
CREATE SEQUENCE app.counter INCREMENT BY 5 CACHE 2;
CREATE TABLE app.org (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, slug text UNIQUE);
CREATE TABLE app.person (
    id serial PRIMARY KEY,
    org_id bigint REFERENCES app.org ON DELETE CASCADE DEFERRABLE,
    mood app.mood DEFAULT 'ok',
    score app.positive,
    name text COLLATE "C" NOT NULL,
    upper_name text GENERATED ALWAYS AS (upper(name)) STORED,
    CHECK (length(name) > 0)
);
CREATE INDEX person_live ON app.person (org_id) WHERE score > 1;
CREATE INDEX person_lower ON app.person USING hash (lower(name));
CREATE VIEW app.v_person AS SELECT id, name FROM app.person;
CREATE MATERIALIZED VIEW app.mv_count AS SELECT org_id, count(*) AS n FROM app.person GROUP BY org_id;
CREATE UNIQUE INDEX mv_count_org ON app.mv_count (org_id);
CREATE FUNCTION app.greet(p text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog AS $$ SELECT 'hi ' || p $$;
CREATE PROCEDURE app.noop() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION app.trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER person_trg BEFORE INSERT ON app.person FOR EACH ROW EXECUTE FUNCTION app.trg();
ALTER TABLE app.person ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.person FORCE ROW LEVEL SECURITY;
CREATE POLICY person_read ON app.person AS RESTRICTIVE FOR SELECT TO intro_reader USING (score > 0);
GRANT USAGE ON SCHEMA app TO intro_reader;
GRANT SELECT (name) ON app.person TO intro_reader;
GRANT USAGE ON SEQUENCE app.counter TO intro_reader;
REVOKE EXECUTE ON FUNCTION app.greet(text) FROM PUBLIC;
COMMENT ON TABLE app.person IS 'people';
COMMENT ON COLUMN app.person.name IS 'their name';
"""


def _count_queries(conn, monkeypatch) -> list[str]:
    seen: list[str] = []
    original = psycopg.Cursor.execute

    def counting(self, query, *args, **kwargs):
        seen.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    introspect(conn)
    monkeypatch.setattr(psycopg.Cursor, "execute", original)
    return [q for q in seen if q in {load(n) for n in QUERY_NAMES}]


def test_every_kind_is_introspected(make_db) -> None:
    with psycopg.connect(make_db(EVERY_KIND)) as conn:
        cat = introspect(conn)
    assert "app" in cat.schema and "pg_trgm" in cat.extension
    assert cat.enum["app.mood"].labels == ("sad", "ok", "happy")
    assert [a.name for a in cat.composite["app.pair"].attributes] == ["a", "b"]
    assert cat.domain["app.positive"].constraints[0][1] == "CHECK ((VALUE > 0))"
    assert cat.sequence["app.counter"].options.increment == 5
    assert cat.sequence["app.person_id_seq"].owned_by == ("app.person", "id")
    person = cat.table["app.person"]
    assert person.rls_enabled and person.rls_forced
    name = person.column("name")
    assert (name.collation, name.not_null) == ('"C"', True)
    assert person.column("upper_name").generated == "upper(name)"
    org_id = cat.table["app.org"].column("id")
    assert org_id.identity == "a" and org_id.identity_sequence[0] == "app.org_id_seq"
    fk = cat.constraint["app.person.person_org_id_fkey"]
    assert "ON DELETE CASCADE DEFERRABLE" in fk.definition
    assert "WHERE ((score)::integer > 1)" in cat.index["app.person_live"].definition
    assert "USING hash (lower(name))" in cat.index["app.person_lower"].definition
    assert cat.index["app.mv_count_org"].table == "app.mv_count"
    assert cat.view["app.mv_count"].materialized and not cat.view["app.v_person"].materialized
    fn = cat.function["app.greet(text)"]
    assert "IMMUTABLE PARALLEL SAFE" in fn.definition and "search_path" in fn.definition
    assert cat.function["app.noop()"].is_procedure
    assert "app.person.person_trg" in cat.trigger
    pol = cat.policy["app.person.person_read"]
    assert (pol.permissive, pol.command, pol.roles) == (False, "SELECT", ("intro_reader",))
    grants = {(g.target, g.column, g.grantee, g.privilege) for g in cat.grants}
    assert (ObjRef("schema", "app"), None, "intro_reader", "USAGE") in grants
    assert (ObjRef("table", "app.person"), "name", "intro_reader", "SELECT") in grants
    assert (ObjRef("sequence", "app.counter"), None, "intro_reader", "USAGE") in grants
    assert not any(g.target == ObjRef("function", "app.greet(text)") for g in cat.grants)
    assert (ObjRef("function", "app.noop()"), None, "public", "EXECUTE") in grants
    assert cat.comments[(ObjRef("table", "app.person"), "name")].text == "their name"
    deps = {(d.dependent, d.referenced, d.referenced_column) for d in cat.dependencies}
    assert (ObjRef("view", "app.v_person"), ObjRef("table", "app.person"), "name") in deps
    assert (ObjRef("table", "app.person"), ObjRef("enum", "app.mood"), None) in deps
    # Extension members are the extension's, not ours.
    assert not any(k.startswith("public.similarity") for k in cat.function)


def test_query_count_does_not_grow_with_the_schema(make_db, monkeypatch) -> None:
    small = make_db("".join(f"CREATE TABLE t{i} (id int PRIMARY KEY, v text);" for i in range(10)))
    large = make_db("".join(
        f"CREATE TABLE t{i} (id int PRIMARY KEY, v text CHECK (v <> ''));"
        f"CREATE INDEX ON t{i} (v); CREATE VIEW v{i} AS SELECT * FROM t{i};" for i in range(200)))
    with psycopg.connect(small) as conn:
        n_small = _count_queries(conn, monkeypatch)
    with psycopg.connect(large) as conn:
        n_large = _count_queries(conn, monkeypatch)
        assert len(introspect(conn).table) == 200
    assert len(n_small) == len(n_large) == QUERY_COUNT


def test_apply_error_names_file_line_and_message(pg_server) -> None:
    with pytest.raises(CatalogError) as info:
        catalog_from_sql([("db/001.sql", "CREATE TABLE a (id int);\n"),
                          ("db/002.sql", "-- comment\n\nCREATE VIEW b AS SELECT missing FROM a;\n")],
                         base_url=pg_server.url())
    (diag,) = info.value.diagnostics
    assert diag.code == "FSC401"
    assert (diag.location.file, diag.location.line) == ("db/002.sql", 3)
    assert 'column "missing" does not exist' in diag.message
    with psycopg.connect(pg_server.url()) as conn:
        left = conn.execute("select count(*) from pg_database where datname like 'fraisec_shadow%'")
        assert left.fetchone()[0] == 0


def test_desired_state_is_normalised_by_postgresql(pg_server, make_db) -> None:
    """Differently written, identical schemas give identical catalogs."""
    terse = catalog_from_sql([("a.sql", "create table T (ID int primary key, n numeric default 1);"
                                        "create view V as select * from t;")], base_url=pg_server.url())
    verbose = catalog_from_sql([("b.sql", """
        CREATE TABLE public.t (id integer NOT NULL, n numeric DEFAULT 1);
        ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);
        CREATE VIEW public.v AS SELECT t.id, t.n FROM public.t;""")], base_url=pg_server.url())
    assert terse.table == verbose.table and terse.view == verbose.view
    assert terse.constraint == verbose.constraint


def test_apply_sql_files_applies_in_order(pg_server, make_db) -> None:
    url = make_db()
    apply_sql_files(url, [("1.sql", "CREATE TABLE a (id int);"), ("2.sql", "INSERT INTO a VALUES (1);")])
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from a").fetchone()[0] == 1
