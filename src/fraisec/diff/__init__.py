"""The pure keyed diff: ``diff(current, desired) -> Changes``.

Interface (stable)::

    diff(current: Catalog, desired: Catalog) -> Changes

One comparator per object kind decides, for each key present on either side, whether the object
is created, dropped, altered in place, or replaced (dropped and created again). The diff knows
nothing about ordering or SQL: :mod:`fraisec.plan` turns ``Changes`` into ordered operations,
and also widens replacements to dependents (a view over a changed function, …).

Grants and comments are compared as sets of facts. Objects fraisec does not handle yet
(``Catalog.unsupported``) that differ between the sides are reported in ``Changes.unsupported``,
never skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace as dataclasses_replace
from typing import Any, Callable, Literal

from fraisec.catalog.model import (
    KINDS, Catalog, Comment, Composite, Constraint, DefaultPrivilege, Domain, Enum, EventTrigger,
    Extension, ForeignDataWrapper, ForeignServer,
    Function, Grant, Index, ObjRef, Publication, Rule, Sequence, Table, Trigger, Unsupported,
    UserMapping, View, default_acl,
)

__all__ = ["Change", "Changes", "default_privilege_entries", "diff", "is_subsequence"]

Action = Literal["create", "drop", "alter", "replace"]


@dataclass(frozen=True)
class Change:
    """One object that differs: ``old`` is the current model (None when created), ``new`` the
    desired one (None when dropped)."""

    kind: str
    key: str
    action: Action
    old: Any = None
    new: Any = None
    reason: str = ""

    @property
    def ref(self) -> ObjRef:
        return ObjRef(self.kind, self.key)

    def to_data(self) -> dict:
        return {"kind": self.kind, "key": self.key, "action": self.action, "reason": self.reason}


@dataclass(frozen=True)
class Changes:
    items: tuple[Change, ...] = ()
    grants_added: frozenset[Grant] = frozenset()
    grants_removed: frozenset[Grant] = frozenset()
    comments_set: tuple[Comment, ...] = ()
    comments_removed: tuple[Comment, ...] = ()
    default_privileges_added: frozenset[DefaultPrivilege] = frozenset()
    default_privileges_removed: frozenset[DefaultPrivilege] = frozenset()
    unsupported: tuple[tuple[Unsupported | None, Unsupported | None], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.items or self.grants_added or self.grants_removed or self.comments_set
                    or self.comments_removed or self.default_privileges_added
                    or self.default_privileges_removed or self.unsupported)

    def by_ref(self) -> dict[ObjRef, Change]:
        return {c.ref: c for c in self.items}

    def to_data(self) -> dict:
        return {"changes": [c.to_data() for c in self.items],
                "unsupported": [{"kind": (a or b).kind, "identity": (a or b).identity}
                                for a, b in self.unsupported]}


def is_subsequence(old: tuple, new: tuple) -> bool:
    """True when ``new`` keeps every element of ``old`` in the same order (only insertions)."""
    it = iter(new)
    return all(any(x == y for y in it) for x in old)


# -- comparators: (old, new) -> None (equal) | ("alter" | "replace", reason) ---------------
Verdict = tuple[Action, str] | None


def _cmp_extension(old: Extension, new: Extension) -> Verdict:
    if old.schema != new.schema and not old.relocatable:
        return ("replace", f"moves to schema {new.schema}, and cannot be relocated")
    if old.version != new.version or old.schema != new.schema:
        return ("alter", f"version {old.version} → {new.version}")
    return None


def _cmp_enum(old: Enum, new: Enum) -> Verdict:
    if old.labels == new.labels:
        return None
    if is_subsequence(old.labels, new.labels):
        return ("alter", "values added")
    return ("replace", "values removed or reordered")


def _cmp_composite(old: Composite, new: Composite) -> Verdict:
    if old.attributes == new.attributes:
        return None
    old_names = [a.name for a in old.attributes]
    new_names = [a.name for a in new.attributes]
    kept = [n for n in new_names if n in old_names]
    old_attrs = {a.name: a for a in old.attributes}
    retyped = any(old_attrs[a.name] != a for a in new.attributes if a.name in old_attrs)
    # In place when surviving attributes keep their order and type (ADD/DROP ATTRIBUTE; ALTER
    # ATTRIBUTE … TYPE is refused while a column uses the type, so that is a replacement).
    if not retyped and kept == [n for n in old_names if n in new_names] and new_names[:len(kept)] == kept:
        return ("alter", "attributes added or dropped")
    return ("replace", "attributes reordered or retyped")


def _cmp_domain(old: Domain, new: Domain) -> Verdict:
    if old == new:
        return None
    if old.base_type != new.base_type or old.collation != new.collation:
        return ("replace", "base type changed")
    return ("alter", "default, NOT NULL or constraints changed")


def _cmp_sequence(old: Sequence, new: Sequence) -> Verdict:
    if (old.options, old.owned_by, old.unlogged) == (new.options, new.owned_by, new.unlogged):
        return None
    return ("alter", "options or owner column changed")


def _cmp_table(old: Table, new: Table) -> Verdict:
    if old == new:
        return None
    if old.kind != new.kind and "f" in (old.kind, new.kind):
        return ("replace", "foreign table or not changed")
    if (old.kind, old.partition_key) != (new.kind, new.partition_key):
        return ("replace", "partitioning changed")
    if old.server != new.server:
        return ("replace", "foreign server changed")  # there is no ALTER FOREIGN TABLE … SERVER
    if old.partition_of and new.partition_of and (
            old.partition_of, old.partition_bound) != (new.partition_of, new.partition_bound):
        return ("replace", "partition bound changed")
    return ("alter", "table changed")


def _cmp_function(old: Function, new: Function) -> Verdict:
    if old.definition == new.definition:
        return None
    if (old.kind, old.result, old.identity_args) != (new.kind, new.result, new.identity_args):
        return ("replace", "signature or return type changed")
    if old.arguments != new.arguments:
        # CREATE OR REPLACE cannot remove or change parameter defaults.
        return ("replace", "parameter defaults changed")
    return ("alter", "body or attributes changed")


def _cmp_view(old: View, new: View) -> Verdict:
    if (old.materialized, old.definition, old.options, old.columns) == (
            new.materialized, new.definition, new.options, new.columns):
        return None
    return ("replace", "definition changed")


def _cmp_trigger(old: Trigger, new: Trigger) -> Verdict:
    if old.definition != new.definition:
        return ("replace", "definition changed")
    if old.enabled != new.enabled:
        return ("alter", "enabled state changed")
    return None


def _cmp_rule(old: Rule, new: Rule) -> Verdict:
    if old.definition != new.definition:
        return ("replace", "definition changed")
    if old.enabled != new.enabled:
        return ("alter", "enabled state changed")
    return None


def _cmp_publication(old: Publication, new: Publication) -> Verdict:
    if old == new or (dataclasses_replace(old, owner=new.owner) == new):
        return None  # the owner is metadata (ALTER … OWNER TO), not a change of definition
    if old.all_tables != new.all_tables:
        return ("replace", "FOR ALL TABLES changed")
    return ("alter", "tables, schemas or options changed")


def _cmp_event_trigger(old: EventTrigger, new: EventTrigger) -> Verdict:
    if (old.event, old.tags, old.function) != (new.event, new.tags, new.function):
        return ("replace", "definition changed")
    if old.enabled != new.enabled:
        return ("alter", "enabled state changed")
    return None


def _cmp_fdw(old: ForeignDataWrapper, new: ForeignDataWrapper) -> Verdict:
    if dataclasses_replace(old, owner=new.owner) == new:
        return None  # the owner is metadata
    return ("alter", "handler, validator or options changed")


def _cmp_server(old: ForeignServer, new: ForeignServer) -> Verdict:
    if dataclasses_replace(old, owner=new.owner) == new:
        return None
    if (old.fdw, old.type) != (new.fdw, new.type):
        # No ALTER SERVER changes either: dropped and created again, with what uses it.
        return ("replace", "foreign-data wrapper or type changed")
    return ("alter", "version or options changed")


def _cmp_user_mapping(old: UserMapping, new: UserMapping) -> Verdict:
    return None if old == new else ("alter", "options changed")


def _cmp_replace(old: Any, new: Any) -> Verdict:
    return None if old == new else ("replace", "definition changed")


def _cmp_constraint(old: Constraint, new: Constraint) -> Verdict:
    return None if (old.type, old.definition) == (new.type, new.definition) else (
        "replace", "definition changed")


def _cmp_index(old: Index, new: Index) -> Verdict:
    return None if old.definition == new.definition else ("replace", "definition changed")


def _cmp_schema(old: Any, new: Any) -> Verdict:
    return None  # owners are not diffed (the shadow's owner is not the user's)


COMPARATORS: dict[str, Callable[[Any, Any], Verdict]] = {
    "schema": _cmp_schema,
    "extension": _cmp_extension,
    "fdw": _cmp_fdw,
    "server": _cmp_server,
    "user_mapping": _cmp_user_mapping,
    "collation": _cmp_replace,
    "enum": _cmp_enum,
    "composite": _cmp_composite,
    "range": _cmp_replace,
    "domain": _cmp_domain,
    "sequence": _cmp_sequence,
    "table": _cmp_table,
    "constraint": _cmp_constraint,
    "index": _cmp_index,
    "function": _cmp_function,
    "view": _cmp_view,
    "trigger": _cmp_trigger,
    "policy": _cmp_replace,
    "rule": _cmp_rule,
    "publication": _cmp_publication,
    "event_trigger": _cmp_event_trigger,
}
assert set(COMPARATORS) == set(KINDS)


def _managed(kind: str, obj: Any) -> bool:
    """Objects PostgreSQL makes by itself are not diffed: inherited constraints and a
    partition's indexes attached to the parent's index."""
    if kind == "constraint":
        return obj.is_local
    if kind == "index":
        return not obj.attached
    return True


def diff(current: Catalog, desired: Catalog) -> Changes:
    """Compare two catalogs key by key; pure (no database access)."""
    items: list[Change] = []
    for kind in KINDS:
        old_map = {k: v for k, v in current.objects(kind).items() if _managed(kind, v)}
        new_map = {k: v for k, v in desired.objects(kind).items() if _managed(kind, v)}
        for key in sorted(old_map.keys() | new_map.keys()):
            old, new = old_map.get(key), new_map.get(key)
            if old is None:
                items.append(Change(kind, key, "create", None, new, "missing"))
            elif new is None:
                items.append(Change(kind, key, "drop", old, None, "not wanted"))
            else:
                verdict = COMPARATORS[kind](old, new)
                if verdict:
                    items.append(Change(kind, key, verdict[0], old, new, verdict[1]))
    comments_set = tuple(c for k, c in sorted(desired.comments.items(), key=_comment_key)
                         if current.comments.get(k) != c)
    comments_removed = tuple(c for k, c in sorted(current.comments.items(), key=_comment_key)
                             if k not in desired.comments)
    return Changes(
        items=tuple(items),
        grants_added=desired.grants - current.grants,
        grants_removed=current.grants - desired.grants,
        comments_set=comments_set,
        comments_removed=comments_removed,
        **_default_privileges(current, desired),
        unsupported=_unsupported(current, desired),
    )


DefaultKey = tuple[str, "str | None", str]  # (role, schema or None, object type)


def default_privilege_entries(catalog: Catalog) -> dict[DefaultKey, frozenset[DefaultPrivilege]]:
    """Each default-privilege entry's privileges (an entry revoking everything: empty)."""
    entries: dict[DefaultKey, set[DefaultPrivilege]] = {}
    for d in catalog.default_privileges:
        items = entries.setdefault((d.role, d.schema, d.objtype), set())
        if d.grantee:
            items.add(d)
    return {k: frozenset(v) for k, v in entries.items()}


def _default_privileges(current: Catalog, desired: Catalog) -> dict:
    """What ALTER DEFAULT PRIVILEGES must grant and revoke. A role's global entry replaces
    acldefault, so a side without one has acldefault; a schema's entry adds to it (none: nothing)."""
    old, new = default_privilege_entries(current), default_privilege_entries(desired)
    added: set[DefaultPrivilege] = set()
    removed: set[DefaultPrivilege] = set()
    for key in old.keys() | new.keys():
        role, schema, objtype = key
        base = default_acl(role, objtype) if schema is None else frozenset()
        a, b = old.get(key, base), new.get(key, base)
        added |= b - a
        removed |= a - b
    return {"default_privileges_added": frozenset(added),
            "default_privileges_removed": frozenset(removed)}


def _comment_key(item: tuple) -> tuple:
    (ref, column), _ = item
    return (ref, column or "")


def _unsupported(current: Catalog, desired: Catalog) -> tuple:
    old = {(u.kind, u.identity): u for u in current.unsupported}
    new = {(u.kind, u.identity): u for u in desired.unsupported}
    return tuple((old.get(k), new.get(k)) for k in sorted(old.keys() | new.keys())
                 if old.get(k) != new.get(k))
