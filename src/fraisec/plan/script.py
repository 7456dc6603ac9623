"""Render a :class:`~fraisec.plan.Plan` as a psql script.

Interface (stable)::

    render_script(plan: Plan) -> str

The script runs as is with ``psql -v ON_ERROR_STOP=1 -f``: consecutive transactional operations
are wrapped in ``BEGIN``/``COMMIT``; operations that cannot run in a transaction block
(``CREATE INDEX CONCURRENTLY``, ``ALTER TYPE … ADD VALUE`` whose value a later step uses) stand
outside, each preceded by a ``-- fraisec: non-transactional`` marker line so that tools (and the
migrations stage) can see them. Nothing to do renders as the empty string.
"""

from __future__ import annotations

from fraisec.plan import Op, Plan

__all__ = ["NON_TRANSACTIONAL_MARKER", "render_script", "safety_marker", "split_segments"]

NON_TRANSACTIONAL_MARKER = "-- fraisec: non-transactional"
_PREAMBLE = ("SET check_function_bodies = false;",)


def split_segments(plan: Plan) -> list[tuple[bool, list[Op]]]:
    """Consecutive runs of ops: ``(transactional, ops)``."""
    segments: list[tuple[bool, list[Op]]] = []
    for op in plan.ops:
        if not op.statements:
            continue
        if segments and segments[-1][0] and op.transactional:
            segments[-1][1].append(op)
        else:
            segments.append((op.transactional, [op]))
    return segments


def safety_marker(op: Op) -> str | None:
    """The comment line flagging a destructive or locking step (migration files, and
    ``fraisec diff``'s output), or None."""
    if op.safety == "destructive":
        return (f"-- fraisec: destructive ({op.action} {op.kind} {op.key}"
                + (f": {op.reason}" if op.reason else "") + ")")
    if op.safety == "locking":
        return f"-- fraisec: locking ({op.action} {op.kind} {op.key})"
    return None


def render_script(plan: Plan, *, markers: bool = False) -> str:
    """``markers``: precede each destructive step with its ``-- fraisec: destructive`` line."""
    segments = split_segments(plan)
    if not segments:
        return ""
    lines: list[str] = list(_PREAMBLE)
    for transactional, ops in segments:
        lines.append("")
        if transactional:
            lines.append("BEGIN;")
            for op in ops:
                if markers and op.safety == "destructive":
                    lines.append(safety_marker(op) or "")
                lines.extend(f"{s};" for s in op.statements)
            lines.append("COMMIT;")
        else:
            for op in ops:
                if markers and op.safety == "destructive":
                    lines.append(safety_marker(op) or "")
                for s in op.statements:
                    lines.append(NON_TRANSACTIONAL_MARKER)
                    lines.append(f"{s};")
    return "\n".join(lines) + "\n"
