"""A slice of pg-delta's corpus through the independent checker, in CI: one scenario of every
family, each in both directions (``tests/corpus/pgdelta_slice.txt``), privileges compared.

The whole corpus (about 620 cases, half an hour) runs with ``make conformance``. The slice runs
as two checker processes side by side (each its own throwaway server) to keep CI short. Cases
listed as known failures must still fail: fixing one means taking it off the list.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SLICE = CORPUS / "pgdelta_slice.txt"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _slice() -> tuple[list[str], set[str]]:
    """(cases, known failures): each scenario of the slice in both directions."""
    cases, known = [], set()
    for line in SLICE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, mark = line.partition(" ")
        for case in (name, f"{name}--reverse"):
            if (CORPUS / "pgdelta" / case).is_dir():
                cases.append(case)
        if mark.strip():  # "known-failure: forward|reverse|both"
            which = mark.split(":", 1)[1].strip()
            if which in ("forward", "both"):
                known.add(name)
            if which in ("reverse", "both"):
                known.add(f"{name}--reverse")
    return cases, known


def _run(cases: list[str], artifacts: Path) -> str:
    tool = f"{shlex.quote(sys.executable)} -m fraisec diff"
    only = [arg for case in cases for arg in ("--only", case)]
    result = subprocess.run(
        [sys.executable, str(CORPUS / "check_diff_corpus.py"), "--tool", tool, "--script",
         "--privileges", "--cases", str(CORPUS / "pgdelta"), "--port", str(_free_port()),
         "--artifacts", str(artifacts), *only],
        capture_output=True, text=True, timeout=1500)
    assert result.stdout.strip(), result.stderr[-2000:]
    return result.stdout


def test_pgdelta_slice_every_family_both_directions(tmp_path: Path) -> None:
    cases, known = _slice()
    families = {c.split("--")[0] for c in cases}
    all_families = {p.name.split("--")[0] for p in (CORPUS / "pgdelta").iterdir() if p.is_dir()}
    excluded = set(re.findall(r"^\| `([^`]+)` \|", (CORPUS / "pgdelta" / "EXCLUDED.md").read_text(),
                              re.MULTILINE))
    runnable = {p.name.split("--")[0] for p in (CORPUS / "pgdelta").iterdir()
                if p.is_dir() and p.name not in excluded}
    assert runnable <= families, f"families without a case in the slice: {sorted(runnable - families)}"
    assert all_families  # the corpus is there
    halves = [cases[0::2], cases[1::2]]
    with ThreadPoolExecutor(2) as pool:
        outputs = list(pool.map(_run, halves, [tmp_path / "a", tmp_path / "b"]))
    results = {}
    for out in outputs:
        for line in out.splitlines():
            match = re.match(r"^(\S+)\s+(PASS|FAIL)\b(.*)", line)
            if match:
                results[match.group(1)] = (match.group(2), match.group(3).strip())
    assert set(results) == set(cases), sorted(set(cases) - set(results))
    failed = {c for c, (status, _) in results.items() if status == "FAIL"}
    unexpected = {c: results[c][1] for c in sorted(failed - known)}
    fixed = sorted(known - failed)
    assert not unexpected, unexpected
    assert not fixed, f"now passing, take them off the known failures: {fixed}"
