"""``import fraiseql`` inside a schema module loaded by fraisec resolves to this API.

The loader puts this module in ``sys.modules["fraiseql"]`` (and ``authoring.scalars`` in
``sys.modules["fraiseql.scalars"]``) for the duration of a load only, so an existing FraiseQL
``schema.py`` loads unchanged. The real SDK drops what fraisec needs (``config(sql_source=…)``
in a query body, unknown-argument checks), so fraisec uses its own API even when the SDK is
installed; outside a load, ``import fraiseql`` is untouched.
"""

from __future__ import annotations

import contextlib
import sys
import types
from typing import Iterator

from fraisec import authoring
from fraisec.authoring import scalars

__all__ = ["fraiseql_alias", "module"]


def _build_module() -> types.ModuleType:
    mod = types.ModuleType("fraiseql", "fraisec's FraiseQL-compatible authoring API")
    for name in authoring.__all__:
        setattr(mod, name, getattr(authoring, name))
    mod.error = authoring.error_type  # the SDK's @fraiseql.error
    mod.scalars = scalars
    mod.__path__ = []  # a package, so `from fraiseql.scalars import ID` works
    return mod


module = _build_module()

_ALIASES = {"fraiseql": module, "fraiseql.scalars": scalars}


@contextlib.contextmanager
def fraiseql_alias() -> Iterator[None]:
    saved = {name: sys.modules.get(name) for name in _ALIASES}
    sys.modules.update(_ALIASES)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
