"""Assemble schema.sql from the object renderers, section by section, in dependency order:
roles and hardening, schemas, types, helpers, tables, foreign keys, indexes, RLS, views,
mutation functions, observers, grants."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import tomli_w

from fraisec.ir import naming
from fraisec.ir.model import Schema
from fraisec.render import enums, flows, functions, objects, search, seeds
from fraisec.render.grants import external_grants, grants as render_grants
from fraisec.render.env import render_template
from fraisec.render.model import Model, ident
from fraisec.render.quoting import qualified, quote_literal

__all__ = ["PRIVILEGED_NAME", "external_columns", "external_setup", "render_privileged_sql", "render_runtime_toml",
           "render_schema_sql"]

# Applied after the hand-written db/ files: it re-owns functions they create.
PRIVILEGED_NAME = "privileged.sql"


def _section(title: str, parts: list[str]) -> str:
    if not parts:
        return ""
    rule = "-- " + "=" * 86
    return f"{rule}\n-- {title}\n{rule}\n\n" + "\n".join(parts)


def _objects(items: list[Any], key: str, names: dict[str, str]) -> list[str]:
    return [render_template(item.template, **{key: item}, **names) for item in items]


def render_schema_sql(schema: Schema) -> str:
    """The whole schema.sql: applies with ``psql -1 -v ON_ERROR_STOP=1`` to an empty database."""
    model = Model(schema)
    names = {"app": model.app, "private": model.private, "api": model.api_role, "owner": model.owner_role,
             "context": model.context_role if functions.context_helper_signatures(model) else None,
             "observer": model.observer_role if model.has_observers else None,
             "privileged": model.privileged_role if model.has_privileged_flows else None,
             "service": model.service_role if model.has_service else None,
             "user_type": model.user_key_type}
    tenant_setting = schema.tenancy.setting if schema.tenancy else "app.tenant_id"
    user_setting = schema.tenancy.user_setting if schema.tenancy else "app.user_id"
    source = PurePath(schema.module_file).name if schema.module_file else None
    rls = objects.rls_tables(model)
    mutations = functions.mutation_functions(model)
    observers = functions.observer_functions(model)
    box = functions.outbox(model)
    grants = render_grants(model, rls, mutations, observers)
    sections = [
        render_template("objects/preamble.sql.j2", source=source, tenant_setting=tenant_setting,
                        user_setting=user_setting,
                        extensions=schema.extensions, external="".join(_external_check(model)), **names),
        _section("Schemas", [render_template("objects/schemas.sql.j2", **names)]),
        _section("Types", [render_template("objects/types.sql.j2", **names)]
                 + _objects(enums.enum_types(model), "e", names)),
        _section("Request context helpers", [render_template(
            "objects/helpers.sql.j2", h=functions.helpers_context(model), **names)]),
        _section("Tables", _objects(objects.tables(model), "t", names)),
        _section("Foreign keys", _objects(objects.foreign_keys(model), "k", names)),
        _section("Indexes", _objects(objects.indexes(model), "i", names)),
        _section("Row-level security", _objects(rls, "r", names)),
        _section("Maintained columns", _objects(functions.maintain_functions(model), "m", names)),
        _section("The last owner", _objects(flows.last_owner_functions(model), "k", names)),
        _section("Views", _objects(objects.views(model), "v", names)),
        _section("Mutation functions", _objects(mutations, "f", names)),
        _section("Search", _objects(search.search_functions(model), "s", names)),
        _section("Invitations", _objects(flows.accept_functions(model), "a", names)),
        _section("Sign-up", _objects(flows.signup_functions(model), "s", names)),
        _section("Privileged mutations (their definers are in db/)",
                 _objects(flows.privileged_entries(model), "e", names)),
        _section("Observers", ([render_template(box.template, o=box, **names)] if box else [])
                 + _objects(observers, "o", names)),
        _section("Grants", _objects([grants], "g", names)),
        "RESET ROLE;\n",
        # As the role applying the file (a superuser: it created the roles), because every
        # table is FORCEd and no policy admits the owner's writes.
        _section("The external user table (read, never written)",
                 [s + ";\n" for s in external_grants(model)]),
        _section("Reference data (seed=)", [s + ";\n" for s in seeds.seed_statements(schema)]),
        _section("Owners of the privileged functions", [render_template(
            "objects/owners.sql.j2", g=grants, **names)] if grants.owners else []),
    ]
    return "\n".join(s for s in sections if s)


def external_columns(schema: Schema) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The external user table and the (column, type) pairs the schema reads from it."""
    user = Model(schema).external_user
    if user is None:
        return None
    return (qualified(*user.entity.external),
            tuple((f.column, f.sql_type or "uuid") for f in user.fields if f.column))


