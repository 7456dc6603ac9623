"""``fraisec.toml``: where a project keeps its schema, outputs, hand-written SQL and migrations.

    [project]
    schema = "schema.py"      # a file path or a dotted module name
    out = "build"             # fraisec compile writes here
    db = "db"                 # hand-written *.sql, part of the desired state
    migrations = "migrations"
    tenants = "tenants.toml"  # the tenant registry (docs/tenancy.md)

Every path is relative to the directory holding fraisec.toml. Without the file, the defaults
above apply relative to the current directory.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["Project", "ProjectError", "find_project"]

CONFIG_NAME = "fraisec.toml"


class ProjectError(Exception):
    """fraisec.toml is unreadable or invalid."""


class Project(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    root: Path
    schema_ref: str = "schema.py"
    out: str = "build"
    db: str = "db"
    migrations: str = "migrations"
    tenants: str = "tenants.toml"

    @property
    def out_dir(self) -> Path:
        return self.root / self.out

    @property
    def db_dir(self) -> Path:
        return self.root / self.db

    @property
    def migrations_dir(self) -> Path:
        return self.root / self.migrations

    @property
    def tenants_path(self) -> Path:
        return self.root / self.tenants

    def schema_path_or_module(self) -> str:
        """The schema reference, resolved against the project root when it is a path."""
        ref = self.schema_ref
        if ref.endswith(".py") or "/" in ref:
            path = self.root / ref
            return str(path) if self.root != Path(".") else ref
        return ref


def find_project(start: Path | None = None) -> Project:
    """The project whose fraisec.toml is in ``start`` or a parent; defaults otherwise."""
    here = (start or Path(".")).resolve()
    for directory in (here, *here.parents):
        config = directory / CONFIG_NAME
        if config.is_file():
            return _read(config, _relative(directory))
    return Project(root=Path("."))


def _relative(directory: Path) -> Path:
    try:
        return directory.relative_to(Path.cwd()) if directory != Path.cwd() else Path(".")
    except ValueError:
        return directory


def _read(config: Path, root: Path) -> Project:
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProjectError(f"{config}: {exc}") from None
    section = dict(data.get("project", {}))
    if "schema" in section:
        section["schema_ref"] = section.pop("schema")
    section.pop("name", None)
    try:
        return Project(root=root, **section)
    except ValidationError as exc:
        raise ProjectError(f"{config}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None
