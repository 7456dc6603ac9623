"""The builder's classes: entities and their options, fields, enums, unions."""

from __future__ import annotations

import inspect
from enum import Enum
from typing import Any

from fraisec.authoring.definitions import ClassDef
from fraisec.authoring.fields import MISSING, CurrentUser, FieldSpec, IndexSpec, Slug, SqlDefault
from fraisec.diagnostics import Location
from fraisec.ir import naming
from fraisec.ir.annotations import Resolved, resolve_annotation
from fraisec.ir.model import (
    Default, EntityInfo, EnumType, Field, IndexDecl, Kind, ON_DELETE_ACTIONS, ObjectType, Settings, TypeRef,
    Union,
)
from fraisec.ir.scalars import sql_type_for
from fraisec.ir.build.common import (
    INVITATION_TTL, SOFT_DELETE_FIELD, _EXTENSION, _RESERVED_TYPES, _SCALAR_NAMES, _SDK_FIELD_KEYS,
    _SQL_IDENTIFIER, _SQL_TYPE, _TYPE_SDK_KEYS, _VIEW_NAME, _annotations, _doc, _is_int, _loc, _plain,
    _seed_literal, _suggest,
)


class EntityParts:
    """The classes part of :class:`~fraisec.ir.build.builder.Builder` (a mixin: ``self.report``,
    ``self.settings`` and ``self.tenancy`` are the builder's)."""

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
