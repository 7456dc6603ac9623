"""``fraisec init [DIR]``: scaffold a project (fraisec.toml, schema.py, db/, migrations/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fraisec.cli.common import finish, output
from fraisec.diagnostics import Location, error

FRAISEC_TOML = """\
[project]
schema = "schema.py"
out = "build"
db = "db"
migrations = "migrations"
"""

SCHEMA_PY = '''\
"""The API and database schema of this project. Compile it with `fraisec compile`."""

import fraisec as fq
from fraisec.scalars import DateTime

fq.tenancy(tenant="Organization", claim="org_id", user="User", membership="Membership")


@fq.entity
class Organization:
    """A tenant."""

    identifier: str = fq.field(unique=True)
    name: str
    created_at: DateTime = fq.now()


@fq.entity
class User:
    identifier: str = fq.field(unique=True)
    name: str


@fq.entity(tenant=True)
class Membership:
    organization: Organization
    user: User
    role: str = "member"
    __unique__ = [("organization", "user")]


@fq.entity(tenant=True)
class Project:
    """A project within an organization."""

    identifier: str
    organization: Organization
    name: str
    created_at: DateTime = fq.now()
    __unique__ = [("organization", "identifier")]


@fq.query(inject={"org_id": "jwt:org_id"})
def projects(limit: int = 20) -> list[Project]:
    """Projects of the caller's organization."""


@fq.mutation(operation="CREATE", inject={"org_id": "jwt:org_id"})
def create_project(identifier: str, name: str) -> Project:
    """Create a project in the caller's organization."""
'''


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)


def init_command(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Project directory (created if missing).")] = Path("."),
) -> None:
    """Scaffold a new project; in a FraiseQL project (schema.py there), adopt its schema.

    Never overwrites an existing file."""
    out = output(ctx)
    toml, schema = directory / "fraisec.toml", directory / "schema.py"
    adopted = schema.is_file() and not toml.exists()
    files = {toml: FRAISEC_TOML} if adopted else {toml: FRAISEC_TOML, schema: SCHEMA_PY}
    existing = [p for p in files if p.exists()]
    finish(out, [error("FSC108", f"{p} already exists", Location(file=str(p)),
                       hint="fraisec init never overwrites files; pick an empty directory.")
                 for p in existing])
    created = []
    for sub in ("db", "migrations"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
        keep = directory / sub / ".gitkeep"
        if not any((directory / sub).iterdir()):
            keep.touch()
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        created.append(str(path))
        out.status(f"created {path}")
    if adopted:
        out.status(f"adopted {schema}: fraisec.toml points at it; it was not changed")
    if out.json:
        from fraisec.cli.report import emit_json

        emit_json(out, created=created, adopted=str(schema) if adopted else None)
        return
    out.status(f"next: cd {directory} && fraisec validate && fraisec migrate diff init"
               if adopted else f"next: cd {directory} && fraisec compile")
