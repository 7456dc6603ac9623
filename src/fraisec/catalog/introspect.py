"""Introspect a live database into a :class:`~fraisec.catalog.model.Catalog`.

Interface (stable, used by the diff and migrations stages)::

    introspect(conn: psycopg.Connection) -> Catalog
    introspect_url(url: str) -> Catalog          # connects, introspects, closes
    QUERY_COUNT                                   # queries per introspection (fixed)

All queries run in one read-only REPEATABLE READ transaction with an empty ``search_path``, so
every name PostgreSQL prints (types, view bodies, defaults) is schema-qualified the same way on
both sides of a diff. The number of queries is fixed: one per object kind (see
:mod:`fraisec.catalog.queries`), never one per table.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import defaultdict
from operator import itemgetter
from typing import Any, Iterable, Iterator

import psycopg
from psycopg.rows import dict_row, tuple_row

from fraisec.catalog import queries
from fraisec.catalog.model import (
    Catalog, Collation, Column, Comment, Composite, CompositeAttr, Constraint, DefaultPrivilege,
    Dependency, Domain,
    Enum, EventTrigger, Extension, ForeignDataWrapper, ForeignServer, Function, Grant, Index, ObjRef, Policy, Publication,
    PublishedTable, Range, Rule, Schema, SeqOptions, Sequence, Table, Trigger, Unsupported,
    UserMapping, View,
)
from fraisec.catalog.options import options as fdw_options
from fraisec.render.quoting import quote_ident, qualified

__all__ = ["QUERY_COUNT", "IntrospectionError", "introspect", "introspect_url"]

QUERY_COUNT = len(queries.QUERY_NAMES)  # plus 4 statements of transaction set-up and end

Row = dict[str, Any]
OidMap = dict[tuple[str, int], ObjRef]


class IntrospectionError(RuntimeError):
    """A catalog query failed (a bug, or a PostgreSQL version we do not support)."""


def introspect_url(url: str) -> Catalog:
    with psycopg.connect(url, autocommit=True) as conn:
        return introspect(conn)


def introspect(conn: psycopg.Connection) -> Catalog:
    """Read the whole user schema of the connected database in :data:`QUERY_COUNT` queries."""
    rows = _Results()
    # The queries run in a thread of their own while this one builds the models from the
    # results already in: PostgreSQL works on the next query while Python converts the last
    # one's rows (the thread waits on the server with the GIL released).
    reader = threading.Thread(target=_run_queries, args=(conn, rows), daemon=True,
                              name="fraisec-introspect")
    reader.start()
    try:
        return _Builder(rows).build()
    finally:
        rows.abandon()
        reader.join()  # the connection is the caller's again only once the thread is done


# The big results: tuple rows (no dict per row), made Python objects in batches while the models
# are built, so they are never all in memory as Python objects at once (libpq keeps them
# compactly until then).
_STREAMED = frozenset({"columns", "constraints", "indexes", "depends"})


class _Stream:
    """A big result: its rows as tuples, and each column's position by name."""

    def __init__(self, cur: psycopg.Cursor) -> None:
        self.position = {column.name: i for i, column in enumerate(cur.description or ())}
        self.rows = _chunked(cur)

    def fields(self, *names: str) -> Iterator[tuple]:
        """The rows, each as a tuple of the named columns (in that order)."""
        return map(itemgetter(*(self.position[name] for name in names)), self.rows)


class _Results:
    """Query results by name, handed from the reading thread to the builder as they arrive."""

    def __init__(self) -> None:
        self._ready: dict[str, Iterable] = {}
        self._error: BaseException | None = None
        self._abandoned = False
        self._finished = False
        self._cond = threading.Condition()

    def put(self, name: str, result: Iterable) -> None:
        with self._cond:
            self._ready[name] = result
            self._cond.notify_all()

    def fail(self, error: BaseException) -> None:
        with self._cond:
            self._error = error
            self._cond.notify_all()

    def finish(self) -> None:
        """The reader is done: a result not handed on by now never will be."""
        with self._cond:
            self._finished = True
            self._cond.notify_all()

    @property
    def abandoned(self) -> bool:
        return self._abandoned

    def abandon(self) -> None:
        """The builder is done (or failed): the reader stops after its current query."""
        with self._cond:
            self._abandoned = True

    def __getitem__(self, name: str) -> Iterable:
        with self._cond:
            while name not in self._ready:
                if self._error is not None:
                    raise self._error
                if self._finished:
                    raise KeyError(f"no catalog query named {name!r}")
                self._cond.wait()
            return self._ready[name]

    def pop(self, name: str) -> Iterable:
        """The result, forgotten here (a big result is freed as soon as it has been built)."""
        self[name]  # waits for it
        with self._cond:
            return self._ready.pop(name)


