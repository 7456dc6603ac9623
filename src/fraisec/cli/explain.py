"""``fraisec explain FSCnnn``: print a diagnostic's documentation page (like ``rustc --explain``).

The pages are ``docs/diagnostics/FSCnnn.md``; they ship inside the wheel as
``fraisec/docs/diagnostics`` (pyproject force-include). An editable install has no such
directory, so the source tree's ``docs/diagnostics`` next to ``src/`` is read instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fraisec.cli.common import output

__all__ = ["page_path", "register"]

_PACKAGED = Path(__file__).resolve().parents[1] / "docs" / "diagnostics"
_SOURCE = Path(__file__).resolve().parents[3] / "docs" / "diagnostics"


def register(app: typer.Typer) -> None:
    app.command("explain")(explain_command)


def page_path(code: str) -> Path | None:
    """The page of ``code`` (FSC504, fsc504 or 504), None when there is none."""
    normal = code.strip().upper()
    if normal.isdigit():
        normal = f"FSC{normal}"
    for directory in (_PACKAGED, _SOURCE):
        path = directory / f"{normal}.md"
        if path.is_file():
            return path
    return None


def explain_command(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(metavar="CODE", help="A diagnostic code, e.g. FSC504.")],
) -> None:
    """Print the documentation page of a diagnostic code (what it means, how to fix it)."""
    from fraisec.diagnostics import CODES, did_you_mean

    out = output(ctx)
    path = page_path(code)
    if path is None:
        suggestion = did_you_mean(code.upper(), CODES) or "`fraisec explain` takes codes such as FSC504."
        raise typer.BadParameter(f"no diagnostic {code!r}. {suggestion}", param_hint="CODE")
    text = path.read_text(encoding="utf-8")
    if out.json:
        from fraisec.cli.report import emit_json

        emit_json(out, code=path.stem, title=CODES.get(path.stem, ""), page=text)
        return
    out.data(text if text.endswith("\n") else text + "\n")
