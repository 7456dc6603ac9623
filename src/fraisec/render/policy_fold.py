"""Row-level security without RESTRICTIVE policies, for Citus (docs/scale-out.md).

Citus builds the policies it sends to the shards from the catalog without ``AS RESTRICTIVE``
(``CreatePolicyCommandForPolicy`` in its ``commands/policy.c``). fraisec's tenant guard is a
RESTRICTIVE policy AND'ed with every permissive one; re-created as permissive it would be
OR'ed instead, and any permissive ``USING (true)`` would then admit every tenant's rows. So on
Citus each guard is folded into the permissive policies it applies to.

PostgreSQL admits a row for a command and role when ``(P1 OR … OR Pn) AND R1 AND … AND Rm``,
the P being the permissive policies and the R the restrictive ones that apply to that command
and role. Splitting every permissive policy into one per command and role and AND'ing into
each the R of that command and role gives ``(P1 AND R…) OR … OR (Pn AND R…)``, the same rows.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence, TypeVar

from fraisec.ir.naming import object_name

__all__ = ["fold_restrictive"]

COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")

P = TypeVar("P")  # render.objects.Policy (not imported: objects imports this module)


def fold_restrictive(policies: Sequence[P]) -> list[P]:
    """Permissive policies only, one per command and role, each carrying the restrictive
    rules of its command and role (same admitted rows; module docstring)."""
    guards = [p for p in policies if p.restrictive]
    folded = []
    for policy in policies:
        if policy.restrictive:
            continue
        commands = COMMANDS if policy.command == "ALL" else (policy.command,)
        for role in policy.roles:
            for command in commands:
                applying = [g for g in guards if role in g.roles and g.command in ("ALL", command)]
                suffix = ([command.lower()] if len(commands) > 1 else []) + ([role] if len(policy.roles) > 1 else [])
                folded.append(dataclasses.replace(
                    policy, name=object_name(policy.name, *suffix) if suffix else policy.name,
                    command=command, roles=(role,),
                    using=_all(p.using for p in (policy, *applying)) if command != "INSERT" else None,
                    check=(_all(_check(p) for p in (policy, *applying))
                           if command in ("INSERT", "UPDATE") else None)))
    return folded


def _check(policy) -> str | None:
    """The new-row rule a policy puts on INSERT and UPDATE: its WITH CHECK, or, as
    PostgreSQL does for FOR ALL and FOR UPDATE policies without one, its USING."""
    if policy.check is not None:
        return policy.check
    return policy.using if policy.command in ("ALL", "UPDATE") else None


def _all(rules) -> str:
    """``a AND b AND …``, each parenthesised; ``true`` when nothing restricts."""
    kept = [r for r in rules if r is not None and r.strip() != "true"]
    if not kept:
        return "true"
    return kept[0] if len(kept) == 1 else " AND ".join(f"({r})" for r in kept)
