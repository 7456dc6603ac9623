"""The registry a load collects definitions into.

A ``contextvar`` holds the current registry, so every load starts from a fresh one and nothing
leaks between loads in one process. Decorators used outside a load (e.g. a schema module
imported by a plain ``python`` run) register into a throwaway default registry.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Iterator

from fraisec.authoring.definitions import RawSchema
from fraisec.diagnostics import Diagnostic

__all__ = ["Registry", "current_registry", "fresh_registry"]


class Registry:
    def __init__(self) -> None:
        self.raw = RawSchema()
        self.diagnostics: list[Diagnostic] = []

    def report(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)


_current: ContextVar[Registry] = ContextVar("fraisec_registry", default=Registry())


def current_registry() -> Registry:
    return _current.get()


@contextlib.contextmanager
def fresh_registry() -> Iterator[Registry]:
    registry = Registry()
    token = _current.set(registry)
    try:
        yield registry
    finally:
        _current.reset(token)
