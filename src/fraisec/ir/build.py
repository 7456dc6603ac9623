"""Registry (raw definitions) → IR ``Schema`` plus diagnostics.

Reports every problem it can find (unknown and unsupported annotations, duplicate names, bad
option values) and keeps going, so one run shows them all.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from enum import Enum
from typing import Any, Iterable

from fraisec.authoring.definitions import ClassDef, OperationDef, RawSchema
from fraisec.authoring.fields import MISSING, CurrentUser, FieldSpec, IndexSpec, Slug, SqlDefault
from fraisec.diagnostics import Diagnostic, Location, Related, did_you_mean, error
from fraisec.ir import naming
from fraisec.ir.annotations import Resolved, resolve_annotation
from fraisec.ir.model import (
    DEFAULT_ROLES, Argument, Default, EntityInfo, EnumType, Field, IndexDecl, InjectParam, InputType, Interface, Kind,
    ON_DELETE_ACTIONS, Mutation, ObjectType, Observer, Query, Scalar, Schema, Settings, Subscription, Tenancy,
    TypeRef, Union,
)
from fraisec.authoring import scalars as scalar_names
from fraisec.ir.scalars import BUILTIN_SCALARS, sql_type_for
from fraisec.load import display_path
from fraisec.render.quoting import qualified

__all__ = ["build_schema"]

_CLASS_KINDS = {"type": Kind.OBJECT, "entity": Kind.OBJECT, "error": Kind.OBJECT,
                "input": Kind.INPUT, "interface": Kind.INTERFACE}
_SDK_FIELD_KEYS = ("requires_scope", "on_deny", "deprecated")
_QUERY_SDK_KEYS = ("cache_ttl_seconds", "requires_role", "deprecated", "relay", "auto_params",
                   "additional_views", "requires_actor", "exclude_inject_defaults", "rest_stream",
                   "pagination_order", "jsonb_column")
# Query options the SDK passes through unchecked and the runtime's schema (deny_unknown_fields)
# has no key for: in schema.json they would be refused, out of it silently dropped.
_QUERY_DROPPED = ("function", "count", "read_routing")
_MUTATION_SDK_KEYS = ("deprecated", "requires_actor", "invalidates_views", "invalidates_fact_tables",
                      "changelog", "changelog_pre_image", "input_style", "cascade",
                      "cascade_source", "success_fields", "cache_ttl_seconds")
_TYPE_SDK_KEYS = ("implements", "requires_role", "relay")
_OPERATIONS = ("CREATE", "INSERT", "UPDATE", "UPSERT", "DELETE", "RESTORE", "PURGE", "INVITE", "ACCEPT",
               "REVOKE", "SIGNUP", "CUSTOM")
_GENERATED_OPERATIONS = ("CREATE", "INSERT", "UPDATE", "UPSERT", "DELETE", "RESTORE", "PURGE", "INVITE",
                         "ACCEPT", "REVOKE", "SIGNUP")
# What @entity(invitation=True) adds (unless declared): when it lapses, its acceptance or
# revocation, and who sent it.
INVITATION_TTL = "now() + interval '7 days'"
# The UPDATE argument listing the nullable fields to set to NULL (NULL itself means "unchanged").
CLEAR_ARGUMENT = "clear"
SOFT_DELETE_FIELD = "deleted_at"
_SQL_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_INJECT = re.compile(r"^(jwt|jwt_optional):([A-Za-z_][A-Za-z0-9_.]*)$")


def build_schema(raw: RawSchema, module_file: str | None = None) -> tuple[Schema, list[Diagnostic]]:
    builder = _Builder(raw)
    schema = builder.build(module_file)
    return schema, builder.diagnostics


def _loc(location: Location | None) -> Location | None:
    if location is None:
        return None
    return dataclasses.replace(location, file=display_path(location.file))


_RESERVED_TYPES = frozenset({"mutation_error_class", "mutation_response"})  # templates/objects/types.sql.j2


class _Builder:
    def __init__(self, raw: RawSchema) -> None:
        self.raw = raw
        self.diagnostics: list[Diagnostic] = []
        self.known: dict[str, Kind] = {}
        self.entity_names: set[str] = {c.name for c in raw.classes if c.kind == "entity"}
        # Entities living in an existing table (@entity(external=…)): references are uuid keys.
        self.external_names: set[str] = {c.name for c in raw.classes
                                         if c.kind == "entity" and c.options.get("external")}
        self._first_seen: dict[str, Location] = {}

    def report(self, code: str, message: str, location: Location | None, hint: str | None = None,
               related: Iterable[Related] = ()) -> None:
        self.diagnostics.append(error(code, message, _loc(location), hint, related))

    # -- entry ------------------------------------------------------------------------------
    def build(self, module_file: str | None) -> Schema:
        self._index_names()
        settings, tenancy = self._tenancy()
        self.tenancy = tenancy
        # @enum(native=True) name -> its qualified type, for the columns that use it.
        self.native_enums = {e.name: qualified(settings.schema_name, naming.enum_type_name(e.name))
                             for e in self.raw.enums if e.options.get("native") is True}
        self.settings = settings
        types, inputs, interfaces = [], [], []
        for cdef in self.raw.classes:
            if cdef.kind in ("type", "entity", "error"):
                types.append(self._object_type(cdef, settings))
            elif cdef.kind == "input":
                inputs.append(InputType(name=cdef.name, fields=self._fields(cdef, for_input=True),
                                        description=_doc(cdef.cls, cdef.options), location=_loc(cdef.location)))
            else:
                interfaces.append(Interface(name=cdef.name, fields=self._fields(cdef),
                                            description=_doc(cdef.cls, cdef.options), location=_loc(cdef.location)))
        types = self._resolve_aggregates(types)
        schema = Schema(
            module_file=module_file,
            extensions=self._extensions(),
            types=tuple(types),
            enums=tuple(self._enums()),
            inputs=tuple(inputs),
            interfaces=tuple(interfaces),
            unions=tuple(self._unions()),
            scalars=tuple(Scalar(name=s.name, description=s.description, location=_loc(s.location))
                          for s in self.raw.scalars),
            tenancy=tenancy,
            settings=settings,
        )
        queries = [self._query(op) for op in self.raw.operations if op.kind == "query"]
        queries = self._orderings(queries, schema)
        mutations = [self._mutation(op, schema) for op in self.raw.operations if op.kind == "mutation"]
        observers = [o for o in (self._observer(d) for d in self.raw.observers) if o is not None]
        subscriptions = [self._subscription(op, schema, observers)
                         for op in self.raw.operations if op.kind == "subscription"]
        self._refuse_unsupported()
        return schema.model_copy(update={"queries": tuple(q for q in queries if q),
                                         "mutations": tuple(m for m in mutations if m),
                                         "subscriptions": tuple(s for s in subscriptions if s),
                                         "observers": tuple(observers)})

    def _subscription(self, op: OperationDef, schema: Schema, observers: list[Observer]) -> Subscription | None:
        common = self._common(op)
        if common is None:
            return None
        options = common.pop("_options")
        entity_type = str(options.get("entity_type") or common["return_type"].name)
        entity = schema.type(entity_type)
        if entity is None or entity.entity is None:
            self.report("FSC225", f"subscription '{op.name}' follows '{entity_type}', which is not an @entity",
                        op.location, hint="Set entity_type= (or the return type) to an entity whose "
                                          "changes the observers publish.")
            return None
        if not any(o.entity == entity_type for o in observers):
            self.report("FSC225", f"subscription '{op.name}' follows '{entity_type}', but no observer "
                        "publishes its changes", op.location,
                        hint=f'Add fq.observer({entity_type}, on="INSERT", subject="…") (and UPDATE/DELETE '
                             "as the subscription needs): its outbox events are what the runtime pushes.")
        for key in ("inject", "rest_path", "rest_method"):
            common.pop(key, None)
        return Subscription(**common, entity_type=entity_type, topic=options.get("topic"),
                            filter=options.get("filter"),
                            sdk={k: options[k] for k in ("fields", "deprecated") if options.get(k) is not None})

    def _refuse_unsupported(self) -> None:
        """SDK options fraisec accepts but would otherwise drop silently: a diagnostic instead."""
        for cdef in self.raw.classes:
            if cdef.kind == "entity" and cdef.options.get("crud"):
                self.report("FSC226", f"@entity '{cdef.name}' has crud=True, which fraisec does not generate",
                            cdef.location, hint="Declare the mutations you want (operation=\"CREATE\", "
                                                "\"UPDATE\", \"DELETE\"): each is generated with its RLS and "
                                                "grants, and nothing else is exposed.")
        for op in self.raw.operations:
            for key in _QUERY_DROPPED:
                if op.kind == "query" and {**op.config, **op.options}.get(key) is not None:
                    self.report("FSC226", f"@query '{op.name}' has {key}=, which neither fraisec nor the "
                                "runtime's schema.json carries: it would do nothing", op.location,
                                hint=f"Remove {key}=; a query reads its sql_source view (or, with "
                                     "jsonb_column=, that column of it).")
        for odef in self.raw.observers:
            if odef.options.get("condition") is not None:
                self.report("FSC226", "observer condition= is not supported: the trigger would fire on "
                            "every change", odef.location,
                            hint="Remove condition=, and filter the events in the relay (every event "
                                 "carries the entity's data).")

    def _extensions(self) -> tuple[str, ...]:
        names = []
        for name, location in self.raw.extensions:
            if not isinstance(name, str) or not _EXTENSION.match(name):
                self.report("FSC227", f"fq.extension({name!r}) is not an extension name", location,
                            hint='e.g. fq.extension("pgcrypto")')
                continue
            if name not in names:
                names.append(name)
        return tuple(sorted(names))

    def _resolve_aggregates(self, types: list[ObjectType]) -> list[ObjectType]:
        """fq.count/fq.sum name another entity: find the relation back to this one (FSC224)."""
        by_name = {t.name: t for t in types if t.entity is not None}
        result = []
        for t in types:
            fields = []
            for f in t.fields:
                if f.aggregate is not None:
                    f = self._aggregate_field(t, f, by_name)
                if f is not None:
                    fields.append(f)
            result.append(t.model_copy(update={"fields": tuple(fields)}))
        return result

    def _aggregate_field(self, owner: ObjectType, f: Field, by_name: dict[str, ObjectType]) -> Field | None:
        kind, target_name, summed, via = f.aggregate
        what = f"fq.{kind}() of '{owner.name}.{f.name}'"
        target = by_name.get(target_name)
        if owner.entity is None or target is None:
            self.report("FSC224", f"{what} counts '{target_name}', which is not an @entity" if target is None
                        else f"{what} is on '{owner.name}', which is not an @entity", f.location,
                        hint=_suggest(target_name, set(by_name), "Name an entity class."))
            return None
        links = [g for g in target.fields if g.relation == owner.name and (via is None or g.name == via)]
        if len(links) != 1:
            self.report("FSC224", f"{what}: '{target_name}' has {'no' if not links else 'several'} relation "
                        f"field{'s' if links else ''} to '{owner.name}'" + (f" named '{via}'" if via else ""),
                        f.location, hint="Pass via=\"<relation field>\" naming the one to follow.")
            return None
        if summed is not None:
            column = target.field(summed)
            if column is None or not column.column or column.relation or column.sql_type not in _NUMERIC:
                self.report("FSC224", f"{what} sums '{target_name}.{summed}', which is not a numeric column",
                            f.location, hint=_suggest(summed, {g.name for g in target.fields if g.column},
                                                      "Name an int, float or Decimal field."))
                return None
        if f.type.name not in ("Int", "Float", "Decimal") or f.type.is_list:
            self.report("FSC224", f"{what} must be typed int, float or Decimal, not {f.type.graphql}",
                        f.location, hint="e.g. `comment_count: int = fq.count(\"Comment\")`.")
            return None
        return f.model_copy(update={"aggregate": (kind, target_name, summed, links[0].name), "column": None})

    # -- names ------------------------------------------------------------------------------
    def _index_names(self) -> None:
        named: list[tuple[str, Kind, Location]] = []
        named += [(c.name, _CLASS_KINDS[c.kind], c.location) for c in self.raw.classes]
        named += [(e.name, Kind.ENUM, e.location) for e in self.raw.enums]
        named += [(u.name, Kind.UNION, u.location) for u in self.raw.unions]
        named += [(s.name, Kind.SCALAR, s.location) for s in self.raw.scalars]
        for name, kind, location in named:
            self._claim("type", name, location)
            self.known.setdefault(name, kind)
        for op in self.raw.operations:
            self._claim(op.kind, op.name, op.location)

    def _claim(self, what: str, name: str, location: Location) -> None:
        key = f"{what}:{name}"
        first = self._first_seen.get(key)
        if first is None:
            self._first_seen[key] = location
            return
        self.report("FSC201", f"{what} '{name}' is defined more than once", location,
                    hint=f"Rename one of the two {what}s; names must be unique in the schema.",
                    related=[Related(message="first defined here", location=_loc(first))])

    # -- tenancy ----------------------------------------------------------------------------
    def _tenancy(self) -> tuple[Settings, Tenancy | None]:
        if not self.raw.tenancy:
            return Settings(), None
        first, *extra = self.raw.tenancy
        for again in extra:
            self.report("FSC208", "tenancy() is declared more than once", again.location,
                        hint="Declare tenancy once per schema.",
                        related=[Related(message="first declared here", location=_loc(first.location))])
        opts = dict(first.options)
        settings = Settings(**{k: opts.pop(k) for k in ("private_schema", "api_role", "owner_role")
                               if k in opts and isinstance(opts[k], str)} |
                            ({"schema_name": first.options["schema"]} if "schema" in first.options else {}))
        opts.pop("schema", None)
        fields: dict[str, Any] = {}
        for key in ("tenant", "user", "membership"):
            value = opts.get(key)
            if value is None:
                continue
            name = value if isinstance(value, str) else getattr(value, "__name__", str(value))
            if name not in self.entity_names:
                self.report("FSC208", f"tenancy({key}=…) names '{name}', which is not an @entity",
                            first.location, hint=_suggest(name, self.entity_names, "Declare it with @entity."))
            fields[{"tenant": "tenant_entity", "user": "user_entity",
                    "membership": "membership_entity"}[key]] = name
        if "tenant_entity" not in fields:
            self.report("FSC208", "tenancy() needs tenant=<the tenant entity>", first.location,
                        hint='e.g. tenancy(tenant="Organization", claim="org_id")')
            return settings, None
        for key in ("claim", "user_claim", "role_field"):
            if isinstance(opts.get(key), str):
                fields[key] = opts[key]
        for key, target in (("tenant_setting", "setting"), ("user_setting", "user_setting")):
            value = opts.get(key)
            if value is None:
                continue
            if not isinstance(value, str) or not _SETTING.match(value):
                self.report("FSC208", f"tenancy({key}={value!r}) is not a custom setting name", first.location,
                            hint='A setting with a prefix, e.g. "app.current_tenant_id" or "hasura.user.id".')
                continue
            fields[target] = value
        if "roles" in opts:
            fields["roles"] = tuple(str(r.value if isinstance(r, Enum) else r) for r in opts["roles"])
        if "permissions" in opts:
            fields["permissions"] = self._permissions(opts["permissions"], fields.get("roles") or DEFAULT_ROLES,
                                                      first.location)
        return settings, Tenancy(location=_loc(first.location), **fields)

    def _permissions(self, raw: Any, roles: tuple[str, ...], location: Location) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``permissions={"billing.manage": ("owner",)}``: each names roles of ``roles``."""
        value = lambda r: str(r.value if isinstance(r, Enum) else r)  # noqa: E731
        if not isinstance(raw, dict):
            self.report("FSC233", "tenancy(permissions=…) must map a permission to the roles that hold it",
                        location, hint='e.g. permissions={"billing.manage": ("owner",)}')
            return ()
        result = []
        for name, holders in raw.items():
            holders = tuple(value(r) for r in (holders if isinstance(holders, (list, tuple, set)) else [holders]))
            unknown = [r for r in holders if r not in roles]
            if unknown or not holders:
                self.report("FSC233", f"permission {name!r} names {'unknown role ' + repr(unknown[0]) if unknown else 'no role'}",
                            location, hint=_suggest(unknown[0] if unknown else "", set(roles), "Name roles of roles=…."))
                continue
            result.append((str(name), tuple(r for r in roles if r in holders)))
        return tuple(sorted(result))

    # -- classes ----------------------------------------------------------------------------
    def _object_type(self, cdef: ClassDef, settings: Settings) -> ObjectType:
        fields = self._fields(cdef, entity=cdef.kind == "entity", settings=settings)
        if cdef.kind == "entity" and cdef.options.get("soft_delete"):
            fields = self._soft_delete_field(cdef, fields)
        if cdef.kind == "entity" and cdef.options.get("invitation"):
            fields = self._invitation_fields(cdef, fields)
        sdk = {k: cdef.options[k] for k in _TYPE_SDK_KEYS if k in cdef.options}
        source = cdef.options.get("sql_source")
        if source is not None:
            self._check_identifier(source, "sql_source", cdef.location)
        info = self._entity_info(cdef, fields) if cdef.kind == "entity" else None
        if info is not None and cdef.options.get("external"):
            info = self._external(cdef, fields, info)
        elif info is not None and "key" in cdef.options:
            self.report("FSC255", f"@entity '{cdef.name}': key= names the key of an external table, and "
                        "there is no external=", cdef.location,
                        hint='e.g. @fq.entity(external="auth.users", key="id"), or drop key=')
        if info is not None and cdef.options.get("seed") is not None:
            info = info.model_copy(update={"seed": self._seed(cdef, fields, info)})
        return ObjectType(
            name=cdef.name, fields=fields,
            sql_source=info.view if info else (source or naming.view_name(cdef.name)),
            sql_source_explicit=info is not None or source is not None,
            description=_doc(cdef.cls, cdef.options), is_error=cdef.kind == "error",
            entity=info, sdk=sdk, location=_loc(cdef.location),
        )

    def _external(self, cdef: ClassDef, fields: tuple[Field, ...], info: EntityInfo) -> EntityInfo:
        """``@entity(external="auth.users", key="id")``: the tenancy's user entity read from an
        existing table. Its fields are plain columns of that table (no relations, defaults or
        generated behaviour): fraisec only reads them."""
        raw, key = cdef.options.get("external"), cdef.options.get("key", "id")
        parts = raw.split(".") if isinstance(raw, str) else []
        settings_schemas = {self.settings.schema_name, self.settings.private_schema}
        problem = None
        if len(parts) != 2 or not all(_SQL_IDENTIFIER.match(p) for p in parts) or parts[0] in settings_schemas:
            problem = f"external={raw!r} must name an existing table as schema.table, outside fraisec's schemas"
        elif self.tenancy is None or self.tenancy.user_entity != cdef.name:
            problem = "only the tenancy's user entity can be external (fq.tenancy(user=…))"
        elif key != "id":
            problem = f"key={key!r}: the external table's key must be its uuid column `id`"
        else:
            bad = next((f for f in fields if f.name != "id" and (
                not f.column or f.relation or f.maintain or f.column_default is not None or f.unique or f.index
                or f.expression or f.aggregate)), None)
            if bad is not None:
                problem = f"'{cdef.name}.{bad.name}' must be a plain column of the external table (no relation, " \
                          "default, unique, index, computed or maintained field)"
            elif any(cdef.options.get(o) for o in ("tenant", "seed", "soft_delete", "search", "writes", "service",
                                                   "privileged", "quota", "owned_by", "views", "renamed_from")):
                problem = "an external entity takes no table options: fraisec does not own the table"
        if problem:
            self.report("FSC255", f"@entity '{cdef.name}': {problem}", cdef.location,
                        hint='e.g. @fq.entity(external="auth.users", key="id") on the tenancy\'s user entity, '
                             "its fields the columns the API may read")
            return info
        return info.model_copy(update={"external": (parts[0], parts[1]), "table": parts[1], "pk_column": "id",
                                       "has_identifier": False, "uniques": (), "indexes": (), "index_decls": ()})

    def _seed(self, cdef: ClassDef, fields: tuple[Field, ...], info: EntityInfo) -> tuple:
        """``seed=[{"identifier": "free", "name": "Free", "price": 0}, …]``: reference rows of a
        global entity, keyed by ``identifier``, with literal values for its plain columns."""
        rows = cdef.options.get("seed")
        tenancy = self.tenancy
        identity = {tenancy.tenant_entity, tenancy.user_entity, tenancy.membership_entity} if tenancy else set()
        writable = {f.name: f for f in fields if f.column and not f.relation and f.maintain is None
                    and f.name not in ("id",) and f.expression is None}
        problem = None
        if not isinstance(rows, (list, tuple)) or not rows:
            problem = "seed= must be a non-empty list of dicts"
        elif cdef.options.get("tenant") or cdef.name in identity or not info.has_identifier:
            problem = "seeded rows belong to a global entity with an `identifier` (not a tenant, user or membership entity)"
        else:
            seen: set[Any] = set()
            required = [f.name for f in writable.values() if not f.type.nullable and f.column_default is None]
            for row in rows:
                if not isinstance(row, dict) or not isinstance(row.get("identifier"), str):
                    problem = "each seed row is a dict with a str `identifier`"
                elif row["identifier"] in seen:
                    problem = f"identifier {row['identifier']!r} is seeded twice"
                elif unknown := sorted(str(k) for k in row if k not in writable):
                    problem = f"'{unknown[0]}' is not a plain column field of '{cdef.name}'"
                elif missing := [n for n in required if n not in row]:
                    problem = f"row {row['identifier']!r} lacks the required field '{missing[0]}'"
                elif bad := [k for k, v in row.items() if not _seed_literal(_plain(v))]:
                    problem = f"row {row['identifier']!r}: '{bad[0]}' is not a str, int, float, bool, Decimal or None"
                if problem:
                    break
                seen.add(row["identifier"])
        if problem:
            self.report("FSC254", f"seed of '{cdef.name}': {problem}", cdef.location,
                        hint='e.g. @fq.entity(seed=[{"identifier": "free", "name": "Free", "price": 0}])')
            return ()
        order = list(writable)
        return tuple(tuple(sorted(((k, _plain(v)) for k, v in row.items()), key=lambda kv: order.index(kv[0])))
                     for row in sorted(rows, key=lambda r: r["identifier"]))

    def _invitation_fields(self, cdef: ClassDef, fields: tuple[Field, ...]) -> tuple[Field, ...]:
        """``invitation=True``: an ``email`` field is required; ``expires_at``, ``accepted_at``,
        ``revoked_at`` and ``invited_by`` (the caller) are added when not declared."""
        names = {f.name for f in fields}
        tenancy = self.tenancy
        if (tenancy is None or tenancy.membership_entity is None or not cdef.options.get("tenant")
                or "email" not in names):
            self.report("FSC231", f"@entity(invitation=True) '{cdef.name}' needs a tenancy with a membership "
                        "entity, tenant=True and an `email` field", cdef.location,
                        hint="e.g. `email: Email` on a tenant entity, with fq.tenancy(…, membership=…).")
            return fields
        timestamp = TypeRef(name="DateTime", kind=Kind.SCALAR)
        added = [
            Field(name="expires_at", graphql_name="expiresAt", type=timestamp, column="expires_at",
                  sql_type=sql_type_for("DateTime"), column_default=Default(kind="sql", value=INVITATION_TTL)),
            Field(name="accepted_at", graphql_name="acceptedAt", type=timestamp.model_copy(update={"nullable": True}),
                  column="accepted_at", sql_type=sql_type_for("DateTime")),
            Field(name="revoked_at", graphql_name="revokedAt", type=timestamp.model_copy(update={"nullable": True}),
                  column="revoked_at", sql_type=sql_type_for("DateTime")),
        ]
        if tenancy.user_entity:
            added.append(Field(name="invited_by", graphql_name="invitedBy",
                               type=TypeRef(name=tenancy.user_entity, kind=Kind.OBJECT),
                               column=naming.fk_column("invited_by"), sql_type="bigint",
                               relation=tenancy.user_entity, maintain="user"))
        return (*fields, *(f.model_copy(update={"location": _loc(cdef.location)})
                           for f in added if f.name not in names))

    def _soft_delete_field(self, cdef: ClassDef, fields: tuple[Field, ...]) -> tuple[Field, ...]:
        """``soft_delete=True`` adds ``deleted_at: DateTime | None`` unless the entity declares it."""
        existing = next((f for f in fields if f.name == SOFT_DELETE_FIELD), None)
        if existing is None:
            return (*fields, Field(
                name=SOFT_DELETE_FIELD, graphql_name=naming.camel(SOFT_DELETE_FIELD),
                type=TypeRef(name="DateTime", kind=Kind.SCALAR, nullable=True), column=SOFT_DELETE_FIELD,
                sql_type=sql_type_for("DateTime"), description="When the row was deleted (NULL: live).",
                location=_loc(cdef.location)))
        if existing.type.name != "DateTime" or not existing.type.nullable or existing.column is None:
            self.report("FSC223", f"'{cdef.name}.{SOFT_DELETE_FIELD}' must be `DateTime | None` on a "
                        "soft_delete entity", existing.location,
                        hint=f"Declare `{SOFT_DELETE_FIELD}: DateTime | None = None`, or leave it out.")
        return fields

    def _entity_info(self, cdef: ClassDef, fields: tuple[Field, ...]) -> EntityInfo:
        names = {f.name for f in fields}
        tenant_field = self._tenant_field(cdef, fields)
        uniques = self._field_groups(cdef, "unique", "__unique__", names)
        indexes = self._field_groups(cdef, "indexes", "__indexes__", names)
        decls = self._index_decls(cdef, fields)
        return EntityInfo(
            table=naming.table_name(cdef.name), view=naming.view_name(cdef.name),
            pk_column=naming.pk_column(cdef.name), tenant_field=tenant_field,
            is_tenant_root=self.tenancy is not None and self.tenancy.tenant_entity == cdef.name,
            has_identifier="identifier" in names, uniques=uniques, indexes=indexes,
            activity_log=bool(cdef.options.get("activity_log", False)),
            renamed_from=cdef.options.get("renamed_from"),
            writes=self._declared_writes(cdef), index_decls=decls,
            soft_delete=SOFT_DELETE_FIELD if cdef.options.get("soft_delete") else None,
            **self._search(cdef, fields), views=self._views(cdef), owned_by=self._owned_by(cdef, fields),
            invitation=bool(cdef.options.get("invitation")) and "accepted_at" in names,
            service=self._service(cdef), quota=self._quota(cdef), database=self._database(cdef),
            privileged=self._commands(cdef, "privileged", "FSC251"),
        )

    def _database(self, cdef: ClassDef) -> str | None:
        raw = cdef.options.get("database")
        if raw == "shared" and cdef.options.get("tenant"):
            self.report("FSC245", f"'{cdef.name}' is tenant-scoped and declared "
                        "database=\"shared\": the shared database holds no tenant's rows",
                        cdef.location, hint="Remove one of tenant=True and database=\"shared\".")
            return None
        if raw is None or raw in ("tenant", "shared"):
            return raw
        self.report("FSC245", f"database= of '{cdef.name}' is {raw!r}, not \"tenant\" or \"shared\"",
                    cdef.location, hint='database="shared" puts the entity in the shared database '
                                        '(database per tenant); leave it out for a tenant database.')
        return None

    def _quota(self, cdef: ClassDef) -> str | None:
        raw = cdef.options.get("quota")
        if raw is None:
            return None
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            return str(raw)
        if not isinstance(raw, str) or not raw.strip() or ";" in raw or not cdef.options.get("tenant"):
            self.report("FSC230", f"quota of '{cdef.name}' must be a row count or one SQL expression, on a "
                        "tenant entity", cdef.location,
                        hint='e.g. quota=3, or quota="(SELECT p.max_projects FROM {schema}.tb_plan p …'
                             ' WHERE … = {tenant})"')
            return None
        return raw.strip()

    def _service(self, cdef: ClassDef) -> tuple[str, ...]:
        return self._commands(cdef, "service", "FSC232")

    def _commands(self, cdef: ClassDef, option: str, code: str) -> tuple[str, ...]:
        """``service=`` / ``privileged=``: the SQL commands a narrow role may run on the table."""
        raw = cdef.options.get(option) or ()
        commands = tuple(sorted({str(c).upper() for c in (raw if isinstance(raw, (list, tuple, set)) else [raw])}))
        bad = [c for c in commands if c not in ("SELECT", "INSERT", "UPDATE", "DELETE")]
        if bad:
            self.report(code, f"{option}= of '{cdef.name}' names {bad[0]!r}, not SELECT, INSERT, UPDATE or DELETE",
                        cdef.location, hint=f'e.g. {option}=("SELECT", "UPDATE")')
            return ()
        return commands

    def _owned_by(self, cdef: ClassDef, fields: tuple[Field, ...]) -> str | None:
        """``owned_by="customer"``: a relation to the user entity on a tenant entity."""
        name = cdef.options.get("owned_by")
        if name is None:
            return None
        field = next((f for f in fields if f.name == name), None)
        user = self.tenancy.user_entity if self.tenancy else None
        if field is None or field.relation != user or not cdef.options.get("tenant"):
            self.report("FSC230", f"owned_by={name!r} of '{cdef.name}' must name a relation to the user entity "
                        "of a tenant entity", cdef.location,
                        hint=f"e.g. `customer: {user or 'User'} = fq.current_user()` and owned_by=\"customer\".")
            return None
        return name

    def _views(self, cdef: ClassDef) -> tuple[tuple[str, str], ...]:
        """``views={"published": "{row}.published"}``: v_<x>_published shows the rows the
        predicate admits (and, on a soft-delete entity, only live ones)."""
        raw = cdef.options.get("views") or {}
        if not isinstance(raw, dict):
            self.report("FSC229", f"views of '{cdef.name}' must be a dict of name to predicate", cdef.location,
                        hint='e.g. views={"published": "{row}.published"}')
            return ()
        views = []
        for name, predicate in raw.items():
            if not isinstance(name, str) or not _VIEW_NAME.match(name):
                self.report("FSC229", f"view name {name!r} of '{cdef.name}' is not an identifier", cdef.location,
                            hint="Use lower_snake_case.")
                continue
            if not isinstance(predicate, str) or not predicate.strip() or ";" in predicate:
                self.report("FSC229", f"the predicate of view '{name}' of '{cdef.name}' is not one SQL condition",
                            cdef.location, hint='e.g. "{row}.published AND {row}.title <> \'\'"')
                continue
            views.append((name, predicate.strip()))
        return tuple(views)

    def _search(self, cdef: ClassDef, fields: tuple[Field, ...]) -> dict[str, Any]:
        """``search={"title": "A", "content": "B"}`` (or a list of fields, weight B)."""
        raw = cdef.options.get("search")
        if not raw:
            return {}
        items = raw.items() if isinstance(raw, dict) else ((name, "B") for name in raw)
        text_columns = {f.name: f.column for f in fields if f.column and not f.relation and not f.type.is_list
                        and (f.sql_type in ("text", None)
                             or (f.sql_type or "").startswith(("varchar", "character varying")))}
        search = []
        for name, weight in items:
            if name not in text_columns or not text_columns[name]:
                self.report("FSC228", f"search of '{cdef.name}' names '{name}', which is not a text field",
                            cdef.location, hint=_suggest(str(name), set(text_columns), "Name str fields."))
                continue
            if str(weight).upper() not in ("A", "B", "C", "D"):
                self.report("FSC228", f"search weight {weight!r} of '{cdef.name}.{name}' is not A, B, C or D",
                            cdef.location, hint='e.g. search={"title": "A", "content": "B"}')
                continue
            search.append((text_columns[name], str(weight).upper()))
        language = cdef.options.get("search_language", "english")
        if not isinstance(language, str) or not _EXTENSION.match(language):
            self.report("FSC228", f"search_language {language!r} of '{cdef.name}' is not a configuration name",
                        cdef.location, hint='e.g. search_language="english" (or "simple").')
            language = "english"
        return {"search": tuple(search), "search_language": language}

    def _declared_writes(self, cdef: ClassDef) -> tuple[tuple[str, str | None], ...]:
        """``writes={"INSERT": "admin", "DELETE": None}``: commands hand-written functions run."""
        raw = cdef.options.get("writes")
        if raw is None:
            return ()
        roles = tuple(self.tenancy.roles) if self.tenancy else ()
        items = raw.items() if isinstance(raw, dict) else ((c, None) for c in raw) \
            if isinstance(raw, (list, tuple, set, frozenset)) else None
        if items is None:
            self.report("FSC221", f"writes of '{cdef.name}' must be a dict of command to role",
                        cdef.location, hint='Write writes={"INSERT": "admin", "DELETE": None}.')
            return ()
        writes = {}
        for command, role in items:
            command = str(command).upper()
            if command not in ("INSERT", "UPDATE", "DELETE"):
                self.report("FSC221", f"writes of '{cdef.name}' names unknown command '{command}'",
                            cdef.location, hint="Use INSERT, UPDATE or DELETE.")
                continue
            role = role.value if isinstance(role, Enum) else role
            if role is not None and role is not True and role not in roles:
                self.report("FSC221", f"writes of '{cdef.name}' requires unknown role {role!r}",
                            cdef.location, hint=_suggest(str(role), set(roles), "Use a role of tenancy(roles=…), "
                                                         "or None for any member."))
                continue
            writes[command] = None if role is True else role
        return tuple(sorted(writes.items()))

    def _tenant_field(self, cdef: ClassDef, fields: tuple[Field, ...]) -> str | None:
        tenant = cdef.options.get("tenant")
        if tenant in (None, False):
            return None
        if self.tenancy is None:
            self.report("FSC208", f"entity '{cdef.name}' is tenant-scoped but no tenancy() is declared",
                        cdef.location, hint='Add fq.tenancy(tenant="Organization", claim="org_id").')
            return None
        if isinstance(tenant, str):
            match = next((f for f in fields if f.name == tenant and f.relation), None)
        else:
            match = next((f for f in fields if f.relation == self.tenancy.tenant_entity), None)
        if match is None or match.relation != self.tenancy.tenant_entity:
            self.report("FSC208", f"tenant-scoped entity '{cdef.name}' has no relation field to "
                        f"'{self.tenancy.tenant_entity}'", cdef.location,
                        hint=f"Add a field such as `{naming.snake(self.tenancy.tenant_entity)}: "
                             f"{self.tenancy.tenant_entity}`.")
            return None
        if match.type.nullable:
            self.report("FSC208", f"tenant field '{cdef.name}.{match.name}' must not be optional",
                        match.location, hint="Every row of a tenant-scoped table belongs to a tenant.")
        return match.name

    def _index_decls(self, cdef: ClassDef, fields: tuple[Field, ...]) -> tuple[IndexDecl, ...]:
        """``fq.index(...)`` entries of ``indexes=`` / ``__indexes__`` (FSC227 for a bad one)."""
        raw = list(cdef.options.get("indexes", ())) + list(getattr(cdef.cls, "__indexes__", ()))
        columns = {f.name: f.column for f in fields if f.column}
        decls = []
        for spec in (r for r in raw if isinstance(r, IndexSpec)):
            where = f"fq.index() on '{cdef.name}'"
            unknown = [n for n in (*spec.fields, *spec.desc, *spec.include) if n not in columns]
            if unknown or not spec.fields:
                self.report("FSC227", f"{where} names {'unknown field ' + repr(unknown[0]) if unknown else 'no field'}",
                            spec.location or cdef.location,
                            hint=_suggest(unknown[0] if unknown else "", set(columns), "Name stored fields."))
                continue
            if spec.using not in ("btree", "gin", "gist", "brin", "hash"):
                self.report("FSC227", f"{where} uses {spec.using!r}", spec.location or cdef.location,
                            hint="Use btree, gin, gist, brin or hash.")
                continue
            if spec.where is not None and (not isinstance(spec.where, str) or ";" in spec.where):
                self.report("FSC227", f"{where} has a where= that is not one SQL predicate",
                            spec.location or cdef.location, hint='e.g. where="published"')
                continue
            decls.append(IndexDecl(columns=tuple(columns[n] for n in spec.fields),
                                   desc=tuple(columns[n] for n in spec.desc), using=spec.using,
                                   where=spec.where, include=tuple(columns[n] for n in spec.include),
                                   unique=spec.unique))
        return tuple(decls)

    def _field_groups(self, cdef: ClassDef, option: str, attribute: str,
                      names: set[str]) -> tuple[tuple[str, ...], ...]:
        raw = list(cdef.options.get(option, ())) + list(getattr(cdef.cls, attribute, ()))
        groups = []
        for group in raw:
            if isinstance(group, IndexSpec):
                continue  # an index kind: see _index_decls
            columns = (group,) if isinstance(group, str) else tuple(group)
            for column in columns:
                if column not in names:
                    self.report("FSC210", f"{attribute.strip('_')} of '{cdef.name}' names unknown field "
                                f"'{column}'", cdef.location, hint=_suggest(column, names, "Use a field name."))
            groups.append(columns)
        return tuple(groups)

    def _fields(self, cdef: ClassDef, *, entity: bool = False, for_input: bool = False,
                settings: Settings | None = None) -> tuple[Field, ...]:
        lines = cdef.member_lines
        result: list[Field] = []
        if entity and "id" not in _annotations(cdef.cls):
            result.append(Field(name="id", graphql_name="id", type=TypeRef(name="ID", kind=Kind.SCALAR),
                                column="id", sql_type="uuid"))
        for name, annotation in _annotations(cdef.cls).items():
            location = Location(file=cdef.location.file, line=lines.get(name, cdef.location.line))
            resolved = resolve_annotation(annotation, cdef.namespace, self.known)
            if not isinstance(resolved, Resolved):
                self._annotation_problem(resolved, f"{cdef.name}.{name}", location)
                continue
            value = cdef.cls.__dict__.get(name, MISSING)
            spec = value if isinstance(value, FieldSpec) else resolved.spec
            if isinstance(value, FieldSpec):
                value = value.default
            field = self._field(name, resolved.type, value, spec, location, for_input)
            if entity:
                field = self._entity_field(cdef, field, location)
            if field is not None:
                result.append(field)
        return tuple(result)

    def _field(self, name: str, ref: TypeRef, value: Any, spec: FieldSpec | None,
               location: Location, for_input: bool) -> Field:
        options = spec.options if spec else {}
        if value is MISSING and spec is not None:
            value = spec.default
        data: dict[str, Any] = {
            "name": name, "graphql_name": naming.camel(name), "type": ref, "location": _loc(location),
            "description": options.get("description"),
            "sdk": {k: options[k] for k in _SDK_FIELD_KEYS if options.get(k) is not None},
        }
        if for_input and value is not MISSING:
            data.update(has_default=True, default_value=_plain(value))
        if not for_input:
            data["aggregate"] = options.get("aggregate")
            if options.get("transitions") is not None:
                data["transitions"] = self._transitions(name, options["transitions"], location)
            if options.get("sql_type") is not None:
                data["sql_type"] = self._declared_sql_type(name, options["sql_type"], location)
            typed = self._typed_sql_type(name, ref, options, location)
            if typed is not None:
                data["sql_type"] = typed
            data.update(unique=bool(options.get("unique")), index=bool(options.get("index")),
                        expression=options.get("expression"), renamed_from=options.get("renamed_from"),
                        on_delete=options.get("on_delete"))
            data["column_default"] = self._column_default(name, ref, value, location)
            if isinstance(value, CurrentUser):
                data.update(maintain="user", maintain_on_update=value.on_update)
            elif isinstance(value, Slug):
                data.update(maintain="slug", slug_source=value.source)
            elif isinstance(value, SqlDefault) and value.on_update:
                data.update(maintain="now", maintain_on_update=True)
        return Field(**data)

    def _transitions(self, name: str, raw: Any, location: Location) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``fq.field(transitions={"pending": ["accepted", "revoked"]})`` (enum members or values)."""
        value = lambda v: str(v.value if isinstance(v, Enum) else v)  # noqa: E731
        if not isinstance(raw, dict) or not all(isinstance(t, (list, tuple, set, frozenset)) for t in raw.values()):
            self.report("FSC230", f"transitions of field '{name}' must map a state to the states it may "
                        "move to", location, hint='e.g. transitions={"pending": ["accepted", "revoked"]}')
            return ()
        return tuple(sorted((value(k), tuple(sorted(value(v) for v in targets))) for k, targets in raw.items()))

    def _typed_sql_type(self, name: str, ref: TypeRef, options: dict[str, Any], location: Location) -> str | None:
        """``fq.field(max_length=120)`` → varchar(120) on a str field; ``precision=10, scale=2``
        → numeric(10,2) on a Decimal or float field. Checked against the annotation, unlike a
        free ``sql_type=``; schema.json keeps the scalar (String, Decimal)."""
        length, precision, scale = (options.get(k) for k in ("max_length", "precision", "scale"))
        if length is None and precision is None and scale is None:
            return None
        base = sql_type_for(ref.name) if ref.kind is Kind.SCALAR and not ref.is_list else None
        problem = None
        if options.get("sql_type") is not None:
            problem = "is declared with sql_type= too"
        elif length is not None and (precision is not None or scale is not None):
            problem = "has both max_length= and precision=/scale="
        elif length is not None and base != "text":
            problem = f"has max_length= but is typed {ref.graphql}, not str"
        elif length is not None and not (_is_int(length) and 1 <= length <= 10485760):
            problem = f"has max_length={length!r}, not a length from 1 to 10485760"
        elif length is None and base not in ("numeric", "double precision"):
            problem = f"has precision=/scale= but is typed {ref.graphql}, not Decimal or float"
        elif length is None and not (_is_int(precision) and 1 <= precision <= 1000
                                     and (scale is None or (_is_int(scale) and 0 <= scale <= precision))):
            problem = (f"has precision={precision!r}, scale={scale!r}: need 1 <= precision <= 1000 "
                       "and 0 <= scale <= precision")
        if problem is not None:
            self.report("FSC237", f"field '{name}' {problem}", location,
                        hint='e.g. `title: str = fq.field(max_length=120)` or '
                             '`price: Decimal = fq.field(precision=10, scale=2)`.')
            return None
        if length is not None:
            return f"varchar({length})"
        return f"numeric({precision},{scale or 0})"

    def _declared_sql_type(self, name: str, sql_type: Any, location: Location) -> str | None:
        """``fq.field(sql_type="numeric(10, 2)")`` / ``"varchar(80)"``: a type name, not SQL."""
        if not isinstance(sql_type, str) or not _SQL_TYPE.match(sql_type.strip().lower()):
            self.report("FSC227", f"sql_type={sql_type!r} of field '{name}' is not a PostgreSQL type name",
                        location, hint='e.g. sql_type="numeric(10, 2)" or "varchar(80)".')
            return None
        return " ".join(sql_type.strip().lower().split())

    def _column_default(self, name: str, ref: TypeRef, value: Any, location: Location) -> Default | None:
        if value is MISSING or isinstance(value, (CurrentUser, Slug)):
            return None
        if isinstance(value, SqlDefault):
            return Default(kind="sql", value=value.expression)
        if value is None:
            if not ref.nullable:
                self.report("FSC209", f"field '{name}' defaults to None but is not optional", location,
                            hint=f"Annotate it as `{ref.graphql} | None`, or give a real default.")
            return None
        plain = _plain(value)
        if not isinstance(plain, (str, int, float, bool)):
            self.report("FSC209", f"field '{name}' has a default of unsupported type "
                        f"{type(value).__name__}", location,
                        hint="Use a str, int, float or bool literal, or fq.sql(\"…\").")
            return None
        return Default(kind="literal", value=plain)

    def _entity_field(self, cdef: ClassDef, field: Field, location: Location) -> Field | None:
        ref = field.type
        if field.expression is not None or field.aggregate is not None:
            return field.model_copy(update={"column": None})
        if field.name == "id":
            if ref.name not in ("ID", "UUID") or ref.is_list:
                self.report("FSC209", f"'{cdef.name}.id' is the trinity uuid and must be typed ID",
                            location, hint="Write `id: ID`, or leave it out (it is implicit).")
            return field.model_copy(update={"column": "id", "sql_type": "uuid"})
        if ref.kind is Kind.OBJECT and ref.name in self.entity_names and not ref.is_list:
            if field.on_delete is not None and " ".join(str(field.on_delete).upper().split()) not in ON_DELETE_ACTIONS:
                self.report("FSC209", f"on_delete={field.on_delete!r} of '{cdef.name}.{field.name}' is not a "
                            "foreign key action", location,
                            hint=f"Use one of {', '.join(ON_DELETE_ACTIONS)}.")
            if field.maintain == "user" and (self.tenancy is None or ref.name != self.tenancy.user_entity):
                self.report("FSC222", f"'{cdef.name}.{field.name}' is fq.current_user() but is not a relation "
                            "to the tenancy's user entity", location,
                            hint="Annotate it with the user entity (`author: User = fq.current_user()`), "
                                 "and declare fq.tenancy(user=\"User\").")
            key_type = "uuid" if ref.name in self.external_names else "bigint"
            return field.model_copy(update={"column": naming.fk_column(field.name), "sql_type": key_type,
                                            "relation": ref.name})
        if field.maintain == "user":
            self.report("FSC222", f"'{cdef.name}.{field.name}' is fq.current_user() but is not a relation "
                        "to the user entity", location,
                        hint="Annotate it with the user entity: `author: User = fq.current_user()`.")
            return None
        if field.maintain == "slug" and (ref.kind is not Kind.SCALAR or sql_type_for(ref.name) != "text"
                                         or field.slug_source not in _annotations(cdef.cls)):
            self.report("FSC222", f"'{cdef.name}.{field.name}' is fq.slug({field.slug_source!r}), which needs a "
                        "text field and a source field of the same entity", location,
                        hint="e.g. `identifier: str = fq.slug(\"title\")` with `title: str`.")
        if field.maintain == "now" and ref.name not in ("DateTime", "Date"):
            self.report("FSC222", f"'{cdef.name}.{field.name}' is fq.now(on_update=True) but is typed "
                        f"{ref.graphql}", location, hint="Type it DateTime.")
        if ref.kind in (Kind.SCALAR, Kind.ENUM) and not ref.is_list:
            enum_type = self.native_enums.get(ref.name, "text") if ref.kind is Kind.ENUM else None
            sql_type = field.sql_type or enum_type or sql_type_for(ref.name)
            return field.model_copy(update={"column": field.name, "sql_type": sql_type})
        if ref.kind is Kind.SCALAR and ref.is_list:
            return field.model_copy(update={"column": field.name, "sql_type": sql_type_for(ref.name) + "[]"})
        self.report("FSC202", f"entity field '{cdef.name}.{field.name}' of type {ref.graphql} "
                    "cannot be stored in a column", location,
                    hint="Entity fields are scalars, enums, scalar lists or a relation to another "
                         "@entity; use fq.computed(\"…\") for anything else.")
        return None

    def _annotation_problem(self, problem: Any, where: str, location: Location) -> None:
        if problem.code == "FSC200":
            hint = _suggest(problem.unknown_name or "", set(self.known) | _SCALAR_NAMES,
                            "Define it with @type/@entity/@enum, or import it.")
            self.report("FSC200", f"{problem.message} in '{where}'", location, hint=hint)
        else:
            self.report("FSC202", f"unsupported annotation in '{where}': {problem.message}", location,
                        hint="Use a scalar (str, int, float, bool, ID, DateTime, …), an @enum, a "
                             "registered type, `X | None` or `list[X]`.")

    # -- enums, unions ------------------------------------------------------------------------
    def _enums(self) -> list[EnumType]:
        result = []
        for edef in self.raw.enums:
            values = []
            for member in edef.cls:
                if not isinstance(member.value, (str, int)) or isinstance(member.value, bool):
                    self.report("FSC105", f"enum value {edef.name}.{member.name} must be a str or int",
                                edef.location, hint='e.g. ADMIN = "admin"')
                    continue
                values.append((member.name, member.value))
            result.append(EnumType(name=edef.name, values=tuple(values),
                                   description=inspect.getdoc(edef.cls) if edef.cls.__doc__ else None,
                                   location=_loc(edef.location), **self._native_enum(edef, values)))
        return result

    def _native_enum(self, edef: Any, values: list[tuple[str, str | int]]) -> dict[str, Any]:
        """``@enum(native=True, renamed_from={"new": "old"})``: the type and its value renames."""
        native, renamed = edef.options.get("native", False), edef.options.get("renamed_from") or {}
        if not isinstance(native, bool):
            self.report("FSC234", f"@enum(native={native!r}) on '{edef.name}' is not True or False",
                        edef.location, hint="Write @fq.enum(native=True).")
            return {}
        type_name = naming.enum_type_name(edef.name)
        if native and (type_name in _RESERVED_TYPES or type_name.startswith(("tb_", "v_"))):
            self.report("FSC234", f"enum '{edef.name}' would be the type '{type_name}', a name fraisec "
                        "generates itself", edef.location,
                        hint="Rename the enum class (the GraphQL name changes with it), or leave it "
                             "text with a CHECK (native=False).")
            return {}
        labels = [str(v) for _, v in values]
        pairs = []
        if not isinstance(renamed, dict):
            renamed = {None: renamed}
        for new, old in sorted(renamed.items(), key=lambda kv: str(kv[0])):
            new, old = _plain(new), _plain(old)
            if not native or str(new) not in labels or not isinstance(old, (str, int)) or str(old) in labels:
                self.report("FSC235", f"renamed_from={{{new!r}: {old!r}}} on enum '{edef.name}' is not a "
                            "rename of a native enum's value", edef.location,
                            hint="Map a current value to the old one it replaces, "
                                 "e.g. @fq.enum(native=True, renamed_from={\"canceled\": \"cancelled\"}); "
                                 "the old value must no longer be a member.")
                continue
            pairs.append((str(new), str(old)))
        return {"sql_type": self.native_enums.get(edef.name), "renamed_from": tuple(pairs)}

    def _unions(self) -> list[Union]:
        result = []
        for udef in self.raw.unions:
            members = tuple(getattr(m, "__name__", str(m)) for m in udef.members)
            for member in members:
                if self.known.get(member) is not Kind.OBJECT:
                    self.report("FSC200", f"union '{udef.name}' member '{member}' is not a registered type",
                                udef.location, hint=_suggest(member, set(self.known), "Decorate it with @type."))
            result.append(Union(name=udef.name, members=members, description=udef.description,
                                location=_loc(udef.location)))
        return result

    # -- operations -------------------------------------------------------------------------
    def _signature(self, op: OperationDef) -> tuple[TypeRef | None, list[Argument]]:
        try:
            sig = inspect.signature(op.func)
        except (TypeError, ValueError):
            return None, []
        args = []
        for param in sig.parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                self.report("FSC205", f"{op.kind} '{op.name}' has *{param.name}; arguments must be named",
                            op.location, hint="Declare each argument with a name and a type.")
                continue
            if param.annotation is param.empty:
                self.report("FSC202", f"argument '{param.name}' of {op.kind} '{op.name}' has no type",
                            op.location, hint="Annotate it, e.g. `status: str | None = None`.")
                continue
            resolved = resolve_annotation(param.annotation, op.namespace, self.known)
            if not isinstance(resolved, Resolved):
                self._annotation_problem(resolved, f"{op.name}({param.name})", op.location)
                continue
            has_default = param.default is not param.empty
            args.append(Argument(name=param.name, graphql_name=naming.camel(param.name),
                                 type=resolved.type, has_default=has_default,
                                 default_value=_plain(param.default) if has_default else None,
                                 location=_loc(op.location)))
        if sig.return_annotation is sig.empty:
            self.report("FSC202", f"{op.kind} '{op.name}' has no return type", op.location,
                        hint=f"Annotate it, e.g. `-> list[Project]`.")
            return None, args
        resolved = resolve_annotation(sig.return_annotation, op.namespace, self.known)
        if not isinstance(resolved, Resolved):
            self._annotation_problem(resolved, f"{op.name} return type", op.location)
            return None, args
        return resolved.type, args

    def _common(self, op: OperationDef) -> dict[str, Any] | None:
        ret, args = self._signature(op)
        if ret is None:
            return None
        options = {**op.options, **op.config}
        if "cache_ttl" in options:
            options.setdefault("cache_ttl_seconds", options.pop("cache_ttl"))
        rest_path = options.get("rest_path")
        default_method = "GET" if op.kind == "query" else "POST"
        return {
            "name": op.name, "graphql_name": naming.camel(op.name), "return_type": ret,
            "arguments": tuple(args), "inject": self._inject(op, options.get("inject")),
            "description": options.get("description") or (inspect.getdoc(op.func) if op.func.__doc__ else None),
            "rest_path": rest_path,
            "rest_method": (str(options.get("rest_method") or default_method).upper() if rest_path else None),
            "location": _loc(op.location), "_options": options,
        }

    def _inject(self, op: OperationDef, inject: Any) -> tuple[InjectParam, ...]:
        if inject is None:
            return ()
        if not isinstance(inject, dict):
            self.report("FSC204", f"inject of '{op.name}' must be a dict", op.location,
                        hint='e.g. inject={"org_id": "jwt:org_id"}')
            return ()
        allowed = ("jwt",) if op.kind == "query" else ("jwt", "jwt_optional")
        params = []
        for name, source in inject.items():
            match = _INJECT.match(source) if isinstance(source, str) else None
            if match is None or match.group(1) not in allowed:
                self.report("FSC204", f"inject['{name}'] of {op.kind} '{op.name}' is {source!r}; "
                            f"expected {' or '.join(a + ':<claim>' for a in allowed)}", op.location,
                            hint=f'e.g. inject={{"{name}": "jwt:{name}"}}')
                continue
            self._check_identifier(name, "inject key", op.location)
            params.append(InjectParam(name=name, source=match.group(1), claim=match.group(2)))
        return tuple(params)

    def _query(self, op: OperationDef) -> Query | None:
        common = self._common(op)
        if common is None:
            return None
        options = common.pop("_options")
        source = options.get("sql_source")
        target = next((c for c in self.raw.classes if c.name == common["return_type"].name), None)
        if source is None and target is not None:
            if target.kind == "entity":
                source = naming.view_name(target.name)
            elif "sql_source" in target.options:
                source = target.options["sql_source"]
        if source is not None:
            self._check_identifier(source, "sql_source", op.location)
        sdk = {k: options[k] for k in _QUERY_SDK_KEYS if options.get(k) is not None}
        return Query(**common, sql_source=source, sdk=sdk, order_by=self._order_by(op, options.get("order_by")))

    def _order_by(self, op: OperationDef, order_by: Any) -> tuple[tuple[str, bool], ...]:
        """``order_by=["-created_at", "identifier"]``: field names, ``-`` for descending."""
        if order_by is None:
            return ()
        if isinstance(order_by, str):
            order_by = [order_by]
        if (not isinstance(order_by, (list, tuple)) or not order_by
                or not all(isinstance(x, str) and x.lstrip("-") for x in order_by)):
            self.report("FSC236", f"order_by={order_by!r} of query '{op.name}' is not a list of field names",
                        op.location, hint='e.g. order_by=["-created_at", "identifier"] ("-": descending).')
            return ()
        return tuple((x.lstrip("-"), x.startswith("-")) for x in order_by)

    def _orderings(self, queries: list[Query | None], schema: Schema) -> list[Query | None]:
        """Check each declared order against its entity and view; map fields to columns. One
        view has one order: two queries ordering it differently would race for it."""
        out: list[Query | None] = []
        orders: dict[str, tuple[str, tuple]] = {}
        for q in queries:
            if q is None or not q.order_by:
                out.append(q)
                continue
            problem, columns = self._ordering(q, schema)
            if problem is None and orders.get(q.sql_source, (q.name, columns))[1] != columns:
                problem = (f"orders {q.sql_source} differently from query '{orders[q.sql_source][0]}'",
                           "Give one of them a filtered view of its own (views={…}), or the same order_by.")
            if problem is not None:
                self.report("FSC236", f"order_by of query '{q.name}' {problem[0]}", q.location, hint=problem[1])
                out.append(q.model_copy(update={"order_by": ()}))
                continue
            orders.setdefault(q.sql_source, (q.name, columns))
            out.append(q.model_copy(update={"order_by": columns}))
        return out

    def _ordering(self, q: Query, schema: Schema) -> tuple[tuple[str, str] | None, tuple]:
        entity = schema.type(q.return_type.name)
        if entity is None or entity.entity is None or not q.return_type.is_list:
            return ("needs a list of an @entity", "Order a list query over an entity's generated view."), ()
        info = entity.entity
        views = [info.view, *([f"{info.view}_trash"] if info.soft_delete else []),
                 *(f"{info.view}_{suffix}" for suffix, _ in info.views)]
        source = (q.sql_source or "").split(".")[-1]
        if source not in views:
            return (f"needs one of {entity.name}'s generated views as sql_source, not {q.sql_source}",
                    f"Use {', '.join(views)}; a hand-written view sorts itself (pagination_order=\"none\")."), ()
        if q.sdk.get("relay") or q.sdk.get("pagination_order"):
            return ("cannot be combined with relay=True or pagination_order=",
                    "A relay connection pages by its pk cursor; drop one of the two."), ()
        columns = []
        for name, desc in q.order_by:
            f = entity.field(name)
            if f is None or not f.column:
                stored = {g.name for g in entity.fields if g.column}
                return (f"names '{name}', which is not a stored field of {entity.name}",
                        _suggest(name, stored, "Order by fields stored in columns (not computed ones).")), ()
            columns.append((f.column, desc))
        return None, tuple(columns)

    def _mutation(self, op: OperationDef, schema: Schema) -> Mutation | None:
        common = self._common(op)
        if common is None:
            return None
        options = common.pop("_options")
        default_fn = naming.function_name(op.name)
        source = options.get("sql_source") or default_fn
        self._check_identifier(source, "sql_source", op.location)
        operation = options.get("operation")
        if operation is not None:
            operation = str(operation).upper()
            if operation not in _OPERATIONS:
                self.report("FSC105", f"operation={options['operation']!r} of mutation '{op.name}' is not "
                            f"one of {', '.join(_OPERATIONS)}", op.location,
                            hint=_suggest(operation, set(_OPERATIONS), ""))
        target = schema.type(common["return_type"].name)
        batch = self._batch_input(op, common, schema, target, operation)
        generated = (target is not None and target.entity is not None
                     and operation in _GENERATED_OPERATIONS
                     and options.get("generate", True) is not False and source == default_fn
                     and (not common["return_type"].is_list or batch is not None))
        sdk = {k: options[k] for k in _MUTATION_SDK_KEYS if options.get(k) is not None}
        permission = options.get("requires_permission")
        if permission is not None and (self.tenancy is None or permission not in dict(self.tenancy.permissions)
                                       or options.get("requires_role")):
            known = dict(self.tenancy.permissions) if self.tenancy else {}
            self.report("FSC233", f"mutation '{op.name}' requires permission {permission!r}, which "
                        + ("tenancy(permissions=…) does not declare" if permission not in known
                           else "cannot be combined with requires_role"), op.location,
                        hint=_suggest(str(permission), set(known), "Declare it in fq.tenancy(permissions=…)."))
            permission = None
        mutation = Mutation(**common, sql_source=source, operation=operation,
                            requires_role=options.get("requires_role"), requires_permission=permission,
                            generated=generated,
                            entity=target.name if generated else None, sdk=sdk)
        if generated and operation == "ACCEPT":
            user = schema.type(self.tenancy.user_entity) if self.tenancy and self.tenancy.user_entity else None
            if user is None or user.field("email") is None or user.field("email").column is None:
                self.report("FSC231", f"ACCEPT mutation '{op.name}' matches the invitee by e-mail, and the user "
                            "entity has no `email` field", op.location,
                            hint="Add `email: Email = fq.field(unique=True)` to the user entity.")
                generated = False
                mutation = mutation.model_copy(update={"generated": False, "entity": None})
        if options.get("privileged"):
            mutation = mutation.model_copy(update={"privileged": self._privileged(mutation, options, generated)})
        if generated and batch is not None:  # the input's fields are the arguments of each row
            rows = mutation.model_copy(update={"arguments": tuple(
                Argument(name=f.name, graphql_name=f.graphql_name, type=f.type, has_default=f.has_default,
                         default_value=f.default_value, location=f.location) for f in batch.fields)})
            return mutation.model_copy(update={"batch": batch.name,
                                               "argument_fields": self._argument_fields(rows, target)})
        if generated:
            mutation = mutation.model_copy(update={"argument_fields": self._argument_fields(mutation, target)})
            mutation = mutation.model_copy(update={"clearable": self._clearable(mutation, target),
                                                   **self._upsert(mutation, target, options),
                                                   "service": self._service_mutation(mutation, target, options,
                                                                                     schema)})
        return mutation

    def _privileged(self, mutation: Mutation, options: dict[str, Any], generated: bool) -> bool:
        """``privileged=True``: a hand-written function that runs as the privileged role. It must
        find its tenant (and user) through the context helpers: an argument naming the tenant
        would let any caller act in any tenant."""
        if options.get("privileged") is not True or generated or options.get("service") or self.tenancy is None \
                or "sql_source" not in options:
            self.report("FSC251", f"privileged=True on mutation '{mutation.name}' marks a hand-written db/ function "
                        "(sql_source=…) of a schema with fq.tenancy, not a generated or service mutation",
                        mutation.location, hint='e.g. @fq.mutation(sql_source="fn_leave_tenant", privileged=True)')
            return False
        tenant_names = {self.tenancy.claim, naming.snake(self.tenancy.tenant_entity) + "_id", "tenant_id"}
        named = [a.name for a in mutation.arguments if a.name in tenant_names]
        named += [p.name for p in mutation.inject if p.claim == self.tenancy.claim or p.name in tenant_names]
        if named:
            self.report("FSC252", f"privileged mutation '{mutation.name}' takes the tenant as '{named[0]}'",
                        mutation.location, hint="Remove it: the function reads the tenant with "
                                                "fn_current_tenant_pk(), which checks the caller's membership.")
            return False
        return True

    def _batch_input(self, op: OperationDef, common: dict[str, Any], schema: Schema, target: ObjectType | None,
                     operation: str | None) -> InputType | None:
        """A CREATE returning a list of an entity is a batch: its one argument is a list of an
        @input whose fields are named like the single create's arguments (FSC250 otherwise)."""
        if operation not in ("CREATE", "INSERT") or not common["return_type"].is_list or target is None \
                or target.entity is None:
            return None
        args = common["arguments"]
        item = schema_input = None
        if len(args) == 1 and args[0].type.is_list and args[0].type.kind is Kind.INPUT:
            item = args[0]
            schema_input = next((i for i in schema.inputs if i.name == item.type.name), None)
        options = {**op.options, **op.config}
        if schema_input is None or common["inject"] or options.get("service") or options.get("sql_source"):
            self.report("FSC250", f"CREATE mutation '{op.name}' returns a list, so it is a batch: it takes exactly "
                        "one argument, a list of an @fq.input, and no inject, service or sql_source",
                        op.location, hint=f"e.g. `def {op.name}(items: list[New{target.name}]) -> "
                                          f"list[{target.name}]` with `@fq.input class New{target.name}`.")
            return None
        return schema_input

    def _upsert(self, mutation: Mutation, entity: ObjectType, options: dict[str, Any]) -> dict[str, Any]:
        """UPSERT's ``conflict=("metric", "period_start")`` (a declared unique key, the tenant
        implied) and ``increment=("quantity",)`` (numeric fields added to on conflict)."""
        if mutation.operation != "UPSERT":
            if options.get("conflict") or options.get("increment"):
                self.report("FSC230", f"conflict=/increment= of mutation '{mutation.name}' need operation=\"UPSERT\"",
                            mutation.location, hint="Declare operation=\"UPSERT\", or drop the options.")
            return {}
        conflict = tuple(options.get("conflict") or ())
        increment = tuple(options.get("increment") or ())
        tenant = entity.entity.tenant_field
        keys = {tuple(sorted(g)) for g in entity.entity.uniques}
        keys |= {(f.name,) for f in entity.fields if f.unique}
        keys |= {("identifier",)} if entity.entity.has_identifier else set()
        wanted = tuple(sorted(n for n in conflict if n != tenant))
        if not conflict or wanted not in {tuple(sorted(n for n in k if n != tenant)) for k in keys}:
            self.report("FSC230", f"UPSERT mutation '{mutation.name}' needs conflict= naming a unique key of "
                        f"'{entity.name}'", mutation.location,
                        hint="Declare the key in __unique__ (or fq.field(unique=True)) and name its fields.")
            return {}
        written = set(mutation.argument_fields.values())
        missing = [n for n in (*wanted, *increment) if n not in written]
        bad = [n for n in increment if (entity.field(n) is None or entity.field(n).sql_type not in _NUMERIC)]
        if missing or bad:
            self.report("FSC230", f"UPSERT mutation '{mutation.name}': "
                        + (f"the key field '{missing[0]}' is not an argument" if missing
                           else f"increment field '{bad[0]}' is not a numeric field"),
                        mutation.location, hint="Pass every key field as an argument; increment numeric fields.")
            return {}
        return {"conflict": wanted, "increment": increment}

    def _service_mutation(self, mutation: Mutation, entity: ObjectType, options: dict[str, Any],
                          schema: Schema) -> bool:
        """``service=True``: the entity must grant the service role the command it runs, and
        every entity its relation arguments name must let it look them up (SELECT)."""
        if not options.get("service"):
            return False
        needed = {"CREATE": "INSERT", "INSERT": "INSERT", "UPDATE": "UPDATE", "DELETE": "DELETE",
                  "UPSERT": "UPDATE"}.get(mutation.operation or "")
        if needed is None or needed not in entity.entity.service or mutation.requires_role:
            self.report("FSC232", f"service mutation '{mutation.name}' needs @entity(service=(…, \"{needed}\")) on "
                        f"'{entity.name}', a CREATE/UPDATE/DELETE/UPSERT operation and no requires_role",
                        mutation.location, hint="The service role has no tenant role; declare what it may do "
                                                "on the entity.")
            return False
        for field_name in mutation.argument_fields.values():
            target = schema.type(entity.field(field_name).relation or "") if entity.field(field_name) else None
            if target is not None and target.entity is not None and "SELECT" not in target.entity.service:
                self.report("FSC232", f"service mutation '{mutation.name}' looks up '{target.name}' by id, but "
                            f"'{target.name}' does not let the service role read it", mutation.location,
                            hint=f'Add service=("SELECT",) to @fq.entity on {target.name}.')
                return False
        return True

    def _clearable(self, mutation: Mutation, entity: ObjectType) -> tuple[str, ...]:
        """The nullable fields an UPDATE's ``clear`` argument may set to NULL: those it writes."""
        arg = next((a for a in mutation.arguments if a.name == CLEAR_ARGUMENT), None)
        if arg is None:
            return ()
        if mutation.operation != "UPDATE" or not (arg.type.is_list and arg.type.name == "String"):
            self.report("FSC205", f"argument '{CLEAR_ARGUMENT}' of mutation '{mutation.name}' is the clear "
                        "list of an UPDATE: `clear: list[str] | None = None`", mutation.location,
                        hint="Declare it on an UPDATE mutation, typed list[str] | None, or rename it.")
            return ()
        written = set(mutation.argument_fields.values())
        clearable = tuple(f.name for f in entity.fields
                          if f.name in written and f.column and f.type.nullable and f.maintain is None)
        if not clearable:
            self.report("FSC205", f"mutation '{mutation.name}' declares '{CLEAR_ARGUMENT}' but writes no "
                        "optional field", mutation.location,
                        hint="Only optional (`X | None`) fields the mutation writes can be cleared.")
        return clearable

    def _argument_fields(self, mutation: Mutation, entity: ObjectType) -> dict[str, str]:
        """Which entity field each argument of a generated mutation writes (FSC205 otherwise)."""
        mapping: dict[str, str] = {}
        tenant_field = entity.entity.tenant_field if entity.entity else None
        for arg in mutation.arguments:
            if arg.name == CLEAR_ARGUMENT and entity.field(CLEAR_ARGUMENT) is None:
                continue  # the clear list: see _clearable
            if mutation.operation == "ACCEPT":
                continue  # the token: checked by _check_operation_shape
            target = _argument_target(arg, entity, self.tenancy, tenant_field)
            written = entity.field(target) if target else None
            if written is not None and written.maintain in ("now", "user"):
                self.report("FSC222", f"argument '{arg.name}' of mutation '{mutation.name}' writes "
                            f"'{entity.name}.{written.name}', which is maintained "
                            f"({'the current user' if written.maintain == 'user' else 'the time'})",
                            mutation.location, hint="Remove the argument: the database sets the field.")
                continue
            if target is None:
                self.report("FSC205", f"argument '{arg.name}' of mutation '{mutation.name}' matches no field "
                            f"of entity '{entity.name}'", mutation.location,
                            hint=_suggest(arg.name, {f.name for f in entity.fields if f.column},
                                          "Name arguments after the entity's fields (a relation takes "
                                          "`<field>_id: ID`)."))
                continue
            mapping[arg.name] = target
        self._check_operation_shape(mutation, entity, mapping, tenant_field)
        return mapping

    def _check_operation_shape(self, mutation: Mutation, entity: ObjectType, mapping: dict[str, str],
                               tenant_field: str | None) -> None:
        op = mutation.operation
        if op in ("UPDATE", "DELETE", "RESTORE", "PURGE", "REVOKE") and mapping.get("id") != "id":
            self.report("FSC205", f"{op} mutation '{mutation.name}' needs an `id: ID` argument",
                        mutation.location, hint="The row to change is found by its public uuid.")
        if op in ("DELETE", "RESTORE", "PURGE") and set(mapping) - {"id"}:
            self.report("FSC205", f"{op} mutation '{mutation.name}' takes only `id`", mutation.location,
                        hint="Remove the other arguments.")
        if op in ("INVITE", "ACCEPT", "REVOKE") and not entity.entity.invitation:
            self.report("FSC231", f"{op} mutation '{mutation.name}' needs an @entity(invitation=True), and "
                        f"'{entity.name}' is not one", mutation.location,
                        hint=f"Declare @fq.entity(tenant=True, invitation=True) on {entity.name}.")
        if op == "REVOKE" and set(mapping) - {"id"}:
            self.report("FSC205", f"REVOKE mutation '{mutation.name}' takes only `id`", mutation.location,
                        hint="Remove the other arguments.")
        if op == "ACCEPT" and [a.name for a in mutation.arguments] != ["token"]:
            self.report("FSC231", f"ACCEPT mutation '{mutation.name}' takes exactly `token: str`",
                        mutation.location, hint="The invitee accepts with the token the invitation sent.")
        if op in ("RESTORE", "PURGE") and not entity.entity.soft_delete:
            self.report("FSC223", f"{op} mutation '{mutation.name}' needs a soft-delete entity, and "
                        f"'{entity.name}' is not one", mutation.location,
                        hint=f"Declare @fq.entity(soft_delete=True) on {entity.name}, or use DELETE.")
        if op == "SIGNUP" and (self.tenancy is None or entity.name != self.tenancy.tenant_entity
                               or self.tenancy.membership_entity is None or self.tenancy.user_entity is None):
            self.report("FSC231", f"SIGNUP mutation '{mutation.name}' creates the tenant entity with its first "
                        "owner: it must return the tenancy's tenant entity, with a user and membership",
                        mutation.location, hint="e.g. `def sign_up(identifier: str, name: str) -> Organization`.")
        if op in ("CREATE", "INSERT", "UPSERT", "INVITE", "SIGNUP"):
            written = set(mapping.values()) | ({tenant_field} if tenant_field else set())
            for f in entity.fields:
                required = (f.column and f.name != "id" and not f.type.nullable and f.column_default is None
                            and f.maintain is None)
                if required and f.name not in written:
                    self.report("FSC205", f"CREATE mutation '{mutation.name}' does not provide required "
                                f"field '{entity.name}.{f.name}'", mutation.location,
                                hint=f"Add an argument `{f.name if not f.relation else f.name + '_id'}`, "
                                     "or give the field a default.")

    def _observer(self, odef: Any) -> Observer | None:
        name = getattr(odef.target, "__name__", odef.target)
        if name not in self.entity_names:
            self.report("FSC211", f"observer target '{name}' is not an @entity", odef.location,
                        hint=_suggest(str(name), self.entity_names, "Observe an entity class."))
            return None
        event = str(odef.on).upper()
        if event not in ("INSERT", "UPDATE", "DELETE"):
            self.report("FSC211", f"observer on={odef.on!r} is not INSERT, UPDATE or DELETE", odef.location,
                        hint='e.g. on="INSERT"')
            return None
        if not isinstance(odef.subject, str) or not odef.subject:
            self.report("FSC211", "observer subject must be a non-empty string", odef.location,
                        hint='e.g. subject="saas.project.created"')
            return None
        if odef.options.get("activity") and not any(
                c.kind == "entity" and c.options.get("activity_log") for c in self.raw.classes):
            self.report("FSC211", "observer activity=True, but no entity is declared "
                        "@entity(activity_log=True)", odef.location,
                        hint="Declare the activity-log entity, or drop activity=True.")
            return None
        default_name = f"{naming.snake(name)}_{event.lower()}"
        return Observer(name=odef.options.get("name") or default_name, entity=name, event=event,
                        subject=odef.subject, activity=bool(odef.options.get("activity", False)),
                        location=_loc(odef.location))

    def _check_identifier(self, value: Any, what: str, location: Location) -> None:
        if not isinstance(value, str) or not _SQL_IDENTIFIER.match(value):
            self.report("FSC213", f"{what} {value!r} is not a valid SQL identifier", location,
                        hint="Use letters, digits and underscores, optionally schema-qualified.")


