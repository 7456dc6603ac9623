"""Cross-check hand-written SQL against the schema that names it as ``sql_source``.

A mutation's function must exist, take the mutation's arguments and then its injected ones in
the order the runtime passes them, and return ``mutation_response``; a query's view must exist,
return ``(id, data)``, carry a ``data`` key for every field of the type and a column for every
``inject`` key. The SQL objects come from two readers with one shape (``SqlObjects``):
``from_sql`` reads ``.sql`` text statically with sqlglot; ``from_catalog`` reads an introspected
database (a live one with ``validate --database``, or the shadow).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator

from fraisec.diagnostics import Diagnostic, Location, error
from fraisec.ir.model import Kind, Mutation, Query, Schema, TypeRef

# sqlglot logs a warning for every statement it only reads as a Command (CREATE POLICY, …).
logging.getLogger("sqlglot").setLevel(logging.ERROR)

if TYPE_CHECKING:
    from sqlglot import exp

    from fraisec.catalog.model import Catalog

# sqlglot (~0.2 s to import) is imported by the readers that parse, when there is SQL to parse.

__all__ = ["SqlFunction", "SqlObjects", "SqlView", "check_sql_sources", "checked_names",
           "from_catalog", "from_sql"]


@dataclass(frozen=True)
class SqlFunction:
    name: str
    params: tuple[tuple[str, str], ...]  # (name, type) in order
    returns: str | None
    location: Location | None = None
    # For the privileged contract: the CREATE FUNCTION's text (attributes and body), and the
    # owner when read from a database (None from files: privileged.sql sets it after db/).
    definition: str | None = None
    owner: str | None = None
    schema: str | None = None  # None: unqualified in the file


@dataclass(frozen=True)
class SqlView:
    name: str
    columns: tuple[str, ...]
    data_keys: frozenset[str] | None  # None when the data expression cannot be read
    location: Location | None = None


@dataclass
class SqlObjects:
    functions: dict[str, list[SqlFunction]] = field(default_factory=dict)
    views: dict[str, SqlView] = field(default_factory=dict)
    origin: str = "db/*.sql"

    def add_function(self, fn: SqlFunction) -> None:
        self.functions.setdefault(fn.name, []).append(fn)


def _bare(name: str) -> str:
    """``app.fn_x`` / ``"app"."fn_x"`` → ``fn_x``: sql_source may or may not be qualified."""
    return name.replace('"', "").rsplit(".", 1)[-1]


# -- readers --------------------------------------------------------------------------------

def from_sql(sources: Iterable[tuple[str, str]]) -> SqlObjects:
    """Functions and views created in ``.sql`` texts (file name, text), read with sqlglot."""
    sources = list(sources)
    objects = SqlObjects()
    if not sources:
        return objects
    import sqlglot
    from sqlglot import exp

    for filename, text in sources:
        try:
            statements = sqlglot.parse(text, read="postgres")
        except sqlglot.errors.SqlglotError:
            continue  # unreadable statically; the shadow database reads it instead
        for statement in statements:
            if isinstance(statement, exp.Create):
                _read_create(statement, filename, text, objects)
    return objects


def _read_create(statement: exp.Create, filename: str, text: str, objects: SqlObjects) -> None:
    from sqlglot import exp

    kind = str(statement.args.get("kind") or "").upper()
    target = statement.this
    if kind == "FUNCTION" and isinstance(target, exp.UserDefinedFunction):
        name = _bare(target.this.sql(dialect="postgres"))
        params = tuple((p.name, p.args["kind"].sql(dialect="postgres").lower())
                       for p in target.expressions if isinstance(p, exp.ColumnDef) and p.args.get("kind"))
        returns = statement.find(exp.ReturnsProperty)
        objects.add_function(SqlFunction(
            name, params, _bare(returns.this.sql(dialect="postgres")).lower() if returns and returns.this else None,
            _locate(filename, text, "FUNCTION", name), _statement_text(text, "FUNCTION", name),
            schema=_schema_of(target.this.sql(dialect="postgres"))))
    elif kind == "VIEW" and isinstance(statement.expression, exp.Select):
        name = _bare(target.sql(dialect="postgres"))
        select = statement.expression
        objects.views[name] = SqlView(name, tuple(e.alias_or_name for e in select.expressions),
                                      _data_keys(select), _locate(filename, text, "VIEW", name))


def from_catalog(catalog: Catalog, only: Iterable[str] | None = None) -> SqlObjects:
    """The same shape from an introspected database. ``only``: the names of the functions and
    views to read (each view is a parse; :func:`checked_names` gives those a check looks up);
    all when None."""
    objects = SqlObjects(origin="the database")
    wanted = None if only is None else set(only)
    for fn in catalog.function.values():
        if wanted is not None and fn.name not in wanted:
            continue
        objects.add_function(SqlFunction(fn.name, _identity_params(fn.identity_args),
                                         _bare(fn.result or "").lower() or None,
                                         definition=fn.definition, owner=fn.owner, schema=fn.schema))
    for view in catalog.view.values():
        if wanted is not None and view.name not in wanted:
            continue
        import sqlglot
        from sqlglot import exp

        try:
            select = sqlglot.parse_one(view.definition, read="postgres")
        except sqlglot.errors.SqlglotError:
            select = None
        keys = _data_keys(select) if isinstance(select, exp.Select) else None
        objects.views[view.name] = SqlView(view.name, tuple(view.columns), keys)
    return objects


def _identity_params(args: str) -> tuple[tuple[str, str], ...]:
    """``p_org_id uuid, p_email text`` (pg_get_function_identity_arguments) → pairs."""
    from fraisec.lint.sqlread import split_top_level

    params = []
    for part in filter(None, (args[a:b].strip() for a, b in split_top_level(args))):
        words = part.split()
        if words and words[0].upper() in ("IN", "INOUT", "VARIADIC"):
            words = words[1:]
        if len(words) >= 2:
            params.append((words[0].strip('"'), " ".join(words[1:]).lower()))
        elif words:
            params.append(("", words[0].lower()))
    return tuple(params)


def _data_keys(select: exp.Select) -> frozenset[str] | None:
    from sqlglot import exp

    for projection in select.expressions:
        if projection.alias_or_name != "data":
            continue
        call = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(call, exp.Anonymous) and call.name.lower() in ("jsonb_build_object", "json_build_object"):
            args = call.expressions
        elif isinstance(call, (exp.JSONObject, exp.JSONBObjectAgg)):
            args = call.expressions
        else:
            return None
        keys = [a.this for a in args[0::2] if isinstance(a, exp.Literal) and a.is_string]
        return frozenset(keys) if len(keys) * 2 == len(args) else None
    return None


def _locate(filename: str, text: str, kind: str, name: str) -> Location:
    pattern = re.compile(rf"CREATE\s+(?:OR\s+REPLACE\s+)?{kind}\s+(?:[\w\"]+\.)?\"?{re.escape(name)}\b",
                         re.IGNORECASE)
    match = pattern.search(text)
    line = text.count("\n", 0, match.start()) + 1 if match else None
    return Location(file=filename, line=line)


def _schema_of(name: str) -> str | None:
    parts = name.replace('"', "").rsplit(".", 1)
    return parts[0] if len(parts) == 2 else None


def _statement_text(text: str, kind: str, name: str) -> str | None:
    """The CREATE statement's text, through the end of its dollar-quoted body."""
    pattern = re.compile(rf"CREATE\s+(?:OR\s+REPLACE\s+)?{kind}\s+(?:[\w\"]+\.)?\"?{re.escape(name)}\b",
                         re.IGNORECASE)
    match = pattern.search(text)
    if match is None:
        return None
    quote = re.compile(r"\$([A-Za-z_]*)\$").search(text, match.end())
    if quote is None:
        return text[match.start():]
    close = text.find(quote.group(0), quote.end())
    end = text.find(";", close + len(quote.group(0))) if close >= 0 else -1
    return text[match.start(): end if end >= 0 else len(text)]


