"""The rule registry: ``@rule("name")`` on a function ``Schema -> Iterable[Diagnostic]``."""

from __future__ import annotations

from typing import Callable, Iterable

from fraisec.diagnostics import Diagnostic
from fraisec.ir.model import Schema

__all__ = ["RULES", "Rule", "rule"]

Rule = Callable[[Schema], Iterable[Diagnostic]]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(func: Rule) -> Rule:
        if name in RULES:
            raise RuntimeError(f"validation rule {name!r} registered twice")
        RULES[name] = func
        return func

    return register