# Every scalar name an annotation may use, for "Did you mean …?" on an unknown name.
_NUMERIC = {"integer", "bigint", "smallint", "double precision", "real", "numeric"}
_EXTENSION = re.compile(r"^[a-z][a-z0-9_-]*$")
_VIEW_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A custom (placeholder) setting: two or more dotted parts (PostgreSQL requires the prefix).
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_SQL_TYPE = re.compile(r"^[a-z][a-z0-9_]*( [a-z][a-z0-9_]*)*( ?\(\d+( ?, ?\d+)?\))?$")
_SCALAR_NAMES = set(scalar_names.__all__) | {t.__name__ for t in BUILTIN_SCALARS}


def _argument_target(arg: Argument, entity: ObjectType, tenancy: Tenancy | None,
                     tenant_field: str | None) -> str | None:
    field = entity.field(arg.name)
    if field is not None and field.column and not field.relation:
        return field.name
    for f in entity.fields:
        if f.relation and arg.name in (naming.relation_id_column(f.name), f.name) and arg.type.name in ("ID", "UUID"):
            return f.name
    if tenancy is not None and tenant_field and arg.name == tenancy.claim:
        return tenant_field
    return None


def _suggest(name: str, candidates: Iterable[str], fallback: str) -> str:
    return did_you_mean(name, candidates) or fallback


def _doc(cls: type, options: dict[str, Any]) -> str | None:
    if options.get("description"):
        return options["description"]
    return inspect.getdoc(cls) if cls.__doc__ else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _seed_literal(value: Any) -> bool:
    import decimal

    return value is None or isinstance(value, (str, int, float, bool, decimal.Decimal))


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _annotations(cls: type) -> dict[str, Any]:
    """Own and inherited annotations in definition order (bases first)."""
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(klass.__dict__.get("__annotations__", {}))
    return {k: v for k, v in merged.items() if not k.startswith("__")}
