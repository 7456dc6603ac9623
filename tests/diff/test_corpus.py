"""The peer's corpus (migra's 26 cases) through the independent checker, privileges compared:
26 of 26 must pass.

The checker starts its own throwaway PostgreSQL, builds both databases, runs ``fraisec diff``,
applies the script with psql, re-diffs to nothing and compares the two catalogs with its own
queries. It takes about a minute.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_migra_corpus_all_pass(tmp_path: Path) -> None:
    tool = f"{shlex.quote(sys.executable)} -m fraisec diff"
    result = subprocess.run(
        [sys.executable, str(CORPUS / "check_diff_corpus.py"), "--tool", tool, "--script",
         "--privileges", "--cases", str(CORPUS / "migra"), "--port", str(_free_port()), "--artifacts", str(tmp_path)],
        capture_output=True, text=True, timeout=900)
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr
    failures = [line for line in lines if " FAIL " in f" {line} "]
    assert lines[-1] == "26 passed, 0 failed", "\n".join(failures) + "\n" + result.stderr[-2000:]
