"""Every diagnostic code has a documentation page, and every page belongs to a code."""

from pathlib import Path

import fraisec.diagnostics as diagnostics

DOCS = Path(__file__).resolve().parent.parent / "docs" / "diagnostics"


def test_every_code_has_a_page():
    missing = [code for code in diagnostics.CODES if not (DOCS / f"{code}.md").is_file()]
    assert missing == []


def test_every_page_names_a_known_code_and_its_title():
    for page in sorted(DOCS.glob("FSC*.md")):
        code = page.stem
        assert code in diagnostics.CODES, f"{page.name} documents an unknown code"
        first_line = page.read_text(encoding="utf-8").splitlines()[0]
        assert first_line.startswith(f"# {code}"), f"{page.name} must start with '# {code}: …'"
