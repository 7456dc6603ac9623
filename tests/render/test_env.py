"""The template environment: strict, quoting through one module, deterministic text."""

from __future__ import annotations

import jinja2
import pytest

from fraisec.render.env import environment, render_template
from fraisec.render.objects import Index


def test_a_missing_variable_is_an_error_not_empty_sql():
    with pytest.raises(jinja2.UndefinedError):
        render_template("objects/index.sql.j2")


def test_identifiers_and_literals_are_quoted_by_the_filters():
    env = environment()
    text = env.from_string("{{ a|ident }} {{ b|ident }} {{ c|literal }} {{ 'tb_x'|qualified('My Schema') }}").render(
        a="user", b="Order", c="it's")
    assert text == "\"user\" \"Order\" 'it''s' \"My Schema\".tb_x"


def test_index_template_renders_exact_text():
    index = Index("ix_project_fk_organization", "app.tb_project", ("fk_organization", "order"))
    assert render_template(index.template, i=index) == \
        'CREATE INDEX ix_project_fk_organization ON app.tb_project (fk_organization, "order");\n'