# -- checks ---------------------------------------------------------------------------------

# GraphQL scalar → PostgreSQL types a parameter may have for it.
_COMPATIBLE: dict[str, tuple[str, ...]] = {
    "ID": ("uuid",), "UUID": ("uuid",),
    "String": ("text", "varchar", "character varying", "citext", "char", "character"),
    "Int": ("integer", "int", "int4", "bigint", "int8", "smallint", "int2"),
    "Float": ("double precision", "float8", "real", "float4", "numeric", "decimal"),
    "Boolean": ("boolean", "bool"),
    "DateTime": ("timestamp with time zone", "timestamptz"),
    "Date": ("date",), "Json": ("jsonb", "json"),
}


def check_sql_sources(schema: Schema, objects: SqlObjects) -> list[Diagnostic]:
    """Diagnostics for hand-written sources (generated ones are fraisec's own and always agree)."""
    diagnostics: list[Diagnostic] = []
    for mutation in schema.mutations:
        if not mutation.generated:
            found = _candidates(schema, mutation, objects)
            name = _bare(mutation.sql_source)
            if mutation.privileged:
                name = f"{schema.settings.private_schema}.{name}"
            diagnostics += _check_function(mutation, found, objects.origin, name)
            diagnostics += _check_privilege(schema, mutation, found)
    for query in _hand_written_queries(schema):
        diagnostics += _check_view(schema, query, objects)
    return diagnostics


