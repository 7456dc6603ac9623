"""Statements → ``LintModel`` facts.

sqlglot reads what it can (CREATE TABLE, CREATE INDEX, view bodies, policy expressions, the
queries in function bodies). PostgreSQL-only DDL that sqlglot reads as an opaque ``Command``
(CREATE POLICY, ALTER TABLE … ROW LEVEL SECURITY, function headers, GRANT on functions) is
read from the masked statement text with anchored regexes; see ``source.py`` for why masking
makes that safe.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Callable

import sqlglot
from sqlglot import exp

from fraisec.lint.model import (
    Column, DefaultPrivilegeRevoke, Expr, ForeignKey, Function, FunctionAlter, Grant, Key,
    LintModel, Policy, RlsAction, Role, Span, Table, TableOwner, View, ViewOptions,
)
from fraisec.lint.source import Statement
from fraisec.lint.sqlread import (
    IDENT, QNAME, balanced, calls_in, fragments, mask_text, norm, parse_select, relations_in,
    split_name, split_top_level,
)

__all__ = ["Unreadable", "build_model"]

_RANDOM_DEFAULTS = ("gen_random_uuid", "uuid_generate_v4", "uuid_generate_v7", "uuidv7", "uuidv4",
                    "gen_random_bytes")


@dataclass(frozen=True)
class Unreadable:
    """A statement the linter had to skip (reported as FSC300)."""

    span: Span
    what: str


@dataclass
class _Facts:
    tables: list[Table] = field(default_factory=list)
    keys: list[Key] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    table_owners: list[TableOwner] = field(default_factory=list)
    rls: list[RlsAction] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    view_options: list[ViewOptions] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    function_alters: list[FunctionAlter] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    default_revokes: list[DefaultPrivilegeRevoke] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


def build_model(statements: list[Statement], tenant_columns: tuple[str, ...]
                ) -> tuple[LintModel, list[Unreadable]]:
    """Read every statement (in order) into one model."""
    facts = _Facts()
    for stmt in statements:
        handler = _dispatch(stmt.keywords)
        if handler is not None:
            handler(stmt, facts)
    model = LintModel(
        tables=tuple(facts.tables), keys=tuple(facts.keys),
        foreign_keys=tuple(facts.foreign_keys), table_owners=tuple(facts.table_owners),
        rls=tuple(facts.rls),
        policies=tuple(facts.policies), views=tuple(facts.views),
        view_options=tuple(facts.view_options), functions=tuple(facts.functions),
        function_alters=tuple(facts.function_alters), grants=tuple(facts.grants),
        default_revokes=tuple(facts.default_revokes), roles=tuple(facts.roles),
        tenant_columns=tenant_columns, statements=tuple(statements),
    )
    return model, facts.unreadable


def _dispatch(kw: str) -> Callable[[Statement, _Facts], None] | None:
    for pattern, handler in _HANDLERS:
        if re.match(pattern, kw):
            return handler
    return None


# -- CREATE TABLE --------------------------------------------------------------------------

def _create_table(stmt: Statement, facts: _Facts) -> None:
    if not _create_table_sqlglot(stmt, facts):
        _create_table_text(stmt, facts)
    _create_table_foreign_keys(stmt, facts)


_REFERENCES = re.compile(rf"\bREFERENCES\s+({QNAME})\s*(?:\(([^)]*)\))?", re.IGNORECASE)
_TABLE_FK = re.compile(rf"\bFOREIGN\s+KEY\s*\(([^)]*)\)\s*REFERENCES\s+({QNAME})\s*(?:\(([^)]*)\))?",
                       re.IGNORECASE)


def _names(masked_list: str | None) -> tuple[str, ...]:
    return tuple(norm(c) for c in (masked_list or "").split(",") if c.strip())


def _create_table_foreign_keys(stmt: Statement, facts: _Facts) -> None:
    """Column ``REFERENCES t (c)`` and table ``FOREIGN KEY (…) REFERENCES t (…)``, from the
    masked text (sqlglot's reading of references varies by version)."""
    m = re.match(rf"\s*CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+"
                 rf"(?:IF\s+NOT\s+EXISTS\s+)?({QNAME})\s*\(", stmt.masked, re.IGNORECASE)
    if not m:
        return
    table = split_name(m.group(1))[1]
    open_at = m.end() - 1
    close = balanced(stmt.masked, open_at)
    for begin, end in split_top_level(stmt.masked[open_at + 1: close - 1]):
        begin, end = open_at + 1 + begin, open_at + 1 + end
        text = stmt.masked[begin:end]
        lead = len(text) - len(text.lstrip())
        span = Span(stmt, begin + lead)
        fk = _TABLE_FK.search(text)
        if fk and re.match(rf"\s*(?:CONSTRAINT\s+{IDENT}\s+)?FOREIGN\b", text, re.IGNORECASE):
            facts.foreign_keys.append(ForeignKey(table, _names(fk.group(1)),
                                                 split_name(fk.group(2))[1], _names(fk.group(3)), span))
            continue
        column = re.match(rf"\s*({IDENT})\s", text)
        ref = _REFERENCES.search(text)
        if column and ref and column.group(1).upper() not in ("CONSTRAINT", "CHECK", "UNIQUE",
                                                               "PRIMARY", "EXCLUDE", "LIKE"):
            facts.foreign_keys.append(ForeignKey(table, (norm(column.group(1)),),
                                                 split_name(ref.group(1))[1], _names(ref.group(2)), span))


def _create_table_sqlglot(stmt: Statement, facts: _Facts) -> bool:
    """sqlglot's reading of CREATE TABLE; False (nothing recorded) when it cannot read it."""
    tree = _parse_statement(stmt.raw)
    if not (isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema)
            and isinstance(tree.this.this, exp.Table)):
        return False
    table = tree.this.this
    name = norm_ident(table.this)
    db = table.args.get("db")
    columns: list[Column] = []
    keys: list[Key] = []
    for element in tree.this.expressions:
        if isinstance(element, exp.ColumnDef):
            _column_def(stmt, name, element, columns, keys)
        else:
            key = _table_key(stmt, name, element)
            if key is not None:
                keys.append(key)
    facts.tables.append(Table(name, norm_ident(db) if db else None, tuple(columns), Span(stmt, 0)))
    facts.keys.extend(keys)
    return True


