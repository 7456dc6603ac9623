"""``[distribution] engine = "citus"``: distribution.sql, the keys of tenant tables, migrations
that place new tables, and the diagnostics FSC600-FSC605.

Citus is not installable on the machines this suite runs on. The generated calls are run on
plain PostgreSQL against STAND-INS of ``create_reference_table`` and
``create_distributed_table`` (schema ``citus_standin`` below): they record each call and refuse
what Citus refuses at that point (a missing column, a PRIMARY KEY or unique index without the
distribution column, a foreign key to a table not placed yet, from a reference table to a
distributed one, or between distributed tables not through the distribution column or not
co-located, ON DELETE SET NULL/SET DEFAULT on a key that includes the distribution column, a
co-location with a table not distributed yet, a policy holding a subquery, a RESTRICTIVE
policy, which Citus would re-create as permissive on the shards). They do not check triggers
(FSC604 reports those), nor anything else a real cluster does. The Citus policy shape's
isolation is proven on PostgreSQL by tests/sqlgen/test_citus_shape.py.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import psycopg
import pytest

from fraisec.api import load_ir
from fraisec.render import render_schema_sql
from fraisec.render.distribution import distribution_calls, render_distribution_sql
from tests.helpers import codes, run_cli
from tests.migrations.util import private_shadow_cache, query

REPO = Path(__file__).resolve().parents[2]

STANDIN = """
CREATE SCHEMA citus_standin;
CREATE TABLE citus_standin.placed (
    seq int GENERATED ALWAYS AS IDENTITY,
    fn text NOT NULL,
    rel regclass NOT NULL UNIQUE,
    dist_column text,
    colocate_with text,
    colocation_group text
);

