"""The builder's operations: queries, mutations and their generated shapes, subscriptions,
observers."""

from __future__ import annotations

import inspect
from typing import Any

from fraisec.authoring.definitions import OperationDef
from fraisec.diagnostics import Location
from fraisec.ir import naming
from fraisec.ir.annotations import Resolved, resolve_annotation
from fraisec.ir.model import (
    Argument, InjectParam, InputType, Kind, Mutation, ObjectType, Observer, Query, Schema, Subscription,
    TypeRef,
)
from fraisec.ir.build.common import (
    CLEAR_ARGUMENT, _GENERATED_OPERATIONS, _INJECT, _MUTATION_SDK_KEYS, _NUMERIC, _OPERATIONS,
    _QUERY_SDK_KEYS, _SQL_IDENTIFIER, _argument_target, _loc, _plain, _suggest,
)


class OperationParts:
    """The operations part of :class:`~fraisec.ir.build.builder.Builder` (a mixin: ``self.report``,
    ``self.settings`` and ``self.tenancy`` are the builder's)."""

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
                        hint="Annotate it, e.g. `-> list[Project]`.")
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