def _chunked(cur: psycopg.Cursor) -> Iterator[Any]:
    """A streamed result's rows, made Python objects a few thousand at a time (psycopg does a
    batch in C; one ``next(cursor)`` per row costs more than building the row's model)."""
    while rows := cur.fetchmany(4096):
        yield from rows


def _run_queries(conn: psycopg.Connection, results: _Results) -> None:
    """Run every catalog query in one read-only snapshot, handing each result on as it comes."""
    previous = conn.autocommit
    try:
        conn.autocommit = True
        conn.execute("begin isolation level repeatable read read only")
        try:
            conn.execute("set local search_path = ''")
            # Catalog joins in memory, and no parallel workers: starting them costs more than
            # these scans of a few thousand rows save, and they take the CPU the other side of a
            # diff (and this process) need. One statement, so the count of statements stays put.
            conn.execute("select set_config('work_mem', '64MB', true), "
                         "set_config('max_parallel_workers_per_gather', '0', true)")
            for name in queries.QUERY_NAMES:
                if results.abandoned:
                    break
                cur = conn.cursor(row_factory=tuple_row if name in _STREAMED else dict_row)
                try:
                    cur.execute(queries.load(name))
                except psycopg.Error as exc:
                    raise IntrospectionError(f"catalog query {name}.sql failed: {exc}") from exc
                results.put(name, _Stream(cur) if name in _STREAMED else cur.fetchall())
        finally:
            conn.execute("rollback")
    except BaseException as exc:  # noqa: BLE001 - handed to the builder's thread, raised there
        results.fail(exc)
    finally:
        results.finish()
        conn.autocommit = previous


def _seq_options(row: Row) -> SeqOptions:
    return SeqOptions(type=row["type"], start=row["start"], increment=row["increment"],
                      min=row["min"], max=row["max"], cache=row["cache"], cycle=row["cycle"])


