"""The linter never ends in a traceback, whatever the text (user errors are diagnostics)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fraisec.lint import lint_sql

from .conftest import CLEAN_DIR, RULES_DIR

_CORPUS = [p.read_text() for p in sorted(RULES_DIR.glob("*.sql"))] + [
    (CLEAN_DIR / "recommended.sql").read_text()]
_TOKENS = st.sampled_from([
    "CREATE", "POLICY", "TABLE", "VIEW", "FUNCTION", "ON", "USING", "(", ")", ";", "'", '"', "$$",
    "$x$", "--", "/*", "*/", "WITH", "CHECK", "SELECT", "FROM", "tb_p", "app.", "AS", "IN",
    "current_setting", "SECURITY DEFINER", "ALTER", "ENABLE ROW LEVEL SECURITY", "GRANT", ",",
    "\n", " ", "E'", "\\", "MATERIALIZED", "INDEX", "UNIQUE", "fk_organization", "true",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKENS, max_size=60).map(" ".join))
def test_token_soup_never_raises(text: str) -> None:
    for d in lint_sql([("soup.sql", text)]):
        assert d.code.startswith("FSC3") and d.location is not None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_CORPUS), st.data())
def test_truncated_and_spliced_fixtures_never_raise(text: str, data) -> None:
    cut = data.draw(st.integers(0, len(text)))
    other = data.draw(st.sampled_from(_CORPUS))
    start = data.draw(st.integers(0, len(other)))
    lint_sql([("a.sql", text[:cut] + other[start:]), ("b.sql", other[:start])])