-- What Citus checks about foreign keys when it places ``rel`` (NULL column: a reference table).
CREATE FUNCTION citus_standin.check_foreign_keys(rel regclass, dist_column text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    k record;
    target citus_standin.placed;
    mine text;
BEGIN
    SELECT colocation_group INTO mine FROM citus_standin.placed WHERE placed.rel = check_foreign_keys.rel;
    FOR k IN SELECT c.conname, c.confrelid::regclass AS target, c.conkey, c.confkey, c.confdeltype
             FROM pg_catalog.pg_constraint c
             WHERE c.conrelid = rel AND c.contype = 'f' AND c.confrelid <> rel LOOP
        IF dist_column IS NOT NULL AND k.confdeltype IN ('n', 'd')
           AND (SELECT attnum FROM pg_catalog.pg_attribute
                WHERE attrelid = rel AND attname = dist_column) = ANY (k.conkey) THEN
            RAISE EXCEPTION 'foreign key % of %: SET NULL or SET DEFAULT is not supported in ON DELETE '
                            'operation when distribution key is included in the foreign key constraint',
                            k.conname, rel;
        END IF;
        SELECT * INTO target FROM citus_standin.placed WHERE placed.rel = k.target;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'foreign key % of %: referenced table % must be a distributed table '
                            'or a reference table', k.conname, rel, k.target;
        END IF;
        IF target.dist_column IS NULL THEN
            CONTINUE;  -- to a reference table: always fine
        END IF;
        IF dist_column IS NULL THEN
            RAISE EXCEPTION 'foreign key % of reference table % points at distributed table %',
                            k.conname, rel, k.target;
        END IF;
        IF array_position(k.conkey, (SELECT attnum FROM pg_catalog.pg_attribute
                                     WHERE attrelid = rel AND attname = dist_column)) IS DISTINCT FROM
           array_position(k.confkey, (SELECT attnum FROM pg_catalog.pg_attribute
                                      WHERE attrelid = k.target AND attname = target.dist_column))
           OR array_position(k.conkey, (SELECT attnum FROM pg_catalog.pg_attribute
                                        WHERE attrelid = rel AND attname = dist_column)) IS NULL THEN
            RAISE EXCEPTION 'foreign key % of % does not map % to the distribution column of %',
                            k.conname, rel, dist_column, k.target;
        END IF;
        IF target.colocation_group IS DISTINCT FROM mine THEN
            RAISE EXCEPTION 'foreign key % between % and % which are not co-located',
                            k.conname, rel, k.target;
        END IF;
    END LOOP;
END $$;

-- What Citus checks about a table's policies when it places it (ErrorIfUnsupportedPolicyExpr in
-- commands/policy.c: no SubLink), and what fraisec does not rely on: Citus re-creates policies
-- on the shards without AS RESTRICTIVE (CreatePolicyCommandForPolicy), so none may be.
CREATE FUNCTION citus_standin.check_policies(rel regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT polname, polpermissive, polqual::text AS qual, polwithcheck::text AS checked
             FROM pg_catalog.pg_policy WHERE polrelid = rel LOOP
        IF p.qual LIKE '%{SUBLINK %' OR p.checked LIKE '%{SUBLINK %' THEN
            RAISE EXCEPTION 'cannot create policy % on %: Subqueries are not supported in policies '
                            'on distributed tables', p.polname, rel;
        END IF;
        IF NOT p.polpermissive THEN
            RAISE EXCEPTION 'policy % on % is RESTRICTIVE: the shards would get it as permissive',
                            p.polname, rel;
        END IF;
    END LOOP;
END $$;

CREATE FUNCTION citus_standin.create_reference_table(rel regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM citus_standin.check_policies(rel);
    INSERT INTO citus_standin.placed (fn, rel, colocation_group)
    VALUES ('create_reference_table', rel, 'reference');
    PERFORM citus_standin.check_foreign_keys(rel, NULL);
END $$;

CREATE FUNCTION citus_standin.create_distributed_table(rel regclass, dist_column text,
                                                       colocate_with text DEFAULT 'default')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    grp text;
BEGIN
    PERFORM citus_standin.check_policies(rel);
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute
                   WHERE attrelid = rel AND attname = dist_column AND attnum > 0 AND NOT attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', dist_column, rel;
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_index i
               WHERE i.indrelid = rel AND i.indisunique
                 AND NOT (SELECT attnum FROM pg_catalog.pg_attribute
                          WHERE attrelid = rel AND attname = dist_column) = ANY (i.indkey::int2[])) THEN
        RAISE EXCEPTION 'cannot create constraint on "%": Distributed relations cannot have UNIQUE, '
                        'EXCLUDE, or PRIMARY KEY constraints that do not include the partition column', rel;
    END IF;
    IF colocate_with = 'none' THEN
        grp := rel::text;
    ELSIF colocate_with = 'default' THEN
        grp := 'default';
    ELSE
        SELECT colocation_group INTO grp FROM citus_standin.placed
        WHERE placed.rel = create_distributed_table.colocate_with::regclass
          AND placed.dist_column IS NOT NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'cannot colocate % with %: not a distributed table', rel, colocate_with;
        END IF;
    END IF;
    INSERT INTO citus_standin.placed (fn, rel, dist_column, colocate_with, colocation_group)
    VALUES ('create_distributed_table', rel, dist_column, colocate_with, grp);
    PERFORM citus_standin.check_foreign_keys(rel, dist_column);
END $$;
"""

PLACED = ("SELECT fn, rel::text, dist_column, colocate_with FROM citus_standin.placed ORDER BY seq")

# examples/saas placed by hand from its schema: Organization and User are global (reference),
# every tenant=True entity is distributed by fk_organization, co-located with the first one;
# Task after Project (its foreign key's target).
SAAS_PLACED = [
    ("create_reference_table", "app.tb_organization", None, None),
    ("create_reference_table", "app.tb_user", None, None),
    ("create_distributed_table", "app.tb_membership", "fk_organization", "none"),
    ("create_distributed_table", "app.tb_invitation", "fk_organization", "app.tb_membership"),
    ("create_distributed_table", "app.tb_project", "fk_organization", "app.tb_membership"),
    ("create_distributed_table", "app.tb_activity", "fk_organization", "app.tb_membership"),
    ("create_distributed_table", "app.tb_task", "fk_organization", "app.tb_membership"),
]


# Two tenant tables, the second pointing at the first (beside _project's Org).
PROJECT_AND_TASK = """

@fq.entity(tenant=True)
class Project:
    name: str
    org: Org


@fq.entity(tenant=True)
class Task:
    title: str
    org: Org
    project: Project
"""


@pytest.fixture(scope="module", autouse=True)
def _private_shadow():
    yield from private_shadow_cache()


def _citus_copy(tmp_path: Path, example: str) -> Path:
    """The example project with ``[distribution] engine = "citus"`` added to its fraisec.toml."""
    root = tmp_path / example
    shutil.copytree(REPO / "examples" / example, root, ignore=shutil.ignore_patterns("build", "migrations"))
    with (root / "fraisec.toml").open("a", encoding="utf-8") as config:
        config.write('\n[distribution]\nengine = "citus"\n')
    return root


def _schema(root: Path):
    schema, diagnostics = load_ir(str(root / "schema.py"))
    assert schema is not None and schema.settings.distribution == "citus", diagnostics
    return schema, diagnostics


def _apply(url: str, *scripts: str) -> None:
    with psycopg.connect(url) as conn:
        for script in scripts:
            conn.execute(script)


def _run_distribution(url: str, text: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET search_path = citus_standin, public")
        conn.execute(text)


def test_saas_distribution_sql_runs_in_order_against_the_standins(tmp_path, make_db):
    root = _citus_copy(tmp_path, "saas")
    schema, diagnostics = _schema(root)
    assert "FSC601" not in codes(diagnostics) and "FSC602" not in codes(diagnostics)
    url = make_db()
    _apply(url, render_schema_sql(schema), STANDIN)
    _run_distribution(url, render_distribution_sql(schema))
    assert query(url, PLACED) == SAAS_PLACED
    # The tenant tables' keys are what Citus accepts: (tenant, pk) and (tenant, id).
    keys = query(url, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                      "WHERE conrelid = 'app.tb_project'::regclass AND contype IN ('p', 'u') ORDER BY 1")
    assert keys == [("pk_project", "PRIMARY KEY (fk_organization, pk_project)"),
                    ("uq_project_fk_organization_id", "UNIQUE (fk_organization, id)"),
                    ("uq_project_fk_organization_identifier", "UNIQUE (fk_organization, identifier)")]
    # Global tables keep their global keys.
    assert ("uq_organization_identifier", "UNIQUE (identifier)") in query(
        url, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
             "WHERE conrelid = 'app.tb_organization'::regclass AND contype = 'u'")


@pytest.mark.parametrize("shape", ["subquery", "restrictive"])
def test_the_rls_shape_is_refused_by_the_standin(tmp_path, make_db, shape):
    """The stand-in has teeth for policies too: the rls strategy's shape (each helper call an
    InitPlan subquery, the tenant guard RESTRICTIVE) is refused at the first table holding
    one, with the Citus keys in place; so is a RESTRICTIVE policy without a subquery."""
    schema, _ = _schema(_citus_copy(tmp_path, "saas"))
    url = make_db()
    _apply(url, render_schema_sql(schema), STANDIN)
    if shape == "subquery":
        _apply(url, "CREATE POLICY spy ON app.tb_organization FOR SELECT TO app_user "
                    "USING (pk_organization IN (SELECT 1))")
        expected = "tb_organization: Subqueries are not supported"
    else:
        _apply(url, "CREATE POLICY guard ON app.tb_project AS RESTRICTIVE FOR ALL TO app_user USING (true)")
        expected = "guard on app.tb_project is RESTRICTIVE"
    with pytest.raises(psycopg.errors.RaiseException, match=expected):
        _run_distribution(url, render_distribution_sql(schema))


def test_without_citus_keys_the_standin_refuses_the_first_tenant_table(tmp_path, make_db):
    """The stand-in has teeth: the ordinary schema.sql (PRIMARY KEY (pk_project), UNIQUE (id))
    is refused where Citus refuses it."""
    schema, _ = _schema(_citus_copy(tmp_path, "saas"))
    plain = schema.model_copy(update={"settings": schema.settings.model_copy(update={"distribution": None})})
    url = make_db()
    _apply(url, render_schema_sql(plain), STANDIN,
           # the keys alone: the rls shape's policies are refused first otherwise (test above)
           "CREATE OR REPLACE FUNCTION citus_standin.check_policies(rel regclass) RETURNS void "
           "LANGUAGE sql AS ''")
    with pytest.raises(psycopg.errors.RaiseException, match="tb_membership.*partition column"):
        _run_distribution(url, render_distribution_sql(schema))


def test_distribution_sql_is_deterministic_and_reference_tables_come_first(tmp_path):
    schema, _ = _schema(_citus_copy(tmp_path, "saas"))
    text = render_distribution_sql(schema)
    assert text == render_distribution_sql(_schema(_citus_copy(tmp_path / "again", "saas"))[0])
    lines = [line for line in text.splitlines() if line.startswith("SELECT")]
    assert lines[0] == "SELECT create_reference_table('app.tb_organization');"
    assert lines[-1] == ("SELECT create_distributed_table('app.tb_task', 'fk_organization', "
                         "colocate_with => 'app.tb_membership');")
    assert str(tmp_path) not in text


def test_compile_writes_distribution_sql_and_reports_the_citus_traps(tmp_path, monkeypatch):
    root = _citus_copy(tmp_path, "saas")
    monkeypatch.chdir(root)
    result = run_cli("--no-color", "compile")
    assert result.exit_code == 0, result.output
    assert "wrote build/distribution.sql" in result.output
    assert (root / "build" / "distribution.sql").read_text().count("SELECT create_") == 7
    # Triggers: warned, never silent. The policies take the Citus shape: nothing to warn of.
    assert "warning[FSC604]" in result.output and "FSC603" not in result.output


def test_compile_without_distribution_writes_no_distribution_sql(tmp_path, monkeypatch):
    root = tmp_path / "saas"
    shutil.copytree(REPO / "examples" / "saas", root, ignore=shutil.ignore_patterns("build", "migrations"))
    monkeypatch.chdir(root)
    result = run_cli("--no-color", "compile")
    assert result.exit_code == 0, result.output
    assert not (root / "build" / "distribution.sql").exists()
    assert "GENERATED ALWAYS AS IDENTITY PRIMARY KEY" in (root / "build" / "schema.sql").read_text()


def test_teams_invitation_token_is_a_global_unique_fsc601_and_the_standin_agrees(tmp_path, make_db):
    """teams' Invitation is tenant-scoped but its token hash is unique across tenants (the
    token finds its invitation): Citus cannot keep that key on a distributed table."""
    root = _citus_copy(tmp_path, "teams")
    schema, diagnostics = load_ir(str(root / "schema.py"))
    found = [d for d in diagnostics if d.code == "FSC601"]
    assert len(found) == 1 and "token_hash" in found[0].message and "app.tb_invitation" in found[0].message
    assert found[0].hint and found[0].location.file.endswith("schema.py")
    url = make_db()
    _apply(url, render_schema_sql(schema), STANDIN)
    with pytest.raises(psycopg.errors.RaiseException, match="tb_invitation.*partition column"):
        _run_distribution(url, render_distribution_sql(schema))
    placed = [row[1] for row in query(url, PLACED)]
    assert placed == []  # one transaction: the refusal rolled every call back


def test_teams_compile_refuses_with_fsc601(tmp_path, monkeypatch):
    monkeypatch.chdir(_citus_copy(tmp_path, "teams"))
    result = run_cli("--no-color", "compile")
    assert result.exit_code == 1
    assert "error[FSC601]" in result.output
    assert not Path("build/distribution.sql").exists()


# -- the diagnostics on small schemas ------------------------------------------------------------

HEADER = """
import fraisec as fq

