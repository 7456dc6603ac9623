"""Applying one migrations directory to many databases (database-per-tenant).

Each target is an ordinary ``apply``: its own advisory lock, its own history, each file in its
own transaction. Targets run concurrently (``jobs`` at a time) and independently: a failure on
one stops that target only, and its status says where it stopped. Runs are resumable by
construction: a target's history says what it has, so running again applies what is missing.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from fraisec.diagnostics import Diagnostic
from fraisec.migrations.apply import MigrationError, Settings, apply
from fraisec.migrations.lock import LockTimeout

__all__ = ["TargetResult", "apply_many"]


@dataclass(frozen=True)
class TargetResult:
    url: str
    applied: list[tuple[str, int]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # with dry_run: what would run
    diagnostics: list[Diagnostic] = field(default_factory=list)
    locked: LockTimeout | None = None

    @property
    def ok(self) -> bool:
        return not self.diagnostics and self.locked is None


def apply_many(urls: list[str], directory: Path, settings: Settings = Settings(), *,
               jobs: int = 4, dry_run: bool = False, to_version: int | None = None,
               notify: Callable[[str, str], None] = lambda _url, _msg: None) -> list[TargetResult]:
    """One result per URL, in the order given."""

    def one(url: str) -> TargetResult:
        try:
            done = apply(url, directory, settings, dry_run=dry_run, to_version=to_version,
                         notify=lambda message: notify(url, message))
        except MigrationError as exc:
            return TargetResult(url, diagnostics=exc.diagnostics)
        except LockTimeout as exc:
            return TargetResult(url, locked=exc)
        return TargetResult(url, applied=done.applied, pending=[p.file.name for p in done.planned])

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(urls)))) as pool:
        return list(pool.map(one, urls))