def _column_def(stmt: Statement, table: str, col: exp.ColumnDef, columns: list[Column],
                keys: list[Key]) -> None:
    name = norm_ident(col.this)
    span = Span(stmt, col.this.meta.get("start", 0))
    kind = col.args.get("kind")
    random_default = False
    for constraint in col.args.get("constraints") or []:
        ckind = constraint.args.get("kind")
        if isinstance(ckind, exp.DefaultColumnConstraint):
            text = ckind.sql("postgres").lower()
            random_default = any(f"{fn}(" in text for fn in _RANDOM_DEFAULTS)
        elif isinstance(ckind, exp.PrimaryKeyColumnConstraint):
            keys.append(Key(table, (name,), True, True, span))
        elif isinstance(ckind, exp.UniqueColumnConstraint):
            keys.append(Key(table, (name,), True, False, span))
    type_ = kind.sql("postgres").lower() if kind is not None else ""
    columns.append(Column(name, type_, random_default, span))


def _table_key(stmt: Statement, table: str, element: exp.Expression) -> Key | None:
    """A table-level PRIMARY KEY (…) or [CONSTRAINT x] UNIQUE (…)."""
    node = element
    if isinstance(element, exp.Constraint):
        node = next((e for e in element.expressions
                     if isinstance(e, (exp.UniqueColumnConstraint, exp.PrimaryKey,
                                       exp.PrimaryKeyColumnConstraint))), None)
    if isinstance(node, exp.PrimaryKey):
        idents = list(node.expressions)
    elif isinstance(node, exp.UniqueColumnConstraint) and isinstance(node.this, exp.Schema):
        idents = list(node.this.expressions)
    else:
        return None
    cols = tuple(norm_ident(i.this if isinstance(i, exp.Column) else i) for i in idents)
    starts = [n.meta["start"] for n in element.walk() if n.meta and "start" in n.meta]
    return Key(table, cols, True, isinstance(node, exp.PrimaryKey), Span(stmt, min(starts, default=0)))


def _parse_statement(raw: str) -> exp.Expression | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return sqlglot.parse_one(raw, read="postgres")
        except Exception:  # noqa: BLE001 - any sqlglot failure means "use the text reading"
            return None