fq.tenancy(tenant="Org", claim="org_id")


@fq.entity
class Org:
    identifier: str = fq.field(unique=True)
    name: str
"""


def _project(tmp_path: Path, body: str, engine: str = "citus") -> Path:
    (tmp_path / "fraisec.toml").write_text(
        f'[project]\nschema = "schema.py"\n\n[distribution]\nengine = "{engine}"\n')
    (tmp_path / "schema.py").write_text(textwrap.dedent(HEADER).lstrip() + textwrap.dedent(body))
    return tmp_path


def test_fsc602_a_global_entity_pointing_at_a_tenant_entity(tmp_path):
    root = _project(tmp_path, """

@fq.entity(tenant=True)
class Project:
    name: str
    org: Org


@fq.entity
class Showcase:
    title: str
    project: Project
""")
    _, diagnostics = load_ir(str(root / "schema.py"))
    found = [d for d in diagnostics if d.code == "FSC602"]
    assert len(found) == 1
    assert "app.tb_showcase is a reference table" in found[0].message
    assert "Showcase" in found[0].hint


def test_fsc602_set_null_on_a_key_through_the_tenant_column_and_the_standin_agrees(tmp_path, make_db):
    root = _project(tmp_path, """

@fq.entity(tenant=True)
class Project:
    name: str
    org: Org


