"""SQL text for each catalog operation: create, drop and alter statements per object kind.

Pure functions from frozen catalog models to statements (without the trailing ``;``, which the
script renderer adds). Every identifier and literal is quoted by :mod:`fraisec.render.quoting`;
definitions taken from PostgreSQL's own deparse (``pg_get_*def``) are used as PostgreSQL printed
them.
"""

from __future__ import annotations

import json

from fraisec.catalog.model import (
    Collation, Column, Comment, Composite, Constraint, DefaultPrivilege, Domain, Enum,
    EventTrigger, Extension,
    Function, Grant, Index, ObjRef, Policy, Publication, Rule, SeqOptions, Sequence, Table,
    Trigger, View,
)
from fraisec.render import foreign
from fraisec.render.quoting import qualified, quote_ident, quote_literal

__all__ = [
    "alter_column", "alter_composite", "alter_domain", "alter_enum", "alter_extension",
    "alter_sequence_options", "column_definition", "comment_statement", "create", "drop",
    "grant_statement", "grant_statements", "index_sql", "object_sql_name", "owner_statement",
    "rls_statements", "sequence_options_sql", "sequence_owned_by", "trigger_enable",
    "rule_enable", "event_trigger_enable", "alter_publication", "default_privilege_statements",
]


# -- naming ---------------------------------------------------------------------------------
def _on_table(table_key: str, name: str) -> str:
    return f"{quote_ident(name)} ON {table_key}"


def object_sql_name(ref: ObjRef, obj: object) -> tuple[str, str]:
    """(keyword, name) as used by COMMENT ON / ALTER … OWNER TO / GRANT for this object."""
    kind = ref.kind
    if kind == "schema":
        return "SCHEMA", ref.key
    if kind == "extension":
        return "EXTENSION", ref.key
    if kind == "fdw":
        return "FOREIGN DATA WRAPPER", ref.key
    if kind == "server":
        return "SERVER", ref.key
    if kind == "user_mapping":
        return "USER MAPPING", ref.key  # the key is "FOR role SERVER name"
    if kind in ("enum", "composite", "range"):
        return "TYPE", ref.key
    if kind == "domain":
        return "DOMAIN", ref.key
    if kind == "collation":
        return "COLLATION", ref.key
    if kind == "sequence":
        return "SEQUENCE", ref.key
    if kind == "table":
        return ("FOREIGN TABLE" if obj.is_foreign else "TABLE"), ref.key  # type: ignore[attr-defined]
    if kind == "index":
        return "INDEX", ref.key
    if kind == "view":
        return ("MATERIALIZED VIEW" if obj.materialized else "VIEW"), ref.key  # type: ignore[attr-defined]
    if kind == "function":
        fn: Function = obj  # type: ignore[assignment]
        if fn.is_aggregate:  # DROP/COMMENT ON/ALTER AGGREGATE name(*) or (direct ORDER BY args)
            return "AGGREGATE", f"{qualified(fn.schema, fn.name)}({fn.identity_args or '*'})"
        word = "PROCEDURE" if fn.is_procedure else "FUNCTION"
        return word, f"{qualified(fn.schema, fn.name)}({fn.identity_args})"
    if kind == "constraint":
        con: Constraint = obj  # type: ignore[assignment]
        return "CONSTRAINT", _on_table(con.table, con.name)
    if kind == "trigger":
        return "TRIGGER", _on_table(obj.table, obj.name)  # type: ignore[attr-defined]
    if kind == "policy":
        return "POLICY", _on_table(obj.table, obj.name)  # type: ignore[attr-defined]
    if kind == "rule":
        return "RULE", _on_table(obj.table, obj.name)  # type: ignore[attr-defined]
    if kind == "publication":
        return "PUBLICATION", ref.key
    if kind == "event_trigger":
        return "EVENT TRIGGER", ref.key
    raise ValueError(f"no SQL name for {ref}")


# -- create ---------------------------------------------------------------------------------
def sequence_options_sql(o: SeqOptions, *, with_type: bool = True) -> str:
    parts = [f"AS {o.type}"] if with_type else []
    parts += [f"INCREMENT BY {o.increment}", f"MINVALUE {o.min}", f"MAXVALUE {o.max}",
              f"START WITH {o.start}", f"CACHE {o.cache}", "CYCLE" if o.cycle else "NO CYCLE"]
    return " ".join(parts)