def _create_table_text(stmt: Statement, facts: _Facts) -> None:
    m = re.match(rf"\s*CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+"
                 rf"(?:IF\s+NOT\s+EXISTS\s+)?({QNAME})\s*\(", stmt.masked, re.IGNORECASE)
    if not m:
        return  # CREATE TABLE … AS / PARTITION OF: nothing the rules need
    schema, name = split_name(m.group(1))
    open_at = m.end() - 1
    close = balanced(stmt.masked, open_at)
    columns: list[Column] = []
    for begin, end in split_top_level(stmt.masked[open_at + 1: close - 1]):
        _table_element(stmt, name, open_at + 1 + begin, open_at + 1 + end, columns, facts)
    facts.tables.append(Table(name, schema, tuple(columns), Span(stmt, 0)))


def _table_element(stmt: Statement, table: str, begin: int, end: int, columns: list[Column],
                   facts: _Facts) -> None:
    """One column definition or table constraint, read from the masked text: the fallback
    when sqlglot cannot read the CREATE TABLE (one element it does not know loses the table).
    """
    masked = stmt.masked[begin:end]
    raw = stmt.raw[begin:end]
    lead = len(masked) - len(masked.lstrip())
    span = Span(stmt, begin + lead)
    text = masked.strip()
    constraint = re.match(rf"(?:CONSTRAINT\s+{IDENT}\s+)?(PRIMARY\s+KEY|UNIQUE)"
                          rf"(?:\s+NULLS\s+(?:NOT\s+)?DISTINCT)?\s*\(([^)]*)\)", text, re.IGNORECASE)
    if constraint:
        cols = tuple(norm(c) for c in constraint.group(2).split(",") if c.strip())
        primary = constraint.group(1).upper().startswith("PRIMARY")
        facts.keys.append(Key(table, cols, True, primary, span))
        return
    if re.match(r"(CONSTRAINT|CHECK|FOREIGN|EXCLUDE|LIKE)\b", text, re.IGNORECASE):
        return
    m = re.match(rf"({IDENT})\s+(.*)", text, re.IGNORECASE | re.DOTALL)
    if not m:
        return
    name = norm(m.group(1))
    rest = m.group(2)
    type_ = re.split(r"\s+(?:NOT|NULL|DEFAULT|PRIMARY|UNIQUE|REFERENCES|CHECK|GENERATED|"
                     r"CONSTRAINT|COLLATE)\b", rest, maxsplit=1, flags=re.IGNORECASE)[0]
    raw_rest = raw.strip()
    random_default = bool(re.search(r"\bDEFAULT\b[^,]*?\b(" + "|".join(_RANDOM_DEFAULTS) + r")\s*\(",
                                    raw_rest, re.IGNORECASE))
    columns.append(Column(name, " ".join(type_.split()).lower(), random_default, span))
    if re.search(r"\bPRIMARY\s+KEY\b", rest, re.IGNORECASE):
        facts.keys.append(Key(table, (name,), True, True, span))
    elif re.search(r"\bUNIQUE\b", rest, re.IGNORECASE):
        facts.keys.append(Key(table, (name,), True, False, span))


# -- CREATE INDEX / ALTER TABLE ------------------------------------------------------------

def _create_index(stmt: Statement, facts: _Facts) -> None:
    tree = _parse_statement(stmt.raw)
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Index):
        index = tree.this
        table = index.args.get("table")
        params = index.args.get("params")
        if isinstance(table, exp.Table) and params is not None:
            cols = tuple(_index_column(o) for o in params.args.get("columns") or [])
            facts.keys.append(Key(norm_ident(table.this), cols, bool(tree.args.get("unique")),
                                  False, Span(stmt, 0)))
            return
    m = re.match(rf"\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
                 rf"(?:{IDENT}\s+)?ON\s+(?:ONLY\s+)?({QNAME})\s*(?:USING\s+\w+\s*)?\(",
                 stmt.masked, re.IGNORECASE)
    if not m:
        facts.unreadable.append(Unreadable(Span(stmt, 0), "CREATE INDEX"))
        return
    open_at = m.end() - 1
    inner = stmt.masked[open_at + 1: balanced(stmt.masked, open_at) - 1]
    cols = []
    for a, b in split_top_level(inner):
        part = re.match(rf"\s*({IDENT})\s*(?:$|ASC|DESC|NULLS|COLLATE|\w+_ops)", inner[a:b],
                        re.IGNORECASE)
        cols.append(norm(part.group(1)) if part else None)
    facts.keys.append(Key(split_name(m.group(2))[1], tuple(cols), bool(m.group(1)), False,
                          Span(stmt, 0)))


def norm_ident(node: exp.Expression) -> str:
    if isinstance(node, exp.Identifier):
        return node.name if node.quoted else node.name.lower()
    return norm(node.sql())


