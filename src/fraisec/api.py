"""The library facade: what the CLI (and other programs) call. It composes the stages.

    load_ir(ref)       schema module → (IR, diagnostics), validation included
    compile_schema(ref) → Artifacts (schema.json text, …) + diagnostics
"""

from __future__ import annotations

from fraisec.diagnostics import Diagnostic, has_errors
from fraisec.ir.model import Schema

__all__ = ["load_ir"]


def load_ir(ref: str, *, validate: bool = True) -> tuple[Schema | None, list[Diagnostic]]:
    """Load, build and (by default) validate a schema module. IR is None when it cannot load."""
    from fraisec.ir.build import build_schema
    from fraisec.load import load_schema

    loaded = load_schema(ref)
    if loaded.raw is None:
        return None, loaded.diagnostics
    schema, diagnostics = build_schema(loaded.raw, loaded.module_file)
    diagnostics = [*loaded.diagnostics, *diagnostics]
    if validate:
        from fraisec.validate import validate as run_rules

        diagnostics += run_rules(schema)
    return schema, diagnostics


def ok(diagnostics: list[Diagnostic]) -> bool:
    return not has_errors(diagnostics)
