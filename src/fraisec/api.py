"""The library facade: what the CLI (and other programs) call. It composes the stages.

    load_ir(ref)       schema module → (IR, diagnostics), validation included
    compile_schema(ref) → Artifacts (schema.json text, …) + diagnostics
"""

from __future__ import annotations

from pathlib import Path

from fraisec.diagnostics import Diagnostic, Location, error, has_errors
from fraisec.ir.model import Schema
from fraisec.sqlfiles import read_sql_dir

__all__ = ["check_sql_sources", "compile_schema", "load_ir", "read_sql_dir"]


def load_ir(ref: str, *, validate: bool = True) -> tuple[Schema | None, list[Diagnostic]]:
    """Load, build and (by default) validate a schema module. IR is None when it cannot load."""
    from fraisec.ir.build import build_schema
    from fraisec.load import load_schema

    loaded = load_schema(ref)
    if loaded.raw is None:
        return None, loaded.diagnostics
    schema, diagnostics = build_schema(loaded.raw, loaded.module_file)
    schema, found = _with_distribution(schema, loaded.module_file or ref)
    diagnostics = [*loaded.diagnostics, *diagnostics, *found]
    if not (schema.types or schema.queries or schema.mutations or loaded.diagnostics):
        diagnostics.append(error("FSC107", "the schema module declares no types, queries or mutations",
                                 Location(file=loaded.module_file or ref),
                                 hint="Check that you pointed fraisec at your schema module."))
    if validate:
        from fraisec.validate import validate as run_rules

        diagnostics += run_rules(schema)
        if schema.settings.distribution:
            from fraisec.render.distribution import check_distribution

            diagnostics += check_distribution(schema)
    return schema, _without_follow_ons(diagnostics)


def _with_distribution(schema: Schema, module: str) -> tuple[Schema, list[Diagnostic]]:
    """The ``[distribution]`` engine of the project holding the module (like its ``db/``), so
    compile, diff and migrate diff render the same keys (docs/scale-out.md)."""
    from fraisec.project import ProjectError, find_project

    start = Path(module).parent if module.endswith(".py") else Path(".")
    try:
        engine = find_project(start).distribution
    except ProjectError as exc:
        return schema, [error(exc.code, f"invalid fraisec.toml: {exc}", Location(file=module),
                              hint="Fix the file; see docs/configuration.md.")]
    if engine is None:
        return schema, []
    settings = schema.settings.model_copy(update={"distribution": engine})
    return schema.model_copy(update={"settings": settings}), []