def _index_column(ordered: exp.Expression) -> str | None:
    node = ordered.this if isinstance(ordered, exp.Ordered) else ordered
    if isinstance(node, exp.Column) and not node.table:
        return norm_ident(node.this)
    return None


_RLS_ACTION = re.compile(r"\b(ENABLE|DISABLE|FORCE|NO\s+FORCE)\s+ROW\s+LEVEL\s+SECURITY\b",
                         re.IGNORECASE)
_ADD_KEY = re.compile(rf"\bADD\s+(?:CONSTRAINT\s+{IDENT}\s+)?(PRIMARY\s+KEY|UNIQUE)"
                      rf"(?:\s+NULLS\s+(?:NOT\s+)?DISTINCT)?\s*\(([^)]*)\)", re.IGNORECASE)


def _alter_table(stmt: Statement, facts: _Facts) -> None:
    m = re.match(rf"\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({QNAME})", stmt.masked,
                 re.IGNORECASE)
    if not m:
        return
    table = split_name(m.group(1))[1]
    for act in _RLS_ACTION.finditer(stmt.masked, m.end()):
        action = " ".join(act.group(1).lower().split())
        facts.rls.append(RlsAction(table, action, Span(stmt, act.start())))
    for key in _ADD_KEY.finditer(stmt.masked, m.end()):
        cols = tuple(norm(c) for c in key.group(2).split(",") if c.strip())
        facts.keys.append(Key(table, cols, True, key.group(1).upper().startswith("PRIMARY"),
                              Span(stmt, key.start())))
    for fk in _TABLE_FK.finditer(stmt.masked, m.end()):
        facts.foreign_keys.append(ForeignKey(table, _names(fk.group(1)), split_name(fk.group(2))[1],
                                             _names(fk.group(3)), Span(stmt, fk.start())))
    owner = re.search(rf"\bOWNER\s+TO\s+({IDENT})", stmt.masked[m.end():], re.IGNORECASE)
    if owner:
        facts.table_owners.append(TableOwner(table, norm(owner.group(1)), Span(stmt, 0)))


# -- CREATE POLICY -------------------------------------------------------------------------

_POLICY = re.compile(
    rf"\s*CREATE\s+POLICY\s+({IDENT})\s+ON\s+({QNAME})"
    rf"(?:\s+AS\s+(PERMISSIVE|RESTRICTIVE))?"
    rf"(?:\s+FOR\s+(ALL|SELECT|INSERT|UPDATE|DELETE))?"
    rf"(?:\s+TO\s+((?:{IDENT})(?:\s*,\s*{IDENT})*))?", re.IGNORECASE)


def _create_policy(stmt: Statement, facts: _Facts) -> None:
    m = _POLICY.match(stmt.masked)
    if not m:
        facts.unreadable.append(Unreadable(Span(stmt, 0), "CREATE POLICY"))
        return
    roles = tuple(norm(r) for r in re.findall(IDENT, m.group(5) or "")) or ("public",)
    facts.policies.append(Policy(
        name=norm(m.group(1)), table=split_name(m.group(2))[1],
        permissive=(m.group(3) or "PERMISSIVE").upper() == "PERMISSIVE",
        command=(m.group(4) or "ALL").upper(), roles=roles,
        using=_clause(stmt, r"\bUSING\s*\(", m.end()),
        check=_clause(stmt, r"\bWITH\s+CHECK\s*\(", m.end()),
        span=Span(stmt, 0),
    ))


def _clause(stmt: Statement, pattern: str, start: int) -> Expr | None:
    """The parenthesised expression after USING / WITH CHECK, as an Expr."""
    m = re.compile(pattern, re.IGNORECASE).search(stmt.masked, start)
    if not m:
        return None
    open_at = m.end() - 1
    close = balanced(stmt.masked, open_at)
    begin, end = open_at + 1, close - 1
    raw = stmt.raw[begin:end]
    return Expr(raw, stmt.masked[begin:end], Span(stmt, begin), parse_select(raw))


# -- CREATE VIEW / ALTER VIEW --------------------------------------------------------------

_VIEW = re.compile(
    rf"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:TEMP|TEMPORARY)\s+)?(?:RECURSIVE\s+)?"
    rf"(MATERIALIZED\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?({QNAME})\s*(\((?:[^()])*\))?"
    rf"(?:\s*USING\s+{IDENT})?\s*(?:WITH\s*(\()|)", re.IGNORECASE)
