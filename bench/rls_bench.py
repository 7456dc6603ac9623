"""RLS overhead of the generated SQL: 1,000 tenants x 1,000 projects (examples/saas).

A tenant's read through ``app.v_project`` as the API role, exactly as the runtime sends it
(``BEGIN; set_config(...); SET LOCAL ROLE app_user; SELECT ...; COMMIT``), against the same
read with an explicit ``WHERE`` and no RLS, in the same run. The no-RLS side runs as the
superuser: the tables are FORCEd, so the owner itself is subject to RLS (and, with policies only
for the API role, sees nothing); a superuser bypasses RLS the way an unFORCEd owner would.

    python bench/rls_bench.py [--url postgresql://…] [--tenants 1000] [--rows 1000] [--runs 30]

Prints server-side execution times (EXPLAIN ANALYZE, median) and client-side round trips
(median, full fetch of the rows), and the ratio RLS / floor. Target: <= 1.3x (rls.md measured
1.2-1.6x for this policy shape and 764x for seed 000's ``IN (SELECT …)`` policy).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from fraisec.api import schema_sql  # noqa: E402

LOAD = """
SET session_replication_role = replica;  -- bulk load: no observer events for 1M seed rows
INSERT INTO app.tb_organization (identifier, name)
SELECT 'org-' || i, 'Org ' || i FROM generate_series(1, %(tenants)s) i;
INSERT INTO app.tb_user (identifier, name, email)
SELECT 'user-' || i, 'User ' || i, 'user' || i || '@example.test' FROM generate_series(1, %(tenants)s) i;
INSERT INTO app.tb_membership (fk_organization, fk_user, role)
SELECT i, i, 'admin' FROM generate_series(1, %(tenants)s) i;
-- Interleaved, as in rls.md (g): a tenant's rows are spread over the whole table.
INSERT INTO app.tb_project (fk_organization, identifier, name, description)
SELECT (i - 1) %% %(tenants)s + 1, 'project-' || i, 'Project ' || i, 'Description of project ' || i
FROM generate_series(1, %(tenants)s * %(rows)s) i;
SET session_replication_role = DEFAULT;
"""

# Seed 000's hand-written policy shape, for comparison: IN (SELECT …) is never an index
# condition under RLS (rls.md (g)), so every row of the table is filtered.
SEED000_POLICY = """
DROP POLICY rls_project_tenant_guard ON app.tb_project;
CREATE POLICY seed000_project_tenant_isolation ON app.tb_project AS RESTRICTIVE FOR ALL TO app_user
USING (fk_organization IN (
    SELECT fk_organization FROM app.tb_membership
    WHERE fk_user = (SELECT pk_user FROM app.tb_user
                     WHERE id = current_setting('app.user_id', true)::uuid)));