class _Builder:
    """Turns query rows into models; resolves oids to :class:`ObjRef` for edges and metadata."""

    def __init__(self, rows: _Results) -> None:
        self.rows = rows
        self.oids: OidMap = {}
        self.columns_by_attnum: dict[int, dict[int, str]] = defaultdict(dict)

    def _ref(self, classid: str, oid: int, ref: ObjRef) -> ObjRef:
        self.oids[(classid, oid)] = ref
        return ref

    def build(self) -> Catalog:
        r = self.rows
        session = r["session"][0]
        schemas = {quote_ident(x["name"]): Schema(x["name"], x["owner"]) for x in r["schemas"]}
        for x in r["schemas"]:
            self._ref("pg_namespace", x["oid"], ObjRef("schema", quote_ident(x["name"])))
        extensions = {}
        for x in r["extensions"]:
            key = quote_ident(x["name"])
            extensions[key] = Extension(x["name"], x["schema"], x["version"], x["relocatable"])
            self._ref("pg_extension", x["oid"], ObjRef("extension", key))
        fdws, servers, user_mappings = self._foreign()
        collations = {}
        for x in r["collations"]:
            key = qualified(x["schema"], x["name"])
            props = tuple(sorted((k, json.dumps(v)) for k, v in x["props"].items()))
            collations[key] = Collation(x["schema"], x["name"], props)
            self._ref("pg_collation", x["oid"], ObjRef("collation", key))
        enums = {}
        for x in r["enums"]:
            key = qualified(x["schema"], x["name"])
            enums[key] = Enum(x["schema"], x["name"], x["owner"], tuple(x["labels"]))
            self._ref("pg_type", x["oid"], ObjRef("enum", key))
        composites = {}
        for x in r["composites"]:
            key = qualified(x["schema"], x["name"])
            attrs = tuple(CompositeAttr(a["name"], a["type"], a["collation"]) for a in x["attributes"])
            composites[key] = Composite(x["schema"], x["name"], x["owner"], attrs)
            ref = self._ref("pg_type", x["oid"], ObjRef("composite", key))
            self.oids[("pg_class", x["relid"])] = ref  # its attributes' edges start there
        ranges = {}
        for x in r["ranges"]:
            key = qualified(x["schema"], x["name"])
            ranges[key] = Range(x["schema"], x["name"], x["owner"], x["definition"])
            ref = self._ref("pg_type", x["oid"], ObjRef("range", key))
            self.oids[("pg_type", x["multirange_oid"])] = ref  # made with it, goes with it
        domains = {}
        for x in r["domains"]:
            key = qualified(x["schema"], x["name"])
            cons = tuple((c["name"], c["definition"]) for c in x["constraints"])
            domains[key] = Domain(x["schema"], x["name"], x["owner"], x["base_type"], x["not_null"],
                                  x["default_expr"], x["collation"], cons)
            self._ref("pg_type", x["oid"], ObjRef("domain", key))
        tables = self._tables()
        sequences, identity = self._sequences(tables)
        tables = self._attach_columns(tables, identity)
        constraints = self._constraints(tables)
        views = self._views()
        indexes = self._indexes()
        functions, unsupported_fns = self._functions()
        triggers = self._on_table("triggers", "trigger", "pg_trigger", lambda x, t: Trigger(
            t, x["name"], x["definition"], x["enabled"]))
        policies = self._on_table("policies", "policy", "pg_policy", lambda x, t: Policy(
            t, x["name"], x["permissive"], x["command"], tuple(x["roles"]), x["using_expr"],
            x["check_expr"]))
        rules = self._on_table("rules", "rule", "pg_rewrite", lambda x, t: Rule(
            t, x["name"], x["definition"], x["enabled"]))
        publications = self._publications()
        event_triggers = self._event_triggers()
        grants = frozenset(self._grants())
        default_privileges = frozenset(
            DefaultPrivilege(x["role"], x["schema"], x["objtype"], x["grantee"], x["privilege"],
                             x["grantable"]) for x in r["default_privileges"])
        comments = self._comments()
        dependencies = self._dependencies()
        # Last, as it is the last query: everything else is built while it runs.
        unsupported = tuple(Unsupported(x["kind"], x["identity"], x["definition"])
                            for x in r["unsupported"])
        return Catalog(
            schema=schemas, extension=extensions, fdw=fdws, server=servers,
            user_mapping=user_mappings, collation=collations, enum=enums,
            composite=composites, range=ranges, domain=domains, sequence=sequences,
            table={k: v for k, v in tables.items()}, constraint=constraints, index=indexes,
            function=functions, view=views, trigger=triggers, policy=policies, rule=rules,
            publication=publications, event_trigger=event_triggers, grants=grants,
            default_privileges=default_privileges, comments=comments, dependencies=dependencies,
            unsupported=unsupported + unsupported_fns,
            current_user=session["current_user"], server_version=session["server_version"],
            query_count=QUERY_COUNT,
        )

    def _foreign(self) -> tuple[dict, dict, dict]:
        """Foreign-data wrappers, servers and user mappings (secret option values as digests)."""
        fdws, servers, mappings = {}, {}, {}
        for x in self.rows["foreign_data_wrappers"]:
            key = quote_ident(x["name"])
            fdws[key] = ForeignDataWrapper(x["name"], x["owner"], x["handler"], x["validator"],
                                           fdw_options(x["options"]))
            self._ref("pg_foreign_data_wrapper", x["oid"], ObjRef("fdw", key))
        for x in self.rows["foreign_servers"]:
            key = quote_ident(x["name"])
            servers[key] = ForeignServer(x["name"], x["owner"], x["fdw"], x["type"], x["version"],
                                         fdw_options(x["options"]))
            self._ref("pg_foreign_server", x["oid"], ObjRef("server", key))
        for x in self.rows["user_mappings"]:
            mapping = UserMapping(x["server"], x["user"], fdw_options(x["options"]))
            mappings[mapping.key] = mapping
            self._ref("pg_user_mapping", x["oid"], ObjRef("user_mapping", mapping.key))
        return fdws, servers, mappings

    # -- relations ------------------------------------------------------------------------
    def _tables(self) -> dict[int, Row]:
        by_oid = {}
        for x in self.rows["tables"]:
            key = qualified(x["schema"], x["name"])
            self._ref("pg_class", x["oid"], ObjRef("table", key))
            by_oid[x["oid"]] = {**x, "key": key}
        return by_oid

    def _sequences(self, tables: dict[int, Row]) -> tuple[dict[str, Sequence], dict[tuple[int, str], tuple[str, SeqOptions]]]:
        sequences: dict[str, Sequence] = {}
        identity: dict[tuple[int, str], tuple[str, SeqOptions]] = {}
        for x in self.rows["sequences"]:
            key = qualified(x["schema"], x["name"])
            opts = _seq_options(x)
            if x["owned_deptype"] == "i":
                # An identity column's sequence belongs to the column: it is not an object of its own.
                identity[(x["owned_table_oid"], x["owned_column"])] = (key, opts)
                table = tables.get(x["owned_table_oid"])
                if table:
                    self._ref("pg_class", x["oid"], ObjRef("table", table["key"]))
                continue
            owned = None
            if x["owned_deptype"] == "a" and x["owned_table_oid"] in tables:
                owned = (tables[x["owned_table_oid"]]["key"], x["owned_column"])
            sequences[key] = Sequence(x["schema"], x["name"], x["owner"], opts, owned,
                                      x["persistence"] == "u")
            self._ref("pg_class", x["oid"], ObjRef("sequence", key))
        return sequences, identity

    def _attach_columns(self, tables: dict[int, Row], identity: dict) -> dict[str, Table]:
        cols: dict[int, list[Column]] = defaultdict(list)
        by_attnum = self.columns_by_attnum
        rows = self.rows.pop("columns").fields(
            "table_oid", "num", "name", "type", "not_null", "default_expr", "generated_expr",
            "identity", "collation", "is_local", "fdw_options")
        intern = sys.intern  # the same names, types and defaults recur in table after table
        for table_oid, num, name, type_, not_null, default, generated, ident, collation, \
                is_local, options in rows:
            name, type_ = intern(name), intern(type_)
            default = default and intern(default)
            by_attnum[table_oid][num] = name
            cols[table_oid].append(Column(
                name=name, type=type_, not_null=not_null, default=default, generated=generated,
                identity=ident, identity_sequence=identity.get((table_oid, name)),
                collation=collation, is_local=is_local, fdw_options=fdw_options(options),
            ))
        result = {}
        for oid, x in tables.items():
            parents = [tables[p]["key"] for p in x["parents"] if p in tables]
            partition_of = parents[0] if x["is_partition"] and parents else None
            result[x["key"]] = Table(
                schema=x["schema"], name=x["name"], kind=x["kind"], owner=x["owner"],
                unlogged=x["persistence"] == "u", rls_enabled=x["rls_enabled"],
                rls_forced=x["rls_forced"], partition_key=x["partition_key"],
                partition_of=partition_of, partition_bound=x["partition_bound"],
                inherits=() if partition_of else tuple(parents), options=tuple(x["options"]),
                columns=tuple(cols.get(oid, ())), server=x["server"],
                fdw_options=fdw_options(x["fdw_options"]),
            )
        return result

    def _table_key(self, oid: int) -> str | None:
        ref = self.oids.get(("pg_class", oid))
        return ref.key if ref and ref.kind in ("table", "view") else None

    def _constraints(self, tables: dict[str, Table]) -> dict[str, Constraint]:
        result = {}
        rows = self.rows.pop("constraints").fields(
            "oid", "table_oid", "name", "type", "definition", "is_local", "index_oid")
        for oid, table_oid, name, type_, definition, is_local, index_oid in rows:
            tkey = self._table_key(table_oid)
            if tkey is None:
                continue
            key = f"{tkey}.{quote_ident(name)}"
            result[key] = Constraint(tkey, name, type_, definition, is_local, tables[tkey].schema)
            ref = self._ref("pg_constraint", oid, ObjRef("constraint", key))
            if type_ in ("p", "u", "x") and index_oid:
                # The index behind a constraint is the constraint, for edges and comments.
                self.oids[("pg_class", index_oid)] = ref
        return result

    def _indexes(self) -> dict[str, Index]:
        result = {}
        rows = self.rows.pop("indexes").fields(
            "oid", "schema", "name", "table_oid", "definition", "is_constraint", "parent_index_oid")
        for oid, schema, name, table_oid, definition, is_constraint, parent_index_oid in rows:
            if is_constraint:
                continue
            tkey = self._table_key(table_oid)
            if tkey is None:
                continue
            key = qualified(schema, name)
            result[key] = Index(schema, name, tkey, definition, parent_index_oid is not None)
            self._ref("pg_class", oid, ObjRef("index", key))
        return result

    def _views(self) -> dict[str, View]:
        result = {}
        for x in self.rows["views"]:
            key = qualified(x["schema"], x["name"])
            result[key] = View(x["schema"], x["name"], x["kind"] == "m", x["owner"],
                               x["definition"], tuple(x["options"]), tuple(x["columns"]))
            self._ref("pg_class", x["oid"], ObjRef("view", key))
            for i, col in enumerate(x["columns"], start=1):
                self.columns_by_attnum[x["oid"]][i] = col
        return result

    def _functions(self) -> tuple[dict[str, Function], tuple[Unsupported, ...]]:
        result = {}
        for x in self.rows["functions"]:
            if x["kind"] not in ("f", "p", "a", "w"):
                continue
            key = x["signature"]
            result[key] = Function(x["schema"], x["name"], x["kind"], x["owner"],
                                   x["identity_args"], x["result"], x["definition"],
                                   x["arguments"])
            self._ref("pg_proc", x["oid"], ObjRef("function", key))
        return result, ()

    def _on_table(self, query: str, kind: str, classid: str, make) -> dict:
        result = {}
        for x in self.rows[query]:
            tkey = self._table_key(x["table_oid"])
            if tkey is None:
                continue
            key = f"{tkey}.{quote_ident(x['name'])}"
            result[key] = make(x, tkey)
            self._ref(classid, x["oid"], ObjRef(kind, key))
        return result

    def _publications(self) -> dict[str, Publication]:
        result = {}
        for x in self.rows["publications"]:
            key = quote_ident(x["name"])
            ref = self._ref("pg_publication", x["oid"], ObjRef("publication", key))
            tables = []
            for t in x["tables"]:
                # A membership row's edges (to its table and columns) are the publication's.
                self.oids[("pg_publication_rel", int(t["oid"]))] = ref  # json: a string
                tables.append(PublishedTable(t["table"], tuple(t["columns"]) if t["columns"] else None,
                                             t["where"]))
            for s in x["schemas"]:
                self.oids[("pg_publication_namespace", int(s["oid"]))] = ref
            result[key] = Publication(
                x["name"], x["owner"], x["all_tables"], tuple(x["publish"]), x["via_root"],
                tuple(tables), tuple(s["schema"] for s in x["schemas"]))
        return result

    def _event_triggers(self) -> dict[str, EventTrigger]:
        result = {}
        for x in self.rows["event_triggers"]:
            key = quote_ident(x["name"])
            result[key] = EventTrigger(x["name"], x["owner"], x["event"], tuple(x["tags"]),
                                       x["function"], x["enabled"])
            self._ref("pg_event_trigger", x["oid"], ObjRef("event_trigger", key))
        return result

    # -- metadata and edges ---------------------------------------------------------------
    def _column_name(self, oid: int, subid: int) -> str | None:
        return self.columns_by_attnum.get(oid, {}).get(subid) if subid else None

    def _grants(self) -> Iterable[Grant]:
        for x in self.rows["grants"]:
            ref = self.oids.get((x["classid"], x["objid"]))
            if ref is None:
                continue
            yield Grant(ref, self._column_name(x["objid"], x["objsubid"]), x["grantee"],
                        x["privilege"], x["grantable"])

    def _comments(self) -> dict:
        result = {}
        for x in self.rows["comments"]:
            ref = self.oids.get((x["classid"], x["objid"]))
            if ref is None:
                continue
            column = self._column_name(x["objid"], x["objsubid"])
            result[(ref, column)] = Comment(ref, column, x["description"])
        return result

    def _dependencies(self) -> tuple[Dependency, ...]:
        """The edges between catalog objects, each once, sorted."""
        intern = sys.intern
        oids = self.oids
        # Keyed (and so deduplicated and sorted) by plain strings: hashing and comparing the
        # dataclasses themselves is several times slower, and an edge can come more than once.
        edges: dict[tuple[str, str, str, str, str, str], Dependency] = {}
        rows = self.rows.pop("depends").fields(
            "classid", "objid", "refclassid", "refobjid", "deptype", "column_name",
            "ref_column_name", "ref_extension_oid")
        for classid, objid, refclassid, refobjid, deptype, column, ref_column, ext_oid in rows:
            dep = oids.get((classid, objid))
            ref = oids.get(("pg_extension", ext_oid) if ext_oid else (refclassid, refobjid))
            if dep is None or ref is None or dep == ref:
                continue
            if dep.kind == "sequence" and deptype == "a":
                continue  # OWNED BY: recorded on the sequence, not an ordering edge
            key = (dep.kind, dep.key, ref.kind, ref.key, column or "", ref_column or "")
            if key not in edges:
                edges[key] = Dependency(dep, ref, column and intern(column),
                                        ref_column and intern(ref_column))
        return tuple(edges[key] for key in sorted(edges))
