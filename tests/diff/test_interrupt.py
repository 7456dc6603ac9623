"""Ctrl-C in the middle of a diff leaves no server running and no stale pid file behind.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group: fraisec, the psql it
runs and pg_ctl. The test does the same at several moments of a run that starts its own cached
server (in a cache directory of its own, so fraisec is the server's only user and must stop it).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# Long enough to be interrupted while applying, introspecting or stopping.
BIG_SQL = "\n".join(f"CREATE TABLE t{i} (id int PRIMARY KEY, name text, x int CHECK (x > 0));"
                    for i in range(400)) + "\n"


def _processes_under(root: Path) -> list[str]:
    """Command lines of the processes (postgres, pg_ctl, psql) that mention ``root``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # exited meanwhile
        if str(root) in cmdline:
            found.append(f"{pid}: {cmdline[:120]}")
    return found


def _wait_until_gone(root: Path, seconds: float = 10.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := _processes_under(root)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("delay", [0.1, 0.4, 0.8, 1.5, 3.0])
def test_ctrl_c_leaves_no_server_and_no_pid_file(tmp_path: Path, delay: float) -> None:
    # Under /tmp, not pytest's private tmp_path: the server may run as the postgres OS user.
    cache = Path(tempfile.mkdtemp(prefix="fraisec-interrupt-"))
    cache.chmod(0o755)
    (tmp_path / "big.sql").write_text(BIG_SQL)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fraisec", "diff", "empty", "big.sql"], cwd=tmp_path,
        env={**os.environ, "FRAISEC_CACHE_DIR": str(cache)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(delay)
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        pass  # already finished: the clean-up below must hold all the same
    _, stderr = proc.communicate(timeout=120)
    leftovers = _wait_until_gone(cache)
    try:
        assert leftovers == [], leftovers
        assert list(cache.rglob("postmaster.pid")) == []
        # Interrupted (130, or killed by the signal itself) or finished: never an internal error.
        assert proc.returncode in (0, 130, -signal.SIGINT), stderr
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    finally:
        for line in _processes_under(cache):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
        shutil.rmtree(cache, ignore_errors=True)
