"""The two CREATE TABLE readers (sqlglot, and the masked-text fallback) agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraisec.lint.parse import _create_table_sqlglot, _create_table_text, _Facts
from fraisec.lint.source import SourceFile, split_statements

from .conftest import CLEAN_DIR, RULES_DIR

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed000" / "migrations"
FILES = sorted(RULES_DIR.glob("*.sql")) + [CLEAN_DIR / "recommended.sql", SEED / "001_tables.sql"]
EXTRA = """CREATE TABLE "Quoted" (
  "Id" uuid DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id uuid NOT NULL,
  token text UNIQUE DEFAULT encode(gen_random_bytes(32), 'hex'),
  CONSTRAINT uq_tenant_token UNIQUE (tenant_id, token)
);
"""


def _tables():
    for path in FILES:
        statements, _ = split_statements(SourceFile(str(path), path.read_text()))
        yield from (s for s in statements if s.keywords.startswith("CREATE TABLE"))
    yield from split_statements(SourceFile("extra.sql", EXTRA))[0]


def _facts(reader, stmt):
    facts = _Facts()
    assert reader(stmt, facts) is not False
    table = facts.tables[0]
    return (table.name,
            [(c.name, c.random_default, c.span.line) for c in table.columns],
            sorted((k.columns, k.unique, k.primary, k.span.line) for k in facts.keys))


@pytest.mark.parametrize("stmt", list(_tables()), ids=lambda s: f"{Path(s.file.name).name}:{s.line}")
def test_sqlglot_and_text_readers_agree(stmt) -> None:
    assert _facts(_create_table_sqlglot, stmt) == _facts(_create_table_text, stmt)
