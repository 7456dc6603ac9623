"""Metadata operations: default privileges, grants, comments and owners. Objects created or
recreated get every desired grant and comment from a known baseline (what PostgreSQL grants on
creation); objects that stay get the differences."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace as dc_replace
from typing import TYPE_CHECKING

from fraisec.catalog.model import KINDS, OWNER_LACKS, Catalog, Grant, ObjRef, Sequence, default_acl
from fraisec.diff import Change
from fraisec.plan.model import CREATE_ORDER, DEFAULT_ACL_TYPE, Op, Target
from fraisec.render import ops as sql
from fraisec.render.quoting import quote_ident

if TYPE_CHECKING:
    from fraisec.plan.planner import Planner

__all__ = ["default_privilege_ops", "metadata_ops"]

# Statements for one object, each with the target (object or column) it must wait for;
# an empty statement only adds the wait.
_PerRef = dict[ObjRef, list[tuple[str, Target]]]


def default_privilege_ops(p: Planner) -> None:
    """ALTER DEFAULT PRIVILEGES, one op per (role, schema): before every object is created
    (so new objects get the desired defaults), after the schema it names exists. An entry
    of a schema that goes is dropped with it."""
    per_entry: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    changes = p.changes
    for revoke, items in ((True, changes.default_privileges_removed),
                          (False, changes.default_privileges_added)):
        groups: dict[tuple[str, str | None], list] = defaultdict(list)
        for d in items:
            if d.schema is None or quote_ident(d.schema) in p.des.schema:
                groups[(d.role, d.schema)].append(d)
        for key, group in groups.items():
            per_entry[key] += sql.default_privilege_statements(group, revoke=revoke)
    for (role, schema), statements in sorted(per_entry.items(), key=lambda x: (x[0][0], x[0][1] or "")):
        label = f"{role} in {schema}" if schema else role
        requires = [(ObjRef("schema", quote_ident(schema)), None)] if schema else []
        p.add(Op(f"defacl:{label}", "default_privileges", label, "alter", tuple(statements),
                 "safe", reason="default privileges"), (0, 5, role, schema or ""),
              requires=requires)


def metadata_ops(p: Planner) -> None:
    """One ``meta:`` op per object whose grants, comments or owner change."""
    per_ref: _PerRef = defaultdict(list)
    fresh_refs = {ref for ref in p.by_ref if p.fresh(ref)}
    _fresh_metadata(p, fresh_refs, per_ref)
    # Objects that stay: an owner the desired side gives them explicitly.
    new_owners = dict(_owner_changes(p, fresh_refs))
    for ref, owner in new_owners.items():
        stmt = sql.owner_statement(ref, p.des.get(ref), owner)
        if stmt:
            per_ref[ref].append((stmt, (ref, None)))
    _grant_differences(p, fresh_refs, new_owners, per_ref)
    _comment_differences(p, fresh_refs, per_ref)
    for ref, items in per_ref.items():
        p.add(Op(f"meta:{ref}", ref.kind, ref.key, "metadata",
                 tuple(s for s, _ in items if s), "safe", reason="grants, comments, owner"),
              (4, CREATE_ORDER[ref.kind], ref.key), requires=[t for _, t in items])


def _fresh_metadata(p: Planner, fresh_refs: set[ObjRef], per_ref: _PerRef) -> None:
    """Objects created or recreated: every desired grant and comment, from a known baseline."""
    grants_by_ref: dict[ObjRef, set[Grant]] = defaultdict(set)
    for g in p.des.grants:
        if g.target in fresh_refs:
            grants_by_ref[g.target].add(g)
    comments_by_ref: dict[ObjRef, list] = defaultdict(list)
    for item in sorted(p.des.comments.items(), key=_comment_sort):
        if item[0][0] in fresh_refs:
            comments_by_ref[item[0][0]].append(item)
    for ref in sorted(fresh_refs):
        obj = p.des.get(ref)
        baseline = _creation_grants(p, ref)
        wanted = grants_by_ref.get(ref, set())
        revoked = sorted(baseline - wanted, key=_grant_sort)
        granted = sorted(wanted - baseline, key=_grant_sort)
        creator = p.cur.current_user  # owns it until the owner statement below
        for stmt in _grant_statements(revoked, obj, creator, revoke=True):
            per_ref[ref].append((stmt, (ref, None)))
        for stmt in _grant_statements(granted, obj, creator, revoke=False):
            per_ref[ref].append((stmt, (ref, None)))
        for g in granted:
            if g.column:  # a column added in this plan exists first
                per_ref[ref].append(("", (ref, g.column)))
        for (_cref, column), c in comments_by_ref.get(ref, ()):
            per_ref[ref].append((sql.comment_statement(c, obj), (ref, column)))
        owner = _owner_of_fresh(p, p.by_ref[ref])
        stmt = sql.owner_statement(ref, obj, owner) if owner else None
        if stmt:
            per_ref[ref].append((stmt, (ref, None)))


def _grant_differences(p: Planner, fresh_refs: set[ObjRef], new_owners: dict[ObjRef, str],
                       per_ref: _PerRef) -> None:
    """Objects that stay: the grants removed, then the grants added."""
    def owner_now(ref: ObjRef) -> str:
        return new_owners.get(ref) or getattr(p.cur.get(ref), "owner", "")

    removed: dict[ObjRef, list[Grant]] = defaultdict(list)
    for g in sorted(p.changes.grants_removed, key=_grant_sort):
        if g.target in fresh_refs or p.gone(g.target) or p.column_gone(g.target, g.column):
            continue
        if p.column_recreated(g.target, g.column):
            continue
        removed[g.target].append(g)
    for ref, items in removed.items():
        for stmt in _grant_statements(items, p.cur.get(ref), owner_now(ref), revoke=True):
            per_ref[ref].append((stmt, (ref, None)))
    added: dict[ObjRef, list[Grant]] = defaultdict(list)
    for g in sorted(p.changes.grants_added, key=_grant_sort):
        if g.target not in fresh_refs:
            added[g.target].append(g)
    for g in sorted(p.des.grants, key=_grant_sort):  # re-added columns start bare
        if g.column and g not in p.changes.grants_added and p.column_recreated(g.target, g.column):
            added[g.target].append(g)
    for ref, items in added.items():
        for stmt in _grant_statements(items, p.des.get(ref), owner_now(ref), revoke=False):
            per_ref[ref].append((stmt, (ref, None)))
        per_ref[ref] += [("", (ref, g.column)) for g in items if g.column]


def _comment_differences(p: Planner, fresh_refs: set[ObjRef], per_ref: _PerRef) -> None:
    """Objects that stay: comments removed, then comments set (again, on re-added columns)."""
    for c in p.changes.comments_removed:
        if c.target in fresh_refs or p.gone(c.target) or p.column_gone(c.target, c.column):
            continue
        per_ref[c.target].append((sql.comment_statement(c, p.cur.get(c.target), remove=True),
                                  (c.target, c.column)))
    comments_set = list(p.changes.comments_set) + [
        c for (ref, column), c in sorted(p.des.comments.items(), key=_comment_sort)
        if p.column_recreated(ref, column) and c not in p.changes.comments_set]
    for c in comments_set:
        if c.target in fresh_refs:
            continue
        per_ref[c.target].append((sql.comment_statement(c, p.des.get(c.target)),
                                  (c.target, c.column)))


def _creation_grants(p: Planner, ref: ObjRef) -> frozenset[Grant]:
    """What a new object is granted to others as it is created: acldefault, or the
    desired default privileges of the role that runs the script (they are set first)."""
    objtype = DEFAULT_ACL_TYPE.get(ref.kind)
    if objtype is None:
        return frozenset()
    role = p.cur.current_user
    if p.des_defaults is None:
        from fraisec.diff import default_privilege_entries

        p.des_defaults = default_privilege_entries(p.des)
    entries = p.des_defaults
    items = set(entries.get((role, None, objtype), default_acl(role, objtype)))
    schema = getattr(p.des.get(ref), "schema", None) if ref.kind != "schema" else None
    if schema is not None:
        items |= entries.get((role, schema, objtype), frozenset())
    grants = {Grant(ref, None, d.grantee, d.privilege, d.grantable)
              for d in items if d.grantee != role}
    # A global entry may also take privileges from the owner itself.
    kept = {d.privilege for d in items if d.grantee == role}
    grants |= {Grant(ref, None, OWNER_LACKS, d.privilege, False)
               for d in default_acl(role, objtype) if d.grantee == role and d.privilege not in kept}
    return frozenset(grants)


def _grant_statements(items: list[Grant], obj: object, owner: str, *, revoke: bool) -> list[str]:
    """GRANT/REVOKE for grant facts; a privilege the owner lacks (grantee ``#owner``) is
    the other way round: gaining the lack is a REVOKE from the owner."""
    plain = [g for g in items if g.grantee != OWNER_LACKS]
    lacks = [dc_replace(g, grantee=owner) for g in items if g.grantee == OWNER_LACKS]
    out = sql.grant_statements(plain, obj, revoke=revoke)
    if lacks and owner:
        out += sql.grant_statements(lacks, obj, revoke=not revoke)
    return out


# -- owners ---------------------------------------------------------------------------------
def _owner_of_fresh(p: Planner, ch: Change) -> str | None:
    """The owner a created or recreated object is given: the one the desired side chose
    explicitly, else (recreated) the one it had, else none (whoever runs the script)."""
    wanted = _explicit_owner(ch.new, p.des)
    if wanted or ch.action != "replace" or ch.old is None:
        return wanted
    return _explicit_owner(ch.old, p.cur)


def _owner_changes(p: Planner, fresh_refs: set[ObjRef]) -> list[tuple[ObjRef, str]]:
    """Objects on both sides whose desired owner is explicit and not the current one."""
    changes = []
    for kind in KINDS:
        current = p.cur.objects(kind)
        for key, new in sorted(p.des.objects(kind).items()):
            ref = ObjRef(kind, key)
            old = current.get(key)
            wanted = _explicit_owner(new, p.des)
            if wanted is None and p.des.owners_chosen and p.cur.owners_chosen:
                # Two live databases: an owner equal to the connecting role is chosen too
                # (given back to it after another one had it).
                wanted = _chosen_owner(new)
            if old is None or ref in fresh_refs or wanted is None:
                continue
            if getattr(old, "owner", None) != wanted:
                changes.append((ref, wanted))
    return changes


def _explicit_owner(obj: object, catalog: Catalog) -> str | None:
    """The owner the SQL gave ``obj`` on purpose, or None.

    Owners are compared only where they mean something: an object owned by the role that
    applied the SQL (the shadow's superuser, or whoever connected) was given no owner, and
    PostgreSQL's own ``pg_*`` roles (``public`` is ``pg_database_owner``'s) are not the user's
    choice. A sequence owned by a column follows its table's owner (PostgreSQL refuses to
    change it alone)."""
    owner = getattr(obj, "owner", None)
    if not owner or owner == catalog.current_user or owner.startswith("pg_"):
        return None
    if isinstance(obj, Sequence) and obj.owned_by:
        return None
    return owner


def _chosen_owner(obj: object) -> str | None:
    """The owner of an object of a live database, unless PostgreSQL's or its table's choice."""
    owner = getattr(obj, "owner", None)
    if not owner or owner.startswith("pg_") or (isinstance(obj, Sequence) and obj.owned_by):
        return None
    return owner


def _grant_sort(g: Grant) -> tuple:
    return (g.target, g.column or "", g.grantee, g.privilege)


def _comment_sort(item: tuple) -> tuple:
    (ref, column), _ = item
    return (ref, column or "")