def checked_names(schema: Schema) -> set[str]:
    """The functions and views :func:`check_sql_sources` looks up (bare names)."""
    return ({_bare(m.sql_source) for m in schema.mutations if not m.generated}
            | {_bare(q.sql_source) for q in _hand_written_queries(schema) if q.sql_source})


def _hand_written_queries(schema: Schema) -> list[Query]:
    # Every view fraisec writes: the entity's, its trash, its filtered views (views={…}).
    generated_views = {name for t in schema.entities if t.entity
                       for name in (t.entity.view, f"{t.entity.view}_trash",
                                    *(f"{t.entity.view}_{suffix}" for suffix, _ in t.entity.views))}
    return [q for q in schema.queries if q.sql_source and _bare(q.sql_source) not in generated_views]


def _candidates(schema: Schema, mutation: Mutation, objects: SqlObjects) -> list[SqlFunction]:
    """The hand-written definitions of the mutation's function. A privileged one is written in
    the private schema (the API schema holds fraisec's entry point of the same name)."""
    found = objects.functions.get(_bare(mutation.sql_source)) or []
    if not mutation.privileged:
        return found
    return [f for f in found if f.schema == schema.settings.private_schema]


def _check_function(mutation: Mutation, candidates: list[SqlFunction], origin: str,
                    name: str) -> Iterator[Diagnostic]:
    if not candidates:
        yield error("FSC214", f"mutation '{mutation.name}' calls {name}(), which {origin} does not define",
                    mutation.location, hint=f"Write CREATE FUNCTION {name}(…) in db/, or fix sql_source.")
        return
    expected = [(a.name, a.type) for a in mutation.arguments] + \
               [(p.name, TypeRef(name="String", kind=Kind.SCALAR)) for p in mutation.inject]
    fn = candidates[-1]  # CREATE OR REPLACE: the last definition wins
    problem = _signature_problem(expected, fn.params, len(mutation.arguments))
    if problem:
        runtime_order = ", ".join(n for n, _ in expected)
        yield error("FSC215", f"{name}({', '.join(f'{n} {t}' for n, t in fn.params)}) does not match mutation "
                    f"'{mutation.name}': {problem}", fn.location or mutation.location,
                    hint=f"The runtime calls it with ({runtime_order}), in that order "
                         "(declared arguments, then injected ones).")
    if fn.returns is not None and fn.returns != "mutation_response":
        yield error("FSC216", f"{name}() returns {fn.returns}, not mutation_response", fn.location or mutation.location,
                    hint="Declare RETURNS mutation_response; the runtime decodes that type.")


# A pinned search_path: pg_catalog first, pg_temp named last (generated-sql.md, "search_path").
_PINNED = re.compile(r"SET\s+search_path\s*(?:=|TO)\s*'?pg_catalog'?\s*,\s*'?pg_temp'?(?!\s*,)", re.IGNORECASE)
_DEFINER = re.compile(r"\bSECURITY\s+DEFINER\b", re.IGNORECASE)
_TENANT_HELPERS = re.compile(r"\bfn_current_tenant_(?:pk|id)\s*\(", re.IGNORECASE)


