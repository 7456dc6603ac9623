"""The documented exit codes (DESIGN.md, CLI contract). Users' scripts depend on them."""

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    OK = 0  # ok / no changes
    ERRORS = 1  # error diagnostics
    USAGE = 2  # usage error (click's own)
    CHANGES = 3  # changes or drift found (check, migrate check, diff --exit-code)
    DESTRUCTIVE = 4  # destructive change refused without --unsafe
    LOCKED = 5  # migrate apply: another applier held the lock past the timeout
    INTERNAL = 70  # internal error (a bug)
