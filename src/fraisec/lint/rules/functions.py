"""Rules about functions: SECURITY DEFINER hygiene and EXECUTE privileges (rls.md (f))."""

from __future__ import annotations

from typing import Iterator

from fraisec.lint.model import Function, LintModel
from fraisec.lint.registry import Finding, LintConfig, error, rule, warning

__all__: list[str] = []


@rule("FSC310")
def definer_without_search_path(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for fn in model.functions:
        if not model.is_definer(fn) or model.search_path(fn) is not None:
            continue
        yield error(
            "FSC310",
            f"SECURITY DEFINER function {fn.signature} does not pin search_path: it resolves "
            f"names through the caller's search_path, so a caller can substitute their own "
            f"tables or functions and run them with the owner's rights",
            fn.span,
            "Add `SET search_path = pg_catalog, pg_temp` to the function (pg_temp explicitly "
            "last) and schema-qualify every relation in it.")


def _path_entries(path: str) -> list[str]:
    return [p.strip().strip("'\"").lower() for p in path.split(",") if p.strip()]


@rule("FSC311")
def definer_unqualified_names(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for fn in model.functions:
        if not model.is_definer(fn):
            continue
        unqualified = [r for r in fn.reads if r.schema is None]
        if not unqualified:
            continue
        path = model.search_path(fn)
        entries = _path_entries(path) if path is not None else None
        if entries and entries[-1] == "pg_temp":
            continue  # pg_temp searched last: a TEMP table can no longer shadow a name
        names = ", ".join(sorted({r.name for r in unqualified}))
        if entries is not None and not [e for e in entries if e]:
            why = "with search_path = '' they fail with 'relation does not exist'"
        else:
            why = ("pg_temp is searched first for relations, so a caller's TEMP table with "
                   "the same name shadows them and runs with the owner's rights")
        yield error(
            "FSC311",
            f"SECURITY DEFINER function {fn.signature} uses unqualified relation names "
            f"({names}): {why}",
            unqualified[0].span,
            "Schema-qualify every relation (app.tb_membership) and use SET search_path = "
            "pg_catalog, pg_temp; at least end the path with pg_temp (SET search_path = app, "
            "pg_temp).")


@rule("FSC312")
def execute_left_to_public(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    for fn in model.functions:
        if fn.returns_trigger:
            continue  # "trigger functions can only be called as triggers"
        definer = model.is_definer(fn)
        granted = _granted_to_public(model, fn)
        if not granted and _revoked_from_public(model, fn):
            continue
        span = granted.span if granted else fn.span
        what = ("is granted EXECUTE TO PUBLIC" if granted else
                "keeps the default EXECUTE privilege of PUBLIC")
        make = error if definer else warning
        impact = ("any role, including the API role, can call it and act with the owner's "
                  "rights" if definer else "every role can call it, not just the API role")
        yield make(
            "FSC312",
            f"{'SECURITY DEFINER ' if definer else ''}function {fn.signature} {what}: {impact}",
            span,
            f"REVOKE ALL ON FUNCTION {fn.signature} FROM PUBLIC; GRANT EXECUTE ON FUNCTION "
            f"{fn.signature} TO app_user; (or ALTER DEFAULT PRIVILEGES … REVOKE EXECUTE ON "
            f"FUNCTIONS FROM PUBLIC before creating it).")


def _applies(model: LintModel, fn: Function, objects: tuple[str, ...], kind: str) -> bool:
    if kind.startswith("ALL"):
        return any(o == f"*{fn.schema or 'public'}" for o in objects)
    return kind in ("FUNCTION", "PROCEDURE", "ROUTINE") and fn.name in objects


def _revoked_from_public(model: LintModel, fn: Function) -> bool:
    for grant in model.grants:
        if (not grant.grant and "public" in grant.grantees
                and {"EXECUTE", "ALL"} & set(grant.privileges)
                and _applies(model, fn, grant.objects, grant.kind)):
            return True
    schema = fn.schema or "public"
    return any(not d.schemas or schema in d.schemas for d in model.default_revokes)


def _granted_to_public(model: LintModel, fn: Function):
    for grant in model.grants:
        if (grant.grant and "public" in grant.grantees
                and {"EXECUTE", "ALL"} & set(grant.privileges)
                and _applies(model, fn, grant.objects, grant.kind)):
            return grant
    return None



@rule("FSC322")
def definer_in_exposed_schema(model: LintModel, config: LintConfig) -> Iterator[Finding]:
    """rls.md catalog check 3: definer functions live in a private schema. Needs
    ``LintConfig.exposed_schemas`` (``fraisec check`` sets it from the schema's settings)."""
    exposed = {s.lower() for s in config.exposed_schemas}
    for fn in model.functions:
        if not exposed or not model.is_definer(fn) or fn.returns_trigger:
            continue
        if (fn.schema or "public") not in exposed:
            continue
        yield error(
            "FSC322",
            f"SECURITY DEFINER function {fn.signature} is in the exposed schema "
            f"{fn.schema or 'public'}: the API can call it directly, and it runs as its owner, "
            f"whom row-level security does not check",
            fn.span,
            "Make it SECURITY INVOKER (RLS is then the authorization), or move it to the "
            "private schema (app_private) and call it from an invoker function that checks the "
            "caller first.")
