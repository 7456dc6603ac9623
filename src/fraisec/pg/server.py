"""The embedded PostgreSQL: a throwaway cluster from the machine's own binaries.

Used as the shadow database (desired state is applied there and introspected) and by the test
suite. Two modes:

* ``EmbeddedServer.cached()``: the data directory lives in a cache directory and is reused
  across runs (a warm start is one ``pg_ctl start``). Processes share a running server: each
  holds a shared lock while it uses it, and the last one to leave stops it (an exclusive lock
  serialises starting and stopping). A server left behind by a killed process is reused by the
  next run and stopped when that run ends, so none stays orphaned.
* ``EmbeddedServer.ephemeral()``: a fresh cluster in a temporary directory, removed on stop.

``initdb`` refuses to run as root, so when fraisec runs as root the cluster runs as the
``postgres`` OS user. The server listens on a Unix socket in its own directory only (no TCP
port to collide with), with fsync, full_page_writes and synchronous_commit off: it holds
nothing worth keeping.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

__all__ = ["EmbeddedServer", "PostgresNotFound", "ServerStartError", "find_bindir"]

PORT = 5432  # only names the socket file inside our own socket directory
_SERVER_OPTIONS = (
    "-c listen_addresses='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off "
    "-c max_connections=100 -c shared_buffers=128MB"
)


class PostgresNotFound(RuntimeError):
    """No initdb/pg_ctl on this machine."""


class ServerStartError(RuntimeError):
    """initdb or pg_ctl failed; the message carries their output."""


def find_bindir() -> Path:
    """Directory holding initdb and pg_ctl: PATH, then ``pg_config --bindir``, then Debian's."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(re.search(r"/(\d+)/bin", p).group(1)),  # type: ignore[union-attr]
    )
    if versions:
        return Path(versions[-1]).parent
    raise PostgresNotFound(
        "initdb/pg_ctl not found on PATH, through pg_config, or under /usr/lib/postgresql"
    )


def _os_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run the cluster as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise ServerStartError(
            "running as root and there is no 'postgres' OS user to run PostgreSQL as "
            "(initdb refuses to run as root)"
        ) from None


def _default_cache_root() -> Path:
    if os.environ.get("FRAISEC_CACHE_DIR"):
        return Path(os.environ["FRAISEC_CACHE_DIR"])
    if os.geteuid() == 0:
        # root's home is not readable by the postgres user; the socket path must also stay short.
        return Path(tempfile.gettempdir()) / "fraisec-cache-root"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fraisec"


class EmbeddedServer:
    """A PostgreSQL cluster under ``root`` (``root/data``, ``root/sock``, ``root/server.log``)."""

    def __init__(self, root: Path, *, remove_on_stop: bool) -> None:
        self.bindir = find_bindir()
        self.root = root
        self.datadir = root / "data"
        self.sockdir = root / "sock"
        self.logfile = root / "server.log"
        self._remove_on_stop = remove_on_stop
        self._user = _os_user()
        self._users_fd: int | None = None  # shared lock held while this process uses the server
        self.running = False

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def ephemeral(cls) -> EmbeddedServer:
        root = Path(tempfile.mkdtemp(prefix="fraisec-pg-"))
        return cls(root, remove_on_stop=True)

    @classmethod
    def cached(cls, cache_root: Path | None = None) -> EmbeddedServer:
        root = (cache_root or _default_cache_root()) / f"pg{_major_version(find_bindir())}"
        return cls(root, remove_on_stop=False)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> EmbeddedServer:
        self.root.mkdir(parents=True, exist_ok=True)
        with self._mutex():
            self._users_fd = self._lock(self.root / "users", fcntl.LOCK_SH)
            self.sockdir.mkdir(exist_ok=True)
            self._chown(self.root, self.sockdir)
            if not (self.datadir / "PG_VERSION").exists():
                shutil.rmtree(self.datadir, ignore_errors=True)
                self._initdb()
            # Reuse a server another fraisec process (or a killed one) left running here.
            if self._pg_ctl("status", check=False).returncode != 0:
                self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.logfile), "-o", _SERVER_OPTIONS)
        self.running = True
        atexit.register(self.stop)
        _stop_on_sigterm()
        return self

    def stop(self) -> None:
        """Stop the server unless another process is still using it (then the last one stops it)."""
        if self._users_fd is None:
            return
        with self._mutex():
            fcntl.flock(self._users_fd, fcntl.LOCK_UN)
            try:
                fcntl.flock(self._users_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                last_user = True
            except BlockingIOError:
                last_user = False
            if last_user and self.running:
                self._pg_ctl("stop", "-m", "fast", "-w", check=False)
            os.close(self._users_fd)
            self._users_fd = None
            self.running = False
        if self._remove_on_stop:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- use ------------------------------------------------------------------------------
    def url(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{quote(user)}@/{quote(dbname)}?host={quote(str(self.sockdir))}&port={PORT}"

    # -- internals ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _mutex(self) -> Iterator[None]:
        """Serialises starting and stopping between processes sharing this cluster."""
        fd = self._lock(self.root / "lock", fcntl.LOCK_EX)
        try:
            yield
        finally:
            os.close(fd)

    @staticmethod
    def _lock(path: Path, mode: int) -> int:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(fd, mode)
        return fd

    def _chown(self, *paths: Path) -> None:
        if self._user is None:
            return
        for path in paths:
            os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        extra: dict = {}
        if self._user is not None:
            extra = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        # A new session keeps the terminal's Ctrl-C away from the server; we stop it ourselves.
        result = subprocess.run(args, cwd=self.root, capture_output=True, text=True, env=env,
                                start_new_session=True, **extra)
        if check and result.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            raise ServerStartError(
                f"{Path(args[0]).name} failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log}"
            )
        return result

    def _initdb(self) -> None:
        self._run([str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres",
                   "-E", "UTF8", "--locale=C", "--auth=trust", "--no-sync"])

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args]
        if args[0] == "start":
            cmd[-1] = f"{cmd[-1]} -p {PORT} -k {self.sockdir}"
        return self._run(cmd, check=check)


def _major_version(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True)
    match = re.search(r"(\d+)", out.stdout)
    return match.group(1) if match else "x"


_sigterm_installed = False


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit so atexit stops the server (Ctrl-C already does)."""
    global _sigterm_installed
    if _sigterm_installed or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    _sigterm_installed = True
