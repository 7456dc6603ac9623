"""The SQL linter: security and performance mistakes in hand-written PostgreSQL.

The whole set of files is linted together, because a table's RLS, its policies, its views
and its indexes are often in different migration files::

    from fraisec.lint import lint_sql
    diagnostics = lint_sql([("002_rls.sql", sql_text), ...])

Each rule and the proof that its problem is real is in ``docs/diagnostics/FSC3xx.md``;
``docs/lint.md`` is the user's guide (silencing, tenant columns, ``--squawk``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from fraisec.diagnostics import Diagnostic, Location, Related, Severity, sort_diagnostics
from fraisec.lint.registry import DEFAULT_TENANT_COLUMNS, RULES, Finding, LintConfig
from fraisec.lint.source import SourceFile, Statement, Suppressions, split_statements

__all__ = ["DEFAULT_TENANT_COLUMNS", "LintConfig", "lint_files", "lint_sql"]


def lint_sql(sources: Sequence[tuple[str, str]], config: LintConfig | None = None
             ) -> list[Diagnostic]:
    """Lint SQL texts together.

    Args:
        sources: (file name, SQL text) pairs; names are used as given in locations.
        config: tenant column names etc.; defaults to ``LintConfig()``.

    Returns:
        Diagnostics (FSC3xx), sorted by file, line and code, minus silenced ones.
    """
    # The rules and the parser (sqlglot, ~0.5 s of imports) load here, not with the package:
    # fraisec.lint.source is read by the migrations and the shadow, which need neither.
    from fraisec.lint import rules as _rules  # noqa: F401 - registers the rules
    from fraisec.lint.parse import build_model

    config = config or LintConfig()
    files = [SourceFile(name, text) for name, text in sources]
    statements: list[Statement] = []
    diagnostics: list[Diagnostic] = []
    for source in files:
        found, unterminated = split_statements(source)
        statements += found
        for offset in unterminated:
            diagnostics.append(Diagnostic(
                code="FSC300", severity=Severity.WARNING,
                message="unterminated string, quoted identifier, comment or dollar-quoted "
                        "body: the rest of the file was read as one piece",
                location=Location(file=source.name, line=source.line_of(offset)),
                hint="Close the quote or comment that starts here."))
    model, unreadable = build_model(statements, tuple(c.lower() for c in config.tenant_columns))
    for item in unreadable:
        diagnostics.append(Diagnostic(
            code="FSC300", severity=Severity.WARNING,
            message=f"could not read this {item.what} statement; the lint rules skipped it",
            location=item.span.location,
            hint="Check the statement's syntax; if PostgreSQL accepts it, please report it."))
    findings: list[Finding] = []
    for fn in dict.fromkeys(RULES.values()):  # a rule may own several codes; run it once
        findings.extend(fn(model, config))
    suppressions = {f.name: Suppressions.scan(f.text) for f in files}
    diagnostics += [_to_diagnostic(f) for f in findings if not _silenced(f, suppressions)]
    diagnostics = [d for d in diagnostics if not _silenced_diag(d, suppressions)]
    return sort_diagnostics(_dedupe(diagnostics))


def lint_files(paths: Iterable[str | Path], config: LintConfig | None = None) -> list[Diagnostic]:
    """Read and lint files (names kept as given). Unreadable files become FSC300 errors."""
    sources: list[tuple[str, str]] = []
    problems: list[Diagnostic] = []
    for path in paths:
        try:
            sources.append((str(path), Path(path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Diagnostic(code="FSC300", severity=Severity.ERROR,
                                       message=f"cannot read {path}: {exc}",
                                       location=Location(file=str(path)),
                                       hint="Check the path and that the file is UTF-8 text."))
    return sort_diagnostics(problems + lint_sql(sources, config))


def _to_diagnostic(f: Finding) -> Diagnostic:
    return Diagnostic(
        code=f.code, severity=f.severity, message=f.message, location=f.span.location,
        hint=f.hint,
        related=tuple(Related(message=m, location=s.location) for m, s in f.related))


def _silenced(f: Finding, suppressions: dict[str, Suppressions]) -> bool:
    sup = suppressions.get(f.span.stmt.file.name)
    return bool(sup) and sup.silences(f.code, f.span.line, f.span.statement_lines)


def _silenced_diag(d: Diagnostic, suppressions: dict[str, Suppressions]) -> bool:
    if d.location is None or d.code != "FSC300":
        return False
    sup = suppressions.get(d.location.file)
    return bool(sup) and sup.silences(d.code, d.location.line, None)


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple] = set()
    out = []
    for d in diagnostics:
        key = (d.code, str(d.location), d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