def column_definition(col: Column) -> str:
    parts = [quote_ident(col.name), col.type]
    if col.fdw_options:  # a foreign table's column: OPTIONS come right after the type
        parts.append(foreign.create_options(col.fdw_options).strip())
    if col.collation:
        parts.append(f"COLLATE {col.collation}")
    if col.generated is not None:
        parts.append(f"GENERATED ALWAYS AS ({col.generated}) STORED")
    elif col.identity:
        parts.append(_identity_clause(col))
    elif col.default is not None:
        parts.append(f"DEFAULT {col.default}")
    if col.not_null and not col.identity:
        parts.append("NOT NULL")
    return " ".join(parts)


def _identity_clause(col: Column) -> str:
    word = "ALWAYS" if col.identity == "a" else "BY DEFAULT"
    clause = f"GENERATED {word} AS IDENTITY"
    if col.identity_sequence:
        seq_key, opts = col.identity_sequence
        # The identity sequence's type is the column's: AS is not accepted here.
        clause += f" (SEQUENCE NAME {seq_key} {sequence_options_sql(opts, with_type=False)})"
    return clause


def _create_table(t: Table) -> list[str]:
    word = "FOREIGN TABLE" if t.is_foreign else "TABLE"
    head = f"CREATE {'UNLOGGED ' if t.unlogged else ''}{word} {t.key}"
    if t.partition_of:
        body = f"{head} PARTITION OF {t.partition_of} {t.partition_bound}"
    else:
        cols = [column_definition(c) for c in t.columns if c.is_local]
        body = f"{head} (" + (
            "\n    " + ",\n    ".join(cols) + "\n" if cols else "") + ")"
        if t.inherits:
            body += f" INHERITS ({', '.join(t.inherits)})"
    if t.is_foreign:
        body += foreign.foreign_table_tail(t)
    if t.partition_key:
        body += f" PARTITION BY {t.partition_key}"
    if t.options:
        body += f" WITH ({', '.join(t.options)})"
    out = [body]
    if t.partition_of or t.inherits:
        # Defaults, NOT NULL and identity declared on the child beyond what it inherits.
        out += [f"ALTER TABLE {t.key} {sub}" for c in t.columns if not c.is_local
                for sub in _inherited_column_extras(c)]
    out += rls_statements(t, None)
    return out


def _inherited_column_extras(c: Column) -> list[str]:
    subs = []
    if c.default is not None:
        subs.append(f"ALTER COLUMN {quote_ident(c.name)} SET DEFAULT {c.default}")
    return subs


def rls_statements(new: Table, old: Table | None) -> list[str]:
    out = []
    old_enabled = old.rls_enabled if old else False
    old_forced = old.rls_forced if old else False
    if new.rls_enabled != old_enabled:
        out.append(f"ALTER TABLE {new.key} {'ENABLE' if new.rls_enabled else 'DISABLE'} ROW LEVEL SECURITY")
    if new.rls_forced != old_forced:
        out.append(f"ALTER TABLE {new.key} {'' if new.rls_forced else 'NO '}FORCE ROW LEVEL SECURITY")
    return out


def _collation_props(c: Collation) -> dict:
    return {k: json.loads(v) for k, v in c.props}


def _create_collation(key: str, c: Collation) -> str:
    p = _collation_props(c)
    provider = {"i": "icu", "c": "libc", "d": "libc"}.get(p.get("collprovider"), "libc")
    opts = [f"provider = {provider}"]
    if provider == "icu":
        locale = p.get("colliculocale") or p.get("colllocale") or p.get("collcollate")
        opts.append(f"locale = {quote_literal(locale)}")
    else:
        opts.append(f"lc_collate = {quote_literal(p.get('collcollate'))}")
        opts.append(f"lc_ctype = {quote_literal(p.get('collctype'))}")
    if p.get("collisdeterministic") is False:
        opts.append("deterministic = false")
    return f"CREATE COLLATION {key} ({', '.join(opts)})"


