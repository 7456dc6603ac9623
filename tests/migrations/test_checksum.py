"""fraisec.sum: per-file checksums and the set checksum that catches merges."""

from __future__ import annotations

from fraisec.migrations.checksum import SUM_NAME, read_sum, verify_sum

from tests.migrations.util import write_migrations


def _files(directory):
    return [(p.name, p.read_text()) for p in sorted(directory.glob("*.sql"))]


def _codes(directory):
    return sorted(d.code for d in verify_sum(directory, _files(directory)))


def test_fresh_sum_verifies(tmp_path):
    d = write_migrations(tmp_path, {"0001_a.sql": "SELECT 1;\n", "0002_b.sql": "SELECT 2;\n"})
    assert _codes(d) == []
    parsed, _ = read_sum(d / SUM_NAME)
    assert [name for name, _ in parsed.entries] == ["0001_a.sql", "0002_b.sql"]


def test_missing_sum(tmp_path):
    d = write_migrations(tmp_path, {"0001_a.sql": "SELECT 1;\n"}, hashed=False)
    assert _codes(d) == ["FSC502"]
    assert _codes(tmp_path / "nothing") == []


def test_edited_added_and_removed_files(tmp_path):
    d = write_migrations(tmp_path, {"0001_a.sql": "SELECT 1;\n", "0002_b.sql": "SELECT 2;\n"})
    (d / "0001_a.sql").write_text("SELECT 1; -- edited\n")
    (d / "0002_b.sql").unlink()
    (d / "0003_c.sql").write_text("SELECT 3;\n")
    messages = sorted(x.message for x in verify_sum(d, _files(d)))
    assert messages == ["0001_a.sql was changed after fraisec.sum was written",
                        "0003_c.sql is not recorded in fraisec.sum",
                        "fraisec.sum lists 0002_b.sql, which does not exist"]


def test_merge_of_two_branches_is_caught(tmp_path):
    # Both branches start from 0001, and each adds its own 0002.
    base = write_migrations(tmp_path / "base", {"0001_a.sql": "SELECT 1;\n"})
    ours = write_migrations(tmp_path / "ours", {"0001_a.sql": "SELECT 1;\n", "0002_x.sql": "SELECT 'x';\n"})
    theirs = write_migrations(tmp_path / "theirs", {"0001_a.sql": "SELECT 1;\n", "0003_y.sql": "SELECT 'y';\n"})
    o = (ours / SUM_NAME).read_text().splitlines()
    t = (theirs / SUM_NAME).read_text().splitlines()
    assert o[3] != t[3]  # the set line differs: git reports a conflict there
    conflicted = "\n".join(o[:3] + ["<<<<<<< ours", o[3], "=======", t[3], ">>>>>>> theirs"] + o[4:] + t[5:]) + "\n"
    merged = write_migrations(tmp_path / "merged", {"0001_a.sql": "SELECT 1;\n", "0002_x.sql": "SELECT 'x';\n",
                                                    "0003_y.sql": "SELECT 'y';\n"}, hashed=False)
    (merged / SUM_NAME).write_text(conflicted)
    assert _codes(merged) == ["FSC504"]
    # Resolved by hand, keeping both file lines and one set line: the set hash no longer matches.
    (merged / SUM_NAME).write_text("\n".join(o + t[5:]) + "\n")
    assert _codes(merged) == ["FSC504"]
    assert _codes(base) == []