def _check_privilege(schema: Schema, mutation: Mutation, candidates: list[SqlFunction]) -> Iterator[Diagnostic]:
    """Every privileged path is declared and narrow: a ``privileged=True`` function is SECURITY
    DEFINER with a pinned search_path, owned by the privileged role (read from a database), and
    finds its tenant through the context helpers; a definer function the schema does not
    declare privileged is refused."""
    if not candidates or candidates[-1].definition is None:
        return
    fn = candidates[-1]
    where = fn.location or mutation.location
    name = _bare(mutation.sql_source)
    definer = bool(_DEFINER.search(fn.definition))
    if not mutation.privileged:
        if definer:
            yield error("FSC253", f"{name}() is SECURITY DEFINER, and mutation '{mutation.name}' does not declare "
                        "a privileged path", where,
                        hint="Make it SECURITY INVOKER (RLS decides), or declare @fq.mutation(…, privileged=True) "
                             "and the commands it needs with @fq.entity(privileged=(…)).")
        return
    role = _privileged_role(schema)
    if not definer or not _PINNED.search(fn.definition):
        yield error("FSC251", f"{name}() of privileged mutation '{mutation.name}' must be SECURITY DEFINER with "
                    "SET search_path = pg_catalog, pg_temp", where,
                    hint="A definer resolving names through the caller's search_path runs the caller's objects "
                         "with its rights; pin pg_catalog first and pg_temp last, and qualify every relation.")
    elif fn.owner is not None and fn.owner != role:
        yield error("FSC251", f"{name}() of privileged mutation '{mutation.name}' is owned by {fn.owner}, not {role}",
                    where, hint=f"Apply privileged.sql (fraisec compile writes it) after db/, as a member of {role}.")
    if not _TENANT_HELPERS.search(_body(fn.definition)):
        yield error("FSC252", f"{name}() of privileged mutation '{mutation.name}' does not read the tenant with "
                    "fn_current_tenant_pk() (or fn_current_tenant_id())", where,
                    hint="The privileged role crosses tenants: filter every row by the helper's tenant, which "
                         "is the caller's only after the membership check.")


def _privileged_role(schema: Schema) -> str:
    from fraisec.render.model import Model

    return Model(schema).privileged_role


def _body(definition: str) -> str:
    """The dollar-quoted body (comments dropped), or the whole text when there is none."""
    quote = re.search(r"\$([A-Za-z_]*)\$", definition)
    body = definition
    if quote is not None:
        close = definition.find(quote.group(0), quote.end())
        body = definition[quote.end(): close if close >= 0 else len(definition)]
    return re.sub(r"--[^\n]*", "", body)


def _signature_problem(expected: list[tuple[str, TypeRef]], params: tuple[tuple[str, str], ...],
                       declared: int) -> str | None:
    if len(params) != len(expected):
        return f"it takes {len(params)} parameters, the mutation passes {len(expected)}"
    for position, ((arg, ref), (param, sql_type)) in enumerate(zip(expected, params), start=1):
        if param and param.removeprefix("p_") != arg:
            return f"parameter {position} is '{param}' but argument {position} is '{arg}'"
        allowed = _COMPATIBLE.get(ref.name) if position <= declared else None
        if allowed and not ref.is_list and sql_type not in allowed:
            return f"parameter '{param or position}' is {sql_type}, argument '{arg}' is {ref.name}"
    return None


def _check_view(schema: Schema, query: Query, objects: SqlObjects) -> Iterator[Diagnostic]:
    name = _bare(query.sql_source or "")
    view = objects.views.get(name)
    if view is None:
        yield error("FSC217", f"query '{query.name}' reads {name}, which {objects.origin} does not define",
                    query.location, hint=f"Write CREATE VIEW {name} … in db/, or fix sql_source.")
        return
    where = view.location or query.location
    if not {"id", "data"} <= set(view.columns):
        yield error("FSC218", f"view {name} returns ({', '.join(view.columns)}), not (id, data)", where,
                    hint="A v_ view returns `id` (uuid) and `data` (jsonb), plus any inject columns.")
    target = schema.type(query.return_type.name)
    if target is not None and view.data_keys is not None:
        missing = [f.name for f in target.fields if f.name not in view.data_keys]
        if missing:
            yield error("FSC219", f"view {name}'s data lacks keys for {target.name} fields: {', '.join(missing)}",
                        where, hint="Add them to jsonb_build_object (snake_case keys).")
    for param in query.inject:
        if param.name not in view.columns and (view.data_keys is None or param.name not in view.data_keys):
            yield error("FSC220", f"query '{query.name}' injects '{param.name}', but view {name} has no such "
                        "column", where, hint=f"Expose `{param.name}` as a column of the view.")
