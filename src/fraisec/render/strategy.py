"""The split strategies (``[tenancy] strategy`` in fraisec.toml; "rls" never comes here).

Database per tenant: each tenant database holds the whole module, schema-qualified as in rls,
without the tenant column (the database is the tenant); entities declared
``fq.entity(database="shared")`` are rendered alone for the shared database (seed 002), and a
relation across the two is FSC542.

Schema per tenant: one schema module compiled into a SHARED part and a TENANT part.

docs/tenancy.md ("What the migration files must look like") is the specification:

* the shared part exists once per database (the tenant entity, the user and membership entities,
  every entity without a tenant, the mutation response types, the context helpers), written
  schema-qualified exactly as in the rls strategy;
* the tenant part is every tenant-scoped entity (``fq.entity(tenant=True)``, except the
  tenancy's membership, which the shared context helpers read) without its tenant column and
  without the tenant RLS guard (the schema is the tenant), its objects unqualified, its
  functions ``SET search_path FROM CURRENT`` (the applier's path: the tenant schema, then
  ``public``, then ``pg_temp``), every reference to a shared object still qualified.

How: the IR is rewritten (the tenant field removed from tenant-scoped entities), rendered once
by the ordinary renderer, and its statements are split by the object each one is about (the
first schema-qualified name in it: the table of a CREATE TABLE, ALTER TABLE, CREATE INDEX …
ON, CREATE POLICY … ON, GRANT … ON, the function of CREATE FUNCTION …). Reusing the renderer
keeps the tenant part and the rls output from drifting apart.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from fraisec.diagnostics import Diagnostic, error
from fraisec.ir.model import ObjectType, Schema

__all__ = ["Parts", "hand_written_problems", "render_parts", "split_schema", "tenant_entities"]

# What an ``fq.entity(tenant=True)`` may not use in schema per tenant: an invitation's token
# finds its invitation in any tenant (its hash is unique across all of them) and the accepting
# flow reads it from there, which one table per tenant schema cannot give. Observers, search,
# owned_by and service access are generated into the tenant part (split_sql).
_UNSUPPORTED = {
    "invitation": "invitations (a token is unique across every tenant and accepted from any of "
                  "them)",
}


@dataclass(frozen=True)
class Parts:
    """The generated SQL of a split strategy. ``shared``: what ``migrations/`` holds (schema per
    tenant: the shared part of each database; database per tenant: each tenant database);
    ``tenant``: each tenant schema's part (schema per tenant); ``shared_database``: the shared
    database of database per tenant (entities declared ``database="shared"``)."""

    shared: str
    tenant: str = ""
    shared_database: str = ""


def tenant_entities(schema: Schema) -> set[str]:
    """The entities that live in each tenant's schema."""
    tenancy = schema.tenancy
    if tenancy is None:
        return set()
    return {e.name for e in schema.entities
            if e.entity.tenant_field and e.name != tenancy.membership_entity}


def split_schema(schema: Schema, strategy: str = "schema"
                 ) -> tuple[Schema, set[str], list[Diagnostic]]:
    """The IR without the tenant column (tenant fields removed from tenant-scoped entities),
    their names, and what the strategy cannot express (FSC540, FSC541)."""
    scoped = tenant_entities(schema)
    problems = _tenant_column_uses(schema, scoped, strategy)
    if strategy == "schema":
        problems += _problems(schema, scoped)
    types = tuple(_without_tenant(t) if t.name in scoped else t for t in schema.types)
    split = dataclasses.replace(schema, types=types)
    if strategy == "schema" and scoped:
        split = dataclasses.replace(split, settings=dataclasses.replace(
            schema.settings, tenant_schema_entities=tuple(sorted(scoped))))
    return split, scoped, problems


def _without_tenant(entity: ObjectType) -> ObjectType:
    tenant = entity.entity.tenant_field
    fields = tuple(f for f in entity.fields if f.name != tenant)
    uniques = tuple(tuple(n for n in u if n != tenant) for u in entity.entity.uniques)
    info = dataclasses.replace(entity.entity, tenant_field=None,
                               uniques=tuple(u for u in uniques if u))
    return dataclasses.replace(entity, fields=fields, entity=info)


