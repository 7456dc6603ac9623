"""Done-when: the generated SQL of examples/saas lints clean, and the linter really read it
(the same SQL with its safeguards removed is reported)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraisec.api import schema_sql
from fraisec.lint import lint_sql

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "saas" / "schema.py"


@pytest.fixture(scope="module")
def generated() -> str:
    sql, diagnostics = schema_sql(str(EXAMPLE))
    assert sql is not None, [d.message for d in diagnostics]
    return sql


def test_generated_saas_sql_lints_clean(generated: str) -> None:
    found = lint_sql([("schema.sql", generated)])
    assert [(d.code, str(d.location), d.message) for d in found] == []


@pytest.mark.parametrize(("needle", "replacement", "code"), [
    ("WITH (security_invoker = true)", "", "FSC302"),
    ("FORCE ROW LEVEL SECURITY", "ENABLE ROW LEVEL SECURITY", "FSC303"),
    ("SET search_path = pg_catalog, pg_temp", "", "FSC310"),
    ("SET search_path = pg_catalog, pg_temp", "SET search_path = ''", "FSC321"),
    ("NULLIF(current_setting('app.tenant_id', true), '')::uuid",
     "current_setting('app.tenant_id', true)::uuid", "FSC306"),
])
def test_generated_sql_without_its_safeguards_is_reported(generated: str, needle: str,
                                                          replacement: str, code: str) -> None:
    assert needle in generated
    found = lint_sql([("schema.sql", generated.replace(needle, replacement))])
    assert code in {d.code for d in found}


def test_generated_sql_without_tenancy_lints_clean(tmp_path):
    """A schema without tenancy (global tables only, ENABLEd and FORCEd) lints clean."""
    from fraisec.api import schema_sql
    from fraisec.lint import lint_sql

    module = tmp_path / "schema.py"
    module.write_text(
        "import fraisec as fq\n\n"
        "@fq.entity\nclass Note:\n    identifier: str = fq.field(unique=True)\n    body: str\n\n"
        "@fq.query\ndef notes() -> list[Note]: ...\n")
    text, diagnostics = schema_sql(str(module))
    assert text is not None, diagnostics
    assert "ENABLE ROW LEVEL SECURITY" in text
    assert lint_sql([("schema.sql", text)]) == []
