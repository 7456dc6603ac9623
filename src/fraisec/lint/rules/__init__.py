"""One module per rule family; importing this package registers every rule."""

from fraisec.lint.rules import functions, policies, rls, settings, tables, views  # noqa: F401

__all__: list[str] = []