"""

READ = "SELECT id, data FROM app.v_project"
COUNT = "SELECT count(*) FROM app.v_project"
TABLE = "SELECT id, name FROM app.tb_project"


def _server(url: str | None):
    if url:
        return None, url
    from fraisec.pg.server import EmbeddedServer

    server = EmbeddedServer.ephemeral().start()
    return server, server.url()


def _setup(admin_url: str, tenants: int, rows: int) -> str:
    name = "rls_bench"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = admin_url.replace("/postgres?", f"/{name}?", 1) if "/postgres?" in admin_url else None
    if url is None:
        raise SystemExit("pass a --url that names the 'postgres' database; the bench creates its own")
    text, diagnostics = schema_sql(str(REPO / "examples" / "saas" / "schema.py"))
    if text is None:
        raise SystemExit("\n".join(map(str, diagnostics)))
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute(text)
        conn.execute(LOAD % {"tenants": int(tenants), "rows": int(rows)})  # ints: no injection
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"setup: {tenants} tenants x {rows} projects in {time.perf_counter() - started:.1f} s")
    return url


def _context(conn: psycopg.Connection, tenant: int) -> tuple[str, str]:
    user_id, org_id = conn.execute(
        "SELECT u.id::text, o.id::text FROM app.tb_user u, app.tb_organization o "
        "WHERE u.identifier = %s AND o.identifier = %s", (f"user-{tenant}", f"org-{tenant}")).fetchone()
    return user_id, org_id


def _explain_ms(conn: psycopg.Connection, query: str, params: tuple = ()) -> float:
    plan = conn.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {query}", params).fetchone()[0]
    return float(plan[0]["Execution Time"])


def _run_once(conn: psycopg.Connection, query: str, params: tuple,
              rls: tuple[str, str] | None) -> tuple[float, float, int]:
    """One request: (server ms from EXPLAIN ANALYZE, client ms for the full fetch, rows)."""
    if rls is not None:
        conn.execute("SELECT set_config('app.user_id', %s, true), "
                     "set_config('app.tenant_id', %s, true)", (rls[0], rls[1]))
        conn.execute("SET LOCAL ROLE app_user")
    started = time.perf_counter()
    rows = len(conn.execute(query, params).fetchall())
    client = (time.perf_counter() - started) * 1000
    server = _explain_ms(conn, query, params)
    conn.commit()
    return server, client, rows


def _measure(url: str, cases: list[tuple[str, str, tuple, tuple[str, str] | None]],
             runs: int) -> dict[str, dict[str, float]]:
    """Median times per case. The cases run round-robin, so load on the machine during the run
    hits every case alike (measuring one case after another turned drift into "speed-ups")."""
    samples: dict[str, list[tuple[float, float, int]]] = {label: [] for label, *_ in cases}
    with psycopg.connect(url) as conn:
        for i in range(runs + 3):  # three warm-up rounds
            for label, query, params, rls in cases:
                result = _run_once(conn, query, params, rls)
                if i >= 3:
                    samples[label].append(result)
    return {label: {"server": statistics.median(s[0] for s in got),
                    "client": statistics.median(s[1] for s in got), "rows": got[-1][2]}
            for label, got in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="superuser URL of a server's 'postgres' database (default: embedded)")
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=1000, help="projects per tenant")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--no-seed000", dest="seed000", action="store_false",
                        help="skip the comparison with seed 000's policy shape")
    args = parser.parse_args()
    server, admin_url = _server(args.url)
    try:
        url = _setup(admin_url, args.tenants, args.rows)
        tenant = args.tenants // 2
        with psycopg.connect(url) as conn:
            user_id, org_id = _context(conn, tenant)
            pk = conn.execute("SELECT pk_organization FROM app.tb_organization WHERE id = %s", (org_id,)).fetchone()[0]
        floor_where = " WHERE org_id = %s"
        cases = [
            ("read: RLS (API role, no WHERE)", READ, (), (user_id, org_id)),
            ("read: RLS + runtime inject filter", READ + floor_where, (org_id,), (user_id, org_id)),
            ("read: floor (no RLS, explicit WHERE)", READ + floor_where, (org_id,), None),
            ("count: RLS (API role, no WHERE)", COUNT, (), (user_id, org_id)),
            ("count: floor (no RLS, explicit WHERE)", COUNT + floor_where, (org_id,), None),
            # The table alone: no join to the tenant root bounds the scan, the policy decides.
            ("table: RLS (API role, no WHERE)", TABLE, (), (user_id, org_id)),
            ("table: floor (no RLS, explicit WHERE)", TABLE + " WHERE fk_organization = %s", (pk,), None),
        ]
        results = _measure(url, cases, args.runs)
        print(f"tenant org-{tenant} (pk {pk}); median of {args.runs} round-robin runs after 3 warm-ups\n")
        print(f"{'case':42} {'rows':>6} {'server ms':>10} {'client ms':>10}")
        for label, *_ in cases:
            result = results[label]
            print(f"{label:42} {result['rows']:>6} {result['server']:>10.3f} {result['client']:>10.3f}")
        print()
        for kind, rls_case, floor_case in (("read", "read: RLS (API role, no WHERE)", "read: floor (no RLS, explicit WHERE)"),
                                           ("read+inject", "read: RLS + runtime inject filter", "read: floor (no RLS, explicit WHERE)"),
                                           ("count", "count: RLS (API role, no WHERE)", "count: floor (no RLS, explicit WHERE)"),
                                           ("table", "table: RLS (API role, no WHERE)", "table: floor (no RLS, explicit WHERE)")):
            a, b = results[rls_case], results[floor_case]
            assert a["rows"] == b["rows"], (rls_case, a["rows"], b["rows"])
            print(f"ratio {kind:12} server {a['server'] / b['server']:.2f}x   client {a['client'] / b['client']:.2f}x")
        if args.seed000:
            with psycopg.connect(url) as conn:
                conn.execute(SEED000_POLICY)
            print("\nseed 000's policy shape (IN (SELECT …)) instead of the generated guard:")
            pairs = [(cases[0], cases[2], "read"), (cases[5], cases[6], "table")]
            seed = _measure(url, [c for a, b, _ in pairs for c in (a, b)], max(5, args.runs // 5))
            for rls_case, floor_case, kind in pairs:
                a, b = seed[rls_case[0]], seed[floor_case[0]]
                print(f"ratio {kind:12} server {a['server'] / b['server']:.2f}x   client "
                      f"{a['client'] / b['client']:.2f}x   ({a['server']:.2f} ms vs {b['server']:.2f} ms)")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
