"""IR → the grants and owners of everything generated: least privilege for every role.

The API role gets what its policies allow on exactly the columns its mutations write; the
context, observer, privileged and service roles get what their functions and declarations use;
functions are revoked from PUBLIC and granted by name; definer functions change owner last.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraisec.render.flows import accept_functions, last_owner_functions, privileged_entries, signup_functions
from fraisec.render.functions import (
    MutationFn, ObserverFn, context_helper_signatures, maintain_functions, outbox, result_signatures,
    tenant_uuid_signature,
)
from fraisec.render.model import Model, ident
from fraisec.render.objects import RlsTable, entity_order, granted_commands, view_names
from fraisec.render.quoting import qualified
from fraisec.render.search import search_functions

__all__ = ["Grants", "external_grants", "grants"]


@dataclass(frozen=True)
class Grants:
    """Least privilege. The API role: SELECT where it has a read policy, INSERT and UPDATE on
    exactly the columns the generated mutations write (a table-level grant only for a
    ``writes=`` declaration), DELETE where declared; never TRUNCATE, REFERENCES or TRIGGER
    (TRUNCATE ignores RLS). The context role: the identity columns its helpers read. The
    observer role: what the API role reads, plus appending to the outbox and the activity log.
    Every function is revoked from PUBLIC; trigger functions are executable by nobody else
    (triggers need no grant). ``owners``: the privileged functions' owners, set last."""

    template = "objects/grants.sql.j2"
    relations: tuple[tuple[str, str, str], ...]  # (privileges, qualified relation, role)
    functions: tuple[tuple[str, tuple[str, ...]], ...]  # (signature, roles granted EXECUTE)
    owners: tuple[tuple[str, str], ...]  # (function signature, owner)


def grants(model: Model, rls: list[RlsTable], functions: list[MutationFn],
           observers: list[ObserverFn]) -> Grants:
    signatures, owners = _function_grants(model, functions, observers)
    return Grants(tuple(_relation_grants(model, rls, functions)), tuple(signatures), tuple(owners))


def _relation_grants(model: Model, rls: list[RlsTable],
                     functions: list[MutationFn]) -> list[tuple[str, str, str]]:
    """(privileges, relation, role) for every role, each exactly what its side needs."""
    api, observer, context = model.api_role, model.observer_role, model.context_role
    written = _written_columns(model, functions)
    relations: list[tuple[str, str, str]] = []
    for t in rls:
        privileges = [_privilege(c, written.get((t.table, c))) for c in granted_commands(t)]
        if privileges:
            relations.append((", ".join(privileges), t.table, api))
    views = [qualified(model.app, name) for e in entity_order(model) for name in view_names(e)]
    relations += [("SELECT", v, api) for v in views]
    if model.has_observers:
        relations += [("SELECT", t.table, observer) for t in rls if "SELECT" in granted_commands(t)]
        relations += [("SELECT", v, observer) for v in views]
        relations += [("INSERT", model.table(e), observer) for e in model.schema.entities
                      if e.entity is not None and e.entity.activity_log]
        relations.append(("INSERT", outbox(model).table, observer))
    relations += [(f"SELECT ({', '.join(ident(c) for c in t.context_columns)})", t.table, context)
                  for t in rls if t.context_columns]
    service = model.service_role
    relations += [(", ".join(t.service), t.table, service) for t in rls if t.service]
    relations += [("SELECT", qualified(model.app, name), service) for e in entity_order(model)
                  if "SELECT" in e.entity.service for name in view_names(e)]
    relations += [(", ".join(f"{command} ({', '.join(ident(c) for c in columns)})" if columns else command
                             for command, columns in t.privileged), t.table, model.privileged_role)
                  for t in rls if t.privileged]
    return relations


