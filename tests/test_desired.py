"""Hand-written db/*.sql files are applied in dependency order after the generated SQL."""

from fraisec.sqlfiles import order_sql_files


def test_a_view_over_another_files_view_comes_after_it():
    sources = [
        ("001_member_view.sql", "CREATE VIEW v_member_count AS SELECT count(*) AS n FROM v_member;"),
        ("002_functions.sql", "CREATE FUNCTION fn_x() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;"),
        ("003_member.sql", "CREATE VIEW v_member AS SELECT 1 AS id;"),
    ]
    assert [name for name, _ in order_sql_files(sources)] == [
        "002_functions.sql", "003_member.sql", "001_member_view.sql"]


def test_unconstrained_files_keep_name_order_and_unreadable_files_are_kept():
    sources = [("b.sql", "CREATE TABLE b (x int);"), ("a.sql", "this is not SQL at all ((("),
               ("c.sql", "CREATE TABLE c (x int);")]
    assert [name for name, _ in order_sql_files(sources)] == ["a.sql", "b.sql", "c.sql"]