@fq.entity(tenant=True)
class Task:
    title: str
    org: Org
    project: Project | None = fq.field(on_delete="SET NULL")
""")
    schema, diagnostics = load_ir(str(root / "schema.py"))
    found = [d for d in diagnostics if d.code == "FSC602"]
    assert len(found) == 1 and "ON DELETE SET NULL" in found[0].message and "CASCADE" in found[0].hint
    url = make_db()
    _apply(url, render_schema_sql(schema), STANDIN)
    with pytest.raises(psycopg.errors.RaiseException, match="SET NULL or SET DEFAULT is not supported"):
        _run_distribution(url, render_distribution_sql(schema))


def test_fsc605_a_cycle_between_tenant_tables(tmp_path):
    root = _project(tmp_path, """

@fq.entity(tenant=True)
class Project:
    name: str
    org: Org
    lead: "Task | None" = None


@fq.entity(tenant=True)
class Task:
    title: str
    org: Org
    project: Project
""")
    schema, diagnostics = load_ir(str(root / "schema.py"))
    found = [d for d in diagnostics if d.code == "FSC605"]
    assert len(found) == 1 and "app.tb_project" in found[0].message and "app.tb_task" in found[0].message


def test_tenant_to_tenant_key_goes_through_the_tenant_column_and_no_error(tmp_path, make_db):
    root = _project(tmp_path, PROJECT_AND_TASK)
    schema, diagnostics = load_ir(str(root / "schema.py"))
    assert not [d for d in diagnostics if d.code in ("FSC601", "FSC602", "FSC605")], diagnostics
    url = make_db()
    _apply(url, render_schema_sql(schema), STANDIN)
    _run_distribution(url, render_distribution_sql(schema))
    assert query(url, PLACED) == [
        ("create_reference_table", "app.tb_org", None, None),
        ("create_distributed_table", "app.tb_project", "fk_org", "none"),
        ("create_distributed_table", "app.tb_task", "fk_org", "app.tb_project"),
    ]


def test_fsc600_unknown_engine_and_unknown_key(tmp_path, monkeypatch):
    root = _project(tmp_path, "", engine="cockroach")
    monkeypatch.chdir(root)
    result = run_cli("--no-color", "compile")
    assert result.exit_code == 1
    assert "error[FSC600]" in result.output and "'cockroach' is not supported" in result.output
    (root / "fraisec.toml").write_text('[distribution]\nengine = "citus"\nshards = 32\n')
    result = run_cli("--no-color", "compile")
    assert result.exit_code == 1
    assert "error[FSC600]" in result.output and "unknown key(s): shards" in result.output


def test_migration_adding_tables_places_them_after_their_create(tmp_path, monkeypatch, make_db):
    """migrate diff in a citus project: the first file places every table, a later one only
    its new tables, co-located with the tenant tables that exist; both still apply to plain
    PostgreSQL (the calls run only where the Citus functions exist)."""
    root = _project(tmp_path, """