def _without_follow_ons(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """One typo, one diagnostic: an unknown keyword (FSC104) is dropped from the declaration,
    so what the IR stages then report about that class or function (``tenat=True`` makes
    the entity unscoped: FSC207, FSC205, …) is a consequence, not news. Those are left out."""
    typos = [d for d in diagnostics if d.code == "FSC104" and d.location and d.location.line]
    if not typos:
        return diagnostics
    import re

    names = {name for d in typos for name in [_declaration_at(d.location.file, d.location.line)]
             if name}
    if not names:
        return diagnostics
    mentions = re.compile(r"'(?:%s)(?:[.']|\b)" % "|".join(re.escape(n) for n in sorted(names)))
    return [d for d in diagnostics
            if not (d.code.startswith("FSC2") and mentions.search(d.message))]


def _declaration_at(file: str, line: int) -> str | None:
    """The innermost class or function whose definition (decorators included) spans ``line``."""
    import ast

    try:
        tree = ast.parse(Path(file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    found: tuple[int, str] | None = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if start <= line <= (node.end_lineno or node.lineno):
                if found is None or start >= found[0]:
                    found = (start, node.name)
    return found[1] if found else None


def check_sql_sources(schema: Schema, sources: list[tuple[str, str]],
                      database_url: str | None = None) -> list[Diagnostic]:
    """Cross-check the schema's hand-written sql_source objects: statically against ``sources``,
    or against a live database's catalog when ``database_url`` is given."""
    from fraisec.validate import sql_sources

    if database_url is None:
        return sql_sources.check_sql_sources(schema, sql_sources.from_sql(sources))
    from fraisec.catalog.introspect import introspect_url

    catalog = introspect_url(database_url)
    return sql_sources.check_sql_sources(
        schema, sql_sources.from_catalog(catalog, sql_sources.checked_names(schema)))


def compile_schema(ref: str, db_dir: Path | None = None, strategy: str = "rls"
                   ) -> tuple[dict[str, str] | None, list[Diagnostic]]:
    """Every artifact ``fraisec compile`` writes, as ``{file name: text}``; None on errors.

    When ``db_dir`` holds hand-written ``.sql`` files, the generated SQL and those files are
    applied to a shadow database and the schema's sql_source objects are checked there.
    ``strategy`` "schema" or "database": schema.sql is the shared part and tenant.sql the
    tenant part (:mod:`fraisec.render.strategy`); schema.json describes the tenant entities
    as they are in a tenant (no tenant field), the same for every tenant.
    """
    from fraisec.emit.schema_json import emit_schema_json

    schema, diagnostics = load_ir(ref)
    if schema is None or has_errors(diagnostics):
        return None, diagnostics
    if strategy != "rls":
        if strategy == "schema" and db_dir is not None:
            from fraisec.render.strategy import hand_written_problems

            diagnostics = [*diagnostics, *hand_written_problems(schema, read_sql_dir(db_dir))]
        return _split_artifacts(schema, strategy, diagnostics)
    artifacts = {"schema.json": emit_schema_json(schema)}
    artifacts.update(_generated_sql_artifacts(schema))
    hand_written = read_sql_dir(db_dir) if db_dir is not None else []
    if hand_written:
        diagnostics += check_in_shadow(schema, [("schema.sql", artifacts["schema.sql"]), *hand_written])
    return (None if has_errors(diagnostics) else artifacts), diagnostics


def _split_artifacts(schema: Schema, strategy: str, diagnostics: list[Diagnostic]
                     ) -> tuple[dict[str, str] | None, list[Diagnostic]]:
    from fraisec.emit.schema_json import emit_schema_json
    from fraisec.render import render_runtime_toml
    from fraisec.render.strategy import render_parts, split_schema

    parts, problems = render_parts(schema, strategy)
    if parts is None:
        return None, [*diagnostics, *problems]
    split, _scoped, _ = split_schema(schema, strategy)
    artifacts = {"schema.json": emit_schema_json(split), "schema.sql": parts.shared,
                 "fraiseql.toml": render_runtime_toml(schema)}
    if strategy == "schema":
        artifacts["tenant.sql"] = parts.tenant
    if parts.shared_database:
        artifacts["shared_database.sql"] = parts.shared_database
    return artifacts, diagnostics


def check_in_shadow(schema: Schema, sources: list[tuple[str, str]]) -> list[Diagnostic]:
    """Apply generated + hand-written SQL (dependency-ordered) to a shadow database, then cross-check."""
    from fraisec.catalog.shadow import CatalogError, catalog_from_sql
    from fraisec.sqlfiles import order_sql_files
    from fraisec.validate import sql_sources

    from fraisec.render import render_privileged_sql
    from fraisec.render.sql import PRIVILEGED_NAME

    from fraisec.migrations.external import STUB_NAME, schema_stub

    generated, *hand_written = sources
    privileged = render_privileged_sql(schema)
    trailer = [(PRIVILEGED_NAME, privileged)] if privileged else []
    stub = schema_stub(schema)  # an external user table's stand-in (a shadow database)
    try:
        catalog = catalog_from_sql([*([(STUB_NAME, stub)] if stub else []), generated,
                                    *order_sql_files(hand_written), *trailer])
    except CatalogError as exc:
        return list(exc.diagnostics)
    return sql_sources.check_sql_sources(
        schema, sql_sources.from_catalog(catalog, sql_sources.checked_names(schema)))


def _generated_sql_artifacts(schema: Schema) -> dict[str, str]:
    """schema.sql, the fraiseql.toml fragment, privileged.sql when mutations are declared
    privileged and, with ``[distribution]``, distribution.sql."""
    from fraisec.render import render_privileged_sql, render_runtime_toml, render_schema_sql
    from fraisec.render.sql import PRIVILEGED_NAME

    artifacts = {"schema.sql": render_schema_sql(schema), "fraiseql.toml": render_runtime_toml(schema)}
    privileged = render_privileged_sql(schema)
    if privileged:  # applied after db/: it re-owns functions db/ creates
        artifacts[PRIVILEGED_NAME] = privileged
    if schema.settings.distribution:
        from fraisec.render.distribution import render_distribution_sql

        artifacts["distribution.sql"] = render_distribution_sql(schema)
    return artifacts


def schema_sql(ref: str) -> tuple[str | None, list[Diagnostic]]:
    """The generated ``schema.sql`` of a schema module; None when it has errors."""
    from fraisec.render import render_schema_sql

    schema, diagnostics = load_ir(ref)
    if schema is None or has_errors(diagnostics):
        return None, diagnostics
    return render_schema_sql(schema), diagnostics