def _function_grants(model: Model, functions: list[MutationFn], observers: list[ObserverFn],
                     ) -> tuple[list[tuple[str, tuple[str, ...]]], list[tuple[str, str]]]:
    """(signature, roles granted EXECUTE) for every generated function, and the owners of
    the definer ones."""
    api, observer, context, privileged = (model.api_role, model.observer_role, model.context_role,
                                          model.privileged_role)
    callable_ = [(s, model.reader_roles) for s in context_helper_signatures(model) + result_signatures(model)]
    callable_ += [(f.signature, (f.caller,)) for f in functions]
    callable_ += [(f.signature, (api,)) for f in search_functions(model)]
    callable_ += [(e.signature, (api,)) for e in privileged_entries(model)]
    tenant_uuid = tenant_uuid_signature(model)
    if tenant_uuid:
        callable_.append((tenant_uuid, (observer,)))
    if model.has_privileged_flows:  # the definer flows ask who the user is, answer with the helpers
        needed = [f"{qualified(model.private, 'fn_current_user_pk')}()", *result_signatures(model)]
        if model.privileged_mutations:  # hand-written ones find the tenant and role the same way
            needed += context_helper_signatures(model)
        callable_ = _also_granted(callable_, needed, privileged)
    if model.has_service:  # service mutations answer with the result helpers
        callable_ = _also_granted(callable_, result_signatures(model), model.service_role)
    flows = [*accept_functions(model), *signup_functions(model)]
    for flow in flows:
        public, private = flow.signatures
        callable_ += [(public, (api,)), (private, (api,))]
    keepers = last_owner_functions(model)
    signatures = callable_ + [(f"{f.name}()", ()) for f in [*observers, *maintain_functions(model), *keepers]]
    owners = [(s, context) for s in context_helper_signatures(model)]
    owners += [(tenant_uuid, context)] if tenant_uuid else []
    owners += [(f"{o.name}()", observer) for o in observers]
    owners += [(flow.signatures[1], privileged) for flow in flows]
    owners += [(f"{k.name}()", context) for k in keepers]
    return signatures, owners


def _also_granted(callable_: list[tuple[str, tuple[str, ...]]], signatures: list[str],
                  role: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(s, roles + (role,)) if s in signatures else (s, roles) for s, roles in callable_]


def external_grants(model: Model) -> list[str]:
    """The statements granting what :func:`_external_grants` lists, with USAGE on the external
    schema. Run as the role applying schema.sql: the owner role has no grant option there."""
    grants_ = _external_grants(model)
    if not grants_:
        return []
    schema = ident(model.external_user.entity.external[0])
    roles = sorted({role for _p, _t, role in grants_})
    return ([f"GRANT USAGE ON SCHEMA {schema} TO {', '.join(ident(r) for r in roles)}"]
            + [f"GRANT {privileges} ON {table} TO {ident(role)}" for privileges, table, role in grants_])


def _external_grants(model: Model) -> list[tuple[str, str, str]]:
    """An external user table (not fraisec's, no policy of fraisec's): the requests read it only
    through the context role's ``fn_visible_users()`` (the users they may see), so only that role
    gets SELECT on the declared columns; the privileged role gets the key and e-mail
    (accepting an invitation). The API and observer roles get nothing on it."""
    user = model.external_user
    if user is None:
        return []
    columns = ", ".join(ident(f.column) for f in user.fields if f.column)
    table = model.table(user)
    out = [(f"SELECT ({columns})", table, model.context_role)]
    if model.has_privileged_flows:
        email = user.field("email")
        out.append((f"SELECT (id{', ' + ident(email.column) if email is not None and email.column else ''})",
                    table, model.privileged_role))
    return out


def _privilege(command: str, columns: set[str] | None) -> str:
    """``INSERT (a, b)``: column privileges where only generated mutations write the table."""
    if command in ("INSERT", "UPDATE") and columns:
        return f"{command} ({', '.join(ident(c) for c in sorted(columns))})"
    return command


def _written_columns(model: Model, functions: list[MutationFn]) -> dict[tuple[str, str], set[str] | None]:
    """(table, command) -> the columns generated mutations write; None when a ``writes=``
    declaration (a hand-written function, columns unknown) needs the whole table."""
    written: dict[tuple[str, str], set[str] | None] = {}
    for f in (f for f in functions if f.caller == model.api_role):  # the service role has its own grants
        written.setdefault((f.table, f.command), set()).update(c for c, _ in f.assignments)
        if f.operation == "UPSERT":  # the conflict branch updates the columns it sets
            written.setdefault((f.table, "UPDATE"), set()).update(c for c, _ in f.on_conflict)
    for e in model.schema.entities:
        if e.entity is None:
            continue
        for command, _role in e.entity.writes:
            written[(model.table(e), command)] = None
    return written
