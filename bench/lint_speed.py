"""How fast `fraisec lint` reads SQL: seed 000's migrations replicated N times (renamed so
every copy is a distinct set of tables, policies and views), and the generated examples/saas SQL.

Run: python bench/lint_speed.py [N]
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from fraisec.lint import lint_sql

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "fixtures" / "seed000" / "migrations"


def _replicated(copies: int) -> list[tuple[str, str]]:
    sources = []
    for path in sorted(SEED.glob("*.sql")):
        text = path.read_text()
        parts = [re.sub(r"\b(tb|v|fn)_(\w+)", rf"\1_\2_c{i}", text) for i in range(copies)]
        sources.append((path.name, "\n".join(parts)))
    return sources


def _time(label: str, sources: list[tuple[str, str]], repeat: int = 3) -> None:
    lines = sum(text.count("\n") + 1 for _, text in sources)
    best = float("inf")
    found = []
    for _ in range(repeat):
        start = time.perf_counter()
        found = lint_sql(sources)
        best = min(best, time.perf_counter() - start)
    print(f"{label:<34} {lines:>7} lines  {len(found):>6} findings  {best * 1000:>8.1f} ms"
          f"  ({lines / best:>9,.0f} lines/s)")


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    _time("seed 000 migrations x1", _replicated(1))
    _time(f"seed 000 migrations x{copies}", _replicated(copies))
    try:
        from fraisec.api import schema_sql

        sql, _ = schema_sql(str(ROOT / "examples" / "saas" / "schema.py"))
    except Exception as exc:  # noqa: BLE001 - the renderer is optional for this figure
        print(f"examples/saas generated SQL: skipped ({exc})")
        return
    if sql:
        _time("examples/saas generated schema.sql", [("schema.sql", sql)])


if __name__ == "__main__":
    main()
