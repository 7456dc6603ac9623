"""Registry (raw definitions) → IR ``Schema`` plus diagnostics.

Reports every problem it can find (unknown and unsupported annotations, duplicate names, bad
option values) and keeps going, so one run shows them all. :mod:`.builder` is the entry.
"""

from fraisec.ir.build.builder import build_schema

__all__ = ["build_schema"]