_VIEW_TAIL = re.compile(r"\s+WITH\s+(?:(?:CASCADED|LOCAL)\s+)?CHECK\s+OPTION\s*$|"
                        r"\s+WITH\s+(?:NO\s+)?DATA\s*$", re.IGNORECASE)


def _create_view(stmt: Statement, facts: _Facts) -> None:
    m = _VIEW.match(stmt.masked)
    if not m:
        facts.unreadable.append(Unreadable(Span(stmt, 0), "CREATE VIEW"))
        return
    schema, name = split_name(m.group(2))
    pos = m.end()
    invoker = barrier = False
    if m.group(4):
        close = balanced(stmt.masked, m.start(4))
        options = stmt.raw[m.start(4) + 1: close - 1]
        invoker = bool(_invoker_option(options))
        barrier = bool(_invoker_option(options, "security_barrier"))
        pos = close
    as_kw = re.compile(r"\s*(?:TABLESPACE\s+\S+\s*)?AS\b", re.IGNORECASE).match(stmt.masked, pos)
    if not as_kw:
        facts.unreadable.append(Unreadable(Span(stmt, 0), "CREATE VIEW"))
        return
    begin = as_kw.end()
    tail = _VIEW_TAIL.search(stmt.masked, begin)
    end = tail.start() if tail else len(stmt.masked)
    raw = stmt.raw[begin:end]
    body = Expr(raw, stmt.masked[begin:end], Span(stmt, begin), parse_select(raw))
    # CREATE OR REPLACE: the later definition is the one in force (migrations are history).
    facts.views[:] = [v for v in facts.views if v.name != name]
    facts.view_options[:] = [o for o in facts.view_options if o.name != name]
    facts.views.append(View(name, schema, bool(m.group(1)), invoker, body,
                            tuple(relations_in(body)), Span(stmt, 0), security_barrier=barrier,
                            check_option=bool(tail and "CHECK" in tail.group(0).upper())))


def _invoker_option(options: str, name: str = "security_invoker") -> bool | None:
    """A boolean view option (``security_invoker``) in a reloptions list: True/False, or
    None when absent."""
    m = re.search(rf"\b{name}\b\s*(?:=\s*'?(\w+)'?)?", options, re.IGNORECASE)
    if not m:
        return None
    return (m.group(1) or "true").lower() in {"true", "on", "1", "yes", "t", "y"}


def _alter_view(stmt: Statement, facts: _Facts) -> None:
    m = re.match(rf"\s*ALTER\s+VIEW\s+(?:IF\s+EXISTS\s+)?({QNAME})\s+(SET|RESET)\s*\(",
                 stmt.masked, re.IGNORECASE)
    if not m:
        return
    inner = stmt.raw[m.end(): balanced(stmt.masked, m.end() - 1) - 1]
    value = _invoker_option(inner)
    if m.group(2).upper() == "RESET" and value is not None:
        value = False
    facts.view_options.append(ViewOptions(split_name(m.group(1))[1], value, Span(stmt, 0)))


# -- CREATE FUNCTION / ALTER FUNCTION ------------------------------------------------------

_FUNCTION = re.compile(rf"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\s+({QNAME})\s*\(",
                       re.IGNORECASE)
_SET_PATH = re.compile(r"\bSET\s+search_path\s*(?:=|\bTO\b|(?=FROM\s+CURRENT\b))\s*", re.IGNORECASE)
_ATTRIBUTE_WORDS = (r"AS|LANGUAGE|SECURITY|EXTERNAL|SET|IMMUTABLE|STABLE|VOLATILE|STRICT|CALLED|"
                    r"RETURNS|PARALLEL|COST|ROWS|LEAKPROOF|NOT|WINDOW|SUPPORT|TRANSFORM|RETURN|"
                    r"BEGIN|RESET|OWNER|RENAME|DEPENDS|NO")


