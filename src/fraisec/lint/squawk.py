"""Optional lock-hazard findings from squawk (pip package ``squawk-cli``), as FSC390.

squawk knows which DDL takes which lock (an index built without CONCURRENTLY, a column added
with a volatile default, a constraint validated in place…), which fraisec's own rules do not
cover. Its JSON report is mapped one to one into diagnostics; its line numbers are 0-based.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from fraisec.diagnostics import Diagnostic, Location, Severity
from fraisec.lint.source import Suppressions

__all__ = ["squawk_available", "squawk_lint"]

_TIMEOUT_S = 120


def squawk_available() -> bool:
    return shutil.which("squawk") is not None


def squawk_lint(paths: Sequence[str | Path], pg_version: str | None = None) -> list[Diagnostic]:
    """Run squawk on files; a missing or failing squawk is reported as FSC391, never raised."""
    exe = shutil.which("squawk")
    if exe is None:
        return [_problem("squawk is not installed, so --squawk added no findings",
                         "pip install squawk-cli")]
    if not paths:
        return []
    cmd = [exe, "--reporter", "json", "--no-error-on-unmatched-pattern"]
    if pg_version:
        cmd.append(f"--pg-version={pg_version}")
    cmd += [str(p) for p in paths]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [_problem(f"squawk failed to run: {exc}", "Run squawk by hand to see why.")]
    try:
        items = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return [_problem(f"squawk gave no JSON report ({detail[0]})", "Run squawk by hand to see why.")]
    found = [_to_diagnostic(item) for item in items if isinstance(item, dict)]
    return [d for d in found if not _silenced(d)]


def _silenced(d: Diagnostic) -> bool:
    """``-- fraisec: ignore FSC390`` works for squawk findings too (per line or per file)."""
    if d.location is None:
        return False
    try:
        text = Path(d.location.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return Suppressions.scan(text).silences(d.code, d.location.line, None)


def _to_diagnostic(item: dict) -> Diagnostic:
    level = str(item.get("level", "Warning")).lower()
    line = item.get("line")
    return Diagnostic(
        code="FSC390",
        severity=Severity.ERROR if level == "error" else Severity.WARNING,
        message=f"squawk {item.get('rule_name', '?')}: {item.get('message', '')}".strip(),
        location=Location(file=str(item.get("file", "")),
                          line=line + 1 if isinstance(line, int) else None),
        hint=item.get("help") or None,
    )


def _problem(message: str, hint: str) -> Diagnostic:
    return Diagnostic(code="FSC391", severity=Severity.WARNING, message=message, hint=hint)
