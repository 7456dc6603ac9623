"""``fraisec.toml``: where a project keeps its schema, outputs, hand-written SQL and migrations.

    [project]
    schema = "schema.py"      # a file path or a dotted module name
    out = "build"             # fraisec compile writes here
    db = "db"                 # hand-written *.sql, part of the desired state
    migrations = "migrations"
    tenants = "tenants.toml"  # the tenant registry (docs/tenancy.md)

    [distribution]
    engine = "citus"          # also write distribution.sql (docs/scale-out.md)

    [tenancy]
    strategy = "rls"          # "rls" | "schema" | "database" (docs/tenancy.md)
    tenant_migrations = "migrations/tenant"   # schema: each tenant schema's migrations
    shared_database_migrations = "migrations/shared"  # database: the shared database's

Every path is relative to the directory holding fraisec.toml. Without the file, the defaults
above apply relative to the current directory.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

__all__ = ["DISTRIBUTION_ENGINES", "TENANCY_STRATEGIES", "DistributionError", "Project", "ProjectError", "find_project"]

CONFIG_NAME = "fraisec.toml"


class ProjectError(Exception):
    """fraisec.toml is unreadable or invalid."""

    code = "FSC100"


class DistributionError(ProjectError):
    """The ``[distribution]`` table names an engine fraisec does not know (FSC600)."""

    code = "FSC600"


# The engines ``[distribution] engine`` accepts (docs/scale-out.md).
DISTRIBUTION_ENGINES = ("citus",)


# A frozen dataclass checked by hand (not a pydantic model): every command reads the project
# first, and importing pydantic for five strings cost more than the rest of ``fraisec diff``.
@dataclasses.dataclass(frozen=True)
class Project:
    root: Path
    schema_ref: str = "schema.py"
    out: str = "build"
    db: str = "db"
    migrations: str = "migrations"
    tenants: str = "tenants.toml"
    distribution: str | None = None  # [distribution] engine: None, or one of DISTRIBUTION_ENGINES
    strategy: str = "rls"
    tenant_migrations: str = "migrations/tenant"
    shared_database_migrations: str = "migrations/shared"

    @property
    def split(self) -> bool:
        """Schema per tenant: the generated SQL is in two parts, the shared part of each
        database (``migrations``) and each tenant schema's (``tenant_migrations``)."""
        return self.strategy == "schema"

    @property
    def shared_database_dir(self) -> Path:
        """Database per tenant: the shared database's migrations (entities declared
        ``database="shared"``)."""
        return self.root / self.shared_database_migrations

    @property
    def tenant_migrations_dir(self) -> Path:
        return self.root / self.tenant_migrations

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


TENANCY_STRATEGIES = ("rls", "schema", "database")

_TYPES = {"str": (str, "a valid string"), "int": (int, "a valid integer"),
          "bool": (bool, "a valid boolean")}


def _problem(values: dict) -> str | None:
    """The first problem with ``Project`` fields from the file, worded as before (field order,
    then unknown keys): ``('out',): Input should be a valid string``."""
    known = {f.name: f for f in dataclasses.fields(Project) if f.name not in ("root", "distribution")}
    for name, spec in known.items():
        expected = _TYPES.get(str(spec.type))
        if name in values and expected and not isinstance(values[name], expected[0]):
            return f"('{name}',): Input should be {expected[1]}"
    for name in values:
        if name not in known:
            return f"('{name}',): Extra inputs are not permitted"
    return None


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
    import tomllib

    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProjectError(f"{config}: {exc}") from None
    section = dict(data.get("project", {}))
    if "schema" in section:
        section["schema_ref"] = section.pop("schema")
    section.pop("name", None)
    tenancy = data.get("tenancy", {})
    if not isinstance(tenancy, dict) or set(tenancy) - {"strategy", "tenant_migrations",
                                                      "shared_database_migrations"}:
        raise ProjectError(f"{config}: [tenancy] takes strategy, tenant_migrations and "
                           "shared_database_migrations only")
    section.update(tenancy)
    problem = _problem(section)
    if problem is None and section.get("strategy", "rls") not in TENANCY_STRATEGIES:
        problem = (f"('strategy',): Input should be one of {', '.join(map(repr, TENANCY_STRATEGIES))}, "
                   f"not {section['strategy']!r}")
    if problem is not None:
        raise ProjectError(f"{config}: {problem}")
    return Project(root=root, distribution=_distribution(config, data.get("distribution")), **section)


def _distribution(config: Path, table: object) -> str | None:
    """``[distribution] engine = "citus"``: the one key; anything else is refused (FSC600)."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise DistributionError(f"{config}: [distribution] must be a table")
    unknown = sorted(set(table) - {"engine"})
    if unknown:
        raise DistributionError(f"{config}: [distribution] has unknown key(s): {', '.join(unknown)} "
                                "(only engine is read)")
    engine = table.get("engine")
    if engine not in DISTRIBUTION_ENGINES:
        known = ", ".join(f'"{e}"' for e in DISTRIBUTION_ENGINES)
        raise DistributionError(f"{config}: [distribution] engine = {engine!r} is not supported "
                                f"(known: {known})")
    return engine
