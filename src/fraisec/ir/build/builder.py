"""Registry (raw definitions) → IR ``Schema`` plus diagnostics: the entry, names, tenancy.

The parts are mixins: :mod:`.entities` (classes, fields, enums, unions) and :mod:`.operations`
(queries, mutations, subscriptions, observers); :mod:`.common` holds what they share.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Iterable

from fraisec.authoring.definitions import RawSchema
from fraisec.diagnostics import Diagnostic, Location, Related, error
from fraisec.ir import naming
from fraisec.ir.model import (
    DEFAULT_ROLES, Field, InputType, Interface, Kind, ObjectType, Scalar, Schema, Settings, Tenancy,
)
from fraisec.render.quoting import qualified
from fraisec.ir.build.common import (
    _CLASS_KINDS, _EXTENSION, _NUMERIC, _QUERY_DROPPED, _SETTING, _doc, _loc, _suggest,
)
from fraisec.ir.build.entities import EntityParts
from fraisec.ir.build.operations import OperationParts

__all__ = ["Builder", "build_schema"]


def build_schema(raw: RawSchema, module_file: str | None = None) -> tuple[Schema, list[Diagnostic]]:
    builder = Builder(raw)
    schema = builder.build(module_file)
    return schema, builder.diagnostics



class Builder(EntityParts, OperationParts):
    """Builds the IR from the registry's raw definitions; every problem is a diagnostic."""

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
