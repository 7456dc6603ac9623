"""``migrations/fraisec.sum``: each file's SHA-256 and one for the whole ordered set.

    # fraisec.sum …
    set sha256:<hash of the lines below, in order>
    0001_init.sql sha256:<hash of the file>
    0002_add_status.sql sha256:<…>

Why a set hash: two branches that each add a migration both rewrite the ``set`` line, so git
reports a conflict on merge instead of silently interleaving two histories; a conflict resolved
by hand (keeping both lines) no longer matches the set hash and is caught too. File hashes are
taken over the text with CRLF turned into LF, so a checkout with ``core.autocrlf`` does not
look like an edit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from fraisec.diagnostics import Diagnostic, Location, error

__all__ = ["SUM_NAME", "SumFile", "add_migration", "file_checksum", "read_sum", "render_sum", "verify_sum",
           "write_sum"]

SUM_NAME = "fraisec.sum"
_PREFIX = "sha256:"
_LINE = re.compile(r"^(?P<name>\S+) sha256:(?P<hash>[0-9a-f]{64})$")
_SET = re.compile(r"^set sha256:(?P<hash>[0-9a-f]{64})$")
_HEADER = (
    "# fraisec.sum: checksums of the migration files, written by fraisec; do not edit.\n"
    "# `fraisec migrate hash` rewrites it. A merge conflict here means two branches added\n"
    "# migrations: keep one, then re-create the other with `fraisec migrate diff NAME`.\n"
)
_HINT_REHASH = ("If the change is intended (a migration not yet applied anywhere), run "
                "`fraisec migrate hash`; otherwise restore the file from version control.")


def file_checksum(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def _set_checksum(entries: list[tuple[str, str]]) -> str:
    body = "".join(f"{name} {_PREFIX}{digest}\n" for name, digest in entries)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SumFile:
    """The parsed file: the set hash as written and the (name, hash) lines in order."""

    set_hash: str | None
    entries: tuple[tuple[str, str], ...]


def render_sum(files: list[tuple[str, str]]) -> str:
    """The text of fraisec.sum for (file name, text) pairs given in version order."""
    entries = [(name, file_checksum(text)) for name, text in files]
    lines = [f"set {_PREFIX}{_set_checksum(entries)}"]
    lines += [f"{name} {_PREFIX}{digest}" for name, digest in entries]
    return _HEADER + "\n".join(lines) + "\n"


def write_sum(directory: Path, files: list[tuple[str, str]]) -> Path:
    path = directory / SUM_NAME
    path.write_text(render_sum(files), encoding="utf-8")
    return path


def add_migration(directory: Path, files: Sequence, name: str, text: str) -> Path:
    """Write a new migration file after ``files`` (the directory's, parsed) and the sum that
    covers them all: the one way a generated file enters a directory."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    write_sum(directory, [(f.name, f.text) for f in files] + [(name, text)])
    return path


def read_sum(path: Path) -> tuple[SumFile | None, list[Diagnostic]]:
    """Parse fraisec.sum; conflict markers and malformed lines are FSC504 at their line."""
    text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
    set_hash: str | None = None
    entries: list[tuple[str, str]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith(("<<<<<<<", "=======", ">>>>>>>", "|||||||")):
            return None, [_bad(path, lineno, "fraisec.sum has merge-conflict markers: two branches "
                                             "added migrations")]
        if (m := _SET.match(line)) and set_hash is None:
            set_hash = m["hash"]
        elif m := _LINE.match(line):
            entries.append((m["name"], m["hash"]))
        else:
            return None, [_bad(path, lineno, f"fraisec.sum line {lineno} is malformed: expected "
                                             "`NNNN_name.sql sha256:HEX` or `set sha256:HEX`",
                               hint=_HINT_CORRUPT)]
    return SumFile(set_hash, tuple(entries)), []


_HINT_BRANCHES = ("Keep the migrations of one branch, renumber the others by re-creating them "
                  "with `fraisec migrate diff NAME`, then run `fraisec migrate hash`.")
# A damaged line is not a merge: the files are the truth, the sum is rewritten from them.
_HINT_CORRUPT = ("fraisec.sum was damaged (edited by hand or truncated). Check that no migration "
                 "file was changed by mistake (`git diff migrations/`), then run "
                 "`fraisec migrate hash` to rewrite it from the files.")


def _bad(path: Path, line: int, message: str, hint: str = _HINT_BRANCHES) -> Diagnostic:
    return error("FSC504", message, Location(file=str(path), line=line), hint=hint)


def verify_sum(directory: Path, files: list[tuple[str, str]]) -> list[Diagnostic]:
    """Compare the files (name, text, in version order) with fraisec.sum."""
    path = directory / SUM_NAME
    if not path.is_file():
        if not files:
            return []
        return [error("FSC502", f"{path} is missing", Location(file=str(path)),
                      hint="Run `fraisec migrate hash` to record the current files' checksums.")]
    parsed, diagnostics = read_sum(path)
    if parsed is None:
        return diagnostics
    recorded = list(parsed.entries)
    if parsed.set_hash != _set_checksum(recorded):
        diagnostics.append(_bad(path, 1, "fraisec.sum's set checksum does not match its lines "
                                         "(edited by hand or merged from two branches)",
                                hint=_HINT_CORRUPT + " If two branches were merged, keep the "
                                     "migrations of one and re-create the others with "
                                     "`fraisec migrate diff NAME` first."))
    return diagnostics + _compare(directory, path, dict(recorded), files)


def _compare(directory: Path, sum_path: Path, recorded: dict[str, str],
             files: list[tuple[str, str]]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    present = {name for name, _ in files}
    for name, text in files:
        where = Location(file=str(directory / name))
        if name not in recorded:
            out.append(error("FSC503", f"{name} is not recorded in fraisec.sum", where,
                             hint="Migrations are created with `fraisec migrate diff NAME`. For a "
                                  "hand-written one, run `fraisec migrate hash`."))
        elif recorded[name] != file_checksum(text):
            out.append(error("FSC503", f"{name} was changed after fraisec.sum was written", where,
                             hint=_HINT_REHASH))
    for name in sorted(set(recorded) - present):
        out.append(error("FSC503", f"fraisec.sum lists {name}, which does not exist",
                         Location(file=str(sum_path)),
                         hint="Restore the file, or run `fraisec migrate hash` if it was removed "
                              "on purpose before being applied anywhere."))
    return out