def _create_function(stmt: Statement, facts: _Facts) -> None:
    m = _FUNCTION.match(stmt.masked)
    if not m:
        facts.unreadable.append(Unreadable(Span(stmt, 0), "CREATE FUNCTION"))
        return
    schema, name = split_name(m.group(1))
    args_close = balanced(stmt.masked, m.end() - 1)
    arg_types = _arg_types(stmt.masked[m.end(): args_close - 1])
    arg_names = _arg_names(stmt.masked[m.end(): args_close - 1])
    header = stmt.masked[args_close:]
    lang = re.search(rf"\bLANGUAGE\s+'?({IDENT})", header, re.IGNORECASE)
    language = norm(lang.group(1)) if lang else "sql"
    body = _function_body(stmt, args_close)
    reads, calls = [], []
    if body is not None:
        for frag in fragments(body) if language == "plpgsql" else [body]:
            reads += relations_in(frag)
            calls += [c[0] for c in calls_in(frag)]
    facts.functions[:] = [f for f in facts.functions
                          if (f.name, f.arg_types) != (name, arg_types)]
    facts.functions.append(Function(
        name=name, schema=schema, arg_types=arg_types, language=language,
        definer=bool(re.search(r"\bSECURITY\s+DEFINER\b", header, re.IGNORECASE)),
        search_path=_search_path(stmt, args_close), body=body, reads=tuple(reads),
        calls=tuple(sorted(set(calls))), span=Span(stmt, 0),
        returns_trigger=bool(re.search(r"\bRETURNS\s+(?:pg_catalog\s*\.\s*)?(?:event_)?trigger\b",
                                       header, re.IGNORECASE)),
        arg_names=arg_names,
    ))


def _arg_types(masked_args: str) -> tuple[str, ...]:
    """Argument types only (names, modes and defaults dropped), for display."""
    out = []
    for a, b in split_top_level(masked_args):
        part = re.split(r"\s+DEFAULT\s+|\s*=\s*", masked_args[a:b].strip(), maxsplit=1,
                        flags=re.IGNORECASE)[0]
        words = re.sub(r"^(IN|OUT|INOUT|VARIADIC)\s+", "", part, flags=re.IGNORECASE).split()
        if not words:
            continue
        out.append(" ".join(words[1:] if len(words) > 1 else words).lower())
    return tuple(out)


def _arg_names(masked_args: str) -> tuple[str | None, ...]:
    """Argument names (None for an unnamed one), parallel to ``_arg_types``."""
    out: list[str | None] = []
    for a, b in split_top_level(masked_args):
        part = re.split(r"\s+DEFAULT\s+|\s*=\s*", masked_args[a:b].strip(), maxsplit=1,
                        flags=re.IGNORECASE)[0]
        words = re.sub(r"^(IN|OUT|INOUT|VARIADIC)\s+", "", part, flags=re.IGNORECASE).split()
        if not words:
            continue
        out.append(norm(words[0]) if len(words) > 1 and re.fullmatch(IDENT, words[0]) else None)
    return tuple(out)


def _search_path(stmt: Statement, start: int) -> str | None:
    m = _SET_PATH.search(stmt.masked, start)
    if not m:
        return None
    stop = re.compile(rf"\s(?:{_ATTRIBUTE_WORDS})\b|$", re.IGNORECASE).search(stmt.masked, m.end())
    return " ".join(stmt.raw[m.end(): stop.start() if stop else len(stmt.raw)].split())


def _function_body(stmt: Statement, start: int) -> Expr | None:
    """The body after AS ('…' or $tag$…$tag$), or a SQL-standard RETURN / BEGIN ATOMIC body."""
    m = re.compile(r"\bAS\s+(\$[^$\s]*\$|')", re.IGNORECASE).search(stmt.masked, start)
    if m:
        quote = m.group(1)
        begin = m.end()
        end = stmt.raw.find(quote, begin) if quote != "'" else _string_end(stmt.raw, begin)
        end = len(stmt.raw) if end < 0 else end
        # A quoted body keeps its doubled '' so every offset stays exact.
        raw = stmt.raw[begin:end]
        return Expr(raw, mask_text(raw), Span(stmt, begin), parse_select(raw))
    m = re.compile(r"\b(RETURN|BEGIN\s+ATOMIC)\b", re.IGNORECASE).search(stmt.masked, start)
    if m:
        raw = stmt.raw[m.end():]
        return Expr(raw, stmt.masked[m.end():], Span(stmt, m.end()), parse_select(raw))
    return None


def _string_end(raw: str, begin: int) -> int:
    k = begin
    while k < len(raw):
        if raw[k] == "'":
            if raw.startswith("''", k):
                k += 2
                continue
            return k
        k += 1
    return -1


