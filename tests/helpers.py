"""Small helpers for tests that write schema modules to temporary directories."""

from __future__ import annotations

import textwrap
from pathlib import Path

from typer.testing import CliRunner

from fraisec.cli import app


def write_schema(directory: Path, source: str, name: str = "schema.py") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


def run_cli(*args: str):
    """Run the CLI in-process; exceptions other than exits surface as result.exception."""
    return CliRunner().invoke(app, list(args), catch_exceptions=True)
