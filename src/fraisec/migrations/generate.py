"""``fraisec migrate diff NAME``: the migration that takes the current state to the schema.

current = the replayed history (default) or a live database; desired = the compiled schema plus
``db/*.sql``. Steps:

1. renames: the schema's ``renamed_from`` hints (``fq.field(renamed_from="old")``, an entity's
   ``renamed_from``) that still apply to the current state become ``ALTER TABLE … RENAME``, and
   a native enum's ``renamed_from={"new": "old"}`` ``ALTER TYPE … RENAME VALUE``;
   they are applied to the current state before diffing, so the differ never sees a drop and
   an add for a renamed column or table. A hint that no longer applies (its rename is already
   in the history) is ignored, so hints can stay in the schema.
   Objects named after a renamed table or column (keys, policies, indexes, the identity
   sequence) are renamed with it.
2. diff + plan (``fraisec.diff``, ``fraisec.plan``): ordered operations with a safety class.
3. the file: a header, then the statements as psql runs them (``BEGIN; … COMMIT;`` for the
   transactional part, what cannot run in a transaction before or after it, as the header's
   ``outside transaction`` line says), destructive operations marked with
   ``-- fraisec: destructive``; the data steps (seeded rows) last, in their own transaction.
   Output is deterministic: no timestamps.
4. verification: the history plus the new file, replayed, must equal the schema (FSC518).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fraisec.catalog.model import KINDS, Catalog, Table
from fraisec.diagnostics import Diagnostic, error
from fraisec.ir import naming
from fraisec.ir.model import Schema
from fraisec.render.quoting import qualified, quote_ident, quote_literal

__all__ = ["DiffOutcome", "Rename", "find_renames", "migration_diff", "render_migration",
           "rename_sql"]

_BUILTIN_ROLES = re.compile(r"^(PUBLIC|postgres|pg_.*)$")


@dataclass(frozen=True, order=True)
class Rename:
    """One ``ALTER … RENAME``: a table, or a column/constraint/policy/trigger of ``target`` (a
    table key), or an index/sequence (``target`` is then the object's own key)."""

    kind: str
    target: str
    old: str
    new: str
    reason: str = ""

    def statement(self) -> str:
        old, new = quote_ident(self.old), quote_ident(self.new)
        return {
            "table": f"ALTER TABLE {self.target} RENAME TO {new}",
            "column": f"ALTER TABLE {self.target} RENAME COLUMN {old} TO {new}",
            "constraint": f"ALTER TABLE {self.target} RENAME CONSTRAINT {old} TO {new}",
            "policy": f"ALTER POLICY {old} ON {self.target} RENAME TO {new}",
            "trigger": f"ALTER TRIGGER {old} ON {self.target} RENAME TO {new}",
            "index": f"ALTER INDEX {self.target} RENAME TO {new}",
            "sequence": f"ALTER SEQUENCE {self.target} RENAME TO {new}",
            "value": (f"ALTER TYPE {self.target} RENAME VALUE {quote_literal(self.old)} "
                      f"TO {quote_literal(self.new)}"),
        }[self.kind]

    def describe(self) -> str:
        if self.kind == "value":
            return f"enum value {self.target}.{quote_literal(self.old)} -> {quote_literal(self.new)}"
        if self.kind in ("table", "index", "sequence"):
            return f"{self.kind} {self.target} -> {self.new}"
        return f"{self.kind} {self.target}.{self.old} -> {self.new}"


def find_renames(schema: Schema, current: Catalog, desired: Catalog) -> list[Rename]:
    """Renames from the schema's hints that apply to ``current`` (see the module docstring)."""
    out: list[Rename] = []
    for obj in sorted(schema.types, key=lambda t: t.name):
        info = getattr(obj, "entity", None)
        target = _desired_table(desired, info.table) if info is not None else None
        if target is not None:
            out += _entity_renames(obj, info, current, desired, target)
    return out + _enum_value_renames(schema, current, desired)


def _enum_value_renames(schema: Schema, current: Catalog, desired: Catalog) -> list[Rename]:
    """A native enum's ``renamed_from={"new": "old"}``: RENAME VALUE keeps the rows' values
    (a rebuild would drop the old value and fail on every row holding it)."""
    out: list[Rename] = []
    for e in sorted(schema.enums, key=lambda e: e.name):
        old_type, new_type = current.enum.get(e.sql_type or ""), desired.enum.get(e.sql_type or "")
        if old_type is None or new_type is None:
            continue
        for new, old in e.renamed_from:
            if (old in old_type.labels and new not in old_type.labels
                    and new in new_type.labels and old not in new_type.labels):
                out.append(Rename("value", e.sql_type, old, new,
                                  f"{e.name} renamed_from={{{new!r}: {old!r}}}"))
    return out


def _desired_table(desired: Catalog, name: str) -> Table | None:
    return next((t for t in sorted(desired.table.values(), key=lambda t: t.key) if t.name == name), None)


def _entity_renames(obj, info, current: Catalog, desired: Catalog, target: Table) -> list[Rename]:
    """The table (entity hint), its columns (field hints), then every object named after
    them (constraints, policies, triggers, indexes, identity sequences), so nothing is dropped
    and rebuilt: re-adding a key would rebuild its index under an exclusive lock."""
    out: list[Rename] = []
    names: list[tuple[str, str]] = []  # (old, new) fragments of object names
    current_table = current.table.get(target.key)
    if info.renamed_from and current_table is None:
        old_key = qualified(target.schema, naming.table_name(info.renamed_from))
        old = current.table.get(old_key)
        if old is not None:
            reason = f"{obj.name} renamed_from={info.renamed_from!r}"
            out.append(Rename("table", old_key, old.name, target.name, reason))
            current_table = old
            a, b = naming.snake(info.renamed_from), naming.snake(obj.name)
            names.append((a, b))
            pk = _column_pair(current_table, target, naming.pk_column(info.renamed_from),
                              naming.pk_column(obj.name))
            if pk:
                out.append(Rename("column", target.key, *pk, reason))
    if current_table is None:
        return out
    for f in obj.fields:
        pair = _field_columns(f)
        if pair and _column_pair(current_table, target, *pair):
            out.append(Rename("column", target.key, *pair,
                              f"{obj.name}.{f.name} renamed_from={f.renamed_from!r}"))
            names.append(pair)
    if names:
        out += _named_after(current, desired, current_table, target, names)
    return out


def _field_columns(f) -> tuple[str, str] | None:
    """(old column, new column) for a field with a renamed_from hint."""
    if not f.renamed_from or not f.column:
        return None
    if f.column == f.name:
        return f.renamed_from, f.column
    if f.column == naming.fk_column(f.name):
        return naming.fk_column(f.renamed_from), f.column
    return None


def _column_pair(current_table: Table, target: Table, old: str, new: str) -> tuple[str, str] | None:
    """The pair when the rename still applies: old here and not new, the reverse wanted."""
    if (current_table.column(old) is not None and current_table.column(new) is None
            and target.column(new) is not None and target.column(old) is None):
        return old, new
    return None


def _named_after(current: Catalog, desired: Catalog, old: Table, target: Table,
                 names: list[tuple[str, str]]) -> list[Rename]:
    def renamed(name: str) -> str:
        for a, b in names:
            name = name.replace(a, b)
        return name

    def why(name: str) -> str:
        return "named after " + ", ".join(f"{a} -> {b}" for a, b in names if a in name)

    def wanted(kind: str, name: str) -> bool:
        return any(o.name == name and o.table == target.key and name not in _names(current, kind, old.key)
                   for o in desired.objects(kind).values())

    out: list[Rename] = []
    constraints = set()
    for c in sorted(current.constraint.values(), key=lambda c: c.name):
        if c.table == old.key and renamed(c.name) != c.name and wanted("constraint", renamed(c.name)):
            out.append(Rename("constraint", target.key, c.name, renamed(c.name), why(c.name)))
            constraints.add(c.name)  # its index follows it
    for kind in ("policy", "trigger"):
        for o in sorted(current.objects(kind).values(), key=lambda o: o.name):
            if o.table == old.key and renamed(o.name) != o.name and wanted(kind, renamed(o.name)):
                out.append(Rename(kind, target.key, o.name, renamed(o.name), why(o.name)))
    for ix in sorted(current.index.values(), key=lambda i: i.name):
        if (ix.table == old.key and ix.name not in constraints and renamed(ix.name) != ix.name
                and wanted("index", renamed(ix.name))):
            out.append(Rename("index", qualified(ix.schema, ix.name), ix.name, renamed(ix.name),
                              why(ix.name)))
    for col in old.columns:
        new_col = target.column(renamed(col.name))
        seq = col.identity_sequence[0] if col.identity_sequence else None
        new_seq = new_col.identity_sequence[0] if new_col and new_col.identity_sequence else None
        if seq and new_seq and seq != new_seq and seq.split(".")[0] == new_seq.split(".")[0]:
            out.append(Rename("sequence", seq, seq.split(".", 1)[1], new_seq.split(".", 1)[1], why(seq)))
    return out


def _names(catalog: Catalog, kind: str, table_key: str) -> set[str]:
    return {o.name for o in catalog.objects(kind).values() if o.table == table_key}


def rename_sql(renames: list[Rename]) -> str:
    return "".join(r.statement() + ";\n" for r in renames)


# -- the file ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileParts:
    """What the header says about the body."""

    name: str
    source: str  # what "current" was: the replayed history or a database
    renames: tuple[Rename, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    # [distribution] engine = "citus": lines that place the new tables, after everything else
    # of the transaction (the tables and their keys exist by then); render.distribution.
    placement: tuple[str, ...] = ()
    # How long each statement may wait for a lock (PostgreSQL lock_timeout, e.g. "5s"); None: no
    # limit. Set once for the file's session, before its first statement.
    lock_timeout: str | None = None
    # Bytes of the tables the plan rewrites, read from the database (--database); None: unknown.
    table_sizes: dict[str, int] | None = None
    # The external table's block (fraisec.migrations.external), a transaction after the plan's.
    external: str | None = None
    # The seeded state the file records (fraisec.migrations.seeds), above its data steps.
    seed_manifest: tuple[str, ...] = ()


def render_migration(parts: FileParts, plan, desired: Catalog) -> str:
    """Header + body (see the module docstring). The plan's data steps (ops of kind
    :data:`~fraisec.migrations.seeds.DATA_KIND`) come last, in a transaction of their own after
    ``parts.external``'s block; the header is rendered once, from the whole plan."""
    from fraisec import __version__
    from fraisec.migrations.seeds import DATA_KIND
    from fraisec.plan import Plan
    from fraisec.plan.online import online_forms
    from fraisec.plan.script import NON_TRANSACTIONAL_MARKER

    data = [op for op in plan.ops if op.kind == DATA_KIND and op.statements]
    schema_plan = Plan(tuple(op for op in plan.ops if op.kind != DATA_KIND), plan.diagnostics)
    rewrites = {op.key: _rewrite_duration(op.key, parts.table_sizes)
                for op in schema_plan.ops if op.rewrites and op.statements}
    blocks = _blocks(parts, schema_plan, desired, rewrites)
    # Transactions after the plan's: the external table's block, then the data steps.
    trailing = int(bool(parts.external)) + int(bool(data or parts.seed_manifest))
    header = [
        f"-- fraisec migration {parts.name}",
        f"-- generator: fraisec {__version__}",
        f"-- safety: {_safety(plan, parts.renames)}",
        f"-- from: {parts.source}",
        "-- outside transaction: " + _outside(blocks, trailing),
    ]
    for r in parts.renames:
        header.append(f"-- rename: {r.describe()} ({r.reason})")
    header += [f"-- note: {n}" for n in parts.notes]
    header += [f"-- online: {line}" for line in online_forms(schema_plan)]
    header += [f"-- rewrite: {key} ({duration})" for key, duration in sorted(rewrites.items())]
    if parts.lock_timeout:
        header.append(f"-- lock timeout: {parts.lock_timeout} per statement (`migrate apply` runs a "
                      "part that times out again: --lock-retries)")
    several = sum(1 for block in blocks if block[0]) + trailing > 1
    header += ["--", "-- Apply with `fraisec migrate apply --database URL`, or with",
               "-- `psql -v ON_ERROR_STOP=1 -f FILE`: " + (
                   "each BEGIN/COMMIT block is one transaction." if several else
                   "the transactional part is one BEGIN/COMMIT block."), ""]
    body: list[str] = [f"SET lock_timeout = {quote_literal(parts.lock_timeout)};", ""] \
        if parts.lock_timeout else []
    for transactional, lines, _statements in blocks:
        if transactional:
            # LOCAL: bodies may name objects created later in the block; the setting ends with it
            body += ["BEGIN;", "SET LOCAL check_function_bodies = false;", *lines, "COMMIT;", ""]
        else:
            body += [NON_TRANSACTIONAL_MARKER, *lines, ""]
    text = "\n".join(header + body).rstrip("\n") + "\n"
    if parts.external:  # the external table's check and grants, as the role applying the file
        text = text.rstrip("\n") + "\n\n-- The external user table (read, never written)\n" + parts.external
    if data or parts.seed_manifest:
        text = text.rstrip("\n") + "\n\n-- Seeded reference rows (seed=)\n" + _data_block(parts, data)
    return text


def _blocks(parts: FileParts, plan, desired: Catalog, rewrites: dict[str, str]
            ) -> list[tuple[bool, list[str], list[str]]]:
    """(transactional, lines, statements) per block of the plan, in file order: the roles and
    renames first (in the first transaction, or one of their own), the Citus placement last
    in the last transaction."""
    from fraisec.plan.script import split_segments

    blocks = [(tx, [line for op in ops for line in _op_lines(op, rewrites)],
               [s for op in ops for s in op.statements]) for tx, ops in split_segments(plan)]
    prelude = _roles_prelude(plan, desired) + [f"{r.statement()};" for r in parts.renames]
    if prelude:
        if blocks and blocks[0][0]:
            blocks[0] = (True, prelude + blocks[0][1], prelude + blocks[0][2])
        else:
            blocks.insert(0, (True, prelude, prelude))
    if parts.placement:
        placement = list(parts.placement)
        last = max((i for i, block in enumerate(blocks) if block[0]), default=None)
        if last is None:
            blocks.insert(0, (True, placement, placement))
        else:
            blocks[last] = (True, blocks[last][1] + placement, blocks[last][2] + placement)
    return blocks


def _data_block(parts: FileParts, data: list) -> str:
    from fraisec.plan.script import safety_marker

    lines = [*parts.seed_manifest, "BEGIN;"]
    for op in data:
        marker = safety_marker(op)
        lines += ([marker] if marker else []) + [f"{s};" for s in op.statements]
    return "\n".join([*lines, "COMMIT;"]) + "\n"


def _outside(blocks: list[tuple[bool, list[str], list[str]]], trailing: int) -> str:
    """The header's account of the statements that run outside any transaction, grouped by
    where they run (``migrate apply`` and psql both run the file's parts in file order):
    ``before the first BEGIN``, ``after COMMIT`` (the file's only transaction), or ``after
    COMMIT of transaction K of N``."""
    total = sum(1 for tx, _lines, _statements in blocks if tx) + trailing
    groups: list[tuple[int, list[str]]] = []  # (transactions committed before, statements)
    committed = 0
    for transactional, _lines, statements in blocks:
        if transactional:
            committed += 1
        elif groups and groups[-1][0] == committed:
            groups[-1][1].extend(statements)
        else:
            groups.append((committed, list(statements)))
    if not groups:
        return "none"
    count = sum(len(statements) for _k, statements in groups)
    parts = []
    for k, statements in groups:
        if k == 0:
            where = "before the first BEGIN" if total else "no transaction in the file"
        elif total == 1:
            where = "after COMMIT"
        else:
            where = f"after COMMIT of transaction {k} of {total}"
        parts.append(f"{len(statements)} {where} ({_first_words(statements[0])})")
    return f"{count} statement(s): " + "; ".join(parts)


def _op_lines(op, rewrites: dict[str, str]) -> list[str]:
    from fraisec.plan.script import safety_marker

    marker = safety_marker(op)  # the same line `fraisec diff --unsafe` prints
    lines = [marker] if marker else []
    if op.rewrites:
        lines.append(f"-- fraisec: rewrite of {op.key} under ACCESS EXCLUSIVE ({rewrites[op.key]})")
    return lines + [f"{s};" for s in op.statements]


# Expected duration of a table rewrite by the table's size: a rough guide (a rewrite copies the
# table and rebuilds its indexes, tens to hundreds of MB per second on a server's disk).
_DURATION_CLASSES = ((100 * 2**20, "seconds"), (10 * 2**30, "minutes"))


def _rewrite_duration(table_key: str, sizes: dict[str, int] | None) -> str:
    """The duration class of rewriting the table: by its size when known."""
    size = sizes.get(table_key) if sizes is not None else None
    if size is None:
        return ("duration grows with the table's size; `migrate diff --database URL` gives "
                "its class")
    label = next((name for limit, name in _DURATION_CLASSES if size < limit), "hours")
    return f"{_megabytes(size)}: expect {label}, reads and writes wait"


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.0f} MB" if size >= 2**20 else "under 1 MB"


def _table_sizes(url: str, keys: list[str]) -> dict[str, int]:
    """pg_table_size of each table (with its TOAST, without indexes), read only."""
    import psycopg

    from fraisec.catalog.shadow import connect_error

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            rows = {k: conn.execute("SELECT pg_table_size(to_regclass(%s))", [k]).fetchone()[0]
                    for k in keys}
    except psycopg.OperationalError as exc:
        raise connect_error(url, exc) from None
    return {k: v for k, v in rows.items() if v is not None}


def _safety(plan, renames) -> str:
    if plan.destructive:
        return "destructive"
    if any(op.safety == "locking" for op in plan.ops if op.statements):
        return "locking"
    return "safe"


def _first_words(statement: str) -> str:
    words = " ".join(statement.split()).split(" ")
    return " ".join(words[:4]) + (" …" if len(words) > 4 else "")


def _roles_prelude(plan, desired: Catalog) -> list[str]:
    """Roles the plan grants to or gives objects to are cluster-wide, not part of any catalog
    diff: create the missing ones (NOLOGIN, never bypassing RLS) so the file applies to a fresh
    cluster too."""
    text = "\n".join(s for op in plan.ops for s in op.statements)
    owners = {getattr(obj, "owner", None) for kind in KINDS for obj in desired.objects(kind).values()}
    candidates = {g.grantee for g in desired.grants} | (owners - {None})
    roles = sorted(role for role in candidates if not _BUILTIN_ROLES.match(role)
                   and re.search(rf"\bTO {re.escape(quote_ident(role))}\b", text))
    if not roles:
        return []
    lines = ["DO $roles$", "BEGIN"]
    for role in roles:
        lines += [f"    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {quote_literal(role)}) THEN",
                  f"        CREATE ROLE {quote_ident(role)} NOLOGIN NOBYPASSRLS;",
                  "    END IF;"]
    lines += ["END", "$roles$;"]
    return lines


def destructive_refusal(plan, renames: list[Rename]) -> Diagnostic:
    ops = plan.destructive_ops
    listing = "; ".join(f"{op.action} {op.kind} {op.key}" + (f" ({op.reason})" if op.reason else "")
                        for op in ops[:10])
    more = f" (and {len(ops) - 10} more)" if len(ops) > 10 else ""
    return error("FSC512", f"the migration would be destructive: {listing}{more}",
                 hint="If a field or entity was renamed, add renamed_from=\"old_name\" to it and "
                      "run again (a RENAME keeps the data). If the data loss is intended, run "
                      "again with --unsafe; the statements are marked in the file.")


# -- the whole command -------------------------------------------------------------------------

@dataclass(frozen=True)
class DiffOutcome:
    """What ``migrate diff`` did: ``path`` is None when nothing was written."""

    plan: object
    renames: list[Rename]
    text: str | None = None
    path: Path | None = None
    refused: Diagnostic | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    seeds: object = None  # fraisec.migrations.seeds.SeedChanges: the seeded rows' step
    external: str | None = None  # the external table's block

    @property
    def changed(self) -> bool:
        return bool(self.plan) or bool(self.renames) or bool(self.seeds) or bool(self.external)

    @property
    def seed_statements(self) -> int:
        return len(self.seeds.statements) if self.seeds else 0


def migration_diff(name: str, schema_ref: str, db_dir: Path | None, migrations_dir: Path, *,
                   database: str | None = None, shadow_url: str | None = None,
                   unsafe: bool = False, history_schema: str = "fraisec_history",
                   write: bool = True, verify: bool = True, part: str | None = None,
                   backfill: bool | None = None, online: bool = True,
                   lock_timeout_s: float = 5.0) -> DiffOutcome:
    """Compute (and by default write) the next migration. Raises MigrationError/CatalogError.

    With ``verify`` (and the replayed history as the current state) the history plus the new
    file is replayed once more and compared with the schema: what would still differ is
    reported as FSC518, so a file that does not converge is known at once, not in CI.

    ``backfill``: a NOT NULL column without a default added to an existing table is written in
    three steps (:mod:`fraisec.migrations.backfill`) when True, never when False, and when the
    table has rows in ``database`` when None. ``online``: the online forms of
    :mod:`fraisec.plan.online` (NOT VALID + VALIDATE, unique indexes built CONCURRENTLY…), and
    with them ``SET lock_timeout`` (``lock_timeout_s``; 0: none) at the top of the file.
    """
    from fraisec.api import load_ir
    from fraisec.diagnostics import has_errors
    from fraisec.diff import diff
    from fraisec.migrations.apply import MigrationError, load_directory
    from fraisec.migrations.checksum import add_migration
    from fraisec.migrations.files import file_name, next_version, slugify
    from fraisec.migrations.replay import current_alongside, current_catalog, desired_catalog
    from fraisec.migrations.external import external_block, external_schemas
    from fraisec.migrations.seeds import seed_changes, seed_refusal
    from fraisec.plan import Plan, plan as make_plan

    files, _parsed, problems = load_directory(migrations_dir)
    if has_errors(problems):
        raise MigrationError(problems)
    with current_alongside(migrations_dir, database, shadow_url, history_schema) as current_side:
        schema, diagnostics = load_ir(schema_ref)
        if schema is None or has_errors(diagnostics):
            raise MigrationError(diagnostics)
        # part: which generated SQL is desired (fraisec.desired.desired_sources)
        desired, more = desired_catalog(schema_ref, db_dir, shadow_url, schema, part)
        if desired is None:
            raise MigrationError(more)
    history = [f.text for f in files]
    # An external table (auth.users) is never the migrations': out of a live database too.
    current = current_side().without_schemas(external_schemas(schema, history))
    renames = find_renames(schema, current, desired)
    if renames:
        current = current_catalog(migrations_dir, database, shadow_url, history_schema,
                                  extra=[("renames (renamed_from hints)", rename_sql(renames))])
    result = make_plan(diff(current, desired), current, desired, online=online)
    if has_errors(result.diagnostics):
        raise MigrationError(list(result.diagnostics))
    found = [*diagnostics, *result.diagnostics]
    # Seeded rows: a data step the catalog diff cannot see (fraisec.migrations.seeds).
    seeds = seed_changes(schema, history, {t.key for t in desired.table.values()})
    external = external_block(schema, history)
    result, backfilled, maybe = _backfill_forms(result, current, desired, database, backfill)
    if not (result or renames or seeds or external):
        return DiffOutcome(result, renames, diagnostics=found)
    if (result.destructive or seeds.destructive) and not unsafe:
        refusal = destructive_refusal(result, renames) if result.destructive else seed_refusal(seeds)
        return DiffOutcome(result, renames, refused=refusal, diagnostics=found, seeds=seeds)
    version = next_version(files)
    fname = file_name(version, slugify(name))
    # No connection details: the header is committed (a URL may carry a password) and must be
    # the same whoever generates it.
    source = ("a database (--database)" if database else
              f"migrations {files[0].label}..{files[-1].label} (replayed)" if files else "empty database")
    notes = tuple(f"backfill {c.label}: replace the DO statement after its ADD COLUMN with an "
                  "UPDATE giving every row a value, then run `fraisec migrate hash`"
                  for c in backfilled)
    timeout = _lock_timeout(lock_timeout_s) if online else None
    rewritten = sorted({op.key for op in result.ops if op.rewrites and op.statements})
    sizes = _table_sizes(database, rewritten) if database and rewritten else None
    placement = _placement(schema, result, current)
    # The data steps are planned steps: the header counts their safety class with the rest.
    whole = Plan(result.ops + seeds.ops, result.diagnostics) if seeds else result
    text = render_migration(FileParts(fname[:-4], source, tuple(renames), notes, placement=placement,
                                      lock_timeout=timeout, table_sizes=sizes, external=external,
                                      seed_manifest=seeds.manifest), whole, desired)
    path = add_migration(migrations_dir, files, fname, text) if write else None
    if backfilled or maybe:
        from fraisec.migrations.backfill import diagnostics as backfill_diagnostics

        found += backfill_diagnostics(backfilled, maybe, fname, text, str(path) if path else None,
                                      forced=bool(backfill))
    if verify and database is None:
        found += _verify(migrations_dir, version, fname, text, shadow_url, desired)
    return DiffOutcome(result, renames, text=text, path=path, diagnostics=found, seeds=seeds, external=external)


def _placement(schema: Schema, plan, current: Catalog) -> tuple[str, ...]:
    """The Citus calls for the tables this migration creates (``[distribution]``)."""
    from fraisec.render.distribution import migration_block

    created = {op.key for op in plan.ops if op.kind == "table" and op.action == "create"}
    functions = {op.key for op in plan.ops if op.kind == "function" and op.action in ("create", "replace", "alter")}
    return tuple(migration_block(schema, created, set(current.table), functions))


def _lock_timeout(seconds: float) -> str | None:
    """PostgreSQL's spelling of a lock_timeout: "5s", "500ms"; None for 0 (no limit)."""
    if seconds <= 0:
        return None
    ms = max(int(round(seconds * 1000)), 1)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def _backfill_forms(result, current: Catalog, desired: Catalog, database: str | None,
                    backfill: bool | None) -> tuple[object, list, list]:
    """(plan, columns written in three steps, columns written plain that may fail): see
    :mod:`fraisec.migrations.backfill`."""
    from fraisec.migrations.backfill import populated, required_columns, three_step

    required = required_columns(result, current, desired)
    if not required or backfill is False:
        return result, [], []
    if backfill:
        chosen = required
    elif database:
        tables = populated(database, required)
        chosen = [c for c in required if c.table in tables]
    else:
        return result, [], required  # the history has no rows to look at: say it may fail
    return three_step(result, chosen, desired), chosen, []


def _verify(migrations_dir: Path, version: int, fname: str, text: str, shadow_url: str | None,
            desired: Catalog) -> list[Diagnostic]:
    from fraisec.diagnostics import Location, warning
    from fraisec.diff import diff
    from fraisec.migrations.backfill import without_placeholders
    from fraisec.migrations.replay import history_catalog
    from fraisec.plan import plan as make_plan

    # The file as it will be once its backfill placeholders are written (they refuse to run).
    extra = [(fname, without_placeholders(text))]
    after = history_catalog(migrations_dir, shadow_url, extra, upto=version - 1)
    rest = make_plan(diff(after, desired), after, desired)
    left = [f"{op.action} {op.kind} {op.key}" for op in rest.ops if op.statements]
    if not left:
        return []
    return [warning("FSC518", f"after {fname} the history still differs from the schema in "
                              f"{len(left)} place(s): " + "; ".join(left[:5])
                              + (" …" if len(left) > 5 else ""),
                    Location(file=str(migrations_dir / fname)),
                    hint="This is a bug in fraisec's diff; please report it with the schema "
                         "change. Edit the file by hand if needed, then `fraisec migrate hash`.")]