def _alter_function(stmt: Statement, facts: _Facts) -> None:
    m = re.match(rf"\s*ALTER\s+(?:FUNCTION|PROCEDURE|ROUTINE)\s+({QNAME})\s*(\()?", stmt.masked,
                 re.IGNORECASE)
    if not m:
        return
    rest_at = balanced(stmt.masked, m.start(2)) if m.group(2) else m.end()
    rest = stmt.masked[rest_at:]
    definer = None
    sec = re.search(r"\bSECURITY\s+(DEFINER|INVOKER)\b", rest, re.IGNORECASE)
    if sec:
        definer = sec.group(1).upper() == "DEFINER"
    owner = re.search(rf"\bOWNER\s+TO\s+({IDENT})", rest, re.IGNORECASE)
    facts.function_alters.append(FunctionAlter(
        name=split_name(m.group(1))[1], definer=definer,
        search_path=_search_path(stmt, rest_at),
        owner=norm(owner.group(1)) if owner else None, span=Span(stmt, 0)))


# -- GRANT / REVOKE / DEFAULT PRIVILEGES / ROLES ----------------------------------------------

_GRANT = re.compile(
    r"\s*(GRANT|REVOKE)\s+(?:GRANT\s+OPTION\s+FOR\s+)?(.*?)\s+ON\s+"
    r"(?:(ALL\s+(?:TABLES|FUNCTIONS|ROUTINES|PROCEDURES|SEQUENCES)\s+IN\s+SCHEMA)\s+|"
    r"(TABLE|FUNCTION|PROCEDURE|ROUTINE|SCHEMA|SEQUENCE|DATABASE|TYPE|DOMAIN)\s+)?"
    r"(.*?)\s+(TO|FROM)\s+(.*?)(?:\s+(?:WITH\s+GRANT\s+OPTION|GRANTED\s+BY\b.*|CASCADE|RESTRICT))?\s*$",
    re.IGNORECASE | re.DOTALL)


def _grant(stmt: Statement, facts: _Facts) -> None:
    m = _GRANT.match(stmt.masked)
    if not m:
        _grant_role(stmt, facts)
        return
    privileges = tuple(" ".join(p.split()).upper().split(" (")[0].replace(" PRIVILEGES", "")
                       for p in m.group(2).split(","))
    if m.group(3):
        kind = " ".join(m.group(3).upper().split())
        objects = tuple("*" + norm(s) for s in re.findall(IDENT, m.group(5)))
    else:
        kind = (m.group(4) or "TABLE").upper()
        objects = tuple(_object_names(m.group(5)))
    grantees = tuple(norm(g.strip().split()[-1]) if g.strip() else "" for g in m.group(7).split(","))
    facts.grants.append(Grant(m.group(1).upper() == "GRANT", privileges, kind, objects,
                              tuple(g for g in grantees if g), Span(stmt, 0)))


_GRANT_ROLE = re.compile(
    rf"\s*(GRANT|REVOKE)\s+(?:ADMIN\s+OPTION\s+FOR\s+)?({IDENT}(?:\s*,\s*{IDENT})*)\s+(?:TO|FROM)\s+(.*?)"
    rf"(?:\s+WITH\s+\w+\s+(?:OPTION|TRUE|FALSE)|\s+GRANTED\s+BY\b.*|\s+CASCADE|\s+RESTRICT)?\s*$",
    re.IGNORECASE | re.DOTALL)


def _grant_role(stmt: Statement, facts: _Facts) -> None:
    """``GRANT role TO role``: a Grant of kind ROLE whose objects are the granted roles."""
    m = _GRANT_ROLE.match(stmt.masked)
    if not m:
        return
    granted = tuple(norm(r) for r in re.findall(IDENT, m.group(2)))
    grantees = tuple(norm(g.strip().split()[-1]) for g in m.group(3).split(",") if g.strip())
    facts.grants.append(Grant(m.group(1).upper() == "GRANT", (), "ROLE", granted, grantees,
                              Span(stmt, 0)))


def _object_names(masked: str) -> list[str]:
    """``a.f(int, text), b`` → ["f", "b"] (signatures dropped)."""
    out = []
    for a, b in split_top_level(masked):
        m = re.match(rf"\s*({QNAME})", masked[a:b])
        if m:
            out.append(split_name(m.group(1))[1])
    return out


def _default_privileges(stmt: Statement, facts: _Facts) -> None:
    kw = stmt.keywords
    if not re.search(r"\bREVOKE\s+(?:ALL(?:\s+PRIVILEGES)?|EXECUTE)\s+ON\s+(?:FUNCTIONS|ROUTINES)\s+FROM\s+"
                     r"(?:.*,\s*)?PUBLIC\b", kw):
        return
    m = re.search(r"\bIN\s+SCHEMA\s+(.*?)\s+(?:REVOKE|GRANT|FOR)\b", stmt.masked,
                  re.IGNORECASE | re.DOTALL)
    schemas = tuple(norm(s) for s in re.findall(IDENT, m.group(1))) if m else ()
    facts.default_revokes.append(DefaultPrivilegeRevoke(schemas, Span(stmt, 0)))


