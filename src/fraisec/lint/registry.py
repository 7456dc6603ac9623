"""The rule registry: each rule is a function ``(model, config) -> findings`` for its codes.

Rules register with ``@rule("FSC3xx", …)``; registering a code twice is a programming error
(caught at import, so a test run finds it). Findings are positions in the linted text
(``Span``), turned into ``Diagnostic``s with file:line by ``fraisec.lint.lint_sql``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from fraisec.diagnostics import Severity
from fraisec.lint.model import LintModel, Span

__all__ = ["DEFAULT_TENANT_COLUMNS", "Finding", "LintConfig", "RULES", "rule"]

DEFAULT_TENANT_COLUMNS: tuple[str, ...] = (
    "fk_organization", "fk_organisation", "fk_tenant", "fk_org", "tenant_id", "organization_id",
    "organisation_id", "org_id",
)


@dataclass(frozen=True)
class LintConfig:
    """What the rules may be told: which columns mark a table as tenant-scoped, which roles
    serve API requests (beyond the roles the policies name), and which schemas the API exposes
    (``fraisec check`` takes both from the schema's settings)."""

    tenant_columns: tuple[str, ...] = DEFAULT_TENANT_COLUMNS
    api_roles: tuple[str, ...] = ()
    exposed_schemas: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    span: Span
    hint: str
    related: tuple[tuple[str, Span], ...] = field(default=())


RuleFn = Callable[[LintModel, LintConfig], Iterable[Finding]]
RULES: dict[str, RuleFn] = {}


def rule(*codes: str) -> Callable[[RuleFn], RuleFn]:
    """Register ``fn`` as the rule that reports ``codes``."""

    def register(fn: RuleFn) -> RuleFn:
        for code in codes:
            if code in RULES:
                raise RuntimeError(f"lint rule for {code} registered twice")
            RULES[code] = fn
        return fn

    return register


def error(code: str, message: str, span: Span, hint: str,
          related: Iterable[tuple[str, Span]] = ()) -> Finding:
    return Finding(code, Severity.ERROR, message, span, hint, tuple(related))


def warning(code: str, message: str, span: Span, hint: str,
            related: Iterable[tuple[str, Span]] = ()) -> Finding:
    return Finding(code, Severity.WARNING, message, span, hint, tuple(related))
