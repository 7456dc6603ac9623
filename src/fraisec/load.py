"""Import a schema module (file path or dotted name) into a fresh registry.

Every load runs the module's code again in a fresh registry, and removes the modules it imported
from the schema's own directory afterwards, so loading twice in one process gives the same result.
Syntax errors, import errors and exceptions at import time become diagnostics with the user's
file and line, never tracebacks.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Iterator

from fraisec.authoring.compat import fraiseql_alias
from fraisec.authoring.definitions import RawSchema
from fraisec.authoring.registry import fresh_registry
from fraisec.diagnostics import Diagnostic, Location, did_you_mean, error

__all__ = ["LoadResult", "display_path", "load_schema"]


@dataclass(frozen=True)
class LoadResult:
    raw: RawSchema | None  # None when the module could not be imported at all
    diagnostics: list[Diagnostic]
    module_file: str | None  # as displayed (relative to the working directory when inside it)


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as shown to users and written into artifacts: relative when under the cwd."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


def load_schema(ref: str) -> LoadResult:
    """Load ``ref`` (``path/to/schema.py``, a package directory, or ``pkg.module``)."""
    target = _resolve(ref)
    if isinstance(target, Diagnostic):
        return LoadResult(None, [target], None)
    name, path, search_dir = target
    before = set(sys.modules)
    sys.path.insert(0, search_dir)
    try:
        with fresh_registry() as registry, fraiseql_alias():
            failure = _execute(name, path)
        raw = None if failure else registry.raw
        diagnostics = [*_relocate(registry.diagnostics), *([failure] if failure else [])]
        return LoadResult(raw, diagnostics, display_path(path) if path else None)
    finally:
        sys.path.remove(search_dir)
        _forget_new_modules(before, search_dir)


def _resolve(ref: str) -> tuple[str, str | None, str] | Diagnostic:
    """(module name, file path or None, directory to put on sys.path)."""
    path = Path(ref)
    if path.is_dir() and (path / "__init__.py").is_file():
        return path.resolve().name, str(path / "__init__.py"), str(path.resolve().parent)
    if ref.endswith(".py") or os.sep in ref:
        if not path.is_file():
            return error("FSC100", f"schema file '{ref}' does not exist", Location(file=ref),
                         hint="Pass the path of your schema module, or set `schema` in fraisec.toml.")
        return f"_fraisec_schema_{path.stem}", str(path), str(path.resolve().parent)
    if not all(part.isidentifier() for part in ref.split(".")):
        return error("FSC100", f"'{ref}' is neither a file nor a dotted module name",
                     Location(file=ref), hint="Use e.g. `schema.py` or `myapp.schema`.")
    return ref, None, os.getcwd()


class _ExitCalled(BaseException):
    """The schema module called ``os._exit``: stopped before it ends fraisec's process."""


class _ImportTimeout(BaseException):
    """The schema module's import ran past the time limit (it never returns)."""


def import_timeout() -> float:
    """Seconds a schema module may take to import (``FRAISEC_IMPORT_TIMEOUT``, default 60)."""
    try:
        return float(os.environ.get("FRAISEC_IMPORT_TIMEOUT", "60"))
    except ValueError:
        return 60.0


