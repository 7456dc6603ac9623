"""The watcher of a cached embedded server: stops it once no command has used it for a while.

Started in the background by the command that starts the server, as
``python -m fraisec.pg.reaper ROOT BINDIR FD PID``, where ``FD`` is an
open descriptor of ``ROOT/reaper.lock`` that already holds the exclusive lock (``PID``: the
postmaster's, as the starter saw it): the watcher is
"alive" for other commands exactly as long as that lock is held. Every second it looks at the
server and stops it (``pg_ctl stop -m fast``) when:

* no command holds the ``users`` lock and the last one left (``last-used``'s mtime) more than
  the keep-alive seconds written in that file ago;
* the cluster's directory was removed (the postmaster gets SIGQUIT directly: ``pg_ctl`` needs
  the pid file that went with it);
* the watcher gets SIGTERM or SIGHUP (machine shutdown, logout);
* the watcher gets SIGINT and no command uses the server. It stays in the process group of the
  command that started it, so a Ctrl-C sent to that command (the terminal's, while it runs; a
  test's ``killpg``) reaches the watcher too: an interrupted command leaves nothing running,
  as before there was a keep-alive. A Ctrl-C on a later command does not reach it.

After each command (once none is running) it also tidies the server's databases and makes
spares for the next command (:func:`fraisec.pg.pool.maintain`).

It exits, releasing the lock, once the server is stopped; the decision "the server is not
running, so I can go" is made under the cluster's mutex, so a command starting the server again
at that moment either sees this watcher alive (and it stays, the server being up again) or sees
it gone (and starts a new one).
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import time
from pathlib import Path

POLL_SECONDS = 1.0


class _Stop(BaseException):
    """SIGTERM/SIGHUP: stop the server now."""


class _Interrupted(BaseException):
    """SIGINT: stop the server unless a command uses it; leave either way."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop()


def _raise_interrupted(signum: int, frame: object) -> None:
    raise _Interrupted()


def main(argv: list[str]) -> int:
    root, bindir, fd = Path(argv[0]), Path(argv[1]), int(argv[2])
    from fraisec.pg.server import EmbeddedServer

    server = EmbeddedServer(root, remove_on_stop=False, bindir=bindir)
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)
    # Known from the start (the starter read it; the directory may be gone before our first look).
    seen_pid = int(argv[3]) if len(argv) > 3 and argv[3].isdigit() else server.postmaster_pid()
    maintained = 0.0  # last-used's mtime when the databases were last tidied
    try:
        while True:
            time.sleep(POLL_SECONDS)
            try:
                if not (server.datadir / "PG_VERSION").exists():
                    raise FileNotFoundError(server.datadir)
                if server.is_running():
                    seen_pid = server.postmaster_pid() or seen_pid
                    if _idle_for(root) and _stop_if_unused(server, fd, seen_pid):
                        return 0
                    maintained = _maintain_after_use(server, maintained)
                elif _gone(server, fd, seen_pid):
                    return 0
            except OSError:
                if (server.datadir / "PG_VERSION").exists():
                    raise
                _kill(seen_pid, server.datadir)  # the directory was removed under the server
                return 0
    except _Stop:
        _stop_now(server, seen_pid)
        return 0
    except _Interrupted:
        # A command still using the server stops it as its last user (it finds no watcher).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with server._mutex():
            if server.is_running() and _unused(server):
                _stop_now(server, seen_pid)
            os.close(fd)
        return 0


def _maintain_after_use(server, maintained: float) -> float:
    """After a command left (and none runs): spares, leftovers, old templates
    (:func:`fraisec.pg.pool.maintain`). Returns the last-used time now dealt with."""
    try:
        used = (server.root / "last-used").stat().st_mtime
    except OSError:
        return maintained
    if used == maintained or not _unused(server):
        return maintained
    try:
        from fraisec.pg import pool

        pool.maintain(server.url())
    except Exception as exc:  # noqa: BLE001 - a failed tidy-up must not stop the watching
        sys.stderr.write(f"fraisec reaper: maintenance failed: {exc}\n")
    return used


def _unused(server) -> bool:
    users = os.open(server.root / "users", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(users)


def _idle_for(root: Path) -> bool:
    """The last command left more than its keep-alive seconds ago."""
    path = root / "last-used"
    try:
        keep = float(path.read_text().strip() or 0)
        since = time.time() - path.stat().st_mtime
    except (OSError, ValueError):
        return True  # no record: nothing says to keep it
    return since >= keep


def _stop_if_unused(server, fd: int, seen_pid: int | None) -> bool:
    """Under the mutex: stop the server when no command holds it; then release our lock."""
    with server._mutex():
        users = os.open(server.root / "users", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # in use: the command that leaves will update last-used
            if not _idle_for(server.root):
                return False  # a command came and went while we waited for the mutex
            _stop_now(server, seen_pid)
            os.close(fd)  # still under the mutex: see the module docstring
            return True
        finally:
            os.close(users)


def _gone(server, fd: int, seen_pid: int | None) -> bool:
    """Someone stopped the server (an interrupted last user): leave, under the mutex. A
    postmaster still alive without its pid file (the directory is being removed) is killed."""
    with server._mutex():
        if server.is_running():
            return False
        _kill(seen_pid, server.datadir)
        os.close(fd)
        return True


def _stop_now(server, seen_pid: int | None) -> None:
    """``pg_ctl stop -m fast``; then SIGQUIT to the postmaster we saw if it is still there (its
    pid file went away with a directory being removed: pg_ctl cannot find it)."""
    try:
        server._pg_ctl("stop", "-m", "fast", "-w", check=False)
    finally:
        _kill(seen_pid, server.datadir)  # when pg_ctl could not (no pid file, no binaries)


def _kill(pid: int | None, datadir: Path) -> None:
    """Immediate shutdown by signal (there is no directory left to write a checkpoint to),
    only when ``pid`` still is a postmaster of ``datadir``."""
    if pid is None:
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return
    if f"-D {datadir} " not in f"{cmdline} ":
        return
    for sig, wait in ((signal.SIGQUIT, 10.0), (signal.SIGKILL, 0.0)):
        try:
            os.kill(pid, sig)
        except OSError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                if not Path(f"/proc/{pid}/cmdline").read_bytes():
                    return  # a zombie: it has exited
            except OSError:
                return  # gone
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
