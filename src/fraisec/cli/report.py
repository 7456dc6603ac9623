"""Diagnostics → rich text with the source line, JSON, or GitHub annotations."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

from rich.text import Text

from fraisec.cli.console import Output, OutputFormat
from fraisec.diagnostics import Diagnostic, Location, Related, Severity, sort_diagnostics
from fraisec.redact import redact

__all__ = ["diagnostics_data", "emit_json", "envelope", "redacted", "report"]

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_MAX_SHOWN = 50


def redacted(d: Diagnostic) -> Diagnostic:
    """``d`` with no password in its text: messages may quote a connection string (or libpq's
    echo of one) and a location may name the database."""
    def loc(location: Location) -> Location:
        return replace(location, file=redact(location.file))

    return replace(d, message=redact(d.message), hint=redact(d.hint) if d.hint else d.hint,
                   location=loc(d.location) if d.location else None,
                   related=tuple(Related(redact(r.message), loc(r.location)) for r in d.related))


def diagnostics_data(diagnostics: Iterable[Diagnostic]) -> list[dict]:
    """The JSON form of diagnostics, redacted, for commands that build their own document."""
    return [redacted(d).to_data() for d in diagnostics]


def envelope(out: Output, diagnostics: Iterable[Diagnostic] = (), ok: bool | None = None,
             **fields: Any) -> dict[str, Any]:
    """The one shape of every ``--format json`` document (docs/cli.md): ``command``, ``ok``
    (no error diagnostics, unless the caller knows better), ``diagnostics``, then the
    command's own fields."""
    ordered = sort_diagnostics(redacted(d) for d in diagnostics)
    return {**fields, "command": out.command,
            "ok": (not any(d.severity is Severity.ERROR for d in ordered)) if ok is None else ok,
            "diagnostics": [d.to_data() for d in ordered]}


def emit_json(out: Output, diagnostics: Iterable[Diagnostic] = (), ok: bool | None = None,
              **fields: Any) -> None:
    """Print the command's one JSON document (see :func:`envelope`)."""
    out.data(json.dumps(envelope(out, diagnostics, ok, **fields), indent=2, sort_keys=True)
             + "\n")


def report(out: Output, diagnostics: Iterable[Diagnostic]) -> None:
    ordered = sort_diagnostics(redacted(d) for d in diagnostics)
    if out.format is OutputFormat.json:
        emit_json(out, ordered)
        return
    if out.format is OutputFormat.github:
        for d in ordered:
            out.data(_github_line(d) + "\n")
        return
    for d in ordered[:_MAX_SHOWN]:
        if d.severity is not Severity.ERROR and out.quiet:
            continue
        _rich(out, d)
    if len(ordered) > _MAX_SHOWN:
        out.err.print(f"… and {len(ordered) - _MAX_SHOWN} more", markup=False)


def _rich(out: Output, d: Diagnostic) -> None:
    head = Text()
    head.append(f"{d.severity.value}[{d.code}]", style=_STYLE[d.severity])
    head.append(f": {d.message}")
    out.err.print(head)
    if d.location:
        out.err.print(Text(f"  --> {d.location}", style="cyan"))
        _print_source(out, d.location)
    for rel in d.related:
        out.err.print(Text(f"  note: {rel.message} ({rel.location})", style="dim"))
    if d.hint:
        out.err.print(Text(f"  hint: {d.hint}", style="green"))
    out.err.print(Text(f"  docs: fraisec explain {d.code}", style="dim"))


def _print_source(out: Output, loc: Location) -> None:
    line = _source_line(loc)
    if line is None:
        return
    gutter = f"{loc.line:>5} | "
    out.err.print(Text(gutter, style="cyan") + Text(line))
    if loc.column:
        out.err.print(Text(" " * (len(gutter) + loc.column - 1) + "^", style="bold red"))


def _source_line(loc: Location) -> str | None:
    if not loc.line:
        return None
    try:
        lines = Path(loc.file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return lines[loc.line - 1].rstrip() if 0 < loc.line <= len(lines) else None


def _github_line(d: Diagnostic) -> str:
    props = []
    if d.location:
        props.append(f"file={_escape_prop(d.location.file)}")
        if d.location.line:
            props.append(f"line={d.location.line}")
        if d.location.column:
            props.append(f"col={d.location.column}")
    props.append(f"title={_escape_prop(d.code)}")
    message = d.message + (f" Hint: {d.hint}" if d.hint else "")
    return f"::{_GITHUB_LEVEL[d.severity]} {','.join(props)}::{_escape_data(message)}"


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")