@contextmanager
def _guarded_exits(seconds: float) -> Iterator[None]:
    """While the module runs: ``os._exit`` raises instead of ending the process, and (in the
    main thread, where signals arrive) an alarm stops an import that never returns."""
    import signal
    import threading

    real_exit = os._exit
    pid = os.getpid()

    def refuse(status: int) -> None:
        if os.getpid() != pid:  # a child the module forked ends as it means to
            real_exit(status)
        raise _ExitCalled(status)

    def expire(signum, frame) -> None:
        raise _ImportTimeout(seconds)

    timed = (seconds > 0 and hasattr(signal, "setitimer")
             and threading.current_thread() is threading.main_thread())
    os._exit = refuse  # type: ignore[assignment]
    previous = signal.signal(signal.SIGALRM, expire) if timed else None
    if timed:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        os._exit = real_exit
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _execute(name: str, path: str | None) -> Diagnostic | None:
    try:
        with _guarded_exits(import_timeout()):
            if path is None:
                sys.modules.pop(name, None)
                importlib.import_module(name)
            else:
                _exec_file(name, path)
    except (SystemExit, _ExitCalled) as exc:
        # Never fraisec's own exit status: the module tried to end the process.
        call = "os._exit" if isinstance(exc, _ExitCalled) else "sys.exit"
        return _from_traceback("FSC103", f"the schema module called {call}({exc.args[0] if exc.args else ''}) "
                               "while being imported", exc, path or name,
                               "Schema modules are imported to read their declarations: move "
                               "the exit (and any script code) under `if __name__ == \"__main__\":`.")
    except _ImportTimeout as exc:
        return _from_traceback("FSC109", f"importing the schema module did not finish within "
                               f"{exc.args[0]:g}s", exc, path or name,
                               "Module-level code must return: move loops, servers and waits under "
                               "`if __name__ == \"__main__\":` (FRAISEC_IMPORT_TIMEOUT sets the limit).")
    except SyntaxError as exc:
        return error("FSC101", f"syntax error: {exc.msg}",
                     Location(file=display_path(exc.filename or path or name),
                              line=exc.lineno, column=exc.offset),
                     hint="Fix the Python syntax at this line.")
    except ModuleNotFoundError as exc:
        if path is None and exc.name == name:
            return error("FSC100", f"schema module '{name}' not found", Location(file=name),
                         hint="Check the module name, or run from the directory that contains it.")
        return _from_traceback("FSC102", f"import failed: {exc}", exc, path or name,
                               "Install the missing package or fix the import.")
    except ImportError as exc:
        return _from_traceback("FSC102", f"import failed: {exc}", exc, path or name,
                               "Fix the import statement.")
    except NameError as exc:
        return _unknown_name(exc, path or name)
    except Exception as exc:  # noqa: BLE001 - user code may raise anything at import time
        return _from_traceback("FSC103", f"{type(exc).__name__} while importing the schema: {exc}",
                               exc, path or name, "Fix the error at this line of your module.")
    return None


def _exec_file(name: str, path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # typing.get_type_hints and dataclasses look modules up here
    spec.loader.exec_module(module)
    return module


def _from_traceback(code: str, message: str, exc: BaseException, fallback: str,
                    hint: str) -> Diagnostic:
    """Locate the error at the innermost frame that belongs to user code (not fraisec, not stdlib)."""
    location = Location(file=display_path(fallback))
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if _is_user_file(frame.filename):
            location = Location(file=display_path(frame.filename), line=frame.lineno)
            break
    return error(code, message, location, hint=hint)


def _unknown_name(exc: NameError, fallback: str) -> Diagnostic:
    """A name used before it exists: usually an annotation naming a type (FSC200)."""
    frames = [f for f, _ in traceback.walk_tb(exc.__traceback__) if _is_user_file(f.f_code.co_filename)]
    frame = frames[-1] if frames else None
    candidates: set[str] = set(frame.f_globals) if frame else set()
    if frame is not None:
        candidates |= _defined_names(frame.f_code.co_filename)
    suggestion = did_you_mean(exc.name or "", candidates) if exc.name else None
    later = exc.name in candidates
    hint = " ".join(filter(None, [
        suggestion,
        "It is defined later in the module: add `from __future__ import annotations` "
        "at the top so annotations are resolved after the whole module has run." if later else
        "Define it with @type/@entity/@enum, or import it.",
    ]))
    diagnostic = _from_traceback("FSC200", f"unknown name '{exc.name}'", exc, fallback, hint)
    return diagnostic


def _defined_names(filename: str) -> set[str]:
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return set()
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))}


def _is_user_file(filename: str) -> bool:
    if filename.startswith("<"):
        return False
    package_dir = str(Path(__file__).resolve().parent)
    resolved = str(Path(filename).resolve())
    return not resolved.startswith(package_dir) and "site-packages" not in resolved \
        and "/lib/python3" not in resolved


def _relocate(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [
        replace(d, location=replace(d.location, file=display_path(d.location.file)))
        if d.location else d
        for d in diagnostics
    ]


def _forget_new_modules(before: set[str], search_dir: str) -> None:
    """Drop modules this load imported from the schema's directory, so the next load re-runs them."""
    root = str(Path(search_dir).resolve())
    for name in set(sys.modules) - before:
        if name == "fraisec" or name.startswith("fraisec."):
            continue  # our own lazily imported modules must keep their identity
        module_file = getattr(sys.modules.get(name), "__file__", None) or ""
        if name.startswith("_fraisec_schema_") or (module_file and str(Path(module_file).resolve()).startswith(root)):
            del sys.modules[name]