def _create_view(v: View) -> str:
    word = "MATERIALIZED VIEW" if v.materialized else "VIEW"
    with_opts = f" WITH ({', '.join(v.options)})" if v.options else ""
    body = v.definition.strip().rstrip(";")
    tail = " WITH DATA" if v.materialized else ""
    return f"CREATE {word} {qualified(v.schema, v.name)}{with_opts} AS\n{body}{tail}"


def _policy_sql(p: Policy) -> str:
    roles = ", ".join("PUBLIC" if r == "public" else quote_ident(r) for r in p.roles) or "PUBLIC"
    sql = (f"CREATE POLICY {_on_table(p.table, p.name)} AS "
           f"{'PERMISSIVE' if p.permissive else 'RESTRICTIVE'} FOR {p.command} TO {roles}")
    if p.using is not None:
        sql += f" USING ({p.using})"
    if p.check is not None:
        sql += f" WITH CHECK ({p.check})"
    return sql


def _trigger_sql(t: Trigger) -> list[str]:
    out = [t.definition]
    if t.enabled != "O":
        out.append(trigger_enable(t))
    return out


def trigger_enable(t: Trigger) -> str:
    word = {"O": "ENABLE", "D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}[t.enabled]
    return f"ALTER TABLE {t.table} {word} TRIGGER {quote_ident(t.name)}"


def _domain_sql(key: str, d: Domain) -> list[str]:
    sql = f"CREATE DOMAIN {key} AS {d.base_type}"
    if d.collation:
        sql += f" COLLATE {d.collation}"
    if d.default is not None:
        sql += f" DEFAULT {d.default}"
    if d.not_null:
        sql += " NOT NULL"
    later = []
    for name, definition in d.constraints:
        if definition.endswith(" NOT VALID"):
            # CREATE DOMAIN has no NOT VALID: such a constraint is added afterwards.
            later.append(f"ALTER DOMAIN {key} ADD CONSTRAINT {quote_ident(name)} {definition}")
        elif definition != "NOT NULL":
            sql += f" CONSTRAINT {quote_ident(name)} {definition}"
    return [sql, *later]


def index_sql(ix: Index, concurrently: bool) -> str:
    if not concurrently:
        return ix.definition
    return ix.definition.replace(" INDEX ", " INDEX CONCURRENTLY ", 1)


def create(ref: ObjRef, obj: object) -> list[str]:
    """Statements creating ``obj`` (its grants and comments are separate operations)."""
    kind, key = ref.kind, ref.key
    if kind == "schema":
        return [f"CREATE SCHEMA {key}"]
    if kind == "fdw":
        return [foreign.create_fdw(key, obj)]  # type: ignore[arg-type]
    if kind == "server":
        return [foreign.create_server(key, obj)]  # type: ignore[arg-type]
    if kind == "user_mapping":
        return [foreign.create_user_mapping(obj)]  # type: ignore[arg-type]
    if kind == "extension":
        e: Extension = obj  # type: ignore[assignment]
        return [f"CREATE EXTENSION IF NOT EXISTS {key} WITH SCHEMA {quote_ident(e.schema)} "
                f"VERSION {quote_literal(e.version)}"]
    if kind == "collation":
        return [_create_collation(key, obj)]  # type: ignore[arg-type]
    if kind == "enum":
        labels = ", ".join(quote_literal(x) for x in obj.labels)  # type: ignore[attr-defined]
        return [f"CREATE TYPE {key} AS ENUM ({labels})"]
    if kind == "composite":
        c: Composite = obj  # type: ignore[assignment]
        attrs = ", ".join(_attr_sql(a) for a in c.attributes)
        return [f"CREATE TYPE {key} AS ({attrs})"]
    if kind == "domain":
        return _domain_sql(key, obj)  # type: ignore[arg-type]
    if kind == "range":
        return [obj.definition]  # type: ignore[attr-defined]
    if kind == "sequence":
        s: Sequence = obj  # type: ignore[assignment]
        return [f"CREATE {'UNLOGGED ' if s.unlogged else ''}SEQUENCE {key} {sequence_options_sql(s.options)}"]
    if kind == "table":
        return _create_table(obj)  # type: ignore[arg-type]
    if kind == "constraint":
        con: Constraint = obj  # type: ignore[assignment]
        return [f"ALTER TABLE {con.table} ADD CONSTRAINT {quote_ident(con.name)} {con.definition}"]
    if kind == "index":
        # A partitioned table's index prints as ON ONLY; created plainly it cascades to the
        # partitions, as the desired side's did.
        return [obj.definition.replace(" ON ONLY ", " ON ", 1)]  # type: ignore[attr-defined]
    if kind == "function":
        return [obj.definition.rstrip().rstrip(";")]  # type: ignore[attr-defined]
    if kind == "view":
        return [_create_view(obj)]  # type: ignore[arg-type]
    if kind == "trigger":
        return _trigger_sql(obj)  # type: ignore[arg-type]
    if kind == "policy":
        return [_policy_sql(obj)]  # type: ignore[arg-type]
    if kind == "rule":
        r: Rule = obj  # type: ignore[assignment]
        return [r.definition.rstrip().rstrip(";")] + ([rule_enable(r)] if r.enabled != "O" else [])
    if kind == "publication":
        return [_publication_sql(obj)]  # type: ignore[arg-type]
    if kind == "event_trigger":
        e: EventTrigger = obj  # type: ignore[assignment]
        return [_event_trigger_sql(e)] + ([event_trigger_enable(e)] if e.enabled != "O" else [])
    raise ValueError(f"cannot create {ref}")


_ENABLE_WORDS = {"O": "ENABLE", "D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}


def rule_enable(r: Rule) -> str:
    return f"ALTER TABLE {r.table} {_ENABLE_WORDS[r.enabled]} RULE {quote_ident(r.name)}"


def event_trigger_enable(e: EventTrigger) -> str:
    return f"ALTER EVENT TRIGGER {quote_ident(e.name)} {_ENABLE_WORDS[e.enabled]}"


def _event_trigger_sql(e: EventTrigger) -> str:
    sql = f"CREATE EVENT TRIGGER {quote_ident(e.name)} ON {quote_ident(e.event)}"
    if e.tags:
        sql += f" WHEN TAG IN ({', '.join(quote_literal(t) for t in e.tags)})"
    return sql + f" EXECUTE FUNCTION {e.function}"


def _published_objects(p: Publication) -> list[str]:
    """The publication_object list: each table (column list, row filter), then each schema."""
    out = []
    for t in p.tables:
        item = f"TABLE ONLY {t.table}"
        if t.columns is not None:
            item += f" ({', '.join(quote_ident(c) for c in t.columns)})"
        if t.where is not None:
            item += f" WHERE ({t.where})"
        out.append(item)
    out += [f"TABLES IN SCHEMA {quote_ident(s)}" for s in p.schemas]
    return out


def _publication_options(p: Publication) -> str:
    return (f"publish = {quote_literal(', '.join(p.publish))}, "
            f"publish_via_partition_root = {'true' if p.via_root else 'false'}")


def _publication_sql(p: Publication) -> str:
    sql = f"CREATE PUBLICATION {quote_ident(p.name)}"
    if p.all_tables:
        sql += " FOR ALL TABLES"
    elif p.tables or p.schemas:
        sql += " FOR " + ", ".join(_published_objects(p))
    return sql + f" WITH ({_publication_options(p)})"


def alter_publication(old: Publication, new: Publication, *, relist: bool = False) -> list[str]:
    """SET replaces the whole list at once (a changed column list or row filter has no ALTER of
    its own); an empty list is reached by dropping what is there."""
    name = quote_ident(new.name)
    out = []
    if (old.publish, old.via_root) != (new.publish, new.via_root):
        out.append(f"ALTER PUBLICATION {name} SET ({_publication_options(new)})")
    if ((old.tables, old.schemas) != (new.tables, new.schemas) or relist) and not new.all_tables:
        objects = _published_objects(new)
        if objects:
            out.append(f"ALTER PUBLICATION {name} SET {', '.join(objects)}")
        else:
            gone = [f"TABLE ONLY {t.table}" for t in old.tables]
            gone += [f"TABLES IN SCHEMA {quote_ident(s)}" for s in old.schemas]
            out.append(f"ALTER PUBLICATION {name} DROP {', '.join(gone)}")
    return out


def _attr_sql(a) -> str:
    sql = f"{quote_ident(a.name)} {a.type}"
    return sql + (f" COLLATE {a.collation}" if a.collation else "")


# -- drop -----------------------------------------------------------------------------------
def drop(ref: ObjRef, obj: object) -> list[str]:
    kind, key = ref.kind, ref.key
    if kind in ("constraint",):
        return [f"ALTER TABLE {obj.table} DROP CONSTRAINT {quote_ident(obj.name)}"]  # type: ignore[attr-defined]
    if kind in ("trigger", "policy", "rule"):
        word = kind.upper()
        return [f"DROP {word} {_on_table(obj.table, obj.name)}"]  # type: ignore[attr-defined]
    word, name = object_sql_name(ref, obj)
    return [f"DROP {word} {name}"]


# -- alter ----------------------------------------------------------------------------------
def alter_extension(key: str, old: Extension, new: Extension) -> list[str]:
    out = []
    if old.version != new.version:
        out.append(f"ALTER EXTENSION {key} UPDATE TO {quote_literal(new.version)}")
    if old.schema != new.schema:
        out.append(f"ALTER EXTENSION {key} SET SCHEMA {quote_ident(new.schema)}")
    return out


def alter_enum(key: str, old: Enum, new: Enum) -> list[str]:
    """ADD VALUE for each new label, placed BEFORE/AFTER an existing one to keep the order."""
    out = []
    present = list(old.labels)
    for i, label in enumerate(new.labels):
        if label in present:
            continue
        after = [x for x in new.labels[i + 1:] if x in present]
        if after:
            out.append(f"ALTER TYPE {key} ADD VALUE {quote_literal(label)} BEFORE {quote_literal(after[0])}")
        elif present:
            prev = [x for x in new.labels[:i] if x in present][-1]
            out.append(f"ALTER TYPE {key} ADD VALUE {quote_literal(label)} AFTER {quote_literal(prev)}")
        else:
            out.append(f"ALTER TYPE {key} ADD VALUE {quote_literal(label)}")
        present.append(label)
    return out


def alter_composite(key: str, old: Composite, new: Composite) -> list[str]:
    old_attrs = {a.name: a for a in old.attributes}
    new_attrs = {a.name: a for a in new.attributes}
    actions = [f"DROP ATTRIBUTE {quote_ident(n)}" for n in old_attrs if n not in new_attrs]
    for a in new.attributes:
        prev = old_attrs.get(a.name)
        if prev is None:
            actions.append(f"ADD ATTRIBUTE {_attr_sql(a)}")
        elif prev != a:
            sql = f"ALTER ATTRIBUTE {quote_ident(a.name)} TYPE {a.type}"
            actions.append(sql + (f" COLLATE {a.collation}" if a.collation else ""))
    return [f"ALTER TYPE {key} {', '.join(actions)}"] if actions else []


def alter_domain(key: str, old: Domain, new: Domain) -> list[str]:
    out = []
    if old.default != new.default:
        out.append(f"ALTER DOMAIN {key} " + (f"SET DEFAULT {new.default}" if new.default is not None
                                              else "DROP DEFAULT"))
    if old.not_null != new.not_null:
        out.append(f"ALTER DOMAIN {key} {'SET' if new.not_null else 'DROP'} NOT NULL")
    old_c, new_c = dict(old.constraints), dict(new.constraints)
    for name, definition in old.constraints:
        if new_c.get(name) != definition and definition != "NOT NULL":
            out.append(f"ALTER DOMAIN {key} DROP CONSTRAINT {quote_ident(name)}")
    for name, definition in new.constraints:
        if old_c.get(name) != definition and definition != "NOT NULL":
            out.append(f"ALTER DOMAIN {key} ADD CONSTRAINT {quote_ident(name)} {definition}")
    return out


def alter_sequence_options(key: str, old: SeqOptions, new: SeqOptions) -> list[str]:
    if old == new:
        return []
    keep, restart = sequence_position_fit(key, old, new)
    return keep + [f"ALTER SEQUENCE {key} {sequence_options_sql(new)}" + (" RESTART" if restart else "")]


def sequence_position_fit(key: str, old: SeqOptions, new: SeqOptions) -> tuple[list[str], bool]:
    """Narrowed bounds must hold the sequence's current value (PostgreSQL refuses otherwise).
    Returns the statements moving it to the nearest value inside both ranges, or (no overlap)
    True: RESTART at the new START."""
    if new.min <= old.min and new.max >= old.max:
        return [], False
    low, high = max(old.min, new.min), min(old.max, new.max)
    if low > high:
        return [], True
    return [f"SELECT pg_catalog.setval({quote_literal(key)}::regclass, "
            f"greatest(least(last_value, {high}), {low}), "
            f"is_called AND last_value BETWEEN {low} AND {high}) FROM {key}"], False


def sequence_owned_by(key: str, owner: tuple[str, str] | None) -> str:
    target = f"{owner[0]}.{quote_ident(owner[1])}" if owner else "NONE"
    return f"ALTER SEQUENCE {key} OWNED BY {target}"


def alter_column(table: str, old: Column, new: Column, *, cast_via_text: bool = False,
                 foreign_table: bool = False) -> list[str]:
    """ALTER TABLE … ALTER COLUMN sub-commands turning ``old`` into ``new`` (generated-expression
    changes other than dropping the expression are handled by the planner as drop + add).

    ``cast_via_text``: the old or new type is an enum, which PostgreSQL only converts through text.
    ``foreign_table``: no USING (a foreign table has no rows here to convert; PostgreSQL refuses it).
    """
    col = quote_ident(new.name)
    subs: list[str] = []
    out_first: list[str] = []
    if old.identity and not new.identity:
        subs.append(f"ALTER COLUMN {col} DROP IDENTITY")
    if old.generated is not None and new.generated is None:
        subs.append(f"ALTER COLUMN {col} DROP EXPRESSION")
    if old.default is not None and old.default != new.default:
        subs.append(f"ALTER COLUMN {col} DROP DEFAULT")
    identity_first = _identity_narrows(old, new)
    if identity_first:  # the new bounds first: the sequence's type follows the column's
        pre, options = _identity_options(table, old, new)
        out_first = pre
        subs.append(options)
    if (old.type, old.collation) != (new.type, new.collation):
        collate = f" COLLATE {new.collation}" if new.collation else ""
        via = "::text" if cast_via_text else ""
        # A generated column is computed again; USING is refused for it.
        using = f" USING {col}{via}::{new.type}" if new.generated is None and not foreign_table else ""
        subs.append(f"ALTER COLUMN {col} TYPE {new.type}{collate}{using}")
    if new.default is not None and old.default != new.default:
        subs.append(f"ALTER COLUMN {col} SET DEFAULT {new.default}")
    if new.not_null and not old.not_null:
        subs.append(f"ALTER COLUMN {col} SET NOT NULL")  # also required before ADD IDENTITY
    if not new.not_null and old.not_null:
        subs.append(f"ALTER COLUMN {col} DROP NOT NULL")
    if new.identity and not old.identity:
        subs.append(f"ALTER COLUMN {col} ADD {_identity_clause(new)}")
    elif new.identity and old.identity:
        if new.identity != old.identity:
            word = "ALWAYS" if new.identity == "a" else "BY DEFAULT"
            subs.append(f"ALTER COLUMN {col} SET GENERATED {word}")
        if old.identity_sequence and new.identity_sequence and not identity_first and (
                old.identity_sequence[1] != new.identity_sequence[1]):
            pre, options = _identity_options(table, old, new)
            out_first = pre
            subs.append(options)
    out = out_first + [f"ALTER TABLE {table} {s}" for s in subs]
    options = foreign.alter_options(old.fdw_options, new.fdw_options)
    if options:
        out.append(f"ALTER FOREIGN TABLE {table} ALTER COLUMN {col}{options}")
    return out


def _identity_narrows(old: Column, new: Column) -> bool:
    if not (old.identity and new.identity and old.identity_sequence and new.identity_sequence):
        return False
    o, n = old.identity_sequence[1], new.identity_sequence[1]
    return o != n and (n.max < o.max or n.min > o.min)


def _identity_options(table: str, old: Column, new: Column) -> tuple[list[str], str]:
    """The identity's sequence options (kept position first, as for a sequence of its own)."""
    seq_key, o = new.identity_sequence  # type: ignore[misc]
    keep, restart = sequence_position_fit(seq_key, old.identity_sequence[1], o)  # type: ignore[index]
    col = quote_ident(new.name)
    options = (f"ALTER COLUMN {col} SET INCREMENT BY {o.increment} SET MINVALUE {o.min} "
               f"SET MAXVALUE {o.max} SET START WITH {o.start} SET CACHE {o.cache} "
               f"SET {'CYCLE' if o.cycle else 'NO CYCLE'}" + (" RESTART" if restart else ""))
    return keep, options


# -- metadata -------------------------------------------------------------------------------
def _grant_object(ref: ObjRef, obj: object) -> tuple[str, str]:
    """(keyword, name) as GRANT spells them: views are TABLEs, and an aggregate is a FUNCTION
    named by all its argument types (GRANT has no ORDER BY form)."""
    word, name = object_sql_name(ref, obj)
    if word in ("VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE"):
        return "TABLE", name
    if word == "SERVER":
        return "FOREIGN SERVER", name
    if word == "AGGREGATE":
        return "FUNCTION", ref.key
    return word, name


def grant_statement(g: Grant, target_obj: object, *, revoke: bool) -> str:
    word, name = _grant_object(g.target, target_obj)
    priv = g.privilege + (f" ({quote_ident(g.column)})" if g.column else "")
    grantee = "PUBLIC" if g.grantee == "public" else quote_ident(g.grantee)
    if revoke:
        return f"REVOKE {priv} ON {word} {name} FROM {grantee}"
    return f"GRANT {priv} ON {word} {name} TO {grantee}" + (
        " WITH GRANT OPTION" if g.grantable else "")


def grant_statements(grants: list[Grant], target_obj: object, *, revoke: bool) -> list[str]:
    """One GRANT (or REVOKE) per grantee and grant option for grants on one object, with the
    privileges (and column privileges) in a stable order."""
    groups: dict[tuple[str, bool], list[Grant]] = {}
    for g in grants:
        groups.setdefault((g.grantee, g.grantable and not revoke), []).append(g)
    out = []
    for (grantee, grantable), items in sorted(groups.items()):
        first = items[0]
        word, name = _grant_object(first.target, target_obj)
        privs = ", ".join(sorted(
            g.privilege + (f" ({quote_ident(g.column)})" if g.column else "") for g in items))
        who = "PUBLIC" if grantee == "public" else quote_ident(grantee)
        if revoke:
            out.append(f"REVOKE {privs} ON {word} {name} FROM {who}")
        else:
            out.append(f"GRANT {privs} ON {word} {name} TO {who}"
                       + (" WITH GRANT OPTION" if grantable else ""))
    return out


_DEFAULT_OBJECTS = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"}


def default_privilege_statements(items: list[DefaultPrivilege], *, revoke: bool) -> list[str]:
    """ALTER DEFAULT PRIVILEGES statements, one per (role, schema, object type, grantee, grant
    option), privileges in a stable order."""
    groups: dict[tuple, list[str]] = {}
    for d in items:
        key = (d.role, d.schema or "", d.objtype, d.grantee, d.grantable and not revoke)
        groups.setdefault(key, []).append(d.privilege)
    out = []
    for (role, schema, objtype, grantee, grantable), privs in sorted(groups.items()):
        head = f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote_ident(role)}"
        if schema:
            head += f" IN SCHEMA {quote_ident(schema)}"
        who = "PUBLIC" if grantee == "public" else quote_ident(grantee)
        what = f"{', '.join(sorted(set(privs)))} ON {_DEFAULT_OBJECTS[objtype]}"
        if revoke:
            out.append(f"{head} REVOKE {what} FROM {who}")
        else:
            out.append(f"{head} GRANT {what} TO {who}" + (" WITH GRANT OPTION" if grantable else ""))
    return out


def comment_statement(c: Comment, target_obj: object, *, remove: bool = False) -> str:
    word, name = object_sql_name(c.target, target_obj)
    if c.column:
        word, name = "COLUMN", f"{name}.{quote_ident(c.column)}"
    text = "NULL" if remove else quote_literal(c.text)
    return f"COMMENT ON {word} {name} IS {text}"


def owner_statement(ref: ObjRef, obj: object, owner: str) -> str | None:
    if ref.kind in ("constraint", "trigger", "policy", "index", "rule", "user_mapping"):
        return None
    word, name = object_sql_name(ref, obj)
    return f"ALTER {word} {name} OWNER TO {quote_ident(owner)}"