def _tenant_column_uses(schema: Schema, scoped: set[str], strategy: str) -> list[Diagnostic]:
    """Declarations built on the tenant column, which neither split strategy has: counts and
    sums over the tenant relation, the generated sign-up and invitation flows (they create
    tenants and memberships across tenants), quotas (``{tenant}``)."""
    what = "schema per tenant" if strategy == "schema" else "database per tenant"
    hint = (f"{what[0].upper() + what[1:]} has no tenant column (the {strategy} is the tenant). "
            "Remove the declaration, or keep this module on the rls strategy "
            "(docs/tenancy.md, \"One module, three strategies\").")
    found: list[tuple[str, object]] = []
    for entity in schema.entities:
        for f in entity.fields:
            if f.aggregate and f.aggregate[1] in scoped:
                target = schema.type(f.aggregate[1])
                if target is not None and f.aggregate[3] == target.entity.tenant_field:
                    found.append((f"{entity.name}.{f.name} counts {target.name} through the "
                                  "tenant relation", f.location or entity.location))
        if entity.name in scoped and entity.entity.quota:
            found.append((f"{entity.name} has a quota per tenant", entity.location))
    for m in schema.mutations:
        if m.generated and m.operation in ("SIGNUP", "ACCEPT"):
            found.append((f"{m.name} is a generated {m.operation} flow", m.location))
    return [error("FSC540", f"{message}, which {what} does not generate", where, hint=hint)
            for message, where in found]


def _problems(schema: Schema, scoped: set[str]) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    hint = ("Schema per tenant keeps tenant-scoped entities in each tenant's schema; shared "
            "objects cannot point into them. Use the rls strategy for this module, or remove "
            "the declaration (docs/tenancy.md, \"Schema per tenant\").")
    for entity in schema.entities:
        info = entity.entity
        if entity.name in scoped:
            used = [what for key, what in _UNSUPPORTED.items() if getattr(info, key)]
            for what in used:
                problems.append(error(
                    "FSC540", f"{entity.name} is tenant-scoped and uses {what}, which schema "
                              "per tenant does not generate", entity.location, hint=hint))
            continue
        for f in entity.fields:
            target = f.relation or (f.type.name if f.type.is_list else None)
            if target in scoped:
                problems.append(error(
                    "FSC541", f"{entity.name}.{f.name} is shared (it exists once per database) "
                              f"and refers to {target}, which lives in each tenant's schema",
                    f.location or entity.location, hint=hint))
    return problems


def render_parts(schema: Schema, strategy: str = "schema") -> tuple[Parts | None, list[Diagnostic]]:
    """The shared and tenant SQL; None when the module cannot be split."""
    from fraisec.render.sql import render_schema_sql

    split, scoped, problems = split_schema(schema, strategy)
    if problems:
        return None, problems
    if strategy == "database":
        return _database_parts(schema, split)
    if not scoped:
        return Parts(render_schema_sql(split), ""), []
    parts, leaks = split_sql(render_schema_sql(split), split, scoped)
    if leaks:  # a shared object naming a tenant's table: not expressible, refuse it
        return None, [error(
            "FSC540", f"a shared object refers to the tenant-scoped {name} ({what}), which schema "
                      "per tenant does not generate", None,
            hint="A declaration of a tenant-scoped entity needs an object that exists once per "
                 "database; remove it or keep this module on the rls strategy "
                 "(docs/tenancy.md, \"Schema per tenant\").") for name, what in leaks]
    return parts, []


def shared_database_entities(schema: Schema) -> set[str]:
    return {e.name for e in schema.entities if e.entity.database == "shared"}


def _database_parts(schema: Schema, split: Schema) -> tuple[Parts | None, list[Diagnostic]]:
    """Database per tenant: each tenant database holds the whole schema (qualified, as in rls)
    without the tenant column, since the database is the tenant; the entities declared
    ``database="shared"`` are in the shared database instead (seed 002)."""
    from fraisec.render.sql import render_schema_sql

    shared = shared_database_entities(schema)
    problems = _crossing(schema, shared)
    if problems:
        return None, problems
    if not shared:
        return Parts(render_schema_sql(split)), []
    return Parts(render_schema_sql(_subset(split, shared, keep=False)),
                 shared_database=render_schema_sql(
                     dataclasses.replace(_subset(split, shared, keep=True), tenancy=None))), []


def _subset(schema: Schema, names: set[str], keep: bool) -> Schema:
    """The schema with only (``keep``) or without the named entities and what belongs to them."""
    def mine(name: str | None) -> bool:
        return (name in names) == keep

    types = tuple(t for t in schema.types if t.entity is None or mine(t.name))
    mutations = tuple(m for m in schema.mutations if (m.entity is None and not keep)
                      or (m.entity is not None and mine(m.entity)))
    observers = tuple(o for o in schema.observers if mine(o.entity))
    subscriptions = tuple(x for x in schema.subscriptions if mine(x.entity_type))
    return dataclasses.replace(schema, types=types, mutations=mutations, observers=observers,
                               subscriptions=subscriptions)


