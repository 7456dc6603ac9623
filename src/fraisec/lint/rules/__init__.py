"""One module per rule family; importing this package registers every rule."""

from fraisec.lint.rules import (  # noqa: F401
    functions, policies, rls, settings, shadowing, tables, tenancy, views, writes,
)

__all__: list[str] = []
