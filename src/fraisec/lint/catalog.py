"""The catalog audit of ``fraisec check``: the lint rules, run on what PostgreSQL built.

The migrations are replayed into the shadow database (``fraisec.migrations.drift``) and
introspected into a :class:`~fraisec.catalog.model.Catalog`. This module writes that catalog
back as DDL in PostgreSQL's own words (``pg_get_functiondef``, ``pg_get_viewdef``,
``pg_get_expr`` of each policy, ``pg_get_constraintdef``, one ``GRANT`` per ACL entry, the
``relrowsecurity``/``relforcerowsecurity`` flags, owners) and runs the same rules on it. So the
audit sees what the text of the migrations hides from the linter: grants made by ``DO`` blocks
or ``ALL TABLES IN SCHEMA``, ``ALTER FUNCTION … SECURITY DEFINER`` from dynamic SQL, default
privileges, anything a later migration changed.

Each finding is located back in the migration files (the statement that created the object,
by name); a finding the linter already reported on the same object's statements is not
reported twice, and ``-- fraisec: ignore FSC3xx`` comments there silence it too. An object no
migration file names (made by dynamic SQL) is reported on the migrations directory.

Foreign tables are not audited as tables (no RLS finding on a table that cannot have RLS), as
the linter does not read ``CREATE FOREIGN TABLE`` as one.

Not audited here: role attributes (BYPASSRLS, SUPERUSER), because the shadow server's roles
are cluster-wide and shared by every run (the linter checks the SQL that creates them), and
database privileges such as TEMP (the shadow database is fraisec's, not the deployed one).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from fraisec.catalog.model import Catalog
from fraisec.diagnostics import Diagnostic, Location
from fraisec.lint.model import LintModel, Span
from fraisec.lint.registry import LintConfig

__all__ = ["audit_catalog", "catalog_statements"]

CATALOG_FILE = "<catalog>"
_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# The privileges each grant rule objects to: where its finding belongs among the GRANTs.
_FLAGGED = {"FSC319": {"TRUNCATE", "REFERENCES", "TRIGGER"}, "FSC312": {"EXECUTE"},
            "FSC315": {"SELECT"}}


@dataclass(frozen=True)
class Origin:
    """The catalog object a generated statement describes: its kind and bare name, the
    table it hangs off (policies, constraints), the privilege (grants)."""

    kind: str  # table | view | function | policy | key | foreign key | grant | owner
    name: str
    table: str | None = None
    privileges: tuple[str, ...] = ()
    schema: str | None = None  # grants: ALL TABLES IN SCHEMA names the schema, not the table


def _bare(key: str) -> str:
    """``app.tb_project`` → ``tb_project``; ``app.f(integer)`` → ``f`` (quotes kept out)."""
    from fraisec.lint.sqlread import split_name

    return split_name(key.split("(", 1)[0])[1]


def _schema(key: str) -> str | None:
    from fraisec.lint.sqlread import split_name

    return split_name(key.split("(", 1)[0])[0]


def catalog_statements(catalog: Catalog) -> list[tuple[Origin, str]]:
    """The catalog as DDL statements (without ``;``), each with the object it describes."""
    return [*_tables(catalog), *_constraints(catalog), *_policies(catalog),
            *_functions(catalog), *_views(catalog), *_grants(catalog)]


def _tables(catalog: Catalog) -> Iterable[tuple[Origin, str]]:
    from fraisec.render.quoting import quote_ident

    for key, table in sorted(catalog.table.items()):
        if table.is_foreign:
            # Its rows live on the remote server, which enforces its own access; PostgreSQL
            # refuses row-level security on it. The linter skips CREATE FOREIGN TABLE too.
            continue
        origin = Origin("table", _bare(key))
        columns = ", ".join(
            f"{quote_ident(c.name)} {c.type}" + (f" DEFAULT {c.default}" if c.default else "")
            for c in table.columns)
        yield origin, f"CREATE TABLE {key} ({columns})"
        if table.rls_enabled:
            yield origin, f"ALTER TABLE {key} ENABLE ROW LEVEL SECURITY"
        if table.rls_forced:
            yield origin, f"ALTER TABLE {key} FORCE ROW LEVEL SECURITY"
        yield (Origin("owner", origin.name),
               f"ALTER TABLE {key} OWNER TO {quote_ident(table.owner)}")


def _constraints(catalog: Catalog) -> Iterable[tuple[Origin, str]]:
    from fraisec.render.quoting import quote_ident

    for _key, con in sorted(catalog.constraint.items()):
        if con.type in ("p", "u", "f"):
            kind = "foreign key" if con.type == "f" else "key"
            yield (Origin(kind, con.name, _bare(con.table)),
                   f"ALTER TABLE {con.table} ADD CONSTRAINT {quote_ident(con.name)} {con.definition}")
    for _key, index in sorted(catalog.index.items()):
        yield Origin("key", index.name, _bare(index.table)), index.definition


def _policies(catalog: Catalog) -> Iterable[tuple[Origin, str]]:
    from fraisec.render.quoting import quote_ident

    for _key, policy in sorted(catalog.policy.items()):
        roles = ", ".join("PUBLIC" if r == "public" else quote_ident(r) for r in policy.roles)
        text = (f"CREATE POLICY {quote_ident(policy.name)} ON {policy.table} AS "
                f"{'PERMISSIVE' if policy.permissive else 'RESTRICTIVE'} FOR {policy.command} "
                f"TO {roles or 'PUBLIC'}")
        if policy.using is not None:
            text += f" USING ({policy.using})"
        if policy.check is not None:
            text += f" WITH CHECK ({policy.check})"
        yield Origin("policy", policy.name, _bare(policy.table)), text


def _functions(catalog: Catalog) -> Iterable[tuple[Origin, str]]:
    from fraisec.render.quoting import quote_ident

    for key, fn in sorted(catalog.function.items()):
        if not fn.definition:
            continue  # aggregates and window functions have no pg_get_functiondef
        origin = Origin("function", _bare(key))
        yield origin, fn.definition.rstrip().rstrip(";")
        yield origin, f"ALTER FUNCTION {key} OWNER TO {quote_ident(fn.owner)}"


def _views(catalog: Catalog) -> Iterable[tuple[Origin, str]]:
    for key, view in sorted(catalog.view.items()):
        options = f" WITH ({', '.join(view.options)})" if view.options else ""
        kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
        body = view.definition.strip().rstrip(";")
        yield Origin("view", _bare(key)), f"CREATE {kind} {key}{options} AS\n{body}"


def _grants(catalog: Catalog) -> list[tuple[Origin, str]]:
    """One GRANT per object, column and grantee; functions whose EXECUTE PUBLIC lacks get the
    REVOKE the linter looks for (FSC312)."""
    from fraisec.render.quoting import quote_ident

    grouped: dict[tuple, list[str]] = {}
    for grant in catalog.grants:
        target = grant.target
        if target.kind == "function" or (target.kind in ("table", "view")
                                         and grant.privilege in _TABLE_PRIVILEGES):
            key = (target.kind, target.key, grant.column or "", grant.grantee)
            grouped.setdefault(key, []).append(grant.privilege)
    out: list[tuple[Origin, str]] = []
    public_execute: set[str] = set()
    for (kind, key, column, grantee), privileges in sorted(grouped.items()):
        privileges = sorted(set(privileges))
        who = "PUBLIC" if grantee == "public" else quote_ident(grantee)
        origin = Origin("grant", _bare(key), privileges=tuple(privileges), schema=_schema(key))
        if kind == "function":
            if grantee == "public" and "EXECUTE" in privileges:
                public_execute.add(key)
            out.append((origin, f"GRANT {', '.join(privileges)} ON FUNCTION {key} TO {who}"))
        else:
            cols = f" ({quote_ident(column)})" if column else ""
            listed = ", ".join(p + cols for p in privileges)
            out.append((origin, f"GRANT {listed} ON TABLE {key} TO {who}"))
    for key in sorted(set(catalog.function) - public_execute):
        out.append((Origin("function", _bare(key)), f"REVOKE ALL ON FUNCTION {key} FROM PUBLIC"))
    return out


def audit_catalog(catalog: Catalog, sources: Sequence[tuple[str, str]], config: LintConfig,
                  *, fallback_file: str, already: Iterable[Diagnostic] = ()) -> list[Diagnostic]:
    """Lint the catalog the migrations built; locate each finding in ``sources``.

    Args:
        catalog: the replayed migrations, introspected.
        sources: the migration files (and db/ files) as (name, text): where findings point.
        config: the same configuration the linter ran with.
        fallback_file: the location of a finding no source names (the migrations directory).
        already: the linter's findings on ``sources``; the same code on the same object is
            not reported again.
    """
    from fraisec.lint import lint_sql

    statements = catalog_statements(catalog)
    text, starts = _script(statements)
    resolver = _Resolver(sources, config)
    seen = [(d.code, d.location.file, d.location.line) for d in already
            if d.location is not None and d.location.line is not None]
    out: list[Diagnostic] = []
    for found in lint_sql([(CATALOG_FILE, text)], config):
        if found.code == "FSC300" or found.location is None or found.location.line is None:
            continue
        origin = statements[_statement_at(starts, found.location.line)][0]
        place, related_lines = resolver.locate(origin, found.code)
        if any(code == found.code and (file, line) in related_lines for code, file, line in seen):
            continue
        if place is not None and resolver.silenced(found.code, place, related_lines):
            continue
        out.append(replace(
            found, location=place or Location(file=fallback_file),
            message=f"{found.message} (found in the catalog the migrations build)", related=()))
    return _unique(out)


def _script(statements: list[tuple[Origin, str]]) -> tuple[str, list[int]]:
    parts, starts, line = [], [], 1
    for _origin, sql in statements:
        starts.append(line)
        parts.append(sql + ";\n")
        line += sql.count("\n") + 1
    return "".join(parts), starts


def _statement_at(starts: list[int], line: int) -> int:
    import bisect

    return max(bisect.bisect_right(starts, line) - 1, 0)


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diagnostics:
        key = (d.code, str(d.location), d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


class _Resolver:
    """Finds a catalog object's statements in the linted sources, by bare name."""

    def __init__(self, sources: Sequence[tuple[str, str]], config: LintConfig) -> None:
        from fraisec.lint.parse import build_model
        from fraisec.lint.source import SourceFile, Suppressions, split_statements

        statements = []
        self.suppressions = {}
        for name, text in sources:
            source = SourceFile(name, text)
            statements += split_statements(source)[0]
            self.suppressions[name] = Suppressions.scan(text)
        self.model: LintModel = build_model(statements, tuple(c.lower() for c in
                                                              config.tenant_columns))[0]

    def locate(self, origin: Origin, code: str) -> tuple[Location | None, set[tuple[str, int]]]:
        """(where to report, every (file, line) of a statement about the same subject)."""
        spans = self._subject_spans(origin)
        lines = {(s.stmt.file.name, n) for s in spans
                 for n in range(s.statement_lines[0], s.statement_lines[1] + 1)}
        best = self._best(origin, spans, code)
        return (best.location if best is not None else None), lines

    def silenced(self, code: str, place: Location, lines: set[tuple[str, int]]) -> bool:
        sup = self.suppressions.get(place.file)
        if sup is None:
            return False
        rows = sorted(n for f, n in lines if f == place.file)
        span = (rows[0], rows[-1]) if rows else None
        return sup.silences(code, place.line, span)

    def _subject_spans(self, origin: Origin) -> list[Span]:
        m = self.model
        subject = origin.table or origin.name
        if origin.kind == "function" or (origin.kind == "grant" and subject in m.function_by_name):
            return ([f.span for f in m.function_by_name.get(subject, [])]
                    + [a.span for a in m.function_alters if a.name == subject]
                    + [g.span for g in m.grants_on(self._grant_names(origin))])
        spans = [t.span for t in m.tables if t.name == subject]
        spans += [v.span for v in m.views if v.name == subject]
        spans += [o.span for o in m.view_options if o.name == subject]
        spans += [a.span for a in m.rls if a.table == subject]
        spans += [p.span for p in m.policies if p.table == subject]
        spans += [k.span for k in m.keys if k.table == subject]
        spans += [k.span for k in m.foreign_keys if k.table == subject]
        spans += [o.span for o in m.table_owners if o.table == subject]
        spans += [g.span for g in m.grants_on(self._grant_names(origin))]
        return spans

    @staticmethod
    def _grant_names(origin: Origin) -> list[str]:
        names = [origin.table or origin.name]
        return names + ([f"*{origin.schema}"] if origin.schema else [])

    def _best(self, origin: Origin, spans: list[Span], code: str) -> Span | None:
        """The statement that made the object; else the CREATE of the table it hangs off
        (a policy made by dynamic SQL is reported on its table); else None."""
        m = self.model
        if origin.kind == "grant":
            # The GRANT of what the rule objects to, else none: a grant made by dynamic SQL is
            # reported on the migrations directory, not on an innocent GRANT.
            wanted = (set(origin.privileges) & _FLAGGED.get(code, set())) | {"ALL"}
            grant = next((g.span for g in reversed(m.grants_on(self._grant_names(origin)))
                          if g.grant and wanted & set(g.privileges)), None)
            functions = m.function_by_name.get(origin.name, [])
            # EXECUTE left to PUBLIC by default has no GRANT: the function is the place.
            return grant or (functions[-1].span if functions else None)
        if origin.kind == "owner":
            return next((o.span for o in reversed(m.table_owners) if o.table == origin.name), None)
        if origin.kind == "function":
            functions = m.function_by_name.get(origin.name, [])
            return functions[-1].span if functions else None
        if origin.kind == "view":
            return next((v.span for v in reversed(m.views) if v.name == origin.name), None)
        preferred: list[Span] = []
        if origin.kind == "policy":
            preferred = [p.span for p in m.policies
                         if p.name == origin.name and p.table == origin.table]
        elif origin.kind == "foreign key":
            preferred = [k.span for k in m.foreign_keys if k.table == origin.table]
        elif origin.kind == "key":
            preferred = [k.span for k in m.keys if k.table == origin.table and k.unique]
        table = m.table_by_name.get(origin.table or origin.name)
        return preferred[-1] if preferred else (table.span if table is not None else None)