def _crossing(schema: Schema, shared: set[str]) -> list[Diagnostic]:
    """FSC542: a relation between the shared database and a tenant database (no foreign key,
    no join can cross databases)."""
    problems: list[Diagnostic] = []
    tenancy = schema.tenancy
    if tenancy is not None:
        for role, name in (("tenant", tenancy.tenant_entity), ("user", tenancy.user_entity),
                           ("membership", tenancy.membership_entity)):
            if name in shared:
                entity = schema.type(name)
                problems.append(error(
                    "FSC542", f"{name} is the tenancy's {role} entity and is declared "
                              "database=\"shared\": the tenant databases' policies and helpers "
                              "read it", entity.location if entity else None,
                    hint=f"Keep {name} in the tenant databases (remove database=\"shared\")."))
    for entity in schema.entities:
        here = entity.name in shared
        for f in entity.fields:
            target = f.relation or (f.type.name if f.type.is_list else None)
            if target is None or schema.type(target) is None or schema.type(target).entity is None:
                continue
            if (target in shared) != here:
                where = "the shared database" if target in shared else "each tenant database"
                problems.append(error(
                    "FSC542", f"{entity.name}.{f.name} refers to {target}, which lives in "
                              f"{where}: a relation cannot cross databases (no foreign key, no "
                              "join)", f.location or entity.location,
                    hint=f"Store the other row's id instead, a plain uuid column: "
                         f"`{_id_field(f.name)}: ID` (the application or the runtime's "
                         "federation looks it up); see docs/tenancy.md, \"A shared database\"."))
    return problems


def _id_field(name: str) -> str:
    return name if name.endswith("_id") else f"{name}_id"


# A generated function's pinned path (``''`` or ``pg_catalog, pg_temp``): in a tenant schema it
# is the applier's path instead, captured when the function is created.
_PINNED = re.compile(r"SET search_path = (?:''|[a-z_]+(?:, [a-z_]+)*)")
_QUALIFIED = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'


def split_sql(text: str, schema: Schema, scoped: set[str]
              ) -> tuple[Parts, list[tuple[str, str]]]:
    """Each statement to the part of the object it is about (see the module docstring), and
    the shared statements that still name a tenant object: ``(object, first words)``."""
    from fraisec.lint.source import SourceFile, split_statements
    from fraisec.render.model import Model

    model = Model(schema)
    names = _tenant_names(model, scoped)
    private = _tenant_private_names(model, scoped)
    app = re.escape(model.app)
    subject = re.compile(rf"\b(?:{app}|{re.escape(model.private)})\.({_QUALIFIED})")
    unqualify = _unqualifier(model, names, private)
    statements, _ = split_statements(SourceFile("schema.sql", text))
    shared: list[str] = []
    tenant: list[str] = []
    leaks: list[tuple[str, str]] = []
    cut = 0
    for stmt in statements:
        raw = text[cut:stmt.start] + stmt.raw  # the comments before it go with it
        end = stmt.start + len(stmt.raw)
        cut = end + 1 if text[end:end + 1] == ";" else end
        found = subject.search(stmt.masked)
        if _ROLE_SWITCH.match(stmt.masked.strip()):
            # As in the shared part, the tenant's objects are created as the owner role and the
            # privileged functions given to their narrow roles after RESET ROLE.
            tenant.append(stmt.raw.strip() + ";\n")
        if found and ((found.group(1) in names and found.group(0).startswith(model.app + "."))
                      or (found.group(1) in private
                          and found.group(0).startswith(model.private + "."))):
            body = unqualify.sub(lambda m: m.group(1) or m.group(2), raw.lstrip("\n"))
            tenant.append(_PINNED.sub("SET search_path FROM CURRENT", body) + ";\n")
        else:
            leak = unqualify.search(stmt.raw)  # bodies too: a function reading the table
            if leak:
                leaks.append((leak.group(1) or leak.group(2),
                              " ".join(stmt.masked.split()[:3])))
            shared.append(raw + (";" if text[end:end + 1] == ";" else ""))
    shared.append(text[cut:])
    usage = _schema_usage(model, scoped, bool(private))
    if usage:
        tenant.append(usage + ";\n")
    tenant.insert(0, _schema_owner(model) + ";\n")
    header = ("-- Generated by fraisec: the TENANT part (schema per tenant). Applied to every "
              "tenant schema\n-- with search_path set to it; shared objects are qualified.\n\n")
    return Parts("".join(shared), header + "\n".join(tenant)), sorted(set(leaks))


_ROLE_SWITCH = re.compile(r"^(?:SET ROLE|RESET ROLE)\b", re.IGNORECASE)