def external_setup(schema: Schema) -> list[str]:
    """What a database needs for the external user table, as the role applying the file: the
    check that it exists, the owner's USAGE and REFERENCES, the readers' column grants."""
    model = Model(schema)
    if model.external_user is None:
        return []
    return ["".join(_external_check(model)).rstrip("\n"), *(s + ";" for s in external_grants(model))]


def _external_check(model: Model) -> list[str]:
    """An external user table must exist before this file runs: fraisec never creates it."""
    user = model.external_user
    if user is None:
        return []
    table = model.table(user)
    columns = [f.column for f in user.fields if f.column]
    missing = " OR ".join(
        f"NOT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass({quote_literal(table)}) "
        f"AND attname = {quote_literal(c)} AND NOT attisdropped)" for c in columns)
    return [f"""-- {user.name} lives in {table}, which fraisec reads but never creates, alters or drops.
DO $external$
BEGIN
    IF to_regclass({quote_literal(table)}) IS NULL OR {missing} THEN
        RAISE EXCEPTION 'the external table % with the columns % must exist before this file is applied',
            {quote_literal(table)}, {quote_literal(', '.join(columns))};
    END IF;
END
$external$;
-- The owner role references its key (foreign keys) and names it in views; nothing more.
GRANT USAGE ON SCHEMA {ident(user.entity.external[0])} TO {ident(model.owner_role)};
GRANT REFERENCES (id) ON {table} TO {ident(model.owner_role)};
"""]


def render_privileged_sql(schema: Schema) -> str | None:
    """``privileged.sql``: the hand-written ``privileged=True`` functions given to the privileged
    role, and callable by the API role alone. Applied after ``db/`` (which creates them), as a
    member of that role; None when the schema declares none."""
    model = Model(schema)
    names = [qualified(model.private, m.sql_source.rsplit(".", 1)[-1]) for m in model.privileged_mutations]
    if not names:
        return None
    return render_template("objects/privileged.sql.j2", functions=sorted(set(names)),
                           role=model.privileged_role, api=model.api_role, owner=model.owner_role)


def render_runtime_toml(schema: Schema) -> str:
    """The runtime's fragment: which settings to set from which JWT claims, and the observers."""
    model = Model(schema)
    data: dict[str, Any] = {}
    tenancy = schema.tenancy
    if tenancy is not None:
        variables = [{"name": tenancy.setting, "source": "jwt", "claim": tenancy.claim}]
        if model.user is not None:
            variables.append({"name": tenancy.user_setting, "source": "jwt", "claim": tenancy.user_claim})
        data["session_variables"] = {"variables": variables}
    observers = []
    for o in schema.observers:
        entity = model.entity(o.entity)
        if entity is None:
            continue
        observers.append({
            "name": o.name, "entity": o.entity, "table": f"{model.app}.{entity.entity.table}",
            "event": o.event, "subject": o.subject,
            "outbox": f"{model.private}.{naming.table_name(functions.OUTBOX_ENTITY)}",
            "channel": functions.NOTIFY_CHANNEL,
        })
    if observers:
        data["observers"] = observers
    header = ("# Generated by fraisec. Merge into fraiseql.toml: the settings the generated RLS\n"
              "# policies read, set per request from the JWT, and the observers' outbox events.\n")
    return header + ("\n" + tomli_w.dumps(data) if data else "")