def _create_role(stmt: Statement, facts: _Facts) -> None:
    m = re.match(rf"\s*(?:CREATE|ALTER)\s+(?:ROLE|USER)\s+({IDENT})", stmt.masked, re.IGNORECASE)
    if m:
        bypass = bool(re.search(r"\b(?<!NO)BYPASSRLS\b|\bSUPERUSER\b", stmt.keywords))
        facts.roles.append(Role(norm(m.group(1)), bypass, Span(stmt, 0)))


def _do_block(stmt: Statement, facts: _Facts) -> None:
    """Roles are often created idempotently inside DO blocks; read those CREATE ROLEs."""
    raw_body = re.search(r"\$[^$]*\$(.*)\$[^$]*\$", stmt.raw, re.DOTALL)
    if not raw_body:
        return
    for m in re.finditer(rf"\bCREATE\s+(?:ROLE|USER)\s+({IDENT})([^;]*)", raw_body.group(1),
                         re.IGNORECASE):
        bypass = bool(re.search(r"(?<!NO)BYPASSRLS|SUPERUSER", m.group(2).upper()))
        facts.roles.append(Role(norm(m.group(1)), bypass, Span(stmt, 0)))


# -- DROP: later migrations remove what earlier ones created -----------------------------------

def _drop(stmt: Statement, facts: _Facts) -> None:
    m = re.match(r"\s*DROP\s+(POLICY|(?:MATERIALIZED\s+)?VIEW|FUNCTION|PROCEDURE|TABLE)\s+"
                 r"(?:IF\s+EXISTS\s+)?(.*)", stmt.masked, re.IGNORECASE | re.DOTALL)
    if not m:
        return
    kind = m.group(1).split()[-1].upper()
    rest = m.group(2)
    if kind == "POLICY":
        pm = re.match(rf"({IDENT})\s+ON\s+({QNAME})", rest, re.IGNORECASE)
        if pm:
            name, table = norm(pm.group(1)), split_name(pm.group(2))[1]
            facts.policies[:] = [p for p in facts.policies if (p.name, p.table) != (name, table)]
        return
    names = set(_object_names(re.sub(r"\s+(CASCADE|RESTRICT)\s*$", "", rest, flags=re.IGNORECASE)))
    if kind == "VIEW":
        facts.views[:] = [v for v in facts.views if v.name not in names]
    elif kind in ("FUNCTION", "PROCEDURE"):
        facts.functions[:] = [f for f in facts.functions if f.name not in names]
    else:
        facts.tables[:] = [t for t in facts.tables if t.name not in names]
        facts.keys[:] = [k for k in facts.keys if k.table not in names]
        facts.foreign_keys[:] = [k for k in facts.foreign_keys if k.table not in names]
        facts.rls[:] = [a for a in facts.rls if a.table not in names]
        facts.policies[:] = [p for p in facts.policies if p.table not in names]


_HANDLERS: list[tuple[str, Callable[[Statement, _Facts], None]]] = [
    (r"DROP (POLICY|(MATERIALIZED )?VIEW|FUNCTION|PROCEDURE|TABLE)\b", _drop),
    (r"CREATE (GLOBAL |LOCAL )?((TEMP|TEMPORARY|UNLOGGED) )?TABLE\b", _create_table),
    (r"CREATE (UNIQUE )?INDEX\b", _create_index),
    (r"ALTER TABLE\b", _alter_table),
    (r"CREATE POLICY\b", _create_policy),
    (r"CREATE (OR REPLACE )?((TEMP|TEMPORARY) )?(RECURSIVE )?(MATERIALIZED )?VIEW\b", _create_view),
    (r"ALTER VIEW\b", _alter_view),
    (r"CREATE (OR REPLACE )?(FUNCTION|PROCEDURE)\b", _create_function),
    (r"ALTER (FUNCTION|PROCEDURE|ROUTINE)\b", _alter_function),
    (r"(GRANT|REVOKE)\b", _grant),
    (r"ALTER DEFAULT PRIVILEGES\b", _default_privileges),
    (r"(CREATE|ALTER) (ROLE|USER)\b", _create_role),
    (r"DO\b", _do_block),
]