def _schema_owner(model) -> str:
    """Each tenant schema is owned by the owner role, like the shared schemas, so the tenant's
    objects are created as (and owned by) it whoever applies the files."""
    from fraisec.render.quoting import in_current_schema, quote_ident

    return (f"-- This tenant's schema and objects belong to {model.owner_role}, as the shared "
            "ones do.\n" + in_current_schema(
                f"ALTER SCHEMA %I OWNER TO {quote_ident(model.owner_role).replace('%', '%%')}"))


def _schema_usage(model, scoped: set[str], observers: bool) -> str | None:
    """The roles that reach into every tenant schema get USAGE on it: the observer role (its
    triggers read the tenant's views) and the service role (it works across tenants on purpose,
    as in rls: a service request sets search_path to the tenant it serves). The common API role
    never does: a tenant's own role gets USAGE on its schema from `tenant create`."""
    from fraisec.render.quoting import in_current_schema, quote_ident

    roles = [model.observer_role] if observers else []
    if any(e.entity.service for e in model.schema.entities if e.name in scoped) or any(
            m.service and m.entity in scoped for m in model.schema.mutations):
        roles.append(model.service_role)
    if not roles:
        return None
    names = ", ".join(quote_ident(r) for r in roles)
    return ("-- The roles that reach into every tenant schema (the observer triggers read its "
            "views, the\n-- service role works across tenants) use this one, named when the "
            "file runs.\n"
            + in_current_schema(f"GRANT USAGE ON SCHEMA %I TO {names.replace('%', '%%')}"))


def _unqualifier(model, names: set[str], private: set[str]) -> re.Pattern[str]:
    """A tenant object's qualified name, the bare name in group 1 (app schema) or 2 (private)."""
    def alternatives(found: set[str]) -> str:
        # an impossible match when there is none: the group must still exist
        return "|".join(re.escape(n) for n in sorted(found)) or r"(?!)"

    return re.compile(rf"\b(?:{re.escape(model.app)}\.({alternatives(names)})"
                      rf"|{re.escape(model.private)}\.({alternatives(private)}))\b")


def _tenant_private_names(model, scoped: set[str]) -> set[str]:
    """The private-schema objects that belong to a tenant-scoped entity and so live in each
    tenant schema: its observers' trigger functions (they read the tenant's view and append
    to the shared outbox, which stays qualified)."""
    return {f"fn_observe_{o.name}" for o in model.schema.observers if o.entity in scoped}


def hand_written_problems(schema: Schema, sources: list[tuple[str, str]]) -> list[Diagnostic]:
    """FSC543 (schema per tenant): a hand-written file (``db/*.sql``, the shared part) naming a
    tenant-scoped object of the app schema, which no longer exists there. A function body is
    not checked when it is created, so without this the file applies and the function fails
    when it is first called."""
    from fraisec.diagnostics import Location, warning
    from fraisec.render.model import Model

    split, scoped, _ = split_schema(schema, "schema")
    if not scoped:
        return []
    model = Model(split)
    unqualify = _unqualifier(model, _tenant_names(model, scoped),
                             _tenant_private_names(model, scoped))
    problems: list[Diagnostic] = []
    for name, text in sources:
        for number, line in enumerate(text.splitlines(), start=1):
            found = unqualify.search(line.split("--", 1)[0])
            if found:
                problems.append(warning(
                    "FSC543", f"{name} names {found.group(0)}, which schema per tenant keeps in "
                              "each tenant's schema: hand-written SQL in db/ belongs to the shared "
                              "part, where it does not exist", Location(file=name, line=number),
                    hint="Write this object as a tenant migration (`fraisec migrate create --dir "
                         "migrations/tenant`: tenant objects unqualified, SET search_path FROM "
                         "CURRENT), or keep the module on the rls strategy (docs/tenancy.md, "
                         "\"What the migration files must look like\")."))
                break  # one per file: the fix is the file's
    return problems


def _tenant_names(model, scoped: set[str]) -> set[str]:
    """Every app-schema object that belongs to a tenant-scoped entity: its table, views and
    mutation functions."""
    from fraisec.render.objects import trash_view_name, view_names
    from fraisec.render.search import search_functions

    names: set[str] = set()
    for entity in model.schema.entities:
        if entity.name not in scoped:
            continue
        names.add(entity.entity.table)
        names.update(view_names(entity))
        if entity.entity.soft_delete:
            names.add(trash_view_name(entity))
    names.update(m.sql_source for m in model.schema.mutations
                 if m.generated and m.entity in scoped)
    names.update(f.name.rsplit(".", 1)[-1] for f in search_functions(model)
                 if f.entity in scoped)
    return names