@fq.entity(tenant=True)
class Project:
    name: str
    org: Org
""")
    monkeypatch.chdir(root)
    first = run_cli("--no-color", "migrate", "diff", "init")
    assert first.exit_code == 0, first.output
    with (root / "schema.py").open("a") as schema:
        schema.write(textwrap.dedent("""

            @fq.entity(tenant=True)
            class Task:
                title: str
                org: Org
                project: Project


            @fq.entity
            class Country:
                name: str
            """))
    second = run_cli("--no-color", "migrate", "diff", "tasks")
    assert second.exit_code == 0, second.output
    text = (root / "migrations" / "0002_tasks.sql").read_text()
    lines = text.splitlines()
    calls = [line.strip() for line in lines if line.strip().startswith("PERFORM create_")]
    assert calls == ["PERFORM create_reference_table('app.tb_country');",
                     "PERFORM create_distributed_table('app.tb_task', 'fk_org', "
                     "colocate_with => 'app.tb_project');"]
    create = next(i for i, line in enumerate(lines) if line.startswith("CREATE TABLE app.tb_task"))
    foreign_key = max(i for i, line in enumerate(lines) if "FOREIGN KEY" in line and "tb_task" in line)
    block = lines.index("DO $citus$")
    assert create < foreign_key < block < lines.index("COMMIT;")
    # Plain PostgreSQL (no Citus functions): the files apply and the calls are skipped.
    plain = make_db()
    applied = run_cli("--no-color", "migrate", "apply", "--database", plain)
    assert applied.exit_code == 0, applied.output
    # With the stand-ins on the search_path the same files place the tables, in order.
    standin = make_db(STANDIN)
    database = psycopg.conninfo.conninfo_to_dict(standin)["dbname"]
    query(standin, f"ALTER DATABASE {database} SET search_path = citus_standin, public")
    applied = run_cli("--no-color", "migrate", "apply", "--database", standin)
    assert applied.exit_code == 0, applied.output
    assert query(standin, PLACED) == [
        ("create_reference_table", "app.tb_org", None, None),
        ("create_distributed_table", "app.tb_project", "fk_org", "none"),
        ("create_reference_table", "app.tb_country", None, None),
        ("create_distributed_table", "app.tb_task", "fk_org", "app.tb_project"),
    ]


def test_distribution_calls_for_a_migration_colocate_with_existing_tables(tmp_path):
    root = _project(tmp_path, PROJECT_AND_TASK)
    schema, _ = load_ir(str(root / "schema.py"))
    assert distribution_calls(schema, only={"app.tb_task"}, existing={"app.tb_org", "app.tb_project"}) == [
        "create_distributed_table('app.tb_task', 'fk_org', colocate_with => 'app.tb_project')"]
    assert distribution_calls(schema, only={"app.tb_task"}, existing=set()) == [
        "create_distributed_table('app.tb_task', 'fk_org', colocate_with => 'none')"]


def test_turning_citus_on_migrates_the_keys_of_existing_tenant_tables(tmp_path, monkeypatch, make_db):
    """An existing project sets engine = "citus": the next migration replaces the tenant tables'
    primary keys and UNIQUE (id) with keys that include the tenant column, and the database it
    produces passes the stand-ins."""
    root = _project(tmp_path, PROJECT_AND_TASK)
    (root / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n')
    monkeypatch.chdir(root)
    assert run_cli("--no-color", "migrate", "diff", "init").exit_code == 0
    (root / "fraisec.toml").write_text('[project]\nschema = "schema.py"\n\n[distribution]\nengine = "citus"\n')
    switched = run_cli("--no-color", "migrate", "diff", "citus_keys")
    assert switched.exit_code == 0, switched.output
    text = (root / "migrations" / "0002_citus_keys.sql").read_text()
    # The keys are built online (the tables exist): the index concurrently, then the constraint.
    assert "CREATE UNIQUE INDEX CONCURRENTLY pk_project ON app.tb_project (fk_org, pk_project)" in text
    assert "ADD CONSTRAINT pk_project PRIMARY KEY USING INDEX pk_project" in text
    assert "ADD CONSTRAINT uq_task_fk_org_id UNIQUE USING INDEX uq_task_fk_org_id" in text
    assert "DO $citus$" not in text  # no table is created: placing them is distribution.sql's job
    url = make_db(STANDIN)
    applied = run_cli("--no-color", "migrate", "apply", "--database", url)
    assert applied.exit_code == 0, applied.output
    schema, _ = load_ir(str(root / "schema.py"))
    _run_distribution(url, render_distribution_sql(schema))
    assert [row[1] for row in query(url, PLACED)] == ["app.tb_org", "app.tb_project", "app.tb_task"]


def test_citus_keys_keep_the_saas_mutations_and_tenant_isolation_working(tmp_path, make_db):
    """The key change is not only accepted by the stand-ins: on PostgreSQL the example's
    generated mutations still create, update, reference and delete rows, a duplicate business
    key is still a conflict within the tenant, and another tenant's rows stay invisible."""
    from tests.sqlgen.conftest import ACME, ALICE, BOB, GLOBEX, SEED, Saas

    schema, _ = _schema(_citus_copy(tmp_path, "saas"))
    saas = Saas(make_db(render_schema_sql(schema) + SEED))
    with saas.request(ALICE, ACME) as conn:
        created = saas.call(conn, "fn_create_project", "Launchpad", "acme-launchpad", ACME, "Pad")
        assert (created["succeeded"], created["status_detail"]) == (True, "created")
        task = saas.call(conn, "fn_create_task", created["entity_id"], "pad-1", "Build it")
        assert task["entity"]["project"]["identifier"] == "acme-launchpad"
        duplicate = saas.call(conn, "fn_create_project", "Again", "acme-launchpad", ACME)
        assert duplicate["status_detail"] == "conflict:duplicate"
        updated = saas.call(conn, "fn_update_project", created["entity_id"], None, None, "archived")
        assert updated["entity"]["status"] == "archived"
        conn.commit()
    with saas.request(BOB, GLOBEX) as conn:
        seen = conn.execute("SELECT data->>'identifier' AS identifier FROM app.v_project ORDER BY 1").fetchall()
        assert [r["identifier"] for r in seen] == ["globex-doomsday", "globex-hammock"]
        # the same business key in another tenant is no conflict (keys are per tenant)
        other = saas.call(conn, "fn_create_project", "Launchpad", "acme-launchpad", GLOBEX)
        assert other["status_detail"] == "created"
